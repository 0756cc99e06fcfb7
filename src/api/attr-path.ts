/**
 * Attribute paths on resources, as admins type them and as PATCH uses them
 * (RFC 7644 §3.5.2 PATH): `title`, `name.givenName`, `emails[type eq "work"].value`,
 * `urn:…:enterprise:2.0:User:manager.value`, and the CSV shorthand `emails[work].value`.
 * Parsing, reading, setting and removing, on plain resource objects.
 */
import { ClientUsageError } from './errors.ts';
import type { AttributeDef, SchemaRegistry } from './schema.ts';
import { SCHEMA } from './types.ts';
import { isPlainObject } from '../util/objects.ts';

export type ValueFilter =
  | {
      kind: 'compare';
      attr: string;
      op: 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
      value: string | number | boolean | null;
    }
  | { kind: 'present'; attr: string }
  | { kind: 'and'; left: ValueFilter; right: ValueFilter }
  | { kind: 'or'; left: ValueFilter; right: ValueFilter };

export interface AttrPath {
  /** Extension schema URN the attribute lives under, if any. */
  urn?: string;
  attr: string;
  filter?: ValueFilter;
  sub?: string;
  /** The path as given. */
  text: string;
}

const NAME = /^[A-Za-z$][\w$-]*$/;

/** Parses the filter inside `[...]`: comparisons and `pr`, joined by and/or. */
export function parseValueFilter(text: string): ValueFilter {
  const tokens = text.match(/"(?:[^"\\]|\\.)*"|\(|\)|[^\s()]+/g) ?? [];
  let i = 0;
  const fail = (why: string): never => {
    throw new ClientUsageError(`cannot read the filter "[${text}]": ${why}`);
  };
  const value = (tok: string | undefined): string | number | boolean | null => {
    if (tok === undefined) return fail('a value is missing');
    if (tok.startsWith('"')) return JSON.parse(tok) as string;
    if (tok === 'true') return true;
    if (tok === 'false') return false;
    if (tok === 'null') return null;
    if (/^-?\d+(\.\d+)?$/.test(tok)) return Number(tok);
    return fail(`"${tok}" is not a quoted string, number, boolean or null`);
  };
  let depth = 0;
  const primary = (): ValueFilter => {
    if (tokens[i] === '(') {
      if (++depth > 16) fail('parentheses nest more than 16 deep');
      i++;
      const inner = or();
      if (tokens[i++] !== ')') fail('a ")" is missing');
      depth--;
      return inner;
    }
    const attr = tokens[i++];
    if (!attr || !NAME.test(attr)) return fail(`"${attr ?? ''}" is not an attribute name`);
    const op = tokens[i++]?.toLowerCase();
    if (op === 'pr') return { kind: 'present', attr };
    if (
      op === 'eq' ||
      op === 'ne' ||
      op === 'co' ||
      op === 'sw' ||
      op === 'ew' ||
      op === 'gt' ||
      op === 'ge' ||
      op === 'lt' ||
      op === 'le'
    ) {
      return { kind: 'compare', attr, op, value: value(tokens[i++]) };
    }
    return fail(`"${op ?? ''}" is not a comparison operator`);
  };
  const and = (): ValueFilter => {
    let left = primary();
    while (tokens[i]?.toLowerCase() === 'and') {
      i++;
      left = { kind: 'and', left, right: primary() };
    }
    return left;
  };
  const or = (): ValueFilter => {
    let left = and();
    while (tokens[i]?.toLowerCase() === 'or') {
      i++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };
  const result = or();
  if (i !== tokens.length) fail(`unexpected "${tokens[i]}"`);
  return result;
}

export function formatValueFilter(f: ValueFilter): string {
  if (f.kind === 'present') return `${f.attr} pr`;
  if (f.kind === 'compare')
    return `${f.attr} ${f.op} ${typeof f.value === 'string' ? JSON.stringify(f.value) : String(f.value)}`;
  const side = (s: ValueFilter) =>
    s.kind === 'and' || s.kind === 'or' ? `(${formatValueFilter(s)})` : formatValueFilter(s);
  return `${side(f.left)} ${f.kind} ${side(f.right)}`;
}

export function formatPath(p: AttrPath): string {
  const filter = p.filter ? `[${formatValueFilter(p.filter)}]` : '';
  return `${p.urn ? `${p.urn}:` : ''}${p.attr}${filter}${p.sub ? `.${p.sub}` : ''}`;
}

export function parsePath(text: string, registry: SchemaRegistry): AttrPath {
  const trimmed = text.trim();
  const { urn, attrPath } = /^urn:/i.test(trimmed) ? registry.splitUrn(trimmed) : { urn: undefined, attrPath: trimmed };
  const m = /^([A-Za-z$][\w$-]*)(?:\[(.*)\])?(?:\.([A-Za-z$][\w$-]*))?$/.exec(attrPath);
  if (!m)
    throw new ClientUsageError(
      `"${text}" is not an attribute path (e.g. title, name.givenName, emails[type eq "work"].value)`,
    );
  const [, attr, inner, sub] = m;
  let filter: ValueFilter | undefined;
  if (inner !== undefined) {
    // The CSV shorthand: emails[work] means emails[type eq "work"].
    filter =
      /^[^\s"()]+$/.test(inner) && !/\s/.test(inner)
        ? { kind: 'compare', attr: 'type', op: 'eq', value: inner }
        : parseValueFilter(inner);
  }
  return { urn, attr: attr!, filter, sub, text: trimmed };
}

const lower = (s: string) => s.toLowerCase();

const ASCII = /^[\x00-\x7f]*$/;

/** The key an object uses for a name, matched case-insensitively (attribute names are case-insensitive). */
function keyOf(obj: Record<string, unknown>, name: string): string {
  if (name in obj) return name;
  // The first key that is the name but for case. For an ASCII name, a key of another length cannot be (only U+0130
  // lower-cases to more, and not to ASCII): those are passed over without lower-casing them.
  const wanted = lower(name);
  const sameLength = ASCII.test(name);
  for (const k of Object.keys(obj)) {
    if (sameLength && k.length !== name.length) continue;
    if (lower(k) === wanted) return k;
  }
  return name;
}

function compare(actual: unknown, op: string, expected: unknown, caseExact: boolean): boolean {
  if (op === 'eq' || op === 'ne') {
    const same =
      typeof actual === 'string' && typeof expected === 'string' && !caseExact
        ? lower(actual) === lower(expected)
        : actual === expected;
    return op === 'eq' ? same : !same;
  }
  if (typeof actual === 'string' && typeof expected === 'string') {
    const a = caseExact ? actual : lower(actual);
    const e = caseExact ? expected : lower(expected);
    if (op === 'co') return a.includes(e);
    if (op === 'sw') return a.startsWith(e);
    if (op === 'ew') return a.endsWith(e);
  }
  if (
    (typeof actual === 'number' && typeof expected === 'number') ||
    (typeof actual === 'string' && typeof expected === 'string')
  ) {
    if (op === 'gt') return actual > expected;
    if (op === 'ge') return actual >= expected;
    if (op === 'lt') return actual < expected;
    if (op === 'le') return actual <= expected;
  }
  return false;
}

export function matchesValueFilter(item: unknown, f: ValueFilter, def?: AttributeDef): boolean {
  if (!item || typeof item !== 'object') return false;
  const obj = item as Record<string, unknown>;
  if (f.kind === 'and') return matchesValueFilter(item, f.left, def) && matchesValueFilter(item, f.right, def);
  if (f.kind === 'or') return matchesValueFilter(item, f.left, def) || matchesValueFilter(item, f.right, def);
  const actual = obj[keyOf(obj, f.attr)];
  if (f.kind === 'present') return actual !== undefined && actual !== null && actual !== '';
  const subDef = def?.subAttributes?.find((s) => lower(s.name) === lower(f.attr));
  // "value" of references (members, groups) is an id: compare exactly; other strings by the schema's caseExact.
  return compare(actual, f.op, f.value, subDef?.caseExact ?? lower(f.attr) === 'value');
}

/** The object holding the attribute: the resource itself, or its extension object. */
function container(
  resource: Record<string, unknown>,
  path: AttrPath,
  create: boolean,
): Record<string, unknown> | undefined {
  if (!path.urn) return resource;
  const key = keyOf(resource, path.urn);
  const existing = resource[key];
  if (isPlainObject(existing)) return existing;
  if (!create) return undefined;
  const made: Record<string, unknown> = {};
  resource[path.urn] = made;
  return made;
}

export function getPath(resource: Record<string, unknown>, path: AttrPath): unknown {
  const holder = container(resource, path, false);
  if (!holder) return undefined;
  const value = holder[keyOf(holder, path.attr)];
  if (path.filter) {
    if (!Array.isArray(value)) return undefined;
    const items = value.filter((v) => matchesValueFilter(v, path.filter!));
    return path.sub
      ? items.map((v) => (v as Record<string, unknown>)[keyOf(v as Record<string, unknown>, path.sub!)])
      : items;
  }
  if (path.sub) {
    if (Array.isArray(value))
      return value.map((v) =>
        v && typeof v === 'object'
          ? (v as Record<string, unknown>)[keyOf(v as Record<string, unknown>, path.sub!)]
          : undefined,
      );
    return value && typeof value === 'object'
      ? (value as Record<string, unknown>)[keyOf(value as Record<string, unknown>, path.sub)]
      : undefined;
  }
  return value;
}

/** The attributes a filter of only `eq` comparisons joined by `and` pins down: used to create a missing item. */
export function pinned(f: ValueFilter): Record<string, unknown> | undefined {
  if (f.kind === 'compare' && f.op === 'eq') return { [f.attr]: f.value };
  if (f.kind === 'and') {
    const l = pinned(f.left);
    const r = pinned(f.right);
    return l && r ? { ...l, ...r } : undefined;
  }
  return undefined;
}

/**
 * Sets a value at a path, creating what is missing. For a filtered path on a
 * multi-valued attribute, the matching items are updated, or, when none
 * matches and the filter pins the item down (`type eq "work"`), one is added.
 */
export function setPath(resource: Record<string, unknown>, path: AttrPath, value: unknown): void {
  if (path.filter) {
    // Everything that can fail is checked before the resource is touched.
    if (!path.sub && (!value || typeof value !== 'object' || Array.isArray(value)))
      throw new ClientUsageError(`${path.text} needs an object value (JSON)`);
    const existing = container(resource, path, false);
    const current = existing ? existing[keyOf(existing, path.attr)] : undefined;
    const list = Array.isArray(current) ? (current as Array<Record<string, unknown>>) : [];
    let targets = list.filter((item) => matchesValueFilter(item, path.filter!));
    if (targets.length === 0) {
      const base = pinned(path.filter);
      if (!base)
        throw new ClientUsageError(
          `no item of ${path.attr} matches [${formatValueFilter(path.filter)}], and the ` +
            `filter does not say what a new one would be`,
        );
      const item = { ...base };
      list.push(item);
      targets = [item];
    }
    const holder = container(resource, path, true)!;
    holder[keyOf(holder, path.attr)] = list;
    for (const item of targets) {
      if (path.sub) item[keyOf(item, path.sub)] = value;
      else Object.assign(item, value);
    }
    return;
  }
  const holder = container(resource, path, true)!;
  const key = keyOf(holder, path.attr);
  if (path.sub) {
    const current = holder[key];
    const obj = isPlainObject(current) ? current : {};
    obj[keyOf(obj, path.sub)] = value;
    holder[key] = obj;
    return;
  }
  holder[key] = value;
}

/** Removes what a path names. Returns whether anything was there. An extension object left empty goes too. */
export function removePath(resource: Record<string, unknown>, path: AttrPath): boolean {
  const holder = container(resource, path, false);
  if (!holder) return false;
  const removed = removeFrom(holder, path);
  if (removed && path.urn && Object.keys(holder).length === 0) delete resource[keyOf(resource, path.urn)];
  return removed;
}

function removeFrom(holder: Record<string, unknown>, path: AttrPath): boolean {
  const key = keyOf(holder, path.attr);
  if (!(key in holder)) return false;
  if (path.filter) {
    const list = holder[key];
    if (!Array.isArray(list)) return false;
    if (path.sub) {
      let removed = false;
      for (const item of list) {
        if (!matchesValueFilter(item, path.filter)) continue;
        const k = keyOf(item as Record<string, unknown>, path.sub);
        if (k in (item as Record<string, unknown>)) {
          delete (item as Record<string, unknown>)[k];
          removed = true;
        }
      }
      return removed;
    }
    const kept = list.filter((item) => !matchesValueFilter(item, path.filter!));
    if (kept.length === list.length) return false;
    if (kept.length === 0) delete holder[key];
    else holder[key] = kept;
    return true;
  }
  if (path.sub) {
    const obj = holder[key];
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return false;
    const k = keyOf(obj as Record<string, unknown>, path.sub);
    if (!(k in (obj as Record<string, unknown>))) return false;
    delete (obj as Record<string, unknown>)[k];
    if (Object.keys(obj).length === 0) delete holder[key];
    return true;
  }
  delete holder[key];
  return true;
}

/**
 * Shorthands for the enterprise extension's attributes, as admins say them (issue 14 point 21):
 * `department` means `urn:…:enterprise:2.0:User:department`, `manager` its `manager.value`.
 */
const ENTERPRISE_SHORTHANDS: Readonly<Record<string, string>> = {
  department: 'department',
  employeenumber: 'employeeNumber',
  manager: 'manager',
  costcenter: 'costCenter',
  organization: 'organization',
  division: 'division',
};

/** The shorthand names, for suggestions ("did you mean department?"). */
export const SHORTHAND_NAMES: readonly string[] = Object.values(ENTERPRISE_SHORTHANDS);

/**
 * The one resolver of attribute shorthands (`--set`, `--unset`, `--attributes`, the TUI form and
 * mapping files): a user's path whose first name is a shorthand, and not an attribute the core
 * User schema has, becomes the enterprise extension's path (`manager` alone: `manager.value`).
 * Anything else comes back as it was given.
 */
export function expandShorthand(text: string, registry: SchemaRegistry, coreSchema: string = SCHEMA.USER): string {
  if (coreSchema.toLowerCase() !== SCHEMA.USER.toLowerCase()) return text;
  const m = /^(\s*)([A-Za-z]+)(.*)$/s.exec(text);
  if (!m) return text;
  const [, lead, head, rest] = m;
  const name = ENTERPRISE_SHORTHANDS[head!.toLowerCase()];
  if (!name || registry.lookup(SCHEMA.USER, head!)) return text;
  if (rest !== '' && !/^[.[\s]/.test(rest!)) return text;
  const urn = registry.schema(SCHEMA.ENTERPRISE_USER)?.id ?? SCHEMA.ENTERPRISE_USER;
  const sub = name === 'manager' && !rest!.trim().startsWith('.') ? '.value' : '';
  return `${lead}${urn}:${name}${sub}${rest}`;
}

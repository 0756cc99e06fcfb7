/**
 * Attribute edits as admins give them: `--set PATH=VALUE` and `--unset PATH`.
 * Values are typed by the schema (boolean, number, JSON for complex values);
 * an empty value removes the attribute. Applying edits is a pure function.
 */
import {
  expandShorthand,
  formatPath,
  parsePath,
  removePath,
  setPath,
  SHORTHAND_NAMES,
  type AttrPath,
} from './attr-path.ts';
import { ClientUsageError } from './errors.ts';
import type { AttributeDef, SchemaRegistry } from './schema.ts';
import { SCHEMA } from './types.ts';
import { nearest } from '../util/closest.ts';
import { isPlainObject } from '../util/objects.ts';

export type Edit = { kind: 'set'; path: AttrPath; value: unknown } | { kind: 'unset'; path: AttrPath };

/** Names a schema offers, for "valid attributes are …" messages. */
export function attributeNames(registry: SchemaRegistry, coreSchema: string): string[] {
  const out: string[] = [];
  const add = (prefix: string, defs: readonly AttributeDef[]) => {
    for (const d of defs) {
      if (d.mutability === 'readOnly') continue;
      if (d.type === 'complex' && d.subAttributes?.length) {
        for (const s of d.subAttributes)
          if (s.mutability !== 'readOnly') out.push(`${prefix}${d.name}${d.multiValued ? '[type]' : ''}.${s.name}`);
      } else out.push(`${prefix}${d.name}`);
    }
  };
  add('', registry.schema(coreSchema)?.attributes ?? []);
  out.push('externalId');
  for (const id of registry.extensionIds()) {
    const s = registry.schema(id);
    if (s && (coreSchema.endsWith(':User') ? !id.endsWith(':Group') : id.endsWith(':Group')))
      add(`${id}:`, s.attributes);
  }
  return out;
}

function definitionOf(
  path: AttrPath,
  registry: SchemaRegistry,
  coreSchema: string,
): { top?: AttributeDef; leaf?: AttributeDef } {
  const schema = path.urn ?? coreSchema;
  const top = registry.lookup(schema, path.attr);
  const leaf = path.sub ? registry.lookup(schema, `${path.attr}.${path.sub}`) : top;
  return { top, leaf };
}

function typed(raw: string, def: AttributeDef | undefined, wholeComplex: boolean, where: string): unknown {
  if (wholeComplex) {
    try {
      return JSON.parse(raw);
    } catch {
      throw new ClientUsageError(
        `${where} takes JSON (it is ${def?.multiValued ? 'multi-valued' : 'complex'}), ` +
          `e.g. ${def?.multiValued ? '[{"value":"…","type":"work"}]' : '{"givenName":"…"}'}`,
      );
    }
  }
  switch (def?.type) {
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      if (v === 'true') return true;
      if (v === 'false') return false;
      throw new ClientUsageError(`${where} is a boolean: give true or false, not "${raw}"`);
    }
    case 'integer':
      if (!/^-?\d+$/.test(raw.trim())) throw new ClientUsageError(`${where} is an integer, not "${raw}"`);
      return Number(raw);
    case 'decimal':
      if (raw.trim() === '' || !Number.isFinite(Number(raw)))
        throw new ClientUsageError(`${where} is a number, not "${raw}"`);
      return Number(raw);
    default:
      return raw;
  }
}

/**
 * Parses `PATH=VALUE` and `PATH` strings. With `strict` (the server published its
 * schemas), an attribute no schema knows is an error listing the valid ones.
 */
export function parseEdits(
  sets: readonly string[],
  unsets: readonly string[],
  registry: SchemaRegistry,
  coreSchema: string,
  strict: boolean,
): Edit[] {
  const edits: Edit[] = [];
  const check = (path: AttrPath, flag: string, given: string) => {
    const { top, leaf } = definitionOf(path, registry, coreSchema);
    const known = path.sub ? leaf : top;
    if (!known && strict) {
      const valid = attributeNames(registry, coreSchema);
      // Suggested by the shorter name where a shorthand means the same attribute.
      const short = new Map(
        (coreSchema === SCHEMA.USER ? SHORTHAND_NAMES : []).map((n) => [expandShorthand(n, registry), n]),
      );
      const near = nearest(
        given,
        valid.map((v) => short.get(v) ?? v),
      );
      const hint = near.length > 0 ? ` Did you mean ${near.join(' or ')}?` : '';
      throw new ClientUsageError(
        `${flag} ${given}: the server's schema has no such attribute.${hint} Valid attributes: ${valid.join(', ')}`,
      );
    }
    if (top?.mutability === 'readOnly' || leaf?.mutability === 'readOnly')
      throw new ClientUsageError(`${flag} ${path.text}: this attribute is read-only (the server sets it)`);
    return { top, leaf };
  };
  for (const s of sets) {
    const eqAt = s.indexOf('=');
    if (eqAt <= 0) throw new ClientUsageError(`--set "${s}" must look like PATH=VALUE`);
    const given = s.slice(0, eqAt).trim();
    const path = parsePath(expandShorthand(given, registry, coreSchema), registry);
    const raw = s.slice(eqAt + 1);
    const { top, leaf } = check(path, '--set', given);
    if (raw === '') {
      edits.push({ kind: 'unset', path });
      continue;
    }
    const whole = !path.sub && !path.filter && !!top && (top.multiValued || top.type === 'complex');
    const wholeItem = !!path.filter && !path.sub;
    const value = typed(raw, path.filter && !path.sub ? top : leaf, whole || wholeItem, `--set ${formatPath(path)}`);
    edits.push({ kind: 'set', path, value });
  }
  for (const u of unsets) {
    const path = parsePath(expandShorthand(u, registry, coreSchema), registry);
    check(path, '--unset', u.trim());
    edits.push({ kind: 'unset', path });
  }
  return edits;
}

/** A copy of the resource with the edits applied, in order. */
export function applyEdits<T extends Record<string, unknown>>(resource: T, edits: readonly Edit[]): T {
  const copy = structuredClone(resource);
  for (const edit of edits) {
    if (edit.kind === 'set') setPath(copy, edit.path, edit.value);
    else removePath(copy, edit.path);
  }
  return copy;
}

const keyIn = (obj: Record<string, unknown>, name: string) =>
  Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;

/** Merges multi-valued items by type: same type replaces (sub-attributes merged), new type adds. */
function mergeItems(current: unknown, incoming: unknown[]): unknown[] {
  const typed = incoming.every((i) => isPlainObject(i) && typeof i.type === 'string');
  if (!typed || !Array.isArray(current)) return incoming;
  const out = current.map((c) => (isPlainObject(c) ? { ...c } : c));
  for (const item of incoming as Array<Record<string, unknown>>) {
    const at = out.findIndex(
      (c) =>
        isPlainObject(c) && typeof c.type === 'string' && c.type.toLowerCase() === (item.type as string).toLowerCase(),
    );
    if (at < 0) out.push(item);
    else out[at] = { ...(out[at] as Record<string, unknown>), ...item };
  }
  // Only one item may be primary: the newest claim wins.
  const primaries = (incoming as Array<Record<string, unknown>>)
    .filter((i) => i.primary === true)
    .map((i) => (i.type as string).toLowerCase());
  if (primaries.length > 0) {
    for (const c of out)
      if (isPlainObject(c) && c.primary === true && !primaries.includes(String(c.type).toLowerCase()))
        c.primary = false;
  }
  return out;
}

/**
 * The resource with `changes` laid over it, attribute by attribute: simple values
 * replace, complex values merge by sub-attribute, multi-valued items merge by type,
 * extensions merge by attribute, and null removes. What `changes` does not name stays.
 */
export function mergeAttributes<T extends Record<string, unknown>>(
  resource: T,
  changes: Record<string, unknown>,
  skip: readonly string[] = ['id', 'meta', 'schemas', 'groups'],
): T {
  // A shallow copy is enough: every nested value that changes is rebuilt, never mutated.
  const out: Record<string, unknown> = { ...resource };
  for (const [name, value] of Object.entries(changes)) {
    if (skip.some((s) => s.toLowerCase() === name.toLowerCase())) continue;
    const key = keyIn(out, name);
    if (value === null) {
      delete out[key];
    } else if (/^urn:/i.test(name) && isPlainObject(value)) {
      const ext = isPlainObject(out[key]) ? { ...(out[key] as Record<string, unknown>) } : {};
      for (const [attr, v] of Object.entries(value)) {
        const k = keyIn(ext, attr);
        if (v === null) delete ext[k];
        else ext[k] = isPlainObject(v) && isPlainObject(ext[k]) ? { ...(ext[k] as Record<string, unknown>), ...v } : v;
      }
      if (Object.keys(ext).length === 0) delete out[key];
      else out[key] = ext;
    } else if (Array.isArray(value)) {
      out[key] = mergeItems(out[key], value);
    } else if (isPlainObject(value) && isPlainObject(out[key])) {
      const merged = { ...(out[key] as Record<string, unknown>) };
      for (const [sub, v] of Object.entries(value)) {
        const k = keyIn(merged, sub);
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      out[key] = merged;
    } else {
      out[key] = value;
    }
  }
  return out as T;
}

export interface NewUserFields {
  userName?: string;
  email?: string;
  givenName?: string;
  familyName?: string;
  displayName?: string;
  externalId?: string;
}

/** A new user resource from the few fields people type (flags, the TUI's form); empty fields are left out. */
export function newUserResource(fields: NewUserFields): Record<string, unknown> {
  const f = Object.fromEntries(
    Object.entries(fields)
      .filter(([, v]) => typeof v === 'string' && v.trim() !== '')
      .map(([k, v]) => [k, (v as string).trim()]),
  ) as NewUserFields;
  const user: Record<string, unknown> = { schemas: [SCHEMA.USER] };
  if (f.userName !== undefined) user.userName = f.userName;
  if (f.externalId !== undefined) user.externalId = f.externalId;
  if (f.givenName !== undefined || f.familyName !== undefined) {
    user.name = {
      ...(f.givenName !== undefined ? { givenName: f.givenName } : {}),
      ...(f.familyName !== undefined ? { familyName: f.familyName } : {}),
    };
  }
  const display = f.displayName ?? ([f.givenName, f.familyName].filter(Boolean).join(' ') || undefined);
  if (display !== undefined) user.displayName = display;
  if (f.email !== undefined) user.emails = [{ value: f.email, type: 'work', primary: true }];
  return user;
}

/**
 * Checks that the attributes of an input record (a CSV column, a JSON key) are
 * ones the registry knows, and suggests the valid ones nearest to a wrong name.
 */
import { COMMON_ATTRIBUTES, USER_SCHEMA, type AttributeDef, type SchemaRegistry } from '../api/schema.ts';
import { SCHEMA } from '../api/types.ts';
import { parseColumn } from '../formats/scim-csv.ts';
import { levenshtein } from '../util/closest.ts';
import { isPlainObject } from '../util/objects.ts';

export interface AttributeProblem {
  field: string;
  message: string;
}

const MAX_SUGGESTIONS = 10;

/** The value of `name` in `obj`, matching the key case-insensitively (SCIM attribute names are). */
export function attrValue(obj: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) if (key.toLowerCase() === lower) return obj[key];
  return undefined;
}

/** A user's `groups` as RFC 7643 defines it. */
const MEMBERSHIP = USER_SCHEMA.attributes.find((a) => a.name === 'groups')!;

/**
 * The definition of `attr` or `attr.sub` in a schema. A user's `groups` is always known: in a
 * source it says which groups the user is in (membership changes, never an attribute written),
 * whatever the target's User schema declares.
 */
function lookup(registry: SchemaRegistry, schemaId: string, path: string): AttributeDef | undefined {
  const found = registry.lookup(schemaId, path);
  if (found || !sameId(schemaId, SCHEMA.USER)) return found;
  const [head, sub, more] = path.toLowerCase().split('.');
  if (head !== 'groups' || more !== undefined) return undefined;
  return sub === undefined ? MEMBERSHIP : MEMBERSHIP.subAttributes!.find((s) => s.name.toLowerCase() === sub);
}

const isCoreSchema = (id: string) => {
  const lower = id.toLowerCase();
  return lower === SCHEMA.USER.toLowerCase() || lower === SCHEMA.GROUP.toLowerCase();
};
const sameId = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const shortName = (schemaId: string) => /:([^:]+)$/.exec(schemaId)?.[1] ?? schemaId;

/**
 * Up to ten of `candidates`: those close to `wrong` first, nearest first (by the whole name,
 * its last part, or containing it), then the rest in schema order. "a, b, …".
 */
export function suggest(wrong: string, candidates: readonly string[]): string {
  const w = wrong.toLowerCase();
  const lastPart = (s: string) => /[^.:\]]*$/.exec(s)?.[0] ?? s;
  const near = Math.max(2, Math.floor(lastPart(w).length / 3));
  const ranked = candidates
    .map((c, index) => {
      const lc = c.toLowerCase();
      let d = Math.min(levenshtein(w, lc), levenshtein(lastPart(w), lastPart(lc)));
      if (w.length >= 3 && lc.includes(lastPart(w))) d = Math.min(d, near);
      return { c, index, d: d <= near ? d : Infinity };
    })
    .sort((a, b) => a.d - b.d || a.index - b.index)
    .map((r) => r.c);
  const shown = ranked.slice(0, MAX_SUGGESTIONS).join(', ');
  return ranked.length > MAX_SUGGESTIONS ? `${shown}, …` : shown;
}

function topAttributes(registry: SchemaRegistry, schemaId: string): AttributeDef[] {
  const own = registry.schema(schemaId)?.attributes ?? [];
  if (!isCoreSchema(schemaId)) return own;
  const names = new Set(own.map((a) => a.name.toLowerCase()));
  return [...own, ...COMMON_ATTRIBUTES.filter((a) => !names.has(a.name.toLowerCase()))];
}

/** The attribute paths of a schema, as CSV columns name them: userName, name.givenName, emails[work].value, emails. */
function pathsOf(registry: SchemaRegistry, schemaId: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const a of topAttributes(registry, schemaId)) {
    const subs = a.type === 'complex' ? (a.subAttributes ?? []) : [];
    if (subs.length === 0) out.push(`${prefix}${a.name}`);
    else if (!a.multiValued) for (const s of subs) out.push(`${prefix}${a.name}.${s.name}`);
    else {
      const type = a.subAttributes?.find((s) => s.name === 'type')?.canonicalValues?.[0] ?? 'TYPE';
      for (const s of subs) if (s.name !== 'type') out.push(`${prefix}${a.name}[${type}].${s.name}`);
      out.push(`${prefix}${a.name}`);
    }
  }
  return out;
}

/** Every valid path for a record of `coreSchema`: the core ones, then those of the known extensions. */
function allPaths(registry: SchemaRegistry, coreSchema: string): string[] {
  return [
    ...pathsOf(registry, coreSchema),
    ...extensionsFor(registry, coreSchema).flatMap((id) => pathsOf(registry, id, `${id}:`)),
  ];
}

function extensionsFor(registry: SchemaRegistry, coreSchema: string): string[] {
  return registry.extensionIds().filter((id) => !sameId(id, coreSchema));
}

function subNames(def: AttributeDef): string {
  return (def.subAttributes ?? []).map((s) => s.name).join(', ');
}

/** What is wrong with a URN used as a schema (undefined: it is a known extension). */
function schemaUrnProblem(urn: string, registry: SchemaRegistry, coreSchema: string): string | undefined {
  const kind = shortName(coreSchema);
  if (sameId(urn, coreSchema)) return `core ${kind} attributes are written without the schema URN`;
  if (isCoreSchema(urn)) return `${urn} is the core ${shortName(urn)} schema, not an extension of ${kind}`;
  if (registry.schema(urn)) return undefined;
  const known = extensionsFor(registry, coreSchema);
  return `unknown schema URN "${urn}"; known extensions: ${known.length > 0 ? known.join(', ') : 'none'}`;
}

export interface ColumnCheck {
  problem?: string;
  /** The column holds a whole complex or multi-valued attribute as JSON, whose insides records must check. */
  wholeJson?: boolean;
}

/** Checks a CSV header column against the registry. */
export function checkColumn(column: string, registry: SchemaRegistry, coreSchema: string): ColumnCheck {
  const parsed = parseColumn(column, registry);
  if (!parsed) return { problem: `not an attribute column; valid: ${suggest(column, allPaths(registry, coreSchema))}` };
  const { urn, attr, type, sub } = parsed;
  if (urn) {
    const problem = schemaUrnProblem(urn, registry, coreSchema);
    if (problem)
      return { problem: sameId(urn, coreSchema) ? `${problem}: write "${column.slice(urn.length + 1)}"` : problem };
  }
  const schemaId = urn ?? coreSchema;
  const def = lookup(registry, schemaId, attr);
  if (!def) {
    const candidates = urn ? pathsOf(registry, urn, `${urn}:`) : allPaths(registry, coreSchema);
    return { problem: `unknown attribute; valid: ${suggest(column, candidates)}` };
  }
  const subs = def.type === 'complex' ? (def.subAttributes ?? []) : [];
  if (type !== undefined) {
    if (!def.multiValued) return { problem: `"${attr}" is not multi-valued, so it takes no [${type}]` };
    if (sub === undefined) return { problem: `a typed column needs a sub-attribute, e.g. ${attr}[${type}].value` };
  }
  if (sub !== undefined) {
    if (def.type !== 'complex') return { problem: `"${attr}" has no sub-attributes` };
    if (def.multiValued && type === undefined) {
      return {
        problem:
          `"${attr}" is multi-valued: write ${attr}[TYPE].${sub} (e.g. ` +
          `${attr}[work].${sub}), or the whole of ${attr} as JSON`,
      };
    }
    if (subs.length > 0 && !lookup(registry, schemaId, `${attr}.${sub}`)) {
      return { problem: `unknown sub-attribute "${sub}" of ${attr}; valid: ${subNames(def)}` };
    }
    return {};
  }
  return { wholeJson: def.multiValued || def.type === 'complex' };
}

/** The name a problem inside an attribute's value goes by: emails[work].value for a typed item, else emails.value. */
function itemField(base: string, def: AttributeDef, item: Record<string, unknown>, sub: string): string {
  const type = attrValue(item, 'type');
  return def.multiValued && typeof type === 'string' && type !== '' ? `${base}[${type}].${sub}` : `${base}.${sub}`;
}

const describeValue = (v: unknown): string => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  const shown = JSON.stringify(v);
  return `a ${typeof v} (${shown.length > 40 ? `${shown.slice(0, 37)}…` : shown})`;
};

/** What is wrong with the type of one (single) value of `def`, or undefined. Null is no value, always fine. */
function singleTypeProblem(def: AttributeDef, value: unknown): string | undefined {
  if (value === null) return undefined;
  switch (def.type) {
    case 'boolean':
      if (typeof value === 'boolean') return undefined;
      return typeof value === 'string' && /^\s*(true|false)\s*$/i.test(value)
        ? `${JSON.stringify(value)} is a string: write true or false, without quotes`
        : `must be true or false, not ${describeValue(value)}`;
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value)
        ? undefined
        : `must be a whole number, not ${describeValue(value)}`;
    case 'decimal':
      return typeof value === 'number' ? undefined : `must be a number, not ${describeValue(value)}`;
    case 'complex':
      return isPlainObject(value)
        ? undefined
        : `must be an object with ${subNamesOf(def) || 'sub-attributes'}, not ${describeValue(value)}`;
    default:
      // string, reference, dateTime, binary
      return typeof value === 'string' ? undefined : `must be a string, not ${describeValue(value)}`;
  }
}

const subNamesOf = (def: AttributeDef) => (def.subAttributes ?? []).map((s) => s.name).join(', ');

/** What is wrong with the type of a value of `def` (a list of such values when multi-valued), or undefined. */
export function typeProblem(def: AttributeDef, value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (!def.multiValued) return singleTypeProblem(def, value);
  if (!Array.isArray(value))
    return (
      `is multi-valued: give a list (e.g. ` +
      `[${def.type === 'complex' ? '{"value": …}' : '…'}]), not ` +
      `${describeValue(value)}`
    );
  for (const [index, item] of value.entries()) {
    const problem = singleTypeProblem(def, item);
    if (problem) return `item ${index + 1} ${problem}`;
  }
  return undefined;
}

/** Checks the type of a known attribute's value, the sub-attributes inside it, and the entries of `schemas`. */
function checkValue(
  schemaId: string,
  coreSchema: string,
  def: AttributeDef,
  value: unknown,
  field: string,
  registry: SchemaRegistry,
  out: AttributeProblem[],
): void {
  const wrongType = typeProblem(def, value);
  if (wrongType) {
    out.push({ field, message: wrongType });
    return;
  }
  if (!urnOf(schemaId) && sameId(def.name, 'schemas') && Array.isArray(value)) {
    for (const entry of value) {
      if (typeof entry !== 'string') continue;
      const problem = schemaUrnProblem(entry, registry, coreSchema);
      if (problem && !sameId(entry, coreSchema)) out.push({ field, message: problem });
    }
    return;
  }
  const subs = def.type === 'complex' ? (def.subAttributes ?? []) : [];
  if (subs.length === 0) return;
  const items = def.multiValued && Array.isArray(value) ? value : [value];
  const reported = new Set<string>();
  for (const item of items) {
    if (!isPlainObject(item)) continue;
    for (const sub of Object.keys(item)) {
      const subDef = lookup(registry, schemaId, `${def.name}.${sub}`);
      const f = itemField(field, def, item, sub);
      if (subDef) {
        const wrong = typeProblem(subDef, item[sub]);
        if (wrong && !reported.has(f)) {
          reported.add(f);
          out.push({ field: f, message: wrong });
        }
        continue;
      }
      if (reported.has(f)) continue;
      reported.add(f);
      out.push({ field: f, message: `unknown sub-attribute "${sub}" of ${def.name}; valid: ${subNames(def)}` });
    }
  }
}

/** The schema URN a schema id names, when it is not a core one (for checks that only apply to core attributes). */
function urnOf(schemaId: string): string | undefined {
  return isCoreSchema(schemaId) ? undefined : schemaId;
}

/** Keys of `obj` that differ only in case. */
function caseTwins(obj: Record<string, unknown>): string[][] {
  const byLower = new Map<string, string[]>();
  for (const key of Object.keys(obj)) {
    const lower = key.toLowerCase();
    byLower.set(lower, [...(byLower.get(lower) ?? []), key]);
  }
  return [...byLower.values()].filter((keys) => keys.length > 1);
}

/**
 * Checks every attribute of a record against the registry. `only`, when given, limits the check to
 * the insides of these top-level keys (lower-cased `attr`, or `urn:attr` for extensions): for CSV,
 * whose columns were checked once from the header, only whole-JSON cells remain to look into.
 */
export function checkResource(
  resource: Record<string, unknown>,
  registry: SchemaRegistry,
  coreSchema: string,
  only?: ReadonlySet<string>,
): AttributeProblem[] {
  const out: AttributeProblem[] = [];
  const attribute = (schemaId: string, name: string, value: unknown, field: string) => {
    const def = lookup(registry, schemaId, name);
    if (only) {
      const key = `${urnOf(schemaId) ? `${schemaId}:` : ''}${name}`.toLowerCase();
      if (def && only.has(key)) checkValue(schemaId, coreSchema, def, value, field, registry, out);
      return;
    }
    if (!def) {
      const candidates = urnOf(schemaId) ? pathsOf(registry, schemaId, `${schemaId}:`) : allPaths(registry, coreSchema);
      out.push({ field, message: `unknown attribute; valid: ${suggest(field, candidates)}` });
      return;
    }
    checkValue(schemaId, coreSchema, def, value, field, registry, out);
  };
  const twins = (obj: Record<string, unknown>, prefix: string) => {
    if (only) return;
    for (const keys of caseTwins(obj))
      out.push({
        field: `${prefix}${keys[0]}`,
        message: `given more than once, in different case: ${keys.join(', ')}`,
      });
  };

  twins(resource, '');
  for (const [key, value] of Object.entries(resource)) {
    if (!/^urn:/i.test(key)) {
      attribute(coreSchema, key, value, key);
      continue;
    }
    const schema = registry.schema(key);
    if (!schema) {
      if (only) continue;
      const { urn, attrPath } = registry.splitUrn(key);
      if (urn && registry.schema(urn) && !isCoreSchema(urn)) {
        out.push({
          field: key,
          message: `a key cannot be an attribute path: nest it as {"${registry.schema(urn)!.id}": {"${attrPath}": …}}`,
        });
      } else {
        out.push({ field: key, message: schemaUrnProblem(key, registry, coreSchema)! });
      }
      continue;
    }
    const problem = schemaUrnProblem(schema.id, registry, coreSchema);
    if (problem) {
      if (!only) out.push({ field: key, message: problem });
      continue;
    }
    if (!isPlainObject(value)) {
      if (!only)
        out.push({
          field: key,
          message: `extension attributes must be an object, e.g. {"${schema.attributes[0]?.name ?? 'attribute'}": …}`,
        });
      continue;
    }
    twins(value, `${key}:`);
    for (const [name, v] of Object.entries(value)) attribute(schema.id, name, v, `${key}:${name}`);
  }
  return out;
}

/** `obj` with the keys `nameOf` renames (a new object only when one is renamed). */
function renamed(
  obj: Record<string, unknown>,
  nameOf: (key: string, value: unknown) => [string, unknown],
): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  const keys = Object.keys(obj);
  for (const [i, key] of keys.entries()) {
    const [name, value] = nameOf(key, obj[key]);
    if (!out && (name !== key || value !== obj[key])) {
      out = {};
      for (const k of keys.slice(0, i)) out[k] = obj[k];
    }
    if (out) out[name] = value;
  }
  return out ?? obj;
}

/**
 * A resource with its attribute names as the schema spells them (SCIM names ignore case:
 * {"USERNAME": …} is {"userName": …}): top-level attributes, extension URNs and their
 * attributes, and sub-attributes. Unknown names, and names given twice in different case
 * (checkResource reports those), stay as they are.
 */
export function canonicalKeys(
  resource: Record<string, unknown>,
  registry: SchemaRegistry,
  coreSchema: string,
): Record<string, unknown> {
  // Most records spell every name as the schema does: found without allocating anything.
  if (spelledAsSchema(resource, registry, coreSchema)) return resource;
  const inside = (schemaId: string, def: AttributeDef, value: unknown): unknown => {
    if (def.type !== 'complex' || !def.subAttributes?.length) return value;
    const fix = (item: unknown) =>
      isPlainObject(item)
        ? unlessTwins(
            item,
            renamed(item, (k, v) => [lookup(registry, schemaId, `${def.name}.${k}`)?.name ?? k, v]),
          )
        : item;
    if (Array.isArray(value)) {
      const items = value.map(fix);
      return items.some((item, i) => item !== value[i]) ? items : value;
    }
    return fix(value);
  };
  const attributes =
    (schemaId: string) =>
    (key: string, value: unknown): [string, unknown] => {
      const def = lookup(registry, schemaId, key);
      return def ? [def.name, inside(schemaId, def, value)] : [key, value];
    };
  const core = attributes(coreSchema);
  return unlessTwins(
    resource,
    renamed(resource, (key, value) => {
      if (!/^urn:/i.test(key)) return core(key, value);
      const schema = registry.schema(key);
      if (!schema || !isPlainObject(value)) return [key, value];
      return [schema.id, unlessTwins(value, renamed(value, attributes(schema.id)))];
    }),
  );
}

/** Are the names of `obj` (and inside its complex values) spelled as the schema `schemaId` spells them? */
function namesAsSchema(obj: Record<string, unknown>, registry: SchemaRegistry, schemaId: string): boolean {
  for (const key in obj) {
    const def = lookup(registry, schemaId, key);
    if (!def) continue;
    if (def.name !== key) return false;
    if (def.type !== 'complex' || !def.subAttributes?.length) continue;
    const value = obj[key];
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) {
      if (!isPlainObject(item)) continue;
      for (const sub in item) {
        const subDef = lookup(registry, schemaId, `${def.name}.${sub}`);
        if (subDef && subDef.name !== sub) return false;
      }
    }
  }
  return true;
}

function spelledAsSchema(resource: Record<string, unknown>, registry: SchemaRegistry, coreSchema: string): boolean {
  if (!namesAsSchema(resource, registry, coreSchema)) return false;
  for (const key in resource) {
    if (key.charCodeAt(0) !== 0x75 && key.charCodeAt(0) !== 0x55) continue; // u or U: a URN?
    if (!/^urn:/i.test(key)) continue;
    const schema = registry.schema(key);
    if (!schema) continue;
    const value = resource[key];
    if (schema.id !== key || (isPlainObject(value) && !namesAsSchema(value, registry, schema.id))) return false;
  }
  return true;
}

/**
 * `renamed` (a copy of `original` with names changed), unless `original` has names that differ only in case: then
 * `original`.
 */
const unlessTwins = <T>(original: Record<string, unknown>, renamed: T): T | Record<string, unknown> =>
  renamed === original || caseTwins(original).length === 0 ? renamed : original;

/** Does the object have anything that makes it a resource of `coreSchema` (a known attribute, a known schema)? */
export function looksLikeResource(obj: Record<string, unknown>, registry: SchemaRegistry, coreSchema: string): boolean {
  return Object.keys(obj).some((key) =>
    /^urn:/i.test(key) ? registry.schema(key) !== undefined : registry.lookup(coreSchema, key) !== undefined,
  );
}

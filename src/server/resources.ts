/**
 * Resources in and out of `scimctl serve`: checking what a client sends against the schema
 * (types, required and unique attributes, read-only attributes ignored, member references
 * that exist), and rendering stored resources with meta, `groups`, `members` and the
 * `attributes`/`excludedAttributes` projection (RFC 7644 §3.4.2.5, §3.9).
 */
import type { AttributeDef } from '../api/schema.ts';
import { resolvePath } from '../api/filter-eval.ts';
import { MAX_VALUE_LENGTH, RESOURCE_TYPES, registry, schemaContext, type ResourceKind } from './schemas.ts';
import type { MemberType, Store, StoredResource } from './store.ts';
import { isPlainObject } from '../util/objects.ts';

/** A request the server refuses: rendered as a SCIM error (RFC 7644 §3.12). */
export class ScimHttpError extends Error {
  override name = 'ScimHttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly scimType?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (scimType: string, detail: string) => new ScimHttpError(400, detail, scimType);

export interface CheckedResource {
  schemas: string[];
  attrs: Record<string, unknown>;
  members?: Map<string, MemberType>;
}

const IGNORED = new Set(['schemas', 'id', 'meta']);
const lower = (s: string) => s.toLowerCase();

/**
 * Checks a resource body (POST, PUT, or the result of a PATCH) and returns its attributes
 * under their schema names. Read-only attributes are dropped, as RFC 7643 §2.2 says.
 */
export function checkResource(kind: ResourceKind, body: unknown, store: Store, selfId?: string): CheckedResource {
  if (!isPlainObject(body)) throw badRequest('invalidSyntax', 'the request body must be a JSON object');
  const type = RESOURCE_TYPES[kind];
  const declared = Array.isArray(body.schemas)
    ? body.schemas.filter((s): s is string => typeof s === 'string')
    : undefined;
  if (!declared || !declared.some((s) => lower(s) === lower(type.core.id))) {
    throw badRequest('invalidSyntax', `"schemas" must list ${type.core.id}`);
  }
  for (const s of declared) {
    if (lower(s) !== lower(type.core.id) && !type.extensions.some((e) => lower(e.id) === lower(s))) {
      throw badRequest('invalidValue', `schema ${s} is not supported for ${kind} resources`);
    }
  }
  const attrs: Record<string, unknown> = {};
  let members: Map<string, MemberType> | undefined;
  const schemas = [type.core.id];
  for (const [key, value] of Object.entries(body)) {
    if (IGNORED.has(lower(key)) || value === null || value === undefined) continue;
    const ext = type.extensions.find((e) => lower(e.id) === lower(key));
    if (ext) {
      if (!isPlainObject(value))
        throw badRequest('invalidValue', `${ext.id} must be an object of extension attributes`);
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const def = registry.lookup(ext.id, k);
        if (!def || k.includes('.')) throw badRequest('invalidValue', `"${k}" is not an attribute of ${ext.id}`);
        const checked = checkValue(def, v, `${ext.id}:${def.name}`);
        if (checked !== undefined) out[def.name] = checked;
      }
      if (Object.keys(out).length > 0) {
        attrs[ext.id] = out;
        schemas.push(ext.id);
      }
      continue;
    }
    const def = key.includes('.') ? undefined : registry.lookup(type.core.id, key);
    if (!def) throw badRequest('invalidValue', `"${key}" is not an attribute of ${kind} resources`);
    if (kind === 'Group' && def.name === 'members') {
      members = checkMembers(value, store, selfId);
      continue;
    }
    if (def.mutability === 'readOnly') continue; // groups, and anything else the server owns
    if (def.mutability === 'writeOnly') continue; // password: accepted, never stored
    const checked = checkValue(def, value, def.name);
    if (checked !== undefined) attrs[def.name] = checked;
  }
  for (const def of type.core.attributes) {
    if (!def.required) continue;
    const v = attrs[def.name];
    if (typeof v !== 'string' || v.trim() === '') throw badRequest('invalidValue', `"${def.name}" is required`);
  }
  if (kind === 'User') {
    const owner = store.userIdByName(String(attrs.userName));
    if (owner !== undefined && owner !== selfId)
      throw new ScimHttpError(409, `userName "${String(attrs.userName)}" is already taken`, 'uniqueness');
  }
  if (kind === 'Group') members ??= new Map();
  return { schemas, attrs, members };
}

function checkMembers(value: unknown, store: Store, selfId: string | undefined): Map<string, MemberType> {
  if (!Array.isArray(value)) throw badRequest('invalidValue', '"members" must be an array');
  const out = new Map<string, MemberType>();
  for (const [i, m] of value.entries()) {
    if (!isPlainObject(m) || typeof m.value !== 'string' || m.value === '')
      throw badRequest('invalidValue', `members[${i}] needs a "value" (the id of a user or group)`);
    const type: MemberType | undefined = store.users.has(m.value)
      ? 'User'
      : store.groups.has(m.value)
        ? 'Group'
        : undefined;
    if (!type) throw badRequest('invalidValue', `members[${i}]: there is no user or group with id "${m.value}"`);
    if (m.value === selfId) throw badRequest('invalidValue', 'a group cannot be a member of itself');
    if (typeof m.type === 'string' && lower(m.type) !== lower(type))
      throw badRequest('invalidValue', `members[${i}]: "${m.value}" is a ${type}, not a ${m.type}`);
    out.set(m.value, type);
  }
  return out;
}

/** Checks one attribute value against its definition; undefined means "unassigned". */
function checkValue(def: AttributeDef, value: unknown, where: string): unknown {
  if (value === null || value === undefined) return undefined;
  if (def.multiValued) {
    if (!Array.isArray(value)) throw badRequest('invalidValue', `"${where}" is multi-valued: it must be an array`);
    const items = value.map((v, i) => checkSingle(def, v, `${where}[${i}]`)).filter((v) => v !== undefined);
    if (items.filter((v) => isPlainObject(v) && v.primary === true).length > 1)
      throw badRequest('invalidValue', `"${where}" has more than one primary value`);
    return items.length > 0 ? items : undefined;
  }
  if (Array.isArray(value)) throw badRequest('invalidValue', `"${where}" is single-valued: it must not be an array`);
  return checkSingle(def, value, where);
}

function checkSingle(def: AttributeDef, value: unknown, where: string): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string' && value.length > MAX_VALUE_LENGTH) {
    // Every filter comparison reads the value again: one huge value makes every filter slow.
    throw badRequest(
      'invalidValue',
      `"${where}" is ${value.length} characters long; this server keeps values of up to ${MAX_VALUE_LENGTH} characters`,
    );
  }
  switch (def.type) {
    case 'complex': {
      if (!isPlainObject(value)) throw badRequest('invalidValue', `"${where}" must be an object`);
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const sub = def.subAttributes?.find((s) => lower(s.name) === lower(k));
        if (!sub) throw badRequest('invalidValue', `"${where}.${k}" is not a sub-attribute of ${def.name}`);
        if (sub.mutability === 'readOnly' && def.mutability !== 'readOnly') continue;
        const checked = checkValue(sub, v, `${where}.${sub.name}`);
        if (checked !== undefined) out[sub.name] = checked;
      }
      return Object.keys(out).length > 0 ? out : undefined;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      // Entra ID sends "True"/"False": read as booleans, anything else is an error.
      if (typeof value === 'string' && /^(true|false)$/i.test(value)) return lower(value) === 'true';
      throw badRequest('invalidValue', `"${where}" must be true or false`);
    case 'integer':
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      throw badRequest('invalidValue', `"${where}" must be an integer`);
    case 'decimal':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      throw badRequest('invalidValue', `"${where}" must be a number`);
    case 'dateTime':
      if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return value;
      throw badRequest('invalidValue', `"${where}" must be a date and time (xsd:dateTime)`);
    default:
      if (typeof value === 'string') return value;
      throw badRequest('invalidValue', `"${where}" must be a string`);
  }
}

// ---------------------------------------------------------------------------------------------
// Output

export const etagOf = (r: StoredResource) => `W/"${r.version}"`;

export function location(baseUrl: string, r: { kind: ResourceKind; id: string }): string {
  return `${baseUrl}${RESOURCE_TYPES[r.kind].endpoint}/${r.id}`;
}

/** The resource as a client sees it (before projection). */
export function render(r: StoredResource, store: Store, baseUrl: string): Record<string, unknown> {
  const { externalId, ...rest } = r.attrs;
  const out: Record<string, unknown> = { schemas: r.schemas, id: r.id };
  if (externalId !== undefined) out.externalId = externalId;
  Object.assign(out, rest);
  if (r.kind === 'User') {
    const groups = store.groupsOf(r.id);
    if (groups.size > 0) {
      out.groups = [...groups].map((gid) => {
        const g = store.groups.get(gid);
        return { value: gid, $ref: `${baseUrl}/Groups/${gid}`, display: g?.attrs.displayName, type: 'direct' };
      });
    }
  } else {
    out.members = [...(r.members ?? new Map<string, MemberType>())].map(([id, type]) => {
      const m = type === 'User' ? store.users.get(id) : store.groups.get(id);
      return {
        value: id,
        $ref: location(baseUrl, { kind: type, id }),
        display: m ? (type === 'User' ? (m.attrs.displayName ?? m.attrs.userName) : m.attrs.displayName) : undefined,
        type,
      };
    });
  }
  out.meta = {
    resourceType: r.kind,
    created: r.created,
    lastModified: r.lastModified,
    location: location(baseUrl, r),
    version: etagOf(r),
  };
  return out;
}

/** The input form of a stored resource: what a PUT of it would carry. PATCH works on this. */
export function inputForm(r: StoredResource): Record<string, unknown> {
  const out: Record<string, unknown> = { schemas: [...r.schemas], ...structuredClone(r.attrs) };
  if (r.members) out.members = [...r.members].map(([value, type]) => ({ value, type }));
  return out;
}

export interface Projection {
  attributes?: string[];
  excluded?: string[];
}

/** Parses attributes/excludedAttributes lists, checking every name against the schema. */
export function parseProjection(
  kind: ResourceKind | undefined,
  attributes: string | string[] | undefined,
  excluded: string | string[] | undefined,
): Projection {
  const list = (v: string | string[] | undefined) =>
    v === undefined ? undefined : (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean);
  const p = { attributes: list(attributes), excluded: list(excluded) };
  if (kind) {
    const ctx = schemaContext(kind);
    for (const name of [...(p.attributes ?? []), ...(p.excluded ?? [])]) {
      if (!ctx.lookup(resolvePath(name, ctx)))
        throw badRequest('invalidValue', `"${name}" is not an attribute of ${kind} resources`);
    }
  }
  return p;
}

const ALWAYS = new Set(['id', 'schemas']);

/** Applies attributes/excludedAttributes to a rendered resource (id and schemas always stay). */
export function project(resource: Record<string, unknown>, kind: ResourceKind, p: Projection): Record<string, unknown> {
  if (!p.attributes && !p.excluded) return resource;
  const ctx = schemaContext(kind);
  if (p.attributes && p.attributes.length > 0) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(resource)) if (ALWAYS.has(key)) out[key] = resource[key];
    for (const name of p.attributes) copyPath(resource, out, resolvePath(name, ctx));
    return out;
  }
  const out = { ...resource };
  for (const name of p.excluded ?? []) {
    const parts = resolvePath(name, ctx);
    if (parts.length === 1 && ALWAYS.has(parts[0]!)) continue;
    dropPath(out, parts);
  }
  return out;
}

function keyIn(obj: Record<string, unknown>, name: string): string | undefined {
  if (name in obj) return name;
  return Object.keys(obj).find((k) => lower(k) === lower(name));
}

function copyPath(from: Record<string, unknown>, to: Record<string, unknown>, parts: string[]): void {
  const key = keyIn(from, parts[0]!);
  if (key === undefined) return;
  const value = from[key];
  if (parts.length === 1) {
    to[key] = value;
    return;
  }
  if (Array.isArray(value)) {
    const existing = Array.isArray(to[key]) ? (to[key] as Array<Record<string, unknown>>) : value.map(() => ({}));
    value.forEach((item, i) => isPlainObject(item) && copyPath(item, existing[i]!, parts.slice(1)));
    to[key] = existing;
  } else if (isPlainObject(value)) {
    const existing = isPlainObject(to[key]) ? (to[key] as Record<string, unknown>) : {};
    copyPath(value, existing, parts.slice(1));
    to[key] = existing;
  }
}

function dropPath(obj: Record<string, unknown>, parts: string[]): void {
  const key = keyIn(obj, parts[0]!);
  if (key === undefined) return;
  if (parts.length === 1) {
    delete obj[key];
    return;
  }
  const value = obj[key];
  if (Array.isArray(value))
    obj[key] = value.map((item) => (isPlainObject(item) ? dropFrom({ ...item }, parts.slice(1)) : item));
  else if (isPlainObject(value)) obj[key] = dropFrom({ ...value }, parts.slice(1));
}

function dropFrom(obj: Record<string, unknown>, parts: string[]): Record<string, unknown> {
  dropPath(obj, parts);
  return obj;
}

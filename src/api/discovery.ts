/**
 * Service provider discovery (RFC 7644 §4): ServiceProviderConfig, ResourceTypes
 * and Schemas. Servers without them, or with broken ones, get conservative
 * defaults, never a crash. Capabilities drive paging, PATCH, Bulk and search.
 */
import { RequestError, ResponseError, ScimClientError } from './errors.ts';
import type { Transport } from './http.ts';
import { emptyLearned, type Learned } from './learned.ts';
import { BUILTIN_SCHEMAS, completeSchemas, type AttributeDef, type AttributeType, type SchemaDef } from './schema.ts';
import { SCHEMA } from './types.ts';

export interface ResourceTypeInfo {
  name: string;
  endpoint: string;
  schema: string;
  schemaExtensions: Array<{ schema: string; required: boolean }>;
}

export interface Capabilities {
  /** Where the figures came from: the server, or our defaults for a server that does not say. */
  source: 'discovered' | 'defaults';
  patch: boolean;
  bulk: { supported: boolean; maxOperations: number; maxPayloadSize: number };
  filter: { supported: boolean; maxResults: number | undefined };
  sort: boolean;
  etag: boolean;
  changePassword: boolean;
  pagination: {
    index: boolean;
    cursor: boolean;
    defaultPageSize?: number;
    maxPageSize?: number;
    cursorTimeout?: number;
  };
  authenticationSchemes: Array<{ type: string; name?: string }>;
  resourceTypes: ResourceTypeInfo[];
  schemas: SchemaDef[];
  /** True when /Schemas answered; otherwise `schemas` holds the built-in RFC 7643 definitions. */
  schemasFromServer: boolean;
  /**
   * What the server's /Schemas left out and `schemas` has from RFC 7643 (completeSchemas): user
   * attribute paths, lower-case, with the name as people read it (`addresses.primary`).
   */
  undeclared: Array<[path: string, shown: string]>;
  /** What could not be discovered, and why. */
  warnings: string[];
  /** Learned at run time: the member-removal form this server accepts. */
  memberRemoval?: 'filter' | 'value';
  /** Learned from the server's answers (learned.ts); kept when discovery is refreshed. */
  learned: Learned;
  discoveredAt: string;
}

/** What we assume of a server that publishes nothing: the RFC's mandatory core only. */
export function defaultCapabilities(warnings: string[] = []): Capabilities {
  return {
    source: 'defaults',
    patch: false,
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: undefined },
    sort: false,
    etag: false,
    changePassword: false,
    pagination: { index: true, cursor: false },
    authenticationSchemes: [],
    resourceTypes: [
      { name: 'User', endpoint: '/Users', schema: SCHEMA.USER, schemaExtensions: [] },
      { name: 'Group', endpoint: '/Groups', schema: SCHEMA.GROUP, schemaExtensions: [] },
    ],
    schemas: BUILTIN_SCHEMAS,
    schemasFromServer: false,
    undeclared: [],
    warnings,
    learned: emptyLearned(),
    discoveredAt: new Date().toISOString(),
  };
}

/** Servers send `true`, `"true"`, `"True"`; anything else is false. */
const bool = (v: unknown): boolean => v === true || (typeof v === 'string' && v.toLowerCase() === 'true');
const num = (v: unknown): number | undefined => {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
};
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Items of a ListResponse, or of a bare array (some servers answer /Schemas that way). */
function listItems(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  if (body && typeof body === 'object') {
    const r =
      (body as { Resources?: unknown; resources?: unknown }).Resources ?? (body as { resources?: unknown }).resources;
    if (Array.isArray(r)) return r;
  }
  return [];
}

type Loose = Record<string, unknown>;
const obj = (v: unknown): Loose | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Loose) : undefined;
const sub = (o: Loose, key: string): Loose => obj(o[key]) ?? {};

export function parseServiceProviderConfig(body: unknown, into: Capabilities): void {
  const root = obj(body);
  if (!root) {
    into.warnings.push('ServiceProviderConfig is not an object; using defaults');
    return;
  }
  const spc = {
    patch: sub(root, 'patch'),
    bulk: sub(root, 'bulk'),
    filter: obj(root.filter),
    sort: sub(root, 'sort'),
    etag: sub(root, 'etag'),
    changePassword: sub(root, 'changePassword'),
    pagination: obj(root.pagination),
    authenticationSchemes: Array.isArray(root.authenticationSchemes)
      ? root.authenticationSchemes.map((s) => obj(s) ?? {})
      : [],
  };
  into.patch = bool(spc.patch.supported);
  into.bulk = {
    supported: bool(spc.bulk.supported),
    maxOperations: num(spc.bulk.maxOperations) ?? 0,
    maxPayloadSize: num(spc.bulk.maxPayloadSize) ?? 0,
  };
  into.filter = { supported: spc.filter ? bool(spc.filter.supported) : true, maxResults: num(spc.filter?.maxResults) };
  into.sort = bool(spc.sort.supported);
  into.etag = bool(spc.etag.supported);
  into.changePassword = bool(spc.changePassword.supported);
  if (spc.pagination) {
    const cursor = bool(spc.pagination.cursor);
    into.pagination = {
      cursor,
      // RFC 9865: index paging is assumed unless the server says otherwise.
      index: spc.pagination.index === undefined ? true : bool(spc.pagination.index),
      defaultPageSize: num(spc.pagination.defaultPageSize),
      maxPageSize: num(spc.pagination.maxPageSize),
      cursorTimeout: num(spc.pagination.cursorTimeout),
    };
  }
  into.authenticationSchemes = spc.authenticationSchemes.map((s) => ({
    type: text(s.type) ?? 'unknown',
    name: text(s.name),
  }));
}

export function parseResourceTypes(body: unknown): ResourceTypeInfo[] {
  const out: ResourceTypeInfo[] = [];
  for (const item of listItems(body)) {
    if (!item || typeof item !== 'object') continue;
    const rt = item as Record<string, unknown>;
    const name = text(rt.name) ?? text(rt.id);
    const endpoint = text(rt.endpoint);
    const schema = text(rt.schema);
    if (!name || !endpoint || !schema) continue;
    const ext = Array.isArray(rt.schemaExtensions) ? rt.schemaExtensions : [];
    out.push({
      name,
      endpoint: endpoint.startsWith('/') ? endpoint : `/${endpoint}`,
      schema,
      schemaExtensions: ext
        .filter(
          (e): e is Record<string, unknown> =>
            !!e && typeof e === 'object' && typeof (e as { schema?: unknown }).schema === 'string',
        )
        .map((e) => ({ schema: e.schema as string, required: bool(e.required) })),
    });
  }
  return out;
}

const TYPES: AttributeType[] = [
  'string',
  'boolean',
  'decimal',
  'integer',
  'dateTime',
  'reference',
  'binary',
  'complex',
];

function parseAttribute(raw: unknown): AttributeDef | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const a = raw as Record<string, unknown>;
  const name = text(a.name);
  if (!name) return undefined;
  const rawType = (text(a.type) ?? 'string').toLowerCase();
  const type = TYPES.find((t) => t.toLowerCase() === rawType) ?? 'string';
  const def: AttributeDef = { name, type, multiValued: bool(a.multiValued) };
  if (a.required !== undefined) def.required = bool(a.required);
  if (a.caseExact !== undefined) def.caseExact = bool(a.caseExact);
  const mutability = text(a.mutability);
  if (
    mutability === 'readOnly' ||
    mutability === 'readWrite' ||
    mutability === 'immutable' ||
    mutability === 'writeOnly'
  )
    def.mutability = mutability;
  const returned = text(a.returned);
  if (returned === 'always' || returned === 'never' || returned === 'default' || returned === 'request')
    def.returned = returned;
  const uniqueness = text(a.uniqueness);
  if (uniqueness === 'none' || uniqueness === 'server' || uniqueness === 'global') def.uniqueness = uniqueness;
  if (Array.isArray(a.canonicalValues))
    def.canonicalValues = a.canonicalValues.filter((v): v is string => typeof v === 'string');
  if (Array.isArray(a.subAttributes)) {
    def.subAttributes = a.subAttributes.map(parseAttribute).filter((d): d is AttributeDef => d !== undefined);
  }
  return def;
}

export function parseSchemas(body: unknown): SchemaDef[] {
  const out: SchemaDef[] = [];
  for (const item of listItems(body)) {
    if (!item || typeof item !== 'object') continue;
    const s = item as Record<string, unknown>;
    const id = text(s.id);
    if (!id || !Array.isArray(s.attributes)) continue;
    out.push({
      id,
      name: text(s.name),
      attributes: s.attributes.map(parseAttribute).filter((d): d is AttributeDef => d !== undefined),
    });
  }
  return out;
}

/** Errors that mean "this server cannot be used at all" rather than "this endpoint is missing". */
function isFatal(e: unknown): boolean {
  return e instanceof RequestError || (e instanceof ResponseError && e.status === 401);
}

async function tryGet(transport: Transport, path: string, warnings: string[]): Promise<unknown> {
  try {
    return (await transport.request('GET', path, { expect: [200] })).body;
  } catch (e) {
    if (isFatal(e)) throw e;
    const why = e instanceof ScimClientError ? e.message : String(e);
    warnings.push(`${path}: ${why}`);
    return undefined;
  }
}

/** Reads the three discovery endpoints in parallel and folds them into capabilities. */
export async function discover(transport: Transport): Promise<Capabilities> {
  const warnings: string[] = [];
  const [spc, resourceTypes, schemas] = await Promise.all([
    tryGet(transport, '/ServiceProviderConfig', warnings),
    tryGet(transport, '/ResourceTypes', warnings),
    tryGet(transport, '/Schemas', warnings),
  ]);
  const caps = defaultCapabilities(warnings);
  if (spc !== undefined) {
    caps.source = 'discovered';
    parseServiceProviderConfig(spc, caps);
  }
  const types = resourceTypes === undefined ? [] : parseResourceTypes(resourceTypes);
  if (types.length > 0) caps.resourceTypes = types;
  const defs = schemas === undefined ? [] : parseSchemas(schemas);
  if (defs.length > 0) {
    // Keep built-in definitions for schemas the server did not describe.
    const ids = new Set(defs.map((d) => d.id.toLowerCase()));
    // A partial /Schemas is completed with the RFC's attributes: a guide, never a wall.
    const completed = completeSchemas(defs);
    caps.schemas = [...completed.schemas, ...BUILTIN_SCHEMAS.filter((b) => !ids.has(b.id.toLowerCase()))];
    caps.undeclared = [...completed.undeclared];
    caps.schemasFromServer = true;
  }
  return caps;
}

/** The page size to ask for: what the caller wants, within what the server says it serves. */
export function pageSizeFor(caps: Capabilities, requested?: number): number {
  const ceiling = caps.pagination.maxPageSize ?? caps.filter.maxResults ?? 1000;
  const wanted = requested ?? caps.pagination.defaultPageSize ?? caps.filter.maxResults ?? 100;
  return Math.max(1, Math.min(wanted, ceiling, 1000));
}

/**
 * The SCIM protocol of `scimctl serve`, without HTTP: one request in, one response out.
 * Resources, queries (filter, sort, index and cursor paging, projection), PATCH, ETags,
 * Bulk and discovery. src/server/http.ts puts it on a socket; Bulk calls it once per operation.
 */
import { randomBytes } from 'node:crypto';
import { SCHEMA } from '../api/types.ts';
import {
  compileFilter,
  compileSort,
  FilterDeadlineError,
  FilterError,
  parseFilter,
  type CompiledSort,
} from '../api/filter-eval.ts';
import { applyPatch, readPatchRequest } from './patch.ts';
import {
  badRequest,
  checkResource,
  etagOf,
  inputForm,
  location,
  parseProjection,
  project,
  render,
  ScimHttpError,
  type CheckedResource,
  type Projection,
} from './resources.ts';
import {
  ALL_SCHEMAS,
  DEFAULT_LIMITS,
  RESOURCE_TYPES,
  resourceTypeRepresentation,
  schemaContext,
  schemaRepresentation,
  serviceProviderConfig,
  type ResourceKind,
  type ServerLimits,
} from './schemas.ts';
import type { MemberType, Store, StoredResource } from './store.ts';
import { isPlainObject } from '../util/objects.ts';

export interface ServiceRequest {
  method: string;
  /** The path below the base URL, e.g. /Users/abc */
  path: string;
  query: URLSearchParams;
  ifMatch?: string;
  ifNoneMatch?: string;
  body?: unknown;
  /** Size of the raw body in bytes (Bulk checks it against maxPayloadSize). */
  bodySize?: number;
}

export interface ServiceResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ServiceOptions {
  readOnly?: string;
  limits?: Partial<ServerLimits>;
  /** Unexpected errors (a bug, a full disk) go here. */
  logError?: (message: string) => void;
}

const ERROR = SCHEMA.ERROR;
const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

export function errorResponse(e: ScimHttpError): ServiceResponse {
  const body: Record<string, unknown> = { schemas: [ERROR], status: String(e.status) };
  if (e.scimType) body.scimType = e.scimType;
  body.detail = e.message;
  return { status: e.status, body, headers: e.headers };
}

interface Query {
  filter?: string;
  sortBy?: string;
  sortOrder?: string;
  startIndex?: number;
  count?: number;
  cursor?: string;
  projection: Projection;
}

interface Snapshot {
  ids: Array<[ResourceKind, string]>;
  created: number;
}

export class ScimService {
  baseUrl = '';
  readonly limits: ServerLimits;
  private readonly cache = new Map<string, { rev: number; ids: Array<[ResourceKind, string]> }>();
  private readonly snapshots = new Map<string, Snapshot>();

  constructor(
    private current: Store,
    private readonly options: ServiceOptions = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
  }

  get store(): Store {
    return this.current;
  }

  /** Serves another store from now on (a source file read again); cursors into the old one end. */
  useStore(store: Store): void {
    this.current = store;
    this.cache.clear();
    this.snapshots.clear();
  }

  async handle(req: ServiceRequest): Promise<ServiceResponse> {
    try {
      return await this.route(req);
    } catch (e) {
      if (e instanceof ScimHttpError) return errorResponse(e);
      if (e instanceof FilterError) return errorResponse(badRequest('invalidFilter', e.message));
      // RFC 7644 §3.12 tooMany: more than the server is willing to process. Not a 503: the same
      // filter would take as long again, so a client must change it rather than retry it.
      if (e instanceof FilterDeadlineError) return errorResponse(badRequest('tooMany', e.message));
      throw e;
    }
  }

  private async route(req: ServiceRequest): Promise<ServiceResponse> {
    let parts: string[];
    try {
      parts = req.path.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      throw new ScimHttpError(404, `${req.path} is not a valid path (broken percent-encoding)`);
    }
    const method = req.method.toUpperCase();
    const [head, id, extra] = parts;
    const kind: ResourceKind | undefined = head === 'Users' ? 'User' : head === 'Groups' ? 'Group' : undefined;
    const allow = (methods: string) => {
      if (!methods.split(',').includes(method))
        throw new ScimHttpError(405, `${method} is not allowed on ${req.path}`, undefined, { Allow: methods });
    };

    if (parts.length === 0)
      throw new ScimHttpError(
        404,
        'nothing here: see /ServiceProviderConfig, /ResourceTypes, /Schemas, /Users, /Groups',
      );
    if (DISCOVERY.has(head!) && req.query.has('filter')) {
      // RFC 7644 §4: a client must not believe a filter was applied to discovery.
      throw new ScimHttpError(403, `${head} does not take a filter`);
    }
    if (head === 'ServiceProviderConfig' && parts.length === 1) {
      allow('GET');
      return ok(serviceProviderConfig(this.baseUrl, this.limits, this.options.readOnly !== undefined));
    }
    if (head === 'ResourceTypes' && parts.length <= 2) {
      allow('GET');
      const types = Object.values(RESOURCE_TYPES).map((t) => resourceTypeRepresentation(t, this.baseUrl));
      if (id === undefined) return ok(listResponse(types, types.length, 1));
      const found = types.find((t) => t.id === id);
      if (!found) throw new ScimHttpError(404, `no resource type "${id}"`);
      return ok(found);
    }
    if (head === 'Schemas' && parts.length <= 2) {
      allow('GET');
      const schemas = ALL_SCHEMAS.map((s) => schemaRepresentation(s, this.baseUrl));
      if (id === undefined) return ok(listResponse(schemas, schemas.length, 1));
      const found = schemas.find((s) => String(s.id).toLowerCase() === id.toLowerCase());
      if (!found) throw new ScimHttpError(404, `no schema "${id}"`);
      return ok(found);
    }
    if (head === '.search' && parts.length === 1) {
      allow('POST');
      return this.list(undefined, this.searchQuery(undefined, req.body));
    }
    if (head === 'Bulk' && parts.length === 1) {
      allow('POST');
      this.writable();
      return this.bulk(req);
    }
    if (head === 'Me') throw new ScimHttpError(501, '/Me is not supported: this server has no authenticated subject');
    if (!kind || parts.length > 2 || extra !== undefined) throw new ScimHttpError(404, `no endpoint ${req.path}`);

    if (id === undefined) {
      allow('GET,POST');
      if (method === 'GET') return this.list(kind, this.urlQuery(kind, req.query));
      this.writable();
      return this.create(kind, req.body, projectionOf(kind, req.query));
    }
    if (id === '.search') {
      allow('POST');
      return this.list(kind, this.searchQuery(kind, req.body));
    }
    allow('GET,PUT,PATCH,DELETE');
    const current = this.store.get(kind, id);
    if (!current) throw new ScimHttpError(404, `${kind} ${id} not found`);
    if (method === 'GET') {
      if (req.ifNoneMatch && etagMatches(req.ifNoneMatch, current))
        return { status: 304, headers: { ETag: etagOf(current) } };
      const projection = projectionOf(kind, req.query);
      return this.resourceResponse(200, current, projection);
    }
    this.writable();
    const projection = projectionOf(kind, req.query);
    if (req.ifMatch && !etagMatches(req.ifMatch, current)) {
      throw new ScimHttpError(
        412,
        `${kind} ${id} has changed since that version was read (it is now ${etagOf(current)})`,
      );
    }
    if (method === 'DELETE') {
      await this.store.remove(kind, id);
      return { status: 204 };
    }
    if (method === 'PUT') return this.replace(current, checkResource(kind, req.body, this.store, id), projection);
    const ops = readPatchRequest(req.body);
    const doc = inputForm(current);
    applyPatch(kind, doc, ops);
    return this.replace(current, checkResource(kind, doc, this.store, id), projection);
  }

  private writable(): void {
    if (this.options.readOnly !== undefined)
      throw new ScimHttpError(403, `this server is read-only: it serves ${this.options.readOnly}`);
    const failed = this.current.writeError;
    if (failed)
      throw new ScimHttpError(503, `the server cannot save changes (${failed.message}); restart it once that is fixed`);
  }

  private resourceResponse(status: number, r: StoredResource, projection: Projection = {}): ServiceResponse {
    const headers: Record<string, string> = { ETag: etagOf(r) };
    if (status === 201) headers.Location = location(this.baseUrl, r);
    return { status, body: project(render(r, this.store, this.baseUrl), r.kind, projection), headers };
  }

  private async create(kind: ResourceKind, body: unknown, projection: Projection = {}): Promise<ServiceResponse> {
    const checked = checkResource(kind, body, this.store);
    const now = new Date().toISOString();
    const r: StoredResource = {
      kind,
      id: newId(),
      version: this.store.nextVersion(),
      created: now,
      lastModified: now,
      schemas: checked.schemas,
      attrs: checked.attrs,
      members: checked.members,
    };
    await this.store.put(r);
    return this.resourceResponse(201, r, projection);
  }

  private async replace(
    current: StoredResource,
    checked: CheckedResource,
    projection: Projection = {},
  ): Promise<ServiceResponse> {
    const now = new Date().toISOString();
    const sameAttributes = sameJson(current.attrs, checked.attrs) && sameJson(current.schemas, checked.schemas);
    if (current.kind === 'Group' && sameAttributes) {
      // Only the members changed (the common PATCH): journal the difference, not the whole group.
      const next = checked.members ?? new Map<string, MemberType>();
      const added = [...next].filter(([mid]) => !current.members!.has(mid));
      const removed = [...current.members!.keys()].filter((mid) => !next.has(mid));
      const version = added.length + removed.length > 0 ? this.store.nextVersion() : current.version;
      if (added.length + removed.length > 0) await this.store.changeMembers(current, added, removed, version, now);
      return this.resourceResponse(200, current, projection);
    }
    // A write that changes nothing keeps the version: ETags others hold stay valid.
    if (sameAttributes) return this.resourceResponse(200, current, projection);
    const r: StoredResource = {
      ...current,
      version: this.store.nextVersion(),
      lastModified: now,
      schemas: checked.schemas,
      attrs: checked.attrs,
      members: checked.members,
    };
    await this.store.put(r);
    return this.resourceResponse(200, r, projection);
  }

  // -------------------------------------------------------------------------------------------
  // Queries

  private urlQuery(kind: ResourceKind, q: URLSearchParams): Query {
    return {
      filter: q.get('filter') ?? undefined,
      sortBy: q.get('sortBy') ?? undefined,
      sortOrder: q.get('sortOrder') ?? undefined,
      startIndex: intParam(q.get('startIndex'), 'startIndex'),
      count: intParam(q.get('count'), 'count'),
      cursor: q.get('cursor') ?? undefined,
      projection: projectionOf(kind, q),
    };
  }

  private searchQuery(kind: ResourceKind | undefined, body: unknown): Query {
    if (!isPlainObject(body)) throw badRequest('invalidSyntax', 'the request body must be a SearchRequest object');
    const schemas = Array.isArray(body.schemas) ? body.schemas : [];
    if (!schemas.includes(SCHEMA.SEARCH_REQUEST))
      throw badRequest('invalidSyntax', `"schemas" must be ["${SCHEMA.SEARCH_REQUEST}"]`);
    const str = (k: string) => {
      const v = body[k];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string') throw badRequest('invalidValue', `"${k}" must be a string`);
      return v;
    };
    const num = (k: string) => {
      const v = body[k];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'number' || !Number.isInteger(v)) throw badRequest('invalidValue', `"${k}" must be an integer`);
      return v;
    };
    const names = (k: string) => {
      const v = body[k];
      if (v === undefined) return undefined;
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
        throw badRequest('invalidValue', `"${k}" must be an array of attribute names`);
      return v as string[];
    };
    return {
      filter: str('filter'),
      sortBy: str('sortBy'),
      sortOrder: str('sortOrder'),
      startIndex: num('startIndex'),
      count: num('count'),
      cursor: str('cursor'),
      projection: parseProjection(kind, names('attributes'), names('excludedAttributes')),
    };
  }

  private list(kind: ResourceKind | undefined, q: Query): ServiceResponse {
    if (q.sortOrder !== undefined && !/^(ascending|descending)$/i.test(q.sortOrder))
      throw badRequest('invalidValue', 'sortOrder must be "ascending" or "descending"');
    if (q.cursor !== undefined && q.startIndex !== undefined)
      throw badRequest('invalidValue', 'use either cursor or startIndex paging, not both');
    const count = Math.min(Math.max(q.count ?? this.limits.defaultPageSize, 0), this.limits.maxPageSize);
    // One deadline for all the filtering this request does (both resource types at the root).
    const deadline = performance.now() + this.limits.filterTimeMs;
    const out = (entries: Array<[ResourceKind, string]>) =>
      entries.flatMap(([k, id]) => {
        const r = this.store.get(k, id);
        return r ? [project(render(r, this.store, this.baseUrl), k, q.projection)] : [];
      });

    if (q.cursor !== undefined) {
      let snapshotId: string;
      let offset: number;
      let snapshot: Snapshot;
      if (q.cursor === '') {
        snapshotId = randomBytes(12).toString('base64url');
        offset = 0;
        snapshot = { ids: this.matching(kind, q, deadline), created: Date.now() };
        this.snapshots.set(snapshotId, snapshot);
        while (this.snapshots.size > 16) this.snapshots.delete(this.snapshots.keys().next().value!);
      } else {
        const m = /^([\w-]{16})\.(\d+)$/.exec(Buffer.from(q.cursor, 'base64url').toString());
        const found = m ? this.snapshots.get(m[1]!) : undefined;
        if (!m || !found)
          throw badRequest(
            'invalidCursor',
            'the cursor is not one this server gave out (or the server restarted since)',
          );
        if (Date.now() - found.created > this.limits.cursorTimeout * 1000) {
          this.snapshots.delete(m[1]!);
          throw badRequest(
            'expiredCursor',
            `the cursor expired (cursors last ${this.limits.cursorTimeout} s); start the listing again`,
          );
        }
        snapshotId = m[1]!;
        offset = Number(m[2]);
        snapshot = found;
      }
      const token = (at: number) => Buffer.from(`${snapshotId}.${at}`).toString('base64url');
      const page = snapshot.ids.slice(offset, offset + count);
      const resources = out(page);
      const body: Record<string, unknown> = {
        schemas: [SCHEMA.LIST_RESPONSE],
        totalResults: snapshot.ids.length,
        itemsPerPage: resources.length,
      };
      if (offset + count < snapshot.ids.length && count > 0) body.nextCursor = token(offset + count);
      if (offset > 0) body.previousCursor = token(Math.max(0, offset - count));
      body.Resources = resources;
      return ok(body);
    }

    const ids = this.matching(kind, q, deadline);
    const start = Math.max(q.startIndex ?? 1, 1);
    return ok(listResponse(out(ids.slice(start - 1, start - 1 + count)), ids.length, start));
  }

  /** The (kind, id) of every resource the query selects, in order; remembered until the store changes. */
  private matching(kind: ResourceKind | undefined, q: Query, deadline: number): Array<[ResourceKind, string]> {
    const key = `${kind ?? '*'}\u0000${q.filter ?? ''}\u0000${q.sortBy ?? ''}\u0000${q.sortOrder ?? ''}`;
    const hit = this.cache.get(key);
    if (hit && hit.rev === this.store.rev) return hit.ids;
    const kinds: ResourceKind[] = kind ? [kind] : ['User', 'Group'];
    let ids: Array<[ResourceKind, string]> = [];
    for (const k of kinds) ids.push(...this.select(k, q.filter, kind === undefined, deadline));
    if (q.sortBy) ids = this.sort(ids, q.sortBy, /^descending$/i.test(q.sortOrder ?? ''), kind === undefined);
    this.cache.set(key, { rev: this.store.rev, ids });
    while (this.cache.size > 16) this.cache.delete(this.cache.keys().next().value!);
    return ids;
  }

  private select(
    kind: ResourceKind,
    filter: string | undefined,
    lenient: boolean,
    deadline: number,
  ): Array<[ResourceKind, string]> {
    const map = this.store.map(kind);
    if (!filter) return [...map.keys()].map((id) => [kind, id]);
    const ctx = { ...schemaContext(kind), strict: !lenient };
    // The lookups clients make all the time answer from the indexes: userName eq "…", id eq "…".
    const node = parseFilter(filter);
    if (node.kind === 'cmp' && node.op === 'eq' && typeof node.value === 'string') {
      const attr = node.path.toLowerCase();
      if (kind === 'User' && (attr === 'username' || attr === `${ctx.core.toLowerCase()}:username`)) {
        const id = this.store.userIdByName(node.value);
        return id ? [[kind, id]] : [];
      }
      if (attr === 'id') return map.has(node.value) ? [[kind, node.value]] : [];
    }
    const compiled = compileFilter(filter, ctx, { deadline, limitMs: this.limits.filterTimeMs });
    const needsView = [...compiled.attributes].some((a) => VIEW_ONLY.has(a));
    const out: Array<[ResourceKind, string]> = [];
    for (const r of map.values()) {
      if (compiled.test(needsView ? render(r, this.store, this.baseUrl) : r.attrs)) out.push([kind, r.id]);
    }
    return out;
  }

  private sort(
    ids: Array<[ResourceKind, string]>,
    sortBy: string,
    descending: boolean,
    lenient: boolean,
  ): Array<[ResourceKind, string]> {
    const sorts = new Map<ResourceKind, CompiledSort>();
    const sorter = (k: ResourceKind) => {
      let s = sorts.get(k);
      if (!s) sorts.set(k, (s = compileSort(sortBy, { ...schemaContext(k), strict: !lenient })));
      return s;
    };
    const keyed = ids.map(([k, id]) => {
      const r = this.store.get(k, id)!;
      const s = sorter(k);
      const needsView = [...s.attributes].some((a) => VIEW_ONLY.has(a));
      return {
        entry: [k, id] as [ResourceKind, string],
        key: s.key(needsView ? render(r, this.store, this.baseUrl) : r.attrs),
      };
    });
    const compare = sorter(ids[0]?.[0] ?? 'User').compare;
    keyed.sort((a, b) => {
      // Resources without the attribute come last ascending, first descending: reversing the order does both.
      const c = compare(a.key, b.key);
      return descending ? -c : c;
    });
    return keyed.map((k) => k.entry);
  }

  // -------------------------------------------------------------------------------------------
  // Bulk (RFC 7644 §3.7)

  private async bulk(req: ServiceRequest): Promise<ServiceResponse> {
    if ((req.bodySize ?? 0) > this.limits.maxPayloadSize) {
      throw new ScimHttpError(
        413,
        `the request is ${req.bodySize} bytes; maxPayloadSize is ${this.limits.maxPayloadSize}`,
      );
    }
    const body = req.body;
    if (!isPlainObject(body)) throw badRequest('invalidSyntax', 'the request body must be a BulkRequest object');
    const schemas = Array.isArray(body.schemas) ? body.schemas : [];
    if (!schemas.includes(SCHEMA.BULK_REQUEST))
      throw badRequest('invalidSyntax', `"schemas" must be ["${SCHEMA.BULK_REQUEST}"]`);
    const ops = body.Operations;
    if (!Array.isArray(ops)) throw badRequest('invalidSyntax', '"Operations" must be an array');
    if (ops.length > this.limits.maxOperations)
      throw new ScimHttpError(
        413,
        `the request has ${ops.length} operations; maxOperations is ${this.limits.maxOperations}`,
      );
    const failOnErrors = body.failOnErrors;
    if (
      failOnErrors !== undefined &&
      (typeof failOnErrors !== 'number' || !Number.isInteger(failOnErrors) || failOnErrors < 1)
    ) {
      throw badRequest('invalidValue', '"failOnErrors" must be a positive integer');
    }
    const bulkIds = ops
      .map((o: unknown) => (isPlainObject(o) && typeof o.bulkId === 'string' ? o.bulkId : undefined))
      .filter((b): b is string => b !== undefined);
    const repeated = bulkIds.find((b, i) => bulkIds.indexOf(b) !== i);
    if (repeated !== undefined)
      throw badRequest(
        'invalidValue',
        `bulkId "${repeated}" is used by more than one operation (RFC 7644 §3.7: it must be unique)`,
      );
    const ids = new Map<string, string>();
    const results: Array<Record<string, unknown> | undefined> = new Array(ops.length);
    let errors = 0;
    // Operations run in order; one that refers to a bulkId not created yet waits for a later round.
    let waiting = ops.map((_, i) => i);
    while (waiting.length > 0 && (failOnErrors === undefined || errors < failOnErrors)) {
      const next: number[] = [];
      for (const i of waiting) {
        if (failOnErrors !== undefined && errors >= failOnErrors) break;
        const op: unknown = ops[i];
        let result: Awaited<ReturnType<ScimService['bulkOperation']>>;
        try {
          result = await this.bulkOperation(op, ids);
        } catch (e) {
          // One operation that breaks the server fails alone: the others' results (and ids) still go back.
          this.options.logError?.(`Bulk operation ${i}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
          const o = isPlainObject(op) ? op : {};
          result = {
            method: o.method,
            bulkId: o.bulkId,
            status: '500',
            response: errorResponse(
              new ScimHttpError(500, 'the server failed to carry out this operation; its log says why'),
            ).body,
          };
        }
        if (result === 'wait') {
          next.push(i);
          continue;
        }
        results[i] = result;
        if (Number(result.status) >= 400) errors++;
      }
      if (next.length === waiting.length) {
        // Nothing moved: the references point at bulkIds that fail or do not exist (or at each other).
        for (const i of next) {
          const op = ops[i] as Record<string, unknown>;
          results[i] = {
            method: op.method,
            bulkId: op.bulkId,
            status: '409',
            response: errorResponse(
              new ScimHttpError(409, 'it refers to a bulkId that no operation of this request created', 'invalidValue'),
            ).body,
          };
          errors++;
        }
        break;
      }
      waiting = next;
    }
    return ok({ schemas: [BULK_RESPONSE], Operations: results.filter((r) => r !== undefined) });
  }

  private async bulkOperation(op: unknown, ids: Map<string, string>): Promise<Record<string, unknown> | 'wait'> {
    if (!isPlainObject(op))
      return {
        status: '400',
        response: errorResponse(badRequest('invalidSyntax', 'an operation must be an object')).body,
      };
    const method = typeof op.method === 'string' ? op.method.toUpperCase() : '';
    const bulkId = typeof op.bulkId === 'string' ? op.bulkId : undefined;
    const base = { method: op.method, ...(bulkId !== undefined ? { bulkId } : {}) };
    const fail = (e: ScimHttpError) => ({ ...base, status: String(e.status), response: errorResponse(e).body });
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(method))
      return fail(badRequest('invalidValue', `"method" must be POST, PUT, PATCH or DELETE`));
    if (typeof op.path !== 'string') return fail(badRequest('invalidValue', 'an operation needs a "path"'));
    if (method === 'POST' && bulkId === undefined)
      return fail(badRequest('invalidValue', 'a POST operation needs a "bulkId"'));
    let unresolved = false;
    const resolveRefs = (v: unknown, depth: number): unknown => {
      if (depth > 16) throw badRequest('invalidValue', '"data" nests deeper than any SCIM resource');
      if (typeof v === 'string' && v.startsWith('bulkId:')) {
        const id = ids.get(v.slice(7));
        if (id === undefined) unresolved = true;
        return id ?? v;
      }
      if (Array.isArray(v)) return v.map((x) => resolveRefs(x, depth + 1));
      if (isPlainObject(v))
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveRefs(x, depth + 1)]));
      return v;
    };
    const path = op.path.replace(/bulkId:([^/]+)/g, (m, ref: string) => ids.get(ref) ?? ((unresolved = true), m));
    let data: unknown;
    try {
      data = resolveRefs(op.data, 0);
    } catch (e) {
      if (e instanceof ScimHttpError) return fail(e);
      throw e;
    }
    if (unresolved) return 'wait';
    if (!/^\/(Users|Groups)(\/[^/]+)?$/.test(path) || /\/\.search$/.test(path))
      return fail(badRequest('invalidValue', `"${path}" is not a /Users or /Groups resource path`));
    const res = await this.handle({
      method,
      path,
      query: new URLSearchParams(),
      ifMatch: typeof op.version === 'string' ? op.version : undefined,
      body: data,
    });
    if (res.status >= 400) return { ...base, status: String(res.status), response: res.body };
    const resource = isPlainObject(res.body) ? res.body : undefined;
    if (method === 'POST' && bulkId !== undefined && resource) ids.set(bulkId, String(resource.id));
    const meta = resource && isPlainObject(resource.meta) ? resource.meta : undefined;
    return {
      ...base,
      ...(meta?.location
        ? { location: meta.location }
        : method === 'DELETE'
          ? { location: `${this.baseUrl}${path}` }
          : {}),
      ...(meta?.version ? { version: meta.version } : {}),
      status: String(res.status),
    };
  }
}

const DISCOVERY = new Set(['ServiceProviderConfig', 'ResourceTypes', 'Schemas']);

/** Attributes that live outside a stored resource's attrs: filtering on them needs the rendered view. */
const VIEW_ONLY = new Set(['id', 'meta', 'groups', 'members', 'schemas']);

/** attributes / excludedAttributes of a URL's query. */
function projectionOf(kind: ResourceKind, q: URLSearchParams): Projection {
  return parseProjection(kind, q.get('attributes') ?? undefined, q.get('excludedAttributes') ?? undefined);
}

function ok(body: unknown): ServiceResponse {
  return { status: 200, body };
}

function listResponse(resources: unknown[], total: number, startIndex: number): Record<string, unknown> {
  return {
    schemas: [SCHEMA.LIST_RESPONSE],
    totalResults: total,
    itemsPerPage: resources.length,
    startIndex,
    Resources: resources,
  };
}

function intParam(v: string | null, name: string): number | undefined {
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v.trim())) throw badRequest('invalidValue', `${name} must be an integer`);
  return Number(v);
}

/** If-Match / If-None-Match: `*`, or a list of (weak or strong) tags compared by their opaque value. */
function etagMatches(header: string, r: StoredResource): boolean {
  if (header.trim() === '*') return true;
  const current = String(r.version);
  return header.split(',').some((t) => t.trim().replace(/^W\//, '').replace(/^"|"$/g, '') === current);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function newId(): string {
  return crypto.randomUUID();
}

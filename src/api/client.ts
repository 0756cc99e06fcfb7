/**
 * The typed SCIM 2.0 client. Usable as a library:
 *
 *   const client = new ScimClient({ baseUrl, auth: { type: 'bearer', token } });
 *   for await (const user of client.users.list({ filter: eq('active', true) })) names.push(user.userName);
 */
import { ClientUsageError, ResponseError, ResponseValidationError, ScimError } from './errors.ts';
import { discover, pageSizeFor, type Capabilities } from './discovery.ts';
import type { Filter } from './filter.ts';
import { Transport, type TransportOptions } from './http.ts';
import { paginate, type PageInfo } from './paging.ts';
import type { PatchBuilder, PatchRequest } from './patch.ts';
import { SCHEMA, type ScimGroup, type ScimResource, type ScimUser } from './types.ts';

export interface CapabilityCache {
  load(): Capabilities | undefined;
  save(caps: Capabilities): void;
}

export interface ClientOptions extends TransportOptions {
  /** Known capabilities (skips discovery). */
  capabilities?: Capabilities;
  /** Where discovered capabilities are kept between runs. */
  capabilityCache?: CapabilityCache;
}

export interface ReadOptions {
  attributes?: string[];
  excludedAttributes?: string[];
}

export interface ListOptions extends ReadOptions {
  filter?: Filter | string;
  sortBy?: string;
  sortOrder?: 'ascending' | 'descending';
  /** Resources per request; defaults from the server's advertised limits. */
  pageSize?: number;
  /** Stop after this many. */
  limit?: number;
  /** Told after every page. */
  onPage?: (info: PageInfo) => void;
}

export interface WriteOptions {
  /** Sent as If-Match; a 412 then means the resource changed since it was read. */
  ifMatch?: string;
}

/** Beyond this many characters a query goes to POST /.search when the server takes it. */
const LONG_URL = 2000;

/**
 * The body of a POST or PUT with its `schemas` complete (RFC 7643 §3: required): the core
 * schema of the resource type and every extension URN the body has attributes under.
 * Records read from a CSV file, say, have no `schemas` of their own.
 */
export function withSchemas<R extends Record<string, unknown>>(resource: R, kind: 'User' | 'Group'): R {
  const core = kind === 'User' ? SCHEMA.USER : SCHEMA.GROUP;
  const given = Array.isArray(resource.schemas) ? resource.schemas.filter((s): s is string => typeof s === 'string') : [];
  const wanted = [core, ...Object.keys(resource).filter((k) => /^urn:/i.test(k))];
  const missing = wanted.filter((w) => !given.some((g) => g.toLowerCase() === w.toLowerCase()));
  return missing.length === 0 ? resource : { ...resource, schemas: [...given, ...missing] };
}

export class ResourceApi<T extends ScimResource> {
  constructor(
    private readonly client: ScimClient,
    readonly endpoint: string,
    readonly kind: 'User' | 'Group',
  ) {}

  private path(id: string): string {
    if (!id) throw new ClientUsageError(`a ${this.kind} id must not be empty`);
    return `${this.endpoint}/${encodeURIComponent(id)}`;
  }

  private resource(body: unknown, status: number): T {
    if (!body || typeof body !== 'object' || Array.isArray(body) || typeof (body as { id?: unknown }).id !== 'string') {
      throw new ResponseValidationError(status, [`expected a ${this.kind} resource with an "id"`]);
    }
    return body as T;
  }

  async get(id: string, options: ReadOptions = {}): Promise<T> {
    const res = await this.client.transport.request('GET', this.path(id), {
      query: { attributes: options.attributes?.join(','), excludedAttributes: options.excludedAttributes?.join(',') },
      expect: [200],
    });
    return this.resource(res.body, res.status);
  }

  /** Every resource (or every match of `filter`), fetched page by page as you iterate. */
  async *list(options: ListOptions = {}): AsyncGenerator<T, void, undefined> {
    const caps = await this.client.capabilities();
    const filter = options.filter === undefined ? undefined : String(options.filter);
    const base = {
      filter,
      attributes: options.attributes,
      excludedAttributes: options.excludedAttributes,
      sortBy: options.sortBy,
      sortOrder: options.sortOrder,
      pageSize: pageSizeFor(caps, options.pageSize),
      limit: options.limit,
      cursor: caps.pagination.cursor,
    };
    const longQuery = this.client.transport.url(this.endpoint, { filter, attributes: options.attributes?.join(',') }).length > LONG_URL;
    const post = longQuery && this.client.searchEndpointSupported !== false;
    if (!post) {
      yield* paginate(this.client.transport, this.endpoint, base, options.onPage) as AsyncGenerator<T, void, undefined>;
      return;
    }
    // Long query: try POST /.search; a server without it tells us at once, before anything was yielded.
    const iterator = paginate(this.client.transport, this.endpoint, { ...base, post: true }, options.onPage);
    let first: IteratorResult<ScimResource, void>;
    try {
      first = await iterator.next();
      this.client.searchEndpointSupported = true;
    } catch (e) {
      if (e instanceof ResponseError && [404, 405, 501].includes(e.status)) {
        this.client.searchEndpointSupported = false;
        yield* paginate(this.client.transport, this.endpoint, base, options.onPage) as AsyncGenerator<T, void, undefined>;
        return;
      }
      throw e;
    }
    if (first.done) return;
    yield first.value as T;
    yield* iterator as AsyncGenerator<T, void, undefined>;
  }

  /** Collects a listing into an array (bounded by `limit` when given). */
  async toArray(options: ListOptions = {}): Promise<T[]> {
    const out: T[] = [];
    for await (const r of this.list(options)) out.push(r);
    return out;
  }

  async create(resource: Omit<T, 'id'> & { id?: string }): Promise<T> {
    const res = await this.client.transport.request('POST', this.endpoint, { body: withSchemas(resource, this.kind), expect: [201, 200] });
    return this.resource(res.body, res.status);
  }

  async replace(id: string, resource: T | Omit<T, 'id'>, options: WriteOptions = {}): Promise<T> {
    const res = await this.client.transport.request('PUT', this.path(id), {
      body: withSchemas(resource, this.kind),
      expect: [200],
      headers: options.ifMatch ? { 'if-match': options.ifMatch } : undefined,
    });
    return this.resource(res.body, res.status);
  }

  /** PATCH; returns the resource when the server sends it (200), undefined on 204. */
  async patch(id: string, request: PatchRequest | PatchBuilder, options: WriteOptions = {}): Promise<T | undefined> {
    const body = 'build' in request ? request.build() : request;
    const res = await this.client.transport.request('PATCH', this.path(id), {
      body,
      expect: [200, 204],
      headers: options.ifMatch ? { 'if-match': options.ifMatch } : undefined,
    });
    return res.body === undefined ? undefined : this.resource(res.body, res.status);
  }

  /** DELETE; 204 or 200 (some servers send a body) both mean deleted. */
  async delete(id: string, options: WriteOptions = {}): Promise<void> {
    await this.client.transport.request('DELETE', this.path(id), {
      expect: [204, 200],
      headers: options.ifMatch ? { 'if-match': options.ifMatch } : undefined,
    });
  }
}

export class ScimClient {
  readonly transport: Transport;
  readonly users: ResourceApi<ScimUser>;
  readonly groups: ResourceApi<ScimGroup>;
  /** Learned at run time: whether POST /.search works on this server. */
  searchEndpointSupported: boolean | undefined;
  private caps: Promise<Capabilities> | undefined;
  private readonly cache: CapabilityCache | undefined;

  constructor(options: ClientOptions) {
    this.transport = new Transport(options);
    this.cache = options.capabilityCache;
    if (options.capabilities) this.caps = Promise.resolve(options.capabilities);
    this.users = new ResourceApi<ScimUser>(this, '/Users', 'User');
    this.groups = new ResourceApi<ScimGroup>(this, '/Groups', 'Group');
  }

  /** The server's capabilities: from memory, the cache, or discovery (in that order). */
  /** Ends the client: requests in flight are aborted and later ones fail at once. */
  close(): void {
    this.transport.close();
  }

  capabilities(): Promise<Capabilities> {
    if (!this.caps) {
      const cached = this.cache?.load();
      this.caps = cached ? Promise.resolve(cached) : this.discover();
    }
    return this.caps;
  }

  /** Runs discovery now, bypassing any cache, and remembers the result. */
  discover(): Promise<Capabilities> {
    const run = discover(this.transport).then((caps) => {
      this.cache?.save(caps);
      return caps;
    });
    this.caps = run;
    // A failed discovery must not poison later calls.
    run.catch(() => {
      if (this.caps === run) this.caps = undefined;
    });
    return run;
  }
}

export { ScimError };

/**
 * The typed SCIM 2.0 client. Usable as a library:
 *
 *   const client = new ScimClient({ baseUrl, auth: { type: 'bearer', token } });
 *   for await (const user of client.users.list({ filter: eq('active', true) })) names.push(user.userName);
 */
import {
  ClientUsageError,
  isFilterRejection,
  mayHaveActed,
  ResponseError,
  ResponseValidationError,
  ScimError,
} from './errors.ts';
import { discover, pageSizeFor, type Capabilities } from './discovery.ts';
import { eq, type Filter } from './filter.ts';
import { compileFilter, registryContext, type CompiledFilter } from './filter-eval.ts';
import { Transport, type TransportOptions } from './http.ts';
import {
  emptyLearned,
  filterFeatures,
  filterOnClient,
  filterTrusted,
  suspectFeatures,
  type FilterVerdict,
  type Learned,
} from './learned.ts';
import { paginate, type PageInfo } from './paging.ts';
import type { PatchBuilder, PatchRequest } from './patch.ts';
import { SchemaRegistry } from './schema.ts';
import { SCHEMA, schemasFor, type ScimGroup, type ScimResource, type ScimUser } from './types.ts';

export interface CapabilityCache {
  load(): Capabilities | undefined;
  save(caps: Capabilities): void;
  /** What was learned of the server, however old the discovery around it. */
  loadLearned?(): Learned | undefined;
}

export interface ClientOptions extends TransportOptions {
  /** Known capabilities (skips discovery). */
  capabilities?: Capabilities;
  /** Where discovered capabilities are kept between runs. */
  capabilityCache?: CapabilityCache;
  /** Told once per run of each way scimctl adapts to what the server does (for stderr). */
  onAdapt?: (message: string) => void;
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
  /**
   * An empty answer to a filter not yet known to work is confirmed by a listing (some servers
   * answer filters they cannot evaluate with an empty list). Default true; false where the
   * caller confirms emptiness itself.
   */
  verifyEmpty?: boolean;
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
  const given = Array.isArray(resource.schemas)
    ? resource.schemas.filter((s): s is string => typeof s === 'string')
    : [];
  const wanted = schemasFor(core, resource);
  const missing = wanted.filter((w) => !given.some((g) => g.toLowerCase() === w.toLowerCase()));
  return missing.length === 0 ? resource : { ...resource, schemas: [...given, ...missing] };
}

/** Asked-for attributes plus those the filter reads (to judge answers here), or none asked for. */
function withFilterAttributes(attributes: string[] | undefined, local: CompiledFilter): string[] | undefined {
  if (!attributes) return undefined;
  const have = new Set(attributes.map((a) => a.toLowerCase()));
  return [...attributes, ...[...local.attributes].filter((a) => !have.has(a.toLowerCase()))];
}

/** Excluded attributes less those the filter reads (an answer without them could not be judged). */
function withoutFilterAttributes(excluded: string[] | undefined, local: CompiledFilter): string[] | undefined {
  return excluded?.filter((a) => !local.attributes.has(a.toLowerCase()));
}

/**
 * A PATCH that has the same effect however often it is sent (so a 5xx may be retried):
 * replace and remove, and add of group members (adding a member twice leaves one).
 */
export function idempotentPatch(request: PatchRequest): boolean {
  return request.Operations.every((op) => {
    const kind = String(op.op).toLowerCase();
    return (
      kind === 'replace' ||
      kind === 'remove' ||
      (kind === 'add' && typeof op.path === 'string' && op.path.toLowerCase() === 'members')
    );
  });
}

export class ResourceApi<T extends ScimResource> {
  constructor(
    readonly client: ScimClient,
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

  /**
   * Every resource (or every match of `filter`), fetched page by page as you iterate. A filter
   * the server cannot answer (discovery says so, it refused one like it, or answered one wrongly)
   * is evaluated here over a listing; an answer not yet known to be right is checked here too.
   */
  async *list(options: ListOptions = {}): AsyncGenerator<T, void, undefined> {
    const caps = await this.client.capabilities();
    const filter = options.filter === undefined ? undefined : String(options.filter);
    const local = filter === undefined ? undefined : this.compile(caps, filter);
    if (filter === undefined || local === undefined) {
      yield* this.listFromServer(caps, options, filter);
      return;
    }
    const features = filterFeatures(filter);
    const known = caps.learned.filters[this.endpoint];
    if (filterOnClient(features, known, caps.filter.supported)) {
      const why = caps.filter.supported
        ? 'it refused or answered wrongly filters like it before'
        : 'its ServiceProviderConfig says filter.supported=false';
      this.client.say(
        `filter:${this.endpoint}`,
        `${this.endpoint}: the server cannot be trusted with filters like ${filter} ` +
          `(${why}); listing and filtering on this side`,
      );
      yield* this.filterHere(caps, options, local);
      return;
    }
    if (filterTrusted(features, known)) {
      yield* this.listFromServer(caps, options, filter);
      return;
    }
    // Not yet known to work: every answer is checked here, and an empty one confirmed when asked.
    let kept = 0;
    let wrong = 0;
    const limit = options.limit ?? Infinity;
    const attributes = withFilterAttributes(options.attributes, local);
    const excludedAttributes = withoutFilterAttributes(options.excludedAttributes, local);
    // No limit for the server (answers it sends that do not match are skipped), but pages of that size.
    const pageSize = options.pageSize ?? options.limit;
    let rejection: unknown;
    try {
      for await (const r of this.listFromServer(
        caps,
        { ...options, attributes, excludedAttributes, pageSize, limit: undefined },
        filter,
      )) {
        if (!local.test(r)) {
          wrong++;
          continue;
        }
        kept++;
        yield r;
        if (kept >= limit) return;
      }
    } catch (e) {
      if (kept > 0 || wrong > 0 || !isFilterRejection(e)) throw e;
      rejection = e;
    }
    if (rejection !== undefined) {
      // Learned only once a listing works: a server that fails everything has refused nothing.
      const detail =
        rejection instanceof ScimError && rejection.detail ? rejection.detail : (rejection as Error).message;
      const learn = () =>
        this.client.learnFilter(
          this.endpoint,
          suspectFeatures(features, known),
          'rejected',
          `the server refused a filter (${detail}: ${filter})`,
        );
      let told = false;
      for await (const r of this.filterHere(caps, options, local)) {
        if (!told) await learn();
        told = true;
        yield r;
      }
      if (!told) await learn();
      return;
    }
    if (wrong > 0) {
      await this.client.learnFilter(
        this.endpoint,
        suspectFeatures(features, known),
        'wrong',
        `the server answered a filter with ${wrong} resource(s) that do not match it (${filter})`,
      );
    } else if (kept > 0) {
      await this.client.learnFilter(
        this.endpoint,
        features.filter((f) => known?.[f] === undefined),
        'works',
      );
    } else if (options.verifyEmpty !== false) {
      for await (const r of this.filterHere(caps, options, local)) {
        if (kept === 0)
          await this.client.learnFilter(
            this.endpoint,
            suspectFeatures(features, known),
            'wrong',
            `the server answered a filter with nothing, although a listing has a match (${filter})`,
          );
        kept++;
        yield r;
      }
    }
  }

  private compile(caps: Capabilities, filter: string): CompiledFilter | undefined {
    const core = this.kind === 'User' ? SCHEMA.USER : SCHEMA.GROUP;
    const type = caps.resourceTypes.find((t) => t.schema.toLowerCase() === core.toLowerCase());
    const extensions = type ? type.schemaExtensions.map((e) => e.schema) : [];
    if (this.kind === 'User' && !extensions.some((e) => e.toLowerCase() === SCHEMA.ENTERPRISE_USER.toLowerCase()))
      extensions.push(SCHEMA.ENTERPRISE_USER);
    try {
      // Strict: a path the target's schemas do not define is one we cannot judge, not a non-match.
      return compileFilter(
        filter,
        registryContext((this.registry ??= new SchemaRegistry(caps.schemas)), core, extensions, true),
      );
    } catch {
      // A filter we cannot read or judge ourselves goes to the server as it is.
      return undefined;
    }
  }
  private registry: SchemaRegistry | undefined;

  /** Everything listed (no filter sent), kept when `local` matches, up to the limit. */
  private async *filterHere(
    caps: Capabilities,
    options: ListOptions,
    local: CompiledFilter,
  ): AsyncGenerator<T, void, undefined> {
    let kept = 0;
    const limit = options.limit ?? Infinity;
    const attributes = withFilterAttributes(options.attributes, local);
    const excludedAttributes = withoutFilterAttributes(options.excludedAttributes, local);
    for await (const r of this.listFromServer(
      caps,
      { ...options, attributes, excludedAttributes, limit: undefined },
      undefined,
    )) {
      if (!local.test(r)) continue;
      yield r;
      if (++kept >= limit) return;
    }
  }

  private async *listFromServer(
    caps: Capabilities,
    options: ListOptions,
    filter: string | undefined,
  ): AsyncGenerator<T, void, undefined> {
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
    const longQuery =
      this.client.transport.url(this.endpoint, { filter, attributes: options.attributes?.join(',') }).length > LONG_URL;
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
        yield* paginate(this.client.transport, this.endpoint, base, options.onPage) as AsyncGenerator<
          T,
          void,
          undefined
        >;
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

  /**
   * POST. Never repeated blindly: after a 5xx, a timeout or a broken connection the server may
   * have created it anyway, so it is looked up (userName, then externalId; a group by
   * displayName) before another try. A 201 without an id is resolved by the same look-up.
   */
  async create(resource: Omit<T, 'id'> & { id?: string }, options: { lookupFirst?: boolean } = {}): Promise<T> {
    const body = withSchemas(resource, this.kind);
    // An earlier attempt (a Bulk request that failed as a whole, say) may have made it already.
    if (options.lookupFirst) {
      const found = await this.findCreated(resource);
      if (found) return found;
    }
    for (let attempt = 0; ; attempt++) {
      let res;
      try {
        res = await this.client.transport.request('POST', this.endpoint, { body, expect: [201, 200] });
      } catch (e) {
        // A 409 after an attempt that may have been carried out (a timed-out POST still running
        // on the server when it was looked up): the "existing" resource may be that attempt's.
        if ((options.lookupFirst || attempt > 0) && e instanceof ResponseError && e.status === 409) {
          const found = await this.findCreated(resource);
          // Only one that is this create's by its externalId too, when it has one: never someone else's.
          const externalId = (resource as { externalId?: unknown }).externalId;
          if (
            found &&
            (typeof externalId !== 'string' || (found as { externalId?: unknown }).externalId === externalId)
          ) {
            this.client.say(
              `create-acted:${this.endpoint}`,
              `${this.endpoint}: a create repeated after an uncertain attempt met 409; the ` +
                `resource that attempt made was found by name`,
            );
            return found;
          }
          throw e;
        }
        if (!mayHaveActed(e)) throw e;
        const found = await this.findCreated(resource);
        if (found) {
          this.client.say(
            `create-acted:${this.endpoint}`,
            `${this.endpoint}: a create answered with "${(e as Error).message}" had been ` +
              `carried out (found by name afterwards); such answers are checked the same way`,
          );
          return found;
        }
        if (attempt >= this.client.transport.retries) throw e;
        await this.client.transport.retryPause('POST', this.endpoint, attempt, `${(e as Error).message}; not created`);
        continue;
      }
      const id = (res.body as { id?: unknown } | undefined)?.id;
      if (typeof id === 'string' && id !== '' && id !== 'undefined') return this.resource(res.body, res.status);
      const found = await this.findCreated(resource);
      if (!found)
        throw new ResponseValidationError(res.status, [
          `expected the new ${this.kind} with an "id", and none was found by name afterwards`,
        ]);
      if (!this.client.learnedNow()?.createWithoutId) {
        await this.client.learn((l) => (l.createWithoutId = true));
        this.client.say(
          `create-no-id:${this.endpoint}`,
          `${this.endpoint}: the server answers a create without the new resource's id; scimctl looks it up by name`,
        );
      }
      return found;
    }
  }

  /** The resource a create made, found by what names it. */
  private async findCreated(resource: Record<string, unknown>): Promise<T | undefined> {
    const keys: Array<[string, unknown]> =
      this.kind === 'User'
        ? [
            ['userName', resource.userName],
            ['externalId', resource.externalId],
          ]
        : [['displayName', resource.displayName]];
    for (const [attr, value] of keys) {
      if (typeof value !== 'string' || value === '') continue;
      const found = await this.toArray({ filter: eq(attr, value), limit: 2, verifyEmpty: true });
      if (found.length === 1) return found[0];
    }
    return undefined;
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
      idempotent: idempotentPatch(body),
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
  private current: Capabilities | undefined;
  private readonly cache: CapabilityCache | undefined;
  private readonly onAdapt: ((message: string) => void) | undefined;
  private readonly said = new Set<string>();

  constructor(options: ClientOptions) {
    const learnedLimit =
      options.capabilities?.learned?.writeLimit ?? options.capabilityCache?.loadLearned?.()?.writeLimit;
    this.onAdapt = options.onAdapt;
    this.transport = new Transport({
      ...options,
      writeLimit: options.writeLimit ?? learnedLimit,
      onWriteLimit: (limit, reason) => {
        options.onWriteLimit?.(limit, reason);
        this.say(
          'write-limit',
          `the server failed writes sent at once (${reason}); sending fewer at a time ` +
            `(now at most ${limit}, growing back while it keeps up)`,
        );
        void this.learn((l) => (l.writeLimit = Math.min(l.writeLimit ?? Infinity, limit)));
      },
    });
    this.cache = options.capabilityCache;
    if (options.capabilities) {
      options.capabilities.learned ??= emptyLearned();
      this.caps = Promise.resolve(this.remember(options.capabilities));
    }
    this.users = new ResourceApi<ScimUser>(this, '/Users', 'User');
    this.groups = new ResourceApi<ScimGroup>(this, '/Groups', 'Group');
  }

  /** Ends the client: requests in flight are aborted and later ones fail at once. */
  close(): void {
    this.transport.close();
  }

  private remember(caps: Capabilities): Capabilities {
    this.current = caps;
    return caps;
  }

  /** The server's capabilities: from memory, the cache, or discovery (in that order). */
  capabilities(): Promise<Capabilities> {
    if (!this.caps) {
      const cached = this.cache?.load();
      this.caps = cached ? Promise.resolve(this.remember(cached)) : this.discover();
    }
    return this.caps;
  }

  /**
   * Runs discovery now, bypassing any cache, and remembers the result. What was learned of
   * the server before is kept, unless `forget` (a compatibility test learns it all again).
   */
  discover(options: { forget?: boolean } = {}): Promise<Capabilities> {
    const run = discover(this.transport).then((caps) => {
      if (!options.forget) caps.learned = this.cache?.loadLearned?.() ?? this.current?.learned ?? caps.learned;
      this.cache?.save(caps);
      return this.remember(caps);
    });
    this.caps = run;
    // A failed discovery must not poison later calls.
    run.catch(() => {
      if (this.caps === run) this.caps = undefined;
    });
    return run;
  }

  /** What was learned so far, when capabilities are already known (no request made). */
  learnedNow(): Learned | undefined {
    return this.current?.learned;
  }

  /** Records something learned of the server, for this run and (through the cache) the next ones. */
  async learn(change: (learned: Learned) => void): Promise<void> {
    const caps = await this.capabilities();
    change(caps.learned);
    this.cache?.save(caps);
  }

  /** Records filter features' verdicts; `message` (said once) tells the admin what changes. */
  async learnFilter(
    endpoint: string,
    features: readonly string[],
    verdict: FilterVerdict,
    message?: string,
  ): Promise<void> {
    if (features.length === 0) return;
    await this.learn((l) => {
      const known = (l.filters[endpoint] ??= {});
      for (const f of features) known[f] = verdict;
    });
    if (message)
      this.say(
        `filter:${endpoint}`,
        `${endpoint}: ${message}; filters with ${features.join(', ')} are evaluated on this side from now on`,
      );
  }

  /** Tells the admin, once per run, how scimctl adapts to this server. */
  say(key: string, message: string): void {
    if (this.said.has(key)) return;
    this.said.add(key);
    this.onAdapt?.(this.transport.redact(message));
  }
}

export { ScimError };

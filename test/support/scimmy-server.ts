/**
 * A third-party SCIM 2.0 service provider for scimctl's end-to-end tests and benchmarks.
 *
 * Built on scimmy (protocol library) + scimmy-routers (express endpoints) with an in-memory store.
 * The host fixes, in its own layer, the scimmy 1.3.5 / scimmy-routers 1.3.2 behaviour that would
 * make it an unfair or unusably slow test target (see the notes in the functions below):
 *   - it filters, sorts and pages in its own store and hands scimmy only the requested page,
 *     with the real totalResults and itemsPerPage, capped at `maxPageSize`;
 *   - filters are parsed and matched by scimmy's own Filter, never by scimctl's code; scimmy-filter.ts
 *     handles its known departures from RFC 7644 (negated groups, caseExact, URN-qualified paths,
 *     attributes some resources lack), rewriting or refusing with 400 invalidFilter;
 *   - startIndex/count work under express 5 (whose req.query getter re-parses on every access);
 *   - scimmy is a process-wide singleton, so requests from several servers in one process are
 *     serialised through it, and each server's ServiceProviderConfig is applied per request.
 * Two options change what the server offers (both leave everything else as it is):
 *   - `patch: false` (--no-patch): PATCH is not advertised and answers 501 (PUT still works);
 *   - `etag: true` (--etag): ETag headers carrying meta.version, If-Match (412 when stale) on
 *     PUT/PATCH/DELETE, and If-None-Match (304) on GET by id.
 *
 * Run directly:
 *   node --import tsx test/support/scimmy-server.ts --port 8080 --users 500 --groups 20 --token demo-token [--no-patch]
 * [--etag]
 */
import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';
import { InvalidFilter, compileFilter, compileSort } from './scimmy-filter.ts';

// ---------------------------------------------------------------------------------------------
// Public API

export interface ScimmyServerOptions {
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** bearer token required on every route incl. discovery; default 'test-token' */
  token?: string;
  /** seed count, default 0 */
  users?: number;
  /** seed groups, default 0 */
  groups?: number;
  /** server caps page size to this (simulates servers capping count), default 200 */
  maxPageSize?: number;
  /**
   * PATCH support, default true. When false, ServiceProviderConfig says patch.supported: false and every
   * PATCH to /Users… or /Groups… answers 501 (SCIM error, detail "PATCH is not supported") without touching
   * the store; PUT keeps working.
   */
  patch?: boolean;
  /**
   * ETag support, default false. When true, ServiceProviderConfig says etag.supported: true; single-resource
   * responses (GET by id, POST, PUT, PATCH) carry `ETag: <meta.version>`; PUT/PATCH/DELETE on /Users/{id} or
   * /Groups/{id} with an If-Match that does not match the current version (opaque tags compared, `*` matches)
   * answer 412 (detail "resource changed") and change nothing; GET by id answers 304 when If-None-Match matches.
   * When false, If-Match is ignored (Express still adds its own weak ETag to responses, as before).
   */
  etag?: boolean;
}

export interface Fault {
  method?: string;
  /** matched against req path+query, e.g. /scim/v2/Users?startIndex=1&count=200 */
  path: RegExp;
  status: number;
  /** default: a SCIM error JSON body (none for 204/304) */
  body?: string;
  /** default: application/scim+json for the default body, else sniffed (JSON, HTML or text/plain) */
  contentType?: string;
  headers?: Record<string, string>;
  /** how many matching requests fail, default 1 (Infinity for all) */
  times?: number;
  /** let this many matching requests pass first, default 0 */
  skip?: number;
  /** never answer (for timeout tests) */
  hang?: boolean;
}

export interface RecordedRequest {
  method: string;
  /** path + query, e.g. /scim/v2/Users?count=200 */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** the parsed JSON body, when the request had one (read lazily: it is parsed by the SCIM router) */
  body?: unknown;
  /** true when an injected fault answered (or swallowed) the request */
  faulted?: boolean;
}

export interface ScimmyServer {
  /** base url e.g. http://127.0.0.1:PORT/scim/v2 */
  url: string;
  port: number;
  requests: RecordedRequest[];
  addFault(f: Fault): void;
  clearFaults(): void;
  /** Live store, keyed by id. Mutations through the Map API (set/delete/clear) keep the host's indexes in step;
   * after editing a stored object in place, set() it again so cached filter results are invalidated. */
  users: Map<string, any>;
  groups: Map<string, any>;
  /**
   * Simulates an edit made by someone else: gives the user or group with this id a new meta.version and
   * lastModified (through the store's own modification path), so ETags read before are stale.
   * Throws when there is no user or group with that id.
   */
  bump(id: string): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Constants

const BASE_PATH = '/scim/v2';
const DEFAULT_COUNT = 20; // scimmy's ListResponse default page size
const ENTERPRISE_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const ERROR_URN = 'urn:ietf:params:scim:api:messages:2.0:Error';
const SCIM_JSON = 'application/scim+json';

type ScimType = 'uniqueness' | 'invalidFilter' | 'invalidValue' | 'invalidSyntax';

function scimError(status: number, scimType: ScimType | undefined, message: string): Error {
  // scimmy omits scimType from the error message when it is falsy
  return new SCIMMY.Types.Error(status, scimType ?? '', message);
}

const PRECONDITION_DETAIL = 'resource changed';

/** A SCIM error answered by the host itself, outside scimmy (no scimType). */
function sendScimError(res: Response, status: number, detail: string): void {
  res.status(status).setHeader('Content-Type', SCIM_JSON);
  res.end(JSON.stringify({ schemas: [ERROR_URN], status: String(status), detail }));
}

// ---------------------------------------------------------------------------------------------
// Entity tags (meta.version is a weak tag such as W/"7")

/** The opaque part of an entity tag: W/"7" and "7" both give 7 (an unquoted value is taken as is). */
function opaqueTag(tag: string): string {
  const match = /^\s*(?:W\/)?"([^"]*)"\s*$/i.exec(tag);
  return match ? match[1]! : tag.trim();
}

/**
 * Whether an If-Match / If-None-Match header matches the current version: `*`, or any listed tag with the
 * same opaque part (weak and strong forms are not told apart; SCIM versions are weak tags anyway).
 */
function tagListMatches(header: string, current: string): boolean {
  const want = opaqueTag(current);
  for (const [token] of header.matchAll(/\*|(?:W\/)?"[^"]*"|[^\s,]+/gi)) {
    if (token === '*' || opaqueTag(token) === want) return true;
  }
  return false;
}

/** A request header as one string (node joins repeated If-Match lines with ", "); undefined when absent or blank. */
function headerValue(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  const text = Array.isArray(value) ? value.join(', ') : value;
  return text?.trim() ? text : undefined;
}

// ---------------------------------------------------------------------------------------------
// Stored records

interface Meta {
  resourceType: 'User' | 'Group';
  created: string;
  lastModified: string;
  version: string;
}

interface StoredUser {
  id: string;
  userName: string;
  displayName?: string;
  meta: Meta;
  [attribute: string]: unknown;
}

interface StoredMember {
  value: string;
  display?: string;
  type: 'User' | 'Group';
}

interface StoredGroup {
  id: string;
  displayName: string;
  members?: StoredMember[];
  meta: Meta;
  [attribute: string]: unknown;
}

interface MapHooks<V> {
  onSet?(id: string, prev: V | undefined, next: V): void;
  onDelete?(id: string, prev: V): void;
  onClear?(): void;
}

/** A Map that counts mutations, keeps insertion order as an array (O(page) slicing), and runs index hooks. */
class TrackedMap<V> extends Map<string, V> {
  version = 0;
  private order: string[] = [];
  private orderDirty = false;
  private hooks: MapHooks<V> = {};

  setHooks(hooks: MapHooks<V>): void {
    this.hooks = hooks;
  }

  override set(id: string, value: V): this {
    const prev = super.get(id);
    if (!super.has(id)) this.order?.push(id);
    super.set(id, value);
    this.version++;
    this.hooks?.onSet?.(id, prev, value);
    return this;
  }

  override delete(id: string): boolean {
    if (!super.has(id)) return false;
    const prev = super.get(id) as V;
    super.delete(id);
    this.version++;
    this.orderDirty = true;
    this.hooks.onDelete?.(id, prev);
    return true;
  }

  override clear(): void {
    super.clear();
    this.order = [];
    this.orderDirty = false;
    this.version++;
    this.hooks.onClear?.();
  }

  /** Ids in insertion order. Do not mutate the returned array. */
  ids(): readonly string[] {
    if (this.orderDirty) {
      this.order = [...super.keys()];
      this.orderDirty = false;
    }
    return this.order;
  }
}

type Kind = 'User' | 'Group';

// ---------------------------------------------------------------------------------------------
// The per-server store

class HostStore {
  readonly users = new TrackedMap<StoredUser>();
  readonly groups = new TrackedMap<StoredGroup>();
  /** lower-cased userName -> id */
  readonly userNames = new Map<string, string>();
  /** user id -> ids of the groups it is a direct member of */
  readonly memberOf = new Map<string, Set<string>>();
  private readonly queryCache = new Map<string, { version: string; ids: string[] }>();
  private revision = 0;
  baseUrl = '';
  /**
   * The If-Match of the SCIM request being handled (scimmy requests are serialised, so there is at most one).
   * It is checked before the request reaches scimmy and again when the write happens, in case the resource
   * was changed in between (bump() or the Map API while the request body was still arriving).
   */
  precondition: { kind: Kind; id: string; ifMatch: string } | undefined;

  constructor(
    readonly maxPageSize: number,
    readonly features: { patch: boolean; etag: boolean } = { patch: true, etag: false },
  ) {
    this.users.setHooks({
      onSet: (id, prev, next) => {
        if (prev && prev.userName.toLowerCase() !== next.userName.toLowerCase()) this.forgetUserName(prev.userName, id);
        this.userNames.set(next.userName.toLowerCase(), id);
      },
      onDelete: (id, prev) => {
        this.forgetUserName(prev.userName, id);
        // Remove the user from every group it was in
        for (const gid of [...(this.memberOf.get(id) ?? [])]) {
          const group = this.groups.get(gid);
          if (group)
            this.groups.set(
              gid,
              this.touch({ ...group, members: (group.members ?? []).filter((m) => m.value !== id) }),
            );
        }
        this.memberOf.delete(id);
      },
      onClear: () => {
        this.userNames.clear();
        for (const [gid, group] of this.groups) {
          const members = (group.members ?? []).filter((m) => m.type !== 'User');
          if (members.length !== (group.members ?? []).length) this.groups.set(gid, this.touch({ ...group, members }));
        }
        this.memberOf.clear();
      },
    });
    this.groups.setHooks({
      onSet: (id, prev, next) => {
        for (const m of prev?.members ?? []) this.memberOf.get(m.value)?.delete(id);
        for (const m of next.members ?? []) {
          let set = this.memberOf.get(m.value);
          if (!set) this.memberOf.set(m.value, (set = new Set()));
          set.add(id);
        }
      },
      onDelete: (id, prev) => {
        for (const m of prev.members ?? []) this.memberOf.get(m.value)?.delete(id);
        // Nested memberships in other groups
        for (const [gid, group] of this.groups) {
          if (group.members?.some((m) => m.value === id)) {
            this.groups.set(gid, this.touch({ ...group, members: group.members.filter((m) => m.value !== id) }));
          }
        }
      },
      onClear: () => this.memberOf.clear(),
    });
  }

  private forgetUserName(userName: string, id: string): void {
    const key = userName.toLowerCase();
    if (this.userNames.get(key) === id) this.userNames.delete(key);
  }

  nextVersion(): string {
    return `W/"${++this.revision}"`;
  }

  /** Copy of a record with a new lastModified and version. */
  touch<T extends { meta: Meta }>(record: T, now = new Date().toISOString()): T {
    return { ...record, meta: { ...record.meta, lastModified: now, version: this.nextVersion() } };
  }

  newMeta(resourceType: Kind, now = new Date().toISOString()): Meta {
    return { resourceType, created: now, lastModified: now, version: this.nextVersion() };
  }

  /** Throws the 412 when the request's If-Match no longer matches the resource it is about to change. */
  checkPrecondition(kind: Kind, id: string): void {
    const pending = this.precondition;
    if (!pending || pending.kind !== kind || pending.id !== id) return;
    const current = this.map(kind).get(id);
    if (current && !tagListMatches(pending.ifMatch, current.meta.version))
      throw scimError(412, undefined, PRECONDITION_DETAIL);
  }

  /** The user as returned: the stored record plus the computed `groups` attribute. */
  userView(user: StoredUser): Record<string, unknown> {
    const gids = this.memberOf.get(user.id);
    if (!gids || gids.size === 0) return user;
    const groups: Array<Record<string, string>> = [];
    for (const gid of gids) {
      const group = this.groups.get(gid);
      if (group)
        groups.push({ value: gid, $ref: `${this.baseUrl}/Groups/${gid}`, display: group.displayName, type: 'direct' });
    }
    return { ...user, groups };
  }

  /** The group as returned: members with current display names and $ref. */
  groupView(group: StoredGroup): Record<string, unknown> {
    if (!group.members) return group;
    return {
      ...group,
      members: group.members.map((m) => ({
        value: m.value,
        $ref: `${this.baseUrl}/${m.type === 'User' ? 'Users' : 'Groups'}/${m.value}`,
        display: this.memberDisplay(m.value, m.type) ?? m.display,
        type: m.type,
      })),
    };
  }

  memberDisplay(id: string, type: 'User' | 'Group'): string | undefined {
    if (type === 'User') {
      const u = this.users.get(id);
      return u ? (u.displayName ?? u.userName) : undefined;
    }
    return this.groups.get(id)?.displayName;
  }

  view(kind: Kind, record: StoredUser | StoredGroup): Record<string, unknown> {
    return kind === 'User' ? this.userView(record as StoredUser) : this.groupView(record as StoredGroup);
  }

  map(kind: Kind): TrackedMap<StoredUser> | TrackedMap<StoredGroup> {
    return kind === 'User' ? this.users : this.groups;
  }

  /**
   * Ids matching a filter, in the requested order. With neither filter nor sortBy this is the insertion-order
   * array itself (no per-request work); otherwise the result is cached until the store changes, so paging
   * through a filtered or sorted list costs one pass over the store, not one per page.
   */
  queryIds(
    kind: Kind,
    filter: string | undefined,
    sortBy: string | undefined,
    sortOrder: string | undefined,
  ): readonly string[] {
    const map = this.map(kind) as TrackedMap<StoredUser | StoredGroup>;
    if (!filter && !sortBy) return map.ids();

    const version = `${this.users.version}.${this.groups.version}`;
    const key = `${kind}\u0000${filter ?? ''}\u0000${sortBy ?? ''}\u0000${sortOrder ?? ''}`;
    const hit = this.queryCache.get(key);
    if (hit && hit.version === version) return hit.ids;

    const computed = kind === 'User' ? 'groups' : 'members';
    let ids = [...map.ids()];
    try {
      if (filter) {
        const compiled = compileFilter(filter, kind);
        const useView = compiled.attributes.has(computed);
        ids = ids.filter((id) => {
          const record = map.get(id)!;
          return compiled.test(useView ? this.view(kind, record) : record);
        });
      }
      if (sortBy) {
        const sort = compileSort(sortBy, kind);
        const useView = sort.attributes.has(computed);
        const keyed = ids.map((id, index) => {
          const record = map.get(id)!;
          return { id, index, key: sort.key(useView ? this.view(kind, record) : record) };
        });
        keyed.sort((a, b) => sort.compare(a.key, b.key) || a.index - b.index);
        ids = keyed.map((k) => k.id);
        if (sortOrder === 'descending') ids.reverse();
      }
    } catch (ex) {
      if (ex instanceof InvalidFilter) throw scimError(400, 'invalidFilter', ex.message);
      throw ex;
    }

    if (this.queryCache.size >= 16) this.queryCache.delete(this.queryCache.keys().next().value!);
    this.queryCache.set(key, { version, ids });
    return ids;
  }
}

// ---------------------------------------------------------------------------------------------
// scimmy handlers (declared once per process; they find their server's store in the request context)

interface Constraints {
  sortBy?: string;
  sortOrder?: string;
  startIndex?: number;
  count?: number;
}

function storeOf(ctx: unknown): HostStore {
  if (ctx instanceof HostStore) return ctx;
  throw scimError(500, undefined, 'SCIM request context is missing the host store');
}

/**
 * scimmy wraps whatever egress returns in a ListResponse, which:
 *   - takes totalResults and itemsPerPage from resource.constraints (so we overwrite them there);
 *   - then drops the first startIndex-1 resources when `length >= startIndex` and
 *     `totalResults !== length + startIndex - 1` (it assumes it was given the whole store), and
 *     truncates to itemsPerPage.
 * For a page that is already sliced, that heuristic eats the head of pages with 2 <= startIndex <= page
 * length. Prefix the page with startIndex-1 throw-away copies (and, in the one case where that would
 * not trigger the slice, one trailing copy that the truncation drops) so that exactly our page survives.
 * The padding is at most one page long, so a request stays O(page).
 */
function padForListResponse<T>(page: T[], startIndex: number, total: number): T[] {
  const n = page.length;
  const dropped = (front: number, back: number): number => {
    const length = front + n + back;
    return length >= startIndex && total !== length + startIndex - 1 ? startIndex - 1 : 0;
  };
  if (n === 0 || dropped(0, 0) === 0) return page;
  const filler = page[0]!;
  const front = new Array<T>(startIndex - 1).fill(filler);
  if (dropped(front.length, 0) === front.length) return [...front, ...page];
  return [...front, ...page, filler];
}

/**
 * Whether the request's attributes/excludedAttributes keep a computed attribute (Users' `groups`, Groups'
 * `members`). scimmy turns `attributes=a,b` into the filter "a pr and b pr" and `excludedAttributes=a` into
 * "a np", and drops what was not asked for only after coercing it: leaving 100,000 memberships out of the
 * view when they are not wanted saves seconds. When in doubt, keep the attribute.
 */
function wantsComputed(projection: string | undefined, name: string): boolean {
  if (!projection) return true;
  const terms = projection.split(/\s+and\s+/i).map((term) => term.trim().split(/\s+/));
  const named = (path: string): boolean => {
    const p = path.toLowerCase();
    return p === name || p.startsWith(`${name}.`) || p.endsWith(`:${name}`) || p.includes(`:${name}.`);
  };
  if (terms.every((t) => t.length === 2 && t[1]!.toLowerCase() === 'np'))
    return !terms.some((t) => t[0]!.toLowerCase() === name || t[0]!.toLowerCase().endsWith(`:${name}`));
  if (terms.every((t) => t.length === 2 && t[1]!.toLowerCase() === 'pr')) return terms.some((t) => named(t[0]!));
  return true;
}

function makeEgress(kind: Kind) {
  return (resource: SCIMMY.Types.Resource, ctx: unknown): Record<string, unknown> | Array<Record<string, unknown>> => {
    const store = storeOf(ctx);
    const map = store.map(kind) as TrackedMap<StoredUser | StoredGroup>;
    const computed = kind === 'User' ? 'groups' : 'members';
    const view = wantsComputed(resource.attributes?.expression, computed)
      ? (record: StoredUser | StoredGroup) => store.view(kind, record)
      : (record: StoredUser | StoredGroup): Record<string, unknown> => {
          const { [computed]: _omitted, ...rest } = record;
          return rest;
        };
    if (resource.id) {
      const record = map.get(resource.id);
      if (!record) throw scimError(404, undefined, `Resource ${resource.id} not found`);
      return view(record);
    }

    const constraints: Constraints = resource.constraints ?? {};
    const startIndex = Math.max(1, constraints.startIndex ?? 1);
    const size = Math.max(0, Math.min(constraints.count ?? DEFAULT_COUNT, store.maxPageSize));
    const ids = store.queryIds(kind, resource.filter?.expression, constraints.sortBy, constraints.sortOrder);
    const page: Array<Record<string, unknown>> = [];
    for (let i = startIndex - 1; i < ids.length && page.length < size; i++) page.push(view(map.get(ids[i]!)!));

    // Real counters for the ListResponse; no sortBy so that scimmy does not re-sort our page
    const listConstraints = { startIndex, count: page.length, totalResults: ids.length };
    resource.constraints = listConstraints;
    return padForListResponse(page, startIndex, ids.length);
  };
}

/** Plain JSON of a coerced inbound scimmy schema instance, without the server-managed attributes. */
function inbound(instance: unknown): Record<string, unknown> {
  const data = JSON.parse(JSON.stringify(instance)) as Record<string, unknown>;
  for (const key of ['schemas', 'meta', 'id', 'groups']) delete data[key];
  return data;
}

function userIngress(resource: SCIMMY.Types.Resource, instance: unknown, ctx: unknown): Record<string, unknown> {
  const store = storeOf(ctx);
  if (resource.id) store.checkPrecondition('User', resource.id);
  const data = inbound(instance);
  const userName = data['userName'];
  if (typeof userName !== 'string' || !userName)
    throw scimError(400, 'invalidValue', "Required attribute 'userName' is missing");

  const owner = store.userNames.get(userName.toLowerCase());
  if (owner !== undefined && owner !== resource.id) {
    throw scimError(409, 'uniqueness', `userName '${userName}' is already in use`);
  }

  let record: StoredUser;
  if (resource.id) {
    const prev = store.users.get(resource.id);
    if (!prev) throw scimError(404, undefined, `Resource ${resource.id} not found`);
    record = store.touch({ ...data, id: prev.id, userName, meta: prev.meta });
  } else {
    record = { ...data, id: randomUUID(), userName, meta: store.newMeta('User') };
  }
  store.users.set(record.id, record);
  return store.userView(record);
}

function groupIngress(resource: SCIMMY.Types.Resource, instance: unknown, ctx: unknown): Record<string, unknown> {
  const store = storeOf(ctx);
  if (resource.id) store.checkPrecondition('Group', resource.id);
  const data = inbound(instance);
  const displayName = data['displayName'];
  if (typeof displayName !== 'string' || !displayName)
    throw scimError(400, 'invalidValue', "Required attribute 'displayName' is missing");

  const members: StoredMember[] = [];
  const seen = new Set<string>();
  const supplied = Array.isArray(data['members']) ? (data['members'] as unknown[]) : [];
  for (const entry of supplied) {
    const value = entry !== null && typeof entry === 'object' ? (entry as Record<string, unknown>)['value'] : undefined;
    if (typeof value !== 'string' || !value) throw scimError(400, 'invalidValue', 'Group member without a value');
    if (seen.has(value)) continue;
    seen.add(value);
    const type: 'User' | 'Group' | undefined = store.users.has(value)
      ? 'User'
      : store.groups.has(value) && value !== resource.id
        ? 'Group'
        : undefined;
    if (!type) throw scimError(400, 'invalidValue', `Group member '${value}' does not exist`);
    members.push({ value, display: store.memberDisplay(value, type), type });
  }

  let record: StoredGroup;
  if (resource.id) {
    const prev = store.groups.get(resource.id);
    if (!prev) throw scimError(404, undefined, `Resource ${resource.id} not found`);
    record = store.touch({ ...data, id: prev.id, displayName, members, meta: prev.meta });
  } else {
    record = { ...data, id: randomUUID(), displayName, members, meta: store.newMeta('Group') };
  }
  store.groups.set(record.id, record);
  return store.groupView(record);
}

function makeDegress(kind: Kind) {
  return (resource: SCIMMY.Types.Resource, ctx: unknown): void => {
    const store = storeOf(ctx);
    const id = resource.id ?? '';
    store.checkPrecondition(kind, id);
    if (!store.map(kind).delete(id)) throw scimError(404, undefined, `Resource ${id} not found`);
  };
}

let declared = false;

function declareResources(): void {
  if (declared) return;
  declared = true;
  SCIMMY.Resources.declare(SCIMMY.Resources.User, {
    egress: makeEgress('User'),
    ingress: userIngress,
    degress: makeDegress('User'),
    extensions: [{ schema: SCIMMY.Schemas.EnterpriseUser, required: false }],
  });
  SCIMMY.Resources.declare(SCIMMY.Resources.Group, {
    egress: makeEgress('Group'),
    ingress: groupIngress,
    degress: makeDegress('Group'),
  });
}

// ---------------------------------------------------------------------------------------------
// scimmy is a singleton: serialise requests through it and apply the owning server's config

let queueTail: Promise<void> = Promise.resolve();
let configuredFor: HostStore | undefined;

function acquireScimmy(): Promise<() => void> {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const ready = queueTail.then(() => release);
  queueTail = queueTail.then(() => held);
  return ready;
}

const BEARER_SCHEME = {
  type: 'oauthbearertoken',
  name: 'OAuth Bearer Token',
  description: 'Authentication scheme using the OAuth Bearer Token Standard',
  specUri: 'https://datatracker.ietf.org/doc/html/rfc6750',
  primary: true,
};

function applyConfig(store: HostStore): void {
  if (configuredFor === store) return;
  SCIMMY.Config.set({
    patch: store.features.patch,
    filter: { supported: true, maxResults: store.maxPageSize },
    sort: true,
    bulk: false,
    changePassword: false,
    etag: store.features.etag,
    authenticationSchemes: [],
  });
  SCIMMY.Config.set({ authenticationSchemes: [BEARER_SCHEME] });
  configuredFor = store;
}

// ---------------------------------------------------------------------------------------------
// Seeding (deterministic)

const FIRST_NAMES = [
  'James',
  'Mary',
  'John',
  'Patricia',
  'Robert',
  'Jennifer',
  'Michael',
  'Linda',
  'William',
  'Elizabeth',
  'David',
  'Barbara',
  'Richard',
  'Susan',
  'Joseph',
  'Jessica',
  'Thomas',
  'Sarah',
  'Charles',
  'Karen',
  'Christopher',
  'Lisa',
  'Daniel',
  'Nancy',
  'Matthew',
  'Betty',
  'Anthony',
  'Sandra',
  'Mark',
  'Margaret',
  'Donald',
  'Ashley',
  'Steven',
  'Kimberly',
  'Andrew',
  'Emily',
  'Paul',
  'Donna',
  'Joshua',
  'Michelle',
  'Kenneth',
  'Carol',
  'Kevin',
  'Amanda',
  'Brian',
  'Melissa',
  'George',
  'Deborah',
  'Timothy',
  'Stephanie',
  'Aisha',
  'Wei',
  'Priya',
  'Mateo',
  'Sofia',
  'Hiroshi',
  'Fatima',
  'Lukas',
  'Ingrid',
  'Olumide',
  'Chloé',
  'Søren',
  'Zoë',
  'José',
  'Anaïs',
  'Björn',
  'Noor',
  'Kenji',
  'Amara',
  'Diego',
];
const LAST_NAMES = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Gonzalez',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Jackson',
  'Martin',
  'Lee',
  'Perez',
  'Thompson',
  'White',
  'Harris',
  'Sanchez',
  'Clark',
  'Ramirez',
  'Lewis',
  'Robinson',
  'Walker',
  'Young',
  'Allen',
  'King',
  'Wright',
  'Scott',
  'Torres',
  'Nguyen',
  'Hill',
  'Flores',
  'Green',
  'Adams',
  'Nelson',
  'Baker',
  'Hall',
  'Rivera',
  'Campbell',
  'Mitchell',
  'Carter',
  'Roberts',
  "O'Brien",
  'Müller',
  'Kowalski',
  'Okafor',
  'Tanaka',
  'Chen',
  'Patel',
  'Larsen',
  'Dubois',
  'Rossi',
  'Van der Berg',
  'Ivanova',
  'Haddad',
  'Silva',
  'Kim',
  'Nakamura',
  'Schmidt',
  'Novak',
  'Andersson',
  'Murphy',
];
const GROUP_NAMES = [
  'Engineering',
  'Sales',
  'Marketing',
  'Finance',
  'Human Resources',
  'Legal',
  'Operations',
  'Customer Support',
  'Product',
  'Design',
  'Security',
  'IT',
  'Research',
  'Customer Success',
  'Procurement',
  'Facilities',
  'Data Science',
  'Quality Assurance',
  'DevOps',
  'Partnerships',
];
const TITLES: Record<string, string[]> = {
  Engineering: ['Software Engineer', 'Senior Software Engineer', 'Staff Engineer', 'Engineering Manager'],
  Sales: ['Account Executive', 'Sales Development Representative', 'Sales Manager'],
  Marketing: ['Marketing Manager', 'Content Strategist', 'Growth Analyst'],
  Finance: ['Financial Analyst', 'Controller', 'Accountant'],
  'Human Resources': ['HR Business Partner', 'Recruiter', 'People Operations Specialist'],
  Legal: ['Counsel', 'Paralegal'],
  Operations: ['Operations Manager', 'Operations Analyst'],
  'Customer Support': ['Support Engineer', 'Support Specialist', 'Support Team Lead'],
};
const DEFAULT_TITLES = ['Specialist', 'Analyst', 'Manager', 'Director', 'Coordinator'];

/** sfc32: small, fast, seedable PRNG (deterministic seeding, no Math.random) */
function prng(seed: number): () => number {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88 ^ (seed * 31);
  let c = 0xb7e15162 ^ (seed * 17);
  let d = 1;
  const next = (): number => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  return next;
}

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)]!;
}

function emailLocalPart(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '');
}

function groupName(index: number): string {
  const base = GROUP_NAMES[index % GROUP_NAMES.length]!;
  const round = Math.floor(index / GROUP_NAMES.length);
  return round === 0 ? base : `${base} ${round + 1}`;
}

const SEED_EPOCH = Date.UTC(2023, 0, 2, 9, 0, 0);

function seed(store: HostStore, userCount: number, groupCount: number): void {
  const random = prng(20240601);
  const suffixes = new Map<string, number>();
  const departments = GROUP_NAMES.slice(0, Math.max(1, Math.min(groupCount || GROUP_NAMES.length, GROUP_NAMES.length)));
  const userIds: string[] = [];
  const userDepartments: string[] = [];

  for (let i = 0; i < userCount; i++) {
    const givenName = pick(random, FIRST_NAMES);
    const familyName = pick(random, LAST_NAMES);
    const base = `${emailLocalPart(givenName)}.${emailLocalPart(familyName)}`;
    let n = suffixes.get(base) ?? 1;
    let local = n === 1 ? base : `${base}${n}`;
    while (store.userNames.has(`${local}@example.com`)) local = `${base}${++n}`;
    suffixes.set(base, n + 1);
    const userName = `${local}@example.com`;
    const department = pick(random, departments);
    const created = new Date(SEED_EPOCH + i * 60_000).toISOString();
    const number = String(i + 1).padStart(6, '0');

    const user: StoredUser = {
      id: randomUUID(),
      externalId: `E${number}`,
      userName,
      name: { formatted: `${givenName} ${familyName}`, givenName, familyName },
      displayName: `${givenName} ${familyName}`,
      title: pick(random, TITLES[department] ?? DEFAULT_TITLES),
      active: random() >= 0.03,
      emails: [{ value: userName, type: 'work', primary: true }],
      meta: { resourceType: 'User', created, lastModified: created, version: store.nextVersion() },
    };
    if (random() < 0.4) {
      const digits = String(Math.floor(random() * 1e7)).padStart(7, '0');
      user['phoneNumbers'] = [{ value: `+1-555-${digits.slice(0, 3)}-${digits.slice(3)}`, type: 'mobile' }];
    }
    user[ENTERPRISE_URN] = { employeeNumber: number, department };
    store.users.set(user.id, user);
    userIds.push(user.id);
    userDepartments.push(department);
  }

  if (groupCount <= 0) return;
  const groups: StoredGroup[] = [];
  const byName = new Map<string, StoredGroup>();
  for (let g = 0; g < groupCount; g++) {
    const created = new Date(SEED_EPOCH - (groupCount - g) * 3_600_000).toISOString();
    const group: StoredGroup = {
      id: randomUUID(),
      displayName: groupName(g),
      members: [],
      meta: { resourceType: 'Group', created, lastModified: created, version: store.nextVersion() },
    };
    groups.push(group);
    byName.set(group.displayName, group);
  }
  // About 90% of users are in their department's group (or a random one), a quarter in one more
  for (let i = 0; i < userIds.length; i++) {
    if (random() < 0.1) continue;
    const user = store.users.get(userIds[i]!)!;
    const member: StoredMember = { value: user.id, display: user.displayName ?? user.userName, type: 'User' };
    const primary = byName.get(userDepartments[i]!) ?? pick(random, groups);
    primary.members!.push(member);
    if (random() < 0.25) {
      const extra = pick(random, groups);
      if (extra !== primary) extra.members!.push({ ...member });
    }
  }
  for (const group of groups) store.groups.set(group.id, group);
}

// ---------------------------------------------------------------------------------------------
// The express app

interface FaultState {
  fault: Fault;
  seen: number;
  fired: number;
}

function sniffContentType(body: string): string {
  const t = body.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) return 'application/json';
  if (t.startsWith('<')) return 'text/html; charset=utf-8';
  return 'text/plain; charset=utf-8';
}

function headerRecord(req: Request): Record<string, string | string[] | undefined> {
  return { ...req.headers };
}

/** A path (below the SCIM base) of the Users or Groups endpoint, and the resource id in it if any. */
function resourceTarget(path: string): { kind: Kind; id: string | undefined } | undefined {
  // express routes are case-insensitive, so /users/ID reaches the Users router too
  const match = /^\/(users|groups)(?:\/([^/]+))?\/?$/i.exec(path);
  if (!match) return undefined;
  let id: string | undefined;
  if (match[2] !== undefined) {
    try {
      id = decodeURIComponent(match[2]);
    } catch {
      return undefined; // malformed escape: the router answers it
    }
    if (id.startsWith('.')) return undefined; // /.search
  }
  return { kind: match[1]!.toLowerCase() === 'users' ? 'User' : 'Group', id };
}

/** With `patch: false`: PATCH on Users or Groups answers 501 before anything reads the request body or the store. */
function refusePatch(req: Request, res: Response, next: NextFunction): void {
  if (req.method === 'PATCH' && /^\/(users|groups)(\/|$)/i.test(req.path))
    return sendScimError(res, 501, 'PATCH is not supported');
  next();
}

const CONDITIONAL_WRITES: ReadonlySet<string> = new Set(['PUT', 'PATCH', 'DELETE']);

/**
 * With `etag: true`: If-Match on PUT/PATCH/DELETE of one resource (412 when stale), and ETag / If-None-Match on
 * single-resource responses. Runs while the request holds the scimmy queue, so no other SCIM request can change
 * the resource between this check and the write (which checks again, see HostStore#checkPrecondition).
 */
function conditionalRequests(store: HostStore) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const target = store.features.etag ? resourceTarget(req.path) : undefined;
    if (!target) return next();
    const { kind, id } = target;
    const ifMatch = headerValue(req, 'if-match');
    if (id !== undefined && ifMatch !== undefined && CONDITIONAL_WRITES.has(req.method)) {
      const current = store.map(kind).get(id);
      // An unknown id is left to the handler, which answers 404
      if (current && !tagListMatches(ifMatch, current.meta.version)) {
        res.setHeader('ETag', current.meta.version);
        return sendScimError(res, 412, PRECONDITION_DETAIL);
      }
      store.precondition = { kind, id, ifMatch };
    }
    tagResponse(req, res, store, kind, id);
    next();
  };
}

/** Gives the response to GET/PUT/PATCH of one resource, or POST of a new one, the header `ETag: meta.version`. */
function tagResponse(req: Request, res: Response, store: HostStore, kind: Kind, id: string | undefined): void {
  const single = id !== undefined ? ['GET', 'HEAD', 'PUT', 'PATCH'].includes(req.method) : req.method === 'POST';
  if (!single) return;
  const send = res.send;
  let seen = false;
  res.send = function (this: Response, body?: unknown): Response {
    // res.send(object) serialises through res.json, which calls res.send(string): act on the first call only
    if (seen) return send.call(this, body);
    seen = true;
    if (this.statusCode < 200 || this.statusCode > 299) return send.call(this, body);
    const resource =
      body !== null && typeof body === 'object' ? (body as { id?: unknown; meta?: { version?: unknown } }) : undefined;
    const resourceId = id ?? (typeof resource?.id === 'string' ? resource.id : undefined);
    // The body's own meta.version when it has one (?attributes= may leave meta out; a PATCH that changed nothing has no
    // body)
    const version =
      typeof resource?.meta?.version === 'string'
        ? resource.meta.version
        : resourceId === undefined
          ? undefined
          : store.map(kind).get(resourceId)?.meta.version;
    if (version === undefined) return send.call(this, body);
    this.setHeader('ETag', version);
    const ifNoneMatch = headerValue(req, 'if-none-match');
    if (
      (req.method === 'GET' || req.method === 'HEAD') &&
      ifNoneMatch !== undefined &&
      tagListMatches(ifNoneMatch, version)
    ) {
      this.status(304).removeHeader('Content-Type');
      this.end();
      return this;
    }
    return send.call(this, body);
  } as Response['send'];
}

export async function startScimmyServer(opts: ScimmyServerOptions = {}): Promise<ScimmyServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? 'test-token';
  const maxPageSize = Math.max(1, opts.maxPageSize ?? 200);

  declareResources();
  const store = new HostStore(maxPageSize, { patch: opts.patch ?? true, etag: opts.etag ?? false });
  seed(store, Math.max(0, opts.users ?? 0), Math.max(0, opts.groups ?? 0));

  const requests: RecordedRequest[] = [];
  const faults: FaultState[] = [];

  // Each SCIMMYRouters instance pushes another authentication scheme into the global config: reset first
  SCIMMY.Config.set({ authenticationSchemes: [] });
  const router = new SCIMMYRouters({
    type: 'bearer',
    // Authentication is done by our own middleware before the router; this id is what /Me would look up
    handler: () => 'scimctl-test-admin',
    context: () => store,
    baseUri: () => store.baseUrl.slice(0, -BASE_PATH.length),
  });
  configuredFor = undefined;

  const app = express();
  app.disable('x-powered-by');

  // 1. Fault injection
  app.use((req: Request, res: Response, next: NextFunction) => {
    const target = req.originalUrl;
    for (const state of faults) {
      const { fault } = state;
      if (fault.method && fault.method.toUpperCase() !== req.method) continue;
      fault.path.lastIndex = 0;
      if (!fault.path.test(target)) continue;
      state.seen++;
      if (state.seen <= (fault.skip ?? 0)) continue;
      if (state.fired >= (fault.times ?? 1)) continue;
      state.fired++;
      requests.push({ method: req.method, path: target, headers: headerRecord(req), faulted: true });
      if (fault.hang) return; // never answer; close() destroys the socket
      res.status(fault.status);
      for (const [name, value] of Object.entries(fault.headers ?? {})) res.setHeader(name, value);
      if (fault.status === 204 || fault.status === 304) {
        res.end();
      } else if (fault.body !== undefined) {
        res.setHeader('Content-Type', fault.contentType ?? sniffContentType(fault.body));
        res.end(fault.body);
      } else {
        res.setHeader('Content-Type', fault.contentType ?? SCIM_JSON);
        res.end(JSON.stringify({ schemas: [ERROR_URN], status: String(fault.status), detail: 'Injected fault' }));
      }
      return;
    }
    next();
  });

  // 2. Request recorder (the body is read lazily: the SCIM router parses it later)
  app.use((req: Request, res: Response, next: NextFunction) => {
    const entry: RecordedRequest = { method: req.method, path: req.originalUrl, headers: headerRecord(req) };
    // Hold the request only until the response is done, so long benchmark runs do not retain every request
    const holder: { req?: Request; body?: unknown } = { req };
    Object.defineProperty(entry, 'body', {
      enumerable: true,
      get: () => (holder.req ? (holder.req.body as unknown) : holder.body),
    });
    res.once('close', () => {
      holder.body = holder.req?.body as unknown;
      delete holder.req;
    });
    requests.push(entry);
    next();
  });

  // 3. Bearer authentication on every SCIM route, discovery included (401 without WWW-Authenticate)
  app.use(BASE_PATH, (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (match && match[1] === token) return next();
    const error = new SCIMMY.Messages.ErrorResponse({
      status: 401,
      detail: header ? 'Invalid bearer token' : 'Authorization header missing',
    });
    res.status(401).setHeader('Content-Type', SCIM_JSON);
    res.end(JSON.stringify(error));
  });

  // 3b. PATCH switched off (501, store untouched)
  if (!store.features.patch) app.use(BASE_PATH, refusePatch);

  // 4. The SCIM endpoints
  app.use(
    BASE_PATH,
    (req: Request, _res: Response, next: NextFunction) => {
      // express 5 re-parses req.query on every access, so scimmy-routers' numeric cast of startIndex/count
      // would be lost (and scimmy would ignore paging). Pin the parsed object on the request.
      const query = req.query as Record<string, unknown>;
      if (req.method === 'PATCH') {
        // scimmy applies PatchOp to read() output, which honours attributes/excludedAttributes: a PATCH with
        // ?excludedAttributes=members would write the group back without its members. Ignore them on PATCH.
        delete query['attributes'];
        delete query['excludedAttributes'];
      }
      Object.defineProperty(req, 'query', { value: query, writable: true, configurable: true, enumerable: true });
      next();
    },
    async (_req: Request, res: Response, next: NextFunction) => {
      const release = await acquireScimmy();
      let released = false;
      const done = (): void => {
        if (!released) {
          released = true;
          store.precondition = undefined;
          release();
        }
      };
      res.once('finish', done);
      res.once('close', done);
      applyConfig(store);
      next();
    },
    conditionalRequests(store),
    router,
  );

  // scimmy-routers forwards 5xx errors after answering them; do not let express's final handler
  // destroy the socket under the answer (or print a stack trace)
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return;
    next(err);
  });

  const server: Server = createServer(app);
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  store.baseUrl = `http://${hostPart}:${port}${BASE_PATH}`;

  let closing: Promise<void> | undefined;
  return {
    url: store.baseUrl,
    port,
    requests,
    addFault(fault: Fault) {
      faults.push({ fault, seen: 0, fired: 0 });
    },
    clearFaults() {
      faults.length = 0;
    },
    users: store.users,
    groups: store.groups,
    bump(id: string) {
      // touch() + set(): the path every modification takes (new version and lastModified, indexes and caches updated)
      const user = store.users.get(id);
      if (user) {
        store.users.set(id, store.touch(user));
        return;
      }
      const group = store.groups.get(id);
      if (!group) throw new Error(`bump: no user or group with id ${id}`);
      store.groups.set(id, store.touch(group));
    },
    close() {
      closing ??= new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Command line

function parseArgs(argv: string[]): ScimmyServerOptions {
  const options: ScimmyServerOptions = {};
  const number = (name: string, value: string | undefined): number => {
    const n = Number(value);
    if (value === undefined || !Number.isInteger(n) || n < 0)
      throw new Error(`--${name} expects a non-negative integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--port':
        options.port = number('port', value());
        break;
      case '--host':
        options.host = value();
        break;
      case '--token':
        options.token = value();
        break;
      case '--users':
        options.users = number('users', value());
        break;
      case '--groups':
        options.groups = number('groups', value());
        break;
      case '--max-page-size':
        options.maxPageSize = number('max-page-size', value());
        break;
      case '--no-patch':
        options.patch = false;
        break;
      case '--etag':
        options.etag = true;
        break;
      case '--help':
      case '-h':
        process.stdout.write(
          'Usage: scimmy-server.ts [--port N] [--host H] [--token T] [--users N] ' +
            '[--groups N] [--max-page-size N] [--no-patch] [--etag]\n',
        );
        process.exit(0);
        break;
      default:
        throw new Error(`Unknown option ${arg}`);
    }
  }
  return options;
}

function isMain(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(fileURLToPath(import.meta.url)) === realpathSync(resolve(script));
  } catch {
    return false;
  }
}

if (isMain()) {
  let options: ScimmyServerOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (ex) {
    process.stderr.write(`${(ex as Error).message}\n`);
    process.exit(2);
  }
  const server = await startScimmyServer(options);
  process.stdout.write(`${server.url}\n`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

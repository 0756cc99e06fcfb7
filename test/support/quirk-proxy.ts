/**
 * A quirk layer for end-to-end tests: an HTTP proxy in front of a well-behaved SCIM server
 * (`scimctl serve`) that makes it behave like the product servers measured in
 * /work/shared/notes/scim-in-the-wild.md ("More behaviours of real servers"). The client under
 * test then meets those behaviours over real HTTP, without a product server in the test run.
 *
 * One switch per behaviour (see `Quirks`). The proxy is meant to be honest: a switch changes only
 * what its description says, and whatever no switch touches passes through byte for byte (status,
 * headers, body; `meta.location` and `$ref` keep pointing at the upstream unless `userDataIds`
 * rewrites them). Decisions a quirk takes without the upstream's answer (an empty list, a 400, a
 * 501) are still taken after the upstream has seen the same credentials, so a request without a
 * valid token gets the upstream's 401, as from a real server. `lockedWrites` is the exception:
 * it refuses without forwarding, as the brief says.
 *
 * One consequence is not a switch of its own: with userDataIds, writeOnlyMembers or lossy on,
 * ServiceProviderConfig says bulk.supported=false and POST /Bulk answers 501, because a Bulk
 * request would carry writes past the rewriting those switches do (real servers of that kind
 * have no Bulk either). With the other switches Bulk passes through (lockedWrites counts it as a write).
 *
 * Faults (the third argument, `Faults`): the proxy can also be an unreliable network and an
 * overloaded server: 500s before and after the upstream acted, 429 with Retry-After, connections
 * reset before and after acting, stalls longer than a client's timeout, bodies cut short, and
 * list pages returned short or empty with a totalResults that says more. Each kind has its own
 * rate and bound; whether a request meets one is a seeded hash of the request (method, URL,
 * body) and how many times that same request came before, so a run is reproducible whatever the
 * order concurrent requests arrive in, and a retry is a fresh draw. Only /Users, /Groups and
 * /Bulk are touched (discovery is left alone). Faults are applied where the proxy answers, on
 * top of whatever quirks are on; `stats.faults` counts the ones injected.
 *
 * Built on node:http only; every upstream call goes through one keep-alive agent closed with the proxy.
 */
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';

// ---------------------------------------------------------------------------------------------
// Public API

export interface Quirks {
  /**
   * /Schemas: the User schema lacks `groups`, `photos`, `x509Certificates`; `addresses` lacks the `primary`
   * sub-attribute (users still carry it).
   */
  partialSchemas?: boolean;
  /**
   * ServiceProviderConfig says filter.supported=false; any filter on /Groups answers 200 with an empty ListResponse
   * (totalResults 0). Filters on /Users still work for `eq` on userName/externalId/emails.value only; other /Users
   * filters answer 200 empty too.
   */
  noFilters?: boolean;
  /**
   * `pr`, `not`, parentheses, and `active eq ...` answer 400 invalidFilter; filters on extension attributes (urn:...)
   * or on meta.* answer 200 with an empty list. Everything else passes through.
   */
  limitedFilters?: boolean;
  /**
   * Membership is write-only: `members` is always [] on GET /Groups and GET /Groups/{id} (and in POST/PUT/PATCH
   * responses); `members` in a Group POST or PUT is silently ignored (stripped before forwarding, so existing members
   * are kept on PUT: forward a PUT with the upstream group's current members); PATCH `replace` of `members` behaves as
   * `add`; PATCH remove with path `members[value eq "x"]` answers 501, while `{op: remove, path: members, value:
   * [{value}]}` works. Users' `groups` attribute is also always absent.
   */
  writeOnlyMembers?: boolean;
  /**
   * Writes (POST/PUT/PATCH/DELETE) that arrive while another write is still in flight answer 500 {"detail":"database is
   * locked"} WITHOUT forwarding. One at a time they succeed. Count how many were refused.
   */
  lockedWrites?: boolean;
  /**
   * Lossy storage: User displayName is computed from name.givenName + ' ' + name.familyName (a displayName in POST/PUT
   * is replaced by that; a PATCH op on displayName answers 501); only the first e-mail is kept and its `type` is
   * dropped; PUT clears externalId (stripped from the forwarded body); attributes outside the core User schema and the
   * enterprise extension are dropped silently (e.g. photos, x509Certificates, a made-up urn extension).
   */
  lossy?: boolean;
  /**
   * Ids are user data: a User's id is its userName at creation (contains @, +, spaces, / as the userName does); the
   * proxy keeps a two-way map to the upstream's real ids and rewrites ids everywhere (paths, bodies: id, meta.location,
   * Location header, group members[].value and $ref, user groups[].value, PATCH member values, POST/PUT group members,
   * filters `id eq`); after a rename the id keeps the old name. A POST /Users whose userName contains '+' is forwarded
   * (the user IS created) but answered 201 with no `id` in the body and `Location: <base>/Users/undefined`. A PUT/PATCH
   * that changes a user's userName is applied upstream and then answered 500 (only the first time for a given id+new
   * userName; a retry of the same rename answers normally).
   */
  userDataIds?: boolean;
  /** A 201 comes without a `Location` header (the client must use the body's id or meta.location). */
  noLocation?: boolean;
  /** DELETE of a User or Group answers 200 with the deleted resource as its body instead of 204. */
  deleteWithBody?: boolean;
}

/** The faults the proxy can inject (see `Faults`). */
export const FAULT_KINDS = [
  'error500Before',
  'rateLimit429',
  'resetBefore',
  'error500After',
  'resetAfter',
  'stall',
  'truncated',
  'shortPage',
  'emptyPage',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * Faults, each at its own rate (0..1, per eligible request), at most `max` of each kind:
 * - error500Before: 500 {"detail":"injected"} without forwarding (the upstream never acted).
 * - rateLimit429: 429 with `Retry-After: retryAfterSeconds`, without forwarding.
 * - resetBefore: the connection is destroyed without forwarding and without an answer.
 * - error500After: forwarded (the upstream acted), then answered 500 instead of its answer.
 * - resetAfter: forwarded, then the connection destroyed without an answer.
 * - stall: forwarded, and the answer held for `stallMs` (longer than the client's timeout).
 * - truncated (reads): a 2xx JSON answer cut in half: alternately a complete message whose
 *   JSON stops early, and the full Content-Length promised with the connection closed midway.
 * - shortPage (list reads): the page keeps only the first half of its Resources; totalResults,
 *   startIndex unchanged (itemsPerPage says the shorter length).
 * - emptyPage (list reads): the page comes back with no Resources; totalResults unchanged.
 * Reads are GET and POST …/.search; list reads are those on /Users or /Groups without an id.
 */
export interface Faults {
  seed: number;
  rates: Partial<Record<FaultKind, number>>;
  /** Most faults of each kind over the proxy's life. Default 200. */
  max?: Partial<Record<FaultKind, number>>;
  /** How long a stall holds the answer. Default 2000 ms. */
  stallMs?: number;
  /** Retry-After of the 429s, in seconds. Default 1. */
  retryAfterSeconds?: number;
}

export interface QuirkProxyStats {
  /** Requests the proxy received from clients. */
  requests: number;
  /** Writes refused with 500 "database is locked" (lockedWrites). */
  lockedRefusals: number;
  /** Writes received and not yet answered (tests wait on this to overlap two writes). */
  writesInFlight: number;
  /** Requests the proxy sent upstream: forwarded ones and its own look-ups. */
  upstreamRequests: number;
  /** Answers a quirk gave instead of the upstream's (empty lists, 400s, 501s, 500s). */
  answeredLocally: number;
  /** 501s for the PATCH forms a switch does not support. */
  notImplemented: number;
  /** Renames applied upstream and then answered 500 (userDataIds). */
  renameFailures: number;
  /** Faults injected, by kind (all 0 without `Faults`). */
  faults: Record<FaultKind, number>;
}

export interface QuirkProxy {
  /** The proxy's base URL: the upstream's path on the proxy's own port, e.g. http://127.0.0.1:41234/scim/v2 */
  url: string;
  upstream: string;
  quirks: Readonly<Quirks>;
  stats: QuirkProxyStats;
  /** The userDataIds map between the ids clients see and the upstream's (undefined when unknown). */
  ids: { toUpstream(proxyId: string): string | undefined; fromUpstream(upstreamId: string): string | undefined };
  close(): Promise<void>;
}

const SWITCHES = [
  'partialSchemas',
  'noFilters',
  'limitedFilters',
  'writeOnlyMembers',
  'lockedWrites',
  'lossy',
  'userDataIds',
  'noLocation',
  'deleteWithBody',
] as const satisfies ReadonlyArray<keyof Quirks>;

/** Named quirk sets for the journey tests: each switch alone, plus 'all' with every switch on. */
export const QUIRK_SETS: Record<string, Quirks> = Object.freeze({
  ...Object.fromEntries(SWITCHES.map((s) => [s, Object.freeze({ [s]: true })])),
  all: Object.freeze(Object.fromEntries(SWITCHES.map((s) => [s, true]))),
});

// ---------------------------------------------------------------------------------------------
// SCIM bits

const URN = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:user',
  group: 'urn:ietf:params:scim:schemas:core:2.0:group',
  enterprise: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  list: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
} as const;

type Obj = Record<string, unknown>;
type Kind = 'User' | 'Group';

const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const lower = (s: string) => s.toLowerCase();
/** SCIM attribute names are case-insensitive: the key a body actually uses for `name`. */
const keyOf = (o: Obj, name: string) => Object.keys(o).find((k) => lower(k) === lower(name));
const valueOf = (o: Obj, name: string) => {
  const k = keyOf(o, name);
  return k === undefined ? undefined : o[k];
};
const deleteAll = (o: Obj, name: string) => {
  let found = false;
  for (const k of Object.keys(o)) {
    if (lower(k) === lower(name)) {
      delete o[k];
      found = true;
    }
  }
  return found;
};

/** An attribute path without the core schema's URN, lower-cased: `urn:…:User:userName` → `username`. */
function normPath(path: string): string {
  const p = lower(path.trim());
  for (const core of [URN.user, URN.group]) if (p.startsWith(`${core}:`)) return p.slice(core.length + 1);
  return p;
}

const SCIM_JSON = 'application/scim+json; charset=utf-8';
const PLAIN_JSON = 'application/json; charset=utf-8';
const emptyList = () => ({ schemas: [URN.list], totalResults: 0, itemsPerPage: 0, startIndex: 1, Resources: [] });
const scimError = (status: number, detail: string, scimType?: string) => ({
  schemas: [URN.error],
  status: String(status),
  ...(scimType ? { scimType } : {}),
  detail,
});

// ---------------------------------------------------------------------------------------------
// Filters: a tokenizer that is enough to see operators and attribute names (not a parser)

interface Token {
  type: 'word' | 'string' | '(' | ')' | '[' | ']';
  text: string;
  start: number;
  end: number;
}

function tokenize(filter: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < filter.length) {
    const c = filter[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      out.push({ type: c, text: c, start: i, end: i + 1 });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < filter.length && filter[j] !== '"') j += filter[j] === '\\' ? 2 : 1;
      j = Math.min(j + 1, filter.length);
      out.push({ type: 'string', text: filter.slice(i, j), start: i, end: j });
      i = j;
    } else {
      let j = i;
      while (j < filter.length && !/[\s()[\]"]/.test(filter[j]!)) j++;
      out.push({ type: 'word', text: filter.slice(i, j), start: i, end: j });
      i = j;
    }
  }
  return out;
}

const OPERATORS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le', 'pr']);

interface Comparison {
  /** The attribute as written, with the bracketed parent in front: `emails[value eq …]` → `emails.value`. */
  attr: string;
  op: string;
  value?: Token;
}

interface FilterShape {
  tokens: number;
  comparisons: Comparison[];
  logic: boolean;
  not: boolean;
  parens: boolean;
  brackets: boolean;
}

function analyse(filter: string): FilterShape {
  const t = tokenize(filter);
  const shape: FilterShape = {
    tokens: t.length,
    comparisons: [],
    logic: false,
    not: false,
    parens: false,
    brackets: false,
  };
  const parents: string[] = [];
  for (let i = 0; i < t.length; i++) {
    const tok = t[i]!;
    if (tok.type === '(' || tok.type === ')') shape.parens = true;
    else if (tok.type === '[') {
      shape.brackets = true;
      const before = t[i - 1];
      parents.push(before?.type === 'word' ? before.text : '');
    } else if (tok.type === ']') parents.pop();
    if (tok.type !== 'word') continue;
    const next = t[i + 1];
    const op = next?.type === 'word' && OPERATORS.has(lower(next.text)) ? lower(next.text) : undefined;
    if (op) {
      const parent = parents[parents.length - 1];
      shape.comparisons.push({
        attr: parent ? `${parent}.${tok.text}` : tok.text,
        op,
        value: op === 'pr' ? undefined : t[i + 2],
      });
      i += op === 'pr' ? 1 : 2;
      continue;
    }
    const word = lower(tok.text);
    if (word === 'and' || word === 'or') shape.logic = true;
    else if (word === 'not') shape.not = true;
  }
  return shape;
}

const isExtensionAttr = (attr: string) => normPath(attr).startsWith('urn:');
const isMetaAttr = (attr: string) => {
  const p = normPath(attr);
  return p === 'meta' || p.startsWith('meta.');
};

/** limitedFilters: 'refuse' (400), 'empty' (200 with nothing) or undefined (passes). */
function limitedVerdict(filter: string): 'refuse' | 'empty' | undefined {
  const s = analyse(filter);
  if (s.not || s.parens || s.comparisons.some((c) => c.op === 'pr' || (normPath(c.attr) === 'active' && c.op === 'eq')))
    return 'refuse';
  if (s.comparisons.some((c) => isExtensionAttr(c.attr) || isMetaAttr(c.attr))) return 'empty';
  return undefined;
}

const NO_FILTERS_USER_ATTRS = new Set(['username', 'externalid', 'emails.value']);

/** noFilters: only `<userName|externalId|emails.value> eq "…"` on /Users is served. */
function noFiltersServes(kind: Kind | undefined, filter: string): boolean {
  if (kind !== 'User') return false;
  const s = analyse(filter);
  const c = s.comparisons[0];
  return (
    s.tokens === 3 &&
    s.comparisons.length === 1 &&
    c !== undefined &&
    c.op === 'eq' &&
    c.value?.type === 'string' &&
    NO_FILTERS_USER_ATTRS.has(normPath(c.attr))
  );
}

/** Replaces the string literal of each comparison `pick` chooses with what `map` returns for it. */
async function rewriteFilterValues(
  filter: string,
  pick: (c: Comparison) => boolean,
  map: (value: string) => Promise<string | undefined>,
): Promise<string> {
  const edits: Array<{ start: number; end: number; text: string }> = [];
  for (const c of analyse(filter).comparisons) {
    if (!c.value || c.value.type !== 'string' || !pick(c)) continue;
    let literal: unknown;
    try {
      literal = JSON.parse(c.value.text);
    } catch {
      continue;
    }
    if (typeof literal !== 'string') continue;
    const mapped = await map(literal);
    if (mapped !== undefined && mapped !== literal)
      edits.push({ start: c.value.start, end: c.value.end, text: JSON.stringify(mapped) });
  }
  let out = filter;
  for (const e of edits.reverse()) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Lossy storage

/** What the lossy server stores of a User: its own (partial) core schema and the enterprise extension. */
const LOSSY_KEEPS = new Set(
  [
    'schemas',
    'id',
    'externalId',
    'meta',
    'userName',
    'name',
    'displayName',
    'nickName',
    'profileUrl',
    'title',
    'userType',
    'preferredLanguage',
    'locale',
    'timezone',
    'active',
    'password',
    'emails',
    'phoneNumbers',
    'ims',
    'addresses',
    'entitlements',
    'roles',
    'groups',
    URN.enterprise,
  ].map(lower),
);

/**
 * Brings a User to the form the lossy server keeps; true when that changed anything. `write`:
 * a body being stored (displayName always computed, even to nothing); otherwise a body being
 * read, where a projection may have left `name` out and displayName must then stay as it is.
 */
function lossyUser(u: Obj, options: { write: boolean; clearExternalId: boolean }): boolean {
  let changed = false;
  for (const k of Object.keys(u)) {
    if (!LOSSY_KEEPS.has(lower(k))) {
      delete u[k];
      changed = true;
    }
  }
  if (Array.isArray(u.schemas)) {
    const kept = u.schemas.filter(
      (s) => typeof s === 'string' && (lower(s) === URN.user || lower(s) === URN.enterprise),
    );
    if (kept.length !== u.schemas.length) {
      u.schemas = kept;
      changed = true;
    }
  }
  const name = valueOf(u, 'name');
  if (options.write || name !== undefined) {
    const part = (k: string) => (isObject(name) ? valueOf(name, k) : undefined);
    const computed = [part('givenName'), part('familyName')]
      .filter((v): v is string => typeof v === 'string' && v !== '')
      .join(' ');
    const current = valueOf(u, 'displayName');
    if (current !== (computed || undefined) || (keyOf(u, 'displayName') ?? 'displayName') !== 'displayName') {
      deleteAll(u, 'displayName');
      if (computed) u.displayName = computed;
      changed = true;
    }
  }
  const emailsKey = keyOf(u, 'emails');
  const emails = emailsKey === undefined ? undefined : u[emailsKey];
  if (emailsKey !== undefined && Array.isArray(emails) && emails.length > 0) {
    const first = emails[0];
    if (emails.length > 1 || (isObject(first) && keyOf(first, 'type') !== undefined)) {
      const kept = isObject(first) ? { ...first } : first;
      if (isObject(kept)) deleteAll(kept, 'type');
      u[emailsKey] = [kept];
      changed = true;
    }
  }
  if (options.clearExternalId && deleteAll(u, 'externalId')) changed = true;
  return changed;
}

/** The PATCH operations that touch displayName, which the lossy server computes itself. */
function touchesDisplayName(op: Obj): boolean {
  const path = op.path;
  if (typeof path === 'string' && path.trim() !== '') return normPath(path) === 'displayname';
  const value = op.value;
  return isObject(value) && Object.keys(value).some((k) => normPath(k) === 'displayname');
}

// ---------------------------------------------------------------------------------------------
// Schemas

const PARTIAL_USER_DROPS = new Set(['groups', 'photos', 'x509certificates']);

function partialUserSchema(schema: unknown): void {
  if (
    !isObject(schema) ||
    typeof schema.id !== 'string' ||
    lower(schema.id) !== URN.user ||
    !Array.isArray(schema.attributes)
  )
    return;
  const attributes = schema.attributes.filter(
    (a) => !(isObject(a) && typeof a.name === 'string' && PARTIAL_USER_DROPS.has(lower(a.name))),
  );
  schema.attributes = attributes;
  for (const a of attributes) {
    if (isObject(a) && typeof a.name === 'string' && lower(a.name) === 'addresses' && Array.isArray(a.subAttributes)) {
      a.subAttributes = a.subAttributes.filter(
        (s) => !(isObject(s) && typeof s.name === 'string' && lower(s.name) === 'primary'),
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Ids that are user data

/**
 * The two-way map of userDataIds. A proxy id is the userName a user first had; clashes (a name reused after a rename)
 * get a ~N suffix.
 */
class IdMap {
  private readonly up = new Map<string, string>();
  private readonly proxy = new Map<string, string>();

  toUpstream(proxyId: string): string | undefined {
    return this.up.get(proxyId);
  }

  fromUpstream(upstreamId: string): string | undefined {
    return this.proxy.get(upstreamId);
  }

  register(upstreamId: string, userName: string): string {
    const known = this.proxy.get(upstreamId);
    if (known !== undefined) return known;
    let id = userName;
    for (let n = 2; this.up.has(id); n++) id = `${userName}~${n}`;
    this.up.set(id, upstreamId);
    this.proxy.set(upstreamId, id);
    return id;
  }

  forget(upstreamId: string): void {
    const id = this.proxy.get(upstreamId);
    if (id !== undefined) this.up.delete(id);
    this.proxy.delete(upstreamId);
  }
}

const isUserMember = (m: Obj, ids: IdMap): boolean => {
  const type = valueOf(m, 'type');
  if (typeof type === 'string') return lower(type) === 'user';
  const ref = valueOf(m, '$ref');
  if (typeof ref === 'string') return ref.includes('/Users/');
  return typeof m.value === 'string' && ids.fromUpstream(m.value) !== undefined;
};

// ---------------------------------------------------------------------------------------------
// HTTP

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Headers that belong to one connection, not to the message (RFC 9110 §7.6.1), plus the ones recomputed here. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
  'content-length',
]);
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
    // A client that hangs up mid-body must not hold a write "in flight" for ever (after 'end' this is a no-op).
    stream.on('close', () => reject(new Error('the connection closed before the body was complete')));
  });
}

function parseJson(body: Buffer, headers: IncomingHttpHeaders): unknown {
  if (body.length === 0 || !/json/i.test(String(headers['content-type'] ?? 'application/json'))) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

const ok = (status: number) => status >= 200 && status < 300;

interface Target {
  rawPath: string;
  /** '' or '?…', as received. */
  rawQuery: string;
  /** Decoded path segments below the base path; undefined outside it (or when not decodable). */
  below?: string[];
  head?: string;
  kind?: Kind;
  /** The resource id in /Users/{id} or /Groups/{id}, decoded. */
  id?: string;
  /** POST /.search, /Users/.search or /Groups/.search: a read. */
  search: boolean;
  query: URLSearchParams;
}

// ---------------------------------------------------------------------------------------------
// The proxy

/** A number in [0, 1) from a seeded hash of the parts: the same parts, the same number. */
function draw(...parts: Array<string | number>): number {
  return createHash('sha256').update(parts.join('\u0000')).digest().readUInt32BE(0) / 2 ** 32;
}

const FAULTS_BEFORE = new Set<FaultKind>(['error500Before', 'rateLimit429', 'resetBefore']);
const FAULTS_ON_READS = new Set<FaultKind>(['truncated', 'shortPage', 'emptyPage']);

export async function startQuirkProxy(upstream: string, quirks: Quirks, faults?: Faults): Promise<QuirkProxy> {
  const up = new URL(upstream);
  if (up.protocol !== 'http:') throw new Error(`the quirk proxy speaks plain http, not ${up.protocol} (${upstream})`);
  const basePath = up.pathname.replace(/\/+$/, '');
  const upstreamBase = `${up.origin}${basePath}`;
  const agent = new Agent({ keepAlive: true });
  const stats: QuirkProxyStats = {
    requests: 0,
    lockedRefusals: 0,
    writesInFlight: 0,
    upstreamRequests: 0,
    answeredLocally: 0,
    notImplemented: 0,
    renameFailures: 0,
    faults: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>,
  };
  /** How many times each request (method, URL, body) came: the draw for a retry is a fresh one. */
  const occurrences = new Map<string, number>();
  /** The fault an answer is to meet when it is sent (an after-acting one). */
  const pending = new WeakMap<ServerResponse, FaultKind>();

  /** The fault this request meets, if any: the first kind whose draw falls under its rate. */
  function chooseFault(method: string, t: Target, body: Buffer): FaultKind | undefined {
    if (!faults || !t.below || (t.kind === undefined && t.head !== 'Bulk')) return undefined;
    const read = method === 'GET' || t.search;
    const listRead = read && t.kind !== undefined && t.id === undefined;
    const key = `${method} ${t.rawPath}${t.rawQuery} ${createHash('sha256').update(body).digest('hex')}`;
    const n = occurrences.get(key) ?? 0;
    occurrences.set(key, n + 1);
    for (const kind of FAULT_KINDS) {
      const rate = faults.rates[kind] ?? 0;
      if (rate <= 0 || stats.faults[kind] >= (faults.max?.[kind] ?? 200)) continue;
      if (FAULTS_ON_READS.has(kind) && !read) continue;
      if ((kind === 'shortPage' || kind === 'emptyPage') && !listRead) continue;
      if (draw(faults.seed, kind, key, n) < rate) return kind;
    }
    return undefined;
  }

  /** A list page with fewer (or no) Resources than the upstream sent, its totalResults kept. */
  function thinnedPage(
    body: Buffer,
    headers: IncomingHttpHeaders | OutgoingHttpHeaders,
    keep: (length: number) => number,
  ): Buffer | undefined {
    const doc = parseJson(body, headers as IncomingHttpHeaders);
    if (!isObject(doc) || !Array.isArray(doc.Resources) || doc.Resources.length === 0) return undefined;
    const kept = (doc.Resources as unknown[]).slice(0, keep(doc.Resources.length));
    doc.Resources = kept;
    doc.itemsPerPage = kept.length;
    return Buffer.from(JSON.stringify(doc));
  }

  /** Sends an answer through the fault this response was given; false when none applied (send as usual). */
  function sendFaulty(
    res: ServerResponse,
    status: number,
    headers: IncomingHttpHeaders | OutgoingHttpHeaders,
    body: Buffer,
    head: boolean,
  ): boolean {
    const kind = pending.get(res);
    if (kind === undefined) return false;
    pending.delete(res);
    const json = /json/i.test(String(headers['content-type'] ?? ''));
    switch (kind) {
      case 'error500After':
        stats.faults[kind]++;
        send(
          res,
          500,
          { 'content-type': PLAIN_JSON },
          Buffer.from(JSON.stringify({ detail: 'injected fault: 500 after acting' })),
          head,
        );
        return true;
      case 'resetAfter':
        stats.faults[kind]++;
        res.socket?.destroy();
        return true;
      case 'stall':
        stats.faults[kind]++;
        setTimeout(() => {
          if (!res.destroyed && !res.writableEnded) send(res, status, headers, body, head);
        }, faults?.stallMs ?? 2000).unref();
        return true;
      case 'truncated': {
        if (!ok(status) || !json || head || body.length < 2) return false;
        const n = stats.faults[kind]++;
        const half = body.subarray(0, Math.floor(body.length / 2));
        const out: OutgoingHttpHeaders = {};
        for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(lower(k))) out[k] = v;
        if (n % 2 === 0) {
          out['content-length'] = String(half.length);
          res.writeHead(status, out);
          res.end(half);
        } else {
          out['content-length'] = String(body.length);
          res.writeHead(status, out);
          res.write(half, () => res.socket?.destroy());
        }
        return true;
      }
      case 'shortPage':
      case 'emptyPage': {
        if (!ok(status) || !json || head) return false;
        const thinned = thinnedPage(body, headers, kind === 'emptyPage' ? () => 0 : (length) => Math.floor(length / 2));
        if (thinned === undefined) return false;
        stats.faults[kind]++;
        send(res, status, headers, thinned, head);
        return true;
      }
      default:
        return false;
    }
  }
  const ids = new IdMap();
  /** id + "\n" + new userName of renames already answered 500 once. */
  const renamesFailedOnce = new Set<string>();
  let proxyBase = '';
  /**
   * Bulk would carry writes past the switches that rewrite them (ids, members, lossy storage), and
   * the servers these switches stand for have no Bulk: with any of them on, it is not offered.
   */
  const noBulk = Boolean(quirks.userDataIds || quirks.writeOnlyMembers || quirks.lossy);
  const userLocation = (proxyId: string) => `${proxyBase}/Users/${encodeURIComponent(proxyId)}`;

  function call(method: string, path: string, headers: OutgoingHttpHeaders, body?: Buffer): Promise<Reply> {
    stats.upstreamRequests++;
    return new Promise((resolve, reject) => {
      const out = httpRequest(
        { host: up.hostname, port: up.port || 80, method, path, headers: { ...headers, host: up.host }, agent },
        (res) => {
          readAll(res).then((b) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: b }), reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });
  }

  function parseTarget(url: string): Target {
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q);
    const t: Target = { rawPath, rawQuery, search: false, query: new URLSearchParams(rawQuery.slice(1)) };
    if (rawPath !== basePath && !rawPath.startsWith(`${basePath}/`)) return t;
    try {
      t.below = rawPath.slice(basePath.length).split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      return t;
    }
    t.head = t.below[0];
    t.kind = t.head === 'Users' ? 'User' : t.head === 'Groups' ? 'Group' : undefined;
    t.search =
      (t.below.length === 1 && t.head === '.search') ||
      (t.kind !== undefined && t.below.length === 2 && t.below[1] === '.search');
    if (t.kind && t.below.length === 2 && !t.search) t.id = t.below[1];
    return t;
  }

  /** One client request on its way through the proxy. */
  class Exchange {
    readonly method: string;
    json: unknown;
    jsonChanged = false;
    /** Path and query sent upstream: as received unless a quirk rewrote them. */
    upPath: string;
    upQuery: string;
    /** The upstream id of /Users/{id} under userDataIds. */
    upstreamId?: string;
    /** The credentials for the proxy's own look-ups: the client's. */
    readonly auth: OutgoingHttpHeaders;
    private refreshed = false;
    /** An upstream refusal (401, 403) met while looking ids up: relayed instead of going on. */
    refusal?: Reply;

    constructor(
      readonly req: IncomingMessage,
      readonly res: ServerResponse,
      readonly t: Target,
      readonly body: Buffer,
    ) {
      this.method = (req.method ?? 'GET').toUpperCase();
      this.upPath = t.rawPath;
      this.upQuery = t.rawQuery;
      this.json = parseJson(body, req.headers);
      this.auth = { accept: 'application/scim+json' };
      if (req.headers.authorization !== undefined) this.auth.authorization = req.headers.authorization;
    }

    get filter(): string | undefined {
      let f: unknown;
      if (this.t.search && isObject(this.json)) f = valueOf(this.json, 'filter');
      else if (this.method === 'GET' && this.t.kind && this.t.id === undefined)
        f = this.t.query.get('filter') ?? undefined;
      return typeof f === 'string' && f.trim() !== '' ? f : undefined;
    }

    /** Sends the request upstream as it now stands. */
    forward(): Promise<Reply> {
      const headers: OutgoingHttpHeaders = {};
      // accept-encoding stays behind: a compressed answer could not be read by the switches that rewrite bodies.
      for (const [k, v] of Object.entries(this.req.headers))
        if (!HOP_BY_HOP.has(k) && k !== 'accept-encoding' && v !== undefined) headers[k] = v;
      const body = this.jsonChanged ? Buffer.from(JSON.stringify(this.json)) : this.body;
      if (body.length > 0 || this.req.headers['content-length'] !== undefined)
        headers['content-length'] = String(body.length);
      return call(this.method, this.upPath + this.upQuery, headers, body.length > 0 ? body : undefined);
    }

    async getUpstream(path = this.upPath): Promise<{ reply: Reply; doc: unknown }> {
      const reply = await call('GET', path, this.auth);
      return { reply, doc: reply.status === 200 ? parseJson(reply.body, reply.headers) : undefined };
    }

    /** The upstream id for a proxy id; lists the upstream's users once per request when it is unknown. */
    async toUpstream(proxyId: string): Promise<string | undefined> {
      const known = ids.toUpstream(proxyId);
      if (known !== undefined || this.refreshed) return known;
      await this.refresh();
      return ids.toUpstream(proxyId);
    }

    /** Makes sure every upstream user id here has a proxy id (users created upstream directly, or never seen). */
    async ensureKnown(upstreamIds: string[]): Promise<void> {
      let unknown = upstreamIds.filter((u) => ids.fromUpstream(u) === undefined);
      if (unknown.length === 0) return;
      if (!this.refreshed) await this.refresh();
      unknown = unknown.filter((u) => ids.fromUpstream(u) === undefined);
      for (const u of unknown) {
        const { doc } = await this.getUpstream(`${basePath}/Users/${encodeURIComponent(u)}?attributes=userName`);
        if (isObject(doc) && typeof doc.userName === 'string') ids.register(u, doc.userName);
      }
    }

    private async refresh(): Promise<void> {
      this.refreshed = true;
      for (let start = 1; ;) {
        const { reply, doc } = await this.getUpstream(
          `${basePath}/Users?startIndex=${start}&count=1000&attributes=userName`,
        );
        if (reply.status === 401 || reply.status === 403) {
          this.refusal = reply;
          return;
        }
        const list = isObject(doc) && Array.isArray(doc.Resources) ? doc.Resources : [];
        for (const u of list)
          if (isObject(u) && typeof u.id === 'string' && typeof u.userName === 'string') ids.register(u.id, u.userName);
        const total = isObject(doc) && typeof doc.totalResults === 'number' ? doc.totalResults : 0;
        // Stop on an empty page whatever the counters say (a server may cap or misreport them).
        if (list.length === 0 || start - 1 + list.length >= total) return;
        start += list.length;
      }
    }
  }

  function send(
    res: ServerResponse,
    status: number,
    headers: IncomingHttpHeaders | OutgoingHttpHeaders,
    body: Buffer,
    head: boolean,
  ): void {
    if (sendFaulty(res, status, headers, body, head)) return;
    const out: OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(lower(k))) out[k] = v;
    // HEAD keeps the length a GET would have had (RFC 9110 §9.3.2); 204 and 304 have none.
    if (head && headers['content-length'] !== undefined) out['content-length'] = headers['content-length'];
    else if (!head && status !== 204 && status !== 304) out['content-length'] = String(body.length);
    res.writeHead(status, out);
    res.end(head || status === 204 || status === 304 ? undefined : body);
  }

  function sendJson(x: Exchange, status: number, doc: unknown, contentType = SCIM_JSON): void {
    stats.answeredLocally++;
    send(x.res, status, { 'content-type': contentType }, Buffer.from(JSON.stringify(doc)), x.method === 'HEAD');
  }

  /**
   * A quirk answers instead of the upstream, but only once the upstream has seen the request's
   * credentials: its 401/403 goes back as is. Reads are forwarded as they are; for writes
   * (which must not be applied) the target resource is read instead.
   */
  async function answerAfterAuth(x: Exchange, status: number, doc: unknown, probe?: string): Promise<void> {
    const reply =
      probe !== undefined
        ? (await x.getUpstream(probe)).reply
        : WRITES.has(x.method) && !x.t.search
          ? (await x.getUpstream()).reply
          : await x.forward();
    if (reply.status === 401 || reply.status === 403 || (WRITES.has(x.method) && !ok(reply.status)))
      return relay(x, reply);
    sendJson(x, status, doc);
  }

  async function notImplemented(x: Exchange, detail: string): Promise<void> {
    stats.notImplemented++;
    return answerAfterAuth(x, 501, scimError(501, detail));
  }

  /** Response side: the switches that change what comes back, then the answer to the client. */
  async function relay(x: Exchange, reply: Reply, extra: { plusBug?: boolean } = {}): Promise<void> {
    const headers: IncomingHttpHeaders = { ...reply.headers };
    const { t } = x;
    if (quirks.noLocation && reply.status === 201) delete headers.location;
    const touchesResources =
      (t.kind !== undefined || t.search) && (quirks.userDataIds || quirks.writeOnlyMembers || quirks.lossy);
    const touchesDiscovery =
      (t.head === 'Schemas' && quirks.partialSchemas) ||
      (t.head === 'ServiceProviderConfig' && (quirks.noFilters || noBulk) && t.below?.length === 1);
    const doc =
      ok(reply.status) && (touchesResources || touchesDiscovery || extra.plusBug)
        ? parseJson(reply.body, reply.headers)
        : undefined;
    let body = reply.body;
    // What no switch changed keeps the upstream's exact bytes (formatting, key order, escapes).
    const untouched = isObject(doc) ? JSON.stringify(doc) : undefined;
    if (isObject(doc)) {
      if (t.head === 'Schemas' && quirks.partialSchemas) {
        if (Array.isArray(doc.Resources)) doc.Resources.forEach(partialUserSchema);
        else partialUserSchema(doc);
      }
      if (t.head === 'ServiceProviderConfig' && quirks.noFilters)
        doc.filter = { ...(isObject(doc.filter) ? doc.filter : {}), supported: false };
      if (t.head === 'ServiceProviderConfig' && noBulk)
        doc.bulk = { ...(isObject(doc.bulk) ? doc.bulk : {}), supported: false };
      if (touchesResources) await resourcesOut(x, doc, headers, reply.status);
      if (extra.plusBug) {
        // The product server builds the URL from an id it never got back from its store.
        delete doc.id;
        if (isObject(doc.meta)) doc.meta.location = `${proxyBase}/Users/undefined`;
        headers.location = `${proxyBase}/Users/undefined`;
      }
      const text = JSON.stringify(doc);
      if (text !== untouched) body = Buffer.from(text);
    }
    send(x.res, reply.status, headers, body, x.method === 'HEAD');
  }

  async function resourcesOut(x: Exchange, doc: Obj, headers: IncomingHttpHeaders, status: number): Promise<void> {
    const schemas = Array.isArray(doc.schemas) ? doc.schemas.map((s) => lower(String(s))) : [];
    if (schemas.includes(lower(URN.error))) return;
    const list = Array.isArray(doc.Resources) ? doc.Resources.filter(isObject) : [doc];
    const kindOf = (r: Obj): Kind | undefined => {
      const s = Array.isArray(r.schemas) ? r.schemas.map((v) => lower(String(v))) : [];
      if (s.includes(URN.user)) return 'User';
      if (s.includes(URN.group)) return 'Group';
      const type = isObject(r.meta) ? r.meta.resourceType : undefined;
      return type === 'User' || type === 'Group' ? type : x.t.kind;
    };
    const users = list.filter((r) => kindOf(r) === 'User');
    const groups = list.filter((r) => kindOf(r) === 'Group');

    if (quirks.writeOnlyMembers) {
      for (const g of groups) {
        deleteAll(g, 'members');
        g.members = [];
      }
      for (const u of users) deleteAll(u, 'groups');
    }
    if (quirks.lossy) for (const u of users) lossyUser(u, { write: false, clearExternalId: false });
    if (!quirks.userDataIds) return;

    for (const u of users)
      if (typeof u.id === 'string' && typeof u.userName === 'string') ids.register(u.id, u.userName);
    const memberLists = groups.map((g) => valueOf(g, 'members')).filter(Array.isArray) as unknown[][];
    const userMembers = memberLists
      .flat()
      .filter((m): m is Obj => isObject(m) && typeof m.value === 'string' && isUserMember(m, ids));
    await x.ensureKnown(
      [...users.map((u) => u.id), ...userMembers.map((m) => m.value)].filter((v): v is string => typeof v === 'string'),
    );
    for (const u of users) {
      const proxyId = typeof u.id === 'string' ? ids.fromUpstream(u.id) : undefined;
      if (proxyId === undefined) continue;
      u.id = proxyId;
      if (isObject(u.meta) && typeof u.meta.location === 'string') u.meta.location = userLocation(proxyId);
    }
    for (const m of userMembers) {
      const proxyId = ids.fromUpstream(m.value as string);
      if (proxyId === undefined) continue;
      m.value = proxyId;
      const refKey = keyOf(m, '$ref');
      if (refKey !== undefined) m[refKey] = userLocation(proxyId);
    }
    if (status === 201 && x.t.kind === 'User' && headers.location !== undefined && typeof doc.id === 'string')
      headers.location = userLocation(doc.id);
  }

  /** userDataIds, request side: the client's ids in the body and filter become the upstream's. */
  async function mapRequestIds(x: Exchange): Promise<void> {
    const { t } = x;
    const mapFilter = (filter: string, kind: Kind | undefined) =>
      rewriteFilterValues(
        filter,
        (c) =>
          (c.op === 'eq' || c.op === 'ne') &&
          ((normPath(c.attr) === 'id' && kind !== 'Group') ||
            (normPath(c.attr) === 'members.value' && kind !== 'User')),
        (v) => x.toUpstream(v),
      );
    const mapMembers = async (members: unknown) => {
      for (const m of Array.isArray(members) ? members : [members]) {
        if (!isObject(m) || typeof m.value !== 'string') continue;
        const type = valueOf(m, 'type');
        if (typeof type === 'string' && lower(type) !== 'user') continue;
        const mapped = await x.toUpstream(m.value);
        if (mapped !== undefined) m.value = mapped;
      }
      x.jsonChanged = true;
    };

    if (t.search && isObject(x.json) && typeof x.json.filter === 'string') {
      x.json.filter = await mapFilter(x.json.filter, t.kind);
      x.jsonChanged = true;
    } else if (x.method === 'GET' && t.kind && t.id === undefined && x.filter !== undefined) {
      const mapped = await mapFilter(x.filter, t.kind);
      if (mapped !== x.filter) {
        const params = [...t.query].map(([k, v]) => [k, k === 'filter' ? mapped : v] as const);
        x.upQuery = `?${params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
      }
    }
    if (!isObject(x.json)) return;
    if (t.kind === 'User' && x.method === 'PUT' && x.upstreamId !== undefined && keyOf(x.json, 'id') !== undefined) {
      deleteAll(x.json, 'id');
      x.json.id = x.upstreamId;
      x.jsonChanged = true;
    }
    if (t.kind !== 'Group' || t.search) return;
    if (x.method === 'POST' || x.method === 'PUT') {
      const members = valueOf(x.json, 'members');
      if (members !== undefined) await mapMembers(members);
    }
    if (x.method === 'PATCH') {
      for (const op of operationsOf(x.json)) {
        if (typeof op.path === 'string' && op.path.trim() !== '') {
          const p = normPath(op.path);
          if (p === 'members') await mapMembers(op.value);
          else if (p.startsWith('members[')) {
            op.path = await mapFilter(op.path, 'Group');
            x.jsonChanged = true;
          }
        } else if (isObject(op.value) && valueOf(op.value, 'members') !== undefined) {
          await mapMembers(valueOf(op.value, 'members'));
        }
      }
    }
  }

  /** writeOnlyMembers, request side. Returns an upstream refusal to relay, if the group could not be read. */
  async function writeOnlyMembersRequest(x: Exchange): Promise<Reply | undefined> {
    const { t } = x;
    if (!isObject(x.json) || t.search) return undefined;
    if (x.method === 'POST' && t.id === undefined) {
      if (deleteAll(x.json, 'members')) x.jsonChanged = true;
    } else if (x.method === 'PUT' && t.id !== undefined) {
      // The server ignores members on PUT, so what it keeps is what it had: PUT that, since the upstream replaces.
      deleteAll(x.json, 'members');
      x.jsonChanged = true;
      const { reply, doc } = await x.getUpstream();
      if (reply.status === 401 || reply.status === 403) return reply;
      const current = isObject(doc) ? valueOf(doc, 'members') : undefined;
      if (Array.isArray(current)) {
        x.json.members = current
          .filter(isObject)
          .map((m) => ({ value: m.value, ...(typeof m.type === 'string' ? { type: m.type } : {}) }));
      }
    } else if (x.method === 'PATCH' && t.id !== undefined) {
      const opsKey = keyOf(x.json, 'Operations');
      const ops = operationsOf(x.json);
      const out: Obj[] = [];
      for (const op of ops) {
        const isReplace = typeof op.op === 'string' && lower(op.op) === 'replace';
        const hasPath = typeof op.path === 'string' && op.path.trim() !== '';
        if (isReplace && hasPath && normPath(op.path as string) === 'members') {
          out.push({ ...op, op: 'add' });
        } else if (isReplace && !hasPath && isObject(op.value) && keyOf(op.value, 'members') !== undefined) {
          const rest = { ...op.value };
          const members = valueOf(rest, 'members');
          deleteAll(rest, 'members');
          if (Object.keys(rest).length > 0) out.push({ ...op, value: rest });
          out.push({ op: 'add', path: 'members', value: members });
        } else {
          out.push(op);
        }
      }
      if (opsKey !== undefined && out.length > 0) {
        x.json[opsKey] = out;
        x.jsonChanged = true;
      }
    }
    return undefined;
  }

  /** lossy: after a PATCH, the upstream holds what a PATCH made; store the lossy form of it instead. */
  async function settleLossyPatch(x: Exchange, reply: Reply): Promise<Reply> {
    const { doc } = await x.getUpstream();
    if (!isObject(doc) || !lossyUser(doc, { write: true, clearExternalId: false })) return reply;
    delete doc.meta;
    deleteAll(doc, 'groups');
    const put = await call(
      'PUT',
      x.upPath + x.upQuery,
      { ...x.auth, 'content-type': 'application/scim+json' },
      Buffer.from(JSON.stringify(doc)),
    );
    return reply.status === 204 && ok(put.status) ? reply : put;
  }

  const userNameOf = (doc: unknown) => (isObject(doc) && typeof doc.userName === 'string' ? doc.userName : undefined);

  async function serve(x: Exchange): Promise<void> {
    const { t } = x;
    if (!t.below) return relay(x, await x.forward());

    if (noBulk && t.head === 'Bulk' && t.below.length === 1) {
      return answerAfterAuth(x, 501, scimError(501, 'Bulk is not supported'), `${basePath}/Users?count=0`);
    }

    const filter = x.filter;
    if (filter !== undefined && quirks.limitedFilters) {
      const verdict = limitedVerdict(filter);
      if (verdict === 'refuse')
        return answerAfterAuth(x, 400, scimError(400, `this filter is not supported: ${filter}`, 'invalidFilter'));
      if (verdict === 'empty') return answerAfterAuth(x, 200, emptyList());
    }
    if (filter !== undefined && quirks.noFilters && !noFiltersServes(t.kind, filter))
      return answerAfterAuth(x, 200, emptyList());

    if (quirks.userDataIds && t.kind === 'User' && t.id !== undefined) {
      const upstreamId = await x.toUpstream(t.id);
      if (x.refusal) return relay(x, x.refusal);
      if (upstreamId === undefined) return sendJson(x, 404, scimError(404, `User ${t.id} not found`));
      x.upstreamId = upstreamId;
      x.upPath = `${basePath}/Users/${encodeURIComponent(upstreamId)}`;
    }

    if (x.method === 'PATCH' && t.id !== undefined && isObject(x.json)) {
      const ops = operationsOf(x.json);
      const removesByFilter = (op: Obj) =>
        typeof op.op === 'string' &&
        lower(op.op) === 'remove' &&
        typeof op.path === 'string' &&
        /^members\s*\[/.test(normPath(op.path));
      if (quirks.writeOnlyMembers && t.kind === 'Group' && ops.some(removesByFilter)) {
        return notImplemented(
          x,
          'removing members by a filter path is not implemented; use path "members" with a value array',
        );
      }
      if (quirks.lossy && t.kind === 'User' && ops.some(touchesDisplayName))
        return notImplemented(x, 'displayName is computed from name and cannot be patched');
    }

    if (quirks.userDataIds) await mapRequestIds(x);
    if (x.refusal) return relay(x, x.refusal);
    if (quirks.writeOnlyMembers && t.kind === 'Group') {
      const refusal = await writeOnlyMembersRequest(x);
      if (refusal) return relay(x, refusal);
    }
    if (
      quirks.lossy &&
      t.kind === 'User' &&
      !t.search &&
      isObject(x.json) &&
      ((x.method === 'POST' && t.id === undefined) || (x.method === 'PUT' && t.id !== undefined))
    ) {
      lossyUser(x.json, { write: true, clearExternalId: x.method === 'PUT' });
      x.jsonChanged = true;
    }

    const renameCheck =
      quirks.userDataIds && t.kind === 'User' && t.id !== undefined && (x.method === 'PUT' || x.method === 'PATCH');
    const nameBefore = renameCheck ? userNameOf((await x.getUpstream()).doc) : undefined;
    const deleted =
      quirks.deleteWithBody && x.method === 'DELETE' && t.kind && t.id !== undefined
        ? await x.getUpstream()
        : undefined;

    let reply = await x.forward();

    if (quirks.lossy && t.kind === 'User' && t.id !== undefined && x.method === 'PATCH' && ok(reply.status))
      reply = await settleLossyPatch(x, reply);
    if (deleted && reply.status === 204 && deleted.reply.status === 200)
      reply = { status: 200, headers: deleted.reply.headers, body: deleted.reply.body };
    if (quirks.userDataIds && t.kind === 'User' && ok(reply.status)) {
      if (renameCheck && nameBefore !== undefined && t.id !== undefined) {
        const replied = reply.status === 200 ? userNameOf(parseJson(reply.body, reply.headers)) : undefined;
        const nameAfter = replied ?? userNameOf((await x.getUpstream()).doc);
        const key = `${t.id}\n${nameAfter}`;
        if (nameAfter !== undefined && nameAfter !== nameBefore && !renamesFailedOnce.has(key)) {
          renamesFailedOnce.add(key);
          stats.renameFailures++;
          return sendJson(x, 500, { detail: 'Internal Server Error' }, PLAIN_JSON);
        }
      }
    }
    const plusBug =
      quirks.userDataIds &&
      t.kind === 'User' &&
      t.id === undefined &&
      !t.search &&
      x.method === 'POST' &&
      reply.status === 201 &&
      (userNameOf(x.json) ?? '').includes('+');
    await relay(x, reply, { plusBug });
    // Only now: the answer to a DELETE (deleteWithBody) still shows the id the client knew.
    if (
      quirks.userDataIds &&
      t.kind === 'User' &&
      x.method === 'DELETE' &&
      ok(reply.status) &&
      x.upstreamId !== undefined
    )
      ids.forget(x.upstreamId);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++;
    const t = parseTarget(req.url ?? '/');
    const method = (req.method ?? 'GET').toUpperCase();
    let release = () => {};
    if (WRITES.has(method) && !t.search) {
      // A write is in flight from the moment its headers arrive, as a row lock is held for the whole request.
      if (quirks.lockedWrites && stats.writesInFlight > 0) {
        stats.lockedRefusals++;
        stats.answeredLocally++;
        req.resume();
        send(
          res,
          500,
          { 'content-type': PLAIN_JSON },
          Buffer.from(JSON.stringify({ detail: 'database is locked' })),
          false,
        );
        return;
      }
      stats.writesInFlight++;
      let released = false;
      release = () => {
        if (!released) {
          released = true;
          stats.writesInFlight--;
        }
      };
      res.once('close', release);
    }
    try {
      const body = await readAll(req);
      const fault = chooseFault(method, t, body);
      if (fault !== undefined && FAULTS_BEFORE.has(fault)) {
        stats.faults[fault]++;
        stats.answeredLocally++;
        if (fault === 'resetBefore') res.socket?.destroy();
        else if (fault === 'rateLimit429') {
          send(
            res,
            429,
            { 'content-type': SCIM_JSON, 'retry-after': String(faults?.retryAfterSeconds ?? 1) },
            Buffer.from(JSON.stringify(scimError(429, 'injected fault: too many requests'))),
            method === 'HEAD',
          );
        } else
          send(
            res,
            500,
            { 'content-type': PLAIN_JSON },
            Buffer.from(JSON.stringify({ detail: 'injected fault: 500 before acting' })),
            method === 'HEAD',
          );
        return;
      }
      if (fault !== undefined) pending.set(res, fault);
      await serve(new Exchange(req, res, t, body));
    } finally {
      // Released as soon as the answer is written, so a client's next write (sent when it reads the answer) is never
      // refused.
      release();
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) res.destroy();
      else
        send(
          res,
          502,
          { 'content-type': PLAIN_JSON },
          Buffer.from(JSON.stringify({ detail: `quirk proxy: ${e instanceof Error ? e.message : String(e)}` })),
          false,
        );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  proxyBase = `http://127.0.0.1:${address.port}${basePath}`;

  return {
    url: proxyBase,
    upstream: upstreamBase,
    quirks: Object.freeze({ ...quirks }),
    stats,
    ids: { toUpstream: (id) => ids.toUpstream(id), fromUpstream: (id) => ids.fromUpstream(id) },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

function operationsOf(body: Obj): Obj[] {
  const ops = valueOf(body, 'Operations');
  return Array.isArray(ops) ? ops.filter(isObject) : [];
}

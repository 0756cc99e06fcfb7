/**
 * A compatibility test of a SCIM target (`scimctl profile test`): what the target does, per
 * capability, and how scimctl adapts to it. Discovery is redone and everything learned of the
 * target before is forgotten; each finding that changes what scimctl does is recorded through the
 * client (`learnFilter`, `learn`), so later commands of the profile start from it.
 *
 * Read-only unless `writeProbe`: then a throwaway user and group are created, written in every way
 * scimctl writes, and deleted again, whatever fails on the way (what could not be deleted is
 * reported with its id).
 *
 * No yargs, no terminal: the command (src/commands/profile/test.ts) renders the report.
 */
import { randomBytes } from 'node:crypto';
import { sendBulk } from './bulk.ts';
import type { ScimClient } from './client.ts';
import type { Capabilities } from './discovery.ts';
import { pageSizeFor } from './discovery.ts';
import { isFilterRejection, RequestError, ResponseError, ScimError } from './errors.ts';
import { eq, literal } from './filter.ts';
import { compileFilter, registryContext } from './filter-eval.ts';
import { describeUnkept, unkeptIn, type FilterVerdict, type UnkeptHow } from './learned.ts';
import { parseListResponse } from './paging.ts';
import { PATCH_OP_SCHEMA, type PatchRequest } from './patch.ts';
import { BUILTIN_SCHEMAS, SchemaRegistry, type AttributeDef, type SchemaDef } from './schema.ts';
import { SCHEMA, type ScimGroup, type ScimResource, type ScimUser } from './types.ts';
import { putBody } from './update.ts';
import { isPlainObject } from '../util/objects.ts';

// ---------------------------------------------------------------------------------------------
// The report

/**
 * ok: does what it says (or what the RFC says); adapted: differs, and scimctl adapts;
 * absent: not offered, scimctl does without; untested: could not be (or was not asked to be) tried;
 * failed: the probe itself failed at this step.
 */
export type FindingStatus = 'ok' | 'adapted' | 'absent' | 'untested' | 'failed';

export interface Finding {
  /** Stable name: `ServiceProviderConfig`, `filter /Users sw`, `members readable`, `attribute emails.type`, … */
  capability: string;
  status: FindingStatus;
  /** What the target does. */
  does: string;
  /** How scimctl adapts to it. */
  adapts: string;
  /** The request or filter that showed it. */
  detail?: string;
  /** For filter features: the verdict recorded. */
  verdict?: FilterVerdict;
}

/** A throwaway resource of the write probe that could not be deleted (or whose deletion could not be confirmed). */
export interface LeftBehind {
  kind: 'User' | 'Group';
  /** Undefined when the create may have been carried out but the resource was never found. */
  id?: string;
  name: string;
  why: string;
}

export interface CompatReport {
  /** True when scimctl can work with the target (adaptations are not failures). */
  usable: boolean;
  writeProbe: boolean;
  /** totalResults of /Users, as the target says. */
  users?: number;
  findings: Finding[];
  /** Throwaway resources still on the target after the write probe (empty when all went). */
  leftBehind: LeftBehind[];
  /**
   * An error that stopped the probe part-way (the connection or the credentials failed): rethrow it after reporting.
   */
  fatal?: unknown;
  /** Capabilities after the test, with what was learned. */
  capabilities: Capabilities;
}

export interface ProbeOptions {
  /** Create, change and delete a throwaway user and group (otherwise nothing is written). */
  writeProbe?: boolean;
  /** Told before each step (progress on stderr). */
  onProgress?: (phase: string, done: number, total?: number) => void;
  /** The throwaway resources that exist right now (for a message when interrupted). */
  onLive?: (live: ReadonlyArray<{ kind: 'User' | 'Group'; id: string; name: string }>) => void;
  /** The random part of throwaway names (tests). */
  random?: () => string;
}

/** Filter probes ask for this many resources per answer. */
const PROBE_COUNT = 50;
/** Progress steps counted for the filters of an endpoint until its probes are known. */
const FILTER_STEPS = 20;
/** The page size asked for to see the target's cap. */
const CAP_PROBE_COUNT = 1000;

// ---------------------------------------------------------------------------------------------
// Pure parts (unit-tested)

/** A filter to try: the feature it tests, and whether the known resource must be in its answer. */
export interface FilterProbe {
  feature: string;
  filter: string;
  /** Negative probes must not bring the known resource (every answer must match the filter anyway). */
  negative?: boolean;
}

const caseless = (o: Record<string, unknown>, key: string): unknown => {
  if (key in o) return o[key];
  const k = Object.keys(o).find((x) => x.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : o[k];
};

/**
 * The filters that test each feature on an endpoint, built from a resource known to exist
 * (its name, e-mail, members, extension attributes, lastModified). Each positive filter matches
 * that resource; `none` is a value nothing has.
 */
export function filterProbes(kind: 'User' | 'Group', known: ScimResource, none: string): FilterProbe[] {
  const attr = kind === 'User' ? 'userName' : 'displayName';
  const name = caseless(known, attr);
  if (typeof name !== 'string' || name === '') return [];
  const q = (v: string | boolean) => literal(v);
  const probes: FilterProbe[] = [
    { feature: 'eq', filter: `${attr} eq ${q(name)}` },
    { feature: 'ne', filter: `${attr} ne ${q(none)}` },
  ];
  if (name.length > 2) probes.push({ feature: 'co', filter: `${attr} co ${q(name.slice(1, -1))}` });
  if (name.length > 1) {
    probes.push({ feature: 'sw', filter: `${attr} sw ${q(name.slice(0, -1))}` });
    probes.push({ feature: 'ew', filter: `${attr} ew ${q(name.slice(1))}` });
    probes.push({ feature: 'gt', filter: `${attr} gt ${q(name.slice(0, -1))}` });
  }
  probes.push(
    { feature: 'ge', filter: `${attr} ge ${q(name)}` },
    { feature: 'lt', filter: `${attr} lt ${q(`${name}zz`)}` },
    { feature: 'le', filter: `${attr} le ${q(name)}` },
    { feature: 'pr', filter: `${attr} pr` },
    { feature: 'and', filter: `${attr} eq ${q(name)} and ${attr} eq ${q(name)}` },
    { feature: 'and', filter: `${attr} eq ${q(name)} and ${attr} eq ${q(none)}`, negative: true },
    { feature: 'or', filter: `${attr} eq ${q(name)} or ${attr} eq ${q(none)}` },
    { feature: 'parentheses', filter: `(${attr} eq ${q(name)})` },
    { feature: 'not', filter: `not (${attr} eq ${q(none)})` },
  );
  if (kind === 'User') {
    const emails = caseless(known, 'emails');
    const email = Array.isArray(emails)
      ? emails
          .map((e) => (isPlainObject(e) ? e.value : undefined))
          .find((v): v is string => typeof v === 'string' && v !== '')
      : undefined;
    if (email) probes.push({ feature: 'valuePath', filter: `emails[value eq ${q(email)}]` });
    const active = caseless(known, 'active');
    if (typeof active === 'boolean') probes.push({ feature: 'boolean', filter: `active eq ${q(active)}` });
    const ext = extensionAttribute(known);
    if (ext) probes.push({ feature: 'extension', filter: `${ext.path} eq ${q(ext.value)}` });
  } else {
    const members = caseless(known, 'members');
    const member = Array.isArray(members)
      ? members
          .map((m) => (isPlainObject(m) ? m.value : undefined))
          .find((v): v is string => typeof v === 'string' && v !== '')
      : undefined;
    if (member) probes.push({ feature: 'valuePath', filter: `members[value eq ${q(member)}]` });
  }
  const meta = caseless(known, 'meta');
  const lastModified = isPlainObject(meta) ? caseless(meta, 'lastModified') : undefined;
  const time = typeof lastModified === 'string' ? Date.parse(lastModified) : NaN;
  if (Number.isFinite(time)) {
    probes.push({ feature: 'meta', filter: `meta.lastModified gt ${q(new Date(time - 1000).toISOString())}` });
    probes.push({
      feature: 'meta',
      filter: `meta.lastModified gt ${q(new Date(time + 86_400_000).toISOString())}`,
      negative: true,
    });
  }
  return probes;
}

/** The first string attribute of an extension schema on a resource: `urn:…:User:department` and its value. */
function extensionAttribute(resource: ScimResource): { path: string; value: string } | undefined {
  for (const [key, value] of Object.entries(resource)) {
    if (!/^urn:/i.test(key) || !isPlainObject(value)) continue;
    for (const [sub, v] of Object.entries(value))
      if (typeof v === 'string' && v !== '') return { path: `${key}:${sub}`, value: v };
  }
  return undefined;
}

/** How a server answered one filter probe. */
export type FilterAnswer = { resources: ScimResource[] } | { error: unknown };

export interface FilterJudgement {
  verdict: FilterVerdict;
  /** What the server did, in words. */
  why: string;
}

/**
 * The verdict on one answer: an error the server gives filters it cannot evaluate (400, 500, 501)
 * is `rejected`; an answer with resources that do not match (`matches`, when the filter could be
 * evaluated here), or a complete answer without the known resource a positive probe matches, is
 * `wrong`; anything else `works`. Other errors are not verdicts on the filter: they are thrown.
 */
export function judgeFilterAnswer(
  answer: FilterAnswer,
  probe: { negative?: boolean },
  known: { id: string; label: string },
  options: { complete: boolean; matches?: (r: ScimResource) => boolean },
): FilterJudgement {
  if ('error' in answer) {
    const e = answer.error;
    if (!isFilterRejection(e)) throw e;
    const status = (e as ResponseError).status;
    const type = e instanceof ScimError && e.scimType ? ` ${e.scimType}` : '';
    return { verdict: 'rejected', why: `refused (${status}${type})` };
  }
  const { resources } = answer;
  const unmatched = options.matches ? resources.filter((r) => !options.matches!(r)) : [];
  if (unmatched.length > 0) {
    return {
      verdict: 'wrong',
      why: `answers wrongly: ${unmatched.length} of ${resources.length} resource(s) returned do not match`,
    };
  }
  if (!probe.negative && options.complete && !resources.some((r) => r.id === known.id)) {
    return {
      verdict: 'wrong',
      why:
        resources.length === 0
          ? `answers wrongly: 200 with nothing (${known.label} matches)`
          : `answers wrongly: leaves out ${known.label}, which matches`,
    };
  }
  return { verdict: 'works', why: 'answers correctly' };
}

/** The verdicts of several probes of one feature: the worst wins (rejected, then wrong). */
export function combineVerdicts(judgements: readonly FilterJudgement[]): FilterJudgement {
  return (
    judgements.find((j) => j.verdict === 'rejected') ??
    judgements.find((j) => j.verdict === 'wrong') ??
    judgements[0] ?? { verdict: 'works', why: 'answers correctly' }
  );
}

/** Attribute paths a resource carries that a schema does not declare (`groups`, `addresses.primary`). */
export function undeclaredIn(resource: ScimResource, schema: SchemaDef): string[] {
  const out = new Set<string>();
  const skip = new Set(['schemas', 'id', 'externalid', 'meta']);
  const byName = (defs: readonly AttributeDef[] | undefined, name: string) =>
    defs?.find((d) => d.name.toLowerCase() === name.toLowerCase());
  for (const [key, value] of Object.entries(resource)) {
    if (skip.has(key.toLowerCase()) || /^urn:/i.test(key)) continue;
    const def = byName(schema.attributes, key);
    if (!def) {
      out.add(key);
      continue;
    }
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) {
      if (!isPlainObject(item) || def.type !== 'complex') continue;
      for (const sub of Object.keys(item)) if (!byName(def.subAttributes, sub)) out.add(`${key}.${sub}`);
    }
  }
  return [...out];
}

/** The attribute paths a user carries, lower-case: top-level names, and `name.sub` for complex values. */
export function carriedPaths(resource: ScimResource): string[] {
  const out = new Set<string>();
  for (const [key, value] of Object.entries(resource)) {
    if (/^urn:/i.test(key)) continue;
    out.add(key.toLowerCase());
    for (const item of Array.isArray(value) ? value : [value]) {
      if (isPlainObject(item))
        for (const sub of Object.keys(item)) out.add(`${key.toLowerCase()}.${sub.toLowerCase()}`);
    }
  }
  return [...out];
}

/** What a paging probe saw: a small page and a big one. */
export interface PagingObservation {
  /** `count` asked for the small page, and what came back. */
  small: { asked: number; got: number; itemsPerPage?: number; total?: number };
  /** The big page (CAP_PROBE_COUNT asked). */
  big?: { asked: number; got: number; itemsPerPage?: number; total?: number };
  /** What discovery advertised: pagination.maxPageSize, else filter.maxResults. */
  advertisedMax?: number;
  /** The page size scimctl asks for. */
  pageSize: number;
}

/** Paging findings from what two pages showed. */
export function pagingFindings(p: PagingObservation): { findings: Finding[]; cap?: number } {
  const findings: Finding[] = [];
  const total = p.big?.total ?? p.small.total;
  let cap: number | undefined;
  const follows = 'reads on until a page comes back empty, whatever the counters say';
  if (p.big) {
    const { asked, got } = p.big;
    const expected = total === undefined ? undefined : Math.min(asked, total);
    if (expected !== undefined && got < expected) {
      cap = got;
      const advertised =
        p.advertisedMax !== undefined && p.advertisedMax !== got ? `; advertises ${p.advertisedMax}` : '';
      findings.push({
        capability: 'paging: page size',
        status: 'adapted',
        does: `pages capped at ${got} (asked ${asked}, ${total} in all)${advertised}`,
        adapts: `asks for pages of ${p.pageSize} and ${follows}`,
        detail: `GET /Users?startIndex=1&count=${asked}`,
      });
    } else if (p.advertisedMax !== undefined && got > p.advertisedMax) {
      findings.push({
        capability: 'paging: page size',
        status: 'adapted',
        does: `advertises at most ${p.advertisedMax} per page, but returned ${got} for count=${asked}`,
        adapts: `asks for pages of ${p.pageSize} (within what it advertises) and ${follows}`,
        detail: `GET /Users?startIndex=1&count=${asked}`,
      });
    } else {
      findings.push({
        capability: 'paging: page size',
        status: 'ok',
        does:
          total !== undefined && total <= asked
            ? `no cap seen (all ${got} users in one page of count=${asked})`
            : `pages of up to ${got} served as asked`,
        adapts: `asks for pages of ${p.pageSize} and ${follows}`,
        detail: `GET /Users?startIndex=1&count=${asked}`,
      });
    }
  }
  const { asked, got } = p.small;
  if (total !== undefined && total <= asked) {
    findings.push({
      capability: 'paging: count',
      status: 'untested',
      does: `cannot tell with ${total} user(s)`,
      adapts: `trusts the resources received, never the count asked for`,
    });
  } else if (got > asked) {
    findings.push({
      capability: 'paging: count',
      status: 'adapted',
      does: `ignores count (asked ${asked}, got ${got})`,
      adapts: 'keeps only what it needs; stops a listing on an empty page and skips resources seen before',
      detail: `GET /Users?startIndex=1&count=${asked}`,
    });
  } else {
    findings.push({
      capability: 'paging: count',
      status: 'ok',
      does: `honours count (asked ${asked}, got ${got})`,
      adapts: 'used as is',
      detail: `GET /Users?startIndex=1&count=${asked}`,
    });
  }
  const liar = [p.small, p.big].find(
    (o) => o !== undefined && o.itemsPerPage !== undefined && o.itemsPerPage !== o.got,
  );
  if (liar) {
    findings.push({
      capability: 'paging: itemsPerPage',
      status: 'adapted',
      does: `says itemsPerPage=${liar.itemsPerPage} for a page of ${liar.got}`,
      adapts: 'ignores itemsPerPage: counts the resources received',
      detail: `GET /Users?startIndex=1&count=${liar.asked}`,
    });
  } else if (p.small.itemsPerPage === undefined && p.big?.itemsPerPage === undefined) {
    findings.push({
      capability: 'paging: itemsPerPage',
      status: 'absent',
      does: 'not sent',
      adapts: 'counts the resources received',
    });
  } else {
    findings.push({
      capability: 'paging: itemsPerPage',
      status: 'ok',
      does: 'matches the resources in the page',
      adapts: 'not relied on (resources are counted)',
    });
  }
  if (p.big && total !== undefined && cap === undefined && p.big.got < p.big.asked && p.big.got !== total) {
    findings.push({
      capability: 'paging: totalResults',
      status: 'adapted',
      does: `says totalResults=${total}, but the whole listing has ${p.big.got}`,
      adapts: 'ignores totalResults: reads until an empty page',
      detail: `GET /Users?startIndex=1&count=${p.big.asked}`,
    });
  }
  return { findings, cap };
}

// ---------------------------------------------------------------------------------------------
// The probe

/** The connection or the credentials failed: nothing more can be learned. */
function isFatal(e: unknown): boolean {
  return e instanceof RequestError || (e instanceof ResponseError && (e.status === 401 || e.status === 403));
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
/** "a, b on /Users; c on /Groups": the features of each endpoint that `features` picks. */
const perEndpoint = (endpoints: string[], features: (endpoint: string) => string[], joiner: string): string =>
  endpoints.map((e) => `${features(e).join(', ')} ${joiner} ${e}`).join('; ');
const statusOf = (e: unknown): string =>
  e instanceof ResponseError
    ? `${e.status}${e instanceof ScimError && e.scimType ? ` ${e.scimType}` : ''}`
    : message(e);

interface Page {
  resources: ScimResource[];
  total?: number;
  itemsPerPage?: number;
}

class Probe {
  readonly findings: Finding[] = [];
  readonly leftBehind: LeftBehind[] = [];
  caps!: Capabilities;
  users: number | undefined;
  usable = true;
  /** The page size cap seen (filter answers of that many may be incomplete). */
  cap: number | undefined;
  knownUser: ScimUser | undefined;
  knownGroup: ScimGroup | undefined;
  groupsEndpoint = true;
  private readonly live = new Map<string, { kind: 'User' | 'Group'; id: string; name: string }>();
  /** Users a target made of a search request (POST /Users/.search taken for a create). */
  readonly strays: string[] = [];
  readonly rand: string;

  constructor(
    readonly client: ScimClient,
    readonly options: ProbeOptions,
  ) {
    this.rand = options.random?.() ?? randomBytes(4).toString('hex');
  }

  add(f: Finding): void {
    this.findings.push(f);
  }

  /** Steps done and (estimated) in all: filters count as 20 per endpoint until their probes are known. */
  private steps = { done: 0, total: 0 };

  /** One step more done; told with the phase it belongs to. */
  progress(phase: string): void {
    this.options.onProgress?.(phase, this.steps.done++, this.steps.total);
  }

  /** Corrects the estimate of the steps in all. */
  expect(steps: number): void {
    this.steps.total += steps;
  }

  private async page(
    endpoint: string,
    query: Record<string, string | number | undefined>,
    retry = true,
  ): Promise<Page> {
    const res = await this.client.transport.request('GET', endpoint, { query, expect: [200], idempotent: retry });
    const page = parseListResponse(res.body, res.status);
    const ipp = isPlainObject(res.body) ? res.body.itemsPerPage : undefined;
    return { resources: page.resources, total: page.total, itemsPerPage: typeof ipp === 'number' ? ipp : undefined };
  }

  // --- discovery -------------------------------------------------------------------------------

  async discovery(): Promise<void> {
    this.progress('discovery');
    const before = this.client.learnedNow() ?? (await this.client.capabilities()).learned;
    this.caps = await this.client.discover({ forget: true });
    if (this.options.writeProbe) {
      // A test with writes learns everything anew, the write limit too.
      this.client.transport.writes.limit = Infinity;
    } else {
      // Without writes, what only writes teach (attributes kept, members readable, the write limit) is kept.
      const { filters: _filters, ...fromWrites } = before;
      await this.client.learn((l) => Object.assign(l, fromWrites, { filters: l.filters }));
    }
    const caps = this.caps;
    const warning = (path: string) => caps.warnings.find((w) => w.startsWith(`${path}:`));
    const spcWarning = warning('/ServiceProviderConfig');
    if (caps.source === 'discovered') {
      const bulk = caps.bulk.supported ? `Bulk (max ${caps.bulk.maxOperations || '?'} operations)` : 'no Bulk';
      const filter = caps.filter.supported
        ? `filter${caps.filter.maxResults ? ` (max ${caps.filter.maxResults} results)` : ''}`
        : 'no filter';
      const paging = [caps.pagination.index ? 'index' : '', caps.pagination.cursor ? 'cursor' : '']
        .filter(Boolean)
        .join('+');
      this.add({
        capability: 'ServiceProviderConfig',
        status: 'ok',
        does:
          `published: ${caps.patch ? 'PATCH' : 'no PATCH'}, ${bulk}, ${filter}, ` +
          `${caps.sort ? 'sort' : 'no sort'}, ${caps.etag ? 'ETag' : 'no ETag'}, ` +
          `${paging} paging`,
        adapts: 'drives PATCH, Bulk, page size and If-Match; checked against what the target does (below)',
      });
    } else {
      this.add({
        capability: 'ServiceProviderConfig',
        status: 'adapted',
        does: `missing (${spcWarning ?? 'unusable'})`,
        adapts: 'conservative defaults: PUT instead of PATCH, no Bulk, index paging, no If-Match',
      });
    }
    const rtWarning = warning('/ResourceTypes');
    const types = caps.resourceTypes.map((t) => `${t.name} ${t.endpoint}`).join(', ');
    this.add(
      rtWarning
        ? {
            capability: 'ResourceTypes',
            status: 'adapted',
            does: `missing (${rtWarning})`,
            adapts: `assumes the RFC's ${types}`,
          }
        : { capability: 'ResourceTypes', status: 'ok', does: `published: ${types}`, adapts: 'used as is' },
    );
    if (!caps.schemasFromServer) {
      this.add({
        capability: 'Schemas',
        status: 'adapted',
        does: `missing (${warning('/Schemas') ?? 'no usable schema'})`,
        adapts: 'uses the RFC 7643 definitions',
      });
      return;
    }
    // Discovery completed what the server left out (caps.undeclared); schemas it did not describe at all came whole
    // from the RFC.
    const gaps = caps.undeclared.map(([, shown]) => `User.${shown}`);
    const missingSchemas = BUILTIN_SCHEMAS.filter(
      (rfc) => rfc.id !== SCHEMA.ENTERPRISE_USER && caps.schemas.some((s) => s === rfc),
    ).map((rfc) => rfc.name ?? rfc.id);
    if (gaps.length === 0 && missingSchemas.length === 0) {
      this.add({
        capability: 'Schemas',
        status: 'ok',
        does: `published: ${caps.schemas.filter((s) => !BUILTIN_SCHEMAS.includes(s)).length} schema(s), complete`,
        adapts: 'used as is',
      });
    } else {
      const parts = [
        ...(missingSchemas.length > 0 ? [`no ${missingSchemas.join(', ')} schema`] : []),
        ...(gaps.length > 0 ? [`lacks ${gaps.join(', ')}`] : []),
      ];
      this.add({
        capability: 'Schemas',
        status: 'adapted',
        does: `partial: ${parts.join('; ')}`,
        adapts:
          'completed with the RFC 7643 definitions: those attributes are accepted (kept ' +
          "where the target's users carry them, else left out of a sync with a warning)",
        detail: gaps.join(', '),
      });
    }
  }

  // --- connection and paging ------------------------------------------------------------------

  async paging(): Promise<void> {
    this.progress('paging');
    // The first real read proves the credentials (discovery may be open to anyone); its errors are fatal.
    const small = await this.page('/Users', { startIndex: 1, count: 2 });
    this.users = small.total;
    this.knownUser = small.resources[0] as ScimUser | undefined;
    this.add({
      capability: 'connection',
      status: 'ok',
      does: `reads /Users with these credentials${small.total !== undefined ? ` (${small.total} users)` : ''}`,
      adapts: 'used as is',
      detail: 'GET /Users?startIndex=1&count=2',
    });
    let big: Page | undefined;
    try {
      big = await this.page('/Users', { startIndex: 1, count: CAP_PROBE_COUNT });
    } catch (e) {
      if (isFatal(e)) throw e;
      this.add({
        capability: 'paging: page size',
        status: 'failed',
        does: `count=${CAP_PROBE_COUNT} failed: ${statusOf(e)}`,
        adapts: `asks for pages of ${pageSizeFor(this.caps)}`,
      });
    }
    const advertisedMax = this.caps.pagination.maxPageSize ?? this.caps.filter.maxResults;
    const result = pagingFindings({
      small: { asked: 2, got: small.resources.length, itemsPerPage: small.itemsPerPage, total: small.total },
      big: big
        ? {
            asked: CAP_PROBE_COUNT,
            got: big.resources.length,
            itemsPerPage: big.itemsPerPage,
            total: big.total ?? small.total,
          }
        : undefined,
      advertisedMax,
      pageSize: pageSizeFor(this.caps),
    });
    for (const f of result.findings) this.add(f);
    this.cap = result.cap;
    if (this.knownUser && big) {
      // The full resource, as a read by id gives it (a listing may leave attributes out).
      this.knownUser =
        (big.resources.find((r) => r.id === this.knownUser!.id) as ScimUser | undefined) ?? this.knownUser;
    }
    this.add(this.idsFinding(this.knownUser));
  }

  private idsFinding(user: ScimUser | undefined): Finding {
    if (!user)
      return {
        capability: 'ids',
        status: 'untested',
        does: 'no user to look at',
        adapts: 'ids are always percent-encoded in paths',
      };
    const id = user.id;
    if (typeof user.userName === 'string' && id.toLowerCase() === user.userName.toLowerCase()) {
      return {
        capability: 'ids',
        status: 'adapted',
        does: `ids are user data (the userName: "${id}")`,
        adapts: 'ids are percent-encoded in paths and never assumed to follow renames',
      };
    }
    return {
      capability: 'ids',
      status: 'ok',
      does: /[@/+ ]/.test(id) ? `ids carry special characters ("${id}")` : 'opaque ids',
      adapts: 'ids are percent-encoded in paths',
    };
  }

  // --- groups, members readable, ETag, users' groups -------------------------------------------

  async groupsAndEtags(): Promise<void> {
    this.progress('groups and ETags');
    try {
      const groups = await this.page('/Groups', { startIndex: 1, count: 20 });
      this.knownGroup = (groups.resources.find((g) => Array.isArray(g.members) && g.members.length > 0) ??
        groups.resources[0]) as ScimGroup | undefined;
    } catch (e) {
      if (isFatal(e)) throw e;
      this.groupsEndpoint = false;
      this.add({
        capability: 'groups',
        status: 'absent',
        does: `/Groups answers ${statusOf(e)}`,
        adapts: 'group commands and group sync cannot be used',
      });
    }
    if (this.knownGroup) await this.membersFromReads(this.knownGroup);
    else if (this.groupsEndpoint)
      this.add({
        capability: 'members readable',
        status: 'untested',
        does: 'no group to look at',
        adapts: this.options.writeProbe
          ? 'tried by the write probe (below)'
          : 'learned on the first membership change (or run with --write-probe)',
      });

    const user = this.knownUser;
    if (!user) {
      this.add({
        capability: 'ETag',
        status: 'untested',
        does: 'no user to read',
        adapts: this.caps.etag ? 'sends If-Match on writes of what it read' : 'sends no If-Match',
      });
      return;
    }
    let etag: string | null = null;
    let version: unknown;
    let read: ScimUser | undefined;
    try {
      const res = await this.client.transport.request('GET', `/Users/${encodeURIComponent(user.id)}`, {
        expect: [200],
      });
      etag = res.headers.get('etag');
      read = isPlainObject(res.body) ? (res.body as ScimUser) : undefined;
      version = read && isPlainObject(read.meta) ? read.meta.version : undefined;
    } catch (e) {
      if (isFatal(e)) throw e;
      this.add({
        capability: 'ETag',
        status: 'failed',
        does: `reading user ${user.id} failed: ${statusOf(e)}`,
        adapts: this.caps.etag ? 'sends If-Match on writes of what it read' : 'sends no If-Match',
      });
    }
    if (read && typeof read.userName === 'string') this.knownUser = read;
    const sent = etag ?? (typeof version === 'string' ? version : undefined);
    if (read) {
      if (this.caps.etag && sent) {
        this.add({
          capability: 'ETag',
          status: 'ok',
          does: `advertised and sent (${sent})`,
          adapts:
            'sends If-Match on writes of what it read: a change made by someone else in ' +
            'between is refused, never overwritten',
        });
      } else if (this.caps.etag) {
        this.add({
          capability: 'ETag',
          status: 'adapted',
          does: 'advertised, but no ETag header or meta.version sent',
          adapts: 'nothing to send as If-Match: changes by others between a read and a write are not detected',
        });
      } else if (sent) {
        this.add({
          capability: 'ETag',
          status: 'adapted',
          does:
            `ServiceProviderConfig says etag unsupported, but ` +
            `${etag ? 'an ETag header' : 'meta.version'} is sent (${sent})`,
          adapts: 'goes by the ServiceProviderConfig: sends no If-Match',
        });
      } else {
        this.add({
          capability: 'ETag',
          status: 'absent',
          does: 'not supported, none sent',
          adapts: 'sends no If-Match',
        });
      }
    }
    const userGroups = caseless(this.knownUser ?? user, 'groups');
    this.add(
      Array.isArray(userGroups)
        ? { capability: "users' groups", status: 'ok', does: 'users carry their groups', adapts: 'used as is' }
        : {
            capability: "users' groups",
            status: 'adapted',
            does: 'users come without a groups attribute',
            adapts: 'memberships are read from the groups',
          },
    );
    this.schemaVersusUsers();
  }

  private async membersFromReads(group: ScimGroup): Promise<void> {
    let members = Array.isArray(group.members) ? group.members : undefined;
    let asked = false;
    try {
      if (!members || members.length === 0) {
        const full = await this.client.groups.get(group.id);
        members = Array.isArray(full.members) ? full.members : undefined;
      }
      if (!members || members.length === 0) {
        const withMembers = await this.client.groups.get(group.id, { attributes: ['displayName', 'members'] });
        if (Array.isArray(withMembers.members) && withMembers.members.length > 0) {
          members = withMembers.members;
          asked = true;
        }
      }
    } catch (e) {
      if (isFatal(e)) throw e;
    }
    if (members && members.length > 0) {
      this.knownGroup = { ...group, members };
      await this.client.learn((l) => (l.membersReadable = true));
      this.add({
        capability: 'members readable',
        status: asked ? 'adapted' : 'ok',
        does: asked
          ? 'group members come back only when asked for (attributes=members)'
          : 'groups come with their members',
        adapts: asked ? 'asks for members when it reads a group' : 'used as is',
      });
      return;
    }
    this.add({
      capability: 'members readable',
      status: 'untested',
      does: 'no group shows members (empty groups, or membership is write-only)',
      adapts: this.options.writeProbe
        ? 'tried by the write probe (below)'
        : 'learned on the first membership change (or run with --write-probe)',
    });
  }

  /** Users carrying attributes the target's own /Schemas does not declare. */
  private schemaVersusUsers(): void {
    const user = this.knownUser;
    if (!user || !this.caps.schemasFromServer) return;
    const served = this.caps.schemas.find((s) => s.id.toLowerCase() === SCHEMA.USER.toLowerCase());
    if (!served || BUILTIN_SCHEMAS.includes(served)) return;
    // Unknown even to the RFC, or undeclared by the target's /Schemas and completed from the RFC's by discovery.
    const completedFrom = new Map(this.caps.undeclared);
    const carried = carriedPaths(user)
      .map((p) => completedFrom.get(p))
      .filter((p): p is string => p !== undefined);
    const undeclared = [...new Set([...undeclaredIn(user, served), ...carried])];
    if (undeclared.length === 0) return;
    this.add({
      capability: 'Schemas vs users',
      status: 'adapted',
      does: `users carry attributes /Schemas does not declare: ${undeclared.join(', ')}`,
      adapts: "accepts and keeps them (a sync of the target's own export does not fail)",
    });
  }

  // --- filters -------------------------------------------------------------------------------

  async filters(endpoint: '/Users' | '/Groups', known: ScimResource | undefined): Promise<void> {
    const kind = endpoint === '/Users' ? 'User' : 'Group';
    const phase = `filters on ${endpoint}`;
    if (!known) {
      this.expect(-FILTER_STEPS);
      this.add({
        capability: `filter ${endpoint}`,
        status: 'untested',
        does: `no ${kind.toLowerCase()} to test filters with`,
        adapts: this.caps.filter.supported
          ? 'sends filters and checks the answers; learns what works on first use'
          : 'evaluates filters on this side (ServiceProviderConfig says filter.supported=false)',
      });
      return;
    }
    const probes = filterProbes(kind, known, `scimctl-probe-none-${this.rand}`);
    this.expect(probes.length - FILTER_STEPS);
    const label =
      `${kind === 'User' ? 'user' : 'group'} ` +
      `"${String(caseless(known, kind === 'User' ? 'userName' : 'displayName'))}"`;
    const matcher = this.matcher(kind);
    const byFeature = new Map<string, Array<{ probe: FilterProbe; judgement: FilterJudgement }>>();
    const limit = Math.min(PROBE_COUNT, this.cap ?? Infinity);
    for (const probe of probes) {
      this.progress(phase);
      const matches = matcher(probe.filter);
      // A probe the known resource does not match here says nothing (odd data): skipped.
      if (matches && !probe.negative && !matches(known)) continue;
      let answer: FilterAnswer;
      try {
        // Not retried on a 5xx: some servers crash on filters they do not know, and that is the verdict.
        answer = await this.page(endpoint, { filter: probe.filter, startIndex: 1, count: PROBE_COUNT }, false);
      } catch (e) {
        if (isFatal(e)) throw e;
        answer = { error: e };
      }
      let judgement: FilterJudgement;
      try {
        judgement = judgeFilterAnswer(
          answer,
          probe,
          { id: known.id, label },
          { complete: 'resources' in answer && answer.resources.length < limit, matches },
        );
      } catch (e) {
        // Not an answer about the filter (404, say).
        judgement = { verdict: 'rejected', why: `failed: ${statusOf(e)}` };
      }
      const list = byFeature.get(probe.feature) ?? [];
      list.push({ probe, judgement });
      byFeature.set(probe.feature, list);
    }
    for (const [feature, results] of byFeature) {
      const judgement = combineVerdicts(results.map((r) => r.judgement));
      const shown = results.find((r) => r.judgement === judgement) ?? results[0]!;
      await this.client.learnFilter(endpoint, [feature], judgement.verdict);
      this.add({
        capability: `filter ${endpoint} ${feature}`,
        status: judgement.verdict === 'works' ? 'ok' : 'adapted',
        does: judgement.why,
        adapts:
          judgement.verdict === 'works'
            ? this.caps.filter.supported
              ? 'sent to the server'
              : 'sent to the server (seen working, although ServiceProviderConfig says filter.supported=false)'
            : 'evaluated by scimctl over a full listing',
        detail: shown.probe.filter,
        verdict: judgement.verdict,
      });
    }
  }

  /** Evaluates a filter here as the client would (strict: an attribute the schemas lack cannot be judged). */
  private matcher(kind: 'User' | 'Group'): (filter: string) => ((r: ScimResource) => boolean) | undefined {
    const registry = new SchemaRegistry(this.caps.schemas);
    const core = kind === 'User' ? SCHEMA.USER : SCHEMA.GROUP;
    const type = this.caps.resourceTypes.find((t) => t.schema.toLowerCase() === core.toLowerCase());
    const extensions = type ? type.schemaExtensions.map((e) => e.schema) : [];
    if (kind === 'User' && !extensions.some((e) => e.toLowerCase() === SCHEMA.ENTERPRISE_USER.toLowerCase()))
      extensions.push(SCHEMA.ENTERPRISE_USER);
    return (filter) => {
      try {
        const compiled = compileFilter(filter, registryContext(registry, core, extensions, true));
        return (r) => compiled.test(r);
      } catch {
        return undefined;
      }
    };
  }

  /** ServiceProviderConfig's filter.supported against what the probes found. */
  filterTruth(): void {
    const learned = this.client.learnedNow()?.filters ?? {};
    const working = (endpoint: string) =>
      Object.entries(learned[endpoint] ?? {})
        .filter(([, v]) => v === 'works')
        .map(([f]) => f);
    const failing = (endpoint: string) =>
      Object.entries(learned[endpoint] ?? {})
        .filter(([, v]) => v !== 'works')
        .map(([f]) => f);
    const endpoints = ['/Users', '/Groups'].filter((e) => learned[e] !== undefined);
    if (endpoints.length === 0) return;
    if (!this.caps.filter.supported) {
      const works = endpoints.filter((e) => working(e).length > 0);
      this.add({
        capability: 'filter (ServiceProviderConfig)',
        status: 'adapted',
        does:
          works.length > 0
            ? `says filter.supported=false, yet some work: ${perEndpoint(works, working, 'on')}`
            : 'says filter.supported=false, and no filter works',
        adapts:
          works.length > 0
            ? 'filters made only of features seen working go to the server; the rest are evaluated on this side'
            : 'evaluates every filter on this side',
      });
      return;
    }
    const failingSomewhere = endpoints.filter((e) => failing(e).length > 0);
    this.add(
      failingSomewhere.length > 0
        ? {
            capability: 'filter (ServiceProviderConfig)',
            status: 'adapted',
            does: `says filters are supported, but ${perEndpoint(failingSomewhere, failing, 'fail on')}`,
            adapts: 'filters with those features are evaluated on this side; the rest go to the server',
          }
        : {
            capability: 'filter (ServiceProviderConfig)',
            status: 'ok',
            does: 'says filters are supported, and every feature tried works',
            adapts: 'filters go to the server',
          },
    );
  }

  // --- POST /.search and Bulk (read side) ------------------------------------------------------

  async search(): Promise<void> {
    this.progress('POST /.search');
    const userName =
      typeof this.knownUser?.userName === 'string' ? this.knownUser.userName : `scimctl-probe-none-${this.rand}`;
    // No userName at the top: a server that takes a search for a create refuses it instead of creating.
    const body = {
      schemas: [SCHEMA.SEARCH_REQUEST],
      filter: eq('userName', userName).toString(),
      startIndex: 1,
      count: 1,
    };
    try {
      const res = await this.client.transport.request('POST', '/Users/.search', {
        body,
        expect: [200, 201],
        idempotent: false,
      });
      const list =
        isPlainObject(res.body) && (Array.isArray(res.body.Resources) || typeof res.body.totalResults === 'number');
      if (res.status === 200 && list) {
        this.client.searchEndpointSupported = true;
        this.add({
          capability: 'POST /.search',
          status: 'ok',
          does: 'answers searches',
          adapts: 'used for queries too long for a URL',
          detail: 'POST /Users/.search',
        });
      } else {
        this.client.searchEndpointSupported = false;
        const id = isPlainObject(res.body) && typeof res.body.id === 'string' ? res.body.id : undefined;
        const what = id ? `a resource (id ${id}): it takes a search for a create` : 'something that is not a list';
        this.add({
          capability: 'POST /.search',
          status: 'adapted',
          does: `answers ${res.status} with ${what}`,
          adapts: 'never uses /.search here: long queries go as GET',
          detail: 'POST /Users/.search',
        });
        if (id) this.strays.push(id);
      }
    } catch (e) {
      if (isFatal(e)) throw e;
      this.client.searchEndpointSupported = false;
      this.add({
        capability: 'POST /.search',
        status: e instanceof ResponseError && [404, 405, 501].includes(e.status) ? 'absent' : 'adapted',
        does: `answers ${statusOf(e)}`,
        adapts: 'long queries go as GET',
        detail: 'POST /Users/.search',
      });
    }
  }

  bulkAdvertised(): void {
    const b = this.caps.bulk;
    if (!b.supported) {
      this.add({
        capability: 'Bulk',
        status: 'absent',
        does: 'not advertised',
        adapts: 'bulk-create sends one request per user (paced to what the target takes)',
      });
    } else if (!this.options.writeProbe) {
      this.add({
        capability: 'Bulk',
        status: 'untested',
        does: `advertised (max ${b.maxOperations || '?'} operations, ${b.maxPayloadSize || '?'} bytes)`,
        adapts: 'bulk-create uses it within those limits (--write-probe tries it)',
      });
    }
  }

  // --- the write probe ---------------------------------------------------------------------------

  private track(kind: 'User' | 'Group', id: string, name: string): void {
    this.live.set(`${kind}:${id}`, { kind, id, name });
    this.options.onLive?.([...this.live.values()]);
  }

  private untrack(kind: 'User' | 'Group', id: string): void {
    this.live.delete(`${kind}:${id}`);
    this.options.onLive?.([...this.live.values()]);
  }

  async writes(): Promise<void> {
    const userName = `scimctl-probe-${this.rand}@example.invalid`;
    const groupName = `scimctl-probe-${this.rand}`;
    const sent: Record<string, unknown> = {
      schemas: [SCHEMA.USER],
      userName,
      externalId: `scimctl-probe-${this.rand}`,
      name: { givenName: 'Scimctl', familyName: `Probe ${this.rand}` },
      // Not what a server would compute from name: a computed displayName shows.
      displayName: `Probe display ${this.rand}`,
      title: 'Compatibility probe',
      active: false,
      emails: [
        { value: userName, type: 'work', primary: true },
        { value: `scimctl-probe-${this.rand}.home@example.invalid`, type: 'home' },
      ],
      photos: [{ value: 'https://example.invalid/scimctl-probe.png', type: 'photo' }],
    };
    let user: ScimUser | undefined;
    let group: ScimGroup | undefined;
    let userMaybe = false;
    let groupMaybe = false;
    try {
      this.progress('write probe');
      try {
        userMaybe = true;
        user = await this.client.users.create(sent as unknown as ScimUser);
        this.track('User', user.id, userName);
      } catch (e) {
        if (isFatal(e)) throw e;
        this.usable = false;
        this.add({
          capability: 'create',
          status: 'failed',
          does: `creating a user failed: ${message(e)}`,
          adapts: 'nothing: scimctl cannot provision this target as it is',
          detail: `POST /Users ${userName}`,
        });
        return;
      }
      userMaybe = false;
      const withoutId = this.client.learnedNow()?.createWithoutId === true;
      this.add(
        withoutId
          ? {
              capability: 'create',
              status: 'adapted',
              does: "answers a create without the new user's id",
              adapts: 'looks the new user up by userName',
              detail: `POST /Users ${userName}`,
            }
          : {
              capability: 'create',
              status: 'ok',
              does: 'answers a create with the new user',
              adapts: 'used as is',
              detail: `POST /Users ${userName}`,
            },
      );
      // The ids of the target's users were looked at already; the throwaway user's tell only when they differ.
      const ids = this.idsFinding(user);
      if (this.findings.find((f) => f.capability === 'ids')?.status !== ids.status)
        this.add({ ...ids, capability: 'ids (write probe)' });
      const uid = user.id;

      // What was kept of what was sent: the create's answer, and a read right after.
      this.progress('write probe');
      const unkept: Record<string, UnkeptHow> = { ...unkeptIn(sent, user) };
      const readBack = await this.softly(() => this.client.users.get(uid));
      if (readBack) Object.assign(unkept, unkeptIn(sent, readBack));

      this.progress('write probe');
      group = await this.softly(
        () => {
          groupMaybe = true;
          return this.client.groups.create({ schemas: [SCHEMA.GROUP], displayName: groupName } as ScimGroup);
        },
        (e) =>
          this.add({
            capability: 'group create',
            status: 'failed',
            does: `creating a group failed: ${message(e)}`,
            adapts: 'group sync cannot be used as is',
            detail: `POST /Groups ${groupName}`,
          }),
      );
      groupMaybe = false;
      if (group) this.track('Group', group.id, groupName);
      // A target with no users or groups of its own: the filters are tried on the throwaway ones.
      if (!this.knownUser) await this.filters('/Users', readBack ?? user);
      if (!this.knownGroup && this.groupsEndpoint) await this.filters('/Groups', group);

      // PATCH replace (the form scimctl sends for a changed attribute).
      this.progress('write probe');
      await this.patchProbe(uid);

      // Writes at once: a target that fails them is paced (the client learns the limit).
      this.progress('write probe');
      await this.concurrencyProbe(uid);

      // If-Match with a stale version must be refused.
      this.progress('write probe');
      await this.ifMatchProbe(uid);

      // PUT: the user as sent, with another title.
      this.progress('write probe');
      const putSent = { ...sent, title: 'Compatibility probe (put)' };
      const put = await this.softly(
        () =>
          this.client.users.replace(uid, {
            ...putBody({ ...putSent, id: uid } as ScimUser, SCHEMA.USER),
            id: uid,
          } as ScimUser),
        (e) =>
          this.add({
            capability: 'PUT',
            status: 'failed',
            does: `PUT failed: ${statusOf(e)}`,
            adapts: this.caps.patch ? 'changes go as PATCH' : 'nothing: users cannot be changed',
            detail: `PUT /Users/${uid}`,
          }),
      );
      if (put) {
        const afterPut = (await this.softly(() => this.client.users.get(uid))) ?? put;
        const lost = { ...unkeptIn(putSent, put), ...unkeptIn(putSent, afterPut) };
        const newlyLost = Object.keys(lost).filter((p) => unkept[p] === undefined);
        Object.assign(unkept, lost);
        this.add({
          capability: 'PUT',
          status: newlyLost.length > 0 ? 'adapted' : 'ok',
          does: newlyLost.length > 0 ? `works, but clears ${newlyLost.join(', ')}` : 'replaces the user as sent',
          adapts:
            newlyLost.length > 0 ? 'plans leave out what the target does not keep' : 'used when PATCH is not available',
          detail: `PUT /Users/${uid}`,
        });
      }
      await this.client.learn((l) => (l.unkept = { ...unkept }));
      this.unkeptFindings(unkept);

      // Bulk, when advertised: one PATCH of the throwaway user.
      this.progress('write probe');
      await this.bulkProbe(uid);

      // Members: add, read back, remove by filter form, add again, remove by value form.
      this.progress('write probe');
      if (group) await this.membersProbe(group.id, uid);
      else
        this.add({
          capability: 'members readable',
          status: 'untested',
          does: 'no throwaway group (its create failed)',
          adapts: 'learned on the first membership change',
        });
    } finally {
      this.progress('cleanup');
      await this.cleanup({ user, group, userName, groupName, userMaybe, groupMaybe });
    }
  }

  /** Runs a step whose failure is a finding, not the end: fatal errors still end the probe. */
  private async softly<T>(step: () => Promise<T>, onError?: (e: unknown) => void): Promise<T | undefined> {
    try {
      return await step();
    } catch (e) {
      if (isFatal(e)) throw e;
      onError?.(e);
      return undefined;
    }
  }

  private async patchProbe(uid: string): Promise<void> {
    if (!this.caps.patch) {
      this.add({
        capability: 'PATCH',
        status: 'absent',
        does: 'not advertised',
        adapts: 'changes go as PUT of the whole resource',
      });
      return;
    }
    const title = 'Compatibility probe (patched)';
    const request: PatchRequest = {
      schemas: [PATCH_OP_SCHEMA],
      Operations: [{ op: 'replace', path: 'title', value: title }],
    };
    try {
      const answer = await this.client.users.patch(uid, request);
      const after = answer && typeof answer.userName === 'string' ? answer : await this.client.users.get(uid);
      const kept = after.title === title;
      this.add({
        capability: 'PATCH',
        status: kept ? 'ok' : 'adapted',
        does: kept
          ? `replace by path works (${answer ? '200 with the user' : '204'})`
          : `replace by path answered ${answer ? 200 : 204}, but title is "${String(after.title)}"`,
        adapts: kept ? 'changes go as PATCH' : 'changes are read back; what does not stick is reported',
        detail: `PATCH /Users/${uid} replace title`,
      });
    } catch (e) {
      if (isFatal(e)) throw e;
      const unsupported = e instanceof ResponseError && (e.status === 501 || e.status === 405);
      this.add({
        capability: 'PATCH',
        status: unsupported ? 'adapted' : 'failed',
        does: `advertised, but replace by path answers ${statusOf(e)}`,
        adapts: unsupported ? 'falls back to PUT of the whole resource' : "the change fails with the server's message",
        detail: `PATCH /Users/${uid} replace title`,
      });
    }
  }

  private async concurrencyProbe(uid: string): Promise<void> {
    const at = (n: number): PatchRequest => ({
      schemas: [PATCH_OP_SCHEMA],
      Operations: [{ op: 'replace', path: 'title', value: `Compatibility probe ${n}` }],
    });
    const write = (n: number) =>
      this.caps.patch
        ? this.client.users.patch(uid, at(n))
        : this.client.users.get(uid).then((u) =>
            this.client.users.replace(uid, {
              ...putBody(u, SCHEMA.USER),
              id: uid,
              title: `Compatibility probe ${n}`,
            } as ScimUser),
          );
    const results = await Promise.allSettled([1, 2, 3, 4].map(write));
    const fatal = results.find((r): r is PromiseRejectedResult => r.status === 'rejected' && isFatal(r.reason));
    if (fatal) throw fatal.reason;
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    const limit = this.client.learnedNow()?.writeLimit;
    if (limit !== undefined) {
      this.add({
        capability: 'concurrent writes',
        status: failed.length > 0 ? 'failed' : 'adapted',
        does:
          `fails writes sent at ` +
          `once${
            failed.length > 0
              ? ` (${failed.length} of 4 failed even after retries: ` + `${statusOf(failed[0]!.reason)})`
              : ' (they succeed one at a time)'
          }`,
        adapts: `sends at most ${limit} write(s) at a time, growing back while the target keeps up`,
        detail: '4 PATCHes of the throwaway user at once',
      });
    } else if (failed.length > 0) {
      this.add({
        capability: 'concurrent writes',
        status: 'failed',
        does: `${failed.length} of 4 writes at once failed: ${statusOf(failed[0]!.reason)}`,
        adapts: 'the failures are reported per item',
        detail: '4 writes of the throwaway user at once',
      });
    } else {
      this.add({
        capability: 'concurrent writes',
        status: 'ok',
        does: 'takes 4 writes at once',
        adapts: 'writes in parallel (--concurrency)',
        detail: '4 writes of the throwaway user at once',
      });
    }
  }

  private async ifMatchProbe(uid: string): Promise<void> {
    const stale = 'W/"scimctl-probe-stale"';
    const request: PatchRequest = {
      schemas: [PATCH_OP_SCHEMA],
      Operations: [{ op: 'replace', path: 'title', value: 'Compatibility probe (if-match)' }],
    };
    try {
      if (this.caps.patch) await this.client.users.patch(uid, request, { ifMatch: stale });
      else {
        const current = await this.client.users.get(uid);
        await this.client.users.replace(uid, { ...putBody(current, SCHEMA.USER), id: uid } as ScimUser, {
          ifMatch: stale,
        });
      }
      this.add({
        capability: 'If-Match',
        status: 'adapted',
        does: 'ignores If-Match: a write with a stale version was applied',
        adapts: this.caps.etag
          ? 'sends If-Match anyway; changes by others between a read and a write are not detected'
          : 'sends no If-Match; changes by others between a read and a write are not detected',
        detail: `${this.caps.patch ? 'PATCH' : 'PUT'} /Users/${uid} If-Match: ${stale}`,
      });
    } catch (e) {
      if (isFatal(e)) throw e;
      const refused = e instanceof ResponseError && e.status === 412;
      this.add({
        capability: 'If-Match',
        status: refused ? (this.caps.etag ? 'ok' : 'adapted') : 'failed',
        does: refused
          ? 'refuses a write with a stale version (412)'
          : `a write with a stale If-Match answers ${statusOf(e)}`,
        adapts: refused
          ? this.caps.etag
            ? 'sends If-Match on writes of what it read'
            : 'goes by the ServiceProviderConfig (etag unsupported): sends no If-Match'
          : 'sends If-Match only where the ServiceProviderConfig says etag is supported',
        detail: `${this.caps.patch ? 'PATCH' : 'PUT'} /Users/${uid} If-Match: ${stale}`,
      });
    }
  }

  private unkeptFindings(unkept: Record<string, UnkeptHow>): void {
    const paths = Object.keys(unkept).sort();
    if (paths.length === 0) {
      this.add({
        capability: 'attributes kept',
        status: 'ok',
        does: 'keeps every attribute as sent (create and PUT)',
        adapts: 'used as is',
      });
      return;
    }
    for (const path of paths) {
      const how = unkept[path]!;
      this.add({
        capability: `attribute ${path}`,
        status: 'adapted',
        does:
          how === 'computed'
            ? 'computed: the server sets its own value'
            : how === 'single'
              ? 'single: only one value is kept'
              : 'dropped: not kept',
        adapts:
          how === 'single'
            ? 'plans send and compare one value (the primary)'
            : 'plans leave it out, so a second plan is not the same change again',
        detail: describeUnkept(path, how),
      });
    }
  }

  private async bulkProbe(uid: string): Promise<void> {
    const b = this.caps.bulk;
    if (!b.supported) return;
    const op = {
      method: 'PATCH' as const,
      path: `/Users/${encodeURIComponent(uid)}`,
      data: {
        schemas: [PATCH_OP_SCHEMA],
        Operations: [{ op: 'replace', path: 'title', value: 'Compatibility probe (bulk)' }],
      },
    };
    try {
      const [result] = await sendBulk(this.client.transport, [op]);
      const ok = result !== undefined && result.status >= 200 && result.status < 300;
      if (!ok) {
        this.caps.bulk.supported = false;
        await this.client.learn(() => undefined);
      }
      this.add({
        capability: 'Bulk',
        status: ok ? 'ok' : 'adapted',
        does: ok
          ? `advertised and works (max ${b.maxOperations || '?'} operations)`
          : `advertised, but a PATCH in a Bulk request answered ${result?.status || 'nothing'}`,
        adapts: ok
          ? 'bulk-create uses it within its limits'
          : 'not used until the next discovery: bulk-create sends one request per user',
        detail: 'POST /Bulk (one PATCH of the throwaway user)',
      });
    } catch (e) {
      if (isFatal(e)) throw e;
      this.caps.bulk.supported = false;
      await this.client.learn(() => undefined);
      this.add({
        capability: 'Bulk',
        status: 'adapted',
        does: `advertised, but POST /Bulk answers ${statusOf(e)}`,
        adapts: 'not used until the next discovery: bulk-create sends one request per user',
        detail: 'POST /Bulk (one PATCH of the throwaway user)',
      });
    }
  }

  private async readMemberIds(gid: string): Promise<Set<string>> {
    const g = await this.client.groups.get(gid);
    let members = Array.isArray(g.members) ? g.members : undefined;
    if (!members || members.length === 0) {
      const again = await this.client.groups.get(gid, { attributes: ['displayName', 'members'] });
      members = Array.isArray(again.members) ? again.members : members;
    }
    return new Set((members ?? []).map((m) => m.value).filter((v): v is string => typeof v === 'string'));
  }

  private async membersProbe(gid: string, uid: string): Promise<void> {
    const send = (Operations: PatchRequest['Operations']) =>
      this.client.groups.patch(gid, { schemas: [PATCH_OP_SCHEMA], Operations });
    const addMember = () => send([{ op: 'add', path: 'members', value: [{ value: uid }] }]);
    if (!this.caps.patch) {
      this.add({
        capability: 'members readable',
        status: 'untested',
        does: 'no PATCH to add a member with',
        adapts: 'memberships are changed by PUT of the group with its members read first',
      });
      return;
    }
    try {
      await addMember();
    } catch (e) {
      if (isFatal(e)) throw e;
      this.add({
        capability: 'member add',
        status: 'failed',
        does: `PATCH add members answers ${statusOf(e)}`,
        adapts: 'memberships cannot be changed as is',
        detail: `PATCH /Groups/${gid} add members`,
      });
      return;
    }
    this.add({
      capability: 'member add',
      status: 'ok',
      does: 'PATCH add members works',
      adapts: 'used as is (at most 100 members per PATCH)',
      detail: `PATCH /Groups/${gid} add members`,
    });
    const readable = (await this.softly(() => this.readMemberIds(gid)))?.has(uid);
    if (readable !== undefined) {
      await this.client.learn((l) => (l.membersReadable = readable));
      // The reads of existing groups may have said so already: the write probe's answer replaces it.
      const i = this.findings.findIndex((f) => f.capability === 'members readable');
      if (i >= 0) this.findings.splice(i, 1);
      this.add(
        readable
          ? {
              capability: 'members readable',
              status: 'ok',
              does: 'a member added comes back when the group is read',
              adapts: 'used as is',
              detail: `GET /Groups/${gid}`,
            }
          : {
              capability: 'members readable',
              status: 'adapted',
              does:
                'members are not readable: a member added does not come back when the group is ' +
                'read (membership is write-only)',
              adapts: 'keeps its own record of the members it added, and removes only those',
              detail: `GET /Groups/${gid}`,
            },
      );
    }
    const verify = async (): Promise<boolean | undefined> =>
      readable ? !(await this.readMemberIds(gid)).has(uid) : undefined;
    const forms: Array<{ form: 'filter' | 'value'; op: PatchRequest['Operations'][number] }> = [
      { form: 'filter', op: { op: 'remove', path: `members[value eq ${literal(uid)}]` } },
      { form: 'value', op: { op: 'remove', path: 'members', value: [{ value: uid }] } },
    ];
    const works: Array<'filter' | 'value'> = [];
    let needsAdd = false;
    for (const { form, op } of forms) {
      const capability = `member removal (${form} form)`;
      const detail = `PATCH /Groups/${gid} remove ${form === 'filter' ? op.path : 'path members with a value'}`;
      try {
        if (needsAdd) await addMember();
        needsAdd = true;
        await send([op]);
        const gone = await verify();
        if (gone === false) {
          this.add({
            capability,
            status: 'adapted',
            does: 'answers success, but the member is still there',
            adapts: form === 'filter' ? 'falls back to the value form' : 'memberships cannot be removed reliably',
            detail,
          });
          continue;
        }
        works.push(form);
        this.add({
          capability,
          status: 'ok',
          does: gone ? 'removes the member' : 'answers success (cannot be read back)',
          adapts:
            form === 'filter'
              ? 'used first (the RFC form)'
              : works.includes('filter')
                ? 'kept as the fallback'
                : 'used (the filter form is refused)',
          detail,
        });
      } catch (e) {
        if (isFatal(e)) throw e;
        this.add({
          capability,
          status: form === 'filter' ? 'adapted' : 'failed',
          does: `refused: ${statusOf(e)}`,
          adapts:
            form === 'filter'
              ? 'removes with the value form (path members, value [...])'
              : works.includes('filter')
                ? 'the filter form is used'
                : 'members cannot be removed by PATCH',
          detail,
        });
      }
    }
    const chosen = works[0];
    if (chosen) {
      this.caps.memberRemoval = chosen;
      await this.client.learn(() => undefined);
    }
  }

  // --- cleanup -----------------------------------------------------------------------------------

  private async cleanup(what: {
    user?: ScimUser;
    group?: ScimGroup;
    userName: string;
    groupName: string;
    userMaybe: boolean;
    groupMaybe: boolean;
  }): Promise<void> {
    const gone: string[] = [];
    const before = this.leftBehind.length;
    const one = async (kind: 'User' | 'Group', known: string | undefined, maybe: boolean, name: string) => {
      let id = known;
      if (!id && maybe) {
        // The create failed in a way that may still have created it: look for it by name.
        const found = await this.lookUp(kind, name);
        if (found === 'failed')
          this.leftBehind.push({
            kind,
            name,
            why: 'its create may have been carried out, and it could not be looked up',
          });
        else id = found;
      }
      if (id && (await this.remove(kind, id, name))) gone.push(`${kind.toLowerCase()} ${id}`);
    };
    // The group first: it refers to the user.
    await one('Group', what.group?.id, what.groupMaybe, what.groupName);
    await one('User', what.user?.id, what.userMaybe, what.userName);
    for (const stray of this.strays.splice(0))
      if (await this.remove('User', stray, '(made by POST /Users/.search)')) gone.push(`user ${stray}`);
    const left = this.leftBehind.slice(before);
    if (gone.length === 0 && left.length === 0) return;
    this.add(
      left.length === 0
        ? {
            capability: 'cleanup',
            status: 'ok',
            does: `deleted ${gone.join(' and ')}; nothing left behind`,
            adapts: 'DELETE answered with 204 or 200: both are taken',
          }
        : {
            capability: 'cleanup',
            status: 'failed',
            does: `left behind: ${left.map(describeLeft).join('; ')}`,
            adapts: 'delete them by hand',
          },
    );
  }

  private async lookUp(kind: 'User' | 'Group', name: string): Promise<string | undefined | 'failed'> {
    try {
      const api = kind === 'User' ? this.client.users : this.client.groups;
      const found = await api.toArray({
        filter: eq(kind === 'User' ? 'userName' : 'displayName', name),
        limit: 2,
        verifyEmpty: true,
      });
      return found[0]?.id;
    } catch {
      return 'failed';
    }
  }

  /** Deletes and confirms (a 404 on the read after); false, with a left-behind entry, when it stays. */
  private async remove(kind: 'User' | 'Group', id: string, name: string): Promise<boolean> {
    const api = kind === 'User' ? this.client.users : this.client.groups;
    let failure: unknown;
    try {
      await api.delete(id);
    } catch (e) {
      if (!(e instanceof ResponseError && e.status === 404)) failure = e;
    }
    try {
      await api.get(id);
      this.leftBehind.push({
        kind,
        id,
        name,
        why: failure
          ? `DELETE failed: ${message(failure)}`
          : 'DELETE answered success, but it can still be read (the target may only deactivate)',
      });
      return false;
    } catch (e) {
      if (e instanceof ResponseError && e.status === 404) {
        this.untrack(kind, id);
        return true;
      }
      this.leftBehind.push({
        kind,
        id,
        name,
        why: failure ? `DELETE failed: ${message(failure)}` : `its deletion could not be confirmed: ${message(e)}`,
      });
      return false;
    }
  }
}

/** `user 1f3c… "scimctl-probe-…" (DELETE failed: …)` */
export function describeLeft(l: LeftBehind): string {
  return `${l.kind.toLowerCase()} ${l.id ?? '(id unknown)'} "${l.name}" (${l.why})`;
}

/** Where a finding goes in the report: by what it is about, in the order an admin reads them. */
const ORDER: Array<[RegExp, number]> = [
  [/^connection$/, 0],
  [/^ServiceProviderConfig$/, 1],
  [/^ResourceTypes$/, 2],
  [/^Schemas/, 3],
  [/^paging/, 4],
  [/^ids/, 5],
  [/^filter \(/, 6],
  [/^filter \/Users/, 7],
  [/^filter \/Groups/, 8],
  [/^POST \/\.search$/, 9],
  [/^ETag$/, 10],
  [/^groups$/, 11],
  [/^users' groups$/, 11],
  [/^members readable$/, 12],
  [/^member /, 13],
  [/^Bulk$/, 14],
  [/^writes$/, 15],
  [/^create$/, 15],
  [/^group create$/, 15],
  [/^PATCH$/, 16],
  [/^PUT$/, 17],
  [/^If-Match$/, 18],
  [/^concurrent writes$/, 19],
  [/^attribute/, 20],
  [/^cleanup$/, 30],
  [/^overall$/, 31],
];
const rank = (capability: string): number => ORDER.find(([re]) => re.test(capability))?.[1] ?? 25;

/** The summary row: usable or not, and how much was adapted. */
function overall(p: Probe): Finding {
  const count = (s: FindingStatus) => p.findings.filter((f) => f.status === s).length;
  const adapted = count('adapted');
  const failed = count('failed');
  return {
    capability: 'overall',
    status: p.usable ? (adapted > 0 ? 'adapted' : 'ok') : 'failed',
    does:
      `${count('ok')} as expected, ${adapted} different, ${count('absent')} not ` +
      `offered, ${count('untested')} ` +
      `untested${failed > 0 ? `, ${failed} failed` : ''}`,
    adapts: p.usable
      ? adapted > 0
        ? 'usable: scimctl adapts as above, for every command of this profile'
        : 'usable as is'
      : 'not usable as is (see the failed rows)',
  };
}

/**
 * Tests a target: discovery (forgetting what was learned), paging, every filter feature on
 * /Users and /Groups, members, ETags, /.search and Bulk; with `writeProbe`, the writes too.
 * Throws when the first read fails (no connection, bad credentials); later fatal errors end
 * the probe with `fatal` set, after the cleanup.
 */
export async function probeTarget(client: ScimClient, options: ProbeOptions = {}): Promise<CompatReport> {
  const p = new Probe(client, options);
  p.expect(4 + 2 * FILTER_STEPS + (options.writeProbe ? 10 : 0));
  await p.discovery();
  await p.paging();
  let fatal: unknown;
  try {
    await p.groupsAndEtags();
    // A target without users (or groups) is probed with the throwaway ones, when there are any.
    if (p.knownUser || !options.writeProbe) await p.filters('/Users', p.knownUser);
    if (p.groupsEndpoint && (p.knownGroup || !options.writeProbe)) await p.filters('/Groups', p.knownGroup);
    else if (!p.groupsEndpoint) p.expect(-FILTER_STEPS);
    await p.search();
    p.bulkAdvertised();
    if (options.writeProbe) {
      await p.writes();
    } else {
      p.add({
        capability: 'writes',
        status: 'untested',
        does: 'not tried (no --write-probe): create, PATCH, PUT, members, If-Match',
        adapts: 'learned from the answers of the first writes',
      });
    }
    p.filterTruth();
  } catch (e) {
    if (!isFatal(e)) throw e;
    fatal = e;
    p.usable = false;
  }
  // Without the write probe nothing is deleted: what a search made stays, and is reported.
  for (const id of p.strays.splice(0))
    p.leftBehind.push({
      kind: 'User',
      id,
      name: '(made by POST /Users/.search)',
      why: 'the target took a search request for a create',
    });
  p.findings.push(overall(p));
  const findings = p.findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => rank(a.f.capability) - rank(b.f.capability) || a.i - b.i)
    .map(({ f }) => f);
  return {
    usable: p.usable,
    writeProbe: options.writeProbe === true,
    users: p.users,
    findings,
    leftBehind: p.leftBehind,
    fatal,
    capabilities: p.caps,
  };
}

/**
 * The compatibility probe (src/api/probe.ts): how answers are classified, and what a probe of a
 * fake target reports and records. The fake is an in-memory SCIM target with switches for the
 * behaviours of real ones (filters refused or answered wrongly, write-only members, lossy storage).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScimClient, type CapabilityCache } from '../../src/api/client.ts';
import type { Capabilities } from '../../src/api/discovery.ts';
import { ScimError } from '../../src/api/errors.ts';
import { compileFilter, registryContext } from '../../src/api/filter-eval.ts';
import { emptyLearned, filterFeatures, type Learned } from '../../src/api/learned.ts';
import type { PatchOperation } from '../../src/api/patch.ts';
import {
  combineVerdicts,
  filterProbes,
  judgeFilterAnswer,
  pagingFindings,
  probeTarget,
  undeclaredIn,
  type CompatReport,
  type Finding,
} from '../../src/api/probe.ts';
import { completeSchemas, GROUP_SCHEMA, SchemaRegistry, USER_SCHEMA } from '../../src/api/schema.ts';
import { SCHEMA, type ScimResource } from '../../src/api/types.ts';
import { BASE, fakeFetch, listResponse, recordingSleep, scimError, scimJson, type FakeRequest } from './helpers.ts';

const ANN = {
  schemas: [SCHEMA.USER, SCHEMA.ENTERPRISE_USER],
  id: 'u-ann',
  userName: 'ann.lee@example.com',
  active: true,
  emails: [{ value: 'ann.lee@example.com', type: 'work', primary: true }],
  [SCHEMA.ENTERPRISE_USER]: { department: 'Sales' },
  meta: { resourceType: 'User', lastModified: '2026-01-02T03:04:05.000Z', version: 'W/"1"' },
};
const BOB = {
  schemas: [SCHEMA.USER],
  id: 'u-bob',
  userName: 'bob@example.com',
  active: false,
  emails: [{ value: 'bob@example.com' }],
  meta: { resourceType: 'User', lastModified: '2026-01-01T00:00:00.000Z' },
};
const STAFF = {
  schemas: [SCHEMA.GROUP],
  id: 'g-staff',
  displayName: 'Staff',
  members: [{ value: 'u-ann' }],
  meta: { resourceType: 'Group', lastModified: '2026-01-02T00:00:00.000Z' },
};

const registry = new SchemaRegistry();
const matches = (kind: 'User' | 'Group', filter: string) =>
  compileFilter(
    filter,
    registryContext(
      registry,
      kind === 'User' ? SCHEMA.USER : SCHEMA.GROUP,
      kind === 'User' ? [SCHEMA.ENTERPRISE_USER] : [],
    ),
  ).test;

describe('judgeFilterAnswer', () => {
  const known = { id: 'u-ann', label: 'user "ann"' };
  const eqAnn = (r: ScimResource) => r.id === 'u-ann';

  test('400, 500 and 501 are refusals; 401 is not a verdict on the filter', () => {
    for (const [status, type] of [
      [400, 'invalidFilter'],
      [500, undefined],
      [501, undefined],
    ] as const) {
      const j = judgeFilterAnswer({ error: new ScimError(status, type, 'no') }, {}, known, { complete: true });
      assert.equal(j.verdict, 'rejected');
      assert.match(j.why, new RegExp(`refused \\(${status}`));
    }
    assert.throws(
      () => judgeFilterAnswer({ error: new ScimError(401, undefined, 'who?') }, {}, known, { complete: true }),
      ScimError,
    );
  });

  test('an answer without the known match, or with resources that do not match, is wrong', () => {
    assert.equal(judgeFilterAnswer({ resources: [] }, {}, known, { complete: true, matches: eqAnn }).verdict, 'wrong');
    assert.match(
      judgeFilterAnswer({ resources: [] }, {}, known, { complete: true }).why,
      /200 with nothing \(user "ann" matches\)/,
    );
    const extra = judgeFilterAnswer({ resources: [ANN, BOB] }, {}, known, { complete: true, matches: eqAnn });
    assert.equal(extra.verdict, 'wrong');
    assert.match(extra.why, /1 of 2 resource\(s\) returned do not match/);
    assert.equal(
      judgeFilterAnswer({ resources: [ANN] }, {}, known, { complete: true, matches: eqAnn }).verdict,
      'works',
    );
  });

  test(
    'an incomplete page without the known match is not held against the server; ' + 'negative probes need no match',
    () => {
      assert.equal(
        judgeFilterAnswer({ resources: [BOB] }, {}, known, { complete: false, matches: () => true }).verdict,
        'works',
      );
      assert.equal(
        judgeFilterAnswer({ resources: [] }, { negative: true }, known, { complete: true, matches: () => false })
          .verdict,
        'works',
      );
      assert.equal(
        judgeFilterAnswer({ resources: [ANN] }, { negative: true }, known, { complete: true, matches: () => false })
          .verdict,
        'wrong',
      );
    },
  );

  test('the worst verdict of a feature wins', () => {
    const works = { verdict: 'works' as const, why: 'ok' };
    const wrong = { verdict: 'wrong' as const, why: 'w' };
    const rejected = { verdict: 'rejected' as const, why: 'r' };
    assert.equal(combineVerdicts([works, wrong]).verdict, 'wrong');
    assert.equal(combineVerdicts([wrong, rejected, works]).verdict, 'rejected');
    assert.equal(combineVerdicts([works]).verdict, 'works');
  });
});

describe('filterProbes', () => {
  test('every feature is tried with a filter the known user matches (negative ones it does not)', () => {
    const probes = filterProbes('User', ANN, 'scimctl-probe-none-x');
    const features = new Set(probes.map((p) => p.feature));
    for (const f of [
      'eq',
      'ne',
      'co',
      'sw',
      'ew',
      'gt',
      'ge',
      'lt',
      'le',
      'pr',
      'and',
      'or',
      'not',
      'parentheses',
      'valuePath',
      'boolean',
      'extension',
      'meta',
    ]) {
      assert.ok(features.has(f), `a probe for ${f}`);
    }
    for (const p of probes) {
      assert.ok(filterFeatures(p.filter).includes(p.feature), `${p.filter} has ${p.feature}`);
      assert.equal(matches('User', p.filter)(ANN), !p.negative, p.filter);
    }
    assert.ok(probes.some((p) => p.filter === 'userName eq "ann.lee@example.com"'));
    assert.ok(probes.some((p) => p.filter === `${SCHEMA.ENTERPRISE_USER}:department eq "Sales"`));
    assert.ok(probes.some((p) => p.filter === 'active eq true'));
  });

  test('groups: by displayName, members as the value path; nothing without a name', () => {
    const probes = filterProbes('Group', STAFF, 'none');
    assert.ok(probes.some((p) => p.filter === 'members[value eq "u-ann"]' && p.feature === 'valuePath'));
    assert.ok(!probes.some((p) => p.feature === 'boolean' || p.feature === 'extension'));
    for (const p of probes) assert.equal(matches('Group', p.filter)(STAFF), !p.negative, p.filter);
    assert.deepEqual(filterProbes('Group', { id: 'g' }, 'none'), []);
  });
});

describe('schemas', () => {
  test('discovery completes a partial /Schemas and names what it added (undeclared)', () => {
    const served = {
      ...USER_SCHEMA,
      attributes: USER_SCHEMA.attributes
        .filter((a) => !['groups', 'photos', 'x509Certificates'].includes(a.name))
        .map((a) =>
          a.name === 'addresses' ? { ...a, subAttributes: a.subAttributes!.filter((s) => s.name !== 'primary') } : a,
        ),
    };
    const completed = completeSchemas([served, GROUP_SCHEMA]);
    assert.deepEqual([...completed.undeclared.values()].sort(), [
      'addresses.primary',
      'groups',
      'photos',
      'x509Certificates',
    ]);
    assert.ok(completed.schemas[0]!.attributes.some((a) => a.name === 'photos'));
    assert.equal(completeSchemas([GROUP_SCHEMA]).undeclared.size, 0);
  });

  test('undeclaredIn names what a user carries that the schema does not declare', () => {
    const served = { ...USER_SCHEMA, attributes: USER_SCHEMA.attributes.filter((a) => a.name !== 'groups') };
    const user = {
      id: 'u',
      userName: 'x',
      groups: [{ value: 'g' }],
      emails: [{ value: 'x@example.com', verified: true }],
      meta: {},
    };
    assert.deepEqual(undeclaredIn(user, served).sort(), ['emails.verified', 'groups']);
  });
});

describe('pagingFindings', () => {
  const find = (fs: Finding[], c: string) => fs.find((f) => f.capability === c);

  test('a cap below what was asked, and counters that lie', () => {
    const { findings, cap } = pagingFindings({
      small: { asked: 2, got: 2, itemsPerPage: 20, total: 500 },
      big: { asked: 1000, got: 50, itemsPerPage: 1000, total: 500 },
      advertisedMax: 200,
      pageSize: 200,
    });
    assert.equal(cap, 50);
    assert.match(find(findings, 'paging: page size')!.does, /capped at 50 .*advertises 200/);
    assert.equal(find(findings, 'paging: itemsPerPage')!.status, 'adapted');
    assert.equal(find(findings, 'paging: count')!.status, 'ok');
  });

  test('count ignored; more returned than advertised', () => {
    const { findings, cap } = pagingFindings({
      small: { asked: 2, got: 30, total: 30 },
      big: { asked: 1000, got: 30, total: 30 },
      advertisedMax: 10,
      pageSize: 10,
    });
    assert.equal(cap, undefined);
    assert.match(find(findings, 'paging: count')!.does, /ignores count \(asked 2, got 30\)/);
    assert.match(find(findings, 'paging: page size')!.does, /advertises at most 10 .* returned 30/);
    assert.equal(find(findings, 'paging: itemsPerPage')!.status, 'absent');
  });
});

// ---------------------------------------------------------------------------------------------
// A fake target

interface TargetOptions {
  users?: ScimResource[];
  groups?: ScimResource[];
  /** ServiceProviderConfig overrides (undefined: 404). */
  spc?: Record<string, unknown> | null;
  schemas?: boolean;
  /** Filters with one of these features answer 400 invalidFilter. */
  reject?: string[];
  /** Filters with one of these features answer 200 with nothing. */
  empty?: string[];
  /** Per endpoint. */
  emptyOn?: Record<string, string[]>;
  etagHeader?: boolean;
  writeOnlyMembers?: boolean;
  lossy?: boolean;
  /** DELETE of users fails with 500. */
  deleteFails?: boolean;
  /** If-Match is ignored. */
  ignoreIfMatch?: boolean;
}

function fakeTarget(opts: TargetOptions = {}) {
  const users = new Map<string, Record<string, unknown>>(
    (opts.users ?? [ANN, BOB]).map((u) => [u.id, structuredClone(u)]),
  );
  const groups = new Map<string, Record<string, unknown>>(
    (opts.groups ?? [STAFF]).map((g) => [g.id, structuredClone(g)]),
  );
  let seq = 0;
  const spc = {
    schemas: [SCHEMA.SERVICE_PROVIDER_CONFIG],
    patch: { supported: true },
    bulk: { supported: false },
    filter: { supported: true, maxResults: 100 },
    etag: { supported: true },
    sort: { supported: false },
    ...(opts.spc ?? {}),
  };
  const evaluate = (kind: 'User' | 'Group', filter: string) => matches(kind, filter);
  const version = (r: Record<string, unknown>) =>
    String((r.meta as { version?: string } | undefined)?.version ?? 'W/"1"');
  const bump = (r: Record<string, unknown>) => {
    const v = Number(/\d+/.exec(version(r))?.[0] ?? 1) + 1;
    r.meta = { ...(r.meta as object), version: `W/"${v}"`, lastModified: new Date().toISOString() };
  };
  const outGroup = (g: Record<string, unknown>) => (opts.writeOnlyMembers ? { ...g, members: [] } : g);
  const lossyUser = (u: Record<string, unknown>) => {
    if (!opts.lossy) return u;
    const out = { ...u };
    delete out.photos;
    const name = out.name as { givenName?: string; familyName?: string } | undefined;
    if (name) out.displayName = `${name.givenName} ${name.familyName}`;
    if (Array.isArray(out.emails)) out.emails = [{ ...(out.emails[0] as object), type: undefined }];
    return out;
  };

  const f = fakeFetch((req: FakeRequest) => {
    const path = req.url.pathname.replace('/scim/v2', '');
    const body = req.body === undefined ? undefined : (JSON.parse(req.body) as Record<string, unknown>);
    const [, head, id] = path.split('/');
    if (req.method === 'GET' && head === 'ServiceProviderConfig')
      return opts.spc === null ? scimJson({}, 404) : scimJson(spc);
    if (req.method === 'GET' && head === 'ResourceTypes') return scimJson({}, 404);
    if (req.method === 'GET' && head === 'Schemas')
      return opts.schemas ? scimJson(listResponse([USER_SCHEMA, GROUP_SCHEMA])) : scimJson({}, 404);
    const kind = head === 'Users' ? 'User' : head === 'Groups' ? 'Group' : undefined;
    if (!kind) return scimError(404, 'no such endpoint');
    const store = kind === 'User' ? users : groups;
    const out = (r: Record<string, unknown>) => (kind === 'Group' ? outGroup(r) : r);
    if (id === '.search') {
      const found = [...store.values()].filter((r) =>
        typeof body?.filter === 'string' ? evaluate(kind, body.filter)(r) : true,
      );
      return scimJson(listResponse(found.slice(0, 1)));
    }
    if (req.method === 'GET' && id === undefined) {
      const filter = req.url.searchParams.get('filter');
      let all = [...store.values()];
      if (filter) {
        const features = filterFeatures(filter);
        if (features.some((x) => opts.reject?.includes(x)))
          return scimError(400, `unsupported filter ${filter}`, 'invalidFilter');
        if (features.some((x) => opts.empty?.includes(x) || opts.emptyOn?.[`/${head}`]?.includes(x)))
          return scimJson(listResponse([]));
        all = all.filter(evaluate(kind, filter));
      }
      const start = Number(req.url.searchParams.get('startIndex') ?? 1);
      const count = Number(req.url.searchParams.get('count') ?? 100);
      const page = all.slice(start - 1, start - 1 + count).map(out);
      return scimJson({ ...listResponse(page), totalResults: all.length, itemsPerPage: page.length });
    }
    if (req.method === 'POST' && id === undefined) {
      const r: Record<string, unknown> = {
        ...body,
        id: `${kind === 'User' ? 'u' : 'g'}-new-${++seq}`,
        meta: { resourceType: kind, version: 'W/"1"' },
      };
      if (kind === 'Group' && opts.writeOnlyMembers) delete r.members;
      const kept = kind === 'User' ? lossyUser(r) : r;
      store.set(kept.id as string, kept);
      return scimJson(out(kept), 201);
    }
    const r = id === undefined ? undefined : store.get(decodeURIComponent(id));
    if (!r) return scimError(404, 'not found');
    const ifMatch = req.headers.get('if-match');
    if (ifMatch && !opts.ignoreIfMatch && ifMatch !== version(r)) return scimError(412, 'changed');
    if (req.method === 'GET') {
      const headers: Record<string, string> = opts.etagHeader === false ? {} : { etag: version(r) };
      return scimJson(out(r), 200, headers);
    }
    if (req.method === 'DELETE') {
      if (opts.deleteFails && kind === 'User') return scimError(500, 'cannot delete');
      store.delete(r.id as string);
      return new Response(null, { status: 204 });
    }
    if (req.method === 'PUT') {
      const next = (
        kind === 'User' ? lossyUser({ ...body, id: r.id, meta: r.meta }) : { ...body, id: r.id, meta: r.meta }
      ) as Record<string, unknown>;
      if (opts.lossy) delete next.externalId;
      if (kind === 'Group' && opts.writeOnlyMembers) next.members = r.members;
      bump(next);
      store.set(r.id as string, next);
      return scimJson(out(next));
    }
    if (req.method === 'PATCH') {
      for (const op of body!.Operations as PatchOperation[]) {
        const filtered = typeof op.path === 'string' ? /^members\[value eq "(.*)"\]$/.exec(op.path) : null;
        const members = (Array.isArray(r.members) ? r.members : []) as Array<{ value: string }>;
        if (filtered) {
          if (opts.writeOnlyMembers) return scimError(501, 'not implemented');
          r.members = members.filter((m) => m.value !== filtered[1]);
        } else if (op.path === 'members' && op.op === 'add') {
          r.members = [
            ...members,
            ...(op.value as Array<{ value: string }>).filter((v) => !members.some((m) => m.value === v.value)),
          ];
        } else if (op.path === 'members' && op.op === 'remove') {
          const gone = new Set((op.value as Array<{ value: string }>).map((v) => v.value));
          r.members = members.filter((m) => !gone.has(m.value));
        } else if (op.op === 'replace' && typeof op.path === 'string') {
          r[op.path] = op.value;
        }
      }
      bump(r);
      return scimJson(out(r));
    }
    return scimError(405, 'method not allowed');
  });
  return { ...f, users, groups };
}

function memoryCache(): CapabilityCache & { saved: Capabilities | undefined } {
  const cache = {
    saved: undefined as Capabilities | undefined,
    load: () => cache.saved,
    save: (c: Capabilities) => {
      cache.saved = structuredClone(c);
    },
    loadLearned: (): Learned | undefined => cache.saved?.learned,
  };
  return cache;
}

async function probe(
  target: ReturnType<typeof fakeTarget>,
  writeProbe = false,
  cache = memoryCache(),
): Promise<{ report: CompatReport; cache: ReturnType<typeof memoryCache>; row: (c: string) => Finding | undefined }> {
  const client = new ScimClient({
    baseUrl: BASE,
    fetch: target.fetch,
    sleep: recordingSleep().sleep,
    retries: 1,
    capabilityCache: cache,
  });
  const report = await probeTarget(client, { writeProbe, random: () => 'r4nd' });
  return { report, cache, row: (c) => report.findings.find((f) => f.capability === c) };
}

describe('probeTarget', () => {
  test('an honest target: every filter feature works, and nothing is written without the write probe', async () => {
    const target = fakeTarget({ schemas: true });
    const { report, cache, row } = await probe(target);
    assert.equal(report.usable, true);
    assert.deepEqual(report.leftBehind, []);
    for (const f of [
      'eq',
      'sw',
      'co',
      'ew',
      'pr',
      'and',
      'or',
      'not',
      'parentheses',
      'valuePath',
      'boolean',
      'extension',
      'meta',
    ]) {
      assert.equal(row(`filter /Users ${f}`)?.verdict, 'works', f);
    }
    assert.equal(row('filter /Groups eq')?.verdict, 'works');
    assert.equal(row('members readable')?.status, 'ok');
    assert.equal(row('ETag')?.status, 'ok');
    assert.equal(row('writes')?.status, 'untested');
    assert.equal(row('overall')?.status, 'adapted'); // ResourceTypes are missing: defaults
    assert.equal(cache.saved?.learned.filters['/Users']?.sw, 'works');
    assert.equal(cache.saved?.learned.membersReadable, true);
    const writes = target.calls.filter((c) => c.method !== 'GET' && !c.url.pathname.endsWith('/.search'));
    assert.deepEqual(
      writes.map((c) => `${c.method} ${c.url.pathname}`),
      [],
    );
  });

  test('filters refused or answered wrongly are recorded as such, and SPC is held to what works', async () => {
    const target = fakeTarget({
      spc: { filter: { supported: false } },
      reject: ['pr', 'not', 'parentheses', 'boolean'],
      empty: ['extension', 'meta'],
      emptyOn: { '/Groups': ['eq', 'sw', 'co', 'ew', 'ne', 'gt', 'ge', 'lt', 'le', 'and', 'or', 'valuePath'] },
    });
    const { report, cache, row } = await probe(target);
    assert.equal(report.usable, true);
    assert.equal(row('filter /Users pr')?.verdict, 'rejected');
    assert.match(row('filter /Users pr')!.does, /refused \(400 invalidFilter\)/);
    assert.equal(row('filter /Users meta')?.verdict, 'wrong');
    assert.match(row('filter /Users meta')!.does, /200 with nothing/);
    assert.equal(row('filter /Users eq')?.verdict, 'works');
    assert.match(row('filter /Users eq')!.adapts, /although ServiceProviderConfig says filter.supported=false/);
    assert.equal(row('filter /Groups eq')?.verdict, 'wrong');
    assert.equal(row('filter /Groups eq')?.adapts, 'evaluated by scimctl over a full listing');
    assert.match(row('filter (ServiceProviderConfig)')!.does, /says filter.supported=false, yet some work: eq, ne/);
    const learned = cache.saved!.learned.filters;
    assert.equal(learned['/Users']?.not, 'rejected');
    assert.equal(learned['/Users']?.extension, 'wrong');
    assert.equal(learned['/Groups']?.eq, 'wrong');
    // A filter answered 400 is not retried: one request per probe.
    assert.equal(target.calls.filter((c) => c.url.searchParams.get('filter') === 'userName pr').length, 1);
  });

  test('discovery lies and gaps: no SPC, ETags sent though not advertised', async () => {
    const target = fakeTarget({ spc: null });
    const { row } = await probe(target);
    assert.equal(row('ServiceProviderConfig')?.status, 'adapted');
    assert.match(row('ServiceProviderConfig')!.does, /missing/);
    assert.match(row('ETag')!.does, /says etag unsupported, but an ETag header is sent/);
    assert.match(row('Schemas')!.does, /missing/);
  });

  test('forgets what was learned before: a test learns everything anew', async () => {
    const cache = memoryCache();
    const stale = emptyLearned();
    stale.filters['/Users'] = { eq: 'rejected' };
    stale.membersReadable = false;
    cache.saved = {
      ...(await probe(fakeTarget())).report.capabilities,
      learned: stale,
      discoveredAt: new Date().toISOString(),
    };
    const { cache: after } = await probe(fakeTarget(), false, cache);
    assert.equal(after.saved?.learned.filters['/Users']?.eq, 'works');
    assert.equal(after.saved?.learned.membersReadable, true);
  });

  test(
    'the write probe on a lossy target with write-only members: what it keeps, ' +
      'members, removal forms; nothing left',
    async () => {
      const target = fakeTarget({ lossy: true, writeOnlyMembers: true, groups: [] });
      const before = { users: [...target.users.keys()], groups: [...target.groups.keys()] };
      const { report, cache, row } = await probe(target, true);
      assert.equal(report.usable, true, JSON.stringify(report.findings.filter((f) => f.status === 'failed')));
      assert.deepEqual(report.leftBehind, []);
      assert.deepEqual({ users: [...target.users.keys()], groups: [...target.groups.keys()] }, before);
      assert.equal(row('attribute displayName')?.does, 'computed: the server sets its own value');
      assert.equal(row('attribute emails')?.does, 'single: only one value is kept');
      assert.equal(row('attribute emails.type')?.does, 'dropped: not kept');
      assert.equal(row('attribute photos')?.does, 'dropped: not kept');
      assert.match(row('PUT')!.does, /clears externalId/);
      assert.match(row('members readable')!.does, /members are not readable/);
      assert.equal(row('member removal (filter form)')?.status, 'adapted');
      assert.equal(row('member removal (value form)')?.status, 'ok');
      assert.equal(row('If-Match')?.status, 'ok');
      assert.equal(row('cleanup')?.status, 'ok');
      // No group of its own: the filters on /Groups were tried on the throwaway group.
      assert.equal(row('filter /Groups eq')?.verdict, 'works');
      const learned = cache.saved!.learned;
      assert.equal(learned.membersReadable, false);
      const unkept = Object.fromEntries(Object.entries(learned.unkept).map(([k, v]) => [k.toLowerCase(), v]));
      assert.deepEqual(unkept, {
        displayname: 'computed',
        emails: 'single',
        'emails.type': 'dropped',
        photos: 'dropped',
        externalid: 'dropped',
      });
      assert.equal(cache.saved!.memberRemoval, 'value');
      // The throwaway user was made as the brief says.
      const post = target.calls.find((c) => c.method === 'POST' && c.url.pathname.endsWith('/Users'))!;
      const sent = JSON.parse(post.body!) as Record<string, unknown>;
      assert.equal(sent.userName, 'scimctl-probe-r4nd@example.invalid');
      assert.equal((sent.emails as unknown[]).length, 2);
    },
  );

  test(
    'a cleanup that fails is reported with the ids left behind; a stale If-Match ' + 'that is applied is reported',
    async () => {
      const target = fakeTarget({ deleteFails: true, ignoreIfMatch: true });
      const { report, row } = await probe(target, true);
      assert.equal(report.leftBehind.length, 1);
      assert.equal(report.leftBehind[0]!.kind, 'User');
      assert.match(report.leftBehind[0]!.id!, /^u-new-/);
      assert.match(report.leftBehind[0]!.why, /DELETE failed/);
      assert.equal(row('cleanup')?.status, 'failed');
      assert.match(row('cleanup')!.does, /left behind: user u-new-\d+ "scimctl-probe-r4nd@example.invalid"/);
      assert.match(row('If-Match')!.does, /ignores If-Match/);
      // The group went; only the user stayed.
      assert.equal([...target.groups.keys()].filter((g) => g.startsWith('g-new')).length, 0);
    },
  );

  test('a broken connection during the probe ends it with the error, after the cleanup', async () => {
    let failing = false;
    const inner = fakeTarget();
    const target = {
      ...inner,
      fetch: (async (input: string | URL | Request, init?: RequestInit) => {
        const req = input instanceof Request ? input : new Request(input, init);
        if (failing)
          throw new TypeError('fetch failed', {
            cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
          });
        if (req.method === 'PUT') failing = true;
        return inner.fetch(input, init);
      }) as typeof fetch,
    };
    const { report } = await probe(target, true);
    assert.ok(report.fatal instanceof Error);
    assert.equal(report.usable, false);
    // Cleanup could not reach the target either: both throwaway resources are named.
    assert.deepEqual(report.leftBehind.map((l) => l.kind).sort(), ['Group', 'User']);
  });
});

describe('the report on a terminal', () => {
  test('long cells wrap within the width; nothing is cut', async () => {
    const { renderReportTable, wrapText } = await import('../../src/commands/profile/test.ts');
    assert.deepEqual(wrapText('evaluated by scimctl over a full listing', 16), [
      'evaluated by',
      'scimctl over a',
      'full listing',
    ]);
    assert.deepEqual(wrapText('ServiceProviderConfig', 8), ['ServiceP', 'roviderC', 'onfig']);
    const findings: Finding[] = [
      {
        capability: 'filter /Groups eq',
        status: 'adapted',
        does: 'answers wrongly: 200 with nothing (group "Engineering" matches)',
        adapts: 'evaluated by scimctl over a full listing',
      },
      { capability: 'overall', status: 'ok', does: '1 as expected', adapts: 'usable as is' },
    ];
    for (const width of [60, 80, 120]) {
      const lines = renderReportTable(findings, width);
      assert.match(
        lines[0]!,
        width >= 120
          ? /^CAPABILITY\s+STATUS\s+WHAT THE TARGET DOES\s+HOW SCIMCTL ADAPTS$/
          : /^CAPABILITY\s+STATUS\s+WHAT THE/,
      );
      assert.ok(
        lines.every((l) => l.length <= width),
        `${width}: ${lines.join('\n')}`,
      );
      const text = lines.join(' ').replace(/\s+/g, ' ');
      for (const word of ['Engineering', 'listing', 'usable']) assert.ok(text.includes(word), `${word} at ${width}`);
    }
  });
});

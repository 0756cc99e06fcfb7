import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { idempotentPatch, ScimClient } from '../../src/api/client.ts';
import type { Capabilities } from '../../src/api/discovery.ts';
import { ResponseValidationError, ScimError } from '../../src/api/errors.ts';
import { co, eq } from '../../src/api/filter.ts';
import { compileFilter, registryContext } from '../../src/api/filter-eval.ts';
import type { Learned } from '../../src/api/learned.ts';
import { changeMembers } from '../../src/api/members.ts';
import { PATCH_OP_SCHEMA, type PatchOperation, type PatchRequest } from '../../src/api/patch.ts';
import { SchemaRegistry } from '../../src/api/schema.ts';
import { SCHEMA, type ScimUser } from '../../src/api/types.ts';
import { fileCapabilityCache } from '../../src/config/cache.ts';
import {
  BASE,
  caps,
  fakeFetch,
  listResponse,
  networkError,
  recordingSleep,
  rejection,
  scimError,
  scimJson,
  type FakeRequest,
} from './helpers.ts';

const ANN: ScimUser = {
  schemas: [SCHEMA.USER],
  id: 'u-ann',
  userName: 'ann',
  title: 'Engineer',
  emails: [{ value: 'ann@example.com' }],
};
const BOB: ScimUser = {
  schemas: [SCHEMA.USER],
  id: 'u-bob',
  userName: 'bob',
  title: 'Sales',
  emails: [{ value: 'bob@example.com' }],
};
const CAROL: ScimUser = {
  schemas: [SCHEMA.USER],
  id: 'u-carol',
  userName: 'carol',
  title: 'Engineering lead',
  emails: [{ value: 'carol@example.com' }],
};

const honest = compileFilterFor();
function compileFilterFor() {
  const registry = new SchemaRegistry();
  return (filter: string) =>
    compileFilter(filter, registryContext(registry, SCHEMA.USER, [SCHEMA.ENTERPRISE_USER])).test;
}

interface UsersServerOptions {
  users?: ScimUser[];
  /** How a filtered listing is answered: evaluated, ignored (everything listed), or nothing. */
  filters?: 'honest' | 'ignore' | 'empty';
  /** Answers a filtered listing before the rest (return undefined to fall through). */
  onFilter?: (filter: string, req: FakeRequest) => Response | undefined;
  /** Answers the n-th POST /Users (0-based) before the store (return undefined to create normally). */
  onPost?: (body: Record<string, unknown>, n: number, store: (u: ScimUser) => void) => Response | undefined;
  /** Answers the n-th PATCH (0-based). */
  onPatch?: (body: { Operations: PatchOperation[] }, n: number) => Response;
}

/** A /Users endpoint over an in-memory list: filtered listings (honest or not), paging, POST, PATCH. */
function usersServer(opts: UsersServerOptions = {}) {
  const users = [...(opts.users ?? [])];
  let posts = 0;
  let patches = 0;
  let seq = 0;
  const f = fakeFetch((req) => {
    const path = req.url.pathname.replace('/scim/v2', '');
    const body = req.body === undefined ? undefined : (JSON.parse(req.body) as Record<string, unknown>);
    if (req.method === 'GET' && path === '/Users') {
      const filter = req.url.searchParams.get('filter');
      let matches = users;
      if (filter !== null) {
        const custom = opts.onFilter?.(filter, req);
        if (custom) return custom;
        const mode = opts.filters ?? 'honest';
        matches = mode === 'ignore' ? users : mode === 'empty' ? [] : users.filter(honest(filter));
      }
      const start = Number(req.url.searchParams.get('startIndex') ?? '1');
      const count = Number(req.url.searchParams.get('count') ?? '100');
      const page = matches.slice(start - 1, start - 1 + count);
      return scimJson(
        listResponse(page, { totalResults: matches.length, startIndex: start, itemsPerPage: page.length }),
      );
    }
    if (req.method === 'POST' && path === '/Users') {
      const n = posts++;
      const store = (u: ScimUser) => void users.push(u);
      const custom = opts.onPost?.(body!, n, store);
      if (custom) return custom;
      const created = { ...body, id: `new-${++seq}` } as ScimUser;
      users.push(created);
      return scimJson(created, 201);
    }
    if (req.method === 'PATCH') {
      assert.ok(opts.onPatch, 'no PATCH expected');
      return opts.onPatch(body as { Operations: PatchOperation[] }, patches++);
    }
    return scimError(404, `no route ${req.method} ${path}`);
  });
  return { f, users, posts: () => f.calls.filter((c) => c.method === 'POST') };
}

function clientFor(fetch: typeof globalThis.fetch, extra: { capabilities?: Capabilities; retries?: number } = {}) {
  const said: string[] = [];
  const sleep = recordingSleep();
  const retried: string[] = [];
  const client = new ScimClient({
    baseUrl: BASE,
    fetch,
    sleep: sleep.sleep,
    capabilities: extra.capabilities ?? caps(),
    retries: extra.retries ?? 0,
    onAdapt: (m) => said.push(m),
    onRetry: (info) => retried.push(`${info.method} ${info.reason}`),
  });
  return { client, said, sleep, retried };
}

const filterOf = (r: FakeRequest) => r.url.searchParams.get('filter');
const filtersSent = (calls: FakeRequest[]) => calls.filter((c) => c.method === 'GET').map(filterOf);
const ids = (us: ScimUser[]) => us.map((u) => u.id);

describe('ResourceApi.create: a POST that may have been carried out', () => {
  test('500, and the user is there: the one found is returned, one POST only, said once', async () => {
    const s = usersServer({
      onPost: (body, _n, store) => {
        store({ ...body, id: `made-${String(body.userName)}` } as ScimUser);
        return scimError(500, 'upstream timeout');
      },
    });
    const { client, said, sleep } = clientFor(s.f.fetch, { retries: 3 });
    const ann = await client.users.create({ userName: 'ann', title: 'Dev' });
    assert.equal(ann.id, 'made-ann');
    assert.equal(s.posts().length, 1, 'not posted again');
    assert.equal(filterOf(s.f.calls[1]!), 'userName eq "ann"', 'looked up by userName');
    assert.deepEqual(sleep.delays, [], 'no pause: nothing to retry');
    const bob = await client.users.create({ userName: 'bob' });
    assert.equal(bob.id, 'made-bob');
    assert.equal(s.posts().length, 2);
    const acted = said.filter((m) => /had been carried out/.test(m));
    assert.equal(acted.length, 1, said.join('\n'));
    assert.match(acted[0]!, /^\/Users: .*500/);
  });

  test('500, and nothing found by userName or externalId: POSTed again after a pause, and created', async () => {
    const s = usersServer({ users: [BOB], onPost: (_b, n) => (n === 0 ? scimError(500, 'deadlock') : undefined) });
    const { client, sleep, retried } = clientFor(s.f.fetch, { retries: 2 });
    const ann = await client.users.create({ userName: 'ann', externalId: 'E-1' });
    assert.equal(ann.userName, 'ann');
    assert.match(ann.id, /^new-/);
    assert.equal(s.posts().length, 2);
    // Between the POSTs: the userName look-up, then the externalId one (each empty answer confirmed by a listing).
    const between = s.f.calls.slice(1, -1);
    assert.ok(between.every((c) => c.method === 'GET'));
    const asked = between.map(filterOf).filter((x) => x !== null);
    assert.deepEqual(asked, ['userName eq "ann"', 'externalId eq "E-1"']);
    assert.equal(sleep.delays.length, 1, 'one pause before the second POST');
    assert.equal(retried.length, 1);
    assert.match(retried[0]!, /^POST .*not created/);
    assert.equal(s.users.filter((u) => u.userName === 'ann').length, 1, 'created once');
  });

  test('500 every time: given up after the retries, the last error thrown', async () => {
    const s = usersServer({ onPost: () => scimError(500, 'down') });
    const { client, sleep } = clientFor(s.f.fetch, { retries: 1 });
    const e = await rejection(client.users.create({ userName: 'ann' }));
    assert.ok(e instanceof ScimError && e.status === 500, String(e));
    assert.equal(s.posts().length, 2);
    assert.equal(sleep.delays.length, 1);
  });

  test('with no retries, a 500 with nothing found is thrown after the look-up', async () => {
    const s = usersServer({ onPost: () => scimError(500, 'down') });
    const { client } = clientFor(s.f.fetch, { retries: 0 });
    await assert.rejects(
      client.users.create({ userName: 'ann' }),
      (e: unknown) => e instanceof ScimError && e.status === 500,
    );
    assert.equal(s.posts().length, 1);
    assert.deepEqual(
      filtersSent(s.f.calls).filter((x) => x !== null),
      ['userName eq "ann"'],
    );
  });

  test('409: no look-up, the error thrown', async () => {
    const s = usersServer({ onPost: () => scimError(409, 'userName taken', 'uniqueness') });
    const { client } = clientFor(s.f.fetch, { retries: 3 });
    const e = await rejection(client.users.create({ userName: 'ann' }));
    assert.ok(e instanceof ScimError && e.status === 409);
    assert.deepEqual(
      s.f.calls.map((c) => c.method),
      ['POST'],
    );
  });

  test('501 and 400 are not looked up either', async () => {
    for (const status of [400, 501]) {
      const s = usersServer({ onPost: () => scimError(status, 'no') });
      const { client } = clientFor(s.f.fetch, { retries: 3 });
      await assert.rejects(
        client.users.create({ userName: 'ann' }),
        (e: unknown) => e instanceof ScimError && e.status === status,
      );
      assert.deepEqual(
        s.f.calls.map((c) => c.method),
        ['POST'],
        `HTTP ${status}`,
      );
    }
  });

  test('a connection reset is looked up; a refused connection is not', async () => {
    const reset = usersServer({ users: [{ ...ANN }] });
    let posted = 0;
    const resetFetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const method = input instanceof Request ? input.method : init?.method;
      if (method === 'POST') {
        posted++;
        throw networkError('ECONNRESET');
      }
      return reset.f.fetch(input, init);
    }) as typeof globalThis.fetch;
    const a = clientFor(resetFetch, { retries: 2 });
    assert.equal((await a.client.users.create({ userName: 'ann' })).id, 'u-ann');
    assert.equal(posted, 1, 'not posted again once found');
    assert.equal(filterOf(reset.f.calls[0]!), 'userName eq "ann"');

    const refused = fakeFetch(() => {
      throw networkError('ECONNREFUSED');
    });
    const b = clientFor(refused.fetch, { retries: 0 });
    await assert.rejects(b.client.users.create({ userName: 'ann' }));
    assert.deepEqual(
      refused.calls.map((c) => c.method),
      ['POST'],
      'no look-up',
    );
  });

  test('201 without an id (Location …/Users/undefined): looked up by userName, learned, said once', async () => {
    const s = usersServer({
      onPost: (body, n, store) => {
        store({ ...body, id: `srv-${n}` } as ScimUser);
        return scimJson({ ...body }, 201, { location: `${BASE}/Users/undefined` });
      },
    });
    const { client, said } = clientFor(s.f.fetch);
    assert.equal(client.learnedNow()!.createWithoutId, undefined);
    const ann = await client.users.create({ userName: 'ann' });
    assert.equal(ann.id, 'srv-0');
    assert.equal(client.learnedNow()!.createWithoutId, true);
    assert.equal(filterOf(s.f.calls[1]!), 'userName eq "ann"');
    const bob = await client.users.create({ userName: 'bob' });
    assert.equal(bob.id, 'srv-1');
    assert.equal(s.posts().length, 2);
    const noId = said.filter((m) => /without the new resource's id/.test(m));
    assert.equal(noId.length, 1, said.join('\n'));
  });

  test('201 with id "undefined" (or an empty body) is looked up too', async () => {
    const s = usersServer({
      onPost: (body, n, store) => {
        store({ ...body, id: `srv-${n}` } as ScimUser);
        return n === 0 ? scimJson({ ...body, id: 'undefined' }, 201) : new Response(null, { status: 201 });
      },
    });
    const { client } = clientFor(s.f.fetch);
    assert.equal((await client.users.create({ userName: 'ann' })).id, 'srv-0');
    assert.equal((await client.users.create({ userName: 'bob' })).id, 'srv-1');
  });

  test('201 without an id and nothing found: a validation error, not a guess', async () => {
    const s = usersServer({ onPost: (body) => scimJson({ ...body }, 201) });
    const { client } = clientFor(s.f.fetch);
    const e = await rejection(client.users.create({ userName: 'ann' }));
    assert.ok(e instanceof ResponseValidationError, String(e));
    assert.equal(s.posts().length, 1);
    assert.equal(client.learnedNow()!.createWithoutId, undefined);
  });

  test(
    'a 409 to a create repeated after a 500 is that earlier attempt, still running ' +
      'when looked up: found and returned',
    async () => {
      // The first POST answers 500 before the server has stored the user (a slow request); the
      // look-up finds nothing; by the second POST the first has landed, so it meets 409.
      let pendingUser: ScimUser | undefined;
      const s = usersServer({
        onPost: (body, n, store) => {
          if (n === 0) {
            pendingUser = { ...body, id: 'late-1' } as ScimUser;
            return scimError(500, 'timeout upstream');
          }
          if (pendingUser) {
            store(pendingUser);
            pendingUser = undefined;
          }
          return scimError(409, 'userName is already taken', 'uniqueness');
        },
      });
      const { client } = clientFor(s.f.fetch, { retries: 2 });
      const ann = await client.users.create({ userName: 'ann', externalId: 'E-1' });
      assert.equal(ann.id, 'late-1');
      assert.equal(s.posts().length, 2);
    },
  );

  test(
    'a 409 after an uncertain attempt stays a conflict when the user then found is ' +
      'someone else (another externalId); a first-attempt 409 is not looked up',
    async () => {
      let lookups = 0;
      const other = { ...ANN, externalId: 'OTHER' };
      const s = usersServer({
        // Nothing found after the 500; by the 409, someone else holds the name.
        onFilter: (filter, req) => {
          lookups++;
          const hits = lookups > 2 && filter.startsWith('userName') ? [other] : [];
          return scimJson(listResponse(hits, { startIndex: Number(req.url.searchParams.get('startIndex') ?? '1') }));
        },
        onPost: (_b, n) =>
          n === 0 ? scimError(500, 'deadlock') : scimError(409, 'userName is already taken', 'uniqueness'),
      });
      const { client } = clientFor(s.f.fetch, { retries: 2 });
      const e = await rejection(client.users.create({ userName: 'ann', externalId: 'E-1' }));
      assert.ok(e instanceof ScimError && e.status === 409, String(e));
      assert.equal(s.posts().length, 2);
      const before = s.f.calls.length;
      const e2 = await rejection(client.users.create({ userName: 'ann', externalId: 'OTHER' }));
      assert.ok(e2 instanceof ScimError && e2.status === 409);
      assert.equal(s.f.calls.length - before, 1, 'a plain 409 is answered as is, without a look-up');
    },
  );

  test('lookupFirst: a resource found by name is returned without a POST; otherwise it is POSTed', async () => {
    const s = usersServer({ users: [{ ...ANN }] });
    const { client } = clientFor(s.f.fetch);
    assert.equal((await client.users.create({ userName: 'ann' }, { lookupFirst: true })).id, 'u-ann');
    assert.equal(s.posts().length, 0);
    const bob = await client.users.create({ userName: 'bob' }, { lookupFirst: true });
    assert.match(bob.id, /^new-/);
    assert.equal(s.posts().length, 1);
  });

  test('a group is looked up by displayName', async () => {
    const groups: Array<Record<string, unknown>> = [];
    const f = fakeFetch((req) => {
      if (req.method === 'POST') {
        groups.push({ ...(JSON.parse(req.body!) as object), id: 'g-made' });
        return scimError(502, 'bad gateway');
      }
      const filter = filterOf(req);
      const start = Number(req.url.searchParams.get('startIndex') ?? '1');
      const hits = groups.filter((g) => filter === `displayName eq "${String(g.displayName)}"`);
      return scimJson(listResponse(start === 1 ? hits : []));
    });
    const { client } = clientFor(f.fetch, { retries: 2 });
    const g = await client.groups.create({ displayName: 'Sales' });
    assert.equal(g.id, 'g-made');
    assert.equal(f.calls.filter((c) => c.method === 'POST').length, 1);
    assert.equal(f.calls[1]!.url.pathname, '/scim/v2/Groups');
    assert.equal(filterOf(f.calls[1]!), 'displayName eq "Sales"');
  });
});

describe('ResourceApi.patch: retried on 5xx only when repeating it changes nothing', () => {
  test('idempotentPatch', () => {
    const req = (...ops: PatchOperation[]): PatchRequest => ({ schemas: [PATCH_OP_SCHEMA], Operations: ops });
    assert.equal(
      idempotentPatch(req({ op: 'replace', path: 'title', value: 'x' }, { op: 'remove', path: 'nickName' })),
      true,
    );
    // Some callers (and servers' examples) write op names capitalised.
    assert.equal(
      idempotentPatch(req({ op: 'Replace' as PatchOperation['op'], path: 'title', value: 'x' })),
      true,
      'op names in any case',
    );
    assert.equal(idempotentPatch(req({ op: 'add', path: 'members', value: [{ value: 'u1' }] })), true);
    assert.equal(idempotentPatch(req({ op: 'add', path: 'Members', value: [{ value: 'u1' }] })), true);
    assert.equal(idempotentPatch(req({ op: 'add', path: 'emails', value: [{ value: 'a@x.com' }] })), false);
    assert.equal(idempotentPatch(req({ op: 'add', value: { title: 'x' } })), false, 'an add without a path');
    assert.equal(
      idempotentPatch(req({ op: 'replace', path: 'title', value: 'x' }, { op: 'add', path: 'emails', value: [] })),
      false,
      'one non-idempotent op is enough',
    );
  });

  test('a PATCH of replace ops answered 500 is sent again, and succeeds', async () => {
    const s = usersServer({
      onPatch: (_b, n) => (n === 0 ? scimError(500, 'try again') : scimJson({ ...ANN, title: 'Lead' })),
    });
    const { client, sleep } = clientFor(s.f.fetch, { retries: 2 });
    const out = await client.users.patch('u-ann', {
      schemas: [PATCH_OP_SCHEMA],
      Operations: [{ op: 'replace', path: 'title', value: 'Lead' }],
    });
    assert.equal(out!.title, 'Lead');
    assert.deepEqual(
      s.f.calls.map((c) => c.method),
      ['PATCH', 'PATCH'],
    );
    assert.equal(sleep.delays.length, 1);
  });

  test('a PATCH adding e-mails answered 500 is not sent again', async () => {
    const s = usersServer({ onPatch: (_b, n) => (n === 0 ? scimError(500, 'try again') : scimJson(ANN)) });
    const { client, sleep } = clientFor(s.f.fetch, { retries: 2 });
    const e = await rejection(
      client.users.patch('u-ann', {
        schemas: [PATCH_OP_SCHEMA],
        Operations: [{ op: 'add', path: 'emails', value: [{ value: 'x@example.com' }] }],
      }),
    );
    assert.ok(e instanceof ScimError && e.status === 500);
    assert.deepEqual(
      s.f.calls.map((c) => c.method),
      ['PATCH'],
    );
    assert.deepEqual(sleep.delays, []);
  });
});

describe('ResourceApi.list: filters the server cannot be trusted with', () => {
  test('filter.supported=false: the filter is never sent; matches are kept here; said once', async () => {
    const s = usersServer({ users: [ANN, BOB, CAROL], filters: 'ignore' });
    const { client, said } = clientFor(s.f.fetch, { capabilities: caps((c) => (c.filter.supported = false)) });
    assert.deepEqual(ids(await client.users.toArray({ filter: co('title', 'Engineer') })), ['u-ann', 'u-carol']);
    assert.deepEqual(ids(await client.users.toArray({ filter: eq('userName', 'bob') })), ['u-bob']);
    assert.ok(
      filtersSent(s.f.calls).every((x) => x === null),
      JSON.stringify(filtersSent(s.f.calls)),
    );
    assert.equal(said.length, 1, said.join('\n'));
    assert.match(said[0]!, /filter\.supported=false/);
  });

  test('filter.supported=false, but every part of the filter seen working: sent to the server', async () => {
    const s = usersServer({ users: [ANN, BOB] });
    const c = caps((k) => {
      k.filter.supported = false;
      k.learned.filters['/Users'] = { eq: 'works' };
    });
    const { client } = clientFor(s.f.fetch, { capabilities: c });
    assert.deepEqual(ids(await client.users.toArray({ filter: eq('userName', 'bob') })), ['u-bob']);
    assert.deepEqual([...new Set(filtersSent(s.f.calls))], ['userName eq "bob"']);
  });

  test('client-side filtering honours the limit', async () => {
    const s = usersServer({ users: [ANN, BOB, CAROL] });
    const { client } = clientFor(s.f.fetch, { capabilities: caps((c) => (c.filter.supported = false)) });
    assert.deepEqual(ids(await client.users.toArray({ filter: co('title', 'Engineer'), limit: 1 })), ['u-ann']);
  });

  test('a filter refused with 400: listed unfiltered and filtered here; remembered; said once', async () => {
    const s = usersServer({
      users: [ANN, BOB, CAROL],
      onFilter: () => scimError(400, 'filter not supported', 'invalidFilter'),
    });
    const { client, said } = clientFor(s.f.fetch);
    assert.deepEqual(ids(await client.users.toArray({ filter: eq('userName', 'bob') })), ['u-bob']);
    const sent = filtersSent(s.f.calls);
    assert.equal(sent[0], 'userName eq "bob"');
    assert.ok(sent.length > 1 && sent.slice(1).every((x) => x === null), JSON.stringify(sent));
    assert.equal(client.learnedNow()!.filters['/Users']!.eq, 'rejected');
    const before = s.f.calls.length;
    assert.deepEqual(ids(await client.users.toArray({ filter: eq('userName', 'carol') })), ['u-carol']);
    assert.ok(
      s.f.calls.slice(before).every((c) => filterOf(c) === null),
      'the second listing sends no filter',
    );
    assert.equal(said.length, 1, said.join('\n'));
    assert.match(
      said[0]!,
      /refused a filter \(filter not supported: userName eq "bob"\); filters with eq are evaluated on this side/,
    );
  });

  test('only the unusual part of a refused filter is blamed: eq still goes to the server', async () => {
    const s = usersServer({
      users: [ANN, BOB, CAROL],
      onFilter: (f) => (/ sw /.test(f) ? scimError(400, 'no sw', 'invalidFilter') : undefined),
    });
    const { client } = clientFor(s.f.fetch);
    assert.deepEqual(ids(await client.users.toArray({ filter: 'userName sw "c"' })), ['u-carol']);
    assert.deepEqual(client.learnedNow()!.filters['/Users'], { sw: 'rejected' });
    const before = s.f.calls.length;
    assert.deepEqual(ids(await client.users.toArray({ filter: eq('userName', 'ann') })), ['u-ann']);
    assert.equal(filterOf(s.f.calls[before]!), 'userName eq "ann"');
    assert.equal(client.learnedNow()!.filters['/Users']!.eq, 'works');
  });

  test('non-matching resources in an answer are dropped, and the feature is marked wrong', async () => {
    const s = usersServer({ users: [ANN, BOB, CAROL], filters: 'ignore' });
    const { client, said } = clientFor(s.f.fetch);
    assert.deepEqual(ids(await client.users.toArray({ filter: co('title', 'Engineer') })), ['u-ann', 'u-carol']);
    assert.equal(client.learnedNow()!.filters['/Users']!.co, 'wrong');
    assert.equal(client.learnedNow()!.filters['/Users']!.eq, undefined, 'eq is not blamed');
    assert.equal(said.length, 1);
    assert.match(said[0]!, /with 1 resource\(s\) that do not match it/);
    // From now on: no co filter to the server.
    const before = s.f.calls.length;
    assert.deepEqual(ids(await client.users.toArray({ filter: co('title', 'Sales') })), ['u-bob']);
    assert.ok(s.f.calls.slice(before).every((c) => filterOf(c) === null));
  });

  test('a matching answer marks the filter as working; its answers are not checked from then on', async () => {
    let lie = false;
    const s = usersServer({
      users: [ANN, BOB],
      onFilter: () => (lie ? scimJson(listResponse([ANN, BOB])) : undefined),
    });
    const { client } = clientFor(s.f.fetch);
    assert.deepEqual(ids(await client.users.toArray({ filter: eq('userName', 'ann') })), ['u-ann']);
    assert.equal(client.learnedNow()!.filters['/Users']!.eq, 'works');
    lie = true;
    // Trusted: the server's answer is taken as it is (here, wrongly).
    const all = await client.users.toArray({ filter: eq('userName', 'ann') });
    assert.deepEqual(ids(all), ['u-ann', 'u-bob']);
    assert.equal(client.learnedNow()!.filters['/Users']!.eq, 'works');
  });

  test('a filter known to work is not re-checked', async () => {
    const s = usersServer({ users: [ANN, BOB], filters: 'ignore' });
    const c = caps((k) => (k.learned.filters['/Users'] = { eq: 'works' }));
    const { client, said } = clientFor(s.f.fetch, { capabilities: c });
    assert.deepEqual(ids(await client.users.toArray({ filter: eq('userName', 'ann') })), ['u-ann', 'u-bob']);
    assert.deepEqual(said, []);
  });

  test('a filter on an attribute the schemas do not define goes to the server as it is, unchecked', async () => {
    const s = usersServer({ users: [ANN, BOB], filters: 'ignore' });
    const { client, said } = clientFor(s.f.fetch);
    assert.deepEqual(ids(await client.users.toArray({ filter: 'favoriteColor eq "blue"' })), ['u-ann', 'u-bob']);
    assert.deepEqual([...new Set(filtersSent(s.f.calls))], ['favoriteColor eq "blue"']);
    assert.deepEqual(client.learnedNow()!.filters, {});
    assert.deepEqual(said, []);
  });

  test('even with filter.supported=false, a filter this side cannot judge is sent as it is', async () => {
    const s = usersServer({ users: [ANN], filters: 'empty' });
    const { client } = clientFor(s.f.fetch, { capabilities: caps((c) => (c.filter.supported = false)) });
    assert.deepEqual(await client.users.toArray({ filter: 'favoriteColor eq "blue"' }), []);
    assert.deepEqual(filtersSent(s.f.calls), ['favoriteColor eq "blue"']);
  });

  test(
    'an empty answer, and a match in the listing: kept, and the filter marked ' + 'wrong (verifyEmpty by default)',
    async () => {
      for (const verifyEmpty of [true, undefined]) {
        const s = usersServer({ users: [ANN, BOB], filters: 'empty' });
        const { client } = clientFor(s.f.fetch);
        assert.deepEqual(
          ids(await client.users.toArray({ filter: eq('userName', 'bob'), verifyEmpty })),
          ['u-bob'],
          `verifyEmpty ${verifyEmpty}`,
        );
        assert.equal(client.learnedNow()!.filters['/Users']!.eq, 'wrong');
        assert.deepEqual(filtersSent(s.f.calls).slice(0, 2), ['userName eq "bob"', null]);
      }
    },
  );

  test('an empty answer confirmed empty by the listing: nothing learned', async () => {
    const s = usersServer({ users: [ANN], filters: 'empty' });
    const { client } = clientFor(s.f.fetch);
    assert.deepEqual(await client.users.toArray({ filter: eq('userName', 'bob') }), []);
    assert.deepEqual(client.learnedNow()!.filters, {});
  });

  test('an empty answer with verifyEmpty: false is believed: no listing, nothing learned', async () => {
    const s = usersServer({ users: [ANN, BOB], filters: 'empty' });
    const { client } = clientFor(s.f.fetch);
    assert.deepEqual(await client.users.toArray({ filter: eq('userName', 'bob'), verifyEmpty: false }), []);
    assert.deepEqual(client.learnedNow()!.filters, {});
    assert.equal(s.f.calls.length, 1);
  });

  // Checked answers are judged here: excludedAttributes naming an attribute the filter reads
  // would make every (correct) answer look like a non-match, so they are not sent.
  test('excludedAttributes naming the filtered attribute are not sent while the answer is checked', async () => {
    const s = usersServer({
      users: [ANN, BOB],
      onFilter: (f, req) => {
        // An honest server that also honours excludedAttributes=emails.
        const excluded = (req.url.searchParams.get('excludedAttributes') ?? '').split(',');
        const hits = [ANN, BOB]
          .filter(honest(f))
          .map((u) => (excluded.includes('emails') ? (({ emails: _e, ...rest }) => rest)(u) : u));
        return scimJson(listResponse(hits));
      },
    });
    const { client } = clientFor(s.f.fetch);
    const found = await client.users.toArray({
      filter: eq('emails.value', 'bob@example.com'),
      excludedAttributes: ['emails'],
    });
    assert.deepEqual(ids(found as ScimUser[]), ['u-bob']);
    assert.notEqual(client.learnedNow()!.filters['/Users']?.eq, 'wrong');
  });

  // A server failing every request (an outage) makes the filter look refused: the verdict is
  // recorded (and cached for the profile) before the unfiltered listing fails the same way.
  test('a server failing everything (500) has refused no filter: nothing is learned', async () => {
    const f = fakeFetch(() => scimError(500, 'service unavailable'));
    const { client } = clientFor(f.fetch);
    await assert.rejects(client.users.toArray({ filter: eq('userName', 'ann') }));
    assert.equal(client.learnedNow()!.filters['/Users']?.eq, undefined);
  });
});

describe('changeMembers on a server whose members are write-only', () => {
  interface GroupServerOptions {
    /** Members a GET shows (whatever was added): none on a write-only server. */
    shows?: string[];
    /** How the filter form of a removal is answered. */
    filterForm?: 'accept' | 501;
    /** A well-behaved server instead: GETs show the members added. */
    keeps?: boolean;
  }
  /** Groups g1 and g2: GETs never return members added; every PATCH is recorded. */
  function writeOnly(opts: GroupServerOptions = {}) {
    const patches: Array<{ group: string; ops: PatchOperation[] }> = [];
    const kept = new Map<string, string[]>();
    const f = fakeFetch((req) => {
      const m = /^\/scim\/v2\/Groups\/(g\d)$/.exec(req.url.pathname);
      assert.ok(m, req.url.pathname);
      if (req.method === 'GET') {
        const shows = opts.keeps ? (kept.get(m[1]!) ?? []) : opts.shows;
        return scimJson({
          schemas: [SCHEMA.GROUP],
          id: m[1],
          displayName: `Group ${m[1]}`,
          ...(shows ? { members: shows.map((value) => ({ value })) } : {}),
        });
      }
      assert.equal(req.method, 'PATCH');
      const ops = (JSON.parse(req.body!) as { Operations: PatchOperation[] }).Operations;
      if (
        opts.filterForm === 501 &&
        ops.some((o) => o.op === 'remove' && typeof o.path === 'string' && o.path.includes('['))
      )
        return scimError(501, 'filtered paths are not implemented');
      patches.push({ group: m[1]!, ops });
      for (const op of ops) {
        if (op.op === 'add')
          kept.set(m[1]!, [...(kept.get(m[1]!) ?? []), ...(op.value as Array<{ value: string }>).map((v) => v.value)]);
      }
      return new Response(null, { status: 204 });
    });
    return { f, patches };
  }
  const patchCaps = (readable?: boolean) =>
    caps((c) => {
      c.patch = true;
      if (readable !== undefined) c.learned.membersReadable = readable;
    });
  const gets = (calls: FakeRequest[]) => calls.filter((c) => c.method === 'GET').length;

  test('the first add learns that members are not readable, from one read-back; said once', async () => {
    const s = writeOnly();
    const c = patchCaps();
    const { client, said } = clientFor(s.f.fetch, { capabilities: c });
    const out = await changeMembers(client.groups, c, 'g1', { add: ['u1'] });
    assert.deepEqual(out.added, ['u1']);
    assert.equal(out.method, 'PATCH');
    assert.equal(c.learned.membersReadable, false);
    assert.equal(client.learnedNow()!.membersReadable, false);
    assert.equal(said.filter((m) => /write-only/.test(m)).length, 1, said.join('\n'));
    // The read before the change, the PATCH, and the read after it (each read asks again for members).
    assert.deepEqual(
      s.f.calls.map((r) => r.method),
      ['GET', 'GET', 'PATCH', 'GET', 'GET'],
    );
    // Learned: the next add reads only before, not after.
    const before = s.f.calls.length;
    await changeMembers(client.groups, c, 'g2', { add: ['u2'] });
    assert.deepEqual(
      s.f.calls.slice(before).map((r) => r.method),
      ['GET', 'GET', 'PATCH'],
    );
    assert.equal(said.filter((m) => /write-only/.test(m)).length, 1);
  });

  test('two first adds at once learn it twice but say it once', async () => {
    const s = writeOnly();
    const c = patchCaps();
    const { client, said } = clientFor(s.f.fetch, { capabilities: c });
    await Promise.all([
      changeMembers(client.groups, c, 'g1', { add: ['u1'] }),
      changeMembers(client.groups, c, 'g2', { add: ['u2'] }),
    ]);
    assert.equal(c.learned.membersReadable, false);
    assert.equal(said.filter((m) => /write-only/.test(m)).length, 1, said.join('\n'));
  });

  test('a server that shows the members it was given is learned readable, and nothing is said', async () => {
    const s = writeOnly({ keeps: true });
    const c = patchCaps();
    const { client, said } = clientFor(s.f.fetch, { capabilities: c });
    await changeMembers(client.groups, c, 'g1', { add: ['u1'] });
    assert.equal(c.learned.membersReadable, true);
    assert.deepEqual(said, []);
    // Readable: an add of a member the read shows is skipped.
    const before = s.f.calls.length;
    const out = await changeMembers(client.groups, c, 'g1', { add: ['u1'] });
    assert.equal(out.method, 'none');
    assert.deepEqual(out.unchanged, ['u1']);
    assert.ok(s.f.calls.slice(before).every((r) => r.method === 'GET'));
  });

  test('with membersReadable=false, adds are sent even when the read shows the member already', async () => {
    const s = writeOnly({ shows: ['u1'] });
    const c = patchCaps(false);
    const { client } = clientFor(s.f.fetch, { capabilities: c });
    const out = await changeMembers(client.groups, c, 'g1', { add: ['u1', 'u2'] });
    assert.deepEqual(out.added, ['u1', 'u2']);
    assert.deepEqual(out.unchanged, []);
    assert.deepEqual(s.patches, [
      { group: 'g1', ops: [{ op: 'add', path: 'members', value: [{ value: 'u1' }, { value: 'u2' }] }] },
    ]);
    assert.equal(gets(s.f.calls.slice(-1)), 0, 'no read-back after the add');
  });

  test('with membersReadable=false, removals are sent as asked though the read shows none', async () => {
    const s = writeOnly();
    const c = patchCaps(false);
    const { client } = clientFor(s.f.fetch, { capabilities: c });
    const out = await changeMembers(client.groups, c, 'g1', { remove: ['u1', 'u2'] });
    assert.deepEqual(out.removed, ['u1', 'u2']);
    assert.deepEqual(out.unchanged, []);
    assert.equal(out.removalForm, 'filter');
    assert.deepEqual(s.patches[0]!.ops, [
      { op: 'remove', path: 'members[value eq "u1"]' },
      { op: 'remove', path: 'members[value eq "u2"]' },
    ]);
  });

  test(
    'with membersReadable=false, a 501 on the filter form falls back to the value ' +
      'form, with no read-back and no re-adds',
    async () => {
      const s = writeOnly({ filterForm: 501 });
      const c = patchCaps(false);
      const { client } = clientFor(s.f.fetch, { capabilities: c });
      const out = await changeMembers(client.groups, c, 'g1', { add: ['u3'], remove: ['u1'] });
      assert.deepEqual(out.removed, ['u1']);
      assert.equal(out.removalForm, 'value');
      assert.equal(c.memberRemoval, 'value');
      assert.deepEqual(
        s.patches.map((p) => p.ops),
        [
          [{ op: 'add', path: 'members', value: [{ value: 'u3' }] }],
          [{ op: 'remove', path: 'members', value: [{ value: 'u1' }] }],
        ],
      );
      // Requests: the read before, the add, the refused filter form, the value form; nothing after.
      assert.deepEqual(
        s.f.calls.map((r) => r.method),
        ['GET', 'GET', 'PATCH', 'PATCH', 'PATCH'],
      );
      assert.equal(c.patch, true, 'a 501 on one form does not turn PATCH off');
    },
  );

  test('with membersReadable=false and no PATCH: refused rather than a PUT that would lose members', async () => {
    const f = fakeFetch((req) =>
      req.method === 'GET'
        ? scimJson({ schemas: [SCHEMA.GROUP], id: 'g1', displayName: 'G' })
        : scimError(501, 'no PATCH'),
    );
    const c = patchCaps(false);
    const { client } = clientFor(f.fetch, { capabilities: c });
    await assert.rejects(
      changeMembers(client.groups, c, 'g1', { add: ['u1'] }),
      /neither returns group members nor takes PATCH/,
    );
    assert.ok(!f.calls.some((r) => r.method === 'PUT'));
  });
});

describe('what was learned is kept', () => {
  const learnedSample = (): Learned => ({
    filters: { '/Users': { co: 'rejected' } },
    unkept: { title: 'dropped' },
    membersReadable: false,
  });
  const discoveryFetch = () => fakeFetch(() => scimError(404, 'no discovery here'));

  test('discover() keeps what was learned; discover({ forget: true }) starts again', async () => {
    const f = discoveryFetch();
    const client = new ScimClient({
      baseUrl: BASE,
      fetch: f.fetch,
      capabilities: caps((c) => Object.assign(c.learned, learnedSample())),
      retries: 0,
    });
    const again = await client.discover();
    assert.deepEqual(again.learned, learnedSample());
    assert.equal(client.learnedNow(), again.learned);
    const fresh = await client.discover({ forget: true });
    assert.deepEqual(fresh.learned, { filters: {}, unkept: {} });
  });

  test('the file cache: learned survives the discovery TTL, and a refresh brings it back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scimctl-learned-'));
    try {
      const now = Date.now();
      const cache = fileCapabilityCache({ SCIMCTL_CACHE_DIR: dir } as never, 'p', BASE, () => now);
      const c = caps((k) => {
        k.discoveredAt = new Date(now).toISOString();
        Object.assign(k.learned, learnedSample());
      });
      cache.save(c);
      assert.deepEqual(cache.load()!.learned, learnedSample());
      c.discoveredAt = new Date(now - 2 * 60 * 60 * 1000).toISOString(); // two hours old: discovery is stale
      cache.save(c);
      assert.equal(cache.load(), undefined);
      assert.deepEqual(cache.loadLearned!(), learnedSample());
      // A client on that cache rediscovers, and keeps what was learned.
      const client = new ScimClient({
        baseUrl: BASE,
        fetch: discoveryFetch().fetch,
        capabilityCache: cache,
        retries: 0,
      });
      const k = await client.capabilities();
      assert.deepEqual(k.learned, learnedSample());
      assert.deepEqual(cache.load()!.learned, learnedSample(), 'saved again with the new discovery');
      // Learning more goes to the cache too.
      await client.learnFilter('/Users', ['sw'], 'wrong');
      assert.equal(cache.loadLearned!()!.filters['/Users']!.sw, 'wrong');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('learnFilter with no features records and says nothing', async () => {
    const { client, said } = clientFor(fakeFetch(() => scimJson({})).fetch);
    await client.learnFilter('/Users', [], 'wrong', 'a message');
    assert.deepEqual(client.learnedNow()!.filters, {});
    assert.deepEqual(said, []);
  });
});

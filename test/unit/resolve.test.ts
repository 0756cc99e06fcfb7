import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScimClient } from '../../src/api/client.ts';
import { AmbiguousError, NotFoundError, ScimError } from '../../src/api/errors.ts';
import { resolveGroup, resolveUser } from '../../src/api/resolve.ts';
import type { ScimGroup, ScimUser } from '../../src/api/types.ts';
import {
  BASE,
  caps,
  fakeFetch,
  listResponse,
  recordingSleep,
  rejection,
  scimError,
  scimJson,
  type FakeRequest,
} from './helpers.ts';

const ANN: ScimUser = {
  id: 'u-ann',
  userName: 'ann',
  displayName: 'Ann Example',
  emails: [{ value: 'ann@example.com', primary: true }],
};
const ANN2: ScimUser = {
  id: 'u-ann2',
  userName: 'Ann',
  displayName: 'Ann Other',
  emails: [{ value: 'ann.other@example.com' }],
};
const BOB: ScimUser = { id: 'u-bob', userName: 'bob.b', emails: [{ value: 'bob@example.com', type: 'work' }] };
const SALES: ScimGroup = { id: 'g-sales', displayName: 'Sales Team' };

type Route = (req: FakeRequest) => Response | undefined;

/** A server with a few routes: GET /{type}/{id}, and listings answered by `filter` text. */
function server(
  opts: { users?: ScimUser[]; groups?: ScimGroup[]; byFilter?: Record<string, () => Response>; extra?: Route } = {},
  said: string[] = [],
) {
  const users = opts.users ?? [];
  const groups = opts.groups ?? [];
  const f = fakeFetch((req) => {
    const extra = opts.extra?.(req);
    if (extra) return extra;
    const path = decodeURIComponent(req.url.pathname.replace('/scim/v2', ''));
    const one = /^\/(Users|Groups)\/(.+)$/.exec(path);
    if (one) {
      const found = (one[1] === 'Users' ? users : groups).find((r) => r.id === one[2]);
      return found ? scimJson(found) : scimError(404, `Resource ${one[2]} not found`);
    }
    const filter = req.url.searchParams.get('filter');
    // Unfiltered, it lists everything it has (a client filtering on its side asks this way).
    if (filter === null) {
      const all = one === null && path === '/Groups' ? groups : users;
      const startIndex = Number(req.url.searchParams.get('startIndex') ?? '1');
      return scimJson(listResponse(startIndex === 1 ? all : [], { totalResults: all.length, startIndex }));
    }
    const answer = opts.byFilter?.[filter];
    if (!answer) return scimJson(listResponse([]));
    const res = answer();
    if (res.status !== 200) return res;
    // Honour startIndex: the matches are on the first page, the next page is empty.
    const startIndex = Number(req.url.searchParams.get('startIndex') ?? '1');
    return startIndex === 1 ? res : scimJson(listResponse([], { totalResults: 0, startIndex }));
  });
  const client = new ScimClient({
    baseUrl: BASE,
    fetch: f.fetch,
    sleep: recordingSleep().sleep,
    capabilities: caps(),
    retries: 0,
    onAdapt: (m) => said.push(m),
  });
  return { client, f };
}

const unique = (xs: string[]) => [...new Set(xs)];
const filters = (calls: FakeRequest[]) =>
  calls.map((r) => r.url.searchParams.get('filter')).filter((x): x is string => x !== null);

describe('resolveUser', () => {
  test('by id: one GET, no filter', async () => {
    const { client, f } = server({ users: [ANN] });
    const u = await resolveUser(client.users, 'u-ann');
    assert.equal(u.id, 'u-ann');
    assert.equal(f.calls.length, 1);
    assert.equal(f.calls[0]!.url.pathname, '/scim/v2/Users/u-ann');
  });

  test('id 404, then a userName match', async () => {
    const { client, f } = server({
      users: [ANN],
      byFilter: { 'userName eq "ann"': () => scimJson(listResponse([ANN])) },
    });
    const u = await resolveUser(client.users, 'ann');
    assert.equal(u.id, 'u-ann');
    // The id lookup, then the search (its first page, and the empty page that ends it).
    assert.deepEqual(
      f.calls.map((r) => r.url.pathname),
      ['/scim/v2/Users/ann', '/scim/v2/Users', '/scim/v2/Users'],
    );
    assert.deepEqual(unique(filters(f.calls)), ['userName eq "ann"']);
    assert.equal(f.calls[1]!.url.searchParams.get('count'), '20', 'a bounded search');
  });

  test('an id a server rejects as malformed (400) falls through to the name', async () => {
    const { client } = server({
      extra: (req) => (req.url.pathname === '/scim/v2/Users/ann' ? scimError(400, 'not a UUID') : undefined),
      byFilter: { 'userName eq "ann"': () => scimJson(listResponse([ANN])) },
    });
    assert.equal((await resolveUser(client.users, 'ann')).id, 'u-ann');
  });

  test('names with spaces or slashes are not tried as ids (and are quoted safely)', async () => {
    const quoted: ScimUser = { ...ANN, userName: 'Ann "The" Example' };
    const { client, f } = server({
      byFilter: { 'userName eq "Ann \\"The\\" Example"': () => scimJson(listResponse([quoted])) },
    });
    assert.equal((await resolveUser(client.users, 'Ann "The" Example')).id, 'u-ann');
    assert.ok(
      f.calls.every((r) => r.url.pathname === '/scim/v2/Users'),
      'no GET by id',
    );
    const s2 = server({
      byFilter: { 'userName eq "dept/ann"': () => scimJson(listResponse([{ ...ANN, userName: 'dept/ann' }])) },
    });
    await resolveUser(s2.client.users, 'dept/ann');
    assert.ok(
      s2.f.calls.every((r) => r.url.pathname === '/scim/v2/Users'),
      'no GET by id',
    );
  });

  test('ambiguous names are an AmbiguousError listing the candidates', async () => {
    const { client } = server({ byFilter: { 'userName eq "ann"': () => scimJson(listResponse([ANN, ANN2])) } });
    const e = await rejection(resolveUser(client.users, 'ann'));
    assert.ok(e instanceof AmbiguousError, String(e));
    assert.equal(e.kind, 'ambiguous');
    assert.deepEqual(
      e.candidates.map((c) => c.id),
      ['u-ann', 'u-ann2'],
    );
    assert.match(e.candidates[0]!.label, /ann {2}Ann Example {2}ann@example\.com/);
    assert.match(e.message, /u-ann /);
    assert.match(e.message, /u-ann2 /);
  });

  test('an e-mail address falls back to emails.value', async () => {
    const { client, f } = server({
      byFilter: { 'emails.value eq "bob@example.com"': () => scimJson(listResponse([BOB])) },
    });
    const u = await resolveUser(client.users, 'bob@example.com');
    assert.equal(u.id, 'u-bob');
    assert.deepEqual(unique(filters(f.calls)), ['userName eq "bob@example.com"', 'emails.value eq "bob@example.com"']);
    assert.equal(f.calls[0]!.url.pathname, '/scim/v2/Users/bob%40example.com');
  });

  test('an e-mail matching several users is ambiguous', async () => {
    const shared = [{ value: 'shared@example.com' }];
    const { client } = server({
      byFilter: {
        'emails.value eq "shared@example.com"': () =>
          scimJson(
            listResponse([
              { ...ANN, emails: shared },
              { ...BOB, emails: shared },
            ]),
          ),
      },
    });
    await assert.rejects(resolveUser(client.users, 'shared@example.com'), AmbiguousError);
  });

  test(
    'a server rejecting the emails filter (400 invalidFilter) is filtered on this ' + 'side: found, and remembered',
    async () => {
      const { client, f } = server({
        users: [ANN, BOB],
        byFilter: { 'emails.value eq "bob@example.com"': () => scimError(400, 'unsupported filter', 'invalidFilter') },
      });
      assert.equal((await resolveUser(client.users, 'bob@example.com')).id, 'u-bob');
      // The listing that found Bob was sent without a filter.
      assert.equal(f.calls.at(-1)!.url.searchParams.get('filter'), null);
      assert.equal(client.learnedNow()!.filters['/Users']!.eq, 'rejected');
      const sent = f.calls.length;
      assert.equal((await resolveUser(client.users, 'bob@example.com')).id, 'u-bob');
      assert.ok(
        f.calls.slice(sent).every((r) => r.url.searchParams.get('filter') === null),
        'the rejected filter is not sent again',
      );
    },
  );

  test('a server crashing (500) on the emails filter also means no match', async () => {
    const { client } = server({
      byFilter: { 'emails.value eq "x@example.com"': () => scimError(500, 'NullPointerException') },
    });
    await assert.rejects(resolveUser(client.users, 'x@example.com'), NotFoundError);
  });

  test('a rejected userName filter becomes a listing filtered on this side, said once', async () => {
    const said: string[] = [];
    const { client } = server(
      { users: [ANN, BOB], byFilter: { 'userName eq "ann"': () => scimError(400, 'bad', 'invalidFilter') } },
      said,
    );
    assert.equal((await resolveUser(client.users, 'ann')).id, 'u-ann');
    await assert.rejects(resolveUser(client.users, 'nobody'), NotFoundError);
    assert.equal(said.length, 1, said.join('\n'));
    assert.match(said[0]!, /refused a filter \(bad: userName eq "ann"\).*evaluated on this side/);
  });

  test('an empty answer to a name is confirmed by a listing; a match there marks the filter as wrong', async () => {
    const { client, f } = server({ users: [ANN, BOB] });
    assert.equal((await resolveUser(client.users, 'bob.b')).id, 'u-bob');
    assert.equal(client.learnedNow()!.filters['/Users']!.eq, 'wrong');
    const sent = f.calls.length;
    await resolveUser(client.users, 'ann');
    assert.ok(f.calls.slice(sent).every((r) => r.url.searchParams.get('filter') === null));
  });

  test('an auth failure on the id lookup is not taken as "not found"', async () => {
    const { client } = server({ extra: () => scimError(401, 'expired') });
    await assert.rejects(resolveUser(client.users, 'ann'), (e: unknown) => e instanceof ScimError && e.status === 401);
  });

  test('nothing matches: NotFoundError naming the reference', async () => {
    const { client, f } = server();
    const e = await rejection(resolveUser(client.users, 'nobody'));
    assert.ok(e instanceof NotFoundError, String(e));
    assert.equal(e.ref, 'nobody');
    assert.equal(e.resourceType, 'user');
    assert.match(e.message, /no user matches "nobody"/);
    // No e-mail search for a non-address; one search for a near name to suggest (issue 14: 17).
    assert.deepEqual(
      filters(f.calls),
      ['userName eq "nobody"', 'userName sw "nob"'],
      'no e-mail search for a non-address',
    );
  });
});

describe('resolveGroup', () => {
  test('by id', async () => {
    const { client, f } = server({ groups: [SALES] });
    assert.equal((await resolveGroup(client.groups, 'g-sales')).displayName, 'Sales Team');
    assert.equal(f.calls[0]!.url.pathname, '/scim/v2/Groups/g-sales');
  });

  test('by displayName', async () => {
    const { client, f } = server({
      byFilter: { 'displayName eq "Sales Team"': () => scimJson(listResponse([SALES])) },
    });
    assert.equal((await resolveGroup(client.groups, 'Sales Team')).id, 'g-sales');
    assert.ok(
      f.calls.every((r) => r.url.pathname === '/scim/v2/Groups'),
      'no GET by id for a name with a space',
    );
  });

  test('ambiguous and not found', async () => {
    const twin = { id: 'g-sales-2', displayName: 'Sales Team' };
    const a = server({ byFilter: { 'displayName eq "Sales Team"': () => scimJson(listResponse([SALES, twin])) } });
    const e = await rejection(resolveGroup(a.client.groups, 'Sales Team'));
    assert.ok(e instanceof AmbiguousError);
    assert.deepEqual(e.candidates, [
      { id: 'g-sales', label: 'Sales Team' },
      { id: 'g-sales-2', label: 'Sales Team' },
    ]);
    const n = server();
    const e2 = await rejection(resolveGroup(n.client.groups, 'Nope'));
    assert.ok(e2 instanceof NotFoundError);
    assert.equal(e2.resourceType, 'group');
  });
});

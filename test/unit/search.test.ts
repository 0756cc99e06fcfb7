import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScimClient } from '../../src/api/client.ts';
import { searchUsersByName } from '../../src/api/search.ts';
import type { ScimUser } from '../../src/api/types.ts';
import { BASE, caps, fakeFetch, listResponse, recordingSleep, scimError, scimJson } from './helpers.ts';

const USERS: ScimUser[] = [
  { id: 'u1', userName: 'ann.lee@example.com', name: { givenName: 'Ann', familyName: 'Lee' } },
  { id: 'u2', userName: 'bob.stone@example.com', name: { givenName: 'Bob', familyName: 'Stone' } },
];

/** A server whose `co` filters answer `co` (honest), nothing (as some do), or 400. */
function server(co: 'honest' | 'empty' | 'refused') {
  const f = fakeFetch((req) => {
    const filter = req.url.searchParams.get('filter');
    const start = Number(req.url.searchParams.get('startIndex') ?? '1');
    let found = USERS;
    if (filter !== null) {
      if (co === 'refused') return scimError(400, 'co is not supported', 'invalidFilter');
      const m = /^(\S+) co "(.*)"$/.exec(filter)!;
      const needle = m[2]!.toLowerCase();
      const value = (u: ScimUser) =>
        m[1] === 'userName'
          ? u.userName
          : m[1] === 'name.givenName'
            ? u.name?.givenName
            : m[1] === 'name.familyName'
              ? u.name?.familyName
              : u.displayName;
      found =
        co === 'empty'
          ? []
          : USERS.filter((u) =>
              String(value(u) ?? '')
                .toLowerCase()
                .includes(needle),
            );
    }
    return scimJson(listResponse(start === 1 ? found : [], { totalResults: found.length }));
  });
  const client = new ScimClient({
    baseUrl: BASE,
    fetch: f.fetch,
    sleep: recordingSleep().sleep,
    capabilities: caps(),
    retries: 0,
  });
  return { client, f };
}

const collect = async (it: AsyncIterable<ScimUser>) => {
  const out: string[] = [];
  for await (const u of it) out.push(u.id);
  return out;
};

describe('searchUsersByName', () => {
  test('an honest server: the co answers, no scan', async () => {
    const { client, f } = server('honest');
    assert.deepEqual(await collect(searchUsersByName(client.users, 'lee', () => undefined)), ['u1']);
    assert.ok(
      f.calls.every((c) => c.url.searchParams.get('filter') !== null),
      'every request was a co filter',
    );
  });

  test(
    'co answered with nothing although a user matches: a scan finds it, and co is ' + 'marked as answered wrongly',
    async () => {
      const { client, f } = server('empty');
      assert.deepEqual(await collect(searchUsersByName(client.users, 'stone', () => undefined)), ['u2']);
      assert.ok(
        f.calls.some((c) => c.url.searchParams.get('filter') === null),
        'a listing without a filter',
      );
      assert.equal(client.learnedNow()!.filters['/Users']!.co, 'wrong');
    },
  );

  test('confirmEmpty false (the TUI, which searches what it loaded): the empty answer stands, no scan', async () => {
    const { client, f } = server('empty');
    assert.deepEqual(await collect(searchUsersByName(client.users, 'stone', () => undefined, undefined, false)), []);
    assert.ok(f.calls.every((c) => c.url.searchParams.get('filter') !== null));
  });

  test('nothing matches on an honest server known to answer co: no scan', async () => {
    const { client, f } = server('honest');
    client.learnedNow()!.filters['/Users'] = { co: 'works' };
    assert.deepEqual(await collect(searchUsersByName(client.users, 'nobody', () => undefined)), []);
    assert.ok(f.calls.every((c) => c.url.searchParams.get('filter') !== null));
  });

  test('co refused: everyone is listed and matched here', async () => {
    const { client } = server('refused');
    assert.deepEqual(await collect(searchUsersByName(client.users, 'ann', () => undefined)), ['u1']);
  });
});

/**
 * Another SCIM server's resources as the records of a sync (sources/scim-pull.ts, scimRecords): what the server owns
 * left out, identity (externalId, else id), the manager by identity, groups by identity with their members as user
 * identities, nested groups flattened or not.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMA, type ScimGroup, type ScimUser } from '../../src/api/types.ts';
import { location } from '../../src/sources/problem-groups.ts';
import { readScimSource, scimRecords } from '../../src/sources/scim-pull.ts';
import type { SourceKeeper } from '../../src/sources/source.ts';
import { ScimClient } from '../../src/api/client.ts';
import { memoryService, serviceFetch } from '../support/service-fetch.ts';
import { registry } from './sync-source-helpers.ts';

const URL_ = 'https://hr.example/scim/v2';
const ENT = SCHEMA.ENTERPRISE_USER;

const user = (id: string, userName: string, extra: Record<string, unknown> = {}): ScimUser => ({
  schemas: [SCHEMA.USER],
  id,
  userName,
  meta: { resourceType: 'User', created: '2026-01-01T00:00:00Z', version: 'W/"1"' },
  ...extra,
});
const group = (id: string, displayName: string, members: Array<Record<string, unknown>>, extra = {}): ScimGroup => ({
  schemas: [SCHEMA.GROUP],
  id,
  displayName,
  members,
  meta: { resourceType: 'Group' },
  ...extra,
});
const u = (value: string) => ({ value, type: 'User', $ref: `${URL_}/Users/${value}` });
const g = (value: string) => ({ value, type: 'Group', $ref: `${URL_}/Groups/${value}` });

const convert = (users: ScimUser[], groups: ScimGroup[], nested: 'flatten' | 'direct' = 'flatten') =>
  scimRecords(users, groups, registry, { url: URL_, nested });

describe('scimRecords: users', () => {
  test('what the server owns is left out; externalId, else id, is the identity; inactive stays inactive', () => {
    const { users, problems } = convert(
      [
        user('u1', 'ann@example.com', {
          externalId: 'E1',
          active: true,
          name: { givenName: 'Ann', familyName: 'Lee' },
          groups: [{ value: 'g1', display: 'Staff' }],
          password: 'never-returned-but-sent',
        }),
        user('u2', 'bob@example.com', { active: false, emails: [{ value: 'bob@example.com', primary: true }] }),
      ],
      [],
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(users[0]!.attributes, {
      userName: 'ann@example.com',
      externalId: 'E1',
      active: true,
      name: { givenName: 'Ann', familyName: 'Lee' },
    });
    assert.equal(users[0]!.onlyOnCreate, undefined);
    assert.deepEqual(users[1]!.attributes, {
      userName: 'bob@example.com',
      externalId: 'u2',
      active: false,
      emails: [{ value: 'bob@example.com', primary: true }],
    });
    assert.equal(location(users[1]!.origin), `${URL_}/Users/u2`);
  });

  test('the manager is named by its identity when read, and left out when not', () => {
    const { users } = convert(
      [
        user('boss', 'boss@example.com', { externalId: 'E-BOSS' }),
        user('u1', 'ann@example.com', {
          schemas: [SCHEMA.USER, ENT],
          [ENT]: { department: 'Sales', manager: { value: 'boss', $ref: `${URL_}/Users/boss`, displayName: 'Boss' } },
        }),
        user('u2', 'cy@example.com', { [ENT]: { manager: { value: 'not-read' } } }),
      ],
      [],
    );
    assert.deepEqual(users[1]!.attributes[ENT], { department: 'Sales', manager: { value: 'E-BOSS' } });
    assert.equal(users[2]!.attributes[ENT], undefined);
  });

  test('a record the checks refuse is left out, named by its URL; the rest proceeds', () => {
    const { users, problems } = convert(
      [user('u1', 'ann@example.com'), { schemas: [SCHEMA.USER], id: 'u2' } as ScimUser, user('u3', 'ann@example.com')],
      [],
    );
    assert.deepEqual(
      users.map((x) => x.attributes.userName),
      [],
      'both holders of one userName are left out, and the one without a userName',
    );
    assert.deepEqual([...new Set(problems.map((p) => location(p.origin)))].sort(), [
      `${URL_}/Users/u1`,
      `${URL_}/Users/u2`,
      `${URL_}/Users/u3`,
    ]);
  });
});

describe('scimRecords: groups', () => {
  const users = [
    user('u1', 'ann@example.com', { externalId: 'E1' }),
    user('u2', 'bob@example.com'),
    user('u3', 'cy@example.com', { externalId: 'E3' }),
  ];
  // all ⊃ eng ⊃ core; core also holds all (a cycle).
  const groups = [
    group('g-all', 'All', [u('u1'), g('g-eng')], { externalId: 'X-ALL' }),
    group('g-eng', 'Engineering', [u('u2'), g('g-core')]),
    group('g-core', 'Core', [u('u3'), { value: 'g-all' }, u('filtered-out')]),
  ];

  test('flatten: members at any depth, as user identities, each group once whatever the cycles', () => {
    const out = convert(users, groups, 'flatten');
    assert.deepEqual(out.problems, []);
    assert.deepEqual(
      out.groups.map((x) => [x.displayName, x.externalId, x.members]),
      [
        ['All', 'X-ALL', ['E1', 'E3', 'u2']],
        ['Engineering', 'g-eng', ['E1', 'E3', 'u2']],
        ['Core', 'g-core', ['E1', 'E3', 'u2']],
      ],
    );
  });

  test('direct: only the users a group lists itself; a member group (typed or found by id) adds nobody', () => {
    const out = convert(users, groups, 'direct');
    assert.deepEqual(
      out.groups.map((x) => [x.displayName, x.members]),
      [
        ['All', ['E1']],
        ['Engineering', ['u2']],
        ['Core', ['E3']],
      ],
    );
  });

  test(
    'members are identities of the users kept: a user refused or not read is no ' + 'member; an empty group is empty',
    () => {
      const out = convert(
        [user('u1', 'ann@example.com'), user('u2', 'bad name\u202e@example.com')],
        [group('g1', 'Staff', [u('u1'), u('u2'), u('u9')]), group('g2', 'Empty', [])],
      );
      assert.deepEqual(
        out.groups.map((x) => [x.displayName, x.members]),
        [
          ['Staff', ['u1']],
          ['Empty', []],
        ],
      );
      assert.ok(out.problems.some((p) => location(p.origin) === `${URL_}/Users/u2`));
    },
  );

  test('a group without a name, or with the name of another, is left out with a problem', () => {
    const out = convert(users, [
      group('g1', 'Staff', []),
      group('g2', 'staff', []),
      { schemas: [SCHEMA.GROUP], id: 'g3' } as unknown as ScimGroup,
      group('g4', 'Other', [u('u1')]),
    ]);
    assert.deepEqual(
      out.groups.map((x) => x.displayName),
      ['Other'],
    );
    assert.deepEqual(out.problems.map((p) => location(p.origin)).sort(), [
      `${URL_}/Groups/g1`,
      `${URL_}/Groups/g2`,
      `${URL_}/Groups/g3`,
    ]);
  });
});

describe('readScimSource: one read of a real server (in process), kept as read', () => {
  const base = 'http://127.0.0.1:1/scim/v2';

  async function source(failOn?: (url: URL, count: number) => boolean) {
    const service = await memoryService(base);
    const served = serviceFetch(service);
    let count = 0;
    const fetch: typeof globalThis.fetch = async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (failOn?.(url, count++)) throw new TypeError('fetch failed: socket closed');
      return served.fetch(input, init);
    };
    const client = new ScimClient({ baseUrl: base, auth: { type: 'none' }, fetch, retries: 0 });
    return { client, requests: served.requests };
  }

  function keeper() {
    const files: Array<{ role: string; path: string; bytes: Buffer[]; state: 'open' | 'ended' | 'discarded' }> = [];
    const keep: SourceKeeper = {
      file(role, path) {
        const f = { role, path, bytes: [] as Buffer[], state: 'open' as 'open' | 'ended' | 'discarded' };
        files.push(f);
        return {
          write: (chunk) => void f.bytes.push(Buffer.from(chunk)),
          end: () => void (f.state = 'ended'),
          discard: () => void (f.state = 'discarded'),
        };
      },
    };
    return { keep, files };
  }

  test(
    'users and groups read once each, kept as ListResponses; the fingerprint ' + 'follows the data and the filter',
    async () => {
      const { client, requests } = await source();
      const ann = await client.users.create({ schemas: [SCHEMA.USER], userName: 'ann@example.com', externalId: 'E1' });
      await client.users.create({ schemas: [SCHEMA.USER], userName: 'bob@example.com', title: 'Engineer' });
      await client.groups.create({ schemas: [SCHEMA.GROUP], displayName: 'Staff', members: [{ value: ann.id }] });
      requests.length = 0;
      const { keep, files } = keeper();
      const read = await readScimSource(client, { url: base }, { registry, keep });
      assert.deepEqual(
        read.users.map((x) => x.attributes.externalId),
        ['E1', read.users[1]!.attributes.externalId],
      );
      assert.deepEqual(read.groups[0]!.members, ['E1']);
      assert.deepEqual(read.files, [`${base}/Users`, `${base}/Groups`]);
      assert.deepEqual(
        requests.filter((r) => r.method === 'GET' && /^\/(Users|Groups)$/.test(r.path)).map((r) => r.path),
        ['/Users', '/Groups'],
        'one listing each',
      );
      assert.deepEqual(
        files.map((f) => [f.role, f.path, f.state]),
        [
          ['users', `${base}/Users`, 'ended'],
          ['groups', `${base}/Groups`, 'ended'],
        ],
      );
      const keptUsers = JSON.parse(Buffer.concat(files[0]!.bytes).toString('utf8'));
      assert.equal(keptUsers.totalResults, 2);
      assert.deepEqual(
        keptUsers.Resources.map((u: { userName: string }) => u.userName),
        ['ann@example.com', 'bob@example.com'],
      );

      const again = await readScimSource(client, { url: base }, { registry });
      assert.equal(again.fingerprint, read.fingerprint, 'the same data, the same fingerprint');
      const filtered = await readScimSource(client, { url: base, filter: 'title eq "Engineer"' }, { registry });
      assert.equal(filtered.users.length, 1);
      assert.notEqual(filtered.fingerprint, read.fingerprint);
      await client.users.patch(ann.id, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'title', value: 'Boss' }],
      });
      assert.notEqual((await readScimSource(client, { url: base }, { registry })).fingerprint, read.fingerprint);
    },
  );

  test('a read that fails part-way throws, and nothing of it is kept', async () => {
    const { client } = await source((url) => url.pathname.endsWith('/Groups') && !url.search.includes('filter'));
    await client.users.create({ schemas: [SCHEMA.USER], userName: 'ann@example.com' });
    const { keep, files } = keeper();
    await assert.rejects(readScimSource(client, { url: base }, { registry, keep }), /socket closed/);
    assert.deepEqual(
      files.map((f) => f.state),
      ['discarded', 'discarded'],
    );
  });
});

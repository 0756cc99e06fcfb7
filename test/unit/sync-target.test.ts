import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMA, type ScimGroup, type ScimUser } from '../../src/api/types.ts';
import { resourceVersion } from '../../src/sync/planner.ts';
import {
  compactGroup,
  compactUser,
  GROUP_PAGE_SIZE,
  MAX_UNSETTLED,
  readTarget,
  USER_PAGE_SIZE,
} from '../../src/sync/target.ts';
import type { Settler } from '../../src/sync/settle.ts';
import type { ScimClient } from '../../src/api/client.ts';

describe('compactUser and compactGroup', () => {
  const user: ScimUser = {
    schemas: [SCHEMA.USER, SCHEMA.ENTERPRISE_USER],
    id: 'u1',
    userName: 'ann@example.com',
    externalId: 'E1',
    name: { givenName: 'Ann' },
    emails: [{ value: 'ann@example.com', type: 'work', primary: true }],
    active: false,
    [SCHEMA.ENTERPRISE_USER]: { department: 'Sales' },
    meta: {
      resourceType: 'User',
      created: '2025-01-01T00:00:00Z',
      lastModified: '2025-01-02T00:00:00Z',
      location: 'https://example.com/Users/u1',
      version: 'W/"7"',
    },
  };

  test('a user keeps its attributes, loses schemas, and meta keeps only the version', () => {
    const { schemas: _schemas, meta: _meta, ...attributes } = user;
    assert.deepEqual(compactUser(user), { ...attributes, meta: { version: 'W/"7"' } });
  });

  test('the version is the one plans record, taken from the user as read', () => {
    const { version: _v, ...lastModifiedOnly } = user.meta!;
    assert.deepEqual(compactUser({ ...user, meta: lastModifiedOnly }).meta, {
      version: 'lastModified:2025-01-02T00:00:00Z',
    });
    // Without meta, a hash of the whole user (schemas included): what planning on the full user records.
    const { meta: _meta, ...bare } = user;
    const compact = compactUser(bare);
    assert.match(compact.meta!.version!, /^hash:/);
    assert.equal(compact.meta!.version, resourceVersion(bare));
    assert.notEqual(compact.meta!.version, resourceVersion({ ...bare, schemas: [SCHEMA.USER] }));
    assert.equal(resourceVersion(compact), resourceVersion(bare));
  });

  test(
    "a group keeps id, displayName, externalId and its members' values (ids); its " + 'version counts the members',
    () => {
      const group: ScimGroup = {
        schemas: [SCHEMA.GROUP],
        id: 'g1',
        displayName: 'Sales',
        externalId: 'G1',
        members: [
          { value: 'u1', display: 'ann@example.com', $ref: 'https://example.com/Users/u1', type: 'User' },
          { value: 'u2', type: 'User' },
        ],
      };
      const compact = compactGroup(group);
      assert.deepEqual(compact, {
        id: 'g1',
        displayName: 'Sales',
        externalId: 'G1',
        members: [{ value: 'u1' }, { value: 'u2' }],
        meta: { version: resourceVersion(group) },
      });
      assert.notEqual(compact.meta!.version, resourceVersion({ ...group, members: [] }));
      assert.deepEqual(compactGroup({ id: 'g2', displayName: 'Empty', meta: { version: 'W/"1"' } }), {
        id: 'g2',
        displayName: 'Empty',
        meta: { version: 'W/"1"' },
      });
    },
  );
});

describe('readTarget', () => {
  async function* over<T>(items: T[]): AsyncGenerator<T, void, undefined> {
    for (const item of items) yield item;
  }

  test(
    'groups are kept compact; a group listed without members is read by id, its ' + 'version counting the members read',
    async () => {
      const listed: ScimGroup = {
        schemas: [SCHEMA.GROUP],
        id: 'g1',
        displayName: 'Sales',
        members: [{ value: 'u1', display: 'Ann', $ref: 'https://example.com/Users/u1' }],
        meta: { resourceType: 'Group', version: 'W/"3"' },
      };
      const bare: ScimGroup = { schemas: [SCHEMA.GROUP], id: 'g2', displayName: 'Ops', externalId: 'X2' };
      const fetched: ScimGroup = { ...bare, members: [{ value: 'u2', display: 'Bob' }] };
      const gets: string[] = [];
      const pageSizes: (number | undefined)[] = [];
      const client = {
        users: { list: () => over<ScimUser>([]) },
        groups: {
          list: (options: { pageSize?: number }) => {
            pageSizes.push(options.pageSize);
            return over([listed, bare]);
          },
          get: async (id: string) => {
            gets.push(id);
            return fetched;
          },
        },
      } as unknown as ScimClient;
      const target = await readTarget(client);
      assert.deepEqual(gets, ['g2']);
      // A few groups a page: a page of big groups is parsed whole.
      assert.deepEqual(pageSizes, [GROUP_PAGE_SIZE]);
      assert.deepEqual(target.groups, [
        { id: 'g1', displayName: 'Sales', members: [{ value: 'u1' }], meta: { version: 'W/"3"' } },
        {
          id: 'g2',
          displayName: 'Ops',
          externalId: 'X2',
          members: [{ value: 'u2' }],
          meta: { version: resourceVersion(fetched) },
        },
      ]);
      assert.match(target.groups[1]!.meta!.version!, /^hash:/);
    },
  );

  test(
    'users are asked for a thousand a page, without their groups (the client caps ' + "it at the server's most)",
    async () => {
      const asked: Array<{ pageSize?: number; excludedAttributes?: string[] }> = [];
      const user: ScimUser = { schemas: [SCHEMA.USER], id: 'u1', userName: 'ann', meta: { version: 'W/"1"' } };
      const client = {
        users: {
          list: (options: { pageSize?: number; excludedAttributes?: string[] }) => {
            asked.push({ pageSize: options.pageSize, excludedAttributes: options.excludedAttributes });
            return over([user]);
          },
        },
        groups: { list: () => over<ScimGroup>([]) },
      } as unknown as ScimClient;
      const target = await readTarget(client);
      assert.equal(USER_PAGE_SIZE, 1000);
      assert.deepEqual(asked, [{ pageSize: USER_PAGE_SIZE, excludedAttributes: ['groups'] }]);
      assert.deepEqual(target.users, [{ id: 'u1', userName: 'ann', meta: { version: 'W/"1"' } }]);
    },
  );

  test(
    'a listing far ahead of the source waits for it: no more than MAX_UNSETTLED ' + 'users are held unsettled',
    async () => {
      const total = MAX_UNSETTLED + 500;
      let pulled = 0;
      async function* users(): AsyncGenerator<ScimUser, void, undefined> {
        for (let i = 0; i < total; i++) {
          pulled++;
          yield { schemas: [SCHEMA.USER], id: `u${i}`, userName: `user${i}`, meta: { version: 'W/"1"' } };
        }
      }
      const client = {
        users: { list: () => users() },
        groups: { list: () => over<ScimGroup>([]) },
      } as unknown as ScimClient;
      let settledCalls = 0;
      let comeNow: (s: Settler) => void = () => undefined;
      const settler = new Promise<Settler>((resolve) => (comeNow = resolve));
      const reading = readTarget(client, undefined, settler);
      // The source comes once the listing has stopped pulling (it waits for it).
      for (let last = -1; pulled !== last;) {
        last = pulled;
        await new Promise((resolve) => setImmediate(resolve));
      }
      const pulledWhenSourceCame = pulled;
      comeNow({
        settle: () => {
          settledCalls++;
          return false;
        },
      } as unknown as Settler);
      const target = await reading;
      assert.equal(pulledWhenSourceCame, MAX_UNSETTLED, 'the listing stopped at the limit');
      assert.equal(target.users.length, total, 'and read every user once the source came');
      assert.equal(settledCalls, total);
    },
  );
});

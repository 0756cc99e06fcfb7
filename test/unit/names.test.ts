import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_NAME_LOOKUPS, referenceNames } from '../../src/api/names.ts';

/** A client whose users and groups answer by id, counting the reads. */
function fakeClient(users: Record<string, string>, groups: Record<string, string>) {
  const reads: string[] = [];
  const api = (names: Record<string, string>, attr: string) => ({
    get: async (id: string, options?: { attributes?: string[] }) => {
      reads.push(`${attr}:${id}:${options?.attributes?.join(',')}`);
      if (!(id in names)) throw new Error(`${id} not found`);
      return { id, [attr]: names[id] };
    },
  });
  return { client: { users: api(users, 'userName'), groups: api(groups, 'displayName') } as never, reads };
}

test(
  'references: display first, else the userName or displayName read by id; ' + 'unreadable ones stay unnamed',
  async () => {
    const { client, reads } = fakeClient({ u1: 'ann@example.com' }, { g1: 'Engineering' });
    const members = await referenceNames(
      client,
      [{ value: 'u0', display: 'Zoe' }, { value: 'u1' }, { value: 'g1', type: 'Group' }, { value: 'gone' }],
      'member',
    );
    assert.deepEqual(Object.fromEntries(members), { u0: 'Zoe', u1: 'ann@example.com', g1: 'Engineering' });
    assert.deepEqual(reads.sort(), ['displayName:g1:displayName', 'userName:gone:userName', 'userName:u1:userName']);
    const groups = await referenceNames(client, [{ value: 'g1', type: 'direct' }], 'group');
    assert.deepEqual(Object.fromEntries(groups), { g1: 'Engineering' });
  },
);

test('at most MAX_NAME_LOOKUPS reads for one resource', async () => {
  const { client, reads } = fakeClient({}, {});
  const refs = Array.from({ length: MAX_NAME_LOOKUPS + 50 }, (_, i) => ({ value: `u${i}` }));
  await referenceNames(client, refs, 'member');
  assert.equal(reads.length, MAX_NAME_LOOKUPS);
});

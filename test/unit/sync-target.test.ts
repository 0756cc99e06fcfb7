import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMA, type ScimGroup, type ScimUser } from '../../src/api/types.ts';
import { resourceVersion } from '../../src/sync/planner.ts';
import { compactGroup, compactUser } from '../../src/sync/target.ts';

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
    meta: { resourceType: 'User', created: '2025-01-01T00:00:00Z', lastModified: '2025-01-02T00:00:00Z', location: 'https://example.com/Users/u1', version: 'W/"7"' },
  };

  test('a user keeps its attributes, loses schemas, and meta keeps only the version', () => {
    const { schemas: _schemas, meta: _meta, ...attributes } = user;
    assert.deepEqual(compactUser(user), { ...attributes, meta: { version: 'W/"7"' } });
  });

  test('the version is the one plans record, taken from the user as read', () => {
    const { version: _v, ...lastModifiedOnly } = user.meta!;
    assert.deepEqual(compactUser({ ...user, meta: lastModifiedOnly }).meta, { version: 'lastModified:2025-01-02T00:00:00Z' });
    // Without meta, a hash of the whole user (schemas included): what planning on the full user records.
    const { meta: _meta, ...bare } = user;
    const compact = compactUser(bare);
    assert.match(compact.meta!.version!, /^hash:/);
    assert.equal(compact.meta!.version, resourceVersion(bare));
    assert.notEqual(compact.meta!.version, resourceVersion({ ...bare, schemas: [SCHEMA.USER] }));
    assert.equal(resourceVersion(compact), resourceVersion(bare));
  });

  test("a group keeps id, displayName, externalId and its members' values (ids); its version counts the members", () => {
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
    assert.deepEqual(compact, { id: 'g1', displayName: 'Sales', externalId: 'G1', members: [{ value: 'u1' }, { value: 'u2' }], meta: { version: resourceVersion(group) } });
    assert.notEqual(compact.meta!.version, resourceVersion({ ...group, members: [] }));
    assert.deepEqual(compactGroup({ id: 'g2', displayName: 'Empty', meta: { version: 'W/"1"' } }), { id: 'g2', displayName: 'Empty', meta: { version: 'W/"1"' } });
  });
});

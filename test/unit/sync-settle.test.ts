import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { identityOf, Settler } from '../../src/sync/settle.ts';
import { compactUser } from '../../src/sync/target.ts';
import { DEFAULT_KEYS, rec, source, tuser } from './sync-helpers.ts';

describe('Settler', () => {
  const ann = () =>
    tuser('t1', {
      userName: 'ann@example.com',
      externalId: 'E1',
      title: 'Lead',
      emails: [{ value: 'ann@example.com', type: 'work' }],
      active: true,
    });

  test(
    'a user every matching record leaves unchanged is settled; a change, a ' +
      'reactivation or a second record with a change is not',
    () => {
      const same = source([rec(2, { externalId: 'E1', userName: 'ANN@example.com', title: 'Lead' })]);
      assert.equal(new Settler(same, DEFAULT_KEYS).settle(compactUser(ann())), true);
      const changed = source([rec(2, { externalId: 'E1', title: 'Boss' })]);
      assert.equal(new Settler(changed, DEFAULT_KEYS).settle(compactUser(ann())), false);
      const inactive = compactUser({ ...ann(), active: false });
      assert.equal(new Settler(same, DEFAULT_KEYS).settle(inactive), false, 'a reactivation');
      assert.equal(
        new Settler(source([rec(2, { externalId: 'E1', active: false })]), DEFAULT_KEYS).settle(inactive),
        true,
      );
      // Two records can match the user (one by externalId, one by e-mail): both must leave it unchanged.
      const two = source([
        rec(2, { externalId: 'E1', title: 'Lead' }),
        rec(3, { emails: [{ value: 'ann@example.com', type: 'work' }], title: 'Boss' }),
      ]);
      assert.equal(new Settler(two, DEFAULT_KEYS).settle(compactUser(ann())), false);
      // Only the run's match keys count: by userName alone, the second record cannot match.
      assert.equal(new Settler(two, ['externalId', 'userName']).settle(compactUser(ann())), true);
    },
  );

  test('a user no record can match is settled (no plan compares it)', () => {
    assert.equal(
      new Settler(source([rec(2, { userName: 'bob@example.com' })]), DEFAULT_KEYS).settle(compactUser(ann())),
      true,
    );
  });

  test('release keeps, of records only settled users can match, their match keys and active', () => {
    const src = source([
      rec(
        2,
        { externalId: 'E1', userName: 'ann@example.com', title: 'Lead', active: true },
        { onlyOnCreate: { password: 'x' }, groups: ['Sales'] },
      ),
      rec(3, { userName: 'bob@example.com', title: 'Boss' }),
      rec(4, { userName: 'cy@example.com', title: 'New' }),
    ]);
    const settler = new Settler(src, DEFAULT_KEYS);
    assert.equal(settler.settle(compactUser(ann())), true);
    assert.equal(settler.settle(compactUser(tuser('t2', { userName: 'bob@example.com', title: 'Intern' }))), false);
    settler.release();
    assert.deepEqual(
      src.users[0],
      rec(2, { externalId: 'E1', userName: 'ann@example.com', active: true }, { groups: ['Sales'] }),
    );
    assert.deepEqual(
      src.users[1]!.attributes,
      { userName: 'bob@example.com', title: 'Boss' },
      'matched by a user that changes',
    );
    assert.deepEqual(
      src.users[2]!.attributes,
      { userName: 'cy@example.com', title: 'New' },
      'matched by nobody: a create',
    );
  });

  test('identityOf keeps id, version, userName, externalId, e-mail values and active', () => {
    assert.deepEqual(identityOf(compactUser(ann())), {
      id: 't1',
      userName: 'ann@example.com',
      externalId: 'E1',
      emails: [{ value: 'ann@example.com' }],
      active: true,
      meta: { version: 'W/"t1-1"' },
    });
  });
});

/**
 * The planner's match table and its matching phases, on their own: the compact index, ranked
 * matching, the references changes use, and release() dropping what only matching needs.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PlanDraft } from '../../src/sync/plan/draft.ts';
import { MatchTable } from '../../src/sync/plan/match-table.ts';
import { findUnmatchableRecords, matchUsers, planUserChanges } from '../../src/sync/plan/users.ts';
import { opts, rec, target, tuser } from './sync-helpers.ts';

const targetUsers = [
  tuser('t1', { userName: 'Ann@Example.com', externalId: 'E1', emails: [{ value: 'shared@example.com' }] }),
  tuser('t2', {
    userName: 'bob@example.com',
    externalId: 'E2',
    emails: [{ value: 'Shared@Example.com' }, { value: 'bob@example.com' }],
  }),
  tuser('t3', { userName: 'cy@example.com' }),
];

describe('MatchTable', () => {
  test(
    'a user alone under a key value is indexed as its position; two users as a ' +
      'list; values compare as SCIM compares them',
    () => {
      const table = new MatchTable([], targetUsers, opts());
      assert.equal(table.hitsOf('userName', 'ANN@example.COM'), 0);
      assert.deepEqual(table.hitsOf('email', 'shared@EXAMPLE.com'), [0, 1]);
      assert.equal(table.hitsOf('externalId', 'e1'), undefined, 'externalId is case-exact');
      assert.equal(table.hitsOf('email', 'nobody@example.com'), undefined);
    },
  );

  test(
    'matching: the first ranked key with a value that finds users decides; refOf ' +
      'names the match, or the create that makes the record',
    () => {
      const users = [
        rec(2, { userName: 'bob@example.com', externalId: 'E1' }), // externalId (ranked first) finds t1
        rec(3, { userName: 'cy@example.com' }),
        rec(4, { userName: 'new@example.com' }),
        rec(5, { emails: [{ value: 'shared@example.com', primary: true }] }), // two users: a problem, both protected
      ];
      const table = new MatchTable(users, targetUsers, opts());
      const draft = new PlanDraft();
      findUnmatchableRecords(table, draft, opts());
      matchUsers(table, draft, opts());
      assert.deepEqual([...table.matchOf], [0, 2, -1, -1]);
      assert.deepEqual([...table.matched], [1, 0, 1]);
      assert.deepEqual([...table.bad], [0, 0, 0, 1]);
      assert.deepEqual([...table.protectedIds].sort(), ['t1', 't2']);
      assert.deepEqual(
        draft.problems.map((p) => p.origin.line),
        [5],
      );
      table.release();
      planUserChanges(table, draft, target(targetUsers), opts());
      assert.deepEqual(table.refOf(0), { ref: { id: 't1' }, key: 't1', name: 'Ann@Example.com' });
      assert.deepEqual(table.refOf(2), {
        ref: { change: 'create-user:new@example.com' },
        key: 'create-user:new@example.com',
        name: 'new@example.com',
      });
      assert.equal(table.refOf(3), undefined, 'a problem record is referred to by no change');
      assert.equal(table.managedAt(1), false);
      assert.equal(table.isMatchedId('t3'), true);
    },
  );

  test('release() drops the target index and the claims: the phases after matching cannot read them', () => {
    const table = new MatchTable([rec(2, { userName: 'cy@example.com' })], targetUsers, opts());
    assert.deepEqual(table.candidatesOf(0), [2]);
    table.release();
    assert.throws(() => table.candidatesOf(0), /released/);
    assert.throws(() => table.claimant(2), /released/);
    // What later phases need stays: the record's keys, and group references by them.
    assert.equal(table.keyOf(0, 1), 'cy@example.com');
    assert.equal(table.recordOf('CY@example.com'), 0);
  });

  test('a group member reference is looked up by the ranked keys, whatever the order of the source', () => {
    // Record 0's e-mail is record 1's userName: the userName key (ranked before email) decides.
    const users = [
      rec(2, { userName: 'a@example.com', emails: [{ value: 'b@example.com', primary: true }] }),
      rec(3, { userName: 'b@example.com' }),
    ];
    const table = new MatchTable(users, [], opts());
    assert.equal(table.recordOf('b@example.com'), 1);
    assert.equal(table.recordOf('A@EXAMPLE.COM'), 0);
    assert.equal(table.recordOf('c@example.com'), undefined);
  });
});

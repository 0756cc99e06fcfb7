/** The one table of change kinds (src/sync/change-kinds.ts) holds together. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  APPLY_ORDER,
  CHANGE_KIND_TABLE,
  CHANGE_KINDS,
  isRemoval,
  kindsIn,
  REVIEW_ORDER,
} from '../../src/sync/change-kinds.ts';

describe('change kinds', () => {
  test(
    'apply order: users are created and updated, groups created, memberships ' +
      'changed, then users deactivated and deleted, groups deleted',
    () => {
      assert.deepEqual(APPLY_ORDER, [
        'create-user',
        'update-user',
        'create-group',
        'add-member',
        'remove-member',
        'deactivate-user',
        'delete-user',
        'delete-group',
      ]);
    },
  );

  test('review order: user changes first, then group changes', () => {
    assert.deepEqual(REVIEW_ORDER, [
      'create-user',
      'update-user',
      'deactivate-user',
      'delete-user',
      'create-group',
      'add-member',
      'remove-member',
      'delete-group',
    ]);
    assert.deepEqual(CHANGE_KINDS, REVIEW_ORDER);
  });

  test('orders are each a permutation, and phases follow apply order', () => {
    for (const key of ['applyOrder', 'reviewOrder'] as const) {
      assert.deepEqual(CHANGE_KINDS.map((k) => CHANGE_KIND_TABLE[k][key]).sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
    }
    const phases = APPLY_ORDER.map((k) => CHANGE_KIND_TABLE[k].phase);
    assert.deepEqual(
      phases,
      [...phases].sort((a, b) => a - b),
    );
  });

  test('every dependency runs in an earlier phase', () => {
    for (const k of CHANGE_KINDS) {
      for (const d of CHANGE_KIND_TABLE[k].dependsOn)
        assert.ok(CHANGE_KIND_TABLE[d].phase < CHANGE_KIND_TABLE[k].phase, `${k} after ${d}`);
    }
    assert.deepEqual(CHANGE_KIND_TABLE['add-member'].dependsOn, ['create-user', 'create-group']);
  });

  test('the removals filter shows exactly the kinds that count against a threshold, each marked -', () => {
    assert.deepEqual(kindsIn('removals'), CHANGE_KINDS.filter(isRemoval));
    for (const k of CHANGE_KINDS.filter(isRemoval)) assert.equal(CHANGE_KIND_TABLE[k].symbol, '-');
  });

  test('filters', () => {
    assert.deepEqual(kindsIn('all'), REVIEW_ORDER);
    assert.deepEqual(kindsIn('creates'), ['create-user', 'create-group']);
    assert.deepEqual(kindsIn('updates'), ['update-user']);
    assert.deepEqual(kindsIn('removals'), ['deactivate-user', 'delete-user', 'remove-member', 'delete-group']);
    assert.deepEqual(kindsIn('groups'), ['create-group', 'add-member', 'remove-member', 'delete-group']);
  });
});

/** Which changes need which (src/sync/dependencies.ts): the rule the review and apply share. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  changeName,
  closeOverDependencies,
  includeWithPrerequisites,
  neededBy,
  prerequisitesOf,
} from '../../src/sync/dependencies.ts';
import type { Change } from '../../src/sync/model.ts';

const origin = { file: 'users.csv', line: 2 };
const CHANGES: Change[] = [
  { id: 'cu', kind: 'create-user', userName: 'kim', resource: { userName: 'kim' }, origin },
  { id: 'cg', kind: 'create-group', displayName: 'Sales', resource: { displayName: 'Sales' }, origin },
  // kim into the new group: needs both creates.
  {
    id: 'm1',
    kind: 'add-member',
    group: { change: 'cg' },
    groupName: 'Sales',
    user: { change: 'cu' },
    userName: 'kim',
  },
  // kim into an existing group: needs the user's create only.
  { id: 'm2', kind: 'add-member', group: { id: 'g9' }, groupName: 'Ops', user: { change: 'cu' }, userName: 'kim' },
  // An existing user into the new group.
  { id: 'm3', kind: 'add-member', group: { change: 'cg' }, groupName: 'Sales', user: { id: 't1' }, userName: 'ann' },
  { id: 'r1', kind: 'remove-member', group: { id: 'g9' }, groupName: 'Ops', user: { id: 't1' }, userName: 'ann' },
  { id: 'd1', kind: 'deactivate-user', target: 't2', userName: 'bob' },
];
const sorted = (s: Iterable<string>) => [...s].sort();

describe('dependencies', () => {
  test('a membership needs the creates it refers to; other changes need nothing', () => {
    assert.deepEqual(prerequisitesOf(CHANGES[2]!), ['cg', 'cu']);
    assert.deepEqual(prerequisitesOf(CHANGES[3]!), ['cu']);
    assert.deepEqual(prerequisitesOf(CHANGES[4]!), ['cg']);
    for (const c of [CHANGES[0]!, CHANGES[1]!, CHANGES[5]!, CHANGES[6]!]) assert.deepEqual(prerequisitesOf(c), []);
  });

  test('excluding "create user kim" excludes the memberships of kim, and says why', () => {
    const { excluded, because } = closeOverDependencies(CHANGES, ['cu']);
    assert.deepEqual(sorted(excluded), ['cu', 'm1', 'm2']);
    assert.deepEqual(Object.fromEntries(because), { m1: 'cu', m2: 'cu' });
    assert.equal(changeName(CHANGES[0], 'cu'), 'create user kim');
    assert.equal(changeName(CHANGES[1], 'cg'), 'create group Sales');
  });

  test('excluding nothing excludes nothing; excluding a membership takes nothing else along', () => {
    assert.equal(closeOverDependencies(CHANGES, []).excluded.size, 0);
    assert.deepEqual(sorted(closeOverDependencies(CHANGES, ['m1']).excluded), ['m1']);
  });

  test('a change whose prerequisite is not in the plan at all (a hand-edited file) is excluded', () => {
    const edited = CHANGES.filter((c) => c.id !== 'cg');
    const { excluded, because } = closeOverDependencies(edited, []);
    assert.deepEqual(sorted(excluded), ['m1', 'm3']);
    assert.equal(because.get('m3'), 'cg');
  });

  test('including a change includes what it needs, and only that', () => {
    const all = closeOverDependencies(CHANGES, ['cu', 'cg']).excluded;
    assert.deepEqual(sorted(all), ['cg', 'cu', 'm1', 'm2', 'm3']);
    assert.deepEqual(sorted(includeWithPrerequisites(CHANGES, all, 'm1')), ['m2', 'm3']);
    assert.deepEqual(sorted(includeWithPrerequisites(CHANGES, all, 'm2')), ['cg', 'm1', 'm3']);
    // Including a create brings back nothing that needs it: what stays excluded was never silently put back.
    assert.deepEqual(sorted(includeWithPrerequisites(CHANGES, all, 'cu')), ['cg', 'm1', 'm2', 'm3']);
  });

  test('neededBy names what each excluded change needs', () => {
    const excluded = closeOverDependencies(CHANGES, ['cu', 'r1']).excluded;
    assert.deepEqual(Object.fromEntries(neededBy(CHANGES, excluded)), { m1: 'cu', m2: 'cu' });
  });
});

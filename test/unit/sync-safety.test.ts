import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Plan, PlanSummary } from '../../src/sync/model.ts';
import { planSync } from '../../src/sync/planner.ts';
import { checkSafety, deletionLimit, type SafetyOptions } from '../../src/sync/safety.ts';
import { opts, rec, source, target, tuser } from './sync-helpers.ts';

const planWith = (summary: Partial<PlanSummary>): Plan => ({
  changes: [],
  problems: [],
  versions: {},
  matched: [],
  matchedGroups: [],
  summary: { create: 0, update: 0, deactivate: 0, delete: 0, memberships: 0, groupsCreated: 0, groupsDeleted: 0, managed: 0, ...summary },
});

const safety = (change: Partial<SafetyOptions> = {}): SafetyOptions => ({ allowEmpty: false, acceptSourceChange: false, unattended: false, recordCount: 100, ...change });
const checks = (plan: Plan, o: Partial<SafetyOptions> = {}) => checkSafety(plan, safety(o)).map((f) => f.check);

describe('deletionLimit', () => {
  test('default: 10% of the managed users, never below 5', () => {
    const rows: Array<[number, number]> = [
      [0, 5],
      [1, 5],
      [49, 5],
      [59, 5],
      [60, 6],
      [69, 6],
      [100, 10],
      [1234, 123],
      [100_000, 10_000],
    ];
    for (const [managed, limit] of rows) assert.equal(deletionLimit(undefined, managed), limit, `${managed} managed`);
  });

  test('an explicit count is taken as given (0 included)', () => {
    assert.equal(deletionLimit('25', 10), 25);
    assert.equal(deletionLimit('0', 1000), 0);
    assert.equal(deletionLimit(' 7 ', 1000), 7);
  });

  test('an explicit percentage is a share of the managed users, rounded down, with no minimum', () => {
    assert.equal(deletionLimit('10%', 20), 2);
    assert.equal(deletionLimit('10%', 1000), 100);
    assert.equal(deletionLimit('2.5%', 1000), 25);
    assert.equal(deletionLimit('50%', 3), 1);
    assert.equal(deletionLimit('0%', 1000), 0);
    assert.equal(deletionLimit('100%', 42), 42);
  });

  test('anything else is a RangeError that names the value', () => {
    for (const bad of ['abc', '-3', '10 %', '%', '', '5x', '1e3', '3.5', '10%%', '0x10']) {
      assert.throws(() => deletionLimit(bad, 100), (e: unknown) => e instanceof RangeError && e.message.includes(`"${bad.trim()}"`) && e.message.includes('--max-deletes'), JSON.stringify(bad));
    }
  });
});

describe('checkSafety', () => {
  test('an empty source is refused unless allowEmpty, and the message says how to proceed', () => {
    const empty = checkSafety(planWith({ managed: 3, deactivate: 3 }), safety({ recordCount: 0 }));
    assert.deepEqual(empty.map((f) => f.check), ['empty-source']);
    assert.match(empty[0]!.message, /--allow-empty/);
    assert.deepEqual(checks(planWith({ managed: 3, deactivate: 3 }), { recordCount: 0, allowEmpty: true }), []);
    assert.deepEqual(checks(planWith({}), { recordCount: 1 }), []);
  });

  test('the empty-source refusal also holds when nothing would be deleted (an empty export is never a normal input)', () => {
    assert.deepEqual(checks(planWith({ managed: 0 }), { recordCount: 0 }), ['empty-source']);
  });

  test('the threshold counts deactivations plus deletions and refuses only above the limit', () => {
    // 100 managed: the default limit is 10.
    assert.deepEqual(checks(planWith({ managed: 100, deactivate: 10 })), []);
    assert.deepEqual(checks(planWith({ managed: 100, deactivate: 5, delete: 5 })), []);
    assert.deepEqual(checks(planWith({ managed: 100, deactivate: 10, delete: 1 })), ['deletion-threshold']);
    assert.deepEqual(checks(planWith({ managed: 100, delete: 11 })), ['deletion-threshold']);
    // Creates, updates and memberships are not destructive.
    assert.deepEqual(checks(planWith({ managed: 100, create: 500, update: 500, memberships: 500, groupsDeleted: 50 })), []);
  });

  test('the threshold message gives the numbers and says how to proceed (--max-deletes)', () => {
    const [f] = checkSafety(planWith({ managed: 100, deactivate: 6, delete: 6 }), safety());
    assert.equal(f!.check, 'deletion-threshold');
    assert.match(f!.message, /deactivate or delete 12 of 100 managed users, over the limit of 10 \(10%, at least 5\)/);
    assert.match(f!.message, /--max-deletes 12\b/);
    assert.match(f!.message, /scimctl sync plan/);
    const [g] = checkSafety(planWith({ managed: 100, deactivate: 4 }), safety({ maxDeletes: '3' }));
    assert.match(g!.message, /over the limit of 3 \(--max-deletes 3\)/);
    assert.match(g!.message, /--max-deletes 4\b/);
  });

  test('an explicit --max-deletes raises or lowers the limit', () => {
    assert.deepEqual(checks(planWith({ managed: 100, deactivate: 40 }), { maxDeletes: '40' }), []);
    assert.deepEqual(checks(planWith({ managed: 100, deactivate: 41 }), { maxDeletes: '40%' }), ['deletion-threshold']);
    assert.deepEqual(checks(planWith({ managed: 20, deactivate: 3 }), { maxDeletes: '10%' }), ['deletion-threshold']);
    assert.deepEqual(checks(planWith({ managed: 20, deactivate: 1 }), { maxDeletes: '0' }), ['deletion-threshold']);
  });

  test('an invalid --max-deletes throws RangeError', () => {
    assert.throws(() => checkSafety(planWith({ managed: 10 }), safety({ maxDeletes: 'lots' })), RangeError);
  });

  test('source drift over 10% refuses only an unattended run without acceptSourceChange, when the last count is known', () => {
    const p = planWith({ managed: 100 });
    assert.deepEqual(checks(p, { unattended: true, lastRecordCount: 100, recordCount: 89 }), ['source-change']);
    assert.deepEqual(checks(p, { unattended: true, lastRecordCount: 100, recordCount: 111 }), ['source-change']);
    // Exactly 10% is not over it.
    assert.deepEqual(checks(p, { unattended: true, lastRecordCount: 100, recordCount: 90 }), []);
    assert.deepEqual(checks(p, { unattended: true, lastRecordCount: 100, recordCount: 110 }), []);
    // Someone is looking, or it was accepted, or there is nothing to compare with.
    assert.deepEqual(checks(p, { unattended: false, lastRecordCount: 100, recordCount: 50 }), []);
    assert.deepEqual(checks(p, { unattended: true, acceptSourceChange: true, lastRecordCount: 100, recordCount: 50 }), []);
    assert.deepEqual(checks(p, { unattended: true, lastRecordCount: undefined, recordCount: 50 }), []);
    assert.deepEqual(checks(p, { unattended: true, lastRecordCount: 0, recordCount: 50 }), []);
  });

  test('the drift message says how much, which way, and how to proceed', () => {
    const [down] = checkSafety(planWith({}), safety({ unattended: true, lastRecordCount: 200, recordCount: 150 }));
    assert.equal(down!.message, 'the source has 150 records, 25% fewer than the 200 of the last run. An unattended run stops here; check the source, then pass --accept-source-change');
    const [up] = checkSafety(planWith({}), safety({ unattended: true, lastRecordCount: 200, recordCount: 300 }));
    assert.match(up!.message, /300 records, 50% more than the 200/);
  });

  test('every failing check is reported, in order', () => {
    const p = planWith({ managed: 100, deactivate: 100 });
    assert.deepEqual(checks(p, { recordCount: 0, unattended: true, lastRecordCount: 100 }), ['empty-source', 'deletion-threshold', 'source-change']);
  });

  test('an empty (failed) export against a directory of managed users: the planner plans it, safety refuses it twice over', () => {
    const users = Array.from({ length: 40 }, (_, i) => tuser(`t${i}`, { userName: `u${i}@example.com`, active: true }));
    const p = planSync(source([]), target(users), opts({ owned: new Set(users.map((u) => u.id)) }));
    assert.equal(p.summary.deactivate, 40);
    assert.deepEqual(checks(p, { recordCount: 0 }), ['empty-source', 'deletion-threshold']);
    // Even with --allow-empty the threshold still holds (40 > 5).
    assert.deepEqual(checks(p, { recordCount: 0, allowEmpty: true }), ['deletion-threshold']);
    // A normal run with a few leavers passes.
    const q = planSync(source(users.slice(3).map((u, i) => rec(i + 2, { userName: u.userName }))), target(users), opts({ owned: new Set(users.map((u) => u.id)) }));
    assert.equal(q.summary.deactivate, 3);
    assert.deepEqual(checks(q, { recordCount: 37 }), []);
  });
});

describe('deactivations by the source', () => {
  test('updates that set active=false count against the deletion threshold', async () => {
    const { checkSafety } = await import('../../src/sync/safety.ts');
    const summary = { create: 0, update: 40, deactivate: 0, delete: 0, memberships: 0, groupsCreated: 0, groupsDeleted: 0, managed: 100, deactivatedBySource: 40 };
    const plan = { changes: [], problems: [], summary, versions: {}, matched: [], matchedGroups: [] };
    const findings = checkSafety(plan, { allowEmpty: false, acceptSourceChange: false, unattended: true, recordCount: 100 });
    assert.deepEqual(findings.map((f) => f.check), ['deletion-threshold']);
    assert.match(findings[0]!.message, /40 of 100 managed users/);
    const fine = checkSafety({ ...plan, summary: { ...summary, deactivatedBySource: 3 } }, { allowEmpty: false, acceptSourceChange: false, unattended: true, recordCount: 100 });
    assert.deepEqual(fine, []);
  });

  test('the planner counts an update to active=false, and only one that turns an active user inactive', async () => {
    const { deactivates } = await import('../../src/sync/planner.ts');
    assert.equal(deactivates([{ path: 'active', before: true, after: false }]), true);
    assert.equal(deactivates([{ path: 'active', before: undefined, after: false }]), true);
    assert.equal(deactivates([{ path: 'active', before: false, after: false }]), false);
    assert.equal(deactivates([{ path: 'active', before: false, after: true }]), false);
    assert.equal(deactivates([{ path: 'title', before: 'a', after: 'b' }]), false);
  });
});

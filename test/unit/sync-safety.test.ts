import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change, Plan, PlanSummary } from '../../src/sync/model.ts';
import { planSync } from '../../src/sync/planner.ts';
import {
  acceptLine,
  checkLimitSpec,
  checkSafety,
  deletionLimit,
  groupDeletionLimit,
  membershipRemovalLimit,
  type SafetyOptions,
} from '../../src/sync/safety.ts';
import { sourceHasGroups } from '../../src/commands/sync/shared.ts';
import { opts, rec, source, target, tgroup, tuser } from './sync-helpers.ts';

/** Changes that make up the counts of a summary (the checks count changes, never the summary). */
function changesFor(s: Partial<PlanSummary> & { removals?: number }): Change[] {
  const out: Change[] = [];
  const times = (n: number | undefined, make: (i: number) => Change) => {
    for (let i = 0; i < (n ?? 0); i++) out.push(make(i));
  };
  times(s.create, (i) => ({
    id: `create-user:n${i}`,
    kind: 'create-user',
    userName: `n${i}`,
    resource: { userName: `n${i}` },
    origin: { file: 'f', line: i + 2 },
  }));
  times((s.update ?? 0) - (s.deactivatedBySource ?? 0), (i) => ({
    id: `update-user:u${i}`,
    kind: 'update-user',
    target: `u${i}`,
    userName: `u${i}`,
    diffs: [{ path: 'title', before: 'a', after: 'b' }],
    reactivate: false,
    origin: { file: 'f', line: i + 2 },
  }));
  times(s.deactivatedBySource, (i) => ({
    id: `update-user:s${i}`,
    kind: 'update-user',
    target: `s${i}`,
    userName: `s${i}`,
    diffs: [{ path: 'active', before: true, after: false }],
    reactivate: false,
    origin: { file: 'f', line: i + 2 },
  }));
  times(s.deactivate, (i) => ({
    id: `deactivate-user:d${i}`,
    kind: 'deactivate-user',
    target: `d${i}`,
    userName: `d${i}`,
  }));
  times(s.delete, (i) => ({ id: `delete-user:x${i}`, kind: 'delete-user', target: `x${i}`, userName: `x${i}` }));
  times((s.memberships ?? 0) - (s.removals ?? 0), (i) => ({
    id: `add-member:g:a${i}`,
    kind: 'add-member',
    group: { id: 'g' },
    groupName: 'G',
    user: { id: `a${i}` },
    userName: `a${i}`,
  }));
  times(s.removals, (i) => ({
    id: `remove-member:g:r${i}`,
    kind: 'remove-member',
    group: { id: 'g' },
    groupName: 'G',
    user: { id: `r${i}` },
    userName: `r${i}`,
  }));
  times(s.groupsDeleted, (i) => ({
    id: `delete-group:g${i}`,
    kind: 'delete-group',
    target: `g${i}`,
    displayName: `G${i}`,
  }));
  return out;
}

const planWith = (summary: Partial<PlanSummary> & { removals?: number }): Plan => {
  const { removals, ...rest } = summary;
  return {
    changes: changesFor(summary),
    problems: [],
    versions: {},
    matched: [],
    matchedGroups: [],
    summary: {
      create: 0,
      update: 0,
      deactivate: 0,
      delete: 0,
      memberships: removals ?? 0,
      groupsCreated: 0,
      groupsDeleted: 0,
      managed: 0,
      ...rest,
    },
  };
};

const safety = (change: Partial<SafetyOptions> = {}): SafetyOptions => ({
  allowEmpty: false,
  acceptSourceChange: false,
  unattended: false,
  recordCount: 100,
  ...change,
});
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
      assert.throws(
        () => deletionLimit(bad, 100),
        (e: unknown) =>
          e instanceof RangeError && e.message.includes(`"${bad.trim()}"`) && e.message.includes('--max-deletes'),
        JSON.stringify(bad),
      );
    }
  });
});

describe('checkSafety', () => {
  test('an empty source is refused unless allowEmpty, and the message says how to proceed', () => {
    const empty = checkSafety(planWith({ managed: 3, deactivate: 3 }), safety({ recordCount: 0 }));
    assert.deepEqual(
      empty.map((f) => f.check),
      ['empty-source'],
    );
    assert.match(empty[0]!.message, /--allow-empty/);
    assert.deepEqual(checks(planWith({ managed: 3, deactivate: 3 }), { recordCount: 0, allowEmpty: true }), []);
    assert.deepEqual(checks(planWith({}), { recordCount: 1 }), []);
  });

  test(
    'the empty-source refusal also holds when nothing would be deleted (an empty ' + 'export is never a normal input)',
    () => {
      assert.deepEqual(checks(planWith({ managed: 0 }), { recordCount: 0 }), ['empty-source']);
    },
  );

  test('the threshold counts deactivations plus deletions and refuses only above the limit', () => {
    // 100 managed: the default limit is 10.
    assert.deepEqual(checks(planWith({ managed: 100, deactivate: 10 })), []);
    assert.deepEqual(checks(planWith({ managed: 100, deactivate: 5, delete: 5 })), []);
    assert.deepEqual(checks(planWith({ managed: 100, deactivate: 10, delete: 1 })), ['deletion-threshold']);
    assert.deepEqual(checks(planWith({ managed: 100, delete: 11 })), ['deletion-threshold']);
    // Creates, updates and membership additions are not destructive.
    assert.deepEqual(checks(planWith({ managed: 100, create: 500, update: 500, memberships: 500 })), []);
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

  test(
    'source drift over 10% refuses only an unattended run without ' +
      'acceptSourceChange, when the last count is known',
    () => {
      const p = planWith({ managed: 100 });
      assert.deepEqual(checks(p, { unattended: true, lastRecordCount: 100, recordCount: 89 }), ['source-change']);
      assert.deepEqual(checks(p, { unattended: true, lastRecordCount: 100, recordCount: 111 }), ['source-change']);
      // Exactly 10% is not over it.
      assert.deepEqual(checks(p, { unattended: true, lastRecordCount: 100, recordCount: 90 }), []);
      assert.deepEqual(checks(p, { unattended: true, lastRecordCount: 100, recordCount: 110 }), []);
      // Someone is looking, or it was accepted, or there is nothing to compare with.
      assert.deepEqual(checks(p, { unattended: false, lastRecordCount: 100, recordCount: 50 }), []);
      assert.deepEqual(
        checks(p, { unattended: true, acceptSourceChange: true, lastRecordCount: 100, recordCount: 50 }),
        [],
      );
      assert.deepEqual(checks(p, { unattended: true, lastRecordCount: undefined, recordCount: 50 }), []);
      assert.deepEqual(checks(p, { unattended: true, lastRecordCount: 0, recordCount: 50 }), []);
    },
  );

  test('the drift message says how much, which way, and how to proceed', () => {
    const [down] = checkSafety(planWith({}), safety({ unattended: true, lastRecordCount: 200, recordCount: 150 }));
    assert.equal(
      down!.message,
      'the source has 150 records, 25% fewer than the 200 of the last run. An ' +
        'unattended run stops here; check the source, then pass --accept-source-change',
    );
    const [up] = checkSafety(planWith({}), safety({ unattended: true, lastRecordCount: 200, recordCount: 300 }));
    assert.match(up!.message, /300 records, 50% more than the 200/);
  });

  test('every failing check is reported, in order', () => {
    const p = planWith({ managed: 100, deactivate: 100 });
    assert.deepEqual(checks(p, { recordCount: 0, unattended: true, lastRecordCount: 100 }), [
      'empty-source',
      'deletion-threshold',
      'source-change',
    ]);
  });

  test(
    'an empty (failed) export against a directory of managed users: the planner ' +
      'plans it, safety refuses it twice over',
    () => {
      const users = Array.from({ length: 40 }, (_, i) =>
        tuser(`t${i}`, { userName: `u${i}@example.com`, active: true }),
      );
      const p = planSync(source([]), target(users), opts({ owned: new Set(users.map((u) => u.id)) }));
      assert.equal(p.summary.deactivate, 40);
      assert.deepEqual(checks(p, { recordCount: 0 }), ['empty-source', 'deletion-threshold']);
      // Even with --allow-empty the threshold still holds (40 > 5).
      assert.deepEqual(checks(p, { recordCount: 0, allowEmpty: true }), ['deletion-threshold']);
      // A normal run with a few leavers passes.
      const q = planSync(
        source(users.slice(3).map((u, i) => rec(i + 2, { userName: u.userName }))),
        target(users),
        opts({ owned: new Set(users.map((u) => u.id)) }),
      );
      assert.equal(q.summary.deactivate, 3);
      assert.deepEqual(checks(q, { recordCount: 37 }), []);
    },
  );
});

describe('deactivations by the source', () => {
  test('updates that set active=false count against the deletion threshold', async () => {
    const { checkSafety } = await import('../../src/sync/safety.ts');
    const plan = planWith({ update: 40, managed: 100, deactivatedBySource: 40 });
    const findings = checkSafety(plan, {
      allowEmpty: false,
      acceptSourceChange: false,
      unattended: true,
      recordCount: 100,
    });
    assert.deepEqual(
      findings.map((f) => f.check),
      ['deletion-threshold'],
    );
    assert.match(findings[0]!.message, /40 of 100 managed users/);
    const fine = checkSafety(planWith({ update: 40, managed: 100, deactivatedBySource: 3 }), {
      allowEmpty: false,
      acceptSourceChange: false,
      unattended: true,
      recordCount: 100,
    });
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

describe('counts come from the changes, never from the summary', () => {
  test('a plan whose summary says 2 deactivations while its changes hold 41 is weighed at 41', () => {
    const plan = planWith({ managed: 100, deactivate: 41 });
    plan.summary.deactivate = 2;
    const [f] = checkSafety(plan, safety());
    assert.equal(f?.check, 'deletion-threshold');
    assert.match(f!.message, /deactivate or delete 41 of 100/);
  });

  test('a summary claiming removals and deletions that the changes do not hold refuses nothing', () => {
    const plan = planWith({ managed: 100, managedMemberships: 100, managedGroups: 10 });
    Object.assign(plan.summary, { memberships: 500, groupsDeleted: 10, deactivate: 90 });
    assert.deepEqual(checks(plan), []);
  });
});

describe('the membership-removal threshold', () => {
  test('default: 10% of the managed memberships, never below 10', () => {
    for (const [base, limit] of [
      [0, 10],
      [99, 10],
      [100, 10],
      [250, 25],
      [3976, 397],
    ] as const)
      assert.equal(membershipRemovalLimit(undefined, base), limit, `${base}`);
    assert.equal(membershipRemovalLimit('3', 3976), 3);
    assert.equal(membershipRemovalLimit('50%', 3976), 1988);
  });

  test(
    'every membership of 3,000 users removed (a blank Groups column) is refused, ' +
      'with the flag and the number to pass',
    () => {
      const [f] = checkSafety(
        planWith({ managed: 3000, managedMemberships: 3976, removals: 3976 }),
        safety({ recordCount: 3000 }),
      );
      assert.equal(f?.check, 'membership-threshold');
      assert.match(
        f!.message,
        /remove 3976 of 3976 group memberships of managed users, over the limit of 397 \(10%, at least 10\)/,
      );
      assert.match(f!.message, /--max-membership-removals 3976\b/);
      assert.deepEqual(f!.accept, ['--max-membership-removals 3976']);
    },
  );

  test('only removals count: additions are not destructive; at the limit passes, one over is refused', () => {
    assert.deepEqual(checks(planWith({ managed: 100, managedMemberships: 200, memberships: 1000 })), []);
    assert.deepEqual(checks(planWith({ managed: 100, managedMemberships: 200, removals: 20 })), []);
    assert.deepEqual(checks(planWith({ managed: 100, managedMemberships: 200, removals: 21 })), [
      'membership-threshold',
    ]);
    assert.deepEqual(
      checks(planWith({ managed: 100, managedMemberships: 200, removals: 21 }), { maxMembershipRemovals: '21' }),
      [],
    );
    assert.deepEqual(
      checks(planWith({ managed: 100, managedMemberships: 200, removals: 21 }), { maxMembershipRemovals: '10%' }),
      ['membership-threshold'],
    );
    assert.match(
      checkSafety(
        planWith({ managed: 100, managedMemberships: 200, removals: 21 }),
        safety({ maxMembershipRemovals: '5' }),
      )[0]!.message,
      /over the limit of 5 \(--max-membership-removals 5\)/,
    );
  });
});

describe('the group-deletion threshold', () => {
  test('default: 10% of the managed groups, never below 1', () => {
    for (const [base, limit] of [
      [0, 1],
      [10, 1],
      [19, 1],
      [20, 2],
      [300, 30],
    ] as const)
      assert.equal(groupDeletionLimit(undefined, base), limit, `${base}`);
  });

  test('all 10 groups deleted is refused; one is allowed; --max-group-deletes raises the limit', () => {
    const [f] = checkSafety(planWith({ managed: 100, managedGroups: 10, groupsDeleted: 10 }), safety());
    assert.equal(f?.check, 'group-deletion-threshold');
    assert.match(f!.message, /delete 10 of 10 managed groups, over the limit of 1 \(10%, at least 1\)/);
    assert.match(f!.message, /--max-group-deletes 10\b/);
    assert.deepEqual(checks(planWith({ managed: 100, managedGroups: 10, groupsDeleted: 1 })), []);
    assert.deepEqual(
      checks(planWith({ managed: 100, managedGroups: 10, groupsDeleted: 10 }), { maxGroupDeletes: '10' }),
      [],
    );
    assert.deepEqual(
      checks(planWith({ managed: 100, managedGroups: 10, groupsDeleted: 10 }), { maxGroupDeletes: '100%' }),
      [],
    );
    assert.deepEqual(
      checks(planWith({ managed: 100, managedGroups: 10, groupsDeleted: 2 }), { maxGroupDeletes: '0' }),
      ['group-deletion-threshold'],
    );
  });
});

describe('limit values', () => {
  test('a count or a percentage up to 100%; anything else names the flag and the value', () => {
    for (const ok of ['0', '25', '10%', '2.5%', '100%'])
      assert.doesNotThrow(() => checkLimitSpec('--max-group-deletes', ok));
    for (const bad of ['150%', 'lots', '-1', '1e3', '', '10 %']) {
      assert.throws(
        () => checkLimitSpec('--max-group-deletes', bad),
        (e: unknown) =>
          e instanceof RangeError && e.message.includes('--max-group-deletes') && e.message.includes(`"${bad}"`),
        bad,
      );
    }
    assert.throws(() => membershipRemovalLimit('x', 10), /--max-membership-removals/);
  });
});

describe('a source with no group data at all', () => {
  test('refused like an empty source when the plan removes memberships, unless --allow-empty-groups', () => {
    const plan = planWith({ managed: 100, managedMemberships: 1000, removals: 5 });
    const found = checkSafety(plan, safety({ sourceHasGroups: false }));
    assert.deepEqual(
      found.map((f) => f.check),
      ['empty-groups'],
    );
    assert.match(found[0]!.message, /no group data at all.*remove 5 membership\(s\).*--allow-empty-groups/);
    assert.deepEqual(checks(plan, { sourceHasGroups: false, allowEmptyGroups: true }), []);
    // Groups in the source, or nothing removed, or not known (a saved plan): no finding.
    assert.deepEqual(checks(plan, { sourceHasGroups: true }), []);
    assert.deepEqual(checks(plan, {}), []);
    assert.deepEqual(
      checks(planWith({ managed: 100, managedMemberships: 1000, memberships: 5 }), { sourceHasGroups: false }),
      [],
    );
  });

  test(
    'end to end through the planner: a blank Groups column for everyone removes ' +
      'every membership, and both checks refuse it',
    () => {
      const users = Array.from({ length: 30 }, (_, i) =>
        tuser(`t${i}`, { userName: `u${i}@example.com`, active: true }),
      );
      const groups = [
        tgroup(
          'g1',
          'Sales',
          users.slice(0, 20).map((u) => u.id),
        ),
        tgroup(
          'g2',
          'Ops',
          users.slice(10).map((u) => u.id),
        ),
      ];
      const owned = opts({ owned: new Set(users.map((u) => u.id)), ownedGroups: new Set(['g1', 'g2']) });
      const blank = source(users.map((u, i) => rec(i + 2, { userName: u.userName }, { groups: [] })));
      const p = planSync(blank, target(users, groups), owned);
      assert.equal(p.changes.filter((c) => c.kind === 'remove-member').length, 40);
      assert.equal(p.summary.managedMemberships, 40);
      const found = checkSafety(p, safety({ recordCount: 30, sourceHasGroups: sourceHasGroups(blank) }));
      assert.deepEqual(
        found.map((f) => f.check),
        ['empty-groups', 'membership-threshold'],
      );
      assert.equal(acceptLine(found), 'to go ahead as planned, pass --allow-empty-groups --max-membership-removals 40');
      // The same directory with its groups in the source: nothing to remove, nothing refused.
      const full = source(
        users.map((u, i) =>
          rec(i + 2, { userName: u.userName }, { groups: [...(i < 20 ? ['Sales'] : []), ...(i >= 10 ? ['Ops'] : [])] }),
        ),
      );
      const q = planSync(full, target(users, groups), owned);
      assert.equal(q.changes.length, 0);
      assert.deepEqual(checkSafety(q, safety({ recordCount: 30, sourceHasGroups: sourceHasGroups(full) })), []);
    },
  );

  test('with --delete-groups, deleting every managed group is stopped by the group-deletion threshold', () => {
    const users = Array.from({ length: 30 }, (_, i) => tuser(`t${i}`, { userName: `u${i}@example.com`, active: true }));
    const groups = Array.from({ length: 10 }, (_, i) => tgroup(`g${i}`, `G${i}`, []));
    const p = planSync(
      source(users.map((u, i) => rec(i + 2, { userName: u.userName }, { groups: [] }))),
      target(users, groups),
      opts({
        owned: new Set(users.map((u) => u.id)),
        ownedGroups: new Set(groups.map((g) => g.id)),
        deleteGroups: true,
      }),
    );
    assert.equal(p.changes.filter((c) => c.kind === 'delete-group').length, 10);
    assert.deepEqual(checks(p, { recordCount: 30 }), ['group-deletion-threshold']);
  });
});

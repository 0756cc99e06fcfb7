/** The interactive plan review as a pure state machine (src/ui/state/review.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Change } from '../../src/sync/model.ts';
import {
  excludedBecause,
  includedSummary,
  initialReview,
  isExpanded,
  progressOf,
  reviewReducer,
  selectedChange,
  shownChanges,
  type ReviewAction,
  type ReviewState,
} from '../../src/ui/state/review.ts';

const origin = { file: 'users.csv', line: 2 };
/** Deliberately not in apply order: the review groups them by kind. */
const CHANGES: Change[] = [
  {
    id: 'u1',
    kind: 'update-user',
    target: 't1',
    userName: 'ann@example.com',
    diffs: [{ path: 'title', before: 'A', after: 'B' }],
    reactivate: false,
    origin,
  },
  { id: 'c1', kind: 'create-user', userName: 'new1@example.com', resource: { userName: 'new1@example.com' }, origin },
  { id: 'd1', kind: 'deactivate-user', target: 't2', userName: 'bob@example.com' },
  {
    id: 'u2',
    kind: 'update-user',
    target: 't3',
    userName: 'cat@example.com',
    diffs: [{ path: 'title', before: 'C', after: 'D' }],
    reactivate: true,
    origin,
  },
  { id: 'g1', kind: 'create-group', displayName: 'Leads', resource: { displayName: 'Leads' }, origin },
  {
    id: 'm1',
    kind: 'add-member',
    group: { change: 'g1' },
    groupName: 'Leads',
    user: { id: 't1' },
    userName: 'ann@example.com',
  },
  {
    id: 'm2',
    kind: 'remove-member',
    group: { id: 'gx' },
    groupName: 'Old',
    user: { id: 't3' },
    userName: 'cat@example.com',
  },
  { id: 'x1', kind: 'delete-user', target: 't4', userName: 'dan@example.com' },
  { id: 'c2', kind: 'create-user', userName: 'new2@example.com', resource: { userName: 'new2@example.com' }, origin },
];

const run = (state: ReviewState, ...actions: ReviewAction[]) => actions.reduce(reviewReducer, state);
const keys = (state: ReviewState, ...ks: string[]) =>
  run(state, ...ks.map((key): ReviewAction => ({ type: 'confirmKey', key })));
const shownIds = (s: ReviewState) => shownChanges(s).map((c) => c.id);

describe('review: grouping and moving', () => {
  test('changes are shown grouped by kind in apply order; the first is selected', () => {
    const s = initialReview(CHANGES);
    assert.deepEqual(shownIds(s), ['c1', 'c2', 'u1', 'u2', 'd1', 'x1', 'g1', 'm1', 'm2']);
    assert.equal(selectedChange(s)?.id, 'c1');
    assert.equal(s.phase, 'review');
  });

  test('move clamps to the shown changes; top and bottom', () => {
    const s = initialReview(CHANGES);
    assert.equal(selectedChange(run(s, { type: 'move', delta: 3 }))?.id, 'u2');
    assert.equal(run(s, { type: 'move', delta: -4 }).selected, 0);
    assert.equal(run(s, { type: 'move', delta: 100 }).selected, 8);
    assert.equal(selectedChange(run(s, { type: 'move', delta: 'bottom' }))?.id, 'm2');
    assert.equal(run(s, { type: 'move', delta: 'bottom' }, { type: 'move', delta: 'top' }).selected, 0);
  });
});

describe('review: include, exclude, expand', () => {
  test('toggle excludes the selected change and includes it again', () => {
    const s = initialReview(CHANGES);
    const once = run(s, { type: 'move', delta: 2 }, { type: 'toggle' });
    assert.deepEqual([...once.excluded], ['u1']);
    const twice = run(once, { type: 'toggle' });
    assert.deepEqual([...twice.excluded], []);
    assert.deepEqual([...s.excluded], [], 'the reducer does not mutate the old state');
  });

  test('expand toggles the detail of the selected change', () => {
    const s = run(initialReview(CHANGES), { type: 'move', delta: 1 }, { type: 'expand' });
    assert.deepEqual([...s.expanded], ['c2']);
    assert.deepEqual([...run(s, { type: 'expand' }).expanded], []);
  });

  test('the included summary counts only what is still included', () => {
    const s = initialReview(CHANGES);
    assert.deepEqual(includedSummary(s), {
      create: 2,
      update: 2,
      deactivate: 1,
      delete: 1,
      memberships: 2,
      groupsCreated: 1,
      groupsDeleted: 0,
      managed: 0,
      excluded: 0,
    });
    // exclude c1 (0), u2 (3) and m1 (7)
    const ex = run(
      s,
      { type: 'toggle' },
      { type: 'move', delta: 3 },
      { type: 'toggle' },
      { type: 'move', delta: 4 },
      { type: 'toggle' },
    );
    assert.deepEqual([...ex.excluded].sort(), ['c1', 'm1', 'u2']);
    assert.deepEqual(includedSummary(ex), {
      create: 1,
      update: 1,
      deactivate: 1,
      delete: 1,
      memberships: 1,
      groupsCreated: 1,
      groupsDeleted: 0,
      managed: 0,
      excluded: 3,
    });
  });
});

describe('review: filter', () => {
  test('f cycles all → creates → updates → removals → groups → all, selecting the first each time', () => {
    let s = run(initialReview(CHANGES), { type: 'move', delta: 5 });
    const seen: Array<[string, string[], number]> = [];
    for (let i = 0; i < 5; i++) {
      s = run(s, { type: 'filter' });
      seen.push([s.filter, shownIds(s), s.selected]);
    }
    assert.deepEqual(seen, [
      ['creates', ['c1', 'c2', 'g1'], 0],
      ['updates', ['u1', 'u2'], 0],
      ['removals', ['d1', 'x1', 'm2'], 0],
      ['groups', ['g1', 'm1', 'm2'], 0],
      ['all', ['c1', 'c2', 'u1', 'u2', 'd1', 'x1', 'g1', 'm1', 'm2'], 0],
    ]);
  });

  test('toggle under a filter excludes the change the filter shows; exclusions survive filter changes', () => {
    const s = run(
      initialReview(CHANGES),
      { type: 'filter', to: 'removals' },
      { type: 'move', delta: 1 },
      { type: 'toggle' },
    );
    assert.deepEqual([...s.excluded], ['x1']);
    const back = run(s, { type: 'filter', to: 'all' });
    assert.deepEqual([...back.excluded], ['x1']);
    assert.equal(includedSummary(back).delete, 0);
  });

  test('moving in a filter clamps to its own length', () => {
    const s = run(initialReview(CHANGES), { type: 'filter', to: 'updates' }, { type: 'move', delta: 10 });
    assert.equal(s.selected, 1);
    assert.equal(selectedChange(s)?.id, 'u2');
  });
});

describe('review: apply and confirm', () => {
  test('a → confirm; exactly "yes" + Enter → applying', () => {
    const confirm = run(initialReview(CHANGES), { type: 'apply' });
    assert.equal(confirm.phase, 'confirm');
    assert.equal(confirm.confirmInput, '');
    const typed = keys(confirm, 'y', 'e', 's');
    assert.equal(typed.confirmInput, 'yes');
    assert.equal(typed.phase, 'confirm');
    assert.equal(keys(typed, 'return').phase, 'applying');
  });

  test('anything but exactly "yes" goes back to the review, applying nothing', () => {
    for (const typed of [[], ['y'], ['Y', 'E', 'S'], ['y', 'e', 's', ' '], ['y', 'e', 's', 's'], ['n', 'o']]) {
      const s = keys(run(initialReview(CHANGES), { type: 'apply' }), ...typed, 'return');
      assert.equal(s.phase, 'review', `typed ${JSON.stringify(typed.join(''))}`);
      assert.equal(s.confirmInput, '');
    }
  });

  test('backspace corrects the answer; named keys are not typed', () => {
    const s = keys(
      run(initialReview(CHANGES), { type: 'apply' }),
      'y',
      'e',
      'x',
      'backspace',
      's',
      'up',
      'tab',
      'return',
    );
    assert.equal(s.phase, 'applying');
    const del = keys(run(initialReview(CHANGES), { type: 'apply' }), 'n', 'delete', 'y', 'e', 's');
    assert.equal(del.confirmInput, 'yes');
  });

  test('Escape and cancel leave the confirmation with nothing applied', () => {
    const typed = keys(run(initialReview(CHANGES), { type: 'apply' }), 'y', 'e', 's');
    const esc = keys(typed, 'escape');
    assert.equal(esc.phase, 'review');
    assert.equal(esc.confirmInput, '');
    assert.equal(keys(esc, 'return').phase, 'review', 'Enter after Escape does not apply');
    assert.equal(run(typed, { type: 'cancel' }).phase, 'review');
  });

  test('apply does nothing when every change is excluded', () => {
    const one = initialReview([CHANGES[0]!]);
    const s = run(one, { type: 'toggle' }, { type: 'apply' });
    assert.equal(s.phase, 'review');
    assert.equal(run(one, { type: 'apply' }).phase, 'confirm');
  });

  test('while confirming or applying, moving, toggling and filtering change nothing', () => {
    const confirm = run(initialReview(CHANGES), { type: 'apply' });
    for (const action of [{ type: 'move', delta: 2 }, { type: 'toggle' }, { type: 'filter' }] as ReviewAction[]) {
      assert.deepEqual(run(confirm, action), confirm);
      const applying = keys(confirm, 'y', 'e', 's', 'return');
      assert.deepEqual(run(applying, action), applying);
    }
  });
});

describe('review: progress', () => {
  test('counts applied, failed and excluded results as they arrive; finished ends it', () => {
    let s = keys(run(initialReview(CHANGES), { type: 'toggle' }, { type: 'apply' }), 'y', 'e', 's', 'return');
    assert.deepEqual(progressOf(s), { done: 0, applied: 0, failed: 0, excluded: 0, total: 9 });
    s = run(
      s,
      { type: 'result', result: { id: 'c1', kind: 'create-user', status: 'excluded' } },
      { type: 'result', result: { id: 'c2', kind: 'create-user', status: 'applied', createdId: 'n2' } },
      { type: 'result', result: { id: 'u1', kind: 'update-user', status: 'failed', detail: 'HTTP 409' } },
      { type: 'result', result: { id: 'u2', kind: 'update-user', status: 'applied' } },
    );
    assert.deepEqual(progressOf(s), { done: 4, applied: 2, failed: 1, excluded: 1, total: 9 });
    // A second result for the same change replaces the first (no double counting).
    s = run(s, { type: 'result', result: { id: 'u1', kind: 'update-user', status: 'applied' } });
    assert.deepEqual(progressOf(s), { done: 4, applied: 3, failed: 0, excluded: 1, total: 9 });
    assert.equal(s.phase, 'applying');
    assert.equal(run(s, { type: 'finished' }).phase, 'done');
  });
});

describe('review: dependencies', () => {
  test(
    'excluding "create group Leads" excludes the membership that needs it; ' + 'including that brings the group back',
    () => {
      const s = run(initialReview(CHANGES), { type: 'move', delta: 6 });
      assert.equal(selectedChange(s)?.id, 'g1');
      const off = run(s, { type: 'toggle' });
      assert.deepEqual([...off.excluded].sort(), ['g1', 'm1']);
      assert.deepEqual(Object.fromEntries(excludedBecause(off)), { m1: 'g1' });
      assert.equal(includedSummary(off).excluded, 2);
      const back = run(off, { type: 'move', delta: 1 }, { type: 'toggle' });
      assert.equal(selectedChange(back)?.id, 'm1');
      assert.deepEqual([...back.excluded], []);
    },
  );
});

describe('review: after apply', () => {
  const done = () =>
    run(
      keys(run(initialReview(CHANGES), { type: 'apply' }), 'y', 'e', 's', 'return'),
      ...CHANGES.map((c): ReviewAction => ({
        type: 'result',
        result:
          c.id === 'm2' || c.id === 'c1'
            ? { id: c.id, kind: c.kind, status: 'failed', detail: `server said no to ${c.id}` }
            : { id: c.id, kind: c.kind, status: 'applied' },
      })),
      { type: 'finished' },
    );

  test('moving works again: down, bottom, top', () => {
    const s = done();
    assert.equal(s.phase, 'done');
    assert.equal(run(s, { type: 'move', delta: 1 }).selected, 1);
    assert.equal(selectedChange(run(s, { type: 'move', delta: 'bottom' }))?.id, 'm2');
    assert.equal(run(s, { type: 'move', delta: 'bottom' }, { type: 'move', delta: 'top' }).selected, 0);
  });

  test('f shows the failures only, and f again every change; toggling changes nothing', () => {
    const s = run(done(), { type: 'filter' });
    assert.equal(s.filter, 'failures');
    assert.deepEqual(
      shownChanges(s).map((c) => c.id),
      ['c1', 'm2'],
    );
    assert.equal(selectedChange(run(s, { type: 'move', delta: 1 }))?.id, 'm2');
    assert.equal(run(s, { type: 'filter' }).filter, 'all');
    assert.deepEqual(run(s, { type: 'toggle' }), s);
  });
});

describe('review: expand all', () => {
  test('expandAll shows every change expanded; again collapses them', () => {
    const s = run(initialReview(CHANGES), { type: 'expandAll' });
    assert.ok(CHANGES.every((c) => isExpanded(s, c.id)));
    assert.ok(CHANGES.every((c) => !isExpanded(run(s, { type: 'expandAll' }), c.id)));
  });
});

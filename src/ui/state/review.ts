/**
 * The interactive plan review, as a pure state machine: changes grouped by kind,
 * include/exclude, expand, filter by kind, then confirm and apply with live results.
 */
import type { ChangeResult } from '../../sync/apply.ts';
import { isRemoval, kindsIn, type ReviewCategory } from '../../sync/change-kinds.ts';
import { deactivates, summaryCounts } from '../../sync/counts.ts';
import { closeOverDependencies, includeWithPrerequisites, neededBy } from '../../sync/dependencies.ts';
import type { Change, Plan, PlanSummary, RecordProblem } from '../../sync/model.ts';
import { commandFor, typed } from '../keys.ts';

/** `failures`: after apply, the changes that failed. */
export type ReviewFilter = 'all' | ReviewCategory | 'failures';
const FILTERS: ReviewFilter[] = ['all', 'creates', 'updates', 'removals', 'groups'];

export type ReviewPhase = 'review' | 'confirm' | 'applying' | 'done';

/**
 * What the review shows of a plan: its changes, and what could not be planned and why (the plan's problems and notes).
 */
export type ReviewPlan = Pick<Plan, 'changes' | 'problems' | 'notes'>;

export interface ReviewState {
  changes: Change[];
  /** Source records the plan could not take up (their users are left alone). */
  problems: readonly RecordProblem[];
  /** How the plan was adapted to the target. */
  notes: readonly string[];
  /** Always closed over the dependencies: a change that needs an excluded change is excluded too (dependencies.ts). */
  excluded: ReadonlySet<string>;
  expanded: ReadonlySet<string>;
  /** Every change shown expanded (the expand-all key). */
  expandAll: boolean;
  filter: ReviewFilter;
  /** Index among the selectable (change) rows of the current filter. */
  selected: number;
  phase: ReviewPhase;
  confirmInput: string;
  results: Record<string, ChangeResult>;
}

export type ReviewAction =
  | { type: 'move'; delta: number | 'top' | 'bottom' }
  | { type: 'toggle' }
  | { type: 'expand' }
  | { type: 'expandAll' }
  | { type: 'filter'; to?: ReviewFilter }
  | { type: 'apply' }
  | { type: 'confirmKey'; key: string }
  | { type: 'cancel' }
  | { type: 'result'; result: ChangeResult }
  | { type: 'finished' };

/** A review of these changes; of a whole plan with `initialReview(plan.changes, plan)`. */
export function initialReview(
  changes: Change[],
  findings: Partial<Pick<ReviewPlan, 'problems' | 'notes'>> = {},
): ReviewState {
  return {
    changes,
    problems: findings.problems ?? [],
    notes: findings.notes ?? [],
    excluded: new Set(),
    expanded: new Set(),
    expandAll: false,
    filter: 'all',
    selected: 0,
    phase: 'review',
    confirmInput: '',
    results: {},
  };
}

/**
 * The changes the current filter shows, grouped by kind in review order (users first, then groups: not apply order).
 */
export function shownChanges(state: ReviewState): Change[] {
  if (state.filter === 'failures')
    return kindsIn('all').flatMap((k) =>
      state.changes.filter((c) => c.kind === k && state.results[c.id]?.status === 'failed'),
    );
  return kindsIn(state.filter).flatMap((k) => state.changes.filter((c) => c.kind === k));
}

/** Whether a change is shown with its detail. */
export const isExpanded = (state: ReviewState, id: string): boolean => state.expandAll || state.expanded.has(id);

/**
 * Why each change excluded only for what it needs is excluded: the id of the needed change (for "excluded: needs
 * create user X").
 */
export function excludedBecause(state: Pick<ReviewState, 'changes' | 'excluded'>): ReadonlyMap<string, string> {
  return neededBy(state.changes, state.excluded);
}

export function selectedChange(state: ReviewState): Change | undefined {
  return shownChanges(state)[state.selected];
}

/**
 * Whether a change takes something away: a deactivation (asked for, or by the source), a deletion, a membership
 * removal. The review marks them so they cannot be missed.
 */
export const removes = (c: Change): boolean =>
  isRemoval(c.kind) || (c.kind === 'update-user' && !c.reactivate && deactivates(c.diffs));

/** How many of the included changes take something away (the header counts them). */
export const removalCount = (state: Pick<ReviewState, 'changes' | 'excluded'>): number =>
  state.changes.filter((c) => !state.excluded.has(c.id) && removes(c)).length;

/** What would be applied now: the summary of the included changes. */
export function includedSummary(state: ReviewState): PlanSummary & { excluded: number } {
  const inc = state.changes.filter((c) => !state.excluded.has(c.id));
  return {
    ...summaryCounts(inc),
    managed: 0,
    excluded: state.changes.length - inc.length,
  };
}

export function progressOf(state: ReviewState): {
  done: number;
  applied: number;
  failed: number;
  excluded: number;
  total: number;
} {
  const results = Object.values(state.results);
  const n = (status: string) => results.filter((r) => r.status === status).length;
  return {
    done: results.length,
    applied: n('applied'),
    failed: n('failed'),
    excluded: n('excluded'),
    total: state.changes.length,
  };
}

export function reviewReducer(state: ReviewState, action: ReviewAction): ReviewState {
  const count = shownChanges(state).length;
  switch (action.type) {
    case 'move': {
      // After apply the outcome is read by moving: every change, its ✓ or ✗ and the server's word on a failure.
      if (state.phase !== 'review' && state.phase !== 'done') return state;
      const selected =
        action.delta === 'top' ? 0 : action.delta === 'bottom' ? count - 1 : state.selected + action.delta;
      return { ...state, selected: Math.max(0, Math.min(selected, count - 1)) };
    }
    case 'toggle': {
      const c = selectedChange(state);
      if (!c || state.phase !== 'review') return state;
      // Excluding takes the changes that need it along; including brings back what it needs.
      const excluded = state.excluded.has(c.id)
        ? includeWithPrerequisites(state.changes, state.excluded, c.id)
        : closeOverDependencies(state.changes, [...state.excluded, c.id]).excluded;
      return { ...state, excluded };
    }
    case 'expand': {
      const c = selectedChange(state);
      if (!c) return state;
      const expanded = new Set(state.expanded);
      if (expanded.has(c.id)) expanded.delete(c.id);
      else expanded.add(c.id);
      return { ...state, expanded, expandAll: false };
    }
    case 'expandAll':
      return { ...state, expandAll: !state.expandAll, expanded: new Set() };
    case 'filter': {
      // After apply: the failures only, and back.
      if (state.phase === 'done')
        return { ...state, filter: state.filter === 'failures' ? 'all' : 'failures', selected: 0 };
      if (state.phase !== 'review') return state;
      const to = action.to ?? FILTERS[(FILTERS.indexOf(state.filter) + 1) % FILTERS.length]!;
      return { ...state, filter: to, selected: 0 };
    }
    case 'apply':
      if (state.phase !== 'review' || state.changes.length === state.excluded.size) return state;
      return { ...state, phase: 'confirm', confirmInput: '' };
    case 'confirmKey': {
      if (state.phase !== 'confirm') return state;
      // The keys of the "type yes" line come from the key table (src/ui/keys.ts).
      const cmd = commandFor('confirmApply', action.key);
      if (cmd === 'submit')
        return state.confirmInput === 'yes'
          ? { ...state, phase: 'applying' }
          : { ...state, phase: 'review', confirmInput: '' };
      if (cmd === 'erase') return { ...state, confirmInput: state.confirmInput.slice(0, -1) };
      if (cmd === 'cancel') return { ...state, phase: 'review', confirmInput: '' };
      const confirmInput = cmd === undefined ? typed(state.confirmInput, action.key) : undefined;
      return confirmInput === undefined ? state : { ...state, confirmInput };
    }
    case 'cancel':
      return state.phase === 'confirm' ? { ...state, phase: 'review', confirmInput: '' } : state;
    case 'result':
      return { ...state, results: { ...state.results, [action.result.id]: action.result } };
    case 'finished':
      return { ...state, phase: 'done' };
  }
}

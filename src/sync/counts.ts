/**
 * What a plan would do, counted from its changes: the one source of every count that
 * a summary shows, a safety check weighs, or a plan file is checked against.
 */
import { CHANGE_KIND_TABLE } from './change-kinds.ts';
import type { Change } from './model.ts';

export interface ChangeCounts {
  create: number;
  update: number;
  deactivate: number;
  delete: number;
  /** Membership additions plus removals. */
  memberships: number;
  membershipAdds: number;
  membershipRemovals: number;
  groupsCreated: number;
  groupsDeleted: number;
  /** Updates that set active=false on an active user (the source deactivates them). */
  deactivatedBySource: number;
}

/** An update that turns an active user inactive: a deactivation by the source, as far as safety goes. */
export function deactivates(diffs: readonly { path: string; before?: unknown; after?: unknown }[]): boolean {
  return diffs.some((d) => d.path.toLowerCase() === 'active' && d.after === false && d.before !== false);
}

/** The counts a plan's summary shows (PlanSummary's change counts). */
export type SummaryCounts = Pick<
  ChangeCounts,
  'create' | 'update' | 'deactivate' | 'delete' | 'memberships' | 'groupsCreated' | 'groupsDeleted'
>;

/** The counts of a plan summary, from its changes. */
export function summaryCounts(changes: readonly Change[]): SummaryCounts {
  const {
    create,
    update,
    deactivate,
    delete: deleted,
    memberships,
    groupsCreated,
    groupsDeleted,
  } = countChanges(changes);
  return { create, update, deactivate, delete: deleted, memberships, groupsCreated, groupsDeleted };
}

export function countChanges(changes: readonly Change[]): ChangeCounts {
  const n: ChangeCounts = {
    create: 0,
    update: 0,
    deactivate: 0,
    delete: 0,
    memberships: 0,
    membershipAdds: 0,
    membershipRemovals: 0,
    groupsCreated: 0,
    groupsDeleted: 0,
    deactivatedBySource: 0,
  };
  for (const c of changes) {
    n[CHANGE_KIND_TABLE[c.kind].counter]++;
    if (c.kind === 'update-user' && deactivates(c.diffs)) n.deactivatedBySource++;
  }
  n.memberships = n.membershipAdds + n.membershipRemovals;
  return n;
}

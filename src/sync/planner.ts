/**
 * The planner: desired state (the source) + actual state (the target) → a plan.
 * Pure: no I/O, no clock, no randomness; the same inputs give the same plan.
 *
 * Safety rules built into its phases (src/sync/plan/):
 * - only attributes the source provides are compared (unmanaged data is never wiped);
 * - only managed users (created by scimctl or listed by the source before, or all
 *   with manageAll) are ever deactivated or deleted;
 * - a source record that cannot be matched unambiguously is a problem, and every
 *   target user it might mean is protected from deactivation and deletion;
 * - only memberships of managed groups change, and only for users the source lists.
 */
import { countChanges, deactivates, summaryCounts } from './counts.ts';
import type { Plan, PlanOptions, SourceSnapshot, TargetSnapshot } from './model.ts';
import { PlanDraft } from './plan/draft.ts';
import { planGroups, type GroupsOutcome } from './plan/groups.ts';
import { MatchTable } from './plan/match-table.ts';
import { findUnmatchableRecords, matchUsers, planMissingUsers, planUserChanges } from './plan/users.ts';

export { certainlyUnchanged } from './plan/compare.ts';
export { desiredKey, norm, targetKeys } from './plan/keys.ts';
export { resourceVersion, versionKey } from './plan/versions.ts';

/**
 * The phases, in order (each writes its changes and problems after those of the phases
 * before it): records that cannot be matched, matching, creates and updates, missing users,
 * groups and their memberships, and the summary. They share one MatchTable.
 */
export function planSync(source: SourceSnapshot, target: TargetSnapshot, options: PlanOptions): Plan {
  // A record read lazily holds only its identity: planned as it is, it would look unchanged.
  if (source.users.some((u) => u.stored !== undefined))
    throw new Error('planSync: the source has records not yet loaded (Settler.release loads them)');
  const draft = new PlanDraft();
  const table = new MatchTable(source.users, target.users, options);
  findUnmatchableRecords(table, draft, options);
  matchUsers(table, draft, options);
  table.release();
  planUserChanges(table, draft, target, options);
  planMissingUsers(table, draft, options);
  const groups =
    options.mode !== 'attributes'
      ? planGroups(table, draft, source, target, options)
      : { managedGroupIds: new Set<string>(), managedMemberships: 0 };
  return finishPlan(table, draft, target, options, groups);
}

/** The plan: the draft's changes, problems and versions, what was matched, and the summary the safety checks weigh. */
function finishPlan(
  table: MatchTable,
  draft: PlanDraft,
  target: TargetSnapshot,
  options: PlanOptions,
  groups: GroupsOutcome,
): Plan {
  let managed = 0;
  for (let t = 0; t < table.targetUsers.length; t++) if (table.managedAt(t)) managed++;
  // Groups this run could delete (with --delete-groups): the base of the group-deletion threshold.
  const managedGroups =
    options.mode !== 'attributes'
      ? target.groups.filter(
          (g) => groups.managedGroupIds.has(g.id) || options.manageAll || options.ownedGroups.has(g.id),
        ).length
      : 0;
  const n = countChanges(draft.changes);
  return {
    changes: draft.changes,
    problems: draft.problems,
    versions: draft.versions,
    matched: [...table.matchOf].filter((t) => t >= 0).map((t) => table.targetUsers[t]!.id),
    matchedGroups: [...groups.managedGroupIds],
    summary: {
      ...summaryCounts(draft.changes),
      managed,
      managedMemberships: groups.managedMemberships,
      managedGroups,
      ...(n.deactivatedBySource > 0 ? { deactivatedBySource: n.deactivatedBySource } : {}),
    },
  };
}

/** An update that turns an active user inactive (see counts.ts). */
export { deactivates };

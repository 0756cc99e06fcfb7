/**
 * The planner's group phases: the groups the source wants (and who is in them), then for
 * each, in name order, its create or its match in the target and its membership changes,
 * and last the deletions of managed groups the source no longer names.
 *
 * Groups the source names are managed; memberships change only there, and only for users
 * the source lists.
 */
import { SCHEMA, type ScimGroup } from '../../api/types.ts';
import type { GroupRef, Origin, PlanOptions, SourceSnapshot, TargetSnapshot } from '../model.ts';
import type { PlanDraft } from './draft.ts';
import { lower } from './keys.ts';
import type { MatchTable } from './match-table.ts';

/**
 * A group the source wants, by lower-cased displayName; members are record positions (undefined: its memberships are
 * not managed).
 */
interface WantedGroup {
  displayName: string;
  externalId?: string;
  origin: Origin;
  members: Set<number> | undefined;
}

/** What the group phases leave for the summary. */
export interface GroupsOutcome {
  /** Target groups the source names. */
  managedGroupIds: Set<string>;
  /** Memberships of users the source lists in the groups it manages: the base of the membership-removal threshold. */
  managedMemberships: number;
}

export function planGroups(
  table: MatchTable,
  draft: PlanDraft,
  source: SourceSnapshot,
  target: TargetSnapshot,
  options: PlanOptions,
): GroupsOutcome {
  const outcome: GroupsOutcome = { managedGroupIds: new Set(), managedMemberships: 0 };
  const wanted = wantedGroups(table, draft, source, target, options);
  const targetByName = new Map<string, ScimGroup[]>();
  for (const g of target.groups)
    targetByName.set(lower(g.displayName ?? ''), [...(targetByName.get(lower(g.displayName ?? '')) ?? []), g]);
  const sortedWanted = [...wanted.values()].sort((a, b) => a.displayName.localeCompare(b.displayName));
  for (const w of sortedWanted) {
    const hits = (w.externalId ? target.groups.filter((g) => g.externalId === w.externalId) : []).concat(
      targetByName.get(lower(w.displayName)) ?? [],
    );
    const unique = [...new Map(hits.map((g) => [g.id, g])).values()];
    if (unique.length > 1) {
      draft.problem(
        w.origin,
        `group "${w.displayName}" matches ${unique.length} groups: ${unique.map((g) => g.id).join(', ')}`,
      );
      continue;
    }
    const existing = unique[0];
    let groupRef: GroupRef;
    if (!existing) {
      const id = `create-group:${w.displayName}`;
      groupRef = { change: id };
      draft.changes.push({
        id,
        kind: 'create-group',
        displayName: w.displayName,
        resource: {
          schemas: [SCHEMA.GROUP],
          displayName: w.displayName,
          ...(w.externalId ? { externalId: w.externalId } : {}),
        },
        origin: w.origin,
      });
    } else {
      groupRef = { id: existing.id };
      outcome.managedGroupIds.add(existing.id);
    }
    planMemberships(table, draft, w, existing, groupRef, outcome);
  }
  if (options.deleteGroups) planGroupDeletions(draft, target, options, wanted, outcome.managedGroupIds);
  return outcome;
}

/** The groups the source wants, by lower-cased displayName, with the records it puts in each. */
function wantedGroups(
  table: MatchTable,
  draft: PlanDraft,
  source: SourceSnapshot,
  target: TargetSnapshot,
  options: PlanOptions,
): Map<string, WantedGroup> {
  const wanted = new Map<string, WantedGroup>();
  for (const g of source.groups)
    wanted.set(lower(g.displayName), {
      displayName: g.displayName,
      externalId: g.externalId,
      origin: g.origin,
      members: undefined,
    });
  // Members a groups file lists, by reference to a record's match key.
  for (const g of source.groups) {
    if (!g.members) continue;
    const set = new Set<number>();
    for (const m of g.members) {
      const i = table.recordOf(m);
      if (i !== undefined) set.add(i);
      else draft.problem(g.origin, `member "${m}" of group "${g.displayName}" is not a user of the source`);
    }
    wanted.get(lower(g.displayName))!.members = set;
  }
  // Memberships from users' group lists apply unless the groups file lists the members itself.
  const listedByFile = new Set(source.groups.filter((g) => g.members).map((g) => lower(g.displayName)));
  for (const [i, u] of table.users.entries()) {
    // A record that could not be planned does not make groups appear either.
    if (table.bad[i]) continue;
    for (const name of u.groups ?? []) {
      const key = lower(name);
      const w = wanted.get(key) ?? { displayName: name, origin: u.origin, members: undefined };
      wanted.set(key, w);
      if (listedByFile.has(key)) continue;
      (w.members ??= new Set()).add(i);
    }
  }
  // When users carry their group lists, a group the source named before (owned) that no user
  // names any more is still managed: it keeps existing, but the users the source lists leave it.
  // (--manage-all adopts users, not every group's membership.)
  // With --delete-groups such a group is not in the source any more, and goes.
  if (!options.deleteGroups && source.users.some((u) => u.groups !== undefined)) {
    for (const g of target.groups) {
      const name = lower(g.displayName ?? '');
      if (!wanted.has(name) && options.ownedGroups.has(g.id)) {
        wanted.set(name, {
          displayName: g.displayName,
          externalId: g.externalId,
          origin: { file: source.files[0] ?? 'source', line: 0 },
          members: new Set(),
        });
      }
    }
  }
  return wanted;
}

/** Adds the members the source wants in a group; with managed memberships, removes the users it lists but not there. */
function planMemberships(
  table: MatchTable,
  draft: PlanDraft,
  w: WantedGroup,
  existing: ScimGroup | undefined,
  groupRef: GroupRef,
  outcome: GroupsOutcome,
): void {
  const desiredMembers = [...(w.members ?? [])].flatMap((i) => table.refOf(i) ?? []);
  const current = new Set(
    (existing?.members ?? []).map((m) => m.value).filter((v): v is string => typeof v === 'string'),
  );
  const desiredIds = new Set<string>();
  let touched = false;
  for (const { ref, key, name } of desiredMembers) {
    desiredIds.add(key);
    if ('id' in ref && current.has(ref.id)) continue;
    touched = true;
    draft.changes.push({
      id: `add-member:${'id' in groupRef ? groupRef.id : groupRef.change}:${key}`,
      kind: 'add-member',
      group: groupRef,
      groupName: w.displayName,
      user: ref,
      userName: name,
    });
  }
  if (existing && w.members !== undefined) {
    for (const memberId of current) if (table.isMatchedId(memberId)) outcome.managedMemberships++;
    for (const memberId of current) {
      if (desiredIds.has(memberId) || table.protectedIds.has(memberId)) continue;
      // Only users the source lists move between groups. Members it does not list (leavers,
      // whose account the missing-user policy handles; service accounts; nested groups) stay.
      if (!table.isMatchedId(memberId)) continue;
      const member = table.targetUserById(memberId);
      if (!member) continue;
      touched = true;
      draft.changes.push({
        id: `remove-member:${existing.id}:${memberId}`,
        kind: 'remove-member',
        group: { id: existing.id },
        groupName: w.displayName,
        user: { id: memberId },
        userName: member.userName,
      });
    }
  }
  if (existing && touched) draft.touch(existing, 'Group');
}

/** With --delete-groups: managed groups the source no longer names. */
function planGroupDeletions(
  draft: PlanDraft,
  target: TargetSnapshot,
  options: PlanOptions,
  wanted: Map<string, WantedGroup>,
  managedGroupIds: Set<string>,
): void {
  for (const g of target.groups) {
    if (managedGroupIds.has(g.id) || wanted.has(lower(g.displayName ?? ''))) continue;
    if (!(options.manageAll || options.ownedGroups.has(g.id))) continue;
    draft.touch(g, 'Group');
    draft.changes.push({ id: `delete-group:${g.id}`, kind: 'delete-group', target: g.id, displayName: g.displayName });
  }
}

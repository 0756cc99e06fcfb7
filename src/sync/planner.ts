/**
 * The planner: desired state (the source) + actual state (the target) → a plan.
 * Pure: no I/O, no clock, no randomness; the same inputs give the same plan.
 *
 * Safety rules built in here:
 * - only attributes the source provides are compared (unmanaged data is never wiped);
 * - only managed users (created by scimctl or listed by the source before, or all
 *   with manageAll) are ever deactivated or deleted;
 * - a source record that cannot be matched unambiguously is a problem, and every
 *   target user it might mean is protected from deactivation and deletion;
 * - only memberships of managed groups change, and only for users the source lists.
 */
import { mergeAttributes } from '../api/edit.ts';
import { diffResources } from '../api/update.ts';
import { SCHEMA, type ScimGroup, type ScimResource, type ScimUser } from '../api/types.ts';
import { countChanges, deactivates } from './counts.ts';
import type { Change, DesiredUser, MatchKey, Plan, PlanOptions, RecordProblem, SourceSnapshot, TargetSnapshot, UserRef } from './model.ts';
import { certainlyUnchanged, normaliseIdentity, pick, withoutEmpty } from './plan/compare.ts';
import { desiredKey, labelOf, lower, norm, targetKeys } from './plan/keys.ts';
import { resourceVersion, versionKey } from './plan/versions.ts';

export { certainlyUnchanged } from './plan/compare.ts';
export { desiredKey, norm, targetKeys } from './plan/keys.ts';
export { resourceVersion, versionKey } from './plan/versions.ts';

/** Target users by lower-cased userName (built only when a plan renames someone). */
function ownersOfUserNames(users: readonly ScimUser[]): Map<string, ScimUser> {
  const m = new Map<string, ScimUser>();
  for (const u of users) if (typeof u.userName === 'string') m.set(lower(u.userName), u);
  return m;
}

export function planSync(source: SourceSnapshot, target: TargetSnapshot, options: PlanOptions): Plan {
  const changes: Change[] = [];
  const problems: RecordProblem[] = [];
  const versions: Record<string, string> = {};
  const touch = (r: ScimResource, kind: 'User' | 'Group') => (versions[versionKey(kind, r.id)] = resourceVersion(r));
  const usersMode = options.mode !== 'groups';
  const groupsMode = options.mode !== 'attributes';

  const users = source.users;
  const targetUsers = target.users;
  const keyCount = options.matchKeys.length;
  // A record read lazily holds only its identity: planned as it is, it would look unchanged.
  if (users.some((u) => u.stored !== undefined)) throw new Error('planSync: the source has records not yet loaded (Settler.release loads them)');

  // Index the target by every match key, by position (a user alone under a value is not wrapped in a list).
  const index = new Map<MatchKey, Map<string, number | number[]>>();
  for (const key of options.matchKeys) {
    const m = new Map<string, number | number[]>();
    targetUsers.forEach((u, t) => {
      for (const k of targetKeys(u, key)) {
        const there = m.get(k);
        if (there === undefined) m.set(k, t);
        else if (typeof there !== 'number') {
          if (there[there.length - 1] !== t) there.push(t);
        } else if (there !== t) m.set(k, [there, t]);
      }
    });
    index.set(key, m);
  }
  const hitsOf = (key: MatchKey, value: string): number | readonly number[] | undefined => index.get(key)!.get(norm(key, value));
  const hitCount = (hits: number | readonly number[] | undefined) => (hits === undefined ? 0 : typeof hits === 'number' ? 1 : hits.length);
  const hitList = (hits: number | readonly number[] | undefined): readonly number[] => (hits === undefined ? [] : typeof hits === 'number' ? [hits] : hits);
  // Each source record's keys, computed once: record i's value of matchKeys[k] is at i * keyCount + k.
  const keys: (string | undefined)[] = new Array<string | undefined>(users.length * keyCount);
  users.forEach((u, i) => options.matchKeys.forEach((key, k) => (keys[i * keyCount + k] = desiredKey(u, key))));
  const keyOf = (i: number, k: number) => keys[i * keyCount + k];
  const candidatesOf = (i: number): number[] => {
    const out = new Set<number>();
    options.matchKeys.forEach((key, k) => {
      const v = keyOf(i, k);
      if (v) for (const t of hitList(hitsOf(key, v))) out.add(t);
    });
    return [...out];
  };
  const protect = (positions: Iterable<number>) => {
    for (const t of positions) protectedIds.add(targetUsers[t]!.id);
  };

  // Two source records on one key: both are problems (which one is right cannot be known).
  const protectedIds = new Set<string>();
  const bad = new Uint8Array(users.length);
  options.matchKeys.forEach((key, k) => {
    const seen = new Map<string, number>();
    users.forEach((u, i) => {
      const v = keyOf(i, k);
      if (!v) return;
      const o = seen.get(norm(key, v));
      if (o === undefined) {
        seen.set(norm(key, v), i);
        return;
      }
      const other = users[o]!;
      if (!bad[i]) problems.push({ origin: u.origin, message: `${key} "${v}" is also on ${other.origin.file}:${other.origin.line}` });
      if (!bad[o]) problems.push({ origin: other.origin, message: `${key} "${v}" is also on ${u.origin.file}:${u.origin.line}` });
      bad[i] = bad[o] = 1;
    });
  });
  users.forEach((u, i) => {
    if (!bad[i] && !options.matchKeys.some((_, k) => keyOf(i, k))) {
      problems.push({ origin: u.origin, message: `no ${options.matchKeys.join(', ')} to match it by` });
      bad[i] = 1;
    }
  });

  // Match by ranked keys: the first key with a value that finds users decides.
  // matchOf: the target position record i matched, or -1; claimedBy: the record that matched target position t, or -1.
  const matchOf = new Int32Array(users.length).fill(-1);
  const claimedBy = new Int32Array(targetUsers.length).fill(-1);
  users.forEach((u, i) => {
    if (bad[i]) {
      protect(candidatesOf(i));
      return;
    }
    let found = -1;
    for (let k = 0; k < keyCount; k++) {
      const key = options.matchKeys[k]!;
      const v = keyOf(i, k);
      if (!v) continue;
      const hits = hitsOf(key, v);
      const n = hitCount(hits);
      if (n === 1) {
        found = typeof hits === 'number' ? hits : hits![0]!;
        break;
      }
      if (n > 1) {
        const list = hitList(hits).map((t) => targetUsers[t]!);
        problems.push({ origin: u.origin, message: `${key} "${v}" matches ${n} users: ${list.map((h) => `${h.userName} (${h.id})`).join(', ')}` });
        // Every user it might mean, by any of its keys, is protected (as for duplicate records).
        protect(candidatesOf(i));
        bad[i] = 1;
        return;
      }
    }
    if (found < 0) return;
    const o = claimedBy[found]!;
    if (o >= 0) {
      const other = users[o]!;
      const user = targetUsers[found]!;
      problems.push({ origin: u.origin, message: `matches the same user ${user.userName} (${user.id}) as ${other.origin.file}:${other.origin.line}` });
      if (!bad[o]) problems.push({ origin: other.origin, message: `matches the same user ${user.userName} (${user.id}) as ${u.origin.file}:${u.origin.line}` });
      protect([found, ...candidatesOf(i), ...candidatesOf(o)]);
      matchOf[o] = -1;
      bad[o] = bad[i] = 1;
      return;
    }
    claimedBy[found] = i;
    matchOf[i] = found;
  });

  // A user two records claimed is matched by neither: protected, not managed.
  const matched = new Uint8Array(targetUsers.length);
  for (const t of matchOf) if (t >= 0) matched[t] = 1;
  let matchedIds: Set<string> | undefined;
  const isMatchedId = (id: string) => (matchedIds ??= new Set(targetUsers.filter((_, t) => matched[t]).map((u) => u.id))).has(id);
  const managedAt = (t: number) => options.manageAll || matched[t] === 1 || options.owned.has(targetUsers[t]!.id);
  // How a change refers to record i (a target id, or the id of its create change), and its name there.
  const createOf = new Map<number, string>();
  const createIds = new Set<string>();
  const createLabels = new Map<string, string>();
  const refOf = (i: number): { ref: UserRef; key: string; name: string } | undefined => {
    if (bad[i]) return undefined;
    const t = matchOf[i]!;
    if (t >= 0) return { ref: { id: targetUsers[t]!.id }, key: targetUsers[t]!.id, name: targetUsers[t]!.userName };
    const change = createOf.get(i);
    return change === undefined ? undefined : { ref: { change }, key: change, name: createLabels.get(change) ?? change };
  };

  // Creates and updates.
  let userNameOwners: Map<string, ScimUser> | undefined;
  users.forEach((u, i) => {
    if (bad[i]) return;
    const t = matchOf[i]!;
    if (t < 0) {
      const label = labelOf(u);
      // Two new records can share a label (one userName under externalId matching): ids stay unique.
      const id = createIds.has(`create-user:${label}`) ? `create-user:${label}@${u.origin.file}:${u.origin.line}` : `create-user:${label}`;
      // Only a planned create can be referred to: in mode 'groups' nobody is created, so a new user gets no memberships.
      if (usersMode) {
        createOf.set(i, id);
        createIds.add(id);
        createLabels.set(id, label);
        // Nulls and empty values mean "no value": a create leaves them out.
        const resource: Record<string, unknown> = withoutEmpty({ schemas: [SCHEMA.USER], ...u.onlyOnCreate, ...u.attributes });
        const extensions = Object.keys(resource).filter((k) => /^urn:/i.test(k));
        resource.schemas = [SCHEMA.USER, ...extensions];
        changes.push({ id, kind: 'create-user', userName: label, resource, origin: u.origin });
      } else if (u.groups?.length) {
        problems.push({ origin: u.origin, message: `${label} is not in the target, so --mode groups cannot add it to ${u.groups.join(', ')}: run a full sync to create it` });
      }
      return;
    }
    const existing = targetUsers[t]!;
    if (!usersMode) return;
    // A managed user who is back in the source is active again, unless the source says otherwise.
    const reactivate = existing.active === false && u.attributes.active !== false;
    // A settled user (see settle.ts) was found certainly unchanged by every record that can match it.
    if (!reactivate && (target.settled?.has(existing.id) || certainlyUnchanged(existing, u.attributes))) return;
    const desired: Record<string, unknown> = mergeAttributes(existing, u.attributes);
    if (reactivate) desired.active = true;
    // Only what the source provides can differ: compare just those attributes.
    const names = Object.keys(u.attributes);
    if (reactivate) names.push('active');
    const diffs = diffResources(normaliseIdentity(pick(existing, names)), normaliseIdentity(pick(desired, names))).map((d) => ({
      path: d.path,
      before: d.path in existing ? existing[d.path] : d.before,
      after: d.path in desired ? desired[d.path] : d.after,
    }));
    // A rename onto another user's userName would fail on the server (or worse): a problem, and both are protected.
    const rename = diffs.find((d) => d.path === 'userName');
    if (rename && typeof rename.after === 'string') {
      const holder = (userNameOwners ??= ownersOfUserNames(targetUsers)).get(lower(rename.after));
      if (holder && holder.id !== existing.id) {
        problems.push({ origin: u.origin, message: `would rename ${existing.userName} to "${rename.after}", which is the userName of another user (${holder.id})` });
        protectedIds.add(existing.id);
        protectedIds.add(holder.id);
        return;
      }
    }
    if (diffs.length > 0) {
      touch(existing, 'User');
      changes.push({ id: `update-user:${existing.id}`, kind: 'update-user', target: existing.id, userName: existing.userName, diffs, reactivate, origin: u.origin });
    }
  });

  // Managed users that are no longer in the source.
  if (usersMode && options.missing !== 'leave') {
    for (const [position, t] of targetUsers.entries()) {
      if (matched[position] || protectedIds.has(t.id) || !managedAt(position)) continue;
      if (options.missing === 'delete') {
        touch(t, 'User');
        changes.push({ id: `delete-user:${t.id}`, kind: 'delete-user', target: t.id, userName: t.userName });
      } else if (t.active !== false) {
        touch(t, 'User');
        changes.push({ id: `deactivate-user:${t.id}`, kind: 'deactivate-user', target: t.id, userName: t.userName });
      }
    }
  }

  // Groups: those the source names are managed; memberships change only there, only for managed users.
  // Memberships of users the source lists in the groups it manages: the base of the membership-removal threshold.
  let managedMemberships = 0;
  const managedGroupIds = new Set<string>();
  if (groupsMode) {
    const wanted = new Map<string, { displayName: string; externalId?: string; origin: DesiredUser['origin']; members: Set<number> | undefined }>();
    for (const g of source.groups) wanted.set(lower(g.displayName), { displayName: g.displayName, externalId: g.externalId, origin: g.origin, members: undefined });
    // One index per key: a reference is looked up by the ranked keys, whatever the order of the source.
    const byKey = new Map<string, number>();
    if (source.groups.some((g) => g.members)) {
      users.forEach((_, i) => options.matchKeys.forEach((key, k) => {
        const v = keyOf(i, k);
        if (v && !byKey.has(`${key}:${norm(key, v)}`)) byKey.set(`${key}:${norm(key, v)}`, i);
      }));
    }
    for (const g of source.groups) {
      if (!g.members) continue;
      const set = new Set<number>();
      for (const m of g.members) {
        const i = options.matchKeys.map((k) => byKey.get(`${k}:${norm(k, m)}`)).find((x) => x !== undefined);
        if (i !== undefined) set.add(i);
        else problems.push({ origin: g.origin, message: `member "${m}" of group "${g.displayName}" is not a user of the source` });
      }
      wanted.get(lower(g.displayName))!.members = set;
    }
    // Memberships from users' group lists apply unless the groups file lists the members itself.
    const listedByFile = new Set(source.groups.filter((g) => g.members).map((g) => lower(g.displayName)));
    for (const [i, u] of users.entries()) {
      // A record that could not be planned does not make groups appear either.
      if (bad[i]) continue;
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
          wanted.set(name, { displayName: g.displayName, externalId: g.externalId, origin: { file: source.files[0] ?? 'source', line: 0 }, members: new Set() });
        }
      }
    }
    const targetByName = new Map<string, ScimGroup[]>();
    for (const g of target.groups) targetByName.set(lower(g.displayName ?? ''), [...(targetByName.get(lower(g.displayName ?? '')) ?? []), g]);
    // Target users by id, for removals (built once, when the first removal needs it).
    let usersById: Map<string, ScimUser> | undefined;
    const sortedWanted = [...wanted.values()].sort((a, b) => a.displayName.localeCompare(b.displayName));
    for (const w of sortedWanted) {
      const hits = (w.externalId ? target.groups.filter((g) => g.externalId === w.externalId) : []).concat(targetByName.get(lower(w.displayName)) ?? []);
      const unique = [...new Map(hits.map((g) => [g.id, g])).values()];
      if (unique.length > 1) {
        problems.push({ origin: w.origin, message: `group "${w.displayName}" matches ${unique.length} groups: ${unique.map((g) => g.id).join(', ')}` });
        continue;
      }
      const existing = unique[0];
      let groupRef: { id: string } | { change: string };
      const desiredMembers = [...(w.members ?? [])].flatMap((i) => refOf(i) ?? []);
      if (!existing) {
        const id = `create-group:${w.displayName}`;
        groupRef = { change: id };
        changes.push({ id, kind: 'create-group', displayName: w.displayName, resource: { schemas: [SCHEMA.GROUP], displayName: w.displayName, ...(w.externalId ? { externalId: w.externalId } : {}) }, origin: w.origin });
      } else {
        groupRef = { id: existing.id };
        managedGroupIds.add(existing.id);
      }
      const current = new Set((existing?.members ?? []).map((m) => m.value).filter((v): v is string => typeof v === 'string'));
      const desiredIds = new Set<string>();
      let touched = false;
      for (const { ref, key, name } of desiredMembers) {
        desiredIds.add(key);
        if ('id' in ref && current.has(ref.id)) continue;
        touched = true;
        changes.push({ id: `add-member:${'id' in groupRef ? groupRef.id : groupRef.change}:${key}`, kind: 'add-member', group: groupRef, groupName: w.displayName, user: ref, userName: name });
      }
      if (existing && w.members !== undefined) {
        for (const memberId of current) if (isMatchedId(memberId)) managedMemberships++;
        for (const memberId of current) {
          if (desiredIds.has(memberId) || protectedIds.has(memberId)) continue;
          // Only users the source lists move between groups. Members it does not list (leavers,
          // whose account the missing-user policy handles; service accounts; nested groups) stay.
          if (!isMatchedId(memberId)) continue;
          usersById ??= new Map(target.users.map((u) => [u.id, u]));
          const member = usersById.get(memberId);
          if (!member) continue;
          touched = true;
          changes.push({ id: `remove-member:${existing.id}:${memberId}`, kind: 'remove-member', group: { id: existing.id }, groupName: w.displayName, user: { id: memberId }, userName: member.userName });
        }
      }
      if (existing && touched) touch(existing, 'Group');
    }
    if (options.deleteGroups) {
      for (const g of target.groups) {
        if (managedGroupIds.has(g.id) || wanted.has(lower(g.displayName ?? ''))) continue;
        if (!(options.manageAll || options.ownedGroups.has(g.id))) continue;
        touch(g, 'Group');
        changes.push({ id: `delete-group:${g.id}`, kind: 'delete-group', target: g.id, displayName: g.displayName });
      }
    }
  }

  let managed = 0;
  for (let t = 0; t < targetUsers.length; t++) if (managedAt(t)) managed++;
  // Groups this run could delete (with --delete-groups): the base of the group-deletion threshold.
  const managedGroups = groupsMode ? target.groups.filter((g) => managedGroupIds.has(g.id) || options.manageAll || options.ownedGroups.has(g.id)).length : 0;
  const n = countChanges(changes);
  return {
    changes,
    problems,
    versions,
    matched: [...matchOf].filter((t) => t >= 0).map((t) => targetUsers[t]!.id),
    matchedGroups: [...managedGroupIds],
    summary: {
      create: n.create,
      update: n.update,
      deactivate: n.deactivate,
      delete: n.delete,
      memberships: n.memberships,
      groupsCreated: n.groupsCreated,
      groupsDeleted: n.groupsDeleted,
      managed,
      managedMemberships,
      managedGroups,
      ...(n.deactivatedBySource > 0 ? { deactivatedBySource: n.deactivatedBySource } : {}),
    },
  };
}

/** An update that turns an active user inactive (see counts.ts). */
export { deactivates };

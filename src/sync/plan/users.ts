/**
 * The planner's user phases: records that cannot be matched, matching, creates and
 * updates, and managed users the source no longer lists.
 */
import { mergeAttributes } from '../../api/edit.ts';
import { SCHEMA, schemasFor } from '../../api/types.ts';
import { diffResources } from '../../api/update.ts';
import type { Change, DesiredUser, PlanOptions, TargetSnapshot } from '../model.ts';
import { certainlyUnchanged, normaliseIdentity, pick, withoutEmpty } from './compare.ts';
import type { PlanDraft } from './draft.ts';
import { labelOf, norm } from './keys.ts';
import { hitCount, hitList, type MatchTable } from './match-table.ts';
import { location } from '../../sources/problem-groups.ts';

/**
 * Records that cannot be matched are problems: two records on one key (which one is right
 * cannot be known: both are problems), and a record with no match key at all.
 */
export function findUnmatchableRecords(table: MatchTable, draft: PlanDraft, options: PlanOptions): void {
  const { users, bad } = table;
  // A record the source could not give as it is (an avatar file it cannot read): its users are left alone.
  users.forEach((u, i) => {
    if (u.problem === undefined) return;
    draft.problem(u.origin, u.problem);
    bad[i] = 1;
  });
  options.matchKeys.forEach((key, k) => {
    const seen = new Map<string, number>();
    users.forEach((u, i) => {
      const v = table.keyOf(i, k);
      if (!v) return;
      const o = seen.get(norm(key, v));
      if (o === undefined) {
        seen.set(norm(key, v), i);
        return;
      }
      const other = users[o]!;
      if (!bad[i]) draft.problem(u.origin, `${key} "${v}" is also on ${location(other.origin)}`);
      if (!bad[o]) draft.problem(other.origin, `${key} "${v}" is also on ${location(u.origin)}`);
      bad[i] = bad[o] = 1;
    });
  });
  users.forEach((u, i) => {
    if (!bad[i] && !table.hasAnyKey(i)) {
      draft.problem(u.origin, `no ${options.matchKeys.join(', ')} to match it by`);
      bad[i] = 1;
    }
  });
}

/**
 * Matches each record by ranked keys: the first key with a value that finds users decides.
 * A key that finds several users, or a user two records find, makes a problem, and every
 * target user such a record might mean (by any of its keys) is protected.
 */
export function matchUsers(table: MatchTable, draft: PlanDraft, options: PlanOptions): void {
  const { users, targetUsers, bad } = table;
  users.forEach((u, i) => {
    if (bad[i]) {
      table.protect(table.candidatesOf(i));
      return;
    }
    const found = findTarget(table, draft, options, i);
    if (found < 0) return;
    const o = table.claimant(found);
    if (o >= 0) {
      const other = users[o]!;
      const user = targetUsers[found]!;
      draft.problem(u.origin, `matches the same user ${user.userName} (${user.id}) as ${location(other.origin)}`);
      if (!bad[o])
        draft.problem(other.origin, `matches the same user ${user.userName} (${user.id}) as ${location(u.origin)}`);
      table.protect([found, ...table.candidatesOf(i), ...table.candidatesOf(o)]);
      table.matchOf[o] = -1;
      bad[o] = bad[i] = 1;
      return;
    }
    table.claim(i, found);
  });
  table.markMatched();
}

/** The target position record i's first deciding key finds, or -1 (none, or several: then record i is a problem). */
function findTarget(table: MatchTable, draft: PlanDraft, options: PlanOptions, i: number): number {
  for (let k = 0; k < table.keyCount; k++) {
    const key = options.matchKeys[k]!;
    const v = table.keyOf(i, k);
    if (!v) continue;
    const hits = table.hitsOf(key, v);
    const n = hitCount(hits);
    if (n === 1) return typeof hits === 'number' ? hits : hits![0]!;
    if (n > 1) {
      const list = hitList(hits).map((t) => table.targetUsers[t]!);
      draft.problem(
        table.users[i]!.origin,
        `${key} "${v}" matches ${n} users: ${list.map((h) => `${h.userName} (${h.id})`).join(', ')}`,
      );
      // Every user it might mean, by any of its keys, is protected (as for duplicate records).
      table.protect(table.candidatesOf(i));
      table.bad[i] = 1;
      return -1;
    }
  }
  return -1;
}

/** Creates for new records and updates for matched ones, in the order of the source. */
export function planUserChanges(
  table: MatchTable,
  draft: PlanDraft,
  target: TargetSnapshot,
  options: PlanOptions,
): void {
  const usersMode = options.mode !== 'groups';
  table.users.forEach((u, i) => {
    if (table.bad[i]) return;
    const t = table.matchOf[i]!;
    if (t < 0) planCreate(table, draft, usersMode, u, i);
    else if (usersMode) planUpdate(table, draft, target, u, t);
  });
}

function planCreate(table: MatchTable, draft: PlanDraft, usersMode: boolean, u: DesiredUser, i: number): void {
  const label = labelOf(u);
  // Two new records can share a label (one userName under externalId matching): ids stay unique.
  const id = table.createIds.has(`create-user:${label}`)
    ? `create-user:${label}@${u.origin.file}:${u.origin.line}`
    : `create-user:${label}`;
  // Only a planned create can be referred to: in mode 'groups' nobody is created, so a new user gets no memberships.
  if (usersMode) {
    table.recordCreate(i, id, label);
    // Nulls and empty values mean "no value": a create leaves them out.
    const resource: Record<string, unknown> = withoutEmpty({
      schemas: [SCHEMA.USER],
      ...u.onlyOnCreate,
      ...u.attributes,
    });
    resource.schemas = schemasFor(SCHEMA.USER, resource);
    draft.changes.push({ id, kind: 'create-user', userName: label, resource, origin: u.origin });
  } else if (u.groups?.length) {
    draft.problem(
      u.origin,
      `${label} is not in the target, so --mode groups cannot add it to ` +
        `${u.groups.join(', ')}: run a full sync to create it`,
    );
  }
}

function planUpdate(table: MatchTable, draft: PlanDraft, target: TargetSnapshot, u: DesiredUser, t: number): void {
  const existing = table.targetUsers[t]!;
  // A managed user who is back in the source is active again, unless the source says otherwise.
  const reactivate = existing.active === false && u.attributes.active !== false;
  // A settled user (see settle.ts) was found certainly unchanged by every record that can match it.
  if (!reactivate && (target.settled?.has(existing.id) || certainlyUnchanged(existing, u.attributes))) return;
  const desired: Record<string, unknown> = mergeAttributes(existing, u.attributes);
  if (reactivate) desired.active = true;
  // Only what the source provides can differ: compare just those attributes.
  const names = Object.keys(u.attributes);
  if (reactivate) names.push('active');
  const diffs = diffResources(normaliseIdentity(pick(existing, names)), normaliseIdentity(pick(desired, names))).map(
    (d) => ({
      path: d.path,
      before: d.path in existing ? existing[d.path] : d.before,
      after: d.path in desired ? desired[d.path] : d.after,
    }),
  );
  // A rename onto another user's userName would fail on the server (or worse): a problem, and both are protected.
  const rename = diffs.find((d) => d.path === 'userName');
  if (rename && typeof rename.after === 'string') {
    const holder = table.userNameOwner(rename.after);
    if (holder && holder.id !== existing.id) {
      draft.problem(
        u.origin,
        `would rename ${existing.userName} to "${rename.after}", which is the userName of another user (${holder.id})`,
      );
      table.protectedIds.add(existing.id);
      table.protectedIds.add(holder.id);
      return;
    }
  }
  if (diffs.length > 0) {
    draft.touch(existing, 'User');
    draft.changes.push({
      id: `update-user:${existing.id}`,
      kind: 'update-user',
      target: existing.id,
      userName: existing.userName,
      diffs,
      reactivate,
      origin: u.origin,
    });
  }
}

/**
 * Managed users the source no longer lists (and no problem record might mean): deactivated or deleted, as
 * options.missing says.
 */
export function planMissingUsers(table: MatchTable, draft: PlanDraft, options: PlanOptions): void {
  if (options.mode === 'groups' || options.missing === 'leave') return;
  for (const [position, t] of table.targetUsers.entries()) {
    if (table.matched[position] || table.protectedIds.has(t.id) || !table.managedAt(position)) continue;
    let change: Change;
    if (options.missing === 'delete')
      change = { id: `delete-user:${t.id}`, kind: 'delete-user', target: t.id, userName: t.userName };
    else if (t.active !== false)
      change = { id: `deactivate-user:${t.id}`, kind: 'deactivate-user', target: t.id, userName: t.userName };
    else continue;
    draft.touch(t, 'User');
    draft.changes.push(change);
  }
}

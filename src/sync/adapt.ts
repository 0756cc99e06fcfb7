/**
 * A sync adapted to what the target does, as learned from its answers (src/api/learned.ts):
 * group members it never returns come from scimctl's own record of what it added, and
 * attributes it does not keep as sent are compared as it would keep them. Pure: the
 * snapshots are changed in place before planning, and the notes say how, for the plan.
 */
import { describeUnkept, fitToKept, type Learned } from '../api/learned.ts';
import type { Change, SourceSnapshot, TargetSnapshot } from './model.ts';
import type { ChangeResult } from './apply.ts';
import { factsOf, foldLedger } from './journal.ts';

/** Group id → user ids scimctl added to it (and did not remove), for targets whose members cannot be read. */
export type MemberLedger = Record<string, string[]>;

export function adaptToTarget(
  source: SourceSnapshot,
  target: TargetSnapshot,
  learned: Learned,
  ledger: MemberLedger | undefined,
): string[] {
  const notes: string[] = [];
  if (learned.membersReadable === false) {
    let known = 0;
    for (const g of target.groups) {
      const have = new Set((g.members ?? []).map((m) => m.value));
      const add = (ledger?.[g.id] ?? []).filter((id) => !have.has(id));
      known += add.length;
      g.members = [...(g.members ?? []), ...add.map((value) => ({ value }))];
    }
    notes.push(
      `this target does not return group members: memberships are compared with ` +
        `scimctl's record of those it added (${known}), and only those can be removed`,
    );
  }
  const unkept = Object.entries(learned.unkept);
  if (unkept.length > 0) {
    for (const u of source.users) u.attributes = fitToKept(u.attributes, learned.unkept);
    notes.push(
      `left out of the comparison because this target does not keep them as sent: ` +
        `${unkept.map(([p, how]) => describeUnkept(p, how)).join(', ')}`,
    );
  }
  return notes;
}

/**
 * The ledger after an applied plan: memberships added and removed, groups and users deleted (the journal's fold,
 * journal.ts).
 */
export function updateLedger(
  ledger: MemberLedger | undefined,
  changes: readonly Change[],
  results: readonly ChangeResult[],
): MemberLedger {
  return foldLedger(ledger, factsOf(changes, results));
}

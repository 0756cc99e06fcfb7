/**
 * Settling: keeping a big target and its source small while the target is read.
 *
 * A plan needs the attributes of a target user, and of the source records that can match
 * it, only to find what changes. When every record that can match a user (by any of the
 * run's match keys) leaves it certainly unchanged (the planner's own fast test, and no
 * reactivation), the user is *settled*: the plan needs no more of it than its identity,
 * and of those records no more than theirs. So is a user no record can match (a leaver,
 * an account the source does not list): the plan never compares it. On a re-sync where little changed, that is
 * almost everyone, so neither side is held whole.
 *
 * Why the plan stays the same: the planner matches a record only to a user it shares a
 * match key with, so whichever user it matches was tested against it; a record that
 * shares a key with some user is never created (it matches, or is a problem). Settled
 * users are named in TargetSnapshot.settled, and the planner skips their comparison.
 *
 * Records read lazily (DesiredUser.stored) are compared whole, read again from their file
 * one at a time (SourceSnapshot.records), and kept as their identity until release() loads
 * those a plan compares or creates. Otherwise pure: no I/O of its own.
 */
import type { ScimUser } from '../api/types.ts';
import type { DesiredUser, MatchKey, SourceSnapshot } from './model.ts';
import { certainlyUnchanged, desiredKey, norm, targetKeys } from './planner.ts';

/** What of a user a plan needs when it is settled: id, version, userName, externalId, e-mail values, active. */
export function identityOf(user: ScimUser): ScimUser {
  const out: ScimUser = { id: user.id, userName: user.userName };
  if (user.externalId !== undefined) out.externalId = user.externalId;
  // An address that is the userName shares its text (a string less a user).
  if (Array.isArray(user.emails))
    out.emails = user.emails.map((e) => ({ value: e?.value === user.userName ? user.userName : e?.value }));
  if (user.active !== undefined) out.active = user.active;
  if (user.meta !== undefined) out.meta = { version: user.meta.version };
  return out;
}

/** What of a record a plan needs when every user it can match is settled: its match keys and active. */
function recordIdentity(attributes: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of ['externalId', 'userName', 'emails', 'active'])
    if (name in attributes) out[name] = attributes[name];
  return out;
}

export class Settler {
  /** Source records (by position) under each match key's normalised value. */
  private readonly index = new Map<MatchKey, Map<string, number | number[]>>();
  /** Per record: 1 when a settled user can match it, 2 when an unsettled one can (or a user could not be settled). */
  private readonly seen: Uint8Array;

  constructor(
    private readonly source: SourceSnapshot,
    private readonly matchKeys: readonly MatchKey[],
  ) {
    this.seen = new Uint8Array(source.users.length);
    for (const key of matchKeys) {
      const m = new Map<string, number | number[]>();
      source.users.forEach((u, i) => {
        const v = desiredKey(u, key);
        if (!v) return;
        const k = norm(key, v);
        const there = m.get(k);
        if (there === undefined) m.set(k, i);
        else if (typeof there === 'number') m.set(k, [there, i]);
        else there.push(i);
      });
      this.index.set(key, m);
    }
  }

  /** The records that can match `user`, by position, each once (mostly one record, found by every key). */
  private candidates(user: ScimUser): number[] {
    const out: number[] = [];
    // A short list is searched; a long one (a value many records share) gets a set.
    let seen: Set<number> | undefined;
    const add = (i: number) => {
      if (seen ? seen.has(i) : out.includes(i)) return;
      out.push(i);
      if (seen) seen.add(i);
      else if (out.length > 8) seen = new Set(out);
    };
    for (const key of this.matchKeys) {
      const m = this.index.get(key)!;
      for (const k of targetKeys(user, key)) {
        const there = m.get(k);
        if (typeof there === 'number') add(there);
        else if (there) for (const i of there) add(i);
      }
    }
    return out;
  }

  /** Whether `user` (as read, whole) is settled; when it is, keep identityOf(user) instead. */
  settle(user: ScimUser): boolean {
    const candidates = this.candidates(user);
    // A user no record can match is settled too: the plan never compares it.
    let settled = true;
    for (const i of candidates) {
      const record = this.source.users[i]!;
      const attributes =
        record.stored === undefined ? record.attributes : this.source.records!.whole(record).attributes;
      const reactivation = user.active === false && attributes.active !== false;
      if (reactivation || !certainlyUnchanged(user, attributes)) {
        settled = false;
        break;
      }
    }
    for (const i of candidates) this.seen[i] = settled ? Math.max(this.seen[i]!, 1) : 2;
    return settled;
  }

  /**
   * Once the whole target was read: every record that only settled users can match keeps
   * just its match keys and active (its other attributes are needed by no plan); every other
   * record read lazily is loaded whole (a plan compares or creates it). Changes the
   * snapshot's records in place; after it, none is lazy. Returns the positions of the records kept as their identity.
   */
  release(): ReadonlySet<number> {
    const settled = new Set<number>();
    this.index.clear();
    const records = this.source.records;
    this.source.users.forEach((u: DesiredUser, i) => {
      const stored = u.stored;
      // Deleted first: `stored` is the last property a record got, and dropping the last keeps its shape.
      delete u.stored;
      if (this.seen[i] === 1) {
        u.attributes = recordIdentity(u.attributes);
        delete u.onlyOnCreate;
        settled.add(i);
      } else if (stored !== undefined) {
        const whole = records!.whole({ ...u, stored });
        u.attributes = whole.attributes;
        if (whole.onlyOnCreate) u.onlyOnCreate = whole.onlyOnCreate;
      }
    });
    records?.close();
    delete this.source.records;
    return settled;
  }
}

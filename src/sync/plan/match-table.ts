/**
 * The match table: what the planner's phases share about source records (by position i
 * in source.users) and target users (by position t in target.users): each record's match
 * keys, the target indexed by them, which record matched which user, which records are
 * problems, which users are protected, and how a change refers to a record.
 *
 * Memory: a no-op re-sync of 100,000 users must peak at 300 MiB RSS or less, with planner
 * CPU under a second (issue 4). So everything here is allocated in this one place, per
 * position rather than per object: typed arrays instead of maps keyed by objects, one flat
 * array for every record's keys, a user alone under a key value kept as its position and
 * not as a one-item list, keys already in lower case kept as the user's own text (see
 * `lower`), maps that only some plans need built on first use, and the index that only
 * matching needs dropped by release() once matching is done.
 */
import type { ScimUser } from '../../api/types.ts';
import type { DesiredUser, MatchKey, PlanOptions, UserRef } from '../model.ts';
import { desiredKey, lower, norm, targetKeys } from './keys.ts';

/** Target positions under one key value: a number when there is one (most values), a list otherwise. */
export type Hits = number | readonly number[];

export const hitCount = (hits: Hits | undefined) =>
  hits === undefined ? 0 : typeof hits === 'number' ? 1 : hits.length;
export const hitList = (hits: Hits | undefined): readonly number[] =>
  hits === undefined ? [] : typeof hits === 'number' ? [hits] : hits;

/** How a change refers to a record (a target id, or the id of its create change), and its name there. */
export interface RecordRef {
  ref: UserRef;
  key: string;
  name: string;
}

export class MatchTable {
  readonly keyCount: number;
  /** Record i's value of matchKeys[k] at i * keyCount + k, computed once (one flat array: no per-record arrays). */
  private readonly keys: (string | undefined)[];
  /** Target positions by normalised value, one map per match key. Only matching reads it: release() drops it. */
  private index: Map<MatchKey, Map<string, number | number[]>> | undefined;
  /** 1 for a record that cannot be planned (a problem). */
  readonly bad: Uint8Array;
  /** The target position record i matched, or -1. */
  readonly matchOf: Int32Array;
  /** The record that claimed target position t, or -1. Only matching reads it: release() drops it. */
  private claimedBy: Int32Array | undefined;
  /** 1 for a target position some record matched (filled by markMatched, once claims are final). */
  readonly matched: Uint8Array;
  /**
   * Target users (by id) that are never deactivated, deleted or moved between groups: a problem record might mean them.
   */
  readonly protectedIds = new Set<string>();
  /** Ids of the create changes planned so far (unique even when two new records share a label). */
  readonly createIds = new Set<string>();
  private readonly createOf = new Map<number, string>();
  private readonly createLabels = new Map<string, string>();
  // Built on first use: most plans need none of them (no renames, no removals, no groups file).
  private matchedIds: Set<string> | undefined;
  private userNameOwners: Map<string, ScimUser> | undefined;
  private usersById: Map<string, ScimUser> | undefined;
  /** Per match key (by rank): the first record with each normalised value. */
  private recordsByKey: Array<Map<string, number>> | undefined;

  constructor(
    readonly users: readonly DesiredUser[],
    readonly targetUsers: readonly ScimUser[],
    private readonly options: PlanOptions,
  ) {
    const matchKeys = options.matchKeys;
    this.keyCount = matchKeys.length;
    // The target by every match key. Most values have one user: stored as its position, not a
    // one-item list (a list a user is 100,000 arrays on a big re-sync). Keys share the user's text (targetKeys uses
    // lower).
    this.index = new Map();
    for (const key of matchKeys) {
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
      this.index.set(key, m);
    }
    // Each record's keys once, in one flat array: matching, duplicates and group references all read them.
    this.keys = new Array<string | undefined>(users.length * this.keyCount);
    users.forEach((u, i) => matchKeys.forEach((key, k) => (this.keys[i * this.keyCount + k] = desiredKey(u, key))));
    // Per-position state in typed arrays (a byte or four a position), not maps keyed by objects.
    this.bad = new Uint8Array(users.length);
    this.matchOf = new Int32Array(users.length).fill(-1);
    this.claimedBy = new Int32Array(targetUsers.length).fill(-1);
    this.matched = new Uint8Array(targetUsers.length);
  }

  /**
   * Drops what only matching needs (the target index, the claims), so that the phases after it
   * (which compare, diff and build changes) do not hold it while they allocate.
   */
  release(): void {
    this.index = undefined;
    this.claimedBy = undefined;
  }

  /** Record i's value of matchKeys[k] (as the source gives it), if any. */
  keyOf(i: number, k: number): string | undefined {
    return this.keys[i * this.keyCount + k];
  }

  hasAnyKey(i: number): boolean {
    for (let k = 0; k < this.keyCount; k++) if (this.keyOf(i, k)) return true;
    return false;
  }

  /** Target positions whose `key` is `value`. */
  hitsOf(key: MatchKey, value: string): Hits | undefined {
    return this.matchingIndex().get(key)!.get(norm(key, value));
  }

  /** Every target position record i might mean, by any of its keys. */
  candidatesOf(i: number): number[] {
    const out = new Set<number>();
    this.options.matchKeys.forEach((key, k) => {
      const v = this.keyOf(i, k);
      if (v) for (const t of hitList(this.hitsOf(key, v))) out.add(t);
    });
    return [...out];
  }

  protect(positions: Iterable<number>): void {
    for (const t of positions) this.protectedIds.add(this.targetUsers[t]!.id);
  }

  /** The record that claimed target position t, or -1. */
  claimant(t: number): number {
    return this.matchingClaims()[t]!;
  }

  claim(i: number, t: number): void {
    this.matchingClaims()[t] = i;
    this.matchOf[i] = t;
  }

  /** Fills `matched` from the final claims (a user two records claimed is matched by neither). */
  markMatched(): void {
    for (const t of this.matchOf) if (t >= 0) this.matched[t] = 1;
  }

  isMatchedId(id: string): boolean {
    this.matchedIds ??= new Set(this.targetUsers.filter((_, t) => this.matched[t]).map((u) => u.id));
    return this.matchedIds.has(id);
  }

  /** Whether this run may deactivate or delete the user at target position t. */
  managedAt(t: number): boolean {
    return this.options.manageAll || this.matched[t] === 1 || this.options.owned.has(this.targetUsers[t]!.id);
  }

  /** The target user whose userName is `userName` (case-insensitively). */
  userNameOwner(userName: string): ScimUser | undefined {
    if (!this.userNameOwners) {
      this.userNameOwners = new Map();
      for (const u of this.targetUsers)
        if (typeof u.userName === 'string') this.userNameOwners.set(lower(u.userName), u);
    }
    return this.userNameOwners.get(lower(userName));
  }

  targetUserById(id: string): ScimUser | undefined {
    this.usersById ??= new Map(this.targetUsers.map((u) => [u.id, u]));
    return this.usersById.get(id);
  }

  /**
   * The record a group member reference means: the first match key, in rank order, that some record has this value of.
   */
  recordOf(member: string): number | undefined {
    const matchKeys = this.options.matchKeys;
    if (!this.recordsByKey) {
      // One index per key: a reference is looked up by the ranked keys, whatever the order of the source.
      const maps = matchKeys.map(() => new Map<string, number>());
      for (let i = 0; i < this.users.length; i++) {
        for (let k = 0; k < matchKeys.length; k++) {
          const v = this.keyOf(i, k);
          if (!v) continue;
          const value = norm(matchKeys[k]!, v);
          if (!maps[k]!.has(value)) maps[k]!.set(value, i);
        }
      }
      this.recordsByKey = maps;
    }
    for (let k = 0; k < matchKeys.length; k++) {
      const i = this.recordsByKey[k]!.get(norm(matchKeys[k]!, member));
      if (i !== undefined) return i;
    }
    return undefined;
  }

  /** Record i is created by the change `id`. */
  recordCreate(i: number, id: string, label: string): void {
    this.createOf.set(i, id);
    this.createIds.add(id);
    this.createLabels.set(id, label);
  }

  /** How a change refers to record i: undefined for a problem record, or a new record no change creates. */
  refOf(i: number): RecordRef | undefined {
    if (this.bad[i]) return undefined;
    const t = this.matchOf[i]!;
    if (t >= 0)
      return {
        ref: { id: this.targetUsers[t]!.id },
        key: this.targetUsers[t]!.id,
        name: this.targetUsers[t]!.userName,
      };
    const change = this.createOf.get(i);
    return change === undefined
      ? undefined
      : { ref: { change }, key: change, name: this.createLabels.get(change) ?? change };
  }

  private matchingIndex(): Map<MatchKey, Map<string, number | number[]>> {
    if (!this.index) throw new Error('MatchTable: the target index is released once matching is done');
    return this.index;
  }

  private matchingClaims(): Int32Array {
    if (!this.claimedBy) throw new Error('MatchTable: the claims are released once matching is done');
    return this.claimedBy;
  }
}

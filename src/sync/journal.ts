/**
 * The journal of an apply: one line per change as its result comes in, appended to
 * runs/<id>/journal.ndjson, so that what a run did survives the run. A run that ends
 * normally records its ownership (state.ts) from the same facts at its end; a run that was
 * killed leaves its journal behind, and the next run of its profile folds it into the state
 * before planning (recover.ts): the users and groups it created are owned, those it deleted
 * are not, and the member ledger of a write-only target (adapt.ts) has what it added.
 *
 * The first line is a header (what the run matched, how many changes it had, whether the
 * target's members are kept in the ledger); each next line is a fact: a change's id, kind
 * and status, with the ids it concerns resolved (a create's new id, a membership's group
 * and user). Lines are written as results come (the kernel has them even if the process is
 * killed) and fsync'ed in batches, and on close. A torn last line (a crash mid-write) is
 * ignored when read.
 */
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { ChangeResult } from './apply.ts';
import type { Change, ChangeKind } from './model.ts';
import type { SyncState } from './state.ts';

export interface JournalHeader {
  journal: 1;
  profile: string;
  url: string;
  /** Changes the run set out to apply (excluded ones included). */
  changes: number;
  /** Records of the source the plan came from (the next run's drift check). */
  recordCount: number;
  /** Users and groups the source matched: owned once the run applied anything. */
  matched: string[];
  matchedGroups: string[];
  /** The target never returns group members: memberships are kept in the state's ledger. */
  ledger: boolean;
}

/** One change's outcome, with the ids it concerns resolved. */
export interface JournalFact {
  change: string;
  kind: ChangeKind;
  status: ChangeResult['status'];
  /** The id a create produced, or the user or group a delete or deactivation concerns. */
  id?: string;
  /** A membership's group and user ids. */
  group?: string;
  user?: string;
}

/** The fact of a change's result; `created` gives the ids earlier creates produced, by change id. */
export function factOf(change: Change, result: ChangeResult, created: ReadonlyMap<string, string>): JournalFact {
  const fact: JournalFact = { change: change.id, kind: change.kind, status: result.status };
  if (change.kind === 'create-user' || change.kind === 'create-group') {
    if (result.createdId) fact.id = result.createdId;
  } else if (change.kind === 'add-member' || change.kind === 'remove-member') {
    const group = 'id' in change.group ? change.group.id : created.get(change.group.change);
    const user = 'id' in change.user ? change.user.id : created.get(change.user.change);
    if (group) fact.group = group;
    if (user) fact.user = user;
  } else fact.id = change.target;
  return fact;
}

/** The facts of a finished apply, in the order of its changes. */
export function factsOf(changes: readonly Change[], results: readonly ChangeResult[]): JournalFact[] {
  const byId = new Map(results.map((r) => [r.id, r]));
  const created = new Map(results.filter((r) => r.createdId).map((r) => [r.id, r.createdId!]));
  return changes.flatMap((c) => {
    const r = byId.get(c.id);
    return r ? [factOf(c, r, created)] : [];
  });
}

/** Member ledger (group id → user ids) after the applied membership and delete facts. */
export function foldLedger(
  ledger: Record<string, string[]> | undefined,
  facts: readonly JournalFact[],
): Record<string, string[]> {
  const groups = new Map(Object.entries(ledger ?? {}).map(([g, ids]) => [g, new Set(ids)]));
  for (const f of facts) {
    if (f.status !== 'applied') continue;
    if (f.kind === 'add-member' || f.kind === 'remove-member') {
      if (!f.group || !f.user) continue;
      const members = groups.get(f.group) ?? new Set<string>();
      groups.set(f.group, members);
      if (f.kind === 'add-member') members.add(f.user);
      else members.delete(f.user);
    } else if (f.kind === 'delete-group' && f.id) groups.delete(f.id);
    else if (f.kind === 'delete-user' && f.id) for (const members of groups.values()) members.delete(f.id);
  }
  return Object.fromEntries([...groups].filter(([, m]) => m.size > 0).map(([g, m]) => [g, [...m]]));
}

/**
 * The state after an apply: what the source matched, plus what was created, minus what was
 * deleted; the ledger (for a target whose members cannot be read) changed likewise; the
 * source's size remembered. Folding the same facts twice gives the same state.
 */
export function foldJournal(
  state: SyncState,
  header: Omit<JournalHeader, 'journal' | 'profile' | 'url' | 'changes'>,
  facts: readonly JournalFact[],
  now = new Date(),
): SyncState {
  const owned = new Set([...state.owned, ...header.matched]);
  const ownedGroups = new Set([...state.ownedGroups, ...header.matchedGroups]);
  for (const f of facts) {
    if (f.status !== 'applied' || !f.id) continue;
    if (f.kind === 'create-user') owned.add(f.id);
    else if (f.kind === 'create-group') ownedGroups.add(f.id);
    else if (f.kind === 'delete-user') owned.delete(f.id);
    else if (f.kind === 'delete-group') ownedGroups.delete(f.id);
  }
  const members = header.ledger ? foldLedger(state.members, facts) : state.members;
  const out: SyncState = {
    ...state,
    owned: [...owned],
    ownedGroups: [...ownedGroups],
    lastRecordCount: header.recordCount,
    lastRunAt: now.toISOString(),
  };
  if (members !== undefined) out.members = members;
  return out;
}

/** Applied and failed changes among the facts. */
export function countFacts(facts: readonly JournalFact[]): { applied: number; failed: number; excluded: number } {
  const out = { applied: 0, failed: 0, excluded: 0 };
  for (const f of facts) out[f.status]++;
  return out;
}

/** Lines between two fsyncs at most, and the longest a written line waits for one. */
const SYNC_EVERY = 256;
const SYNC_AFTER_MS = 500;

/** Appends a run's facts as results come in. */
export class JournalWriter {
  private fd: number | undefined;
  private readonly created = new Map<string, string>();
  private unsynced = 0;
  private lastSync = Date.now();

  constructor(
    readonly file: string,
    header: JournalHeader,
  ) {
    this.fd = openSync(file, 'a', 0o600);
    this.line(header);
    this.sync();
  }

  /** Records a change's result (excluded ones too: they count as not applied). */
  add(change: Change, result: ChangeResult): void {
    if (result.createdId) this.created.set(change.id, result.createdId);
    this.line(factOf(change, result, this.created));
    if (++this.unsynced >= SYNC_EVERY || Date.now() - this.lastSync >= SYNC_AFTER_MS) this.sync();
  }

  private line(value: unknown): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, `${JSON.stringify(value)}\n`);
  }

  private sync(): void {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    this.unsynced = 0;
    this.lastSync = Date.now();
  }

  close(): void {
    if (this.fd === undefined) return;
    this.sync();
    closeSync(this.fd);
    this.fd = undefined;
  }
}

/** A journal's header and facts; undefined when there is none (or no header). A torn line is skipped. */
export function readJournal(file: string): { header: JournalHeader; facts: JournalFact[] } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let header: JournalHeader | undefined;
  const facts: JournalFact[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    if (!value || typeof value !== 'object') continue;
    if ((value as JournalHeader).journal === 1) header ??= value as JournalHeader;
    else if (typeof (value as JournalFact).change === 'string' && typeof (value as JournalFact).kind === 'string')
      facts.push(value as JournalFact);
  }
  return header ? { header, facts } : undefined;
}

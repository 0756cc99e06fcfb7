/**
 * One user's history across sync runs (`scimctl runs user`, the explorer's history of a change): for each run that
 * touched or received the user, newest first, what the source said (received.ndjson), what the plan did (its changes
 * for the user) and how each went (results.json).
 *
 * A user is asked for by id, userName, e-mail or externalId. The names a user had in other runs count too: a run that
 * renamed the user (an update of userName or externalId) or created it (its new id) links the names, so the history
 * of a renamed user is whole whichever name is asked for.
 */
import { attrValue } from '../sources/attributes.ts';
import { isPlainObject } from '../util/objects.ts';
import type { ChangeResult } from './apply.ts';
import type { ReceivedRecord, RunHistory, RunRecord } from './history.ts';
import type { Change, DesiredUser } from './model.ts';
import { REDACTED } from './plan-file.ts';

export interface UserRunEntry {
  run: RunRecord;
  /** The user's records in the source of this run (usually one). */
  received: ReceivedRecord[];
  /** The plan's changes for the user, with their results (none when the run did not apply them). */
  changes: Array<{ change: Change; result?: ChangeResult }>;
}

/** Attributes never kept in the run history (as plan files leave them out). */
const SECRET = /^password$/i;
/** A data: URI longer than this is kept as its start, its size and its digest. */
const LONG_DATA = 96;

/** A value as the history keeps it: secrets out, long data: URIs (inline photos) shortened. */
export function keptValue(value: unknown): unknown {
  if (typeof value === 'string')
    return value.length > LONG_DATA && /^data:/i.test(value)
      ? `${value.slice(0, value.indexOf(',') + 1)}… (${value.length} characters)`
      : value;
  if (Array.isArray(value)) return value.map(keptValue);
  if (isPlainObject(value))
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, SECRET.test(k) ? REDACTED : keptValue(v)] as const),
    );
  return value;
}

/** What the run history keeps of a source user (never its create-only values, such as an initial password). */
export function receivedRecord(user: DesiredUser, problem?: string, identityOnly = false): ReceivedRecord {
  return {
    origin: user.origin,
    attributes: keptValue(user.attributes) as Record<string, unknown>,
    ...(identityOnly ? { identityOnly: true } : {}),
    ...(problem !== undefined ? { problem } : {}),
  };
}

/** A user's names in one place: ids exactly, the rest ignoring case. */
class Names {
  private readonly set = new Set<string>();
  /** Every name as it appears in a JSON line, lower-cased (what a received record is looked for by). */
  readonly needles = new Set<string>();
  add(kind: 'id' | 'name', value: unknown): boolean {
    if (typeof value !== 'string' || value === '') return false;
    const key = kind === 'id' ? `id:${value}` : `name:${value.toLowerCase()}`;
    if (this.set.has(key)) return false;
    this.set.add(key);
    this.needles.add(JSON.stringify(value).slice(1, -1).toLowerCase());
    return true;
  }
  has(kind: 'id' | 'name', value: unknown): boolean {
    return typeof value === 'string' && this.set.has(kind === 'id' ? `id:${value}` : `name:${value.toLowerCase()}`);
  }
}

interface Keys {
  ids: unknown[];
  names: unknown[];
  /** E-mails: they find a user, but do not link names (two people can share one). */
  mails: unknown[];
}

function emailsOf(attributes: Record<string, unknown>): unknown[] {
  const emails = attrValue(attributes, 'emails');
  return Array.isArray(emails) ? emails.map((e) => (isPlainObject(e) ? attrValue(e, 'value') : undefined)) : [];
}

function attributeKeys(attributes: Record<string, unknown>): Keys {
  return {
    ids: [],
    names: [attrValue(attributes, 'userName'), attrValue(attributes, 'externalId')],
    mails: emailsOf(attributes),
  };
}

/** The names a change knows its user by; undefined for a change that is not about one user. */
function changeKeys(change: Change, result?: ChangeResult): Keys | undefined {
  switch (change.kind) {
    case 'create-user': {
      const keys = attributeKeys(change.resource);
      return { ...keys, ids: [result?.createdId], names: [change.userName, ...keys.names] };
    }
    case 'update-user': {
      const renames = change.diffs.filter((d) => /^(userName|externalId)$/i.test(d.path));
      const mails = change.diffs.filter((d) => /^emails/i.test(d.path));
      return {
        ids: [change.target],
        names: [change.userName, ...renames.flatMap((d) => [d.before, d.after])],
        mails: mails.flatMap((d) =>
          [d.before, d.after].flatMap((v) => (Array.isArray(v) ? emailsOf({ emails: v }) : [])),
        ),
      };
    }
    case 'deactivate-user':
    case 'delete-user':
      return { ids: [change.target], names: [change.userName], mails: [] };
    case 'add-member':
    case 'remove-member':
      return { ids: ['id' in change.user ? change.user.id : undefined], names: [change.userName], mails: [] };
    default:
      return undefined;
  }
}

const matches = (names: Names, keys: Keys) =>
  keys.ids.some((v) => names.has('id', v)) ||
  keys.names.some((v) => names.has('name', v)) ||
  keys.mails.some((v) => names.has('name', v));

/** Adds the keys' ids and names (not e-mails) to `names`; whether any was new. */
function link(names: Names, keys: Keys): boolean {
  let grew = false;
  for (const v of keys.ids) grew = names.add('id', v) || grew;
  for (const v of keys.names) grew = names.add('name', v) || grew;
  return grew;
}

/**
 * The runs (newest first) that touched or received the user `ref` (id, userName, e-mail or externalId), optionally
 * only those of one profile. Empty when no run knows the user.
 */
export function userHistory(
  history: Pick<RunHistory, 'list' | 'outcome' | 'received'>,
  ref: string,
  options: { profile?: string } = {},
): UserRunEntry[] {
  const runs = history.list().filter((r) => options.profile === undefined || r.profile === options.profile);
  const names = new Names();
  names.add('id', ref);
  names.add('name', ref);
  const outcomes = runs.map((run) => ({
    run,
    changes: history.outcome(run.id).changes.flatMap((c) => {
      const keys = changeKeys(c.change, c.result);
      return keys ? [{ ...c, keys }] : [];
    }),
  }));
  // Whatever matches links its names, until nothing new is linked (a rename in one run, the old name in another).
  // The received records are read for the names known so far (only lines holding one are parsed), and again when
  // they linked a name.
  let received: Array<Array<{ record: ReceivedRecord; keys: Keys }>> = [];
  for (let pass = 0, grew = true; grew && pass < 10; pass++) {
    for (let more = true; more;) {
      more = false;
      for (const o of outcomes)
        for (const c of o.changes) if (matches(names, c.keys)) more = link(names, c.keys) || more;
    }
    const needles = [...names.needles];
    received = runs.map((run) =>
      history
        .received(run.id, needles)
        .map((record) => ({ record, keys: attributeKeys(record.attributes) }))
        .filter((r) => matches(names, r.keys)),
    );
    grew = false;
    for (const list of received) for (const r of list) grew = link(names, r.keys) || grew;
  }
  return outcomes
    .map((o, i) => ({
      run: o.run,
      received: (received[i] ?? []).filter((r) => matches(names, r.keys)).map((r) => r.record),
      changes: o.changes.filter((c) => matches(names, c.keys)).map(({ change, result }) => ({ change, result })),
    }))
    .filter((e) => e.received.length > 0 || e.changes.length > 0);
}

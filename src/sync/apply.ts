/**
 * Applying a plan: exactly its changes, never a recomputed diff. Phases run in
 * dependency order (create users, update users, create groups, memberships,
 * deactivate, delete users, delete groups: the phases and apply order of the
 * table in change-kinds.ts); within a phase, bounded concurrency
 * and pacing. A failed change is reported and the rest go on; changes that
 * depend on a failed one (a membership of a user that was not created) fail too; changes
 * that depend on an excluded one are excluded with it (dependencies.ts).
 */
import type { ScimClient } from '../api/client.ts';
import type { Capabilities } from '../api/discovery.ts';
import { ResponseError } from '../api/errors.ts';
import { runAll, type Pacer } from '../api/executor.ts';
import { changeMembers } from '../api/members.ts';
import { SchemaRegistry } from '../api/schema.ts';
import { SCHEMA, type ScimGroup } from '../api/types.ts';
import { ChangedOnServerError, changesToPatch, settledAfter412, updateResource } from '../api/update.ts';
import { APPLY_ORDER } from './change-kinds.ts';
import { changeName, closeOverDependencies } from './dependencies.ts';
import type { AttributeDiff, Change, ChangeKind, GroupRef, Plan, UserRef } from './model.ts';
import { withoutPlaceholders } from './plan-file.ts';
import { versionKey } from './planner.ts';
import { errorDetail, postMany } from './post-many.ts';
import { describeUnkept, unkeptIn, type UnkeptHow } from '../api/learned.ts';

export type ChangeStatus = 'applied' | 'failed' | 'excluded';

export interface ChangeResult {
  id: string;
  kind: ChangeKind;
  status: ChangeStatus;
  detail?: string;
  /** The id a create change produced. */
  createdId?: string;
}

export interface ApplyOptions {
  concurrency: number;
  pacer?: Pacer;
  bulk: 'auto' | 'never';
  /** Change ids the admin excluded: recorded, not applied. */
  exclude?: ReadonlySet<string>;
  onResult?: (result: ChangeResult) => void;
}

/** Sets the diffs' after-values on a fresh copy of the resource (top-level and extension attributes). */
export function applyDiffs<T extends Record<string, unknown>>(
  resource: T,
  diffs: readonly AttributeDiff[],
  registry = new SchemaRegistry(),
): T {
  const out: Record<string, unknown> = structuredClone(resource);
  for (const d of diffs) {
    const { urn, attrPath } = /^urn:/i.test(d.path) ? registry.splitUrn(d.path) : { urn: undefined, attrPath: d.path };
    const holder = urn ? ((out[urn] ??= {}) as Record<string, unknown>) : out;
    if (d.after === undefined || d.after === null) delete holder[attrPath];
    else holder[attrPath] = d.after;
    if (urn && Object.keys(holder).length === 0) delete out[urn];
  }
  return out as T;
}

async function isGone(api: ScimClient['users'] | ScimClient['groups'], id: string): Promise<boolean> {
  try {
    await api.get(id);
    return false;
  } catch (e) {
    if (e instanceof ResponseError && e.status === 404) return true;
    throw e;
  }
}

export async function applyPlan(
  client: ScimClient,
  caps: Capabilities,
  plan: Plan,
  options: ApplyOptions,
): Promise<ChangeResult[]> {
  const registry = new SchemaRegistry(caps.schemas);
  const results = new Map<string, ChangeResult>();
  const createdIds = new Map<string, string>();
  const record = (r: ChangeResult) => {
    results.set(r.id, r);
    if (r.createdId) createdIds.set(r.id, r.createdId);
    options.onResult?.(r);
  };
  // An excluded change takes with it the changes that need it: they are never sent to fail at the server.
  const closure = closeOverDependencies(plan.changes, options.exclude ?? []);
  const exclude = closure.excluded;
  const byId = new Map(plan.changes.map((c) => [c.id, c]));
  const byKind = (kind: ChangeKind) => plan.changes.filter((c) => c.kind === kind && !exclude.has(c.id));
  for (const c of plan.changes) {
    if (!exclude.has(c.id)) continue;
    const need = closure.because.get(c.id);
    const detail = need === undefined ? undefined : `needs ${changeName(byId.get(need), need)}`;
    record({ id: c.id, kind: c.kind, status: 'excluded', ...(detail ? { detail } : {}) });
  }
  // Only an ETag can go in If-Match: a lastModified or content-hash version would never match (412 on every write).
  const versionOf = (kind: 'User' | 'Group', id: string) => {
    const v = caps.etag ? plan.versions[versionKey(kind, id)] : undefined;
    return v === undefined || /^(?:lastModified|hash):/.test(v) ? undefined : v;
  };
  // What the server did not keep of what was written, judged from its answers (learned.ts).
  const unkept: Record<string, UnkeptHow> = {};
  const judge = (sent: Record<string, unknown>, returned: unknown) => Object.assign(unkept, unkeptIn(sent, returned));
  let patchWorked = false;
  const fail = (c: Change, e: unknown) =>
    record({
      id: c.id,
      kind: c.kind,
      status: 'failed',
      detail: e instanceof ChangedOnServerError ? e.message : errorDetail(e),
    });
  const run = async <C extends Change>(changes: C[], work: (c: C) => Promise<ChangeResult>) =>
    runAll(
      changes,
      async (c) => {
        await options.pacer?.wait();
        try {
          record(await work(c));
        } catch (e) {
          fail(c, e);
        }
      },
      { concurrency: options.concurrency },
    );

  // 1. Create users.
  const creates = byKind('create-user') as Extract<Change, { kind: 'create-user' }>[];
  await postMany(
    client,
    caps,
    '/Users',
    creates.map((c) => withoutPlaceholders(c.resource)),
    {
      concurrency: options.concurrency,
      pacer: options.pacer,
      bulk: options.bulk,
      onOutcome: (i, o) => {
        const c = creates[i]!;
        if (o.status === 'created' && o.resource) judge(c.resource, o.resource);
        if (o.status === 'created') record({ id: c.id, kind: c.kind, status: 'applied', createdId: o.id });
        else
          record({
            id: c.id,
            kind: c.kind,
            status: 'failed',
            detail: o.status === 'conflict' ? `already exists: ${o.detail}` : o.detail,
          });
      },
    },
  );

  // 2. Update users: PATCH the planned diffs (If-Match the planned version), or GET + PUT.
  /** A user change by PATCH when the server has it, else a fresh read and a PUT of it with the change. */
  const changeUser = async (id: string, diffs: AttributeDiff[]): Promise<void> => {
    const sent = applyDiffs({}, diffs, registry);
    if (caps.patch) {
      try {
        judge(sent, await client.users.patch(id, changesToPatch(diffs), { ifMatch: versionOf('User', id) }));
        patchWorked = true;
        return;
      } catch (e) {
        if (await settledAfter412(client.users, id, diffs, e)) return;
        if (e instanceof ResponseError && e.status === 412) throw new ChangedOnServerError(id, e);
        if (!(e instanceof ResponseError && (e.status === 501 || e.status === 405))) throw e;
        // A server whose PATCH worked for other users refuses it for these attributes only: PUT this one.
        if (!patchWorked) caps.patch = false;
      }
    }
    const before = await client.users.get(id);
    const { result } = await updateResource(client.users, caps, before, applyDiffs(before, diffs), SCHEMA.USER, {
      patch: false,
    });
    judge(sent, result);
  };
  await run(byKind('update-user') as Extract<Change, { kind: 'update-user' }>[], async (c) => {
    await changeUser(c.target, c.diffs);
    return { id: c.id, kind: c.kind, status: 'applied' };
  });

  // 3. Create groups (members follow in the membership phase).
  await run(byKind('create-group') as Extract<Change, { kind: 'create-group' }>[], async (c) => {
    const created = await client.groups.create(c.resource as Omit<ScimGroup, 'id'>);
    return { id: c.id, kind: c.kind, status: 'applied', createdId: created.id };
  });

  // 4. Memberships, one group at a time per lane.
  const resolveUser = (ref: UserRef) => ('id' in ref ? ref.id : createdIds.get(ref.change));
  const resolveGroup = (ref: GroupRef) => ('id' in ref ? ref.id : createdIds.get(ref.change));
  const memberChanges = [...byKind('add-member'), ...byKind('remove-member')] as Extract<
    Change,
    { kind: 'add-member' | 'remove-member' }
  >[];
  const perGroup = new Map<string, { add: Map<string, Change>; remove: Map<string, Change> }>();
  for (const c of memberChanges) {
    const gid = resolveGroup(c.group);
    const uid = resolveUser(c.user);
    if (!gid || !uid) {
      record({
        id: c.id,
        kind: c.kind,
        status: 'failed',
        detail: !gid ? `group ${c.groupName} was not created` : `user ${c.userName} was not created`,
      });
      continue;
    }
    const entry = perGroup.get(gid) ?? { add: new Map(), remove: new Map() };
    (c.kind === 'add-member' ? entry.add : entry.remove).set(uid, c);
    perGroup.set(gid, entry);
  }
  await runAll(
    [...perGroup.entries()],
    async ([gid, { add, remove }]) => {
      await options.pacer?.wait();
      try {
        await changeMembers(client.groups, caps, gid, { add: [...add.keys()], remove: [...remove.keys()] });
        for (const c of [...add.values(), ...remove.values()]) record({ id: c.id, kind: c.kind, status: 'applied' });
      } catch (e) {
        for (const c of [...add.values(), ...remove.values()]) fail(c, e);
      }
    },
    { concurrency: options.concurrency },
  );

  // 5. Deactivate.
  await run(byKind('deactivate-user') as Extract<Change, { kind: 'deactivate-user' }>[], async (c) => {
    await changeUser(c.target, [{ path: 'active', before: true, after: false }]);
    return { id: c.id, kind: c.kind, status: 'applied' };
  });

  // 6 and 7. Deletions: a 404 means the goal is met.
  const remove = async (
    api: 'users' | 'groups',
    c: Extract<Change, { kind: 'delete-user' | 'delete-group' }>,
  ): Promise<ChangeResult> => {
    try {
      await client[api].delete(c.target, { ifMatch: versionOf(api === 'users' ? 'User' : 'Group', c.target) });
      return { id: c.id, kind: c.kind, status: 'applied' };
    } catch (e) {
      if (e instanceof ResponseError && e.status === 404)
        return { id: c.id, kind: c.kind, status: 'applied', detail: 'already gone' };
      // A 412 to a repeated DELETE whose first attempt may have been carried out: gone means done.
      if (
        e instanceof ResponseError &&
        e.status === 412 &&
        e.afterUncertainAttempt &&
        (await isGone(client[api], c.target))
      )
        return { id: c.id, kind: c.kind, status: 'applied', detail: 'already gone' };
      if (e instanceof ResponseError && e.status === 412) throw new ChangedOnServerError(c.target, e);
      throw e;
    }
  };
  await run(byKind('delete-user') as Extract<Change, { kind: 'delete-user' }>[], (c) => remove('users', c));
  await run(byKind('delete-group') as Extract<Change, { kind: 'delete-group' }>[], (c) => remove('groups', c));

  const known = new Set(Object.keys(caps.learned.unkept).map((p) => p.toLowerCase()));
  const fresh = Object.entries(unkept).filter(([path]) => !known.has(path.toLowerCase()));
  if (fresh.length > 0) {
    await client.learn((l) => Object.assign(l.unkept, Object.fromEntries(fresh)));
    client.say(
      'unkept',
      `the server does not keep these attributes as sent: ` +
        `${fresh.map(([p, how]) => describeUnkept(p, how)).join(', ')}; later plans ` +
        `for this profile leave them out`,
    );
  }

  return APPLY_ORDER.flatMap((kind) => plan.changes.filter((c) => c.kind === kind)).map(
    (c) => results.get(c.id) ?? { id: c.id, kind: c.kind, status: 'failed', detail: 'not run' },
  );
}

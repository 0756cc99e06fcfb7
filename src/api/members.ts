/**
 * Group membership changes. PATCH in the RFC form: add `members` values, remove
 * with `members[value eq "ID"]`. A server that rejects the filter form is tried
 * with the value form (`path: members, value: [...]`, as Entra ID sends it), and
 * the group is read back to make sure nobody else was removed; a server without
 * PATCH gets the group re-PUT with its current members plus/minus the change.
 * The whole member list is replaced only by setMembers, when asked.
 */
import type { ResourceApi } from './client.ts';
import type { Capabilities } from './discovery.ts';
import { ClientUsageError, ResponseError, ScimClientError, ScimError } from './errors.ts';
import { eq, patchPath } from './filter.ts';
import { PATCH_OP_SCHEMA, type PatchOperation } from './patch.ts';
import { SCHEMA, type MultiValue, type ScimGroup } from './types.ts';
import { putBody, ChangedOnServerError } from './update.ts';

/** AWS IAM Identity Center takes at most 100 member changes per PATCH; we never send more. */
export const MEMBER_BATCH = 100;

export interface MembershipOutcome {
  added: string[];
  removed: string[];
  /** Members asked for that were already there (add) or already gone (remove). */
  unchanged: string[];
  method: 'PATCH' | 'PUT' | 'none';
  /** How removals were sent, when there were any. */
  removalForm?: 'filter' | 'value';
}

/** Raised when a server removed more members than asked; the extra ones were put back. */
export class MembershipSafetyError extends ScimClientError {
  readonly kind = 'response-validation';
  constructor(
    readonly groupId: string,
    readonly restored: string[],
  ) {
    super(
      `the server removed ${restored.length} member(s) of group ${groupId} that were ` +
        `not asked to go; they were added back. This server's PATCH removal is unsafe: ` +
        `use another method or contact its vendor`,
    );
    this.name = 'MembershipSafetyError';
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const memberIds = (g: ScimGroup) =>
  new Set(
    (Array.isArray(g.members) ? g.members : []).map((m) => m.value).filter((v): v is string => typeof v === 'string'),
  );

async function readMembers(groups: ResourceApi<ScimGroup>, id: string): Promise<ScimGroup> {
  const g = await groups.get(id);
  if (Array.isArray(g.members)) return g;
  // Some servers leave members out unless asked for them. That read has only what was asked:
  // keep the full resource (a PUT of it must not drop the rest) with the members from the second.
  const withMembers = await groups.get(id, { attributes: ['displayName', 'members'] });
  return { ...g, members: withMembers.members };
}

function isFormRejection(e: unknown): boolean {
  // 501: some servers implement `path: members` + values but not the filter form.
  if (e instanceof ResponseError && (e.status === 501 || e.status === 405)) return true;
  if (!(e instanceof ResponseError) || e.status !== 400) return false;
  const type = e instanceof ScimError ? e.scimType : undefined;
  return (
    type === undefined ||
    type === 'invalidPath' ||
    type === 'invalidFilter' ||
    type === 'invalidSyntax' ||
    type === 'invalidValue'
  );
}

export async function changeMembers(
  groups: ResourceApi<ScimGroup>,
  caps: Capabilities,
  groupId: string,
  change: { add?: readonly string[]; remove?: readonly string[] },
): Promise<MembershipOutcome> {
  const readable = caps.learned.membersReadable !== false;
  const current = await readMembers(groups, groupId);
  // Where members cannot be read back, every add is sent (adding a member twice leaves one) and
  // every removal asked for (callers only ask to remove members they know were added).
  const have = readable ? memberIds(current) : new Set<string>();
  const add = [...new Set(change.add ?? [])].filter((id) => !have.has(id));
  const remove = [...new Set(change.remove ?? [])].filter((id) => !readable || have.has(id));
  const unchanged = [
    ...(change.add ?? []).filter((id) => have.has(id)),
    ...(change.remove ?? []).filter((id) => readable && !have.has(id)),
  ];
  if (add.length === 0 && remove.length === 0) return { added: [], removed: [], unchanged, method: 'none' };

  if (caps.patch) {
    try {
      const removalForm = await patchMembers(groups, groupId, current, add, remove, caps);
      if (add.length > 0 && caps.learned.membersReadable === undefined)
        await learnMembersReadable(groups, groupId, add);
      return {
        added: add,
        removed: remove,
        unchanged,
        method: 'PATCH',
        removalForm: remove.length > 0 ? removalForm : undefined,
      };
    } catch (e) {
      if (!(e instanceof ResponseError && (e.status === 501 || e.status === 405))) throw e;
      caps.patch = false;
    }
  }
  if (!readable) {
    throw new ClientUsageError(
      `group ${groupId}: this server neither returns group members nor takes PATCH, ` +
        `so its memberships cannot be changed without losing members`,
    );
  }
  // No PATCH: the group as just read, with the change, written back whole.
  const keep = (Array.isArray(current.members) ? current.members : []).filter((m) => !remove.includes(m.value ?? ''));
  const members: MultiValue[] = [...keep.map((m) => ({ value: m.value })), ...add.map((value) => ({ value }))];
  try {
    await groups.replace(groupId, putBody({ ...current, members }, SCHEMA.GROUP) as ScimGroup, {
      ifMatch: caps.etag ? current.meta?.version : undefined,
    });
  } catch (e) {
    if (e instanceof ResponseError && e.status === 412) throw new ChangedOnServerError(groupId, e);
    throw e;
  }
  return { added: add, removed: remove, unchanged, method: 'PUT' };
}

/**
 * Whether this server returns the members it was given: read once, right after members were
 * added, and remembered per profile. Some servers never do (membership is write-only there).
 */
async function learnMembersReadable(
  groups: ResourceApi<ScimGroup>,
  groupId: string,
  added: readonly string[],
): Promise<void> {
  const back = memberIds(await readMembers(groups, groupId));
  const readable = added.some((id) => back.has(id));
  await groups.client.learn((l) => (l.membersReadable = readable));
  if (!readable) {
    groups.client.say(
      'members-write-only',
      `the server does not return group members it was given (membership is ` +
        `write-only there): scimctl keeps its own record of the members it added, and ` +
        `removes only those`,
    );
  }
}

async function patchMembers(
  groups: ResourceApi<ScimGroup>,
  groupId: string,
  before: ScimGroup,
  add: string[],
  remove: string[],
  caps: Capabilities,
): Promise<'filter' | 'value'> {
  const send = (ops: PatchOperation[]) => groups.patch(groupId, { schemas: [PATCH_OP_SCHEMA], Operations: ops });
  for (const batch of chunks(add, MEMBER_BATCH)) {
    await send([{ op: 'add', path: 'members', value: batch.map((value) => ({ value })) }]);
  }
  let form: 'filter' | 'value' = caps.memberRemoval ?? 'filter';
  /** Removed so far, this batch included: not expected back after a value-form removal. */
  const removed = new Set<string>();
  for (const batch of chunks(remove, MEMBER_BATCH)) {
    for (const id of batch) removed.add(id);
    if (form === 'filter') {
      try {
        await send(batch.map((id) => ({ op: 'remove', path: patchPath('members', eq('value', id)) })));
        caps.memberRemoval = 'filter';
        continue;
      } catch (e) {
        if (!isFormRejection(e)) throw e;
        form = 'value';
      }
    }
    // The value form: read back afterwards and undo any collateral removal (where members can be read).
    if (caps.learned.membersReadable === false) {
      await send([{ op: 'remove', path: 'members', value: batch.map((value) => ({ value })) }]);
      caps.memberRemoval = 'value';
      continue;
    }
    const expected = new Set([...memberIds(before), ...add].filter((id) => !removed.has(id)));
    await send([{ op: 'remove', path: 'members', value: batch.map((value) => ({ value })) }]);
    const after = memberIds(await readMembers(groups, groupId));
    const lost = [...expected].filter((id) => !after.has(id));
    if (lost.length > 0) {
      for (const again of chunks(lost, MEMBER_BATCH))
        await send([{ op: 'add', path: 'members', value: again.map((value) => ({ value })) }]);
      throw new MembershipSafetyError(groupId, lost);
    }
    caps.memberRemoval = 'value';
  }
  return form;
}

/** Makes a group's members exactly `desired`, with the fewest changes. */
export async function setMembers(
  groups: ResourceApi<ScimGroup>,
  caps: Capabilities,
  groupId: string,
  desired: readonly string[],
): Promise<MembershipOutcome> {
  const current = memberIds(await readMembers(groups, groupId));
  const want = new Set(desired);
  return changeMembers(groups, caps, groupId, {
    add: [...want].filter((id) => !current.has(id)),
    remove: [...current].filter((id) => !want.has(id)),
  });
}

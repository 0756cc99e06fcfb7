import { NotFoundError } from '../../api/errors.ts';
import { changeMembers, setMembers, type MembershipOutcome } from '../../api/members.ts';
import { resolveGroup, resolveMany, resolveUser } from '../../api/resolve.ts';
import type { ScimClient } from '../../api/client.ts';
import type { ScimGroup } from '../../api/types.ts';
import { writeChunk } from '../../output/iostreams.ts';
import { confirmTyped } from '../../output/prompt.ts';
import { safeText } from '../../output/safe-text.ts';
import type { CliContext, Command, GlobalArgs } from '../context.ts';
import { ExitCode, SilentExit, UsageError } from '../exit-codes.ts';
import type { Factory } from '../factory.ts';
import { readRefs } from '../refs.ts';

export type MembershipAction = 'add' | 'remove' | 'set';

export interface GroupsMembershipOptions {
  action: MembershipAction;
  group: string;
  users: string[];
  from?: string;
  yes: boolean;
  json: boolean;
}

/** User ids for the named users; with `allowMemberIds`, unknown names that are member ids of the group count too. */
export async function resolveMemberIds(client: ScimClient, refs: readonly string[], group?: ScimGroup): Promise<string[]> {
  const { found, missing } = await resolveMany(refs, (ref) => resolveUser(client.users, ref));
  const memberValues = new Set((group?.members ?? []).map((m) => m.value));
  // A member whose user no longer exists can still be removed by its id.
  const dangling = missing.filter((ref) => memberValues.has(ref));
  const unknown = missing.filter((ref) => !memberValues.has(ref));
  if (unknown.length > 0) throw new NotFoundError('user', unknown.join('", "'));
  return [...found.map((x) => x.resource.id), ...dangling];
}

function describe(outcome: MembershipOutcome, group: ScimGroup): string[] {
  return [
    ...outcome.added.map((id) => `+ ${group.displayName}: ${id}`),
    ...outcome.removed.map((id) => `- ${group.displayName}: ${id}`),
  ];
}

export async function runGroupsMembership(opts: GroupsMembershipOptions, f: Factory): Promise<void> {
  const refs = [...opts.users, ...(opts.from ? await readRefs(opts.from, 'users') : [])];
  if (refs.length === 0 && opts.action !== 'set') throw new UsageError(`name the users to ${opts.action}, or give --from FILE`);
  const client = await f.client();
  const caps = await client.capabilities();
  const group = await resolveGroup(client.groups, opts.group);
  const full = Array.isArray(group.members) ? group : await client.groups.get(group.id, { attributes: ['displayName', 'members'] });
  const ids = await resolveMemberIds(client, refs, opts.action === 'remove' ? full : undefined);

  let outcome: MembershipOutcome;
  if (opts.action === 'set') {
    const current = new Set((full.members ?? []).map((m) => m.value));
    const leaving = [...current].filter((id) => id && !ids.includes(id));
    if (leaving.length > 0 && !opts.yes) {
      f.io.stderr.write(`scimctl: ${leaving.length} member(s) will be removed from "${safeText(full.displayName ?? '')}":\n${leaving.map((id) => `  ${id}`).join('\n')}\n`);
      const ok = await confirmTyped(f.io, `Replace the members of "${full.displayName}"?`, { flag: '--yes', what: `refusing to remove ${leaving.length} member(s)` });
      if (!ok) {
        f.log('nothing changed');
        throw new SilentExit(ExitCode.USAGE);
      }
    }
    outcome = await setMembers(client.groups, caps, group.id, ids);
  } else {
    outcome = await changeMembers(client.groups, caps, group.id, opts.action === 'add' ? { add: ids } : { remove: ids });
  }
  if (opts.json) {
    await writeChunk(f.io.stdout, `${JSON.stringify({ group: { id: group.id, displayName: full.displayName }, ...outcome }, null, 2)}\n`);
  } else {
    const lines = describe(outcome, full);
    if (lines.length > 0) await writeChunk(f.io.stdout, `${lines.join('\n')}\n`);
  }
  f.log(
    `${full.displayName}: ${outcome.added.length} added, ${outcome.removed.length} removed, ${outcome.unchanged.length} unchanged` +
      (outcome.method === 'none' ? '' : ` (${outcome.method}${outcome.removalForm === 'value' ? ', value-form removal' : ''})`),
  );
}

interface Args extends GlobalArgs {
  group: string;
  users?: string[];
  from?: string;
  yes: boolean;
  json: boolean;
}

function membershipCommand(ctx: CliContext, action: MembershipAction): Command<Args> {
  const verbs = { add: 'add-members', remove: 'remove-members', set: 'set-members' } as const;
  const describeText = {
    add: 'Add users to a group',
    remove: 'Remove users from a group (PATCH members[value eq "ID"])',
    set: 'Make the group have exactly these members (asks before removing any)',
  } as const;
  return {
    command: `${verbs[action]} <group> [users..]`,
    describe: describeText[action],
    builder: (y) =>
      y
        .positional('group', { type: 'string', demandOption: true, describe: 'id or displayName' })
        .positional('users', { type: 'string', array: true, describe: 'ids, userNames or e-mails' })
        .option('from', { type: 'string', describe: 'A file naming the users: one per line, or a CSV/JSON export' })
        .option('yes', { type: 'boolean', default: false, describe: 'set-members: do not ask before removing members' })
        .option('json', { type: 'boolean', default: false, describe: 'Print a JSON report' }),
    handler: (argv) => runGroupsMembership({ action, group: argv.group, users: argv.users ?? [], from: argv.from, yes: argv.yes, json: argv.json }, ctx.factory(argv)),
  };
}

export const groupsAddMembersCommand = (ctx: CliContext) => membershipCommand(ctx, 'add');
export const groupsRemoveMembersCommand = (ctx: CliContext) => membershipCommand(ctx, 'remove');
export const groupsSetMembersCommand = (ctx: CliContext) => membershipCommand(ctx, 'set');

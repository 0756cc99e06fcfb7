import { NotFoundError } from '../../api/errors.ts';
import { changeMembers, setMembers, type MembershipOutcome } from '../../api/members.ts';
import { resolveGroup, resolveMany, resolveUser } from '../../api/resolve.ts';
import type { ScimClient } from '../../api/client.ts';
import type { ScimGroup } from '../../api/types.ts';
import { writeChunk } from '../../output/iostreams.ts';
import { confirmTyped } from '../../output/prompt.ts';
import { safeText } from '../../output/safe-text.ts';
import { defineCommand } from '../context.ts';
import { ExitCode, SilentExit, UsageError } from '../exit-codes.ts';
import { readRefs } from '../refs.ts';

export type MembershipAction = 'add' | 'remove' | 'set';

/** User ids for the named users; with `allowMemberIds`, unknown names that are member ids of the group count too. */
export async function resolveMemberIds(
  client: ScimClient,
  refs: readonly string[],
  group?: ScimGroup,
): Promise<string[]> {
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

function membershipCommand(action: MembershipAction) {
  const verbs = { add: 'add-members', remove: 'remove-members', set: 'set-members' } as const;
  const describeText = {
    add: 'Add users to a group',
    remove: 'Remove users from a group (PATCH members[value eq "ID"])',
    set: 'Make the group have exactly these members (asks before removing any)',
  } as const;
  return defineCommand({
    command: `${verbs[action]} <group> [users..]`,
    describe: describeText[action],
    builder: (y) =>
      y
        .positional('group', { type: 'string', demandOption: true, describe: 'id or displayName' })
        .positional('users', { type: 'string', array: true, describe: 'ids, userNames or e-mails' })
        .option('from', { type: 'string', describe: 'A file naming the users: one per line, or a CSV/JSON export' })
        .option('yes', { type: 'boolean', default: false, describe: 'set-members: do not ask before removing members' })
        .option('json', { type: 'boolean', default: false, describe: 'Print a JSON report' }),
    run: async (argv, f) => {
      const refs = [...(argv.users ?? []), ...(argv.from ? await readRefs(argv.from, 'users') : [])];
      if (refs.length === 0 && action !== 'set')
        throw new UsageError(`name the users to ${action}, or give --from FILE`);
      const client = await f.client();
      const caps = await client.capabilities();
      const group = await resolveGroup(client.groups, argv.group);
      const full = Array.isArray(group.members)
        ? group
        : await client.groups.get(group.id, { attributes: ['displayName', 'members'] });
      const ids = await resolveMemberIds(client, refs, action === 'remove' ? full : undefined);

      let outcome: MembershipOutcome;
      if (action === 'set') {
        const current = new Set((full.members ?? []).map((m) => m.value));
        const leaving = [...current].filter((id) => id && !ids.includes(id));
        if (leaving.length > 0 && !argv.yes) {
          f.io.stderr.write(
            `scimctl: ${leaving.length} member(s) will be removed from ` +
              `"${safeText(full.displayName ?? '')}":\n` +
              `${leaving.map((id) => `  ${id}`).join('\n')}\n`,
          );
          const ok = await confirmTyped(f.io, `Replace the members of "${full.displayName}"?`, {
            flag: '--yes',
            what: `refusing to remove ${leaving.length} member(s)`,
          });
          if (!ok) {
            f.log('nothing changed');
            throw new SilentExit(ExitCode.USAGE);
          }
        }
        outcome = await setMembers(client.groups, caps, group.id, ids);
      } else {
        outcome = await changeMembers(client.groups, caps, group.id, action === 'add' ? { add: ids } : { remove: ids });
      }
      if (argv.json) {
        await writeChunk(
          f.io.stdout,
          `${JSON.stringify({ group: { id: group.id, displayName: full.displayName }, ...outcome }, null, 2)}\n`,
        );
      } else {
        const lines = describe(outcome, full);
        if (lines.length > 0) await writeChunk(f.io.stdout, `${lines.join('\n')}\n`);
      }
      f.log(
        `${full.displayName}: ${outcome.added.length} added, ${outcome.removed.length} ` +
          `removed, ${outcome.unchanged.length} unchanged` +
          (outcome.method === 'none'
            ? ''
            : ` (${outcome.method}${outcome.removalForm === 'value' ? ', value-form removal' : ''})`),
      );
    },
  });
}

export const groupsAddMembersCommand = membershipCommand('add');
export const groupsRemoveMembersCommand = membershipCommand('remove');
export const groupsSetMembersCommand = membershipCommand('set');

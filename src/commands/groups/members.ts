import { resolveGroup } from '../../api/resolve.ts';
import type { MultiValue } from '../../api/types.ts';
import { writeChunk } from '../../output/iostreams.ts';
import { MEMBER_COLUMNS, printResourceList } from '../../output/resources.ts';
import type { CliContext, Command, GlobalArgs } from '../context.ts';
import type { Factory } from '../factory.ts';

export interface GroupsMembersOptions {
  ref: string;
  json: boolean;
}

export async function runGroupsMembers(opts: GroupsMembersOptions, f: Factory): Promise<void> {
  const client = await f.client();
  const { groups } = client;
  let group = await resolveGroup(groups, opts.ref);
  // An empty answer from a server known not to return members says nothing: say so, never "no members".
  const unreadable = client.learnedNow()?.membersReadable === false;
  if (unreadable) f.log(`this server does not return group members (membership is write-only there): what it answered for "${group.displayName}" is not its membership`);
  // Some servers leave members out unless asked for them by name.
  if (!Array.isArray(group.members)) group = await groups.get(group.id, { attributes: ['displayName', 'members'] });
  const members: MultiValue[] = Array.isArray(group.members) ? group.members : [];
  if (opts.json) {
    await writeChunk(f.io.stdout, `${JSON.stringify(members, null, 2)}\n`);
    return;
  }
  async function* each() {
    yield* members;
  }
  const count = await printResourceList(f.io, each(), MEMBER_COLUMNS, false);
  if (count === 0 && !unreadable) f.log(`group "${group.displayName}" has no members`);
}

interface Args extends GlobalArgs {
  group: string;
  json: boolean;
}

export function groupsMembersCommand(ctx: CliContext): Command<Args> {
  return {
    command: 'members <group>',
    describe: "List a group's members",
    builder: (y) =>
      y
        .positional('group', { type: 'string', demandOption: true, describe: 'id or displayName' })
        .option('json', { type: 'boolean', default: false, describe: 'Print the members as JSON' }),
    handler: (argv) => runGroupsMembers({ ref: argv.group, json: argv.json }, ctx.factory(argv)),
  };
}

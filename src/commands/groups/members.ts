import { resolveGroup } from '../../api/resolve.ts';
import type { MultiValue } from '../../api/types.ts';
import { writeChunk } from '../../output/iostreams.ts';
import { MEMBER_COLUMNS, printResourceList } from '../../output/resources.ts';
import { defineCommand } from '../context.ts';

export const groupsMembersCommand = defineCommand({
  command: 'members <group>',
  describe: "List a group's members",
  builder: (y) =>
    y
      .positional('group', { type: 'string', demandOption: true, describe: 'id or displayName' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the members as JSON' }),
  run: async (argv, f) => {
    const client = await f.client();
    const { groups } = client;
    let group = await resolveGroup(groups, argv.group);
    // An empty answer from a server known not to return members says nothing: say so, never "no members".
    const unreadable = client.learnedNow()?.membersReadable === false;
    if (unreadable)
      f.log(
        `this server does not return group members (membership is write-only there): ` +
          `what it answered for "${group.displayName}" is not its membership`,
      );
    // Some servers leave members out unless asked for them by name.
    if (!Array.isArray(group.members)) group = await groups.get(group.id, { attributes: ['displayName', 'members'] });
    const members: MultiValue[] = Array.isArray(group.members) ? group.members : [];
    if (argv.json) {
      await writeChunk(f.io.stdout, `${JSON.stringify(members, null, 2)}\n`);
      return;
    }
    async function* each() {
      yield* members;
    }
    const count = await printResourceList(f.io, each(), MEMBER_COLUMNS, false);
    if (count === 0 && !unreadable) f.log(`group "${group.displayName}" has no members`);
  },
});

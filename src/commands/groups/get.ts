import { referenceNames } from '../../api/names.ts';
import { resolveGroup } from '../../api/resolve.ts';
import { SCHEMA } from '../../api/types.ts';
import { printResourceDetail } from '../../output/resources.ts';
import { defineCommand } from '../context.ts';

export const groupsGetCommand = defineCommand({
  command: 'get <group>',
  describe: 'Show one group, named by id or displayName',
  builder: (y) =>
    y
      .positional('group', { type: 'string', demandOption: true, describe: 'id or displayName' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the SCIM resource as received' }),
  run: async (argv, f) => {
    const client = await f.client();
    const group = await resolveGroup(client.groups, argv.group);
    // On a terminal, the members are named (a person reads them); elsewhere the output stays as the server gave it.
    const names =
      !argv.json && f.io.isStdoutTTY && Array.isArray(group.members)
        ? await referenceNames(client, group.members, 'member')
        : undefined;
    await printResourceDetail(f.io, group, argv.json, SCHEMA.GROUP, names);
  },
});

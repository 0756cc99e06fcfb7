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
    const { groups } = await f.client();
    const group = await resolveGroup(groups, argv.group);
    await printResourceDetail(f.io, group, argv.json, SCHEMA.GROUP);
  },
});

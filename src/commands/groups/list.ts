import { progressBar } from '../../output/progress.ts';
import { GROUP_COLUMNS, printResourceList } from '../../output/resources.ts';
import { defineCommand } from '../context.ts';

export const groupsListCommand = defineCommand({
  command: 'list',
  describe: 'List groups with their member counts',
  builder: (y) =>
    y
      .option('filter', { type: 'string', describe: 'SCIM filter, e.g. \'displayName eq "Sales"\'' })
      .option('limit', { type: 'number', describe: 'Stop after N groups' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the SCIM resources as JSON' }),
  run: async (argv, f) => {
    const client = await f.client();
    const progress = progressBar(f.io, 'Reading groups');
    try {
      const groups = client.groups.list({
        filter: argv.filter,
        limit: argv.limit,
        onPage: ({ received, total }) => progress.update(received, total),
      });
      const count = await printResourceList(f.io, groups, GROUP_COLUMNS, argv.json, progress);
      progress.finish();
      if (count === 0 && !argv.json) f.log(argv.filter ? 'no groups match the filter' : 'no groups');
    } finally {
      progress.finish();
    }
  },
});

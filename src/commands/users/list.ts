import { expandShorthand } from '../../api/attr-path.ts';
import { SchemaRegistry } from '../../api/schema.ts';
import type { ScimUser } from '../../api/types.ts';
import { progressBar } from '../../output/progress.ts';
import { attributeColumns, printResourceList, USER_COLUMNS } from '../../output/resources.ts';
import { defineCommand, listArg } from '../context.ts';

export const usersListCommand = defineCommand({
  command: 'list',
  describe: 'List users (all pages)',
  builder: (y) =>
    y
      .option('filter', { type: 'string', describe: 'SCIM filter, e.g. \'userName sw "a"\'' })
      .option('limit', { type: 'number', describe: 'Stop after N users' })
      .option('attributes', {
        type: 'string',
        describe:
          'Comma-separated attributes to fetch and show (department, manager etc. mean the enterprise extension)',
      })
      .option('sort-by', { type: 'string', describe: 'Attribute to sort by (if the server sorts)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the SCIM resources as JSON' }),
  run: async (argv, f) => {
    const given = listArg(argv.attributes);
    // Shorthands (department, manager, …) mean the enterprise extension's attributes; the header keeps what was typed.
    const registry = new SchemaRegistry();
    const attributes = given?.map((a) => expandShorthand(a, registry));
    const client = await f.client();
    const progress = progressBar(f.io, 'Reading users');
    try {
      const users = client.users.list({
        filter: argv.filter,
        limit: argv.limit,
        attributes,
        sortBy: argv.sortBy,
        onPage: ({ received, total }) => progress.update(received, total),
      });
      const columns = attributes
        ? attributeColumns<ScimUser>(attributes).map((c, i) => (i === 0 ? c : { ...c, header: given![i - 1]! }))
        : USER_COLUMNS;
      const count = await printResourceList(f.io, users, columns, argv.json, progress);
      progress.finish();
      if (count === 0 && !argv.json) f.log(argv.filter ? 'no users match the filter' : 'no users');
    } finally {
      progress.finish();
    }
  },
});

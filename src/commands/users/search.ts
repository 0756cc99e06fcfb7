import { eq } from '../../api/filter.ts';
import type { ScimUser } from '../../api/types.ts';
import { progressBar } from '../../output/progress.ts';
import { searchUsersByName } from '../../api/search.ts';
import { printResourceList, USER_COLUMNS } from '../../output/resources.ts';
import { defineCommand } from '../context.ts';
import { UsageError } from '../exit-codes.ts';

async function* limited<T>(items: AsyncIterable<T>, limit: number | undefined): AsyncGenerator<T> {
  let n = 0;
  if (limit !== undefined && limit <= 0) return;
  for await (const item of items) {
    yield item;
    if (limit !== undefined && ++n >= limit) return;
  }
}

export const usersSearchCommand = defineCommand({
  command: 'search',
  describe: 'Find users by e-mail, by name, or by a SCIM filter',
  builder: (y) =>
    y
      .option('email', { type: 'string', describe: 'Exact e-mail address' })
      .option('name', { type: 'string', describe: 'Part of the userName, displayName, given or family name' })
      .option('filter', { type: 'string', describe: 'Any SCIM filter' })
      .option('limit', { type: 'number', describe: 'Stop after N users' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the SCIM resources as JSON' })
      .conflicts('email', ['name', 'filter'])
      .conflicts('name', 'filter'),
  run: async (argv, f) => {
    const given = [argv.email, argv.name, argv.filter].filter((v) => v !== undefined);
    if (given.length !== 1) throw new UsageError('give exactly one of --email, --name or --filter');
    const { users } = await f.client();
    const progress = progressBar(f.io, 'Searching users');
    try {
      let results: AsyncIterable<ScimUser>;
      if (argv.name !== undefined) results = searchUsersByName(users, argv.name, f.log, progress);
      else
        results = users.list({
          filter: argv.email !== undefined ? eq('emails.value', argv.email) : argv.filter,
          limit: argv.limit,
        });
      const count = await printResourceList(f.io, limited(results, argv.limit), USER_COLUMNS, argv.json, progress);
      progress.finish();
      if (count === 0 && !argv.json) f.log('no users found');
    } finally {
      progress.finish();
    }
  },
});

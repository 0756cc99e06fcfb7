import { eq } from '../../api/filter.ts';
import type { ScimUser } from '../../api/types.ts';
import { progressBar } from '../../output/progress.ts';
import { searchUsersByName } from '../../api/search.ts';
import { printResourceList, USER_COLUMNS } from '../../output/resources.ts';
import type { CliContext, Command, GlobalArgs } from '../context.ts';
import { UsageError } from '../exit-codes.ts';
import type { Factory } from '../factory.ts';

export interface UsersSearchOptions {
  email?: string;
  name?: string;
  filter?: string;
  limit?: number;
  json: boolean;
}

export async function runUsersSearch(opts: UsersSearchOptions, f: Factory): Promise<void> {
  const given = [opts.email, opts.name, opts.filter].filter((v) => v !== undefined);
  if (given.length !== 1) throw new UsageError('give exactly one of --email, --name or --filter');
  const { users } = await f.client();
  const progress = progressBar(f.io, 'Searching users');
  try {
    let results: AsyncIterable<ScimUser>;
    if (opts.name !== undefined) results = searchUsersByName(users, opts.name, f.log, progress);
    else results = users.list({ filter: opts.email !== undefined ? eq('emails.value', opts.email) : opts.filter, limit: opts.limit });
    const count = await printResourceList(f.io, limited(results, opts.limit), USER_COLUMNS, opts.json, progress);
    progress.finish();
    if (count === 0 && !opts.json) f.log('no users found');
  } finally {
    progress.finish();
  }
}

async function* limited<T>(items: AsyncIterable<T>, limit: number | undefined): AsyncGenerator<T> {
  let n = 0;
  if (limit !== undefined && limit <= 0) return;
  for await (const item of items) {
    yield item;
    if (limit !== undefined && ++n >= limit) return;
  }
}

interface Args extends GlobalArgs {
  email?: string;
  name?: string;
  filter?: string;
  limit?: number;
  json: boolean;
}

export function usersSearchCommand(ctx: CliContext): Command<Args> {
  return {
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
    handler: (argv) =>
      runUsersSearch({ email: argv.email, name: argv.name, filter: argv.filter, limit: argv.limit, json: argv.json }, ctx.factory(argv)),
  };
}

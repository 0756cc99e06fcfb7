import type { ScimUser } from '../../api/types.ts';
import { progressBar } from '../../output/progress.ts';
import { attributeColumns, printResourceList, USER_COLUMNS } from '../../output/resources.ts';
import { listArg, type CliContext, type Command, type GlobalArgs } from '../context.ts';
import type { Factory } from '../factory.ts';

export interface UsersListOptions {
  filter?: string;
  limit?: number;
  attributes?: string[];
  sortBy?: string;
  json: boolean;
}

export async function runUsersList(opts: UsersListOptions, f: Factory): Promise<void> {
  const client = await f.client();
  const progress = progressBar(f.io, 'Reading users');
  try {
    const users = client.users.list({
      filter: opts.filter,
      limit: opts.limit,
      attributes: opts.attributes,
      sortBy: opts.sortBy,
      onPage: ({ received, total }) => progress.update(received, total),
    });
    const columns = opts.attributes ? attributeColumns<ScimUser>(opts.attributes) : USER_COLUMNS;
    const count = await printResourceList(f.io, users, columns, opts.json, progress);
    progress.finish();
    if (count === 0 && !opts.json) f.log(opts.filter ? 'no users match the filter' : 'no users');
  } finally {
    progress.finish();
  }
}

interface Args extends GlobalArgs {
  filter?: string;
  limit?: number;
  attributes?: string;
  sortBy?: string;
  json: boolean;
}

export function usersListCommand(ctx: CliContext): Command<Args> {
  return {
    command: 'list',
    describe: 'List users (all pages)',
    builder: (y) =>
      y
        .option('filter', { type: 'string', describe: 'SCIM filter, e.g. \'userName sw "a"\'' })
        .option('limit', { type: 'number', describe: 'Stop after N users' })
        .option('attributes', { type: 'string', describe: 'Comma-separated attributes to fetch and show' })
        .option('sort-by', { type: 'string', describe: 'Attribute to sort by (if the server sorts)' })
        .option('json', { type: 'boolean', default: false, describe: 'Print the SCIM resources as JSON' }),
    handler: (argv) =>
      runUsersList(
        { filter: argv.filter, limit: argv.limit, attributes: listArg(argv.attributes), sortBy: argv.sortBy, json: argv.json },
        ctx.factory(argv),
      ),
  };
}

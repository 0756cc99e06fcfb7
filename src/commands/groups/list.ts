import { progressBar } from '../../output/progress.ts';
import { GROUP_COLUMNS, printResourceList } from '../../output/resources.ts';
import type { CliContext, Command, GlobalArgs } from '../context.ts';
import type { Factory } from '../factory.ts';

export interface GroupsListOptions {
  filter?: string;
  limit?: number;
  json: boolean;
}

export async function runGroupsList(opts: GroupsListOptions, f: Factory): Promise<void> {
  const client = await f.client();
  const progress = progressBar(f.io, 'Reading groups');
  try {
    const groups = client.groups.list({ filter: opts.filter, limit: opts.limit, onPage: ({ received, total }) => progress.update(received, total) });
    const count = await printResourceList(f.io, groups, GROUP_COLUMNS, opts.json, progress);
    progress.finish();
    if (count === 0 && !opts.json) f.log(opts.filter ? 'no groups match the filter' : 'no groups');
  } finally {
    progress.finish();
  }
}

interface Args extends GlobalArgs {
  filter?: string;
  limit?: number;
  json: boolean;
}

export function groupsListCommand(ctx: CliContext): Command<Args> {
  return {
    command: 'list',
    describe: 'List groups with their member counts',
    builder: (y) =>
      y
        .option('filter', { type: 'string', describe: 'SCIM filter, e.g. \'displayName eq "Sales"\'' })
        .option('limit', { type: 'number', describe: 'Stop after N groups' })
        .option('json', { type: 'boolean', default: false, describe: 'Print the SCIM resources as JSON' }),
    handler: (argv) => runGroupsList({ filter: argv.filter, limit: argv.limit, json: argv.json }, ctx.factory(argv)),
  };
}

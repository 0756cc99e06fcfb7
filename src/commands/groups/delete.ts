import { resolveGroup } from '../../api/resolve.ts';
import type { ScimGroup } from '../../api/types.ts';
import type { Column } from '../../output/table.ts';
import type { CliContext, Command, GlobalArgs } from '../context.ts';
import { deleteMany } from '../delete-many.ts';
import { UsageError } from '../exit-codes.ts';
import type { Factory } from '../factory.ts';
import { readRefs } from '../refs.ts';

const PREVIEW: Column<ScimGroup>[] = [
  { header: 'displayName', value: (g) => g.displayName ?? '', minWidth: 12 },
  { header: 'members', value: (g) => (Array.isArray(g.members) ? String(g.members.length) : ''), minWidth: 7 },
  { header: 'id', value: (g) => g.id, shrinkable: true, minWidth: 8 },
];

export async function runGroupsDelete(opts: { refs: string[]; from?: string; yes: boolean; concurrency: number; json: boolean }, f: Factory): Promise<void> {
  const refs = [...opts.refs, ...(opts.from ? await readRefs(opts.from, 'groups') : [])];
  if (refs.length === 0) throw new UsageError('name the groups to delete (id or displayName), or give --from FILE');
  const { groups } = await f.client();
  await deleteMany({ noun: 'group', refs, api: groups, resolve: (ref) => resolveGroup(groups, ref), label: (g) => g.displayName, preview: PREVIEW, yes: opts.yes, concurrency: opts.concurrency, json: opts.json }, f);
}

interface Args extends GlobalArgs {
  groups?: string[];
  from?: string;
  yes: boolean;
  concurrency: number;
  json: boolean;
}

export function groupsDeleteCommand(ctx: CliContext): Command<Args> {
  return {
    command: 'delete [groups..]',
    describe: 'Delete groups (not their members), after showing which and asking (or --yes)',
    builder: (y) =>
      y
        .positional('groups', { type: 'string', array: true, describe: 'ids or displayNames' })
        .option('from', { type: 'string', describe: 'A file naming the groups: one per line, or a CSV/JSON export' })
        .option('yes', { type: 'boolean', default: false, describe: 'Do not ask; required when there is no terminal' })
        .option('concurrency', { type: 'number', default: 4 })
        .option('json', { type: 'boolean', default: false, describe: 'Print a JSON report' }),
    handler: (argv) => runGroupsDelete({ refs: argv.groups ?? [], from: argv.from, yes: argv.yes, concurrency: argv.concurrency, json: argv.json }, ctx.factory(argv)),
  };
}

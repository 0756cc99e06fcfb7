import { resolveGroup } from '../../api/resolve.ts';
import type { ScimGroup } from '../../api/types.ts';
import type { Column } from '../../output/table.ts';
import { defineCommand } from '../context.ts';
import { deleteMany } from '../delete-many.ts';
import { UsageError } from '../exit-codes.ts';
import { readRefs } from '../refs.ts';

const PREVIEW: Column<ScimGroup>[] = [
  { header: 'displayName', value: (g) => g.displayName ?? '', minWidth: 12 },
  { header: 'members', value: (g) => (Array.isArray(g.members) ? String(g.members.length) : ''), minWidth: 7 },
  { header: 'id', value: (g) => g.id, shrinkable: true, minWidth: 8 },
];

export const groupsDeleteCommand = defineCommand({
  command: 'delete [groups..]',
  describe: 'Delete groups (not their members), after showing which and asking (or --yes)',
  builder: (y) =>
    y
      .positional('groups', { type: 'string', array: true, describe: 'ids or displayNames' })
      .option('from', { type: 'string', describe: 'A file naming the groups: one per line, or a CSV/JSON export' })
      .option('yes', { type: 'boolean', default: false, describe: 'Do not ask; required when there is no terminal' })
      .option('concurrency', { type: 'number', default: 4 })
      .option('json', { type: 'boolean', default: false, describe: 'Print a JSON report' }),
  run: async (argv, f) => {
    const refs = [...(argv.groups ?? []), ...(argv.from ? await readRefs(argv.from, 'groups') : [])];
    if (refs.length === 0) throw new UsageError('name the groups to delete (id or displayName), or give --from FILE');
    const { groups } = await f.client();
    await deleteMany(
      {
        noun: 'group',
        refs,
        api: groups,
        resolve: (ref) => resolveGroup(groups, ref),
        label: (g) => g.displayName,
        preview: PREVIEW,
        yes: argv.yes,
        concurrency: argv.concurrency,
        json: argv.json,
      },
      f,
    );
  },
});

import { resolveUser } from '../../api/resolve.ts';
import { primaryEmail, type ScimUser } from '../../api/types.ts';
import type { Column } from '../../output/table.ts';
import { defineCommand } from '../context.ts';
import { deleteMany } from '../delete-many.ts';
import { UsageError } from '../exit-codes.ts';
import { readRefs } from '../refs.ts';

/** What a destructive users command shows of each user before it asks. */
export const USER_PREVIEW: Column<ScimUser>[] = [
  { header: 'userName', value: (u) => u.userName ?? '', minWidth: 12 },
  { header: 'displayName', value: (u) => u.displayName ?? '', minWidth: 10 },
  { header: 'email', value: (u) => primaryEmail(u) ?? '', minWidth: 10 },
  { header: 'id', value: (u) => u.id, shrinkable: true, minWidth: 8 },
];

export const usersDeleteCommand = defineCommand({
  command: 'delete [users..]',
  describe: 'Delete users, after showing who and asking (or --yes)',
  builder: (y) =>
    y
      .positional('users', { type: 'string', array: true, describe: 'ids, userNames or e-mails' })
      .option('from', {
        type: 'string',
        describe: 'A file naming the users: one per line, or a CSV/JSON export (id or userName)',
      })
      .option('yes', { type: 'boolean', default: false, describe: 'Do not ask; required when there is no terminal' })
      .option('concurrency', { type: 'number', default: 4, describe: 'Requests in flight at once' })
      .option('json', { type: 'boolean', default: false, describe: 'Print a JSON report' }),
  run: async (argv, f) => {
    const refs = [...(argv.users ?? []), ...(argv.from ? await readRefs(argv.from, 'users') : [])];
    if (refs.length === 0)
      throw new UsageError('name the users to delete (id, userName or e-mail), or give --from FILE');
    const { users } = await f.client();
    await deleteMany(
      {
        noun: 'user',
        refs,
        api: users,
        resolve: (ref) => resolveUser(users, ref),
        label: (u) => u.userName,
        preview: USER_PREVIEW,
        yes: argv.yes,
        concurrency: argv.concurrency,
        json: argv.json,
      },
      f,
    );
  },
});

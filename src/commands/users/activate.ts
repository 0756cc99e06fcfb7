import { resolveMany, resolveUser } from '../../api/resolve.ts';
import { SCHEMA, type ScimUser } from '../../api/types.ts';
import { updateResource } from '../../api/update.ts';
import { printResults, type ItemResult } from '../../output/results.ts';
import { defineCommand } from '../context.ts';
import { errorText, forEachItem } from '../each.ts';
import { ExitCode, SilentExit, UsageError } from '../exit-codes.ts';
import { readRefs } from '../refs.ts';
import { confirmTargets } from '../delete-many.ts';
import { USER_PREVIEW } from './delete.ts';

/** Sets active=true or false on each named user (PATCH, or GET + PUT). */
function setActiveCommand(active: boolean) {
  return defineCommand({
    command: `${active ? 'activate' : 'deactivate'} [users..]`,
    describe: active ? 'Set users active' : 'Set users inactive (they keep their data and groups)',
    builder: (y) =>
      y
        .positional('users', { type: 'string', array: true, describe: 'ids, userNames or e-mails' })
        .option('from', { type: 'string', describe: 'A file naming the users: one per line, or a CSV/JSON export' })
        .option('concurrency', { type: 'number', default: 4, describe: 'Requests in flight at once' })
        .option('json', { type: 'boolean', default: false, describe: 'Print a JSON report' })
        .option('yes', {
          type: 'boolean',
          default: false,
          hidden: active,
          describe: 'Deactivate without asking (needed without a terminal)',
        }),
    run: async (argv, f) => {
      const refs = [...(argv.users ?? []), ...(argv.from ? await readRefs(argv.from, 'users') : [])];
      if (refs.length === 0)
        throw new UsageError(`name the users to ${active ? 'activate' : 'deactivate'}, or give --from FILE`);
      const client = await f.client();
      const caps = await client.capabilities();
      const { found, missing } = await resolveMany(refs, (ref) => resolveUser(client.users, ref));
      const results: ItemResult[] = missing.map((ref) => ({ ref, status: 'not-found' }));
      if (!active) {
        // Deactivating locks people out: show who, and ask (or --yes), as a delete does.
        const targets = found.map((x) => x.resource).filter((u) => u.active !== false);
        if (targets.length > 0)
          await confirmTargets(f, {
            targets,
            preview: USER_PREVIEW,
            noun: 'user',
            verb: 'deactivate',
            yes: argv.yes,
            warning: 'They will not be able to sign in.',
          });
      }
      const failed = ({ ref, resource }: (typeof found)[number], e: unknown): ItemResult => ({
        ref,
        id: resource.id,
        name: resource.userName,
        status: 'failed',
        detail: errorText(e),
      });
      const changed = await forEachItem(
        f,
        found,
        { label: active ? 'Activating' : 'Deactivating', concurrency: argv.concurrency, failed },
        async ({ ref, resource }): Promise<ItemResult> => {
          const before = await client.users.get(resource.id);
          const { method } = await updateResource(
            client.users,
            caps,
            before,
            { ...before, active } as ScimUser,
            SCHEMA.USER,
          );
          return {
            ref,
            id: before.id,
            name: before.userName,
            status: method === 'none' ? 'unchanged' : 'updated',
            detail: method === 'none' ? `already ${active ? 'active' : 'inactive'}` : `active → ${active}`,
          };
        },
      );
      results.push(...changed);
      await printResults(f.io, results, argv.json);
      if (results.some((r) => r.status === 'failed')) throw new SilentExit(ExitCode.ERROR);
      if (results.some((r) => r.status === 'not-found')) throw new SilentExit(ExitCode.NOT_FOUND);
    },
  });
}

export const usersActivateCommand = setActiveCommand(true);
export const usersDeactivateCommand = setActiveCommand(false);

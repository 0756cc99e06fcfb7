import { resolveUser } from '../../api/resolve.ts';
import { SCHEMA } from '../../api/types.ts';
import { printResourceDetail } from '../../output/resources.ts';
import type { CliContext, Command, GlobalArgs } from '../context.ts';
import type { Factory } from '../factory.ts';

export interface UsersGetOptions {
  ref: string;
  json: boolean;
}

export async function runUsersGet(opts: UsersGetOptions, f: Factory): Promise<void> {
  const { users } = await f.client();
  const user = await resolveUser(users, opts.ref);
  await printResourceDetail(f.io, user, opts.json, SCHEMA.USER);
}

interface Args extends GlobalArgs {
  user: string;
  json: boolean;
}

export function usersGetCommand(ctx: CliContext): Command<Args> {
  return {
    command: 'get <user>',
    describe: 'Show one user, named by id, userName or e-mail',
    builder: (y) =>
      y
        .positional('user', { type: 'string', demandOption: true, describe: 'id, userName or e-mail' })
        .option('json', { type: 'boolean', default: false, describe: 'Print the SCIM resource as received' }),
    handler: (argv) => runUsersGet({ ref: argv.user, json: argv.json }, ctx.factory(argv)),
  };
}

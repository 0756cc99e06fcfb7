import { referenceNames } from '../../api/names.ts';
import { resolveUser } from '../../api/resolve.ts';
import { SCHEMA } from '../../api/types.ts';
import { printResourceDetail } from '../../output/resources.ts';
import { defineCommand } from '../context.ts';

export const usersGetCommand = defineCommand({
  command: 'get <user>',
  describe: 'Show one user, named by id, userName or e-mail',
  builder: (y) =>
    y
      .positional('user', { type: 'string', demandOption: true, describe: 'id, userName or e-mail' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the SCIM resource as received' }),
  run: async (argv, f) => {
    const client = await f.client();
    const user = await resolveUser(client.users, argv.user);
    // On a terminal, the groups are named (a person reads them); elsewhere the output stays as the server gave it.
    const names =
      !argv.json && f.io.isStdoutTTY && Array.isArray(user.groups)
        ? await referenceNames(client, user.groups, 'group')
        : undefined;
    await printResourceDetail(f.io, user, argv.json, SCHEMA.USER, names);
  },
});

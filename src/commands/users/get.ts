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
    const { users } = await f.client();
    const user = await resolveUser(users, argv.user);
    await printResourceDetail(f.io, user, argv.json, SCHEMA.USER);
  },
});

import { ConfigError } from '../../config/connection.ts';
import { defineCommand } from '../context.ts';

export const profileRemoveCommand = defineCommand({
  command: 'remove <name>',
  describe: 'Remove a profile (and its stored token)',
  builder: (y) => y.positional('name', { type: 'string', demandOption: true }),
  run: async (argv, f) => {
    if (!(await f.profiles()).remove(argv.name))
      throw new ConfigError(`no profile named "${argv.name}"; see: scimctl profile list`);
    f.log(`removed profile "${argv.name}"`);
  },
});

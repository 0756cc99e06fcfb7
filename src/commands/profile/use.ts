import { ConfigError } from '../../config/connection.ts';
import { defineCommand } from '../context.ts';

export const profileUseCommand = defineCommand({
  command: 'use <name>',
  describe: 'Make a profile the current one',
  builder: (y) => y.positional('name', { type: 'string', demandOption: true }),
  run: async (argv, f) => {
    const store = await f.profiles();
    if (!store.get(argv.name)) throw new ConfigError(`no profile named "${argv.name}"; see: scimctl profile list`);
    store.use(argv.name);
    f.log(`now using profile "${argv.name}"`);
  },
});

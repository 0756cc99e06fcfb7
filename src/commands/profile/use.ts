import { ConfigError } from '../../config/connection.ts';
import type { CliContext, Command, GlobalArgs } from '../context.ts';
import type { Factory } from '../factory.ts';

export async function runProfileUse(opts: { name: string }, f: Factory): Promise<void> {
  const store = await f.profiles();
  if (!store.get(opts.name)) throw new ConfigError(`no profile named "${opts.name}"; see: scimctl profile list`);
  store.use(opts.name);
  f.log(`now using profile "${opts.name}"`);
}

export function profileUseCommand(ctx: CliContext): Command<GlobalArgs & { name: string }> {
  return {
    command: 'use <name>',
    describe: 'Make a profile the current one',
    builder: (y) => y.positional('name', { type: 'string', demandOption: true }),
    handler: (argv) => runProfileUse({ name: argv.name }, ctx.factory(argv)),
  };
}

import { ConfigError } from '../../config/connection.ts';
import type { CliContext, Command, GlobalArgs } from '../context.ts';
import type { Factory } from '../factory.ts';

export async function runProfileRemove(opts: { name: string }, f: Factory): Promise<void> {
  if (!(await f.profiles()).remove(opts.name)) throw new ConfigError(`no profile named "${opts.name}"; see: scimctl profile list`);
  f.log(`removed profile "${opts.name}"`);
}

export function profileRemoveCommand(ctx: CliContext): Command<GlobalArgs & { name: string }> {
  return {
    command: 'remove <name>',
    describe: 'Remove a profile (and its stored token)',
    builder: (y) => y.positional('name', { type: 'string', demandOption: true }),
    handler: (argv) => runProfileRemove({ name: argv.name }, ctx.factory(argv)),
  };
}

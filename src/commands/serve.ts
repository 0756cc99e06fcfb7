import type { CliContext, Command, GlobalArgs } from './context.ts';

export function serveCommand(_ctx: CliContext): Command<GlobalArgs> {
  return { command: 'serve', describe: 'Run a SCIM 2.0 server', handler: () => { throw new Error('serve: in progress'); } };
}

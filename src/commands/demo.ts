import type { CliContext, Command, GlobalArgs } from './context.ts';

export function demoCommand(_ctx: CliContext): Command<GlobalArgs> {
  return { command: 'demo', describe: 'Try scimctl on a sample organisation', handler: () => { throw new Error('demo: in progress'); } };
}

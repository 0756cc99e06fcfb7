import { dataDir } from '../sync/state.ts';
import { RunHistory } from '../sync/history.ts';
import type { CliContext, Command, GlobalArgs } from './context.ts';
import { UsageError } from './exit-codes.ts';
import type { Factory } from './factory.ts';

/** Opens the full-screen explorer. Ink and React load only here. */
export async function runTui(f: Factory): Promise<void> {
  if (!f.io.isStdoutTTY || !f.io.stdin.isTTY) {
    throw new UsageError('the TUI needs a terminal; for scripts use the subcommands (scimctl users list, scimctl sync plan, …)');
  }
  const client = await f.client();
  const connection = await f.connection();
  const caps = await client.capabilities();
  const { runTui: start } = await import('../ui/run.tsx');
  await start({ deps: { client, caps, history: new RunHistory(dataDir(f.env)) }, profile: connection.name, url: connection.url });
}

export function tuiCommand(ctx: CliContext): Command<GlobalArgs> {
  return {
    command: 'tui',
    describe: 'Open the full-screen explorer (the default on a terminal)',
    handler: (argv) => runTui(ctx.factory(argv)),
  };
}

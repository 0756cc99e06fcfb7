/**
 * scimctl's entry point: parses the command line, runs the command, and turns
 * the outcome into an exit code. The only place that sets the exit code.
 */
import type { Connection } from './config/connection.ts';
import { loadEnv, type Env } from './config/env.ts';
import type { GlobalArgs } from './commands/context.ts';
import { buildCli, commandWords, loadCommands } from './commands/index.ts';
import { ExitCode, exitCodeFor, SilentExit, UsageError } from './commands/exit-codes.ts';
import { createFactory, type Factory } from './commands/factory.ts';
import { connectionSecrets, formatError } from './commands/format-error.ts';
import { interruptListener, runInterruptCleanups } from './util/interrupt.ts';
import { systemStreams, type IOStreams } from './output/iostreams.ts';
import { safeLines } from './output/safe-text.ts';

/** What a run of scimctl talks to; each defaults to the real one (tests hand in their own). */
export interface CliDeps {
  io?: IOStreams;
  env?: Env;
  /** The HTTP client's fetch. */
  fetch?: typeof globalThis.fetch;
}

/** Runs scimctl with these arguments and returns its exit code. */
export async function runCli(args: string[], deps: CliDeps = {}): Promise<number> {
  const io = deps.io ?? systemStreams();
  const env = deps.env ?? loadEnv();
  let factory: Factory | undefined;
  const ctx = {
    factory: (argv: GlobalArgs) =>
      (factory ??= createFactory(
        io,
        env,
        {
          profile: argv.profile,
          allowInsecureHttp: argv.allowInsecureHttp,
          timeout: argv.timeout,
          retries: argv.retries,
        },
        { fetch: deps.fetch },
      )),
  };
  const cli = buildCli(args, ctx, io.columns, await loadCommands(args));
  try {
    if (args.length === 0) {
      // On a terminal, no arguments open the explorer; elsewhere they print help.
      if (io.isStdoutTTY && io.stdin.isTTY && !env.CI) {
        const { runTui } = await import('./commands/tui.ts');
        await runTui(ctx.factory({}));
        return ExitCode.OK;
      }
      await writeHelp(cli, io);
      return ExitCode.OK;
    }
    await cli.parseAsync();
    return ExitCode.OK;
  } catch (error) {
    if (error instanceof SilentExit) return error.code;
    const connection: Connection | undefined = factory?.resolvedConnection();
    io.stderr.write(`scimctl: ${formatError(error, connection, connectionSecrets(connection))}\n`);
    if (error instanceof UsageError)
      io.stderr.write(`scimctl: see "scimctl ${commandWords(args).slice(0, 2).join(' ')} --help"\n`);
    return exitCodeFor(error);
  }
}

async function writeHelp(cli: ReturnType<typeof buildCli>, io: IOStreams): Promise<void> {
  io.stdout.write(`${await cli.getHelp()}\n`);
}

/** Run as the scimctl binary. */
export function run(): void {
  // `scimctl users list | head` closes our stdout early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(ExitCode.OK);
    throw e;
  });
  // A running server stops cleanly on the first Ctrl+C; a second one ends it at once.
  process.on(
    'SIGINT',
    interruptListener(() => {
      runInterruptCleanups();
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
      process.stderr.write('scimctl: interrupted\n');
      process.exit(ExitCode.INTERRUPTED);
    }),
  );
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `scimctl: internal error: ${safeLines(error instanceof Error ? error.message : String(error))}\n`,
      );
      process.exitCode = ExitCode.ERROR;
    },
  );
}

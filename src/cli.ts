/**
 * scimctl's entry point: parses the command line, runs the command, and turns
 * the outcome into an exit code. The only place that sets the exit code.
 */
import type { Connection } from './config/connection.ts';
import { loadEnv, type Env } from './config/env.ts';
import type { CliContext, GlobalArgs } from './commands/context.ts';
import { buildCli, commandWords, loadCommands } from './commands/index.ts';
import { ExitCode, exitCodeFor, SilentExit, UsageError } from './commands/exit-codes.ts';
import { createFactory, type Factory } from './commands/factory.ts';
import { connectionSecrets, formatError } from './commands/format-error.ts';
import { interruptListener, runInterruptCleanups } from './util/interrupt.ts';
import { systemStreams, type IOStreams } from './output/iostreams.ts';
import { colourLabel, stderrColour } from './output/colour.ts';
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
  const given = deps.io ?? systemStreams();
  // --no-color turns colour off as NO_COLOR does (it is read here, before any output).
  const io =
    args.includes('--no-color') || args.includes('--color=false')
      ? { ...given, color: false, stderrColor: false }
      : given;
  const env = deps.env ?? loadEnv();
  // The completion scripts' callback (`scimctl __complete WORD…`): candidates, one a line; never an error.
  if (args[0] === '__complete') {
    const { writeCompletions } = await import('./commands/complete.ts');
    await writeCompletions(args.slice(args[1] === '--' ? 2 : 1), io, env);
    return ExitCode.OK;
  }
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
    const profile = profileOnly(args);
    if (args.length === 0 || profile !== undefined) {
      // On a terminal, no command (`scimctl`, `scimctl -p NAME`) opens the explorer; elsewhere it prints help.
      if (io.isStdoutTTY && io.stdin.isTTY && !env.CI) {
        const { runTui } = await import('./commands/tui.ts');
        await runTui(ctx.factory(profile ? { profile } : {}));
        return ExitCode.OK;
      }
      await writeHelp(cli, io);
      return ExitCode.OK;
    }
    await cli.parseAsync();
    return ExitCode.OK;
  } catch (error) {
    factory?.clearStatus();
    if (error instanceof SilentExit) return error.code;
    const connection: Connection | undefined = factory?.resolvedConnection();
    if (error instanceof UsageError) {
      const { message, command } = await explainUsage(error.message, args, ctx);
      io.stderr.write(`scimctl: ${errorLabel(io, formatError(new UsageError(message), connection))}\n`);
      io.stderr.write(`scimctl: see "${command} --help"\n`);
      return exitCodeFor(error);
    }
    io.stderr.write(`scimctl: ${errorLabel(io, formatError(error, connection, connectionSecrets(connection)))}\n`);
    return exitCodeFor(error);
  }
}

/** "error:" in red where colour is on for stderr (a terminal there, whatever stdout is). */
const errorLabel = (io: IOStreams, text: string) => colourLabel(stderrColour(io), text);

/** `-p NAME` or `--profile NAME` (or `--profile=NAME`) and nothing else: the profile's name, else undefined. */
function profileOnly(args: readonly string[]): string | undefined {
  if (args.length === 2 && (args[0] === '-p' || args[0] === '--profile')) return args[1];
  if (args.length === 1 && args[0]!.startsWith('--profile=')) return args[0]!.slice('--profile='.length);
  return undefined;
}

/**
 * A usage error as told: a mistyped command or option with the nearest real one ("did you mean"),
 * and the command whose --help to see (as corrected; only words that name a command).
 */
async function explainUsage(
  yargsMessage: string,
  args: string[],
  ctx: CliContext,
): Promise<{ message: string; command: string }> {
  let message = yargsMessage;
  let words = commandWords(args).slice(0, 2);
  const meant = /^Did you mean (\S+)\?$/.exec(message)?.[1];
  if (meant) {
    // yargs names the command meant; the mistyped word is the one nearest it.
    const { levenshtein } = await import('./util/closest.ts');
    let wrong = words.findIndex((w) => w !== meant);
    for (const [i, w] of words.entries())
      if (w !== meant && levenshtein(w, meant) < levenshtein(words[wrong]!, meant)) wrong = i;
    message = `unknown command "${words[wrong] ?? ''}"; did you mean "${meant}"?`;
    if (wrong >= 0) words = words.map((w, i) => (i === wrong ? meant : w));
  }
  // The command the words name, as its help's first line names it (`scimctl users get <user>`).
  const corrected = buildCli(words, ctx, 200, await loadCommands(words));
  const help = await corrected.getHelp();
  const command = (help.split('\n')[0] ?? '')
    .split(' ')
    .filter((w) => w !== '' && !/^[<[]/.test(w))
    .join(' ');
  const unknown = /^Unknown arguments?: (.+)$/.exec(message)?.[1];
  if (unknown) {
    const options = [...new Set([...help.matchAll(/--([a-z][\w-]*)/g)].map((m) => m[1]!))];
    const { closest } = await import('./util/closest.ts');
    const told = unknown.split(', ').map((name) => {
      const typed = args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`) || a === `-${name}`);
      if (typed === undefined) return `unknown ${name === words[0] ? 'command' : 'argument'} "${name}"`;
      const near = closest(name, options);
      return `unknown option --${name}${near ? `; did you mean --${near}?` : ''}`;
    });
    message = told.join('; ');
  }
  return { message, command: command || 'scimctl' };
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

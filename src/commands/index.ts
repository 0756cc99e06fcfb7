/**
 * The command tree. Only the commands the command line names are loaded (each
 * noun's module, on demand), so `--help` and scripted calls start fast.
 */
import yargs, { type CommandModule } from 'yargs';
import { GLOBAL_OPTIONS, type CliContext, type GlobalArgv, type GlobalOptions } from './context.ts';
import { VERSION } from './factory.ts';
import { UsageError } from './exit-codes.ts';
import { numericOptionProblem } from './numeric-options.ts';

/** Adds a part of the tree to the command line. */
type Register = (y: GlobalArgv, ctx: CliContext) => GlobalArgv;
/** A noun's subcommands (registered under the noun), or a command of its own (registering itself). */
export type Part = { group: Register } | { leaf: Register };

/** The top level: what `scimctl --help` lists, and how to load each part. */
const TREE: Array<{ command: string; describe: string; load: () => Promise<Part> }> = [
  {
    command: 'users',
    describe: 'List, inspect, create, update and delete users',
    load: async () => ({ group: (await import('./users/index.ts')).default }),
  },
  {
    command: 'groups',
    describe: 'List, inspect and change groups and their members',
    load: async () => ({ group: (await import('./groups/index.ts')).default }),
  },
  {
    command: 'export <type>',
    describe: 'Export users or groups as a SCIM ListResponse (JSON) or CSV',
    load: async () => leaf((await import('./export/export.ts')).exportCommand),
  },
  {
    command: 'sync',
    describe: 'Make the target match a source of truth: plan, apply, run',
    load: async () => ({ group: (await import('./sync/index.ts')).default }),
  },
  {
    command: 'runs',
    describe: 'The history of sync runs',
    load: async () => ({ group: (await import('./runs/index.ts')).default }),
  },
  {
    command: 'tui',
    describe: 'Open the full-screen explorer (the default on a terminal)',
    load: async () => leaf((await import('./tui.ts')).tuiCommand),
  },
  {
    command: 'serve',
    describe: 'Run a SCIM 2.0 server on this machine (a local store, or a source file read-only)',
    load: async () => leaf((await import('./serve.ts')).serveCommand),
  },
  {
    command: 'demo',
    describe: 'Try scimctl on a sample organisation: no account needed',
    load: async () => leaf((await import('./demo.ts')).demoCommand),
  },
  {
    command: 'profile',
    describe: 'Manage connection profiles',
    load: async () => ({ group: (await import('./profile/index.ts')).default }),
  },
  {
    command: 'completion <shell>',
    describe: 'Print a shell completion script (bash, zsh or fish)',
    load: async () => leaf((await import('./completion.ts')).completionCommand),
  },
];

/** The top-level commands (as yargs reads them: `export <type>`) and how to load each: the completer walks them. */
export const topCommands = (): ReadonlyArray<{ command: string; describe: string; load: () => Promise<Part> }> => TREE;

/** A top-level command: registering it hands yargs its module, flags typed as its builder declares. */
function leaf<A>(command: (ctx: CliContext) => CommandModule<GlobalOptions, A>): Part {
  return { leaf: (y, ctx) => y.command(command(ctx)) };
}

/** Loads the part of the tree the arguments name (nothing for a bare --help). */
export async function loadCommands(args: string[]): Promise<Map<string, Part>> {
  const first = commandWords(args)[0];
  const loaded = new Map<string, Part>();
  const entry = TREE.find((t) => t.command.split(' ')[0] === first);
  if (entry) loaded.set(entry.command, await entry.load());
  return loaded;
}

/** Global options that take a value: `--profile demo users list` names `users`, not `demo`. */
const VALUE_OPTIONS = new Set(
  Object.entries(GLOBAL_OPTIONS)
    .filter(([, o]) => o.type !== 'boolean')
    .flatMap(([name, o]) => [`--${name}`, ...('alias' in o ? [`-${o.alias}`] : [])]),
);

/** The words of the command line that are neither options nor options' values (`users`, `get`, …). */
export function commandWords(args: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return [...words, ...args.slice(i + 1)];
    if (VALUE_OPTIONS.has(a)) i++;
    else if (!a.startsWith('-')) words.push(a);
  }
  return words;
}

const EPILOG = [
  'Connection: --profile NAME, or SCIMCTL_URL + SCIMCTL_TOKEN (environment or ./.env), or the current profile.',
  'Exit codes: 0 ok, 1 error, 2 usage or bad input, 3 changes pending, 4 auth, 5 not found, 6 server unreachable, ' +
    '7 refused by a safety check.',
].join('\n');

export function buildCli(
  args: string[],
  ctx: CliContext,
  width: number,
  loaded: Map<string, Part> = new Map(),
): GlobalArgv {
  let cli: GlobalArgv = yargs(args)
    .scriptName('scimctl')
    .usage('$0 <command> [options]\n\nA console for SCIM 2.0 user provisioning.')
    .options(GLOBAL_OPTIONS);
  for (const t of TREE) {
    const part = loaded.get(t.command);
    if (part && 'leaf' in part) cli = part.leaf(cli, ctx);
    // A part that is not loaded is not the one running: its name and description are all yargs needs.
    else
      cli = cli.command({
        command: t.command,
        describe: t.describe,
        builder: (y: GlobalArgv) => (part ? part.group(y, ctx) : y),
        handler: () => undefined,
      });
  }
  return (
    cli
      // Before any command runs (nothing read, nothing written): a bad number names its option.
      .check((argv) => {
        const problem = numericOptionProblem(argv as Record<string, unknown>, args);
        if (problem) throw new UsageError(problem);
        return true;
      }, true)
      .demandCommand(1, 'name a command')
      .recommendCommands()
      .strict()
      .epilog(EPILOG)
      .version(VERSION)
      .alias('h', 'help')
      .wrap(Math.min(110, width))
      .exitProcess(false)
      .fail((message, error) => {
        throw error ?? new UsageError(message);
      })
  );
}

/**
 * How a command is written: `defineCommand({ command, describe, builder, run })`. The flags
 * `run` gets are typed from what the builder declares (yargs' Argv<T> grows with each
 * .option()/.positional(), and `run` sees them camelCased too), so an option's name and type
 * are written once, in the builder: no Args interface to keep in step, no casts.
 *
 *   export const usersGetCommand = defineCommand({
 *     command: 'get <user>',
 *     describe: 'Show one user',
 *     builder: (y) => y.positional('user', { type: 'string', demandOption: true }).option('json', { type: 'boolean',
 * default: false }),
 *     run: async (argv, f) => { ... argv.user (string), argv.json (boolean) ... },
 *   });
 *
 * Flags several commands share are a generic builder fragment, `<T>(y: Argv<T>) => y.option(…)…`,
 * called inside each builder; `FlagsOf<ReturnType<typeof fragment<object>>>` names what it adds
 * when a helper needs the type.
 */
import type { ArgumentsCamelCase, Argv, CommandModule, InferredOptionTypes, Options } from 'yargs';
import type { Factory } from './factory.ts';

/** The flags every command takes: buildCli declares them at the top level. */
export const GLOBAL_OPTIONS = {
  profile: { alias: 'p', type: 'string', global: true, describe: 'Connection profile to use' },
  'allow-insecure-http': {
    type: 'boolean',
    global: true,
    describe: 'Allow plain http:// to hosts other than this machine',
  },
  color: {
    type: 'boolean',
    global: true,
    describe: 'Colour on a terminal (--no-color, like NO_COLOR, turns it off)',
  },
  timeout: { type: 'number', global: true, describe: 'Per-request timeout in seconds (default 30)' },
  retries: { type: 'number', global: true, describe: 'Retries of a failed request (default 4; 0 to fail at once)' },
} as const satisfies Record<string, Options>;

/** The global flags as yargs parses them (option names as declared). */
export type GlobalOptions = InferredOptionTypes<typeof GLOBAL_OPTIONS>;

/** The global flags a factory is built from (camelCase; any may be absent). */
export type GlobalArgs = Partial<FlagsOf<GlobalOptions>>;

/** The command line's top level, as every command's builder receives it. */
export type GlobalArgv = Argv<GlobalOptions>;

export interface CliContext {
  factory(argv: GlobalArgs): Factory;
}

/**
 * The parsed flags of a command whose builder yields Argv<A>: as declared and in camelCase.
 * Only those: yargs' catch-all `[name: string]: unknown` is left out, so a misspelt flag is an error.
 */
export type CommandArgs<A> = DeclaredOnly<ArgumentsCamelCase<A>>;
type DeclaredOnly<T> = { [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K] };

/**
 * The flags of a builder (or fragment) yielding Argv<A>, or of A itself, as a helper takes them
 * from any caller (a command, the explorer, the demo, a test): camelCase names only (no
 * kebab-case spelling, `_` or `$0`), and a flag that may be absent (no default, not required)
 * an optional property.
 */
export type FlagsOf<Y> = Y extends Argv<infer A> ? Flags<A> : Flags<Y>;
type Flags<A> = Flat<
  { -readonly [K in keyof Camel<A> as undefined extends Camel<A>[K] ? never : K]: Camel<A>[K] } & {
    -readonly [K in keyof Camel<A> as undefined extends Camel<A>[K] ? K : never]?: Camel<A>[K];
  }
>;
type Camel<A> = {
  [K in keyof CommandArgs<A> as K extends `${string}-${string}` | '_' | '$0' ? never : K]: CommandArgs<A>[K];
};
type Flat<T> = { [K in keyof T]: T[K] };

export interface CommandSpec<A extends GlobalOptions> {
  /** yargs command string, e.g. `get <user>` or `delete [users..]`. */
  command: string;
  describe: string;
  /** Declares the command's positionals and options; their types flow to `run`. */
  builder: (y: GlobalArgv) => Argv<A>;
  run: (argv: CommandArgs<A>, f: Factory) => Promise<void>;
  /** The global flags the factory is built from, when a command's own flags change them (default: as given). */
  globals?: (argv: CommandArgs<A>) => GlobalArgs;
}

/** A command, ready for yargs once it is handed the context (which builds the factory). */
export type CliCommand<A extends GlobalOptions = GlobalOptions> = (ctx: CliContext) => CommandModule<GlobalOptions, A>;

export function defineCommand<A extends GlobalOptions>(spec: CommandSpec<A>): CliCommand<A> {
  return (ctx) => ({
    command: spec.command,
    describe: spec.describe,
    builder: spec.builder,
    handler: (argv) => {
      // The same object: only yargs' catch-all index signature is dropped from its type
      // (TypeScript cannot see that for a generic A).
      const args = argv as CommandArgs<A>;
      return spec.run(args, ctx.factory(spec.globals ? spec.globals(args) : globalArgs(argv)));
    },
  });
}

/** The global flags out of a command's parsed flags. */
export function globalArgs(argv: ArgumentsCamelCase<GlobalOptions>): GlobalArgs {
  return {
    profile: argv.profile,
    allowInsecureHttp: argv.allowInsecureHttp,
    timeout: argv.timeout,
    retries: argv.retries,
  };
}

/** Splits `a,b , c` lists given once or repeated. */
export function listArg(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(','));
  const out = parts.map((s) => s.trim()).filter(Boolean);
  return out.length > 0 ? out : undefined;
}

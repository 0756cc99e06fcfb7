/**
 * defineCommand: the flags `run` gets are typed from the builder (checked by `tsc --noEmit`:
 * each @ts-expect-error below fails the typecheck if the error it expects goes away), and the
 * factory is built from the global flags.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import yargs from 'yargs';
import {
  defineCommand,
  GLOBAL_OPTIONS,
  type CliCommand,
  type GlobalArgs,
  type GlobalOptions,
} from '../../src/commands/context.ts';
import type { Factory } from '../../src/commands/factory.ts';

const probe = defineCommand({
  command: 'probe <thing>',
  describe: 'a command for this test',
  builder: (y) =>
    y
      .positional('thing', { type: 'string', demandOption: true })
      .option('dry-run', { type: 'boolean', default: false })
      .option('format', { type: 'string', choices: ['json', 'csv'] as const, default: 'json' as const })
      .option('count', { type: 'number' }),
  run: async (argv, f) => {
    const thing: string = argv.thing;
    const dryRun: boolean = argv.dryRun;
    const format: 'json' | 'csv' = argv.format;
    const count: number | undefined = argv.count;
    const profile: string | undefined = argv.profile;
    // @ts-expect-error: an option the builder does not declare
    void argv.dryrun;
    // @ts-expect-error: a number option is not a string
    const wrong: string = argv.count;
    f.io.stdout.write(JSON.stringify({ thing, dryRun, format, count, profile }));
    void wrong;
  },
});

async function parse<A extends GlobalOptions>(
  args: string[],
  command: CliCommand<A>,
): Promise<{ flags: GlobalArgs; out: string }> {
  let flags: GlobalArgs | undefined;
  let out = '';
  const factory = { io: { stdout: { write: (s: string) => (out += s) } } } as unknown as Factory;
  await yargs(args)
    .options(GLOBAL_OPTIONS)
    .command(
      command({
        factory: (argv) => {
          flags = argv;
          return factory;
        },
      }),
    )
    .strict()
    .exitProcess(false)
    .parseAsync();
  assert.ok(flags, 'the command ran');
  return { flags, out };
}

test('run gets the parsed flags, camelCased; the factory gets the global flags only', async () => {
  const { flags, out } = await parse(
    ['probe', 'x', '--dry-run', '--format', 'csv', '--count', '3', '-p', 'prod', '--timeout', '5'],
    probe,
  );
  assert.deepEqual(JSON.parse(out), { thing: 'x', dryRun: true, format: 'csv', count: 3, profile: 'prod' });
  assert.deepEqual(flags, { profile: 'prod', allowInsecureHttp: undefined, timeout: 5, retries: undefined });
});

test('globals: a command may choose the flags its factory is built from', async () => {
  const named = defineCommand({
    command: 'probe [name]',
    describe: 'a command for this test',
    builder: (y) => y.positional('name', { type: 'string' }),
    globals: (argv) => ({ profile: argv.name ?? argv.profile }),
    run: async () => undefined,
  });
  assert.deepEqual((await parse(['probe', 'staging', '-p', 'prod'], named)).flags, { profile: 'staging' });
  assert.deepEqual((await parse(['probe', '-p', 'prod'], named)).flags, { profile: 'prod' });
});

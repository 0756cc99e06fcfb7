import { resolve } from 'node:path';
import { validateServerUrl } from '../../config/connection.ts';
import { PROFILE_NAME, type Profile, type ProfileAuth } from '../../config/profiles.ts';
import type { Argv } from 'yargs';
import type { IOStreams } from '../../output/iostreams.ts';
import { defineCommand, type FlagsOf } from '../context.ts';
import { UsageError } from '../exit-codes.ts';

/** Reads a secret from standard input: up to the first line break, or all of a pipe. */
export async function readSecretFromStdin(io: IOStreams): Promise<string> {
  if (io.stdin.isTTY) io.stderr.write('Paste the token, then press Enter: ');
  let data = '';
  for await (const chunk of io.stdin) {
    data += String(chunk);
    if (data.includes('\n')) break;
  }
  return data.split(/\r?\n/)[0]!.trim();
}

function parseHeader(raw: string): [string, string] {
  const i = raw.indexOf(':');
  if (i <= 0) throw new UsageError(`--header "${raw}" must look like "Name: value"`);
  return [raw.slice(0, i).trim(), raw.slice(i + 1).trim()];
}

/** The options of a profile's settings, as `profile add` and `profile set` take them (`url` required by add only). */
export const profileSettingOptions = <T>(y: Argv<T>) =>
  y
    .option('token-env', {
      type: 'string',
      describe: 'Read the bearer token from this environment variable at run time',
    })
    .option('token-stdin', {
      type: 'boolean',
      describe: 'Read the bearer token from standard input and store it (file mode 0600)',
    })
    .option('basic-user', { type: 'string', describe: 'Use HTTP basic auth with this user name' })
    .option('password-env', {
      type: 'string',
      describe: 'With --basic-user: the environment variable holding the password',
    })
    .option('header', { type: 'string', array: true, describe: 'Extra header "Name: value" sent with every request' })
    .option('use', { type: 'boolean', describe: 'Make it the current profile' })
    .option('sync-source', {
      type: 'string',
      describe: "The source of truth to sync from (started from the TUI's runs view with p)",
    })
    .option('sync-preset', {
      type: 'string',
      choices: ['scim', 'pleio', 'omni'],
      describe: 'With --sync-source: its layout',
    })
    .option('sync-mapping', { type: 'string', describe: 'With --sync-source: a mapping file' })
    .option('sync-groups-file', { type: 'string', describe: 'With --sync-source: a groups file' });

type SettingFlags = FlagsOf<ReturnType<typeof profileSettingOptions<object>>>;

/** The credentials the flags give (undefined when they give none); reads --token-stdin. */
export async function authFromFlags(argv: SettingFlags, io: IOStreams): Promise<ProfileAuth | undefined> {
  const ways = [argv.tokenEnv !== undefined, !!argv.tokenStdin, argv.basicUser !== undefined].filter(Boolean).length;
  if (ways > 1) throw new UsageError('choose one of --token-env, --token-stdin or --basic-user');
  if (argv.tokenEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(argv.tokenEnv)) {
    throw new UsageError(`--token-env takes the NAME of an environment variable, not the token itself`);
  }
  if (argv.tokenEnv) return { type: 'bearer', tokenEnv: argv.tokenEnv };
  if (argv.tokenStdin) {
    const token = await readSecretFromStdin(io);
    if (!token) throw new UsageError('--token-stdin: no token on standard input');
    return { type: 'bearer', token };
  }
  if (argv.basicUser !== undefined) {
    if (!argv.passwordEnv) throw new UsageError('--basic-user needs --password-env VAR');
    return { type: 'basic', username: argv.basicUser, passwordEnv: argv.passwordEnv };
  }
  return undefined;
}

/** The sync source the flags give (undefined when none); paths kept absolute, as the TUI may start anywhere. */
export function syncFromFlags(argv: SettingFlags): Profile['sync'] {
  if (argv.syncSource !== undefined) {
    const abs = (f: string | undefined) => (f === undefined ? undefined : resolve(f));
    return {
      source: abs(argv.syncSource)!,
      preset: argv.syncPreset,
      mapping: abs(argv.syncMapping),
      groupsFile: abs(argv.syncGroupsFile),
    };
  }
  if (argv.syncPreset || argv.syncMapping || argv.syncGroupsFile) {
    throw new UsageError('--sync-preset, --sync-mapping and --sync-groups-file go with --sync-source');
  }
  return undefined;
}

/** Extra headers as `--header "Name: value"` gives them. */
export const headersFromFlags = (headers: readonly string[] | undefined) =>
  headers?.length ? Object.fromEntries(headers.map(parseHeader)) : undefined;

export const profileAddCommand = defineCommand({
  command: 'add <name>',
  describe: 'Add a connection profile (or replace one: its credentials are kept unless new ones are given)',
  builder: (y) =>
    profileSettingOptions(
      y.positional('name', { type: 'string', demandOption: true }).option('url', {
        type: 'string',
        demandOption: true,
        describe: 'Base URL of the SCIM service, e.g. https://example.com/scim/v2',
      }),
    ),
  run: async (argv, f) => {
    if (!PROFILE_NAME.test(argv.name))
      throw new UsageError(`profile name "${argv.name}" may use letters, digits, ".", "_" and "-" only`);
    const url = validateServerUrl(argv.url, argv.allowInsecureHttp);
    const given = await authFromFlags(argv, f.io);
    const sync = syncFromFlags(argv);
    const store = await f.profiles();
    const before = store.get(argv.name);
    // Adding a profile again never drops its credentials silently: without new ones, they are kept.
    const kept = given === undefined && before !== undefined && before.auth.type !== 'none';
    const auth: ProfileAuth = given ?? (kept ? before.auth : { type: 'none' });
    const profile: Profile = { url, auth };
    const headers = headersFromFlags(argv.header);
    if (headers) profile.headers = headers;
    if (argv.allowInsecureHttp) profile.allowInsecureHttp = true;
    if (argv.timeout !== undefined) profile.timeoutMs = argv.timeout * 1000;
    if (sync) profile.sync = sync;

    store.set(argv.name, profile);
    if (argv.use || !store.current) store.use(argv.name);
    f.log(
      `${before ? 'updated' : 'added'} profile "${argv.name}" ` +
        `(${url})${store.current === argv.name ? ', now the current profile' : ''}`,
    );
    if (kept)
      f.log(
        `kept its credentials; to change one setting and keep the rest, use: scimctl ` +
          `profile set ${argv.name} --OPTION VALUE`,
      );
    if (auth.type === 'none')
      f.log('this profile sends no credentials; most servers want --token-env VAR or --token-stdin');
    f.log(`check it with: scimctl profile test ${argv.name}`);
  },
});

/**
 * `scimctl serve`: a SCIM 2.0 service provider on this machine, over a persistent local
 * store, or serving a source file read-only. Prints its base URL on stdout, logs on
 * stderr, and stops cleanly on Ctrl+C or SIGTERM.
 */
import { join } from 'node:path';
import { dataDir } from '../sync/state.ts';
import type { ServeOptions, Serving } from '../server/index.ts';
import type { SampleOrganisation } from '../server/sample.ts';
import type { SourcePreset } from '../sources/source.ts';
import { untilStopped } from '../util/interrupt.ts';
import { defineCommand } from './context.ts';
import { UsageError } from './exit-codes.ts';
import type { Factory } from './factory.ts';

export interface ServeFlags {
  host: string;
  port: number;
  data?: string;
  tokenEnv?: string;
  source?: string;
  preset?: string;
  mapping?: string;
  groupsFile?: string;
  seedUsers?: number;
  seedGroups?: number;
  logRequests?: boolean;
  fsync?: boolean;
  allowInsecureHttp?: boolean;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;

/** Starts the server the flags describe (used by serve and demo). */
export async function startServing(
  flags: ServeFlags & { token: string; seed?: SampleOrganisation },
  f: Factory,
): Promise<Serving> {
  if (!LOOPBACK.test(flags.host) && !flags.allowInsecureHttp) {
    throw new UsageError(
      `serving on ${flags.host} sends the token and every user's data over plain ` +
        `HTTP to the network; put a TLS proxy in front and pass --allow-insecure-http, ` +
        `or keep the default --host 127.0.0.1`,
    );
  }
  if (!Number.isInteger(flags.port) || flags.port < 0 || flags.port > 65535)
    throw new UsageError(`--port must be 0–65535 (0 = any free port), not ${flags.port}`);
  const { serve, sampleOrganisation } = await import('../server/index.ts');
  let source: ServeOptions['source'];
  if (flags.source !== undefined) {
    const [{ readSource }, { SchemaRegistry }] = await Promise.all([
      import('../sources/source.ts'),
      import('../api/schema.ts'),
    ]);
    const read = () =>
      readSource(
        {
          path: flags.source!,
          preset: flags.preset as SourcePreset | undefined,
          mappingFile: flags.mapping,
          groupsFile: flags.groupsFile,
        },
        new SchemaRegistry(),
      );
    source = { name: flags.source, snapshot: await read(), read };
  }
  const seed =
    flags.seed ??
    (flags.seedUsers !== undefined && flags.seedUsers > 0
      ? sampleOrganisation(flags.seedUsers, flags.seedGroups ?? 20)
      : undefined);
  const { progressBar } = await import('../output/progress.ts');
  const bars = {
    reading: progressBar(f.io, 'Reading the store'),
    seeding: progressBar(f.io, 'Generating the sample organisation'),
  };
  try {
    return await serve({
      onProgress: (what, done, total) => bars[what].update(done, total),
      dir: flags.data ?? join(dataDir(f.env), 'serve'),
      fsync: flags.fsync,
      host: flags.host,
      port: flags.port,
      token: flags.token,
      source,
      seed,
      logRequest: flags.logRequests ? (line) => f.log(line) : undefined,
      logError: (message) => f.log(`error: ${message}`),
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new UsageError(
        `port ${flags.port} on ${flags.host} is in use: pick another with --port (0 = any free port)`,
      );
    if (code === 'EACCES') throw new UsageError(`not allowed to listen on port ${flags.port}: use a port above 1023`);
    throw e;
  } finally {
    bars.reading.finish();
    bars.seeding.finish();
  }
}

export const serveCommand = defineCommand({
  command: 'serve',
  describe: 'Run a SCIM 2.0 server on this machine (a local store, or a source file read-only)',
  builder: (y) =>
    y
      .option('host', {
        type: 'string',
        default: '127.0.0.1',
        describe: 'Address to listen on (loopback unless --allow-insecure-http)',
      })
      .option('port', {
        type: 'number',
        default: 8080,
        describe: 'Port (0 = any free port); the base URL is printed on stdout',
      })
      .option('token-env', {
        type: 'string',
        describe: 'Environment variable holding the bearer token clients must send (required)',
      })
      .option('data', { type: 'string', describe: 'Directory of the persistent store (default: <data dir>/serve)' })
      .option('source', {
        type: 'string',
        describe: 'Serve this source file read-only (any file `scimctl sync` reads)',
      })
      .option('preset', { type: 'string', choices: ['scim', 'pleio', 'omni'], describe: 'Layout of --source' })
      .option('mapping', { type: 'string', describe: 'Mapping file for --source' })
      .option('groups-file', { type: 'string', describe: 'Groups file for --source' })
      .option('seed-users', {
        type: 'number',
        describe: 'Fill an empty store with a generated sample organisation of N users',
      })
      .option('seed-groups', { type: 'number', default: 20, describe: 'Groups of the sample organisation' })
      .option('log-requests', {
        type: 'boolean',
        default: false,
        describe: 'Log every request (method, path, status, time) on stderr',
      })
      .option('fsync', {
        type: 'boolean',
        default: true,
        describe: 'Sync every change to disk before answering (--no-fsync: faster; a crash can lose the last changes)',
      })
      .example(
        'SCIM_TOKEN=$(openssl rand -hex 24) scimctl serve --token-env SCIM_TOKEN',
        'a server on http://127.0.0.1:8080/scim/v2',
      )
      .example(
        'scimctl serve --source hr.csv --token-env SCIM_TOKEN --port 0',
        'serve an HR export read-only on a free port',
      ),
  run: async (argv, f) => {
    if (!argv.tokenEnv)
      throw new UsageError('name the environment variable holding the bearer token clients must send: --token-env VAR');
    const token = f.env[argv.tokenEnv];
    if (!token)
      throw new UsageError(`${argv.tokenEnv} is not set (or empty): set it to the bearer token clients must send`);
    if (argv.source !== undefined && argv.seedUsers !== undefined)
      throw new UsageError('--source serves a file as it is: it cannot be combined with --seed-users');
    const stop = untilStopped();
    let server: Serving;
    try {
      server = await startServing({ ...argv, token }, f);
    } catch (e) {
      stop.release();
      throw e;
    }
    const { users, groups } = server.counts();
    f.io.stdout.write(`${server.url}\n`);
    const what = argv.source !== undefined ? `${argv.source} read-only` : (argv.data ?? join(dataDir(f.env), 'serve'));
    f.log(
      `serving ${users} users and ${groups} groups (${what}) at ${server.url}; token ` +
        `from $${argv.tokenEnv}. Ctrl+C stops.`,
    );
    const signal = await stop.wait();
    f.log(`${signal === 'SIGINT' ? 'Ctrl+C' : signal}: stopping`);
    await server.stop();
    f.log(argv.source !== undefined ? 'stopped' : 'stopped; everything is saved');
  },
});

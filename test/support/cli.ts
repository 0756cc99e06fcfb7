/**
 * Running scimctl in-process: streams that capture what a command writes, an environment of
 * its own (temporary config, cache and data directories), and a harness that runs commands
 * against an in-memory SCIM server through the client's fetch option.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { runCli } from '../../src/cli.ts';
import { createFactory, type Factory, type FactoryFlags } from '../../src/commands/factory.ts';
import type { Env } from '../../src/config/env.ts';
import type { IOStreams } from '../../src/output/iostreams.ts';
import type { ScimService } from '../../src/server/service.ts';
import { memoryService, serviceFetch, type ServedRequest } from './service-fetch.ts';

export interface TestStreamOptions {
  /** stdout and stderr are terminals (default false: a pipe). */
  tty?: boolean;
  /** Prompts possible (default: as tty). */
  canPrompt?: boolean;
  columns?: number;
  color?: boolean;
  /** What standard input holds (default: nothing). */
  stdin?: string;
}

export interface TestStreams {
  io: IOStreams;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
}

function capture(
  isTTY: boolean,
  columns: number,
): { stream: Writable & { isTTY: boolean; columns: number }; text(): string } {
  let text = '';
  const stream = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    }),
    { isTTY, columns },
  );
  return { stream, text: () => text };
}

export function testStreams(options: TestStreamOptions = {}): TestStreams {
  const tty = options.tty ?? false;
  const columns = options.columns ?? 80;
  const out = capture(tty, columns);
  const err = capture(tty, columns);
  const stdin = Object.assign(Readable.from(options.stdin === undefined ? [] : [options.stdin]), { isTTY: tty });
  const io: IOStreams = {
    stdin,
    stdout: out.stream,
    stderr: err.stream,
    isStdoutTTY: tty,
    isStderrTTY: tty,
    color: options.color ?? false,
    columns,
    canPrompt: options.canPrompt ?? tty,
  };
  return { io, stdout: out.text, stderr: err.text };
}

/** An environment with its own config, cache and data directories (removed by `cleanup`). */
export function testEnv(extra: Env = {}): { env: Env; dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'scimctl-unit-'));
  const env: Env = {
    SCIMCTL_CONFIG_DIR: join(dir, 'config'),
    SCIMCTL_CACHE_DIR: join(dir, 'cache'),
    SCIMCTL_DATA_DIR: join(dir, 'data'),
    ...extra,
  };
  return { env, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A factory as commands get it, over test streams and an environment. */
export function testFactory(
  io: IOStreams,
  env: Env,
  flags: FactoryFlags = {},
  fetch?: typeof globalThis.fetch,
): Factory {
  return createFactory(io, env, flags, { fetch });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliHarness {
  /** The base URL the environment points scimctl at (nothing listens there). */
  url: string;
  token: string;
  env: Env;
  dir: string;
  service: ScimService;
  /** The requests the server answered, in order. */
  requests: ServedRequest[];
  /** Runs scimctl with these arguments against the in-memory server. */
  run(args: string[], options?: TestStreamOptions & { env?: Env }): Promise<CliResult>;
  /** Starts scimctl and returns at once: its output so far, and its exit code when it ends. */
  start(
    args: string[],
    options?: TestStreamOptions & { env?: Env },
  ): { stdout(): string; stderr(): string; exit: Promise<number> };
  /** A request to the server directly (seeding, or checking its state). */
  scim(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  cleanup(): void;
}

/** An in-memory SCIM server and an environment pointing scimctl at it (SCIMCTL_URL + SCIMCTL_TOKEN). */
export async function cliHarness(): Promise<CliHarness> {
  const url = 'http://127.0.0.1:9/scim/v2';
  const token = 'unit-test-token-0123456789';
  const service = await memoryService(url);
  const { fetch, requests } = serviceFetch(service, { token });
  const { env, dir, cleanup } = testEnv({ SCIMCTL_URL: url, SCIMCTL_TOKEN: token });
  const start: CliHarness['start'] = (args, options = {}) => {
    const streams = testStreams(options);
    const exit = runCli(args, { io: streams.io, env: { ...env, ...options.env }, fetch });
    return { stdout: streams.stdout, stderr: streams.stderr, exit };
  };
  return {
    url,
    token,
    env,
    dir,
    service,
    requests,
    start,
    async run(args, options = {}) {
      const started = start(args, options);
      const code = await started.exit;
      return { code, stdout: started.stdout(), stderr: started.stderr() };
    },
    async scim(method, path, body) {
      const u = new URL(path, 'http://x');
      const r = await service.handle({ method, path: u.pathname, query: u.searchParams, body });
      return { status: r.status, body: r.body as any };
    },
    cleanup,
  };
}

/**
 * Harness for the `scimctl serve` compliance suite: runs the built binary as a real server
 * on 127.0.0.1 (port 0), reads the base URL it prints, and talks to it with plain fetch.
 * No mocks: every assertion is about what comes back over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT, waitFor } from './helpers.ts';

export const URN = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterprise: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  spc: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  list: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  patch: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  search: 'urn:ietf:params:scim:api:messages:2.0:SearchRequest',
  bulkRequest: 'urn:ietf:params:scim:api:messages:2.0:BulkRequest',
  bulkResponse: 'urn:ietf:params:scim:api:messages:2.0:BulkResponse',
} as const;

/** The name of the variable the token is handed over in (`--token-env`). */
export const TOKEN_ENV = 'SCIM_SERVE_E2E_TOKEN';

/** A SCIM resource or message as it comes over the wire. */
export type Json = any;

export interface ServeOptions {
  token: string;
  /** `--data DIR`; a fresh temporary directory when omitted; null leaves the flag out. */
  dataDir?: string | null;
  /** More arguments after `serve --port 0 --data DIR --token-env VAR`. */
  args?: string[];
  /** Deadline for the base URL to appear on stdout. */
  startTimeoutMs?: number;
}

export interface ServeProcess {
  /** The base URL printed on stdout, e.g. http://127.0.0.1:43121/scim/v2 */
  url: string;
  token: string;
  dataDir: string | null;
  /** Everything the process wrote so far. */
  stdout(): string;
  stderr(): string;
  exited(): boolean;
  /** Sends the signal and waits (with a deadline) for the process to exit. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Removes the temporary home (and the store, unless the caller passed its own --data). */
  cleanup(): void;
  request: Requester;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  // A failed test must not leave a server behind.
  for (const child of running) child.kill('SIGKILL');
});

export async function startServe(options: ServeOptions): Promise<ServeProcess> {
  const home = mkdtempSync(join(tmpdir(), 'scimctl-serve-e2e-'));
  const dataDir = options.dataDir === undefined ? join(home, 'store') : options.dataDir;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('SCIMCTL_')) env[k] = v;
  }
  Object.assign(env, {
    SCIMCTL_CONFIG_DIR: join(home, 'config'),
    SCIMCTL_CACHE_DIR: join(home, 'cache'),
    SCIMCTL_DATA_DIR: join(home, 'data'),
    [TOKEN_ENV]: options.token,
  });
  const args = [
    BIN,
    'serve',
    '--port',
    '0',
    ...(dataDir === null ? [] : ['--data', dataDir]),
    '--token-env',
    TOKEN_ENV,
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exitPromise = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      exit = { code, signal };
      resolve(exit);
    });
  });
  const cleanup = () => rmSync(home, { recursive: true, force: true });
  try {
    await waitFor(() => stdout.includes('\n') || exit !== undefined, options.startTimeoutMs ?? 20_000);
  } catch (err) {
    child.kill('SIGKILL');
    cleanup();
    throw new Error(`serve printed no URL in time (${String(err)})\nstdout: ${stdout}\nstderr: ${stderr}`, {
      cause: err,
    });
  }
  if (exit !== undefined && !stdout.includes('\n')) {
    cleanup();
    throw new Error(
      `serve exited (${exit.code ?? exit.signal}) before listening\nstdout: ${stdout}\nstderr: ${stderr}`,
    );
  }
  const url = stdout.split('\n')[0]!.trim();
  return {
    url,
    token: options.token,
    dataDir,
    stdout: () => stdout,
    stderr: () => stderr,
    exited: () => exit !== undefined,
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      if (exit) return exit;
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`serve did not exit within ${timeoutMs} ms of ${signal}\nstderr: ${stderr}`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([exitPromise, deadline]);
      } finally {
        clearTimeout(timer);
      }
    },
    cleanup,
    request: requester(url, options.token),
  };
}

export interface ScimResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON body, or undefined when there is none (204, 304) or it is not JSON. */
  body: Json;
  text: string;
}

export interface RequestOptions {
  /** A JSON body (serialised here). */
  body?: unknown;
  /** A raw body, sent as is. */
  raw?: string;
  headers?: Record<string, string>;
  /** The Authorization header; null sends none. Default `Bearer <token>`. */
  auth?: string | null;
  /** Content-Type for a body; default application/scim+json. */
  contentType?: string;
}

export type Requester = (method: string, path: string, options?: RequestOptions) => Promise<ScimResponse>;

/** Requests relative to the base URL (`/Users?…`), or absolute URLs (meta.location). */
export function requester(base: string, token: string): Requester {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = { accept: 'application/scim+json', ...options.headers };
    const auth = options.auth === undefined ? `Bearer ${token}` : options.auth;
    if (auth !== null) headers.authorization = auth;
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/scim+json';
    const url = /^https?:/.test(path) ? path : base + path;
    const res = await fetch(url, { method, headers, body });
    const text = await res.text();
    let parsed: Json;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  };
}

/** A query string from parameters, percent-encoded (spaces as %20, never `+`). */
export function qs(params: Record<string, string | number | undefined>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/** A temporary directory for a test's own files (a --data store kept across restarts, a source file). */
export function tempDir(prefix = 'scimctl-serve-e2e-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Ends what a test started, in whatever state it is: the servers killed, their homes and these folders removed. */
export async function teardown(
  servers: ReadonlyArray<ServeProcess | undefined>,
  dirs: ReadonlyArray<{ cleanup(): void }> = [],
): Promise<void> {
  for (const s of servers) await s?.stop('SIGKILL');
  for (const s of servers) s?.cleanup();
  for (const d of dirs) d.cleanup();
}

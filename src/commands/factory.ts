/**
 * The factory hands commands what they need, lazily: streams, environment,
 * profiles, the connection and the SCIM client. Commands never build these
 * themselves, so tests can hand in their own.
 */
import type { ScimClient } from '../api/client.ts';
import type { RetryInfo } from '../api/http.ts';
import { isLoopbackHost, resolveConnection, type Connection, type ConnectionFlags } from '../config/connection.ts';

// The HTTP client loads on first use, not at start-up (help and usage errors never need it).
const clientModules = () => Promise.all([import('../api/client.ts'), import('../config/cache.ts')]);
import type { Env } from '../config/env.ts';
import { DEMO_PROFILE, ProfileStore } from '../config/profiles.ts';
import type { IOStreams } from '../output/iostreams.ts';
import { colourLabel, stderrColour } from '../output/colour.ts';
import { statusLine } from '../output/progress.ts';
import { safeLines } from '../output/safe-text.ts';
import { onInterrupt } from '../util/interrupt.ts';

export const VERSION = '0.1.0';

export interface Factory {
  io: IOStreams;
  env: Env;
  profiles(): Promise<ProfileStore>;
  /** The connection chosen by --profile, the environment, or the current profile. */
  connection(): Promise<Connection>;
  client(): Promise<ScimClient>;
  /**
   * A client of another connection (a sync's source server), made as `client()` makes the command's; what it adapts to
   * is told on stderr after `label`.
   */
  clientFor(connection: Connection, label: string): Promise<ScimClient>;
  /** The connection, if one was resolved by now (for error messages). */
  resolvedConnection(): Connection | undefined;
  /** A log line on stderr (never results). */
  log(message: string): void;
  /** Takes a status line ("connecting… attempt 2/5") off the terminal, before results or an error are shown. */
  clearStatus(): void;
  /**
   * Sends the client's retries to `listener` instead of the status line (the explorer shows them itself, the
   * terminal being its own); the function returned puts the status line back.
   */
  routeRetries?(listener: (info: RetryInfo) => void): () => void;
}

export interface FactoryFlags extends ConnectionFlags {
  timeout?: number;
  retries?: number;
}

/** What the factory's parts talk to, when not the real thing (tests). */
export interface FactoryDeps {
  /** The SCIM client's fetch (default: the global one). */
  fetch?: typeof globalThis.fetch;
}

export function createFactory(io: IOStreams, env: Env, flags: FactoryFlags, deps: FactoryDeps = {}): Factory {
  let store: Promise<ProfileStore> | undefined;
  let connection: Promise<Connection> | undefined;
  let resolved: Connection | undefined;
  let client: Promise<ScimClient> | undefined;
  const status = statusLine(io);
  let retryListener: ((info: RetryInfo) => void) | undefined;
  const f: Factory = {
    io,
    env,
    profiles: () => (store ??= ProfileStore.open(env.SCIMCTL_CONFIG_DIR)),
    connection: () =>
      (connection ??= resolveConnection(flags, env, f.profiles).then((c) => {
        resolved = c;
        for (const notice of c.notices ?? []) f.log(notice);
        return c;
      })),
    resolvedConnection: () => resolved,
    client: () => (client ??= f.connection().then((c) => makeClient(c))),
    clientFor: (c, label) => makeClient(c, label),
    log: (message: string) => {
      status.clear();
      io.stderr.write(`scimctl: ${colourLabel(stderrColour(io), safeLines(message))}\n`);
    },
    clearStatus: () => status.clear(),
    routeRetries: (listener) => {
      retryListener = listener;
      return () => {
        if (retryListener === listener) retryListener = undefined;
      };
    },
  };
  /** A client of a connection (the command's: one per run, however many parts of a command ask for it at once). */
  async function makeClient(c: Connection, label?: string): Promise<ScimClient> {
    await checkDemoRunning(c, env);
    const [{ ScimClient }, { fileCapabilityCache }] = await clientModules();
    const scim = new ScimClient({
      baseUrl: c.url,
      auth: c.auth,
      headers: c.headers,
      timeoutMs: flags.timeout !== undefined ? flags.timeout * 1000 : c.timeoutMs,
      retries: flags.retries,
      userAgent: `scimctl/${VERSION}`,
      fetch: deps.fetch,
      capabilityCache: fileCapabilityCache(env, c.name, c.url),
      onAdapt: (message: string) => f.log(label !== undefined ? `${label}: ${message}` : message),
      onRetry: (info: RetryInfo) => retrying(info),
    });
    // Ctrl+C aborts the requests in flight and cuts retry pauses short, whatever phase the command is in.
    onInterrupt(() => scim.close());
    return scim;
  }
  /**
   * Retries as one status line: rewritten in place on a terminal; elsewhere a line for each
   * attempt (the first request to reach it tells it: requests in parallel fail and retry together).
   */
  let told = 0;
  function retrying(info: RetryInfo): void {
    if (retryListener) return retryListener(info);
    const next = info.attempt + 1;
    if (!io.isStderrTTY && next <= told) return;
    told = Math.max(told, next);
    const wait = (info.delayMs / 1000).toFixed(1);
    status.show(
      `scimctl: connecting… attempt ${next}/${info.attempts}: retrying ` +
        `${info.method} ${new URL(info.url).pathname} in ${wait} s ` +
        `(${safeLines(info.reason)})`,
      info.delayMs,
    );
  }
  return f;
}

/**
 * The `demo` profile points at the server of `scimctl demo`, which lives only as long as that command: when it
 * is not running, say so and how to start it (exit 6) rather than retrying a refused connection.
 */
async function checkDemoRunning(c: Connection, env: Env): Promise<void> {
  if (c.name !== DEMO_PROFILE || !isLoopbackHost(new URL(c.url).hostname)) return;
  const [{ demoStoreDir }, { lockHolder }, { NetworkError }] = await Promise.all([
    import('./demo.ts'),
    import('../server/store.ts'),
    import('../api/errors.ts'),
  ]);
  if (lockHolder(demoStoreDir(env)) === undefined)
    throw new NetworkError('the demo server is not running — start it with `scimctl demo --keep-running`');
}

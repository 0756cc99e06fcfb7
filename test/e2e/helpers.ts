/**
 * End-to-end harness: runs the built scimctl binary as a child process, the way
 * an admin or a script would, against real SCIM servers on 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'scimctl.js');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  cwd?: string;
  /** Deadline for the whole run; the child is killed after it. */
  timeoutMs?: number;
}

/** A private config and cache directory per test, so runs never share state. */
export function tempHome(): { dir: string; env: Record<string, string>; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'scimctl-e2e-'));
  return {
    dir,
    env: { SCIMCTL_CONFIG_DIR: join(dir, 'config'), SCIMCTL_CACHE_DIR: join(dir, 'cache') },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function runCli(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return runProcess(process.execPath, [BIN, ...args], options, false);
}

/** Environment pointing scimctl at a server without any profile. */
export function serverEnv(url: string, token: string, home: { env: Record<string, string> }): Record<string, string> {
  return { ...home.env, SCIMCTL_URL: url, SCIMCTL_TOKEN: token };
}

/** Quotes a word for sh -c. */
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs scimctl on a real pseudo-terminal (util-linux `script`), `cols` wide, so it
 * behaves as it does for an admin at a terminal. Output comes back with \r\n.
 */
export function runCliInTerminal(
  args: string[],
  cols: number,
  options: RunOptions & { /** stdout goes to this file (stderr stays the terminal). */ stdoutTo?: string } = {},
): Promise<RunResult> {
  const out = options.stdoutTo !== undefined ? ` > ${shq(options.stdoutTo)}` : '';
  const command =
    `stty cols ${cols} rows 40; exec ${shq(process.execPath)} ${shq(BIN)} ` + `${args.map(shq).join(' ')}${out}`;
  // CI=true would make a terminal program behave as if unattended.
  return runProcess('script', ['-qec', command, '/dev/null'], options, true);
}

function runProcess(file: string, args: string[], options: RunOptions, dropCi: boolean): Promise<RunResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    // A developer's own scimctl settings must not leak into the tests.
    if (v !== undefined && !k.startsWith('SCIMCTL_') && !(dropCi && k === 'CI')) env[k] = v;
  }
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, cwd: options.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not finish within ${options.timeoutMs ?? 60_000} ms\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Polls a condition until it holds, failing after a deadline (never a fixed sleep). */
export async function waitFor(condition: () => boolean, timeoutMs = 10_000, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

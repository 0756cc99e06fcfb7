/**
 * Environment: SCIMCTL_* variables, optionally from a `.env` file in the working
 * directory (real environment variables win over the file).
 *
 * A .env comes with a directory, not from the person running scimctl (a cloned repository can
 * hold one), so what it set is remembered: the connection announces a target it chose, refuses
 * to send credentials over plain http to another machine because of it, and it can never give
 * the allowance for insecure http.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

export type Env = Record<string, string | undefined>;

/** Entries a .env may not set: allowances are given by the person running scimctl. */
export const NEVER_FROM_ENV_FILE: ReadonlySet<string> = new Set(['SCIMCTL_ALLOW_INSECURE_HTTP']);

const fromFileKeys = new WeakMap<Env, { used: ReadonlySet<string>; ignored: readonly string[] }>();

/** The entries of an environment that came from ./.env, and those the file set but may not. */
export function envFileKeys(env: Env): { used: ReadonlySet<string>; ignored: readonly string[] } {
  return fromFileKeys.get(env) ?? { used: new Set(), ignored: [] };
}

/** The process environment merged over the SCIMCTL_* entries of ./.env, if there is one. */
export function loadEnv(cwd: string = process.cwd(), base: Env = process.env): Env {
  let fromFile: Record<string, string> = {};
  try {
    fromFile = parseEnv(readFileSync(join(cwd, '.env'), 'utf8')) as Record<string, string>;
  } catch {
    // No .env (or unreadable): the environment alone counts.
  }
  const merged: Env = { ...base };
  const used = new Set<string>();
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(fromFile)) {
    if (!key.startsWith('SCIMCTL_') || merged[key] !== undefined) continue;
    if (NEVER_FROM_ENV_FILE.has(key)) {
      ignored.push(key);
      continue;
    }
    merged[key] = value;
    used.add(key);
  }
  fromFileKeys.set(merged, { used, ignored });
  return merged;
}

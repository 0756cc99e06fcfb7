/**
 * Environment: SCIMCTL_* variables, optionally from a `.env` file in the working
 * directory (real environment variables win over the file).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

export type Env = Record<string, string | undefined>;

/** The process environment merged over the SCIMCTL_* entries of ./.env, if there is one. */
export function loadEnv(cwd: string = process.cwd(), base: Env = process.env): Env {
  let fromFile: Record<string, string> = {};
  try {
    fromFile = parseEnv(readFileSync(join(cwd, '.env'), 'utf8')) as Record<string, string>;
  } catch {
    // No .env (or unreadable): the environment alone counts.
  }
  const merged: Env = { ...base };
  for (const [key, value] of Object.entries(fromFile)) {
    if (key.startsWith('SCIMCTL_') && merged[key] === undefined) merged[key] = value;
  }
  return merged;
}

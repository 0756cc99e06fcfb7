/**
 * Discovery results kept between runs, one file per profile and server URL, with what was
 * learned of the server by using it (kept when discovery is refreshed; `profile test` redoes both).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { CapabilityCache } from '../api/client.ts';
import type { Capabilities } from '../api/discovery.ts';
import { emptyLearned } from '../api/learned.ts';
import { profileKey } from '../util/profile-key.ts';
import type { Env } from './env.ts';

const TTL_MS = 60 * 60 * 1000;

export function cacheDir(env: Env): string {
  return env.SCIMCTL_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'scimctl');
}

export function fileCapabilityCache(
  env: Env,
  profile: string,
  url: string,
  now: () => number = Date.now,
): CapabilityCache {
  const dir = cacheDir(env);
  const file = join(dir, `discovery-${profileKey(profile, url)}.json`);
  const read = (): Capabilities | undefined => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Capabilities;
    } catch {
      return undefined;
    }
  };
  return {
    load() {
      const caps = read();
      // Stale, or written by an older scimctl (schemas not yet completed): discover again.
      if (!caps || !(now() - Date.parse(caps.discoveredAt) < TTL_MS) || !Array.isArray(caps.undeclared))
        return undefined;
      caps.learned = { ...emptyLearned(), ...caps.learned };
      return caps;
    },
    // What was learned from the server's answers outlives the hour discovery is trusted for.
    loadLearned() {
      const learned = read()?.learned;
      return learned ? { ...emptyLearned(), ...learned } : undefined;
    },
    save(caps) {
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify(caps), { mode: 0o600 });
        renameSync(tmp, file);
      } catch {
        // A cache that cannot be written only costs a discovery next time.
      }
    },
  };
}

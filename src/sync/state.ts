/**
 * What scimctl remembers per profile between runs: the users and groups it owns
 * (created, or listed by the source), and the size of the last source. Kept in
 * the user data directory ($SCIMCTL_DATA_DIR, else $XDG_DATA_HOME/scimctl).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { profileKey } from '../util/profile-key.ts';

export interface SyncState {
  profile: string;
  url: string;
  owned: string[];
  ownedGroups: string[];
  lastRecordCount?: number;
  lastRunAt?: string;
  /** Members scimctl added, per group id: kept only for targets that never return members (adapt.ts). */
  members?: Record<string, string[]>;
}

export function dataDir(env: Record<string, string | undefined>): string {
  return env.SCIMCTL_DATA_DIR || join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'scimctl');
}

function stateFile(dir: string, profile: string, url: string): string {
  return join(dir, 'state', `${profileKey(profile, url)}.json`);
}

export function loadState(dir: string, profile: string, url: string): SyncState {
  try {
    const s = JSON.parse(readFileSync(stateFile(dir, profile, url), 'utf8')) as SyncState;
    return { ...s, owned: s.owned ?? [], ownedGroups: s.ownedGroups ?? [] };
  } catch {
    return { profile, url, owned: [], ownedGroups: [] };
  }
}

export function saveState(dir: string, state: SyncState): void {
  const file = stateFile(dir, state.profile, state.url);
  mkdirSync(join(dir, 'state'), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

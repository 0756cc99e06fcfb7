/**
 * The sync defaults: the one place. The sync commands' flags, the explorer's "sync now", the
 * demo and a sync session given less than all of its settings read them here.
 */
import type { MatchKey, MissingPolicy, SyncMode } from './model.ts';

export const MATCH_KEYS: readonly MatchKey[] = ['externalId', 'userName', 'email'];

export const SYNC_DEFAULTS = {
  mode: 'full' as SyncMode,
  missing: 'deactivate' as MissingPolicy,
  deleteGroups: false,
  manageAll: false,
  /** Ranked, as the flag takes them. */
  matchKeys: MATCH_KEYS.join(','),
  strictSchema: false,
  allowUnusualNames: false,
  allowEmpty: false,
  allowEmptyGroups: false,
  acceptSourceChange: false,
  /** Requests in flight at once while applying. */
  concurrency: 4,
  /** SCIM /Bulk for creates when the server offers it. */
  bulk: true,
  logFormat: 'text',
  /** Runs kept in the history per profile; older ones are pruned when a run ends. */
  keepRuns: 100,
  /** Local avatar files: 'url' takes only URLs (a path is a problem), 'inline' reads them into data: URIs. */
  avatars: 'url',
  /** The largest avatar file read inline. */
  avatarMax: '256KB',
} as const;

/** The match keys of a comma-separated list ("externalId,userName"); throws on an unknown key or none. */
export function parseMatchKeys(text: string): MatchKey[] {
  const keys = text
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const bad = keys.filter((k) => !(MATCH_KEYS as readonly string[]).includes(k));
  if (bad.length > 0 || keys.length === 0)
    throw new Error(`--match-keys takes externalId, userName and email, not "${bad.join(', ')}"`);
  return keys as MatchKey[];
}

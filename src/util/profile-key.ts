import { createHash } from 'node:crypto';

/**
 * A short key, safe in a file name, for one profile at one server URL: what scimctl keeps per
 * target between runs (discovery cache, sync state) is filed under it.
 */
export function profileKey(profile: string, url: string): string {
  return createHash('sha256').update(`${profile}\n${url}`).digest('hex').slice(0, 16);
}

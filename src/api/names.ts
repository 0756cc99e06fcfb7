/**
 * Names for references: the groups of a user and the members of a group carry ids, and a
 * `display` when the server fills it in. For a person reading one resource, the ones without
 * a display are looked up (userName for users, displayName for groups), a few at a time.
 */
import { runAll } from './executor.ts';
import type { ScimClient } from './client.ts';
import type { MultiValue } from './types.ts';

/** More references than this without a display are left unnamed: one resource is shown, not a listing. */
export const MAX_NAME_LOOKUPS = 200;

/**
 * The name of each reference by its id (value): its display, else the referenced resource's
 * userName or displayName. `kind`: what the references point at (`member`: a user, or a group
 * when its type says Group). A reference that cannot be read stays unnamed.
 */
export async function referenceNames(
  client: Pick<ScimClient, 'users' | 'groups'>,
  refs: readonly MultiValue[],
  kind: 'group' | 'member',
): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const missing: MultiValue[] = [];
  for (const r of refs) {
    if (typeof r.value !== 'string' || r.value === '') continue;
    if (typeof r.display === 'string' && r.display.trim() !== '') names.set(r.value, r.display);
    else if (missing.length < MAX_NAME_LOOKUPS) missing.push(r);
  }
  const outcomes = await runAll(
    missing,
    async (r) => {
      const isGroup = kind === 'group' || String(r.type ?? '').toLowerCase() === 'group';
      if (isGroup) return (await client.groups.get(r.value!, { attributes: ['displayName'] })).displayName;
      return (await client.users.get(r.value!, { attributes: ['userName'] })).userName;
    },
    { concurrency: 8 },
  );
  outcomes.forEach((o, i) => {
    if (o.ok && typeof o.value === 'string' && o.value !== '') names.set(missing[i]!.value!, o.value);
  });
  return names;
}

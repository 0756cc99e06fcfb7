/**
 * Finding one user or group from what an admin types: an id, a userName, an
 * e-mail, a group's displayName. Ambiguity is an error that lists candidates.
 */
import type { ResourceApi } from './client.ts';
import { AmbiguousError, NotFoundError, ResponseError, isFilterRejection } from './errors.ts';
import { eq, sw, type Filter } from './filter.ts';
import { closest } from '../util/closest.ts';
import { primaryEmail, type ScimGroup, type ScimResource, type ScimUser } from './types.ts';

async function byId<T extends ScimResource>(api: ResourceApi<T>, ref: string): Promise<T | undefined> {
  // Ids never contain whitespace; names like "Sales Team" go straight to the filter.
  if (/\s/.test(ref) || ref.includes('/')) return undefined;
  try {
    return await api.get(ref);
  } catch (e) {
    // Servers answer an unknown id with 404, or with 400 when it is not of their id format.
    if (e instanceof ResponseError && (e.status === 404 || e.status === 400)) return undefined;
    throw e;
  }
}

async function byFilter<T extends ScimResource>(api: ResourceApi<T>, filter: Filter, optional: boolean): Promise<T[]> {
  try {
    // An empty answer is confirmed by a listing unless this filter is known to work: servers
    // that cannot filter answer some filters with an empty list rather than an error.
    return await api.toArray({ filter, limit: 20, verifyEmpty: true });
  } catch (e) {
    // A server that cannot filter on this attribute simply has no match by it.
    if (optional && isFilterRejection(e)) return [];
    throw e;
  }
}

function pick<T extends ScimResource>(kind: string, ref: string, found: T[], label: (r: T) => string): T | undefined {
  if (found.length === 1) return found[0];
  if (found.length > 1)
    throw new AmbiguousError(
      kind,
      ref,
      found.map((r) => ({ id: r.id, label: label(r) })),
    );
  return undefined;
}

/**
 * A name close to a mistyped one, for "did you mean": among those starting as it does (its first
 * three characters), the nearest by the whole name or by a userName's part before "@". Best effort:
 * undefined when none is near, or when the server cannot answer the filter.
 */
async function nearName<T extends ScimResource>(
  api: ResourceApi<T>,
  attr: string,
  ref: string,
  name: (r: T) => string | undefined,
): Promise<string | undefined> {
  if (ref.length < 3 || /\s{2,}/.test(ref)) return undefined;
  let found: T[];
  try {
    found = await api.toArray({ filter: sw(attr, ref.slice(0, 3)), limit: 50 });
  } catch {
    return undefined;
  }
  const names = found.map(name).filter((n): n is string => !!n);
  const byLocal = new Map(names.map((n) => [n.split('@')[0]!, n]));
  const near = closest(ref, names) ?? closest(ref.split('@')[0]!, [...byLocal.keys()]);
  return near === undefined ? undefined : (byLocal.get(near) ?? near);
}

const userLabel = (u: ScimUser) => [u.userName, u.displayName, primaryEmail(u)].filter(Boolean).join('  ');

/** A user by id, userName, or e-mail address. */
export async function resolveUser(api: ResourceApi<ScimUser>, ref: string): Promise<ScimUser> {
  const direct = await byId(api, ref);
  if (direct) return direct;
  const byName = pick('user', ref, await byFilter(api, eq('userName', ref), false), userLabel);
  if (byName) return byName;
  if (ref.includes('@')) {
    const byEmail = pick('user', ref, await byFilter(api, eq('emails.value', ref), true), userLabel);
    if (byEmail) return byEmail;
  }
  throw new NotFoundError('user', ref, await nearName(api, 'userName', ref, (u) => u.userName));
}

/** A group by id or displayName. */
export async function resolveGroup(api: ResourceApi<ScimGroup>, ref: string): Promise<ScimGroup> {
  const direct = await byId(api, ref);
  if (direct) return direct;
  const byName = pick('group', ref, await byFilter(api, eq('displayName', ref), false), (g) => g.displayName);
  if (byName) return byName;
  throw new NotFoundError('group', ref, await nearName(api, 'displayName', ref, (g) => g.displayName));
}

/** Resolves many references at once (a few at a time); unknown ones are listed, ambiguous ones are errors. */
export async function resolveMany<T extends ScimResource>(
  refs: readonly string[],
  resolveOne: (ref: string) => Promise<T>,
  concurrency = 4,
): Promise<{ found: Array<{ ref: string; resource: T }>; missing: string[] }> {
  const found: Array<{ ref: string; resource: T }> = [];
  const missing: string[] = [];
  const queue = [...new Set(refs)];
  let next = 0;
  const lane = async () => {
    while (next < queue.length) {
      const ref = queue[next++]!;
      try {
        found.push({ ref, resource: await resolveOne(ref) });
      } catch (e) {
        if (e instanceof NotFoundError) missing.push(ref);
        else throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, lane));
  // The same resource named twice (by id and by userName) counts once.
  const seen = new Set<string>();
  const unique = found
    .sort((a, b) => queue.indexOf(a.ref) - queue.indexOf(b.ref))
    .filter((f) => (seen.has(f.resource.id) ? false : (seen.add(f.resource.id), true)));
  return { found: unique, missing };
}

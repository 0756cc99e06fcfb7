/**
 * Finding users by part of a name: server-side `co` queries where the server
 * takes them (one attribute per request: some servers answer a combined `or`
 * with nothing), a client-side scan of every user where it does not.
 * Shared by `users search --name` and the TUI's search.
 */
import type { ResourceApi } from './client.ts';
import { isFilterRejection } from './errors.ts';
import { co } from './filter.ts';
import type { ScimUser } from './types.ts';

/** Attributes a name search looks in, each asked separately: some servers answer a combined `or` with nothing. */
const NAME_ATTRIBUTES = ['userName', 'displayName', 'name.familyName', 'name.givenName'] as const;

function nameMatches(user: ScimUser, needle: string): boolean {
  const n = needle.toLowerCase();
  const texts = [user.userName, user.displayName, user.name?.givenName, user.name?.familyName, user.name?.formatted];
  return texts.some((t) => typeof t === 'string' && t.toLowerCase().includes(n));
}

/**
 * Users whose names contain `needle`: server-side `co` queries where the server
 * takes them, a client-side scan of every user where it does not.
 */
export async function* searchUsersByName(
  users: ResourceApi<ScimUser>,
  needle: string,
  log: (m: string) => void,
  progress?: { update(done: number, total?: number): void },
  /**
   * An empty answer from a server not known to answer `co` is confirmed by a scan (false: a caller that scans anyway,
   * the TUI).
   */
  confirmEmpty = true,
): AsyncGenerator<ScimUser> {
  const seen = new Set<string>();
  const found: ScimUser[] = [];
  try {
    // Each attribute's empty answer is not confirmed on its own (four listings): all of them empty is, below.
    for (const attr of NAME_ATTRIBUTES) {
      for await (const user of users.list({ filter: co(attr, needle), verifyEmpty: false })) {
        if (!seen.has(user.id)) {
          seen.add(user.id);
          found.push(user);
        }
      }
    }
  } catch (e) {
    if (!isFilterRejection(e)) throw e;
    log('the server does not support "co" filters; searching all users on this side instead');
    for await (const user of users.list({ onPage: ({ received, total }) => progress?.update(received, total) })) {
      if (nameMatches(user, needle)) yield user;
    }
    return;
  }
  if (confirmEmpty && found.length === 0 && users.client.learnedNow()?.filters[users.endpoint]?.co !== 'works') {
    // Nothing anywhere, from a server not known to answer `co`: look on this side before saying so.
    let any = false;
    for await (const user of users.list({ onPage: ({ received, total }) => progress?.update(received, total) })) {
      if (!nameMatches(user, needle)) continue;
      if (!any)
        await users.client.learnFilter(
          users.endpoint,
          ['co'],
          'wrong',
          `the server answered "co" filters with nothing, although a listing has "${needle}"`,
        );
      any = true;
      yield user;
    }
    return;
  }
  yield* found;
}

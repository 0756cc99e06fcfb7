/**
 * Reading the target whole: every user and every group with its members. Any
 * failed page aborts (the listing throws): a partial read never becomes "these
 * users are gone".
 *
 * The snapshot keeps of each resource what a plan can use (see compactUser and
 * compactGroup, and settle.ts), taken as each page arrives: a directory of 100,000
 * users is never held whole in memory.
 */
import type { ScimClient } from '../api/client.ts';
import { runAll } from '../api/executor.ts';
import type { ScimGroup, ScimUser } from '../api/types.ts';
import { resourceVersion, versionKey } from './planner.ts';
import { identityOf, type Settler } from './settle.ts';
import { ObservedPaths } from './schema-fit.ts';
import type { TargetSnapshot } from './model.ts';

/**
 * A target user as a plan keeps it: every attribute the source could manage, without
 * `schemas`, and with `meta` reduced to `version`: the user's version as plans record it
 * (resourceVersion of the user as read: its ETag, else lastModified, else a content hash).
 */
export function compactUser(user: ScimUser): ScimUser {
  const out: ScimUser = { id: user.id, userName: user.userName };
  for (const key of Object.keys(user)) {
    if (key === 'schemas' || key === 'meta' || key === 'id' || key === 'userName') continue;
    out[key] = user[key];
  }
  out.meta = { version: resourceVersion(user) };
  return out;
}

/**
 * A target group as a plan keeps it: id, displayName, externalId, the members' values
 * (ids), and `meta.version` as for users (taken from the group as read, members included).
 */
export function compactGroup(group: ScimGroup): ScimGroup {
  const out: ScimGroup = { id: group.id, displayName: group.displayName };
  if (group.externalId !== undefined) out.externalId = group.externalId;
  if (Array.isArray(group.members)) out.members = group.members.map((m) => ({ value: m?.value }));
  out.meta = { version: resourceVersion(group) };
  return out;
}

/** Groups asked for per page while reading the target. */
export const GROUP_PAGE_SIZE = 10;

/**
 * Users asked for per page while reading the target (the server's most, when it advertises fewer): a whole listing
 * takes a tenth of the requests of the usual default of 100, and a page of users is small.
 */
export const USER_PAGE_SIZE = 1000;

/** Users read ahead of the source, kept whole until it is in: past this many, the listing waits for it. */
export const MAX_UNSETTLED = 10_000;

/**
 * Reads the target. With a settler (which comes once the source has been read), every user
 * is settled as it arrives (the users read before the settler came, as soon as it does):
 * a settled user is kept as its identity only, and named in `settled`.
 */
export async function readTarget(
  client: ScimClient,
  onProgress?: (what: 'users' | 'groups', received: number, total?: number) => void,
  settler?: Promise<Settler>,
): Promise<TargetSnapshot> {
  const users: ScimUser[] = [];
  const settled = new Set<string>();
  // The attribute paths the target's users carry (schema-fit.ts): what the server stores, whatever its /Schemas says.
  const observed = new ObservedPaths();
  let ready: Settler | undefined;
  let done = 0;
  // A settler that fails (the source could not be read) fails the run elsewhere; here it is awaited below.
  settler?.then(
    (s) => (ready = s),
    () => undefined,
  );
  const settle = () => {
    if (!ready) return;
    for (; done < users.length; done++) {
      const user = users[done]!;
      if (!ready.settle(user)) continue;
      users[done] = identityOf(user);
      settled.add(user.id);
    }
  };
  // Users' `groups` are left out: memberships come from the groups, and on big directories they are most of a user.
  for await (const user of client.users.list({
    excludedAttributes: ['groups'],
    pageSize: USER_PAGE_SIZE,
    onPage: ({ received, total }) => onProgress?.('users', received, total),
  })) {
    observed.observe(user);
    users.push(compactUser(user));
    // Far ahead of a source still being read: wait for it rather than hold more users whole (the peak stays put
    // whatever the page size).
    if (!ready && settler && users.length - done >= MAX_UNSETTLED) ready = await settler;
    settle();
  }
  const groups = await readGroups(client, onProgress);
  if (!settler) return { users, groups, observed: observed.paths() };
  ready = await settler;
  settle();
  return { users, groups, settled, observed: observed.paths() };
}

/**
 * Every group with its members, each as `shape` makes it (default: compactGroup). Groups come a few at a time; a group
 * listed without members (some servers leave them out of listings) is read again by itself. Any failure throws.
 */
export async function readGroups(
  client: ScimClient,
  onProgress?: (what: 'groups', received: number, total?: number) => void,
  shape: (group: ScimGroup) => ScimGroup = compactGroup,
): Promise<ScimGroup[]> {
  // Each group is shaped as it arrives, but for one listed without members: that one is kept whole until they come.
  // Groups come a few at a time: a page of big groups is tens of megabytes of text, parsed whole.
  const groups: ScimGroup[] = [];
  const missing: number[] = [];
  for await (const group of client.groups.list({
    pageSize: GROUP_PAGE_SIZE,
    onPage: ({ received, total }) => onProgress?.('groups', received, total),
  })) {
    if (!Array.isArray(group.members)) missing.push(groups.length);
    groups.push(Array.isArray(group.members) ? shape(group) : group);
  }
  // Some servers leave members out of listings: read those groups one by one.
  const outcomes = await runAll(
    missing,
    async (i) => client.groups.get(groups[i]!.id, { attributes: ['displayName', 'externalId', 'members', 'meta'] }),
    { concurrency: 4 },
  );
  outcomes.forEach((o, k) => {
    if (!o.ok) throw o.error;
    groups[missing[k]!] = shape({ ...groups[missing[k]!]!, members: o.value.members ?? [] });
  });
  return groups;
}

export interface StaleObject {
  key: string;
  planned: string;
  /** The version now, or undefined when the object is gone. */
  now?: string;
}

/**
 * The objects a plan touches that changed since it was made. Few objects are read
 * one by one; many, by listing (one request per page instead of one per object).
 */
export async function findStale(client: ScimClient, versions: Record<string, string>): Promise<StaleObject[]> {
  const keys = Object.keys(versions);
  const current = new Map<string, string>();
  if (keys.length > 100) {
    const target = await readTarget(client);
    for (const u of target.users) current.set(versionKey('User', u.id), resourceVersion(u));
    for (const g of target.groups) current.set(versionKey('Group', g.id), resourceVersion(g));
  } else {
    const outcomes = await runAll(
      keys,
      async (key) => {
        const [kind, id] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
        const api = kind === 'Group' ? client.groups : client.users;
        try {
          return [key, resourceVersion(await api.get(id))] as const;
        } catch (e) {
          if ((e as { status?: number }).status === 404) return [key, undefined] as const;
          throw e;
        }
      },
      { concurrency: 4 },
    );
    for (const o of outcomes) {
      if (!o.ok) throw o.error;
      if (o.value[1] !== undefined) current.set(o.value[0], o.value[1]);
    }
  }
  return keys
    .filter((k) => current.get(k) !== versions[k])
    .map((k) => ({ key: k, planned: versions[k]!, now: current.get(k) }));
}

/**
 * Who is in which group, from the group entries (member, uniqueMember, memberUid) or the users'
 * memberOf, direct or flattened through nested groups.
 *
 * - `member` (groupOfNames, AD group) and `uniqueMember` (groupOfUniqueNames; an optional
 *   `#'…'B` unique id after the DN is dropped) hold DNs; `memberUid` (posixGroup) holds uids.
 * - `memberOf`: each user names its (direct) groups; a group's own memberOf names its parents.
 * - nested 'flatten': a member that is a group gives its members, at any depth; a group
 *   outside the group filter is looked up (`lookup`) to see whether it is one. Each walk keeps
 *   the groups it has been through, so a cycle (A in B in A) ends. 'direct': only the entries
 *   a group names itself (nested groups are not members: SCIM targets rarely nest groups).
 *
 * Pure but for `lookup`, which the reader gives.
 */

export interface GroupNode {
  dn: string;
  /** DNs the group names as members (member, uniqueMember). */
  memberDns: string[];
  /** uids the group names (memberUid). */
  memberUids: string[];
  /** Groups this group is a member of (memberOf). */
  memberOf: string[];
}

export type Nested = 'flatten' | 'direct';

/** A DN in one spelling for comparing: lower case, no spaces around `,`, `=` and `+`. */
export function dnKey(dn: string): string {
  return dn
    .trim()
    .replace(/\s*([,=+])\s*/g, '$1')
    .toLowerCase();
}

/** A uniqueMember value's DN: without the optional `#'0101'B` unique identifier. */
export function uniqueMemberDn(value: string): string {
  return value.replace(/#'[01]*'B$/, '');
}

export interface MembershipInput<U> {
  /** The groups to sync. */
  groups: GroupNode[];
  /** The users read, by dnKey. */
  usersByDn: ReadonlyMap<string, U>;
  /** The users read, by lower-case uid (for memberUid). */
  usersByUid: ReadonlyMap<string, U>;
  nested: Nested;
  /** A group that is not among `groups`, by DN (undefined: not a group, or not there). Called once per DN. */
  lookup?: (dn: string) => Promise<GroupNode | undefined>;
}

/** Members of each group (by the group's dnKey), from what the groups name. */
export async function membersFromGroups<U>(input: MembershipInput<U>): Promise<Map<string, Set<U>>> {
  const known = new Map(input.groups.map((g) => [dnKey(g.dn), g]));
  const looked = new Map<string, Promise<GroupNode | undefined>>();
  const groupAt = (dn: string): Promise<GroupNode | undefined> => {
    const key = dnKey(dn);
    const g = known.get(key);
    if (g) return Promise.resolve(g);
    if (!input.lookup) return Promise.resolve(undefined);
    let found = looked.get(key);
    if (!found) looked.set(key, (found = input.lookup(dn)));
    return found;
  };
  const result = new Map<string, Set<U>>();
  for (const group of input.groups) {
    const members = new Set<U>();
    const visited = new Set<string>([dnKey(group.dn)]);
    const walk = async (g: GroupNode): Promise<void> => {
      for (const uid of g.memberUids) {
        const u = input.usersByUid.get(uid.trim().toLowerCase());
        if (u !== undefined) members.add(u);
      }
      for (const dn of g.memberDns) {
        const key = dnKey(dn);
        const u = input.usersByDn.get(key);
        if (u !== undefined) {
          members.add(u);
          continue;
        }
        if (input.nested === 'direct' || visited.has(key)) continue;
        const inner = await groupAt(dn);
        if (!inner) continue;
        visited.add(key);
        await walk(inner);
      }
    };
    await walk(group);
    result.set(dnKey(group.dn), members);
  }
  return result;
}

/**
 * Members of each group (by dnKey) from the users' memberOf: a user is in the groups it names,
 * and with 'flatten' in their parents (the groups' memberOf), at any depth.
 */
export async function membersFromMemberOf<U>(
  groups: GroupNode[],
  users: Iterable<{ user: U; memberOf: readonly string[] }>,
  nested: Nested,
  lookup?: (dn: string) => Promise<GroupNode | undefined>,
): Promise<Map<string, Set<U>>> {
  const known = new Map(groups.map((g) => [dnKey(g.dn), g]));
  const result = new Map<string, Set<U>>(groups.map((g) => [dnKey(g.dn), new Set<U>()]));
  // The groups a group is in at any depth (itself included), once per group.
  const parents = new Map<string, Promise<Set<string>>>();
  const ancestors = (dn: string): Promise<Set<string>> => {
    const key = dnKey(dn);
    let found = parents.get(key);
    if (found) return found;
    found = (async () => {
      const seen = new Set<string>([key]);
      const queue = [dn];
      while (queue.length > 0) {
        const at = queue.shift()!;
        const node = known.get(dnKey(at)) ?? (lookup ? await lookup(at) : undefined);
        for (const parent of node?.memberOf ?? []) {
          const k = dnKey(parent);
          if (seen.has(k)) continue;
          seen.add(k);
          queue.push(parent);
        }
      }
      return seen;
    })();
    parents.set(key, found);
    return found;
  };
  for (const { user, memberOf } of users) {
    for (const dn of memberOf) {
      const keys = nested === 'flatten' ? await ancestors(dn) : new Set([dnKey(dn)]);
      for (const k of keys) result.get(k)?.add(user);
    }
  }
  return result;
}

/**
 * Another SCIM server as a sync source (a pull): readScimSource reads its users (narrowed by a
 * SCIM filter, which the client applies on this side when the server cannot) and all its groups
 * with the same client as a target (paging, retries, capability adaptations), and gives the
 * SourceSnapshot the file sources give.
 *
 * Records (scimRecords, pure):
 * - a user's attributes minus what the source server owns (id, meta, schemas, groups) and what it
 *   never returns (password and other write-only attributes) are what the source wants;
 * - identity: the source's externalId when it has one, else its id, becomes the externalId, so a
 *   rename on the source is an update on the target; `active` is kept as it is (inactive stays
 *   inactive);
 * - the enterprise manager becomes {value: the manager's identity} when the manager is among the
 *   users read, and is left out otherwise (a source id means nothing on the target);
 * - a group is named by its displayName, its identity (externalId, else id) is its externalId;
 *   its members are the identities of the users among its members: 'flatten' (the default) takes
 *   the users of member groups at any depth, 'direct' only the group's own users. Members that are
 *   not users read (left out by the filter, or refused) are not members here.
 * A record the checks find wrong (no userName, a value the schema does not take, an identity or
 * userName twice, a group without a name or whose name another group has) is left out and named
 * in `problems` by its URL; the rest proceeds.
 *
 * Reading: any failed page (after the client's retries) throws: never a partial snapshot. With
 * `keep`, what was read is kept as two SCIM ListResponse files (users, groups), the bytes the
 * fingerprint is taken over; a read that fails keeps nothing.
 */
import { createHash, type Hash } from 'node:crypto';
import type { ScimClient } from '../api/client.ts';
import type { SchemaRegistry } from '../api/schema.ts';
import { SCHEMA, type ScimGroup, type ScimUser } from '../api/types.ts';
import type { DesiredGroup, DesiredUser, RecordProblem, SourceSnapshot } from '../sync/model.ts';
import { readGroups } from '../sync/target.ts';
import { isPlainObject } from '../util/objects.ts';
import { attrValue } from './attributes.ts';
import type { Nested } from './ldap/groups.ts';
import { validateUsers, type SourceRecord } from './resource-file.ts';
import type { KeptFile, SourceKeeper } from './source.ts';
import { userParts } from './stored-records.ts';

export interface ScimSourceSettings {
  /** The source server's base URL (for origins and messages). */
  url: string;
  /** A SCIM filter for the users. */
  filter?: string;
  /** Default 'flatten'. */
  nested?: Nested;
  /** Take userNames and e-mail addresses with control, invisible or bidi characters (default: refused). */
  allowUnusualNames?: boolean;
}

export interface ScimSourceReadOptions {
  registry: SchemaRegistry;
  /** Keeps what was read (the run history's copy). */
  keep?: SourceKeeper;
  onProgress?: (what: 'users' | 'groups', received: number) => void;
}

/** A snapshot with the records that were left out. */
export interface ScimSnapshot extends SourceSnapshot {
  problems: RecordProblem[];
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** A resource's identity: its externalId when it has one, else its id. */
export const identityOf = (resource: Record<string, unknown>): string | undefined =>
  text(attrValue(resource, 'externalId')) ?? text(resource.id);

/** Reads the source server: users (filtered), then groups. Throws when any read fails. */
export async function readScimSource(
  client: ScimClient,
  settings: ScimSourceSettings,
  options: ScimSourceReadOptions,
): Promise<ScimSnapshot> {
  const hash = createHash('sha256');
  const nested = settings.nested ?? 'flatten';
  hash.update(`scim\n${JSON.stringify({ url: settings.url, filter: settings.filter ?? null, nested })}\n`);
  const usersFile = `${settings.url}/Users`;
  const groupsFile = `${settings.url}/Groups`;
  const usersOut = listWriter(hash, 'users', options.keep?.file('users', usersFile));
  let groupsOut: ReturnType<typeof listWriter> | undefined;
  try {
    const users: ScimUser[] = [];
    // Users' `groups` are left out: memberships come from the groups.
    for await (const user of client.users.list({
      filter: settings.filter,
      excludedAttributes: ['groups'],
      onPage: ({ received }) => options.onProgress?.('users', received),
    })) {
      usersOut.add(user);
      users.push(user);
    }
    usersOut.end();
    groupsOut = listWriter(hash, 'groups', options.keep?.file('groups', groupsFile));
    const out = groupsOut;
    const groups = await readGroups(
      client,
      (_, received) => options.onProgress?.('groups', received),
      (g) => g,
    );
    for (const g of groups) out.add(g);
    out.end();
    // Kept only once all of the source was read: a run that fails here keeps nothing of it.
    usersOut.commit();
    out.commit();
    const records = scimRecords(users, groups, options.registry, {
      url: settings.url,
      nested,
      allowUnusualNames: settings.allowUnusualNames,
    });
    return { ...records, fingerprint: hash.digest('hex'), files: [usersFile, groupsFile] };
  } catch (e) {
    usersOut.discard();
    groupsOut?.discard();
    throw e;
  }
}

/** Resources written as a ListResponse as they come, into the digest and (when kept) a file. */
function listWriter(hash: Hash, role: string, kept: KeptFile | undefined) {
  let count = 0;
  let done = false;
  const write = (s: string) => {
    const bytes = Buffer.from(s);
    hash.update(bytes);
    kept?.write(bytes);
  };
  hash.update(`${role}\n`);
  write(`{"schemas":["${SCHEMA.LIST_RESPONSE}"],"Resources":[`);
  return {
    add(resource: unknown): void {
      write(`${count++ > 0 ? ',' : ''}\n${JSON.stringify(resource)}`);
    },
    /** The list is complete (it is kept once `commit` says the whole source was read). */
    end(): void {
      write(`\n],"totalResults":${count}}\n`);
    },
    commit(): void {
      done = true;
      kept?.end();
    },
    discard(): void {
      if (!done) kept?.discard();
    },
  };
}

interface RecordSettings {
  url: string;
  nested: Nested;
  /** Take unusual names without refusal (default: refused, as for every source). */
  allowUnusualNames?: boolean;
}

const problemAt = (file: string, message: string, field?: string): RecordProblem => ({
  origin: { file, line: 0 },
  message: field !== undefined ? `attribute "${field}": ${message}` : message,
});

/** The desired users and groups of a SCIM server's resources (see the module's comment). Pure. */
export function scimRecords(
  sourceUsers: readonly ScimUser[],
  sourceGroups: readonly ScimGroup[],
  registry: SchemaRegistry,
  settings: RecordSettings,
): { users: DesiredUser[]; groups: DesiredGroup[]; problems: RecordProblem[] } {
  const problems: RecordProblem[] = [];
  const userUrl = (id: string) => `${settings.url}/Users/${id}`;
  const groupUrl = (id: string) => `${settings.url}/Groups/${id}`;

  // Users: attributes and identity first (a manager names another user by identity).
  const identities = new Map<string, string>();
  const candidates: Array<{ id: string; record: SourceRecord }> = [];
  for (const u of sourceUsers) {
    const id = text(u.id);
    if (id === undefined) {
      problems.push(
        problemAt(`${settings.url}/Users`, `a user without an id (userName ${JSON.stringify(u.userName)})`),
      );
      continue;
    }
    // What the server never returns (password: onlyOnCreate here) is not the source's to give.
    const { attributes } = userParts(u, registry);
    const identity = identityOf(u)!;
    for (const key of Object.keys(attributes)) if (key.toLowerCase() === 'externalid') delete attributes[key];
    attributes.externalId = identity;
    identities.set(id, identity);
    candidates.push({ id, record: { resource: attributes, file: userUrl(id), line: 0 } });
  }
  for (const { record } of candidates) managerByIdentity(record.resource, identities);
  // A userName or identity two users have: neither can be the right one, both are left out.
  const twins = new Set<string>();
  for (const name of ['userName', 'externalId'] as const) {
    const holders = new Map<string, string[]>();
    for (const { record } of candidates) {
      const v = text(attrValue(record.resource, name));
      if (v === undefined) continue;
      const key = name === 'userName' ? v.toLowerCase() : v;
      holders.set(key, [...(holders.get(key) ?? []), record.file]);
    }
    for (const files of holders.values()) {
      if (files.length < 2) continue;
      for (const file of files) {
        twins.add(file);
        const value = text(attrValue(candidates.find((c) => c.record.file === file)!.record.resource, name));
        const others = files.filter((o) => o !== file).join('; ');
        problems.push(problemAt(file, `${name} ${JSON.stringify(value)} is also on ${others}`, name));
      }
    }
  }
  // The checks every source gets; a record they refuse is left out.
  const single = twins.size > 0 ? candidates.filter((c) => !twins.has(c.record.file)) : candidates;
  const checked = validateUsers(
    single.map((c) => c.record),
    registry,
    { requireUserName: true, allowUnusualNames: settings.allowUnusualNames === true },
  );
  const refused = new Set(checked.map((p) => p.file));
  for (const p of checked) problems.push(problemAt(p.file, p.message, p.field));
  const kept = new Map<string, string>();
  const users: DesiredUser[] = [];
  for (const { id, record } of single) {
    if (refused.has(record.file)) continue;
    kept.set(id, identities.get(id)!);
    users.push({ attributes: record.resource, origin: { file: record.file, line: 0 } });
  }

  // Groups.
  const byId = new Map<string, ScimGroup>();
  for (const g of sourceGroups) if (text(g.id) !== undefined) byId.set(text(g.id)!, g);
  const names = new Map<string, string[]>();
  for (const g of sourceGroups) {
    const name = text(g.displayName);
    if (name !== undefined && text(g.id) !== undefined)
      names.set(name.toLowerCase(), [...(names.get(name.toLowerCase()) ?? []), text(g.id)!]);
  }
  const groups: DesiredGroup[] = [];
  for (const g of sourceGroups) {
    const id = text(g.id);
    if (id === undefined) continue;
    const name = text(g.displayName);
    if (name === undefined) {
      problems.push(problemAt(groupUrl(id), 'the group has no displayName'));
      continue;
    }
    const twins = names.get(name.toLowerCase())!.filter((other) => other !== id);
    if (twins.length > 0) {
      problems.push(
        problemAt(
          groupUrl(id),
          `group name ${JSON.stringify(name)} is also the name of ${twins.map(groupUrl).join('; ')}`,
          'displayName',
        ),
      );
      continue;
    }
    const members = [...memberUsers(id, byId, kept, settings.nested)].map((u) => kept.get(u)!);
    groups.push({
      displayName: name,
      externalId: identityOf(g)!,
      members: [...new Set(members)].sort(),
      origin: { file: groupUrl(id), line: 0 },
    });
  }
  return { users, groups, problems };
}

/** The enterprise manager as {value: identity} when the manager was read, else left out. */
function managerByIdentity(attributes: Record<string, unknown>, identities: Map<string, string>): void {
  const key = Object.keys(attributes).find((k) => k.toLowerCase() === SCHEMA.ENTERPRISE_USER.toLowerCase());
  if (key === undefined || !isPlainObject(attributes[key])) return;
  const ext = { ...(attributes[key] as Record<string, unknown>) };
  const managerKey = Object.keys(ext).find((k) => k.toLowerCase() === 'manager');
  if (managerKey === undefined) return;
  const manager = ext[managerKey];
  const identity = isPlainObject(manager) ? identities.get(text(attrValue(manager, 'value')) ?? '') : undefined;
  if (identity !== undefined) ext[managerKey] = { value: identity };
  else delete ext[managerKey];
  if (Object.keys(ext).length > 0) attributes[key] = ext;
  else delete attributes[key];
}

/**
 * The ids of the users read that are members of a group: its own, and with 'flatten' those of its member groups at any
 * depth (each group once, whatever the cycles). A member is a group when its type says so, or when it has no type and
 * its value is a group's id and no user's.
 */
function memberUsers(
  groupId: string,
  groups: ReadonlyMap<string, ScimGroup>,
  users: ReadonlyMap<string, string>,
  nested: Nested,
): Set<string> {
  const found = new Set<string>();
  const seen = new Set<string>([groupId]);
  const queue = [groupId];
  while (queue.length > 0) {
    const group = groups.get(queue.shift()!);
    for (const m of Array.isArray(group?.members) ? group.members : []) {
      if (!isPlainObject(m)) continue;
      const value = text(attrValue(m, 'value'));
      if (value === undefined) continue;
      const type = text(attrValue(m, 'type'))?.toLowerCase();
      const isGroup = type === 'group' || (type === undefined && groups.has(value) && !users.has(value));
      if (!isGroup) {
        if (type !== 'group' && users.has(value)) found.add(value);
      } else if (nested === 'flatten' && !seen.has(value)) {
        seen.add(value);
        queue.push(value);
      }
    }
  }
  return found;
}

/**
 * An LDAP or Active Directory directory as a sync source: readLdapSource reads the users (and
 * the groups a group filter names) and gives the SourceSnapshot the file sources give.
 *
 * Reading:
 * - users: `userFilter` under `userBaseDn` (default: the base DN), paged (RFC 2696, `pageSize`,
 *   default 500), only the attributes the mapping and the checks below need.
 * - groups: only with a `groupFilter` (never every group by default; groupFilterFor(kind) gives
 *   the usual one for a kind of directory), under `groupBaseDn`. Members from `member`,
 *   `uniqueMember` and `memberUid` (membership 'member', the default), or from the users'
 *   `memberOf` (membership 'memberOf'). AD's big member lists are read range by range (ad.ts).
 *   nested 'flatten' (the default): with AD's in-chain matching rule when the server is AD
 *   (its root DSE says so, or `inChain: true`), else by walking nested groups (groups.ts).
 * - any failure (size limit, page error, lost connection) throws: never a partial snapshot.
 *
 * Users: each entry's attributes are the "columns" of a mapping (mapping.ts, the same format as
 * for CSV files, attribute names for column names), the default one of the directory kind or a
 * mapping file. Then:
 * - externalId: entryUUID (OpenLDAP) or objectGUID (AD, as the GUID string or base64, `guidFormat`).
 * - active: false when the account is disabled: AD userAccountControl bit 2 or accountExpires in
 *   the past; OpenLDAP pwdAccountLockedTime (any value); 389-ds nsAccountLock true; or the
 *   configured attribute (with the configured value, or any value). Else the mapping's active,
 *   else true.
 * - enterprise manager: the `manager` DN as the manager's first match key (externalId, else
 *   userName), when the manager is among the users read and the mapping does not map manager.
 * An entry the mapping or the checks find wrong (no userName, a value the schema does not take,
 * a userName or externalId another entry has too) is reported with its DN in `problems` and left
 * out; the rest proceeds. Every location (origin) is the entry's DN, line 0.
 *
 * fingerprint: sha256 over the settings that shape the result, the mapping's text, every entry
 * read (DN order; attributes by name; values as read) and the membership worked out.
 */
import { createHash, hash as oneShotHash } from 'node:crypto';
import { FilterParser } from 'ldapts';
import type { SchemaRegistry } from '../../api/schema.ts';
import { SCHEMA } from '../../api/types.ts';
import type { DesiredGroup, DesiredUser, RecordProblem, SourceSnapshot } from '../../sync/model.ts';
import { attrValue } from '../attributes.ts';
import { isPlainObject } from '../../util/objects.ts';
import { applyMapping, bindMapping, parseMapping, type BoundMapping, type Mapping } from '../mapping.ts';
import { InputError, validateUsers, type InputProblem, type SourceRecord } from '../resource-file.ts';
import { firstMatchKey } from '../source.ts';
import { cellText, loadFile, type LoadedFile, type TableRow } from '../table.ts';
import {
  accountExpired,
  escapeFilterValue,
  guidText,
  IN_CHAIN_RULE,
  readRanged,
  uacDisabled,
  type GuidFormat,
} from './ad.ts';
import {
  connectDirectory,
  parseLdapUrl,
  type ConnectionSettings,
  type DirectoryClient,
  type RawEntry,
  type Scope,
} from './client.ts';
import { LdapReadError, LdapSettingsError } from './errors.ts';
import {
  dnKey,
  membersFromGroups,
  membersFromMemberOf,
  uniqueMemberDn,
  type GroupNode,
  type Nested,
} from './groups.ts';

export type DirectoryKind = 'openldap' | 'ad';

export interface LdapSourceSettings extends ConnectionSettings {
  /** Default 'auto': AD when the root DSE says so, else OpenLDAP (and 389-ds). */
  kind?: DirectoryKind | 'auto';
  /** Default: the URL's path. */
  baseDn?: string;
  userBaseDn?: string;
  groupBaseDn?: string;
  /** Default 'sub'. */
  scope?: Scope;
  /** Default: userFilterFor(kind). */
  userFilter?: string;
  /** No groups are read without one (see groupFilterFor). */
  groupFilter?: string;
  /** The attribute that names a group (its displayName). Default cn. */
  groupNameAttribute?: string;
  /** Default 500. */
  pageSize?: number;
  /** Default true. Without paging a server size limit below the entry count throws. */
  paging?: boolean;
  /** Default 'member': the groups' member, uniqueMember and memberUid. */
  membership?: 'member' | 'memberOf';
  /** Default 'flatten'. */
  nested?: Nested;
  /** AD's in-chain matching rule for 'flatten'. Default: when the server is AD. */
  inChain?: boolean;
  /** objectGUID as text: Default 'guid'. */
  guidFormat?: GuidFormat;
  /**
   * An attribute that marks a disabled account: with `value`, when it has that value (ignoring case); else when it has
   * any.
   */
  disabled?: { attribute: string; value?: string };
  /**
   * A mapping file (YAML or JSON, the CSV sources' format with attribute names for columns). Default: the kind's
   * mapping.
   */
  mappingFile?: string;
}

export interface LdapProgress {
  phase: 'connect' | 'users' | 'groups' | 'members';
  /** Entries (or groups, for members) done so far in this phase. */
  done: number;
}

export interface LdapReadOptions {
  registry: SchemaRegistry;
  onProgress?: (progress: LdapProgress) => void;
  /** For accountExpires (default: the time of the read). */
  now?: Date;
  /** How to get a connected client (default: connectDirectory). */
  connect?: (settings: ConnectionSettings) => Promise<DirectoryClient>;
}

/** A snapshot with the entries that were left out, each with its DN. */
export interface LdapSnapshot extends SourceSnapshot {
  problems: RecordProblem[];
  /** The kind of directory read (after 'auto'). */
  kind: DirectoryKind;
}

/** AD announces itself in the root DSE's supportedCapabilities (LDAP_CAP_ACTIVE_DIRECTORY_OID). */
const AD_CAPABILITY = '1.2.840.113556.1.4.800';

export function userFilterFor(kind: DirectoryKind): string {
  return kind === 'ad' ? '(&(objectCategory=person)(objectClass=user))' : '(objectClass=inetOrgPerson)';
}

/** The usual group filter of a kind of directory, for a caller to put in its settings. */
export function groupFilterFor(kind: DirectoryKind): string {
  return kind === 'ad'
    ? '(objectClass=group)'
    : '(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))';
}

const ENTERPRISE = SCHEMA.ENTERPRISE_USER;

/** The default mapping of a kind of directory, in the mapping file format. */
export function defaultMappingText(kind: DirectoryKind): string {
  const common = [
    'attributes:',
    '  name.givenName: givenName',
    '  name.familyName: sn',
    '  displayName: { column: [displayName, cn] }',
    '  emails[work].value: mail',
    '  emails[work].primary: { constant: true }',
    '  phoneNumbers[work].value: telephoneNumber',
    '  title: title',
    `  ${ENTERPRISE}:employeeNumber: employeeNumber`,
  ];
  return kind === 'ad'
    ? [
        ...common,
        '  userName: { column: [userPrincipalName, sAMAccountName] }',
        '  externalId: objectGUID',
        `  ${ENTERPRISE}:department: department`,
        '',
      ].join('\n')
    : [
        ...common,
        '  userName: { column: [mail, uid] }',
        '  externalId: entryUUID',
        `  ${ENTERPRISE}:department: departmentNumber`,
        '',
      ].join('\n');
}

interface Resolved {
  kind: DirectoryKind;
  address: string;
  userBase: string;
  groupBase: string;
  scope: Scope;
  userFilter: string;
  groupFilter: string | undefined;
  groupName: string;
  pageSize: number;
  membership: 'member' | 'memberOf';
  nested: Nested;
  guidFormat: GuidFormat;
  identity: string;
}

function checkFilter(filter: string, what: string): void {
  try {
    FilterParser.parseString(filter);
  } catch (e) {
    throw new LdapSettingsError(
      `the ${what} ${JSON.stringify(filter)} is not an LDAP filter: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

/** A mapping for an LDAP source, or InputError with its problems. */
function checkedMapping(loaded: LoadedFile, registry: SchemaRegistry): Mapping {
  const parsed = parseMapping(loaded, registry);
  const problems = [...parsed.problems];
  if (parsed.mapping?.groups)
    problems.push({
      file: loaded.path,
      line: parsed.mapping.groups.line,
      field: 'groups',
      fieldKind: 'key',
      message: "the groups of an LDAP source come from its group filter, not from the mapping's groups section",
    });
  if (!parsed.mapping || problems.length > 0) throw new InputError(problems);
  return parsed.mapping;
}

/** A filter in parentheses (RFC 4515 allows `uid=x` alone; a filter put inside another needs them). */
const parenthesized = (filter: string): string =>
  filter.trim().startsWith('(') ? filter.trim() : `(${filter.trim()})`;

const textOf = (v: string | Buffer): string => (typeof v === 'string' ? v : v.toString('utf8'));
const valuesOf = (entry: RawEntry, name: string): Array<string | Buffer> | undefined =>
  entry.attributes.get(name.toLowerCase())?.values;
const textsOf = (entry: RawEntry, name: string): string[] => (valuesOf(entry, name) ?? []).map(textOf);
/** No values, as one shared list: a user read keeps it for every attribute it lacks (most lack memberOf). */
const NONE: readonly string[] = Object.freeze([]);
const keptTextsOf = (entry: RawEntry, name: string): readonly string[] => {
  const values = valuesOf(entry, name);
  return values === undefined || values.length === 0 ? NONE : values.map(textOf);
};

/**
 * Reads the directory. Throws LdapSettingsError, InputError (the mapping file), the connection errors of client.ts,
 * LdapReadError.
 */
export async function readLdapSource(settings: LdapSourceSettings, options: LdapReadOptions): Promise<LdapSnapshot> {
  const url = parseLdapUrl(settings.url);
  const baseDn = settings.baseDn ?? url.baseDn;
  if (baseDn === undefined || baseDn.trim() === '')
    throw new LdapSettingsError(
      `no base DN: give it in the URL (${url.address}/dc=example,dc=org) or as the base DN setting`,
    );
  const pageSize = settings.paging === false ? 0 : (settings.pageSize ?? 500);
  if (!Number.isInteger(pageSize) || pageSize < 0 || (settings.paging !== false && pageSize < 1))
    throw new LdapSettingsError(`the page size must be a whole number of at least 1, not ${settings.pageSize}`);
  if (settings.userFilter !== undefined) checkFilter(settings.userFilter, 'user filter');
  if (settings.groupFilter !== undefined) checkFilter(settings.groupFilter, 'group filter');
  if (settings.disabled !== undefined && !/^[A-Za-z][\w-]*$/.test(settings.disabled.attribute))
    throw new LdapSettingsError(`"${settings.disabled.attribute}" is not an attribute name`);

  // The mapping: a file (checked before anything is sent), or the kind's default (once the kind is known).
  let mappingFile: LoadedFile | undefined;
  let fileMapping: Mapping | undefined;
  if (settings.mappingFile !== undefined) {
    const loaded = await loadFile(settings.mappingFile);
    if (!('bytes' in loaded)) throw new InputError([loaded]);
    mappingFile = loaded;
    fileMapping = checkedMapping(loaded, options.registry);
  }

  const progress = options.onProgress ?? (() => {});
  progress({ phase: 'connect', done: 0 });
  const client = await (options.connect ?? connectDirectory)(settings);
  try {
    const explicitKind = settings.kind === 'ad' || settings.kind === 'openldap' ? settings.kind : undefined;
    const isAd = explicitKind === undefined || settings.inChain === undefined ? await rootDseSaysAd(client) : false;
    const kind: DirectoryKind = explicitKind ?? (isAd ? 'ad' : 'openldap');
    const loaded = mappingFile ?? {
      path: `(the default ${kind === 'ad' ? 'Active Directory' : 'OpenLDAP'} mapping)`,
      text: defaultMappingText(kind),
      bytes: Buffer.from(defaultMappingText(kind)),
    };
    const mapping = fileMapping ?? checkedMapping(loaded, options.registry);

    const r: Resolved = {
      kind,
      address: url.address,
      userBase: settings.userBaseDn ?? baseDn,
      groupBase: settings.groupBaseDn ?? baseDn,
      scope: settings.scope ?? 'sub',
      userFilter: parenthesized(settings.userFilter ?? userFilterFor(kind)),
      groupFilter: settings.groupFilter !== undefined ? parenthesized(settings.groupFilter) : undefined,
      groupName: settings.groupNameAttribute ?? 'cn',
      pageSize,
      membership: settings.membership ?? 'member',
      nested: settings.nested ?? 'flatten',
      guidFormat: settings.guidFormat ?? 'guid',
      identity: kind === 'ad' ? 'objectGUID' : 'entryUUID',
    };
    const inChain = r.nested === 'flatten' && r.membership === 'member' && (settings.inChain ?? isAd);

    // Users.
    const columns = mappingColumns(mapping);
    const userAttributes = unique([
      ...columns,
      r.identity,
      'manager',
      'uid',
      ...disabledAttributes(kind, settings.disabled),
      ...(r.membership === 'memberOf' ? ['memberOf'] : []),
    ]);
    const binary = kind === 'ad' ? ['objectGUID', 'objectguid'] : [];
    // Each entry is mapped as it arrives, and let go: only what the later steps need is kept.
    const mapper = userMapper(mapping, r, settings.disabled, options.now ?? new Date());
    const readUsers: ReadUser[] = [];
    const entryProblems: RecordProblem[] = [];
    for await (const page of client.search({
      base: r.userBase,
      scope: r.scope,
      filter: r.userFilter,
      attributes: userAttributes,
      binary,
      pageSize: r.pageSize,
    })) {
      for (const e of page) readUsers.push(mapper(e, entryProblems));
      progress({ phase: 'users', done: readUsers.length });
    }
    readUsers.sort((a, b) => compareKeys(a.key, b.key));

    // Groups.
    const groupEntries: RawEntry[] = [];
    const memberAttrs = ['member', 'uniqueMember', 'memberUid'];
    if (r.groupFilter !== undefined) {
      const groupAttributes = unique([
        r.groupName,
        r.identity,
        ...(r.membership === 'member' && !inChain ? memberAttrs : []),
        ...(r.membership === 'memberOf' ? ['memberOf'] : []),
      ]);
      for await (const page of client.search({
        base: r.groupBase,
        scope: r.scope,
        filter: r.groupFilter,
        attributes: groupAttributes,
        binary,
        pageSize: r.pageSize,
      })) {
        groupEntries.push(...page);
        progress({ phase: 'groups', done: groupEntries.length });
      }
      if (r.membership === 'member' && !inChain)
        for (const g of groupEntries) await completeRanges(client, g, memberAttrs);
      groupEntries.sort((a, b) => compareKeys(dnKey(a.dn), dnKey(b.dn)));
    }

    // Membership: users by index into readUsers.
    const membership =
      r.groupFilter !== undefined
        ? await workOutMembership(client, r, inChain, readUsers, groupEntries, progress)
        : new Map<string, Set<number>>();

    const built = finishUsers(readUsers, mapping, options.registry);
    const { groups, problems: groupProblems } = buildGroups(groupEntries, membership, built.keys, r);

    const fingerprint = digest(r, settings, loaded.text, readUsers, groupEntries, membership);
    const files = [`${r.address}/${baseDn}`, ...(mappingFile ? [mappingFile.path] : [])];
    const problems = [...entryProblems, ...built.problems]
      .map((p) => ({ p, key: dnKey(p.origin.file) }))
      .sort((a, b) => compareKeys(a.key, b.key))
      .map(({ p }) => p);
    return { users: built.users, groups, fingerprint, files, problems: [...problems, ...groupProblems], kind };
  } finally {
    await client.close();
  }
}

const unique = (names: string[]): string[] => {
  const seen = new Set<string>();
  return names.filter((n) => !seen.has(n.toLowerCase()) && (seen.add(n.toLowerCase()), true));
};

const compareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

async function rootDseSaysAd(client: DirectoryClient): Promise<boolean> {
  try {
    for await (const page of client.search({
      base: '',
      scope: 'base',
      filter: '(objectClass=*)',
      attributes: ['supportedCapabilities'],
      pageSize: 0,
    })) {
      for (const e of page) if (textsOf(e, 'supportedCapabilities').includes(AD_CAPABILITY)) return true;
    }
  } catch (e) {
    // A root DSE the account may not read says nothing of the kind; a lost connection does.
    if (e instanceof LdapReadError && e.resultCode !== undefined) return false;
    throw e;
  }
  return false;
}

function disabledAttributes(kind: DirectoryKind, rule: LdapSourceSettings['disabled']): string[] {
  const own = kind === 'ad' ? ['userAccountControl', 'accountExpires'] : ['pwdAccountLockedTime', 'nsAccountLock'];
  return rule ? [...own, rule.attribute] : own;
}

/** The attribute names a mapping reads (its columns). */
function mappingColumns(mapping: Mapping): string[] {
  const out: string[] = [];
  for (const rule of mapping.rules) {
    if (rule.source.kind === 'column') out.push(rule.source.column, ...(rule.source.fallbacks ?? []));
    if (rule.source.kind === 'template') for (const p of rule.source.parts) if ('column' in p) out.push(p.column);
  }
  return unique(out);
}

/** Replaces `attr;range=…` parts of an entry by the whole attribute (AD range retrieval). */
async function completeRanges(client: DirectoryClient, entry: RawEntry, attrs: string[]): Promise<void> {
  for (const attr of attrs) {
    const lower = attr.toLowerCase();
    const ranged = [...entry.attributes.keys()].find((k) => k.startsWith(`${lower};range=`));
    if (ranged === undefined) continue;
    const values = await readRanged(client, entry, attr);
    entry.attributes.delete(ranged);
    entry.attributes.set(lower, { name: attr, values });
  }
}

function isDisabled(entry: RawEntry, rule: LdapSourceSettings['disabled'], now: Date): boolean {
  if (uacDisabled(valuesOf(entry, 'userAccountControl')) === true) return true;
  if (accountExpired(valuesOf(entry, 'accountExpires'), now)) return true;
  if ((valuesOf(entry, 'pwdAccountLockedTime') ?? []).length > 0) return true;
  if (textsOf(entry, 'nsAccountLock').some((v) => v.trim().toLowerCase() === 'true')) return true;
  if (rule) {
    const values = textsOf(entry, rule.attribute);
    if (
      rule.value === undefined
        ? values.length > 0
        : values.some((v) => v.trim().toLowerCase() === rule.value!.trim().toLowerCase())
    )
      return true;
  }
  return false;
}

/** An entry's values as mapping cells: text, or a list of texts; objectGUID as text. */
function cellsOf(
  entry: RawEntry,
  columns: ReadonlyArray<{ name: string; lower: string }>,
  r: Resolved,
): Map<string, unknown> {
  const cells = new Map<string, unknown>();
  for (const { name, lower } of columns) {
    const values = entry.attributes.get(lower)?.values;
    if (!values || values.length === 0) continue;
    const cell = (v: string | Buffer) =>
      lower === 'objectguid'
        ? (guidText(v, r.guidFormat) ?? textOf(v))
        : typeof v === 'string'
          ? v
          : v.toString('base64');
    // One value is the cell itself (most attributes have one): no list made for it.
    cells.set(name, values.length === 1 ? cell(values[0]!) : values.map(cell));
  }
  return cells;
}

function identityOf(entry: RawEntry, r: Resolved): string | undefined {
  const v = valuesOf(entry, r.identity)?.[0];
  if (v === undefined) return undefined;
  return r.identity === 'objectGUID' ? guidText(v, r.guidFormat) : textOf(v).trim() || undefined;
}

/** A user entry once read: what the later steps need (the entry itself is let go). */
interface ReadUser {
  dn: string;
  /** dnKey(dn). */
  key: string;
  /** sha256 of the entry as read (see entryDigest): 32 bytes as a binary (latin1) string, lighter than a Buffer. */
  digest: string;
  uids: readonly string[];
  memberOf: readonly string[];
  manager: string | undefined;
  /** The mapped user; undefined when the entry was refused (its problems are told). */
  user?: { attributes: Record<string, unknown>; onlyOnCreate?: Record<string, unknown> };
}

interface BuiltUsers {
  users: DesiredUser[];
  problems: RecordProblem[];
  /** The first match key of each user kept, by index into the users read. */
  keys: Map<number, string>;
}

const recordProblem = (dn: string, message: string, field?: string): RecordProblem => ({
  origin: { file: dn, line: 0 },
  message: field !== undefined ? `attribute "${field}": ${message}` : message,
});

/** Maps one user entry (mapping, required userName, active); problems go to `problems`. */
function userMapper(
  mapping: Mapping,
  r: Resolved,
  rule: LdapSourceSettings['disabled'],
  now: Date,
): (entry: RawEntry, problems: RecordProblem[]) => ReadUser {
  const columns = mappingColumns(mapping);
  // Every attribute is a column: one missing from an entry is a blank cell.
  const { bound } = bindMapping(mapping, { file: r.address, columns, headerLine: 0, rows: [] }) as {
    bound: BoundMapping;
  };
  const lowered = columns.map((name) => ({ name, lower: name.toLowerCase() }));
  const mapsActive = mapping.rules.some((x) => !x.path.urn && x.path.attr === 'active');
  const userNameRule = mapping.rules.find((x) => !x.path.urn && x.path.attr === 'userName');
  const userNameFrom =
    userNameRule?.source.kind === 'column'
      ? [userNameRule.source.column, ...(userNameRule.source.fallbacks ?? [])].join(', ')
      : (userNameRule?.target ?? 'userName');
  return (entry, problems) => {
    const read: ReadUser = {
      dn: entry.dn,
      key: dnKey(entry.dn),
      digest: entryDigest(entry),
      uids: keptTextsOf(entry, 'uid'),
      memberOf: keptTextsOf(entry, 'memberOf'),
      manager: keptTextsOf(entry, 'manager')[0],
    };
    const row: TableRow = { line: 0, cells: cellsOf(entry, lowered, r) };
    const { user, problems: found } = applyMapping(bound, row, entry.dn);
    if (found.length > 0) {
      for (const p of found) problems.push(recordProblem(entry.dn, p.message, p.field));
      return read;
    }
    const attributes = user.attributes;
    const userName = cellText(attrValue(attributes, 'userName'))?.trim();
    if (!userName) {
      problems.push(recordProblem(entry.dn, `no userName: the entry has no ${userNameFrom}`));
      return read;
    }
    if (isDisabled(entry, rule, now)) attributes.active = false;
    else if (!mapsActive || attributes.active === undefined) attributes.active = true;
    read.user = user.onlyOnCreate ? { attributes, onlyOnCreate: user.onlyOnCreate } : { attributes };
    return read;
  };
}

/**
 * The checks across users (a userName or externalId twice, the checks every source gets), then the manager references.
 */
function finishUsers(read: ReadUser[], mapping: Mapping, registry: SchemaRegistry): BuiltUsers {
  const mapsManager = mapping.rules.some((x) => x.path.urn === ENTERPRISE && x.path.attr === 'manager');
  const problems: RecordProblem[] = [];
  const candidates: Array<{
    index: number;
    attributes: Record<string, unknown>;
    onlyOnCreate?: Record<string, unknown>;
  }> = [];
  for (let index = 0; index < read.length; index++) {
    const user = read[index]!.user;
    if (user) candidates.push({ index, ...user });
  }

  // A userName or externalId two entries have: neither can be the right one, both are left out.
  const bad = new Set<number>();
  for (const name of ['userName', 'externalId']) {
    // Most values have one holder: kept as its position, not a one-item list.
    const holders = new Map<string, number | number[]>();
    candidates.forEach((c, i) => {
      const v = cellText(attrValue(c.attributes, name))?.trim();
      if (!v) return;
      const key = name === 'userName' ? v.toLowerCase() : v;
      const there = holders.get(key);
      if (there === undefined) holders.set(key, i);
      else if (typeof there === 'number') holders.set(key, [there, i]);
      else there.push(i);
    });
    for (const [, list] of holders) {
      if (typeof list === 'number') continue;
      for (const i of list) {
        const others = list.filter((o) => o !== i).map((o) => read[candidates[o]!.index]!.dn);
        problems.push(
          recordProblem(
            read[candidates[i]!.index]!.dn,
            `${name} ${JSON.stringify(cellText(attrValue(candidates[i]!.attributes, name)))} ` +
              `is also on ${others.join('; ')}`,
            name,
          ),
        );
        bad.add(i);
      }
    }
  }
  const kept = bad.size > 0 ? candidates.filter((_, i) => !bad.has(i)) : candidates;
  // The checks every source gets (e-mail addresses, unusual names, types).
  const records: SourceRecord[] = kept.map((c) => ({ resource: c.attributes, file: read[c.index]!.dn, line: 0 }));
  const checked = validateUsers(records, registry, { requireUserName: true });
  const refused = new Set(checked.map((p: InputProblem) => p.file));
  for (const p of checked) problems.push(recordProblem(p.file, p.message, p.field));

  const keys = new Map<number, string>();
  const final = refused.size > 0 ? kept.filter((c) => !refused.has(read[c.index]!.dn)) : kept;
  for (const c of final) {
    const key = firstMatchKey(c.attributes);
    if (key !== undefined) keys.set(c.index, key);
  }
  // The manager DN as the manager's key, when the manager is a user read.
  const byDn = mapsManager ? new Map<string, number>() : new Map(final.map((c) => [read[c.index]!.key, c.index]));
  const users: DesiredUser[] = final.map((c) => {
    const u = read[c.index]!;
    if (!mapsManager && u.manager !== undefined) {
      const managerIndex = byDn.get(dnKey(u.manager));
      const managerKey = managerIndex !== undefined ? keys.get(managerIndex) : undefined;
      if (managerKey !== undefined) {
        const ext = isPlainObject(c.attributes[ENTERPRISE])
          ? (c.attributes[ENTERPRISE] as Record<string, unknown>)
          : {};
        c.attributes[ENTERPRISE] = { ...ext, manager: { value: managerKey } };
      }
    }
    const user: DesiredUser = { attributes: c.attributes, origin: { file: u.dn, line: 0 } };
    if (c.onlyOnCreate) user.onlyOnCreate = c.onlyOnCreate;
    return user;
  });
  return { users, problems, keys };
}

function groupNode(entry: RawEntry): GroupNode {
  return {
    dn: entry.dn,
    memberDns: [...textsOf(entry, 'member'), ...textsOf(entry, 'uniqueMember').map(uniqueMemberDn)],
    memberUids: textsOf(entry, 'memberUid'),
    memberOf: textsOf(entry, 'memberOf'),
  };
}

const GROUP_CLASSES = new Set([
  'groupofnames',
  'groupofuniquenames',
  'posixgroup',
  'group',
  'groupofurls',
  'groupofentries',
]);

async function workOutMembership(
  client: DirectoryClient,
  r: Resolved,
  inChain: boolean,
  users: ReadUser[],
  groups: RawEntry[],
  progress: (p: LdapProgress) => void,
): Promise<Map<string, Set<number>>> {
  const usersByDn = new Map(users.map((u, i) => [u.key, i]));
  if (inChain) {
    // AD works the nesting out: one search per group for its users at any depth.
    const result = new Map<string, Set<number>>();
    for (const [n, g] of groups.entries()) {
      const members = new Set<number>();
      const filter = `(&${r.userFilter}(memberOf:${IN_CHAIN_RULE}:=${escapeFilterValue(g.dn)}))`;
      for await (const page of client.search({
        base: r.userBase,
        scope: r.scope,
        filter,
        attributes: ['1.1'],
        pageSize: r.pageSize,
      })) {
        for (const e of page) {
          const i = usersByDn.get(dnKey(e.dn));
          if (i !== undefined) members.add(i);
        }
      }
      result.set(dnKey(g.dn), members);
      progress({ phase: 'members', done: n + 1 });
    }
    return result;
  }
  // Groups outside the group filter, looked up when a walk meets them ('flatten' only).
  const lookup = async (dn: string): Promise<GroupNode | undefined> => {
    let found: RawEntry | undefined;
    try {
      const attributes = [
        'objectClass',
        ...(r.membership === 'member' ? ['member', 'uniqueMember', 'memberUid'] : ['memberOf']),
      ];
      for await (const page of client.search({
        base: dn,
        scope: 'base',
        filter: '(objectClass=*)',
        attributes,
        pageSize: 0,
      }))
        found ??= page[0];
    } catch (e) {
      // A member DN that is not there (or not readable) is not a group; anything else stops the read.
      if (e instanceof LdapReadError && (e.resultCode === 32 || e.resultCode === 50)) return undefined;
      throw e;
    }
    if (!found || !textsOf(found, 'objectClass').some((c) => GROUP_CLASSES.has(c.toLowerCase()))) return undefined;
    if (r.membership === 'member') await completeRanges(client, found, ['member', 'uniqueMember', 'memberUid']);
    return groupNode(found);
  };
  const nodes = groups.map(groupNode);
  const withLookup = r.nested === 'flatten' ? { lookup } : {};
  if (r.membership === 'memberOf') {
    return membersFromMemberOf(
      nodes,
      users.map((u, i) => ({ user: i, memberOf: u.memberOf })),
      r.nested,
      withLookup.lookup,
    );
  }
  const usersByUid = new Map<string, number>();
  users.forEach((u, i) => {
    for (const uid of u.uids)
      if (!usersByUid.has(uid.trim().toLowerCase())) usersByUid.set(uid.trim().toLowerCase(), i);
  });
  const result = await membersFromGroups({ groups: nodes, usersByDn, usersByUid, nested: r.nested, ...withLookup });
  progress({ phase: 'members', done: groups.length });
  return result;
}

function buildGroups(
  entries: RawEntry[],
  membership: Map<string, Set<number>>,
  keys: Map<number, string>,
  r: Resolved,
): { groups: DesiredGroup[]; problems: RecordProblem[] } {
  const problems: RecordProblem[] = [];
  const named = entries.flatMap((entry) => {
    const name = textsOf(entry, r.groupName)[0]?.trim();
    if (!name) {
      problems.push(recordProblem(entry.dn, `the group has no ${r.groupName} (its name)`));
      return [];
    }
    return [{ entry, name }];
  });
  const byName = new Map<string, string[]>();
  for (const { entry, name } of named)
    byName.set(name.toLowerCase(), [...(byName.get(name.toLowerCase()) ?? []), entry.dn]);
  const groups: DesiredGroup[] = [];
  for (const { entry, name } of named) {
    const twins = byName.get(name.toLowerCase())!.filter((dn) => dn !== entry.dn);
    if (twins.length > 0) {
      problems.push(
        recordProblem(
          entry.dn,
          `group name ${JSON.stringify(name)} is also the name of ${twins.join('; ')}`,
          r.groupName,
        ),
      );
      continue;
    }
    const members = [...(membership.get(dnKey(entry.dn)) ?? [])].flatMap((i) => {
      const key = keys.get(i);
      return key !== undefined ? [key] : [];
    });
    const group: DesiredGroup = {
      displayName: name,
      members: [...new Set(members)].sort(),
      origin: { file: entry.dn, line: 0 },
    };
    const externalId = identityOf(entry, r);
    if (externalId !== undefined) group.externalId = externalId;
    groups.push(group);
  }
  return { groups, problems };
}

/**
 * sha256 of an entry as read: its DN, then its attributes by name with their values (bytes as base64). The 32 bytes as
 * a binary (latin1) string (one per user is kept until the fingerprint is made).
 */
function entryDigest(e: RawEntry): string {
  const names = [...e.attributes.keys()].sort();
  let text = JSON.stringify(e.dn);
  for (const name of names) {
    text += `\n${name}`;
    for (const v of e.attributes.get(name)!.values)
      text += typeof v === 'string' ? `\n ${JSON.stringify(v)}` : `\n b64:${v.toString('base64')}`;
  }
  return oneShotHash('sha256', text, 'binary');
}

function digest(
  r: Resolved,
  settings: LdapSourceSettings,
  mappingText: string,
  users: ReadUser[],
  groups: RawEntry[],
  membership: Map<string, Set<number>>,
): string {
  const hash = createHash('sha256');
  const shape = {
    kind: r.kind,
    address: r.address,
    userBase: r.userBase,
    groupBase: r.groupBase,
    scope: r.scope,
    userFilter: r.userFilter,
    groupFilter: r.groupFilter ?? null,
    groupName: r.groupName,
    membership: r.membership,
    nested: r.nested,
    guidFormat: r.guidFormat,
    disabled: settings.disabled ?? null,
  };
  hash.update(`ldap\n${JSON.stringify(shape)}\nmapping\n${Buffer.byteLength(mappingText)}\n${mappingText}`);
  // Users and groups in DN order, each as its own digest.
  hash.update(`\nusers ${users.length}\n`);
  for (const u of users) hash.update(u.digest, 'binary');
  hash.update(`\ngroups ${groups.length}\n`);
  for (const g of groups) hash.update(entryDigest(g), 'binary');
  for (const g of groups) {
    const members = [...(membership.get(dnKey(g.dn)) ?? [])].map((i) => users[i]!.key).sort();
    hash.update(`\nmembers ${JSON.stringify(g.dn)}\n${members.join('\n')}`);
  }
  return hash.digest('hex');
}

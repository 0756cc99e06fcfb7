/**
 * The source of truth of a sync, read from files into a SourceSnapshot: the
 * users (and groups) it wants, each knowing the file and line it came from.
 *
 * What a source can be:
 * - preset "scim" (the default): our own export read back, CSV/TSV in the export column
 *   scheme or SCIM JSON (ListResponse, array, one resource). Each resource's attributes are
 *   kept as they are, minus what the server owns: id, meta, schemas and groups. Attributes
 *   the server never returns (password: writeOnly / returned never) go to onlyOnCreate, as
 *   they could never compare equal. A user's `groups` give DesiredUser.groups: each item's
 *   display, else its value; "indirect" memberships (through a nested group) are skipped,
 *   as they cannot be written. When any record has `groups`, every user gets a list (empty
 *   when it has none): the file speaks for all memberships. A groups file here is a groups
 *   export (same scheme): it names the groups (displayName, externalId); their members are
 *   target ids, not source keys, so membership comes from the users' `groups` only.
 * - preset "pleio" or "omni": see presets.ts.
 * - a mapping file (YAML or JSON): for every other CSV or TSV, see mapping.ts.
 *
 * Groups in the snapshot: every group of the groups file, then one per group name that only
 * users name (origin: the first user naming it, no members). Members given by a groups file
 * are user keys as the source writes them; each is replaced by the first match key
 * (externalId, else userName, else e-mail) of the user it names, looked up by externalId,
 * then userName and e-mail ignoring case. A key no user of the source has is kept as it is.
 *
 * Every record is checked (on top of the file format's own checks): userName and externalId
 * unique, e-mail addresses plausible, active a boolean, and at least one match key
 * (externalId, userName or an e-mail). All problems are collected and thrown as one
 * InputError: bad input never gives a partial snapshot. Zero users is not a problem here
 * (a header-only CSV, an empty list); a file with no text at all is.
 *
 * fingerprint: sha256 (hex) over the users file, the groups file and the mapping file, in
 * that order, each as "<role>\n<byte length>\n" then its bytes. `files` lists them in that order.
 * With `keep`, the same bytes are handed over as they are read (the run history's copy of the
 * source): what is kept is what was parsed and digested, whatever the files hold afterwards.
 *
 * Pure: reads files, nothing else.
 */
import { createHash, type Hash } from 'node:crypto';
import { dirname, isAbsolute, join } from 'node:path';
import type { SchemaRegistry } from '../api/schema.ts';
import { SCHEMA } from '../api/types.ts';
import type { DesiredGroup, DesiredUser, SourceSnapshot } from '../sync/model.ts';
import { attrValue, checkResource } from './attributes.ts';
import type { Mapping } from './mapping.ts';

// The mapping module brings a YAML parser: load it only for runs that have a mapping file.
const mappingModule = () => import('./mapping.ts');
import { groupsFromTable, omniUsers, pleioUsers, type Built, type BuiltUser, type GroupColumns } from './presets.ts';
import {
  detectFormat,
  InputError,
  parseResourceBytes,
  streamJsonResources,
  untold,
  validateGroups,
  validateUsers,
  type FileFormat,
  type InputProblem,
  type RecordSpan,
  type SourceRecord,
} from './resource-file.ts';
import { isPlainObject } from '../util/objects.ts';
import { resolveAvatars, type AvatarOptions } from './avatars.ts';
import { cellText, loadFile, readDelimitedTable, readJsonTable, type LoadedFile, type TableResult } from './table.ts';
import { identityPart, RecordFile, userParts } from './stored-records.ts';

export type SourcePreset = 'scim' | 'pleio' | 'omni';

export interface SourceSpec {
  /** The users file (CSV, TSV or JSON). */
  path: string;
  /** Default: by extension, else by content. */
  format?: FileFormat;
  /** Default "scim": our export scheme / SCIM JSON. */
  preset?: SourcePreset;
  /** A YAML or JSON mapping file, for any CSV or TSV (instead of a preset). */
  mappingFile?: string;
  /** A groups file (CSV or JSON). Default for a mapping: its groups.file, relative to the mapping file. */
  groupsFile?: string;
  /** Take userNames and e-mail addresses with control, invisible or bidi characters (default: refused). */
  allowUnusualNames?: boolean;
  /** The pleio layout's avatars that are local files (avatars.ts); absent: every avatar value is taken as it is. */
  avatars?: AvatarOptions;
}

const isLoaded = (v: LoadedFile | InputProblem): v is LoadedFile => 'bytes' in v;

export interface ReadOptions {
  /**
   * Keep the records of a SCIM JSON users file read as a stream in the file: each user's
   * `attributes` are its identity only, `stored` says where the rest is, and the snapshot's
   * `records` reads it again (stored-records.ts). For a run that settles its records
   * (settle.ts); other files are read as always.
   */
  lazy?: boolean;
  /** Gets each file's bytes as they are read: the users file, then the groups file, then the mapping file. */
  keep?: SourceKeeper;
}

/** Where the bytes of a source go as they are read (history.ts keeps them with the run). */
export interface SourceKeeper {
  file(role: 'users' | 'groups' | 'mapping', path: string): KeptFile;
}

export interface KeptFile {
  write(chunk: Uint8Array): void;
  /** All of the file was read and kept. */
  end(): void;
  /** The read was given up (the file is read again another way): nothing is kept. */
  discard(): void;
}

/** Reads a source of truth. Throws InputError with every problem found. */
export async function readSource(
  spec: SourceSpec,
  registry: SchemaRegistry,
  options: ReadOptions = {},
): Promise<SourceSnapshot> {
  const preset = spec.preset ?? 'scim';
  const problems: InputProblem[] = [];

  // Every file is read once: what is parsed is exactly what is digested. A users file of
  // SCIM JSON is read as a stream (its text is never held whole); any other, whole.
  const streamed =
    preset === 'scim' && spec.mappingFile === undefined
      ? await streamScimUsers(spec.path, spec.format, registry, options.lazy === true, options.keep)
      : undefined;
  const users = streamed ? undefined : await loadFile(spec.path);
  const mappingFile = spec.mappingFile !== undefined ? await loadFile(spec.mappingFile) : undefined;
  let mapping: Mapping | undefined;
  let mappingOk = true;
  if (mappingFile && isLoaded(mappingFile)) {
    if (preset !== 'scim')
      problems.push({
        file: mappingFile.path,
        line: 0,
        message: `a mapping file takes the place of a preset: give one or the other, not both (preset ${preset})`,
      });
    const parsed = (await mappingModule()).parseMapping(mappingFile, registry);
    mapping = parsed.mapping;
    mappingOk = parsed.problems.length === 0 && mapping !== undefined;
    problems.push(...parsed.problems);
  }
  const fromMapping = mapping?.groups?.file;
  const groupsPath =
    spec.groupsFile ??
    (fromMapping !== undefined && spec.mappingFile !== undefined
      ? isAbsolute(fromMapping)
        ? fromMapping
        : join(dirname(spec.mappingFile), fromMapping)
      : undefined);
  const groupsFile = groupsPath !== undefined ? await loadFile(groupsPath) : undefined;
  const unread = [users, mappingFile, groupsFile].filter((f): f is InputProblem => f !== undefined && !isLoaded(f));
  if (unread.length > 0 || (users !== undefined && !isLoaded(users))) throw new InputError([...unread, ...problems]);
  const usersLoaded = users && isLoaded(users) ? users : undefined;
  const mappingLoaded = mappingFile && isLoaded(mappingFile) ? mappingFile : undefined;
  const groupsLoaded = groupsFile && isLoaded(groupsFile) ? groupsFile : undefined;

  const hash = streamed?.hash ?? createHash('sha256');
  const files: string[] = streamed ? [spec.path] : [];
  for (const [role, file] of [
    ['users', usersLoaded],
    ['groups', groupsLoaded],
    ['mapping', mappingLoaded],
  ] as const) {
    if (!file) continue;
    hash.update(`${role}\n${file.bytes.length}\n`);
    hash.update(file.bytes);
    files.push(file.path);
    if (options.keep) {
      const kept = options.keep.file(role, file.path);
      kept.write(file.bytes);
      kept.end();
    }
  }

  // Users.
  let built: Built;
  let fields = new Map<string, string>();
  if (streamed) {
    built = streamed.built;
  } else if (spec.mappingFile !== undefined) {
    built = mapping ? await mappedUsers(usersLoaded!, spec.format, mapping, mappingOk) : { users: [], problems: [] };
    for (const rule of mapping?.rules ?? [])
      if (rule.source.kind === 'column') fields.set(rule.target.toLowerCase(), rule.source.column);
  } else if (preset === 'scim') {
    built = await scimUsers(usersLoaded!, spec.format, registry);
  } else {
    const table = await readTable(usersLoaded!, spec.format, preset, ['users']);
    if (!table.table) built = { users: [], problems: table.problems };
    else {
      const made = preset === 'pleio' ? pleioUsers(table.table, registry) : omniUsers(table.table, table.json);
      built = { users: made.users, problems: [...table.problems, ...made.problems] };
    }
    fields = preset === 'pleio' ? PLEIO_FIELDS : OMNI_FIELDS;
    // The images an avatar names are part of the source: a changed image, a changed source.
    if (preset === 'pleio' && spec.avatars)
      for (const digest of await resolveAvatars(built.users, spec.path, spec.avatars))
        hash.update(`avatar\n${digest}\n`);
  }
  const fingerprint = hash.digest('hex');
  problems.push(...built.problems);
  // Every record read is checked, also when some have problems already: all of them are told at once (each value once).
  {
    const checked: InputProblem[] = [];
    for (const p of checkUsers(
      built.users,
      spec.path,
      registry,
      preset === 'scim' && spec.mappingFile === undefined,
      spec.allowUnusualNames === true,
    )) {
      const column = p.field !== undefined ? fields.get(p.field.toLowerCase()) : undefined;
      checked.push(column !== undefined ? { ...p, field: column } : p);
    }
    problems.push(...untold(built.problems, checked));
  }
  const desiredUsers = built.users.map((u): DesiredUser => {
    const user: DesiredUser = { attributes: u.attributes, origin: { file: spec.path, line: u.line } };
    if (u.onlyOnCreate) user.onlyOnCreate = u.onlyOnCreate;
    if (u.groups) user.groups = u.groups;
    if (u.stored !== undefined) user.stored = u.stored;
    if (u.problem !== undefined) user.problem = u.problem;
    return user;
  });

  // Groups.
  let fileGroups: DesiredGroup[] = [];
  if (groupsLoaded) {
    const read =
      preset === 'scim' && spec.mappingFile === undefined
        ? await scimGroups(groupsLoaded, registry)
        : await tableGroups(groupsLoaded, preset, mapping, spec, desiredUsers);
    fileGroups = read.groups;
    problems.push(...read.problems);
  }

  if (problems.length > 0) {
    const rank = (file: string) => [mappingLoaded?.path, spec.path, groupsLoaded?.path].indexOf(file);
    throw new InputError(
      problems
        .map((p, i) => ({ p, i }))
        .sort((a, b) => rank(a.p.file) - rank(b.p.file) || a.p.line - b.p.line || a.i - b.i)
        .map(({ p }) => p),
    );
  }
  const snapshot: SourceSnapshot = {
    users: desiredUsers,
    groups: assembleGroups(fileGroups, desiredUsers),
    fingerprint,
    files,
  };
  if (streamed?.records) snapshot.records = streamed.records;
  return snapshot;
}

// ---------------------------------------------------------------- users

/** Problem fields named after the columns they came from. */
const PLEIO_FIELDS = new Map([
  ['externalid', 'external_id'],
  ['username', 'email'],
  ['emails', 'email'],
  ['emails[work].value', 'email'],
  ['displayname', 'name'],
]);
const OMNI_FIELDS = new Map([['externalid', 'id']]);

type ReadTable = TableResult & { json: boolean };

async function readTable(
  file: LoadedFile,
  format: FileFormat | undefined,
  what: string,
  listKeys: readonly string[],
  delimiter?: string,
): Promise<ReadTable> {
  const chosen = format ?? detectFormat(file.path, file.text);
  if (chosen === 'json') {
    if (what === 'pleio' || what === 'mapping') {
      const message =
        what === 'pleio'
          ? 'the pleio preset reads CSV or TSV, and this file is JSON'
          : 'a mapping maps the columns of a CSV or TSV file, and this file is JSON';
      return { problems: [{ file: file.path, line: 0, message }], json: true };
    }
    return { ...readJsonTable(file, listKeys, what === 'groups' ? 'group' : 'user'), json: true };
  }
  return { ...(await readDelimitedTable(file, chosen === 'tsv' ? '\t' : (delimiter ?? ','))), json: false };
}

async function mappedUsers(
  file: LoadedFile,
  format: FileFormat | undefined,
  mapping: Mapping,
  mappingOk: boolean,
): Promise<Built> {
  const table = await readTable(file, format ?? mapping.format, 'mapping', [], mapping.delimiter);
  if (!table.table) return { users: [], problems: table.problems };
  const { bindMapping, applyMapping } = await mappingModule();
  const { bound, problems } = bindMapping(mapping, table.table);
  problems.unshift(...table.problems);
  // A mapping with problems is not applied: its rows would only repeat them.
  if (!bound || !mappingOk) return { users: [], problems };
  const users: BuiltUser[] = [];
  for (const row of table.table.rows) {
    const { user, problems: rowProblems } = applyMapping(bound, row, file.path);
    problems.push(...rowProblems);
    users.push({ line: row.line, ...user });
  }
  return { users, problems };
}

/** Group names of an exported user's `groups`: display, else value; indirect memberships skipped. */
function groupNames(value: unknown): string[] | string {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return 'groups must be a list such as [{"value": "<group id>", "display": "<name>"}]';
  const names: string[] = [];
  const seen = new Set<string>();
  for (const [index, item] of value.entries()) {
    if (!isPlainObject(item)) return `group ${index + 1} is not an object with a "display" or "value"`;
    const type = attrValue(item, 'type');
    if (typeof type === 'string' && type.toLowerCase() === 'indirect') continue;
    const name = cellText(attrValue(item, 'display'))?.trim() || cellText(attrValue(item, 'value'))?.trim();
    if (!name) return `group ${index + 1} has neither a "display" nor a "value"`;
    if (seen.has(name.toLowerCase())) continue;
    seen.add(name.toLowerCase());
    names.push(name);
  }
  return names;
}

/**
 * Users from SCIM records, one record at a time: each resource's attributes minus what the
 * server owns, write-only ones apart, and its group names. Any record with groups (even an
 * empty list) makes the file speak for every user's memberships.
 */
function scimUserBuilder(file: string, registry: SchemaRegistry, store?: RecordFile) {
  const users: BuiltUser[] = [];
  const groups: string[][] = [];
  const problems: InputProblem[] = [];
  const none: string[] = [];
  let withGroups = false;
  // Each group name's text once, however many users name it.
  const names = new Map<string, string>();
  const once = (name: string) => names.get(name) ?? (names.set(name, name), name);
  return {
    /** Adds a record; with a store (and the record's span in the file), kept there but for its identity. */
    add(record: SourceRecord, span?: RecordSpan): void {
      const { attributes, onlyOnCreate } = userParts(record.resource, registry);
      const user: BuiltUser = { line: record.line, attributes };
      if (record.record !== undefined) user.record = record.record;
      if (record.json) user.json = true;
      if (store && span) {
        user.attributes = identityPart(attributes);
        user.stored = store.add(span);
      } else if (onlyOnCreate) user.onlyOnCreate = onlyOnCreate;
      users.push(user);
      const value = attrValue(record.resource, 'groups');
      if (value === undefined || value === null) {
        groups.push(none);
        return;
      }
      withGroups = true;
      const named = groupNames(value);
      if (typeof named === 'string') problems.push({ file, line: record.line, field: 'groups', message: named });
      groups.push(typeof named === 'string' ? none : named.map(once));
    },
    finish(): Built {
      if (withGroups) users.forEach((u, i) => (u.groups = groups[i] === none ? [] : groups[i]));
      return { users, problems };
    },
  };
}

async function scimUsers(file: LoadedFile, format: FileFormat | undefined, registry: SchemaRegistry): Promise<Built> {
  let records;
  try {
    records = await parseResourceBytes(file.path, file.bytes, {
      registry,
      coreSchema: SCHEMA.USER,
      format,
      allowEmpty: true,
    });
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    // The records read in spite of the problems still get the checks across records: every problem is told at once.
    const builder = scimUserBuilder(file.path, registry);
    for (const record of e.records ?? []) builder.add(record);
    const built = builder.finish();
    return { users: built.users, problems: [...e.problems, ...untold(e.problems, built.problems)] };
  }
  const builder = scimUserBuilder(file.path, registry);
  for (const record of records) builder.add(record);
  return builder.finish();
}

/**
 * The scim preset's users file read as a stream (streamJsonResources), with the digest of the
 * source begun on its bytes; undefined when the file is to be read whole.
 */
async function streamScimUsers(
  path: string,
  format: FileFormat | undefined,
  registry: SchemaRegistry,
  lazy: boolean,
  keep: SourceKeeper | undefined,
): Promise<{ built: Built; hash: Hash; records?: RecordFile } | undefined> {
  const hash = createHash('sha256');
  const kept = keep?.file('users', path);
  const store = lazy ? new RecordFile(path, registry) : undefined;
  const builder = scimUserBuilder(path, registry, store);
  const problems: InputProblem[] = [];
  const streamed = await streamJsonResources(
    path,
    { registry, coreSchema: SCHEMA.USER, format, allowEmpty: true },
    {
      size: (bytes) => hash.update(`users\n${bytes}\n`),
      bytes: (chunk) => {
        hash.update(chunk);
        kept?.write(chunk);
      },
      record: (record, found, span) => {
        problems.push(...found);
        // Records with problems are users too, for the checks across records; the snapshot is never made.
        builder.add(record, span);
      },
    },
  ).catch((e: unknown) => {
    kept?.discard();
    throw e;
  });
  if (!streamed) {
    kept?.discard();
    return undefined;
  }
  kept?.end();
  if (problems.length > 0) {
    const built = builder.finish();
    return {
      built: {
        users: built.users,
        problems: [...problems, ...untold(problems, built.problems)].sort((a, b) => a.line - b.line),
      },
      hash,
    };
  }
  return store && store.size > 0
    ? { built: builder.finish(), hash, records: store }
    : { built: builder.finish(), hash };
}

/** The value of a user's first match key: externalId, else userName, else the (primary) e-mail. */
export function firstMatchKey(attributes: Record<string, unknown>): string | undefined {
  for (const name of ['externalId', 'userName']) {
    const v = cellText(attrValue(attributes, name))?.trim();
    if (v) return v;
  }
  return emailOf(attributes);
}

function emailOf(attributes: Record<string, unknown>): string | undefined {
  const emails = attrValue(attributes, 'emails');
  if (!Array.isArray(emails)) return undefined;
  const values = emails.filter(isPlainObject);
  const primary = values.find((e) => attrValue(e, 'primary') === true);
  for (const e of primary ? [primary, ...values] : values) {
    const v = cellText(attrValue(e, 'value'))?.trim();
    if (v) return v;
  }
  return undefined;
}

/** Extensions the registry does not know (a preset's own) are left out of the schema check. */
function knownPart(attributes: Record<string, unknown>, registry: SchemaRegistry): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(attributes).filter(([key]) => !/^urn:/i.test(key) || registry.schema(key) !== undefined),
  );
}

/** The checks every source gets; `checked` when the reader has already checked attributes against the schema. */
function checkUsers(
  users: BuiltUser[],
  file: string,
  registry: SchemaRegistry,
  checked: boolean,
  allowUnusualNames: boolean,
): InputProblem[] {
  const records = users.map((u): SourceRecord => ({
    resource: u.attributes,
    file,
    line: u.line,
    ...(u.record !== undefined ? { record: u.record } : {}),
    ...(u.json ? { json: true } : {}),
  }));
  const problems = validateUsers(records, registry, { requireUserName: false, allowUnusualNames });
  // A value both checks find wrong (active "yes") is told once, as validateUsers tells it.
  const told = new Set(problems.map((p) => `${p.line}\0${p.field?.toLowerCase()}`));
  for (const u of users) {
    if (!checked)
      for (const p of checkResource(knownPart(u.attributes, registry), registry, SCHEMA.USER))
        if (!told.has(`${u.line}\0${p.field.toLowerCase()}`)) problems.push({ file, line: u.line, ...p });
    if (firstMatchKey(u.attributes) === undefined)
      problems.push({
        file,
        line: u.line,
        ...(u.record !== undefined ? { record: u.record } : {}),
        message: 'no match key: the record has no externalId, userName or e-mail address',
      });
  }
  return problems;
}

// ---------------------------------------------------------------- groups

async function scimGroups(
  file: LoadedFile,
  registry: SchemaRegistry,
): Promise<{ groups: DesiredGroup[]; problems: InputProblem[] }> {
  let records;
  try {
    records = await parseResourceBytes(file.path, file.bytes, { registry, coreSchema: SCHEMA.GROUP, allowEmpty: true });
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    // The records read in spite of the problems are checked too: every problem at once, each once.
    return { groups: [], problems: [...e.problems, ...untold(e.problems, validateGroups(e.records ?? [], registry))] };
  }
  const problems = validateGroups(records, registry);
  const groups = records.flatMap((r): DesiredGroup[] => {
    const displayName = cellText(attrValue(r.resource, 'displayName'))?.trim();
    if (!displayName) return [];
    const group: DesiredGroup = { displayName, origin: { file: file.path, line: r.line } };
    const externalId = cellText(attrValue(r.resource, 'externalId'))?.trim();
    if (externalId) group.externalId = externalId;
    return [group];
  });
  return { groups, problems };
}

async function tableGroups(
  file: LoadedFile,
  preset: SourcePreset,
  mapping: Mapping | undefined,
  spec: SourceSpec,
  users: DesiredUser[],
): Promise<{ groups: DesiredGroup[]; problems: InputProblem[] }> {
  const table = await readTable(file, undefined, 'groups', ['groups', 'Resources'], mapping?.delimiter);
  if (!table.table) return { groups: [], problems: table.problems };
  const rule = mapping?.groups;
  const usersHaveGroups = users.some((u) => u.groups !== undefined);
  let config: GroupColumns;
  if (rule?.file !== undefined && spec.mappingFile !== undefined) {
    config = {
      nameColumn: rule.nameColumn,
      externalIdColumn: rule.externalIdColumn,
      membersColumn: rule.membersColumn,
      split: rule.split,
      configuredAt: { file: spec.mappingFile, line: rule.line },
    };
  } else if (preset === 'omni' && spec.mappingFile === undefined) {
    config = {
      nameColumn: 'name',
      externalIdColumn: 'id',
      membersColumn: usersHaveGroups ? undefined : 'members',
      split: ';',
    };
  } else {
    // A groups file without its own configuration: name, and id and members when it has them.
    config = {
      nameColumn: 'name',
      externalIdColumn: 'id',
      membersColumn: usersHaveGroups ? undefined : 'members',
      split: rule?.split ?? ';',
      optionalColumns: true,
    };
  }
  const read = groupsFromTable(table.table, config);
  return { groups: read.groups, problems: [...table.problems, ...read.problems] };
}

/**
 * The groups of the snapshot: those of the groups file (members normalised to match keys), then those only users name.
 */
function assembleGroups(fileGroups: DesiredGroup[], users: DesiredUser[]): DesiredGroup[] {
  const byExternalId = new Map<string, string>();
  const byName = new Map<string, string>();
  // The users by key, only when a group lists members to look up.
  if (fileGroups.some((g) => g.members))
    for (const u of users) {
      const key = firstMatchKey(u.attributes);
      if (key === undefined) continue;
      const externalId = cellText(attrValue(u.attributes, 'externalId'))?.trim();
      if (externalId && !byExternalId.has(externalId)) byExternalId.set(externalId, key);
      for (const alias of [cellText(attrValue(u.attributes, 'userName'))?.trim(), emailOf(u.attributes)]) {
        if (alias && !byName.has(alias.toLowerCase())) byName.set(alias.toLowerCase(), key);
      }
    }
  const groups = fileGroups.map((g) => {
    if (!g.members) return g;
    const members: string[] = [];
    for (const ref of g.members) {
      const key = byExternalId.get(ref) ?? byName.get(ref.toLowerCase()) ?? ref;
      if (!members.includes(key)) members.push(key);
    }
    return { ...g, members };
  });
  const named = new Set(groups.map((g) => g.displayName.toLowerCase()));
  for (const u of users) {
    for (const name of u.groups ?? []) {
      if (named.has(name.toLowerCase())) continue;
      named.add(name.toLowerCase());
      groups.push({ displayName: name, origin: u.origin });
    }
  }
  return groups;
}

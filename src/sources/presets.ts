/**
 * Presets: the files of known source systems, turned into SCIM user attributes
 * without a mapping file.
 *
 * pleio — CSV `external_id,name,email,avatar,profile.*`:
 *   external_id    → externalId
 *   name           → displayName and name.formatted
 *   email          → userName and emails: [{ value, type: "work", primary: true }]
 *   avatar         → photos: [{ value, type: "photo" }]
 *   profile.X      → the enterprise extension's attribute X when that schema has a simple
 *                    attribute X (profile.department → …:enterprise:2.0:User:department),
 *                    else attribute X of PLEIO_EXTENSION (a schema scimctl names; the target
 *                    must know it for these to be written)
 *   active is true. Columns match ignoring case; another column is a problem.
 *
 * omni — users CSV `id,userName,displayName,active,emails,userAttributes` (and optionally `groups`),
 * or JSON: an array (or {"users": […]}) of objects with these keys, `groups` a list of names:
 *   id             → externalId (the source system's id)
 *   userName, displayName as they are
 *   active         true/false in any case (JSON: a boolean too)
 *   emails         a JSON array of {value, primary?, type?} (a bare address is one e-mail, primary)
 *   userAttributes a JSON object → OMNI_EXTENSION, as given
 *   groups         a JSON array of names, or names separated by ";" → the user's groups
 * Groups of an omni source come from a groups file (see groupsFromTable): `id,name,members`.
 *
 * Every cell is trimmed; a blank one leaves its attribute out.
 */
import type { SchemaRegistry } from '../api/schema.ts';
import { SCHEMA } from '../api/types.ts';
import type { DesiredGroup } from '../sync/model.ts';
import { describeKind, isPlainObject } from '../util/objects.ts';
import type { InputProblem } from './resource-file.ts';
import { cellText, findColumn, isBlank, parseJsonText, splitList, type Table, type TableRow } from './table.ts';

/** The extension pleio profile fields go to when the enterprise schema has no such attribute. */
export const PLEIO_EXTENSION = 'urn:scimctl:params:scim:schemas:extension:pleio:2.0:User';
/** The extension omni's userAttributes go to. */
export const OMNI_EXTENSION = 'urn:omni:params:scim:schemas:extension:user-attributes:2.0:User';

/** A user as a preset or mapping builds it, before the checks every source gets. */
export interface BuiltUser {
  line: number;
  attributes: Record<string, unknown>;
  onlyOnCreate?: Record<string, unknown>;
  groups?: string[];
  /** See DesiredUser.stored. */
  stored?: number;
  /** Which record, where its line does not say it (a JSON file on one line). */
  record?: string;
  /** Read from JSON: problems name fields, not columns. */
  json?: boolean;
  /** A problem of this record alone (an avatar file it cannot read): see DesiredUser.problem. */
  problem?: string;
}

export interface Built {
  users: BuiltUser[];
  problems: InputProblem[];
}

const ATTR_NAME = /^[A-Za-z][\w$-]*$/;

/** The trimmed text of a cell, undefined when blank. */
function textOf(value: unknown): string | undefined {
  const text = cellText(value)?.trim();
  return text === undefined || text === '' ? undefined : text;
}

// ---------------------------------------------------------------- pleio

const PLEIO_COLUMNS = ['external_id', 'name', 'email', 'avatar'] as const;
type PleioColumn = (typeof PLEIO_COLUMNS)[number];

export function pleioUsers(table: Table, registry: SchemaRegistry): Built {
  const problems: InputProblem[] = [];
  const header = (message: string, field?: string) =>
    problems.push({ file: table.file, line: table.headerLine, field, message });
  const columns = new Map<PleioColumn, string>();
  const profile: Array<{ column: string; urn: string; attr: string }> = [];
  const enterprise = registry.schema(SCHEMA.ENTERPRISE_USER)?.id ?? SCHEMA.ENTERPRISE_USER;
  for (const column of table.columns) {
    const known = PLEIO_COLUMNS.find((c) => c === column.toLowerCase());
    if (known) {
      columns.set(known, column);
      continue;
    }
    const m = /^profile\.(.*)$/i.exec(column);
    if (!m) {
      header('not a pleio column; expected external_id, name, email, avatar or profile.<field>', column);
      continue;
    }
    const field = m[1]!.trim();
    if (!ATTR_NAME.test(field)) {
      header(`"${field}" cannot be an attribute name (a letter, then letters, digits, _ or -)`, column);
      continue;
    }
    const def = registry.lookup(enterprise, field);
    if (def && def.type !== 'complex' && !def.multiValued && def.mutability !== 'readOnly')
      profile.push({ column, urn: enterprise, attr: def.name });
    else profile.push({ column, urn: PLEIO_EXTENSION, attr: field });
  }
  if (!columns.has('email') && !columns.has('external_id'))
    header(
      'the pleio preset needs an "email" or "external_id" column (header: external_id,name,email,avatar,profile.*)',
    );
  if (problems.length > 0) return { users: [], problems };

  const get = (row: TableRow, column: PleioColumn) => textOf(row.cells.get(columns.get(column) ?? ''));
  const users = table.rows.map((row): BuiltUser => {
    const attributes: Record<string, unknown> = {};
    const externalId = get(row, 'external_id');
    const name = get(row, 'name');
    const email = get(row, 'email');
    const avatar = get(row, 'avatar');
    if (externalId !== undefined) attributes.externalId = externalId;
    if (email !== undefined) attributes.userName = email;
    if (name !== undefined) {
      attributes.displayName = name;
      attributes.name = { formatted: name };
    }
    attributes.active = true;
    if (email !== undefined) attributes.emails = [{ value: email, type: 'work', primary: true }];
    if (avatar !== undefined) attributes.photos = [{ value: avatar, type: 'photo' }];
    for (const p of profile) {
      const value = textOf(row.cells.get(p.column));
      if (value === undefined) continue;
      const ext = (attributes[p.urn] ??= {}) as Record<string, unknown>;
      ext[p.attr] = value;
    }
    return { line: row.line, attributes };
  });
  return { users, problems };
}

// ---------------------------------------------------------------- omni

const OMNI_COLUMNS = ['id', 'userName', 'displayName', 'active', 'emails', 'userAttributes', 'groups'] as const;
type OmniColumn = (typeof OMNI_COLUMNS)[number];

function omniEmails(value: unknown): unknown[] | string {
  const parsed = parseJsonText(parseJsonText(value, '['), '{');
  if (typeof parsed === 'string') return [{ value: parsed.trim(), primary: true }];
  const list = Array.isArray(parsed) ? parsed : [parsed];
  const out: unknown[] = [];
  for (const item of list) {
    if (typeof item === 'string') out.push({ value: item.trim() });
    else if (isPlainObject(item)) out.push(item);
    else
      return (
        `emails must be a JSON array of {"value": …, "primary": …, "type": …}, not ` +
        `${describeKind(parsed, 'a list')} of ${describeKind(item, 'a list')}`
      );
  }
  return out;
}

export function omniUsers(table: Table, isJson: boolean): Built {
  const problems: InputProblem[] = [];
  const columns = new Map<OmniColumn, string>();
  for (const column of table.columns) {
    const known = OMNI_COLUMNS.find((c) => c.toLowerCase() === column.toLowerCase());
    if (known) columns.set(known, column);
    else {
      // JSON keys are reported on the first object that has them.
      const line = isJson ? (table.rows.find((r) => r.cells.has(column))?.line ?? table.headerLine) : table.headerLine;
      problems.push({
        file: table.file,
        line,
        field: column,
        message: `not an omni ${isJson ? 'key' : 'column'}; expected ${OMNI_COLUMNS.join(', ')}`,
      });
    }
  }
  if (problems.length > 0) return { users: [], problems };

  const withGroups = columns.has('groups');
  const users: BuiltUser[] = [];
  for (const row of table.rows) {
    const at = (column: OmniColumn, message: string) =>
      problems.push({ file: table.file, line: row.line, field: columns.get(column) ?? column, message });
    const raw = (column: OmniColumn) => row.cells.get(columns.get(column) ?? '');
    const attributes: Record<string, unknown> = {};
    const id = textOf(raw('id'));
    if (id !== undefined) attributes.externalId = id;
    else if (!isBlank(raw('id'))) at('id', `id must be text or a number, not ${describeKind(raw('id'), 'a list')}`);
    for (const key of ['userName', 'displayName'] as const) {
      const value = textOf(raw(key));
      if (value !== undefined) attributes[key] = value;
      else if (!isBlank(raw(key))) at(key, `${key} must be text, not ${describeKind(raw(key), 'a list')}`);
    }
    const active = raw('active');
    if (typeof active === 'boolean') attributes.active = active;
    else if (!isBlank(active)) {
      const v = cellText(active)?.trim().toLowerCase();
      if (v === 'true' || v === 'false') attributes.active = v === 'true';
      else at('active', `${JSON.stringify(active)} is not a boolean (true or false)`);
    }
    const emails = raw('emails');
    if (!isBlank(emails)) {
      const list = omniEmails(emails);
      if (typeof list === 'string') at('emails', list);
      else if (list.length > 0) attributes.emails = list;
    }
    const extra = parseJsonText(raw('userAttributes'), '{');
    if (isPlainObject(extra)) {
      if (Object.keys(extra).length > 0) attributes[OMNI_EXTENSION] = extra;
    } else if (!isBlank(extra))
      at(
        'userAttributes',
        `userAttributes must be a JSON object of attribute → value, not ${
          typeof extra === 'string' ? JSON.stringify(extra) : describeKind(extra, 'a list')
        }`,
      );
    const user: BuiltUser = { line: row.line, attributes };
    if (withGroups) {
      const names = splitList(raw('groups'), ';', { objectKeys: ['display', 'name', 'value'], ignoreCase: true });
      if (names === undefined)
        at('groups', 'groups must be a list of group names (a JSON array, or names separated by ";")');
      else user.groups = names;
    }
    users.push(user);
  }
  return { users, problems };
}

// ---------------------------------------------------------------- groups files

export interface GroupColumns {
  nameColumn: string;
  externalIdColumn?: string;
  membersColumn?: string;
  /** Separator of members in a text cell (a JSON array cell works too). */
  split: string;
  /** Columns other than the name one are used only when the file has them (no problem when it does not). */
  optionalColumns?: boolean;
  /**
   * Where a missing configured column is reported: the mapping file and line that name it. Default: the groups file's
   * header.
   */
  configuredAt?: { file: string; line: number };
}

/**
 * Groups from a table: one row per group with its name, maybe an externalId and members
 * (user keys as the source gives them). Names must be present and unique (ignoring case),
 * externalIds unique.
 */
export function groupsFromTable(
  table: Table,
  config: GroupColumns,
): { groups: DesiredGroup[]; problems: InputProblem[] } {
  const problems: InputProblem[] = [];
  const shown = table.columns.map((c) => JSON.stringify(c)).join(', ') || 'none';
  const optional = config.optionalColumns ?? false;
  const resolve = (
    key: 'nameColumn' | 'externalIdColumn' | 'membersColumn',
    isOptional: boolean,
  ): string | undefined => {
    const name = config[key];
    if (name === undefined) return undefined;
    const found = findColumn(table.columns, name);
    if (found !== undefined || isOptional) return found;
    const message =
      `the ${key === 'nameColumn' ? 'group name' : key === 'externalIdColumn' ? 'externalId' : 'members'} ` +
      `column "${name}" is not in ${table.file} (header on line ` +
      `${table.headerLine}); its columns: ${shown}`;
    // Reported where the column is named: the mapping's groups section, else the groups file's header.
    problems.push(
      config.configuredAt
        ? { ...config.configuredAt, field: `groups.${key}`, fieldKind: 'key', message }
        : { file: table.file, line: table.headerLine, field: name, message },
    );
    return undefined;
  };
  const nameColumn = resolve('nameColumn', false);
  const idColumn = resolve('externalIdColumn', optional);
  const membersColumn = resolve('membersColumn', optional);
  if (problems.length > 0 || !nameColumn) return { groups: [], problems };

  const groups: DesiredGroup[] = [];
  const names = new Map<string, number>();
  const ids = new Map<string, number>();
  for (const row of table.rows) {
    const at = (field: string, message: string) => problems.push({ file: table.file, line: row.line, field, message });
    const name = textOf(row.cells.get(nameColumn));
    if (name === undefined) {
      at(nameColumn, 'the group has no name');
      continue;
    }
    const twin = names.get(name.toLowerCase());
    if (twin !== undefined) at(nameColumn, `group "${name}" already on line ${twin}`);
    else names.set(name.toLowerCase(), row.line);
    const group: DesiredGroup = { displayName: name, origin: { file: table.file, line: row.line } };
    if (idColumn) {
      const id = textOf(row.cells.get(idColumn));
      if (id !== undefined) {
        const first = ids.get(id);
        if (first !== undefined) at(idColumn, `externalId "${id}" already on line ${first}`);
        else ids.set(id, row.line);
        group.externalId = id;
      }
    }
    if (membersColumn) {
      const members = splitList(row.cells.get(membersColumn), config.split, {
        objectKeys: ['value', 'id', 'externalId'],
      });
      if (members === undefined)
        at(membersColumn, `members must be user keys: a JSON array, or keys separated by "${config.split}"`);
      else group.members = members;
    }
    groups.push(group);
  }
  return { groups, problems };
}

/**
 * Renderers of SCIM resources for the read commands: list tables, detail views
 * and JSON, in the terminal or pipe form the IOStreams call for.
 */
import { SchemaRegistry } from '../api/schema.ts';
import {
  primaryEmail,
  SCHEMA,
  type MultiValue,
  type ScimGroup,
  type ScimResource,
  type ScimUser,
} from '../api/types.ts';
import { flattenResource } from '../formats/scim-csv.ts';
import type { IOStreams } from './iostreams.ts';
import type { ProgressReporter } from './progress.ts';
import { writeChunk } from './iostreams.ts';
import { renderTable, renderTsvRow, type Column } from './table.ts';

/** A display string for any attribute path (`name.givenName`, `emails`, `urn:…:department`). */
export function attributeText(resource: ScimResource, path: string, registry = new SchemaRegistry()): string {
  const { urn, attrPath } = /^urn:/i.test(path) ? registry.splitUrn(path) : { urn: undefined, attrPath: path };
  let value: unknown = urn
    ? (resource[urn] ?? resource[Object.keys(resource).find((k) => k.toLowerCase() === urn.toLowerCase()) ?? ''])
    : resource;
  for (const part of attrPath.split('.')) {
    if (value === null || value === undefined) break;
    if (Array.isArray(value))
      value = value.map((v) => (v && typeof v === 'object' ? caseless(v as Record<string, unknown>, part) : undefined));
    else if (typeof value === 'object') value = caseless(value as Record<string, unknown>, part);
    else value = undefined;
  }
  return display(value);
}

function caseless(obj: Record<string, unknown>, key: string): unknown {
  if (key in obj) return obj[key];
  const lower = key.toLowerCase();
  const found = Object.keys(obj).find((k) => k.toLowerCase() === lower);
  return found === undefined ? undefined : obj[found];
}

function display(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) {
    return value
      .map((v) =>
        v && typeof v === 'object'
          ? ((v as MultiValue).value ?? (v as MultiValue).display ?? JSON.stringify(v))
          : display(v),
      )
      .filter((s) => s !== '')
      .join(', ');
  }
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export const USER_COLUMNS: Column<ScimUser>[] = [
  { header: 'id', value: (u) => u.id, shrinkable: true, minWidth: 8 },
  { header: 'userName', value: (u) => u.userName ?? '', minWidth: 12 },
  { header: 'displayName', value: (u) => u.displayName ?? '', minWidth: 10 },
  { header: 'active', value: (u) => (u.active === undefined ? '' : u.active ? 'yes' : 'no'), minWidth: 6 },
  { header: 'email', value: (u) => primaryEmail(u) ?? '', minWidth: 10 },
];

export const GROUP_COLUMNS: Column<ScimGroup>[] = [
  { header: 'id', value: (g) => g.id, shrinkable: true, minWidth: 8 },
  { header: 'displayName', value: (g) => g.displayName ?? '', minWidth: 12 },
  { header: 'members', value: (g) => (Array.isArray(g.members) ? String(g.members.length) : ''), minWidth: 7 },
];

export const MEMBER_COLUMNS: Column<MultiValue>[] = [
  { header: 'id', value: (m) => m.value ?? '', shrinkable: true, minWidth: 8 },
  { header: 'display', value: (m) => m.display ?? '', minWidth: 12 },
  { header: 'type', value: (m) => m.type ?? '', minWidth: 5 },
];

/** Columns for `--attributes a,b`: the id, then each requested attribute. */
export function attributeColumns<T extends ScimResource>(attributes: string[], registry?: SchemaRegistry): Column<T>[] {
  return [
    { header: 'id', value: (r) => r.id, shrinkable: true, minWidth: 8 },
    ...attributes.map((a) => ({ header: a, value: (r: T) => attributeText(r, a, registry), minWidth: 6 })),
  ];
}

/**
 * Prints a stream of resources: JSON array (streamed), a table on a terminal
 * (collected, to size the columns), or tab-separated rows in a pipe (streamed).
 * Returns how many were printed.
 */
export async function printResourceList<T extends object>(
  io: IOStreams,
  items: AsyncIterable<T>,
  columns: Column<T>[],
  json: boolean,
  progress?: ProgressReporter,
): Promise<number> {
  let count = 0;
  const out = batched(io);
  // Results streaming onto the terminal are their own progress: a bar would tangle with them.
  if (io.isStdoutTTY && json) progress?.finish();
  if (json) {
    await out.write('[');
    for await (const item of items) {
      await out.write(`${count === 0 ? '\n' : ',\n'}${indent(JSON.stringify(item, null, 2))}`);
      count++;
    }
    await out.write(count === 0 ? ']\n' : '\n]\n');
    await out.flush();
    return count;
  }
  if (io.isStdoutTTY) {
    const rows: T[] = [];
    for await (const item of items) rows.push(item);
    progress?.finish();
    if (rows.length > 0) await writeChunk(io.stdout, `${renderTable(rows, columns, io.columns).join('\n')}\n`);
    return rows.length;
  }
  for await (const item of items) {
    await out.write(`${renderTsvRow(item, columns)}\n`);
    count++;
  }
  await out.flush();
  return count;
}

/** Collects small writes into chunks of about 64 KiB: one syscall per chunk, not per row. */
function batched(io: IOStreams): { write(s: string): Promise<void> | void; flush(): Promise<void> | void } {
  let buffer = '';
  return {
    write(s) {
      buffer += s;
      if (buffer.length < 65_536) return;
      const chunk = buffer;
      buffer = '';
      return writeChunk(io.stdout, chunk);
    },
    flush() {
      const chunk = buffer;
      buffer = '';
      return chunk ? writeChunk(io.stdout, chunk) : undefined;
    },
  };
}

function itemText(item: Record<string, unknown>): string {
  return Object.entries(item)
    .map(([k, v]) => `${k}=${display(v)}`)
    .join('  ');
}

/** The attributes whose items refer to other resources by id. */
const REFERENCES = new Set(['groups', 'members']);

function indent(text: string): string {
  return text.replace(/^/gm, '  ');
}

/**
 * Prints one resource: JSON as received, or its attributes one per line (column names of the CSV scheme).
 * `names`: the names of the groups and members it refers to, by id: each such line leads with the name.
 */
export async function printResourceDetail(
  io: IOStreams,
  resource: ScimResource,
  json: boolean,
  coreSchema: string = SCHEMA.USER,
  names?: ReadonlyMap<string, string>,
): Promise<void> {
  if (json) {
    await writeChunk(io.stdout, `${JSON.stringify(resource, null, 2)}\n`);
    return;
  }
  const rows: Array<[string, string]> = [];
  // Named references (groups, members) get a line each, their name first, after the other attributes.
  const named = names ? [...REFERENCES].filter((a) => Array.isArray(resource[a])) : [];
  const rest = named.length > 0 ? { ...resource } : resource;
  for (const a of named) delete rest[a];
  for (const [column, cell] of flattenResource(rest, { registry: new SchemaRegistry(), coreSchema })) {
    if (cell.startsWith('[{')) {
      // Lists of objects (groups, members, untyped emails): one line per item.
      try {
        const items = JSON.parse(cell) as Array<Record<string, unknown>>;
        items.forEach((item, i) => rows.push([`${column}[${i + 1}]`, itemText(item)]));
        continue;
      } catch {
        // Not JSON after all: show it as it is.
      }
    }
    rows.push([column, cell]);
  }
  for (const a of named) {
    (resource[a] as Array<Record<string, unknown>>).forEach((item, i) => {
      const name = typeof item.value === 'string' ? names!.get(item.value) : undefined;
      const shown =
        name === undefined ? item : Object.fromEntries(Object.entries(item).filter(([k]) => k !== 'display'));
      rows.push([`${a}[${i + 1}]`, name === undefined ? itemText(shown) : `${name}  ${itemText(shown)}`]);
    });
  }
  const columns: Column<[string, string]>[] = [
    { header: 'attribute', value: (r) => r[0], minWidth: 10 },
    { header: 'value', value: (r) => r[1], minWidth: 10 },
  ];
  const lines = io.isStdoutTTY ? renderTable(rows, columns, io.columns) : rows.map((r) => renderTsvRow(r, columns));
  await writeChunk(io.stdout, `${lines.join('\n')}\n`);
}

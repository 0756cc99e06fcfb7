/**
 * The CSV column scheme for SCIM resources: one row per resource, one column per
 * attribute path. Used by `export --format csv` and by everything that reads CSV
 * back (bulk-create, sync sources), so an exported file round-trips losslessly.
 *
 * Columns (documented in the README):
 *   userName, active              simple attributes
 *   name.givenName                sub-attribute of a complex attribute
 *   emails[work].value            sub-attribute of the item of type "work" of a multi-valued attribute
 *   emails                        the whole attribute as JSON, when its items cannot be keyed by a
 *                                 distinct type (no type, repeated type, nested values) or are not objects
 *   urn:…:enterprise:2.0:User:department, urn:…:User:manager.value
 *                                 extension attributes under their full schema URN
 * An empty cell means the attribute is absent. Values are typed by the schema
 * (boolean, integer, decimal); values of attributes no schema describes are
 * written as JSON when they are not plain strings, so their type survives.
 */
import type { AttributeDef, SchemaRegistry } from '../api/schema.ts';
import type { ScimResource } from '../api/types.ts';
import { CallerError } from '../util/errors.ts';
import { isPlainObject } from '../util/objects.ts';

export class CsvInputError extends CallerError {
  /** What is wrong, without the "file:line: column …: " the message starts with. */
  readonly detail: string;
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string | undefined,
    detail: string,
  ) {
    super(`${file}:${line}${field ? `: column "${field}"` : ''}: ${detail}`);
    this.name = 'CsvInputError';
    this.detail = detail;
  }
}

type Primitive = string | number | boolean;
const isPrimitive = (v: unknown): v is Primitive =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
const NAME = /^[A-Za-z$][\w$-]*$/;

/**
 * Formula cells. A spreadsheet runs a cell that starts with =, +, -, @, a tab or a carriage
 * return as a formula (CSV injection), so the export writes such a cell with a ' in front:
 * `=HYPERLINK(…)` is written `'=HYPERLINK(…)`. A number (-5, -1.5e3) is no formula and stays
 * as it is. So that the escape can be undone without doubt, a cell whose text already is
 * quotes followed by one of those characters gets one more quote too (`'=x` is written
 * `''=x`). Reading takes exactly one ' off a cell that is one or more quotes followed by one
 * of those characters, and leaves every other cell alone (`'t Hooft` stays `'t Hooft`).
 */
const FORMULA = /^'*[=+\-@\t\r]/;
const ESCAPED_FORMULA = /^'+[=+\-@\t\r]/;
const PLAIN_NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** A cell as the export writes it, escaped when a spreadsheet would take it for a formula (see above). */
export function escapeFormula(cell: string): string {
  return FORMULA.test(cell) && !PLAIN_NUMBER.test(cell) ? `'${cell}` : cell;
}

/** A cell as it was before escapeFormula. */
export function unescapeFormula(cell: string): string {
  return ESCAPED_FORMULA.test(cell) ? cell.slice(1) : cell;
}

/**
 * The longest value (a CSV cell, a JSON string) a source reader takes and the exporter writes, in UTF-8
 * bytes (64 KiB): a longer one is an error, not a value.
 */
export const MAX_VALUE_BYTES = 64 * 1024;

/** The problem of a cell over the limit (`max` bytes, MAX_VALUE_BYTES unless a reader has its own). */
export const cellTooLong = (cell: string, max = MAX_VALUE_BYTES): string =>
  `the cell is ${Buffer.byteLength(cell)} bytes long, over the limit of ${max} bytes`;

/** Looks like something JSON.parse would turn into a non-string. */
const JSONISH = /^\s*(true|false|null|-?\d|\{|\[|")/;

function encodeValue(value: Primitive, def: AttributeDef | undefined): string {
  if (def && def.type !== 'complex') return String(value);
  // No schema for it: keep the type by writing non-strings (and JSON-looking strings) as JSON.
  if (typeof value === 'string' && !JSONISH.test(value)) return value;
  return JSON.stringify(value);
}

function decodeValue(cell: string, def: AttributeDef | undefined, where: () => [number, string]): unknown {
  const fail = (detail: string): never => {
    const [line, field] = where();
    throw new CsvInputError('', line, field, detail);
  };
  if (!def || def.type === 'complex') {
    if (!JSONISH.test(cell)) return cell;
    try {
      return JSON.parse(cell);
    } catch {
      return cell;
    }
  }
  switch (def.type) {
    case 'boolean': {
      const v = cell.trim().toLowerCase();
      if (v === 'true') return true;
      if (v === 'false') return false;
      return fail(`"${cell}" is not a boolean (true or false)`);
    }
    case 'integer': {
      if (!/^\s*-?\d+\s*$/.test(cell)) return fail(`"${cell}" is not an integer`);
      return Number(cell);
    }
    case 'decimal': {
      const n = Number(cell);
      if (cell.trim() === '' || !Number.isFinite(n)) return fail(`"${cell}" is not a number`);
      return n;
    }
    default:
      return cell;
  }
}

/** Items keyed by a distinct, bracket-free type, each a flat object: these get `attr[type].sub` columns. */
function typedItems(value: unknown[]): Array<Record<string, Primitive>> | undefined {
  const types = new Set<string>();
  for (const item of value) {
    if (!isPlainObject(item)) return undefined;
    const type = item.type;
    if (typeof type !== 'string' || type === '' || /[[\]]/.test(type) || types.has(type)) return undefined;
    types.add(type);
    const entries = Object.entries(item).filter(([, v]) => v !== null && v !== undefined);
    if (entries.length < 2 || !entries.every(([k, v]) => NAME.test(k) && isPrimitive(v))) return undefined;
  }
  return value as Array<Record<string, Primitive>>;
}

export interface FlattenContext {
  registry: SchemaRegistry;
  /** The core schema of the resource type (User or Group). */
  coreSchema: string;
  /** When given, collects the columns whose value is a JSON boolean or number (not a string). */
  literals?: Set<string>;
}

/** Resource → cells by column name. */
export function flattenResource(resource: ScimResource, ctx: FlattenContext): Map<string, string> {
  const cells = new Map<string, string>();
  const primitive = (column: string, v: Primitive, def: AttributeDef | undefined) => {
    cells.set(column, encodeValue(v, def));
    if (typeof v === 'boolean' || typeof v === 'number') ctx.literals?.add(column);
  };
  const put = (schema: string, prefix: string, name: string, value: unknown) => {
    if (value === null || value === undefined) return;
    const def = ctx.registry.lookup(schema, name);
    const column = `${prefix}${name}`;
    if (Array.isArray(value)) {
      if (value.length === 0) return; // RFC 7643 §2.5: an empty array is the same as unassigned.
      const items = typedItems(value);
      if (items) {
        for (const item of items) {
          for (const [sub, v] of Object.entries(item)) {
            if (sub === 'type' || v === null || v === undefined) continue;
            primitive(`${column}[${item.type}].${sub}`, v, ctx.registry.lookup(schema, `${name}.${sub}`));
          }
        }
      } else {
        cells.set(column, JSON.stringify(value));
      }
      return;
    }
    if (isPlainObject(value)) {
      const entries = Object.entries(value).filter(([, v]) => v !== null && v !== undefined);
      if (entries.length === 0) return;
      if (entries.every(([k, v]) => NAME.test(k) && isPrimitive(v))) {
        for (const [sub, v] of entries)
          primitive(`${column}.${sub}`, v as Primitive, ctx.registry.lookup(schema, `${name}.${sub}`));
      } else {
        cells.set(column, JSON.stringify(value));
      }
      return;
    }
    if (isPrimitive(value)) primitive(column, value, def);
  };

  for (const [key, value] of Object.entries(resource)) {
    if (/^urn:/i.test(key) && isPlainObject(value)) {
      for (const [name, v] of Object.entries(value)) put(key, `${key}:`, name, v);
    } else {
      put(ctx.coreSchema, '', key, value);
    }
  }
  return cells;
}

/** Orders columns the way an admin reads them: identity first, core in schema order, extensions, then metadata. */
export function orderColumns(columns: Iterable<string>, ctx: FlattenContext): string[] {
  const core = ctx.registry.schema(ctx.coreSchema)?.attributes.map((a) => a.name.toLowerCase()) ?? [];
  const head = ['id', 'externalid', 'username', 'displayname'];
  const rank = (column: string): [number, number, string] => {
    const { urn, attrPath } = /^urn:/i.test(column)
      ? ctx.registry.splitUrn(column)
      : { urn: undefined, attrPath: column };
    const name = (/^[^.[]+/.exec(attrPath)?.[0] ?? attrPath).toLowerCase();
    if (urn) return [4, 0, column];
    if (name === 'meta') return [5, 0, column];
    if (name === 'schemas') return [6, 0, column];
    const h = head.indexOf(name);
    if (h >= 0) return [0, h, column];
    const c = core.indexOf(name);
    return c >= 0 ? [1, c, column] : [3, 0, column];
  };
  return [...columns].sort((a, b) => {
    const [ga, ia, sa] = rank(a);
    const [gb, ib, sb] = rank(b);
    return ga - gb || ia - ib || sa.localeCompare(sb);
  });
}

const COLUMN = /^([A-Za-z$][\w$-]*)(?:\[([^\]]+)\])?(?:\.([A-Za-z$][\w$-]*))?$/;

export interface ParsedColumn {
  column: string;
  /** Extension schema URN, if the column is under one. */
  urn?: string;
  attr: string;
  type?: string;
  sub?: string;
}

export function parseColumn(column: string, registry: SchemaRegistry): ParsedColumn | undefined {
  const { urn, attrPath } = /^urn:/i.test(column) ? registry.splitUrn(column) : { urn: undefined, attrPath: column };
  const m = COLUMN.exec(attrPath);
  if (!m) return undefined;
  return { column, urn, attr: m[1]!, type: m[2], sub: m[3] };
}

/** A parsed column with its schema URN and attribute names spelled as the schema spells them (when it knows them). */
export function canonicalColumn(parsed: ParsedColumn, ctx: FlattenContext): ParsedColumn {
  const urn = parsed.urn !== undefined ? (ctx.registry.schema(parsed.urn)?.id ?? parsed.urn) : undefined;
  const schema = urn ?? ctx.coreSchema;
  const attr = ctx.registry.lookup(schema, parsed.attr)?.name ?? parsed.attr;
  const sub =
    parsed.sub !== undefined ? (ctx.registry.lookup(schema, `${attr}.${parsed.sub}`)?.name ?? parsed.sub) : undefined;
  // A type the schema names among its canonical values takes their spelling too (emails[WORK] is emails[work]).
  const types = parsed.type !== undefined ? ctx.registry.lookup(schema, `${attr}.type`)?.canonicalValues : undefined;
  const type = types?.find((t) => t.toLowerCase() === parsed.type!.toLowerCase()) ?? parsed.type;
  return { column: parsed.column, urn, attr, type, sub };
}

/** Cells by column name → resource. Throws CsvInputError naming the line and column. */
export function unflattenRow(
  row: Record<string, string>,
  ctx: FlattenContext,
  file: string,
  line: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const jsonColumns = new Set<string>();
  const fail = (field: string, detail: string): never => {
    throw new CsvInputError(file, line, field, detail);
  };
  for (const [column, written] of Object.entries(row)) {
    if (written === undefined || written === '') continue;
    if (written.length * 3 > MAX_VALUE_BYTES && Buffer.byteLength(written) > MAX_VALUE_BYTES)
      fail(column, cellTooLong(written));
    const cell = unescapeFormula(written);
    const parsed = parseColumn(column, ctx.registry);
    if (!parsed)
      fail(
        column,
        'not a valid attribute column (expected e.g. userName, name.givenName, ' +
          'emails[work].value or a schema URN path)',
      );
    // Attribute names and schema URNs ignore case (RFC 7643 §2.1): the resource gets the
    // schema's own spelling, whatever the header's (EXTERNALID is externalId).
    const { urn, attr, type, sub } = canonicalColumn(parsed!, ctx);
    const schema = urn ?? ctx.coreSchema;
    const target: Record<string, unknown> = urn ? ((out[urn] ??= {}) as Record<string, unknown>) : out;
    const where = (): [number, string] => [line, column];
    const decode = (path: string) => {
      try {
        return decodeValue(cell, ctx.registry.lookup(schema, path), where);
      } catch (e) {
        if (e instanceof CsvInputError) throw new CsvInputError(file, line, column, e.detail);
        throw e;
      }
    };
    const key = `${urn ?? ''}:${attr}`;

    if (type !== undefined) {
      if (jsonColumns.has(key))
        fail(column, `"${attr}" is also given as a whole in its own column; use one or the other`);
      const list = (target[attr] ??= []) as Array<Record<string, unknown>>;
      if (!Array.isArray(list)) fail(column, `"${attr}" is given both as a single value and per type`);
      let item = list.find((i) => i.type === type);
      if (!item) list.push((item = { type }));
      if (sub === undefined) fail(column, `a typed column needs a sub-attribute, e.g. ${attr}[${type}].value`);
      item[sub!] = decode(`${attr}.${sub}`);
      continue;
    }
    if (sub !== undefined) {
      const obj = (target[attr] ??= {}) as Record<string, unknown>;
      if (!isPlainObject(obj)) fail(column, `"${attr}" is given both as a whole and by sub-attribute`);
      obj[sub] = decode(`${attr}.${sub}`);
      continue;
    }
    const def = ctx.registry.lookup(schema, attr);
    if (def && (def.multiValued || def.type === 'complex')) {
      let value: unknown;
      try {
        value = JSON.parse(cell);
      } catch {
        fail(
          column,
          `"${attr}" is ${def.multiValued ? 'multi-valued' : 'complex'}: give it as JSON ` +
            `(e.g. [{"value":"…","type":"work"}]) or use per-type columns`,
        );
      }
      if (target[attr] !== undefined)
        fail(column, `"${attr}" is also given per type or by sub-attribute; use one or the other`);
      jsonColumns.add(key);
      target[attr] = value;
      continue;
    }
    target[attr] = decode(attr);
  }
  return out;
}

/**
 * A canonical form for comparing resources: SCIM multi-valued attributes are
 * unordered (RFC 7643 §2.4), and empty values equal unassigned ones (§2.5).
 */
export function canonicalResource(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(canonicalResource).filter((v) => v !== undefined);
    if (items.length === 0) return undefined;
    return items
      .map((v) => [JSON.stringify(v), v] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, v]) => v);
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = canonicalResource(value[key]);
      if (v !== undefined) out[key] = v;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  if (value === null || value === '') return undefined;
  return value;
}

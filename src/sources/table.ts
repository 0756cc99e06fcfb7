/**
 * Files of the source of truth as tables: a header and rows of cells, each row
 * knowing the line it starts on. For files that are not in the SCIM column
 * scheme (the pleio and omni presets, any CSV read through a mapping file):
 * columns are plain names here, and what they mean is the caller's business.
 *
 * Pure: no terminal, no exit; it only reads files.
 */
import { readFile } from 'node:fs/promises';
import { cellTooLong, MAX_VALUE_BYTES } from '../formats/scim-csv.ts';
import { hazardMessage, jsonHazards, LineIndex, locateSyntaxError, overBytes, scanLayout } from './json-text.ts';
import { describeKind, isPlainObject } from '../util/objects.ts';
import { checkHeader, parseDelimited } from './delimited.ts';
import { decodeText, type InputProblem } from './resource-file.ts';

/** A file read once: its bytes (for the fingerprint) and its text. */
export interface LoadedFile {
  path: string;
  bytes: Buffer;
  text: string;
}

/** Reads and decodes a file (UTF-8, or UTF-16LE with its BOM), or says why it cannot. */
export async function loadFile(path: string): Promise<LoadedFile | InputProblem> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    return { file: path, line: 0, message: `cannot read: ${e instanceof Error ? e.message : String(e)}` };
  }
  const decoded = decodeText(path, bytes);
  if ('problem' in decoded) return decoded.problem;
  return { path, bytes, text: decoded.text.replace(/^\uFEFF/, '') };
}

export interface TableRow {
  /** 1-based line where the row (CSV) or object (JSON) starts. */
  line: number;
  /** Cells by header column. CSV cells are strings; JSON values are as parsed. */
  cells: Map<string, unknown>;
}

export interface Table {
  file: string;
  /** Column names as the header writes them (trimmed); for JSON, every key seen, in order of appearance. */
  columns: string[];
  /** Line of the header (CSV), or where the JSON value starts. */
  headerLine: number;
  rows: TableRow[];
}

export type TableResult = { table: Table; problems: InputProblem[] } | { table?: undefined; problems: InputProblem[] };

/** The column of `columns` that `name` names: exactly, else ignoring case and surrounding spaces. */
export function findColumn(columns: readonly string[], name: string): string | undefined {
  if (columns.includes(name)) return name;
  const want = name.trim().toLowerCase();
  return columns.find((c) => c.toLowerCase() === want);
}

/**
 * Reads CSV or TSV (by `delimiter`) with a header row. Rows know the line they start on,
 * past quoted line breaks and skipped empty lines. A header-only file has no rows (not a problem).
 */
export async function readDelimitedTable(file: LoadedFile, delimiter: string): Promise<TableResult> {
  const { path } = file;
  const parsed = await parseDelimited(path, file.text, delimiter);
  if (parsed.problem) return { problems: [parsed.problem] };
  const { header } = parsed;
  const columns = header.columns;
  const problems: InputProblem[] = checkHeader(path, header, 'column names').flatMap((c) =>
    c.problem ? [c.problem] : [],
  );
  const rows = parsed.rows.map(({ line, cells: record }): TableRow => {
    const cells = new Map<string, unknown>();
    columns.forEach((column, i) => {
      const cell = record[i] ?? '';
      if (overBytes(cell, MAX_VALUE_BYTES))
        problems.push({
          file: path,
          line,
          field: column || `column ${i + 1}`,
          message: cellTooLong(cell, MAX_VALUE_BYTES),
        });
      if (column !== '' && !cells.has(column)) cells.set(column, cell);
    });
    return { line, cells };
  });
  return { table: { file: path, columns: columns.filter((c) => c !== ''), headerLine: header.line, rows }, problems };
}

/**
 * Reads JSON holding objects: an array of them, or an object with one of `listKeys`
 * (e.g. "users") holding the array. Each object's keys are its cells.
 */
export function readJsonTable(file: LoadedFile, listKeys: readonly string[], kind: string): TableResult {
  const { text, path } = file;
  const lines = new LineIndex(text);
  const at = (offset: number, message: string): InputProblem => ({ file: path, line: lines.line(offset), message });
  if (text.trim() === '') return { problems: [{ file: path, line: 0, message: 'no records: the file is empty' }] };
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    const { offset, reason } = locateSyntaxError(text, e);
    return { problems: [at(offset, `invalid JSON at column ${lines.column(offset)}: ${reason}`)] };
  }
  const layout = scanLayout(text);
  const orList =
    listKeys.length > 0 ? ` or an object with ${listKeys.map((k) => `"${k}"`).join(' or ')} holding one` : '';
  const expected = `expected an array of ${kind} objects${orList}`;
  let items: unknown[];
  let starts: number[];
  if (Array.isArray(root)) {
    items = root;
    starts = layout.rootItems;
  } else if (isPlainObject(root)) {
    const key = Object.keys(root).find((k) => listKeys.some((l) => l.toLowerCase() === k.toLowerCase()));
    const value = key === undefined ? undefined : root[key];
    if (key === undefined || !Array.isArray(value)) {
      return {
        problems: [
          at(
            layout.root,
            key === undefined
              ? `${expected}; this object has none of these keys`
              : `"${key}" must be an array, not ${describeKind(value)}`,
          ),
        ],
      };
    }
    items = value;
    starts = layout.rootMembers.get(key)?.items ?? [];
  } else {
    return { problems: [at(layout.root, `${expected}, not ${describeKind(root)}`)] };
  }
  const problems: InputProblem[] = [];
  const columns: string[] = [];
  const rows: TableRow[] = [];
  items.forEach((item, index) => {
    const offset = starts[index] ?? layout.root;
    if (!isPlainObject(item)) {
      problems.push(at(offset, `item ${index + 1} is ${describeKind(item)}, not a ${kind} object`));
      return;
    }
    for (const h of jsonHazards(text, offset))
      problems.push({
        ...at(offset, hazardMessage(h)),
        ...(h.path !== '' ? { field: h.path, fieldKind: 'field' as const } : {}),
      });
    const cells = new Map<string, unknown>();
    for (const [key, value] of Object.entries(item)) {
      if (!columns.includes(key)) columns.push(key);
      cells.set(key, value);
    }
    rows.push({ line: lines.line(offset), cells });
  });
  return { table: { file: path, columns, headerLine: lines.line(layout.root), rows }, problems };
}

/** Is a value "no value": absent, null, blank text, or an empty list. */
export function isBlank(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value === 'string') return value.trim() === '';
  if (Array.isArray(value)) return value.every(isBlank);
  return false;
}

/** A cell as text: strings as they are, numbers and booleans (from JSON) written out. */
export function cellText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** A text that opens with `opening` parsed as JSON (when it is JSON); anything else as it is. */
export function parseJsonText(value: unknown, opening: string): unknown {
  if (typeof value !== 'string' || !value.trim().startsWith(opening)) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

export interface ListOptions {
  /** For items that are objects: the keys whose value names the item, in order (e.g. display, then value). */
  objectKeys?: readonly string[];
  /** Repeats that differ only in case count as one (group names); default false (ids). */
  ignoreCase?: boolean;
}

/**
 * The items of a list cell: a JSON array, or text split by `separator`. Items are trimmed;
 * blanks and repeats are dropped. Undefined when an item is not text (or a number, or an
 * object with one of `objectKeys`).
 */
export function splitList(value: unknown, separator: string, options: ListOptions = {}): string[] | undefined {
  const parsed = parseJsonText(value, '[');
  let items: unknown[];
  if (Array.isArray(parsed)) items = parsed;
  else if (typeof parsed === 'string') items = parsed.split(separator);
  else if (typeof parsed === 'number') items = [String(parsed)];
  else if (isBlank(parsed)) items = [];
  else return undefined;
  const out: string[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    let text = cellText(item);
    if (text === undefined && isPlainObject(item)) {
      for (const key of options.objectKeys ?? []) {
        text = cellText(item[key]);
        if (text !== undefined && text.trim() !== '') break;
      }
    }
    if (text === undefined) return undefined;
    const name = text.trim();
    const key = options.ignoreCase ? name.toLowerCase() : name;
    if (name === '' || seen.has(key)) continue;
    seen.add(key);
    out.push(name);
  }
  return out;
}

/**
 * Reads the resources of an input file: CSV or TSV in the export column scheme,
 * or JSON (a SCIM ListResponse, an array of resources, or one resource). Every
 * record knows the line it starts on, and every problem found names its file,
 * line and field, so that a bad input is reported whole, before anything is sent.
 *
 * Pure: no terminal, no exit; it only reads the file.
 */
import { isUtf8 } from 'node:buffer';
import { open, readFile } from 'node:fs/promises';
import type { SchemaRegistry } from '../api/schema.ts';
import { SCHEMA } from '../api/types.ts';
import { CsvInputError, MAX_VALUE_BYTES, parseColumn, unflattenRow } from '../formats/scim-csv.ts';
import { describeKind, isPlainObject } from '../util/objects.ts';
import { attrValue, checkColumn, checkResource, looksLikeResource } from './attributes.ts';
import { checkHeader, parseDelimited } from './delimited.ts';
import {
  hazardMessage,
  jsonHazards,
  JsonListSplitter,
  LineIndex,
  locateSyntaxError,
  scanLayout,
  type JsonListItem,
} from './json-text.ts';
import { groupedLines, type LocatedProblem } from './problem-groups.ts';
import { CallerError } from '../util/errors.ts';

export interface SourceRecord {
  resource: Record<string, unknown>;
  file: string;
  /** 1-based line where the record starts. */
  line: number;
  /** Which record, where the line does not say it (InputProblem.record). */
  record?: string;
  /** A JSON record: its problems name fields, not columns. */
  json?: boolean;
}

export interface InputProblem {
  file: string;
  /** 1-based line; 0 for the file as a whole. */
  line: number;
  /** The attribute or column concerned, named as a CSV column would be. */
  field?: string;
  /**
   * What `field` names: a column of a CSV file (default), a field of a JSON record, or a key of a settings file (a sync
   * mapping).
   */
  fieldKind?: 'column' | 'field' | 'key';
  /**
   * Which record, where a line does not say it (JSON with several records on one line): `record 17 (userName "ann")`.
   */
  record?: string;
  message: string;
}

const MAX_LISTED = 20;

export function formatProblem(p: InputProblem): string {
  const record = p.record !== undefined ? `${p.record}: ` : '';
  const field = p.field !== undefined ? `${p.fieldKind ?? 'column'} "${p.field}": ` : '';
  return `${p.file}:${p.line}: ${record}${field}${p.message}`;
}

/** A problem as problem-groups.ts groups it: the problem's field is its label (as formatProblem names it). */
export function locatedProblem(p: InputProblem): LocatedProblem {
  return {
    file: p.file,
    line: p.line,
    ...(p.record !== undefined ? { record: p.record } : {}),
    ...(p.field !== undefined ? { label: `${p.fieldKind ?? 'column'} "${p.field}"` } : {}),
    message: p.message,
  };
}

/**
 * Bad input: every problem found (`problems`); the message tells each kind of problem once,
 * with a count and the first few file:line examples (problem-groups.ts), the first 20 kinds.
 */
export class InputError extends CallerError {
  /**
   * The records read in spite of the problems (a reader that has them says so), for checks that look across records.
   */
  records?: SourceRecord[];
  constructor(readonly problems: InputProblem[]) {
    super(groupedLines(problems.map(locatedProblem), MAX_LISTED).join('\n'));
    this.name = 'InputError';
  }
}

export type FileFormat = 'csv' | 'tsv' | 'json';

export interface ReadOptions {
  registry: SchemaRegistry;
  /** The core schema of the resources in the file (User or Group). */
  coreSchema: string;
  /** Default: by extension (.csv, .tsv, .json), else sniffed from the content. */
  format?: FileFormat;
  /**
   * Zero records is a valid answer (a CSV header without rows, an empty list of resources,
   * a ListResponse with totalResults 0 and no Resources). A file with no text at all is still
   * a problem. Default false: commands that act on each record want at least one.
   */
  allowEmpty?: boolean;
  /** The longest a value (a JSON string, a CSV cell) may be, in UTF-8 bytes; default MAX_VALUE_BYTES (64 KiB). */
  maxValueBytes?: number;
}

interface Read {
  records: SourceRecord[];
  problems: InputProblem[];
}

/** Columns a user can be found or created by (names ignore case). */
const KEY_ATTRIBUTES = new Set(['id', 'externalid', 'username', 'emails']);

const kindOf = (coreSchema: string) => /:([^:]+)$/.exec(coreSchema)?.[1] ?? 'resource';

/** The format a file is in: by its extension, else by its content. */
export function detectFormat(path: string, text: string): FileFormat {
  const ext = /\.([a-z]+)$/i.exec(path)?.[1]?.toLowerCase();
  if (ext === 'csv' || ext === 'tsv' || ext === 'json') return ext;
  const body = text.replace(/^\uFEFF/, '').trimStart();
  if (body.startsWith('{') || body.startsWith('[')) return 'json';
  const firstLine = body.split('\n', 1)[0] ?? '';
  const count = (ch: string) => firstLine.split(ch).length - 1;
  return count('\t') > count(',') ? 'tsv' : 'csv';
}

/** The text of a file: UTF-8 (BOM dropped), or UTF-16LE when it starts with that BOM (Excel's "Unicode text"). */
export function decodeText(file: string, bytes: Buffer): { text: string } | { problem: InputProblem } {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { text: new TextDecoder('utf-16le').decode(bytes) };
  // isUtf8 validates natively; toString decodes natively (a fatal TextDecoder is several times slower on big files).
  if (isUtf8(bytes)) return { text: bytes.toString('utf8').replace(/^\uFEFF/, '') };
  {
    const lossy = bytes.toString('utf8');
    const at = Math.max(0, lossy.indexOf('\uFFFD'));
    return {
      problem: {
        file,
        line: new LineIndex(lossy).line(at),
        message: 'the file is not UTF-8 text (an invalid byte sequence on this line); save it as UTF-8',
      },
    };
  }
}

/** Reads every record of a file. Throws InputError listing all the problems found (or that the file cannot be read). */
export async function readResourceFile(path: string, options: ReadOptions): Promise<SourceRecord[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new InputError([
      { file: path, line: 0, message: `cannot read: ${e instanceof Error ? e.message : String(e)}` },
    ]);
  }
  return parseResourceBytes(path, bytes, options);
}

/** Like readResourceFile, for bytes already read from `path` (so a caller can digest exactly what was parsed). */
export async function parseResourceBytes(path: string, bytes: Buffer, options: ReadOptions): Promise<SourceRecord[]> {
  const decoded = decodeText(path, bytes);
  if ('problem' in decoded) throw new InputError([decoded.problem]);
  const { text } = decoded;
  if (text.trim() === '') throw new InputError([{ file: path, line: 0, message: 'no records: the file is empty' }]);

  const format = options.format ?? detectFormat(path, text);
  const { records, problems } =
    format === 'json'
      ? readJson(path, text, options)
      : await readDelimited(path, text, options, format === 'tsv' ? '\t' : ',');
  if (problems.length > 0) throw Object.assign(new InputError(problems.sort((a, b) => a.line - b.line)), { records });
  return records;
}

/** What streamJsonResources hands over as it reads. */
export interface StreamHandlers {
  /** The file's size in bytes, before any of its bytes. */
  size?(bytes: number): void;
  /** Every piece of the file's bytes, in order (for a digest); the piece is reused after the call. */
  bytes?(chunk: Buffer): void;
  /**
   * Every record, with the problems checkResource finds in it, and where its text is in the
   * file (`offset` and `bytes`: a span of the file's bytes; `text`: those bytes decoded).
   */
  record(record: SourceRecord, problems: InputProblem[], span: RecordSpan): void;
}

/** Where a record's text is in its file. */
export interface RecordSpan {
  offset: number;
  bytes: number;
  text: string;
}

/** The length of the longest prefix of `bytes` that does not end inside a UTF-8 sequence. */
function completeUtf8(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back for the lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

/**
 * Reads a JSON file of resources (a ListResponse, or an array of resources) as a stream:
 * each record is parsed and checked as soon as its text has arrived, so neither the file's
 * text nor all of its parsed records are ever held at once. Gives the same records and
 * problems parseResourceBytes would, for the files it takes.
 *
 * It takes only well-formed UTF-8 JSON in those two shapes with at least one record, each an
 * object. For any other file (CSV, UTF-16, a syntax error, a single resource, an element
 * that is not an object, an empty list …) it returns false: then discard what `record` was
 * given and read the file whole (parseResourceBytes), which describes every problem.
 */
export async function streamJsonResources(
  path: string,
  options: ReadOptions,
  handlers: StreamHandlers,
): Promise<boolean> {
  const ext = /\.([a-z]+)$/i.exec(path)?.[1]?.toLowerCase();
  if (options.format !== undefined ? options.format !== 'json' : ext === 'csv' || ext === 'tsv') return false;
  let handle;
  try {
    handle = await open(path);
  } catch {
    return false;
  }
  try {
    const size = (await handle.stat()).size;
    handlers.size?.(size);
    const splitter = new JsonListSplitter();
    let read = 0;
    let first = true;
    // Bytes before the text the splitter is given (a byte order mark).
    let skipped = 0;
    const maxBytes = options.maxValueBytes ?? MAX_VALUE_BYTES;
    let lastLine = 0;
    const onItem = ({ text, line, byteOffset }: JsonListItem) => {
      // Records that share a line are named by their place in the list: the whole read does that.
      if (line === lastLine) return splitter.fail();
      lastLine = line;
      let resource: Record<string, unknown>;
      try {
        resource = JSON.parse(text) as Record<string, unknown>;
      } catch {
        splitter.fail();
        return;
      }
      const at = (p: { field?: string; message: string }): InputProblem => ({
        file: path,
        line,
        ...(p.field !== undefined && p.field !== '' ? { field: p.field, fieldKind: 'field' as const } : {}),
        message: p.message,
      });
      const hazards = jsonHazards(text, 0, text.length, maxBytes);
      const named = new Set(hazards.map((h) => h.path.toLowerCase()));
      const problems = [
        ...hazards.map((h) => at({ field: h.path, message: hazardMessage(h, maxBytes) })),
        ...checkResource(resource, options.registry, options.coreSchema)
          .filter((p) => !named.has(p.field.toLowerCase()))
          .map(at),
      ];
      handlers.record({ resource, file: path, line, json: true }, problems, {
        offset: skipped + byteOffset,
        bytes: Buffer.byteLength(text),
        text,
      });
    };
    // One buffer for the whole file (a new one per piece leaves the process holding memory it
    // freed); it starts with the bytes of a character the previous piece cut in two.
    const buffer = Buffer.allocUnsafe(1 << 20);
    let kept = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, kept, buffer.length - kept, null);
      if (bytesRead === 0) break;
      read += bytesRead;
      handlers.bytes?.(buffer.subarray(kept, kept + bytesRead));
      const end = kept + bytesRead;
      if (first && end >= 2 && buffer[0] === 0xff && buffer[1] === 0xfe) return false; // UTF-16: read whole
      const cut = completeUtf8(buffer.subarray(0, end));
      if (!isUtf8(buffer.subarray(0, cut))) return false;
      let text = buffer.toString('utf8', 0, cut);
      buffer.copy(buffer, 0, cut, end);
      kept = end - cut;
      if (first) {
        if (text.startsWith('\uFEFF')) {
          text = text.slice(1);
          skipped = 3;
        }
        if (options.format === undefined && ext !== 'json' && detectFormat(path, text) !== 'json') return false;
        first = false;
      }
      splitter.push(text, onItem);
      if (splitter.failed) return false;
    }
    // A file that changed while it was read: read it again, whole.
    if (kept > 0 || read !== size) return false;
    return splitter.end() !== undefined;
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------- CSV / TSV

async function readDelimited(file: string, text: string, options: ReadOptions, delimiter: string): Promise<Read> {
  const { registry, coreSchema } = options;
  const problems: InputProblem[] = [];
  const parsed = await parseDelimited(file, text, delimiter);
  const { header } = parsed;
  const reported = new Set<string>();
  const wholeJson = new Set<string>();
  // An unnamed column is harmless while empty; unflattenRow objects to a value in it.
  for (const { column, problem } of header ? checkHeader(file, header, 'attribute names') : []) {
    if (problem) {
      reported.add(column);
      problems.push(problem);
      continue;
    }
    const check = checkColumn(column, registry, coreSchema);
    if (check.problem) {
      reported.add(column);
      problems.push({ file, line: header!.line, field: column, message: check.problem });
    } else if (check.wholeJson) wholeJson.add(column.toLowerCase());
  }

  // A users file needs a column to match or create users by: without one, every row would be a
  // user with no key (an upper-case or foreign header must not read as 50 users to leave out).
  if (header && coreSchema.toLowerCase() === SCHEMA.USER.toLowerCase()) {
    const keyColumn = header.columns.some(
      (c) => KEY_ATTRIBUTES.has(parseColumn(c, registry)?.attr.toLowerCase() ?? '') && !parseColumn(c, registry)?.urn,
    );
    if (!keyColumn) {
      const shown = header.columns
        .filter((c) => c !== '')
        .slice(0, 8)
        .map((c) => JSON.stringify(c))
        .join(', ');
      problems.push({
        file,
        line: header.line,
        message:
          `no key column: a users file needs externalId, userName or an e-mail column ` +
          `(emails[work].value, or emails as JSON); the header has ${shown || 'no names'}`,
      });
    }
  }

  // A row the parser cannot read stops the reading, and no row is taken; a bad column is already reported.
  if (parsed.problem) {
    const p = parsed.problem;
    if (p.field === undefined || !reported.has(p.field)) problems.push(p);
    return { records: [], problems };
  }
  const records: SourceRecord[] = [];
  const ctx = { registry, coreSchema };
  for (const row of parsed.rows) {
    const cells: Record<string, string> = {};
    parsed.header.columns.forEach((column, i) => (cells[column] = row.cells[i] ?? ''));
    try {
      records.push({ resource: unflattenRow(cells, ctx, file, row.line), file, line: row.line });
    } catch (e) {
      if (!(e instanceof CsvInputError)) throw e;
      // Reading stops at the first row it cannot turn into a resource; a bad column is already reported.
      if (e.field === undefined || !reported.has(e.field))
        problems.push({ file, line: e.line, field: e.field, message: e.detail });
      return { records, problems };
    }
  }

  if (wholeJson.size > 0) {
    for (const r of records) {
      for (const p of checkResource(r.resource, registry, coreSchema, wholeJson))
        problems.push({ file, line: r.line, ...p });
    }
  }
  if (records.length === 0 && problems.length === 0 && !options.allowEmpty)
    problems.push({ file, line: header?.line ?? 1, message: 'no records: the file has a header but no rows' });
  return { records, problems };
}

// ---------------------------------------------------------------- JSON

const ERROR_LIKE: Record<string, string> = {
  [SCHEMA.ERROR.toLowerCase()]: 'a SCIM error response',
  [SCHEMA.BULK_REQUEST.toLowerCase()]: 'a SCIM BulkRequest',
  [SCHEMA.PATCH_OP.toLowerCase()]: 'a SCIM PatchOp request',
  [SCHEMA.SEARCH_REQUEST.toLowerCase()]: 'a SCIM SearchRequest',
};

function schemasOf(obj: Record<string, unknown>): string[] {
  const schemas = attrValue(obj, 'schemas');
  return Array.isArray(schemas)
    ? schemas.filter((s): s is string => typeof s === 'string').map((s) => s.toLowerCase())
    : [];
}

function readJson(file: string, raw: string, options: ReadOptions): Read {
  const { registry, coreSchema } = options;
  const text = raw.replace(/^\uFEFF/, '');
  const lines = new LineIndex(text);
  const kind = kindOf(coreSchema);
  const problems: InputProblem[] = [];
  const problem = (offset: number, message: string, field?: string) =>
    problems.push({ file, line: lines.line(offset), field, message });
  const expected = `expected a SCIM ListResponse, an array of resources or a single ${kind} object`;

  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    const { offset, reason } = locateSyntaxError(text, e);
    const hint = /after JSON/.test(reason)
      ? ' (a file holds one JSON value: a ListResponse, an array of resources, or one resource)'
      : '';
    problem(offset, `invalid JSON at column ${lines.column(offset)}: ${reason}${hint}`);
    return { records: [], problems };
  }
  const layout = scanLayout(text);

  let items: unknown[];
  let starts: number[];
  let where: string;
  let listStart: number;
  if (Array.isArray(root)) {
    items = root;
    starts = layout.rootItems;
    where = 'item';
    listStart = layout.root;
  } else if (isPlainObject(root)) {
    const schemas = schemasOf(root);
    const key = Object.hasOwn(root, 'Resources')
      ? 'Resources'
      : Object.keys(root).find((k) => k.toLowerCase() === 'resources');
    const other = schemas.map((s) => ERROR_LIKE[s]).find((s) => s !== undefined);
    if (key !== undefined) {
      const member = layout.rootMembers.get(key);
      const value = root[key];
      const start = member?.start ?? layout.root;
      if (!Array.isArray(value)) {
        problem(start, `"${key}" must be an array of resources, not ${describeKind(value)}`);
        return { records: [], problems };
      }
      items = value;
      starts = member?.items ?? [];
      where = `${key} item`;
      listStart = start;
    } else if (schemas.includes(SCHEMA.LIST_RESPONSE.toLowerCase())) {
      // RFC 7644 §3.4.2: Resources is required only when totalResults is non-zero.
      if (options.allowEmpty && attrValue(root, 'totalResults') === 0) return { records: [], problems };
      problem(layout.root, 'no records: the ListResponse has no "Resources"');
      return { records: [], problems };
    } else if (other) {
      const detail = [attrValue(root, 'status'), attrValue(root, 'detail')]
        .filter((v) => typeof v === 'string' || typeof v === 'number')
        .join(' ');
      problem(layout.root, `${expected}; this is ${other}${detail ? ` (${detail})` : ''}`);
      return { records: [], problems };
    } else if (!looksLikeResource(root, registry, coreSchema) && !schemas.length) {
      const keys = Object.keys(root);
      const shown = keys
        .slice(0, 5)
        .map((k) => JSON.stringify(k))
        .join(', ');
      problem(
        layout.root,
        `${expected}; this object has no "Resources" and no ${kind} attribute ` +
          `(${keys.length === 0 ? 'it is empty' : `keys: ${shown}${keys.length > 5 ? ', …' : ''}`})`,
      );
      return { records: [], problems };
    } else {
      items = [root];
      starts = [layout.root];
      where = kind;
      listStart = layout.root;
    }
  } else {
    problem(layout.root, `${expected}, not ${describeKind(root)}`);
    return { records: [], problems };
  }

  if (items.length === 0) {
    if (options.allowEmpty) return { records: [], problems };
    problem(listStart, 'no records: the list of resources is empty');
    return { records: [], problems };
  }
  const records: SourceRecord[] = [];
  // Records that share a line (a file on one line) are named by their place in the list too.
  const perLine = new Map<number, number>();
  for (const offset of starts) perLine.set(lines.line(offset), (perLine.get(lines.line(offset)) ?? 0) + 1);
  const maxBytes = options.maxValueBytes ?? MAX_VALUE_BYTES;
  items.forEach((item, index) => {
    const offset = starts[index] ?? listStart;
    if (!isPlainObject(item)) {
      problem(offset, `${where} ${index + 1} is ${describeKind(item)}, not a ${kind} object`);
      return;
    }
    const line = lines.line(offset);
    const record = (perLine.get(line) ?? 0) > 1 ? recordLabel(index, item) : undefined;
    records.push({ resource: item, file, line, json: true, ...(record !== undefined ? { record } : {}) });
    const at = (p: { field?: string; message: string }): InputProblem => ({
      file,
      line,
      ...(record !== undefined ? { record } : {}),
      ...(p.field !== undefined && p.field !== '' ? { field: p.field, fieldKind: 'field' as const } : {}),
      message: p.message,
    });
    const hazards = starts[index] !== undefined ? jsonHazards(text, offset, text.length, maxBytes) : [];
    for (const h of hazards) problems.push(at({ field: h.path, message: hazardMessage(h, maxBytes) }));
    // A value a hazard already names (a repeated key, 1e999 read as Infinity) is not told again.
    const named = new Set(hazards.map((h) => h.path.toLowerCase()));
    for (const p of checkResource(item, registry, coreSchema))
      if (!named.has(p.field.toLowerCase())) problems.push(at(p));
  });
  return { records, problems };
}

/** A text quoted for a message, its unusual characters (unusualCharacter) written as \u escapes so that they show. */
export function showText(text: string): string {
  return JSON.stringify(text).replace(
    new RegExp(UNUSUAL.source, 'gu'),
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** `record 17 (userName "ann")`: a record by its 1-based place in the list, and what names it. */
export function recordLabel(index: number, resource: Record<string, unknown>): string {
  for (const name of ['userName', 'externalId', 'displayName', 'id']) {
    const v = attrValue(resource, name);
    if (typeof v === 'string' && v !== '')
      return `record ${index + 1} (${name} ${showText(v.length > 40 ? `${v.slice(0, 39)}…` : v)})`;
  }
  return `record ${index + 1}`;
}

// ---------------------------------------------------------------- validation

interface Seen {
  line: number;
  file: string;
  record?: string;
}

/** Reports values of `name` that repeat across records (compared as the schema's caseExact says). */
function uniqueness(name: string, caseExact: boolean, problems: InputProblem[]) {
  const seen = new Map<string, Seen>();
  return (record: SourceRecord) => {
    const value = attrValue(record.resource, name);
    if (typeof value !== 'string' || value === '') return;
    const key = caseExact ? value : value.toLowerCase();
    const first = seen.get(key);
    if (!first) {
      seen.set(key, { line: record.line, file: record.file, record: record.record });
      return;
    }
    const place = first.record !== undefined ? `line ${first.line}, ${first.record}` : `line ${first.line}`;
    const there = first.file === record.file ? place : `${first.file} ${place}`;
    problems.push({
      file: record.file,
      line: record.line,
      field: name,
      message: `${name} ${JSON.stringify(value)} already on ${there}`,
    });
  };
}

function identityChecks(registry: SchemaRegistry, coreSchema: string, problems: InputProblem[]) {
  const exact = (name: string, fallback: boolean) => registry.lookup(coreSchema, name)?.caseExact ?? fallback;
  return [uniqueness('externalId', exact('externalId', true), problems), uniqueness('id', exact('id', true), problems)];
}

/** A required, non-empty string attribute. */
function requireString(record: SourceRecord, name: string, problems: InputProblem[]): void {
  const value = attrValue(record.resource, name);
  const at = (message: string) => problems.push({ file: record.file, line: record.line, field: name, message });
  if (value === undefined || value === null) at(`${name} is required`);
  else if (typeof value !== 'string') at(`${name} must be a string, not ${describeKind(value)}`);
  else if (value.trim() === '') at(`${name} is empty`);
}

/** Why `address` is not a plausible e-mail address, or undefined when it is. */
function emailFlaw(address: string): string | undefined {
  if (/\s/.test(address)) return 'it contains a space';
  const parts = address.split('@');
  if (parts.length !== 2) return parts.length === 1 ? 'it has no @' : 'it has more than one @';
  const [local, domain] = parts as [string, string];
  if (local === '') return 'nothing before the @';
  const labels = domain.split('.');
  if (labels.length < 2 || labels.some((l) => l === ''))
    return `the domain "${domain}" needs a dot between non-empty parts`;
  return undefined;
}

function checkEmails(record: SourceRecord, problems: InputProblem[]): void {
  const emails = attrValue(record.resource, 'emails');
  const at = (field: string, message: string) =>
    problems.push({ file: record.file, line: record.line, field, message });
  if (emails === undefined || emails === null) return;
  if (!Array.isArray(emails)) {
    at(
      'emails',
      `emails must be a list such as [{"value": "a@example.com", "type": "work"}], not ${describeKind(emails)}`,
    );
    return;
  }
  emails.forEach((item, index) => {
    if (!isPlainObject(item)) {
      at('emails', `e-mail ${index + 1} is ${describeKind(item)}, not an object with a "value"`);
      return;
    }
    const type = attrValue(item, 'type');
    const typed = typeof type === 'string' && type !== '';
    const field = typed ? `emails[${type}].value` : 'emails';
    const which = typed ? `the ${type} e-mail` : `e-mail ${index + 1}`;
    const value = attrValue(item, 'value');
    if (value === undefined || value === null || value === '') at(field, `${which} has no address (value)`);
    else if (typeof value !== 'string') at(field, `${which} must be a string, not ${describeKind(value)}`);
    else {
      const flaw = emailFlaw(value);
      if (flaw) at(field, `${JSON.stringify(value)} is not a valid e-mail address: ${flaw}`);
    }
  });
}

function checkBoolean(record: SourceRecord, name: string, problems: InputProblem[]): void {
  const value = attrValue(record.resource, name);
  if (value === undefined || value === null || typeof value === 'boolean') return;
  const message =
    typeof value === 'string' && /^\s*(true|false)\s*$/i.test(value)
      ? `${JSON.stringify(value)} is a string: write true or false, without quotes`
      : `${name} must be true or false, not ${JSON.stringify(value)}`;
  problems.push({ file: record.file, line: record.line, field: name, message });
}

/**
 * Reads a users file and checks its records (validateUsers): every problem of both, at once,
 * as one InputError; else the records.
 */
export async function readUsersFile(
  path: string,
  options: ReadOptions,
  check: UserCheckOptions = {},
): Promise<SourceRecord[]> {
  let records: SourceRecord[];
  let problems: InputProblem[] = [];
  try {
    records = await readResourceFile(path, options);
  } catch (e) {
    if (!(e instanceof InputError) || e.records === undefined) throw e;
    records = e.records;
    problems = e.problems;
  }
  const found = [...problems, ...untold(problems, validateUsers(records, options.registry, check))];
  if (found.length > 0) throw Object.assign(new InputError(found.sort((a, b) => a.line - b.line)), { records });
  return records;
}

/** A record's problem with what names the record (a JSON record's place on a shared line) and its fields. */
function placed(record: SourceRecord, p: InputProblem): InputProblem {
  if (record.record === undefined && !record.json) return p;
  return {
    ...p,
    ...(record.record !== undefined && p.record === undefined ? { record: record.record } : {}),
    ...(record.json && p.field !== undefined && p.fieldKind === undefined ? { fieldKind: 'field' as const } : {}),
  };
}

/**
 * `more` without the problems `told` already has for the same line and field (a value two
 * checks find wrong is told once, by the first).
 */
export function untold(told: readonly InputProblem[], more: readonly InputProblem[]): InputProblem[] {
  const key = (p: InputProblem) => `${p.file}\0${p.line}\0${p.record ?? ''}\0${(p.field ?? '').toLowerCase()}`;
  const seen = new Set(told.filter((p) => p.field !== undefined).map(key));
  return more.filter((p) => p.field === undefined || !seen.has(key(p)));
}

/**
 * Checks records meant to become users: userName present (unless not required) and unique
 * (ignoring case), externalId and id unique, e-mail addresses plausible, active a boolean.
 * Read-only attributes (meta, groups) are left to the caller. Returns every problem found.
 */
export interface UserCheckOptions {
  /** Default true. */
  requireUserName?: boolean;
  /**
   * Take userNames and e-mail addresses with control, invisible or bidi characters (unusualCharacter); default false.
   */
  allowUnusualNames?: boolean;
}

/** Names of the characters most often behind an unusual name. */
const CHARACTER_NAMES: Record<number, string> = {
  0x00: 'NUL',
  0x09: 'TAB',
  0x0a: 'LINE FEED',
  0x0d: 'CARRIAGE RETURN',
  0x1b: 'ESCAPE',
  0x7f: 'DELETE',
  0xad: 'SOFT HYPHEN',
  0x200b: 'ZERO WIDTH SPACE',
  0x200c: 'ZERO WIDTH NON-JOINER',
  0x200d: 'ZERO WIDTH JOINER',
  0x200e: 'LEFT-TO-RIGHT MARK',
  0x200f: 'RIGHT-TO-LEFT MARK',
  0x202a: 'LEFT-TO-RIGHT EMBEDDING',
  0x202b: 'RIGHT-TO-LEFT EMBEDDING',
  0x202c: 'POP DIRECTIONAL FORMATTING',
  0x202d: 'LEFT-TO-RIGHT OVERRIDE',
  0x202e: 'RIGHT-TO-LEFT OVERRIDE',
  0x2028: 'LINE SEPARATOR',
  0x2029: 'PARAGRAPH SEPARATOR',
  0x2060: 'WORD JOINER',
  0x2066: 'LEFT-TO-RIGHT ISOLATE',
  0x2067: 'RIGHT-TO-LEFT ISOLATE',
  0x2068: 'FIRST STRONG ISOLATE',
  0x2069: 'POP DIRECTIONAL ISOLATE',
  0x061c: 'ARABIC LETTER MARK',
  0xfeff: 'ZERO WIDTH NO-BREAK SPACE',
};

/** Control (Cc), format (Cf: zero-width, bidi), line and paragraph separators, and lone surrogates. */
const UNUSUAL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u;

/**
 * What makes `value` unusual as a name a person reads or types: a control character (NUL, a
 * line break), an invisible one (zero-width, soft hyphen), a bidi control (which can show a
 * name reversed), or half of a surrogate pair (no character at all). Undefined when none.
 */
export function unusualCharacter(value: string): string | undefined {
  const m = UNUSUAL.exec(value);
  if (!m) return undefined;
  const code = m[0].codePointAt(0)!;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  const position = [...value.slice(0, m.index)].length + 1;
  if (code >= 0xd800 && code <= 0xdfff)
    return `half of a surrogate pair (${hex}, no character) at character ${position}`;
  const name = CHARACTER_NAMES[code];
  const kind = /\p{Cc}/u.test(m[0])
    ? 'a control character'
    : /[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]/.test(m[0])
      ? 'a bidi control character'
      : 'an invisible character';
  return `${kind} ${hex}${name ? ` (${name})` : ''} at character ${position}`;
}

const SCRIPTS: Array<[string, RegExp]> = [
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
];

/**
 * Letters of more than one of the scripts whose letters look alike (Latin, Cyrillic, Greek) in
 * one name: "аnn" with a Cyrillic а reads as "ann". The scripts found, or undefined.
 */
export function mixedScripts(value: string): string[] | undefined {
  const found = SCRIPTS.filter(([, re]) => re.test(value)).map(([name]) => name);
  return found.length > 1 ? found : undefined;
}

function checkUnusual(record: SourceRecord, problems: InputProblem[]): void {
  const at = (field: string, what: string, flaw: string) =>
    problems.push({
      file: record.file,
      line: record.line,
      field,
      message:
        `${what} has ${flaw}: refused, as it would show as another name or none ` +
        `(--allow-unusual-names accepts it)`,
    });
  const userName = attrValue(record.resource, 'userName');
  if (typeof userName === 'string') {
    const flaw = unusualCharacter(userName);
    if (flaw) at('userName', 'the userName', flaw);
  }
  const emails = attrValue(record.resource, 'emails');
  if (!Array.isArray(emails)) return;
  emails.forEach((item, index) => {
    if (!isPlainObject(item)) return;
    const value = attrValue(item, 'value');
    if (typeof value !== 'string') return;
    const flaw = unusualCharacter(value);
    if (!flaw) return;
    const type = attrValue(item, 'type');
    const typed = typeof type === 'string' && type !== '';
    at(typed ? `emails[${type}].value` : 'emails', typed ? `the ${type} e-mail` : `e-mail ${index + 1}`, flaw);
  });
}

export function validateUsers(
  records: SourceRecord[],
  registry: SchemaRegistry,
  opts: UserCheckOptions = {},
): InputProblem[] {
  const requireUserName = opts.requireUserName ?? true;
  const problems: InputProblem[] = [];
  const userNames = uniqueness('userName', registry.lookup(SCHEMA.USER, 'userName')?.caseExact ?? false, problems);
  const identities = identityChecks(registry, SCHEMA.USER, problems);
  for (const record of records) {
    const before = problems.length;
    const userName = attrValue(record.resource, 'userName');
    if (requireUserName || (userName !== undefined && userName !== null)) requireString(record, 'userName', problems);
    userNames(record);
    for (const check of identities) check(record);
    const unusual: InputProblem[] = [];
    if (!opts.allowUnusualNames) checkUnusual(record, unusual);
    const emailProblems: InputProblem[] = [];
    checkEmails(record, emailProblems);
    problems.push(...unusual, ...untold(unusual, emailProblems));
    checkBoolean(record, 'active', problems);
    for (let i = before; i < problems.length; i++) problems[i] = placed(record, problems[i]!);
  }
  return problems;
}

/**
 * Checks records meant to become groups: displayName present and unique (ignoring case),
 * externalId and id unique, members a list of objects with a string "value".
 */
export function validateGroups(records: SourceRecord[], registry: SchemaRegistry): InputProblem[] {
  const problems: InputProblem[] = [];
  const names = uniqueness('displayName', registry.lookup(SCHEMA.GROUP, 'displayName')?.caseExact ?? false, problems);
  const identities = identityChecks(registry, SCHEMA.GROUP, problems);
  for (const record of records) {
    const before = problems.length;
    requireString(record, 'displayName', problems);
    names(record);
    for (const check of identities) check(record);
    const members = attrValue(record.resource, 'members');
    const at = (message: string) => problems.push({ file: record.file, line: record.line, field: 'members', message });
    if (Array.isArray(members)) {
      members.forEach((m, index) => {
        if (!isPlainObject(m)) at(`member ${index + 1} is ${describeKind(m)}, not an object with a "value"`);
        else {
          const value = attrValue(m, 'value');
          if (typeof value !== 'string' || value === '')
            at(
              `member ${index + 1} has no "value" (the member's ` +
                `id)${value === undefined ? '' : `: got ${JSON.stringify(value)}`}`,
            );
        }
      });
    } else if (members !== undefined && members !== null)
      at(`members must be a list such as [{"value": "<user id>"}], not ${describeKind(members)}`);
    for (let i = before; i < problems.length; i++) problems[i] = placed(record, problems[i]!);
  }
  return problems;
}

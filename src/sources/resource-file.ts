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
import { Readable } from 'node:stream';
import type { SchemaRegistry } from '../api/schema.ts';
import { SCHEMA } from '../api/types.ts';
import { CsvInputError, parseColumn, readScimCsv } from '../formats/scim-csv.ts';
import { attrValue, checkColumn, checkResource, isPlainObject, looksLikeResource } from './attributes.ts';
import { JsonListSplitter, LineIndex, locateSyntaxError, scanLayout, type JsonListItem } from './json-text.ts';
import { groupedLines, type LocatedProblem } from './problem-groups.ts';

export interface SourceRecord {
  resource: Record<string, unknown>;
  file: string;
  /** 1-based line where the record starts. */
  line: number;
}

export interface InputProblem {
  file: string;
  /** 1-based line; 0 for the file as a whole. */
  line: number;
  /** The attribute or column concerned, named as a CSV column would be. */
  field?: string;
  /** What `field` names: a column or attribute of the file (default), or a key of a settings file (a sync mapping). */
  fieldKind?: 'column' | 'key';
  message: string;
}

const MAX_LISTED = 20;

export function formatProblem(p: InputProblem): string {
  return `${p.file}:${p.line}: ${p.field !== undefined ? `${p.fieldKind ?? 'column'} "${p.field}": ` : ''}${p.message}`;
}

/** A problem as problem-groups.ts groups it: the problem's field is its label (as formatProblem names it). */
export function locatedProblem(p: InputProblem): LocatedProblem {
  return { file: p.file, line: p.line, ...(p.field !== undefined ? { label: `${p.fieldKind ?? 'column'} "${p.field}"` } : {}), message: p.message };
}

/**
 * Bad input: every problem found (`problems`); the message tells each kind of problem once,
 * with a count and the first few file:line examples (problem-groups.ts), the first 20 kinds.
 */
export class InputError extends Error {
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
}

interface Read {
  records: SourceRecord[];
  problems: InputProblem[];
}

/** Columns a user can be found or created by (names ignore case). */
const KEY_ATTRIBUTES = new Set(['id', 'externalid', 'username', 'emails']);

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);
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
    return { problem: { file, line: new LineIndex(lossy).line(at), message: 'the file is not UTF-8 text (an invalid byte sequence on this line); save it as UTF-8' } };
  }
}

/** Reads every record of a file. Throws InputError listing all the problems found (or that the file cannot be read). */
export async function readResourceFile(path: string, options: ReadOptions): Promise<SourceRecord[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new InputError([{ file: path, line: 0, message: `cannot read: ${e instanceof Error ? e.message : String(e)}` }]);
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
  const { records, problems } = format === 'json' ? readJson(path, text, options) : await readDelimited(path, text, options, format === 'tsv' ? '\t' : ',');
  if (problems.length > 0) throw new InputError(problems.sort((a, b) => a.line - b.line));
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
export async function streamJsonResources(path: string, options: ReadOptions, handlers: StreamHandlers): Promise<boolean> {
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
    const onItem = ({ text, line, byteOffset }: JsonListItem) => {
      let resource: Record<string, unknown>;
      try {
        resource = JSON.parse(text) as Record<string, unknown>;
      } catch {
        splitter.fail();
        return;
      }
      const problems = checkResource(resource, options.registry, options.coreSchema).map((p): InputProblem => ({ file: path, line, ...p }));
      handlers.record({ resource, file: path, line }, problems, { offset: skipped + byteOffset, bytes: Buffer.byteLength(text), text });
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

/** The header row and the line it is on (csv-parse as readScimCsv uses it, stopping after one record). */
async function readHeader(text: string, delimiter: string): Promise<{ columns: string[]; line: number } | undefined> {
  const { parse } = await import('csv-parse/sync');
  try {
    const first = parse(text, { bom: true, delimiter, relax_quotes: delimiter === '\t', skip_empty_lines: true, to: 1 })[0];
    const emptyLines = (/^\uFEFF?(?:\r?\n)*/.exec(text)?.[0].match(/\n/g) ?? []).length;
    return first ? { columns: first.map((c) => c.trim()), line: emptyLines + 1 } : undefined;
  } catch {
    return undefined; // readScimCsv reports it
  }
}

/** The detail of a CsvInputError, without the "file:line: column …: " it starts with. */
function csvDetail(e: CsvInputError): string {
  const prefix = `${e.file}:${e.line}${e.field ? `: column "${e.field}"` : ''}: `;
  const detail = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
  // csv-parse names the line where it gave up (the end of the file), not where the record starts.
  return detail.replace(/the parsing is finished with an opening quote at line (\d+)/, 'a quote opened in this record is still open at the end of the file (line $1)');
}

async function readDelimited(file: string, text: string, options: ReadOptions, delimiter: string): Promise<Read> {
  const { registry, coreSchema } = options;
  const problems: InputProblem[] = [];
  const header = await readHeader(text, delimiter);
  const reported = new Set<string>();
  const wholeJson = new Set<string>();
  const seen = new Map<string, string>();
  for (const column of header?.columns ?? []) {
    if (column === '') continue; // an unnamed column is harmless while empty; unflattenRow objects to a value in it
    const at = (message: string) => {
      reported.add(column);
      problems.push({ file, line: header!.line, field: column, message });
    };
    const twin = seen.get(column.toLowerCase());
    if (twin !== undefined) {
      at(twin === column ? 'the column appears more than once' : `the same column as "${twin}" (attribute names ignore case)`);
      continue;
    }
    seen.set(column.toLowerCase(), column);
    const check = checkColumn(column, registry, coreSchema);
    if (check.problem) at(check.problem);
    else if (check.wholeJson) wholeJson.add(column.toLowerCase());
  }

  // A users file needs a column to match or create users by: without one, every row would be a
  // user with no key (an upper-case or foreign header must not read as 50 users to leave out).
  if (header && coreSchema.toLowerCase() === SCHEMA.USER.toLowerCase()) {
    const keyColumn = header.columns.some((c) => KEY_ATTRIBUTES.has(parseColumn(c, registry)?.attr.toLowerCase() ?? '') && !parseColumn(c, registry)?.urn);
    if (!keyColumn) {
      const shown = header.columns.filter((c) => c !== '').slice(0, 8).map((c) => JSON.stringify(c)).join(', ');
      problems.push({ file, line: header.line, message: `no key column: a users file needs externalId, userName or an e-mail column (emails[work].value, or emails as JSON); the header has ${shown || 'no names'}` });
    }
  }

  const records: SourceRecord[] = [];
  try {
    const input = Readable.from([Buffer.from(text, 'utf8')]);
    for await (const r of readScimCsv(input, file, { registry, coreSchema }, { delimiter, relaxQuotes: delimiter === '\t' })) {
      records.push({ resource: r.resource, file, line: r.line });
    }
  } catch (e) {
    if (!(e instanceof CsvInputError)) throw e;
    // Reading stops at the first row it cannot turn into a resource; a bad column is already reported.
    if (e.field === undefined || !reported.has(e.field)) problems.push({ file, line: e.line, field: e.field, message: csvDetail(e) });
    return { records, problems };
  }

  if (wholeJson.size > 0) {
    for (const r of records) {
      for (const p of checkResource(r.resource, registry, coreSchema, wholeJson)) problems.push({ file, line: r.line, ...p });
    }
  }
  if (records.length === 0 && problems.length === 0 && !options.allowEmpty) problems.push({ file, line: header?.line ?? 1, message: 'no records: the file has a header but no rows' });
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
  return Array.isArray(schemas) ? schemas.filter((s): s is string => typeof s === 'string').map((s) => s.toLowerCase()) : [];
}

function readJson(file: string, raw: string, options: ReadOptions): Read {
  const { registry, coreSchema } = options;
  const text = raw.replace(/^\uFEFF/, '');
  const lines = new LineIndex(text);
  const kind = kindOf(coreSchema);
  const problems: InputProblem[] = [];
  const problem = (offset: number, message: string, field?: string) => problems.push({ file, line: lines.line(offset), field, message });
  const expected = `expected a SCIM ListResponse, an array of resources or a single ${kind} object`;

  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    const { offset, reason } = locateSyntaxError(text, e);
    const hint = /after JSON/.test(reason) ? ' (a file holds one JSON value: a ListResponse, an array of resources, or one resource)' : '';
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
    const key = Object.hasOwn(root, 'Resources') ? 'Resources' : Object.keys(root).find((k) => k.toLowerCase() === 'resources');
    const other = schemas.map((s) => ERROR_LIKE[s]).find((s) => s !== undefined);
    if (key !== undefined) {
      const member = layout.rootMembers.get(key);
      const value = root[key];
      const start = member?.start ?? layout.root;
      if (!Array.isArray(value)) {
        problem(start, `"${key}" must be an array of resources, not ${describe(value)}`);
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
      const detail = [attrValue(root, 'status'), attrValue(root, 'detail')].filter((v) => typeof v === 'string' || typeof v === 'number').join(' ');
      problem(layout.root, `${expected}; this is ${other}${detail ? ` (${detail})` : ''}`);
      return { records: [], problems };
    } else if (!looksLikeResource(root, registry, coreSchema) && !schemas.length) {
      const keys = Object.keys(root);
      const shown = keys.slice(0, 5).map((k) => JSON.stringify(k)).join(', ');
      problem(layout.root, `${expected}; this object has no "Resources" and no ${kind} attribute (${keys.length === 0 ? 'it is empty' : `keys: ${shown}${keys.length > 5 ? ', …' : ''}`})`);
      return { records: [], problems };
    } else {
      items = [root];
      starts = [layout.root];
      where = kind;
      listStart = layout.root;
    }
  } else {
    problem(layout.root, `${expected}, not ${describe(root)}`);
    return { records: [], problems };
  }

  if (items.length === 0) {
    if (options.allowEmpty) return { records: [], problems };
    problem(listStart, 'no records: the list of resources is empty');
    return { records: [], problems };
  }
  const records: SourceRecord[] = [];
  items.forEach((item, index) => {
    const offset = starts[index] ?? listStart;
    if (!isPlainObject(item)) {
      problem(offset, `${where} ${index + 1} is ${describe(item)}, not a ${kind} object`);
      return;
    }
    const line = lines.line(offset);
    records.push({ resource: item, file, line });
    for (const p of checkResource(item, registry, coreSchema)) problems.push({ file, line, ...p });
  });
  return { records, problems };
}

// ---------------------------------------------------------------- validation

interface Seen {
  line: number;
  file: string;
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
      seen.set(key, { line: record.line, file: record.file });
      return;
    }
    const there = first.file === record.file ? `line ${first.line}` : `${first.file} line ${first.line}`;
    problems.push({ file: record.file, line: record.line, field: name, message: `${name} ${JSON.stringify(value)} already on ${there}` });
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
  else if (typeof value !== 'string') at(`${name} must be a string, not ${describe(value)}`);
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
  if (labels.length < 2 || labels.some((l) => l === '')) return `the domain "${domain}" needs a dot between non-empty parts`;
  return undefined;
}

function checkEmails(record: SourceRecord, problems: InputProblem[]): void {
  const emails = attrValue(record.resource, 'emails');
  const at = (field: string, message: string) => problems.push({ file: record.file, line: record.line, field, message });
  if (emails === undefined || emails === null) return;
  if (!Array.isArray(emails)) {
    at('emails', `emails must be a list such as [{"value": "a@example.com", "type": "work"}], not ${describe(emails)}`);
    return;
  }
  emails.forEach((item, index) => {
    if (!isPlainObject(item)) {
      at('emails', `e-mail ${index + 1} is ${describe(item)}, not an object with a "value"`);
      return;
    }
    const type = attrValue(item, 'type');
    const typed = typeof type === 'string' && type !== '';
    const field = typed ? `emails[${type}].value` : 'emails';
    const which = typed ? `the ${type} e-mail` : `e-mail ${index + 1}`;
    const value = attrValue(item, 'value');
    if (value === undefined || value === null || value === '') at(field, `${which} has no address (value)`);
    else if (typeof value !== 'string') at(field, `${which} must be a string, not ${describe(value)}`);
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
 * Checks records meant to become users: userName present (unless not required) and unique
 * (ignoring case), externalId and id unique, e-mail addresses plausible, active a boolean.
 * Read-only attributes (meta, groups) are left to the caller. Returns every problem found.
 */
export function validateUsers(records: SourceRecord[], registry: SchemaRegistry, opts: { requireUserName?: boolean } = {}): InputProblem[] {
  const requireUserName = opts.requireUserName ?? true;
  const problems: InputProblem[] = [];
  const userNames = uniqueness('userName', registry.lookup(SCHEMA.USER, 'userName')?.caseExact ?? false, problems);
  const identities = identityChecks(registry, SCHEMA.USER, problems);
  for (const record of records) {
    const userName = attrValue(record.resource, 'userName');
    if (requireUserName || (userName !== undefined && userName !== null)) requireString(record, 'userName', problems);
    userNames(record);
    for (const check of identities) check(record);
    checkEmails(record, problems);
    checkBoolean(record, 'active', problems);
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
    requireString(record, 'displayName', problems);
    names(record);
    for (const check of identities) check(record);
    const members = attrValue(record.resource, 'members');
    const at = (message: string) => problems.push({ file: record.file, line: record.line, field: 'members', message });
    if (members === undefined || members === null) continue;
    if (!Array.isArray(members)) {
      at(`members must be a list such as [{"value": "<user id>"}], not ${describe(members)}`);
      continue;
    }
    members.forEach((m, index) => {
      if (!isPlainObject(m)) at(`member ${index + 1} is ${describe(m)}, not an object with a "value"`);
      else {
        const value = attrValue(m, 'value');
        if (typeof value !== 'string' || value === '') at(`member ${index + 1} has no "value" (the member's id)${value === undefined ? '' : `: got ${JSON.stringify(value)}`}`);
      }
    });
  }
  return problems;
}

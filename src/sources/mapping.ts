/**
 * Mapping files: how the columns of any CSV or TSV become SCIM user attributes.
 * YAML or JSON (JSON is read as the YAML it also is, so both give line numbers):
 *
 *   format: csv                      # optional: csv or tsv (default: by extension, else sniffed)
 *   delimiter: ";"                   # optional: one character (default: "," for csv, tab for tsv)
 *   attributes:                      # required: target attribute path → rule
 *     userName: { column: Email, transform: [trim, lowercase] }
 *     displayName: { template: "{First} {Last}" }
 *     title: { column: Job Title, default: Staff }
 *     active: { column: Status, map: { Active: true, Terminated: false }, default: true }
 *     userType: { constant: Employee }
 *     password: { column: InitialPassword, onlyOnCreate: true }
 *     nickName: Nick                 # shorthand for { column: Nick }
 *     displayName: { column: [Display Name, Full Name] }   # the first of these that is not blank
 *   groups:                          # optional
 *     column: Groups                 # a column of group names per user …
 *     split: ";"                     # … separated by this (default ";"); a JSON array cell works too
 *     file: groups.csv               # … and/or a groups file (relative to the mapping file)
 *     nameColumn: name               #     its group name column (default "name")
 *     externalIdColumn: id           #     optional: the group's externalId
 *     membersColumn: members         #     optional: member keys (users' externalId, else userName
 *                                    #     or e-mail), split like `column`; not together with `column`
 *
 * A rule takes its value from exactly one of `column` (the cell; a list of columns: the first
 * cell of them that is not blank), `template`
 * (`{Column Name}` placeholders; `{{` and `}}` for braces) or `constant`, then:
 *   transform  trim | lowercase | uppercase | split | join, applied in order (split makes a
 *              list of the non-empty trimmed pieces; the others work on each item of a list;
 *              join makes text of a list); `{ split: "|" }` / `{ join: ", " }` name a separator
 *   separator  for split and join written as plain names (default ",")
 *   map        a lookup table for the value: exact key first, then ignoring case and spaces;
 *              values without an entry pass unchanged
 *   default    the value when the result is empty (blank cell, a template whose placeholders
 *              are all blank, an empty list)
 *   onlyOnCreate  the attribute is written when the user is created, never compared afterwards
 * Values are then typed by the schema like the CSV column scheme: booleans from true/false,
 * integers and decimals from numbers; a list (from split) goes to a multi-valued attribute
 * (each text item becomes {value: …} for complex ones such as emails or roles); a JSON cell
 * fills a whole complex attribute. Items of a multi-valued attribute written by `attr[type].sub`
 * paths that end up without a value (a blank e-mail column, say) are left out.
 *
 * Pure: parsing and applying, no I/O.
 */
import { isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode, type Pair } from 'yaml';
import { ClientUsageError } from '../api/errors.ts';
import { expandShorthand, parsePath, setPath, type AttrPath } from '../api/attr-path.ts';
import type { AttributeDef, SchemaRegistry } from '../api/schema.ts';
import { SCHEMA } from '../api/types.ts';
import { describeKind, isPlainObject } from '../util/objects.ts';
import { checkColumn, suggest } from './attributes.ts';
import { LineIndex, locateSyntaxError } from './json-text.ts';
import type { InputProblem } from './resource-file.ts';
import {
  cellText,
  findColumn,
  isBlank,
  parseJsonText,
  splitList,
  type LoadedFile,
  type Table,
  type TableRow,
} from './table.ts';

export const TRANSFORMS = ['trim', 'lowercase', 'uppercase', 'split', 'join'] as const;
export type TransformName = (typeof TRANSFORMS)[number];

export interface Transform {
  name: TransformName;
  /** For split and join. */
  separator: string;
}

export type TemplatePart = { text: string } | { column: string };

export type ValueSource =
  | { kind: 'column'; column: string; /** Columns read in turn while the value is blank. */ fallbacks?: string[] }
  | { kind: 'template'; template: string; parts: TemplatePart[] }
  | { kind: 'constant'; value: unknown };

export interface AttributeRule {
  /** The target path as the mapping writes it. */
  target: string;
  /** The target with the schema's spelling of every name. */
  path: AttrPath;
  /** The top-level attribute, and the (sub-)attribute the value goes to. */
  top: AttributeDef;
  leaf: AttributeDef;
  /** Line of the rule's key in the mapping file. */
  line: number;
  source: ValueSource;
  transforms: Transform[];
  map?: Array<[string, unknown]>;
  default?: unknown;
  onlyOnCreate: boolean;
}

export interface GroupsRule {
  line: number;
  /** A users column holding the user's group names. */
  column?: string;
  columnLine?: number;
  /** Separator of group names and of members (default ";"). */
  split: string;
  /** A groups file, as the mapping writes it (relative to the mapping file). */
  file?: string;
  nameColumn: string;
  externalIdColumn?: string;
  membersColumn?: string;
}

export interface Mapping {
  file: string;
  format?: 'csv' | 'tsv';
  delimiter?: string;
  rules: AttributeRule[];
  groups?: GroupsRule;
}

const TOP_KEYS = ['format', 'delimiter', 'attributes', 'groups'];
const RULE_KEYS = ['column', 'template', 'constant', 'transform', 'separator', 'default', 'map', 'onlyOnCreate'];
const GROUP_KEYS = ['column', 'split', 'file', 'nameColumn', 'externalIdColumn', 'membersColumn'];

// ---------------------------------------------------------------- parsing

interface Ctx {
  file: string;
  doc: Document.Parsed;
  lines: LineIndex;
  problems: InputProblem[];
}

function lineOf(ctx: Ctx, node: unknown): number {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? ctx.lines.line(range[0]) : 0;
}

function js(ctx: Ctx, node: unknown): unknown {
  if (node === null || node === undefined) return null;
  return (node as YamlNode).toJS(ctx.doc);
}

/** The pairs of a YAML map, with their keys as text. */
function entries(ctx: Ctx, node: unknown): Array<{ key: string; keyLine: number; value: unknown; pair: Pair }> {
  if (!isMap(node)) return [];
  return node.items.filter(isPair).map((pair) => {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(js(ctx, pair.key));
    return { key, keyLine: lineOf(ctx, pair.key), value: pair.value, pair };
  });
}

function problem(ctx: Ctx, line: number, message: string, field?: string): void {
  ctx.problems.push(
    field !== undefined
      ? { file: ctx.file, line, field, fieldKind: 'key', message }
      : { file: ctx.file, line, message },
  );
}

/** Checks the keys of a YAML map against the known ones, reporting the rest. */
function checkKeys(ctx: Ctx, node: unknown, known: readonly string[], what: string): void {
  for (const { key, keyLine } of entries(ctx, node)) {
    if (known.includes(key)) continue;
    const near = known.find((k) => k.toLowerCase() === key.toLowerCase());
    problem(
      ctx,
      keyLine,
      near
        ? `unknown ${what} key "${key}": did you mean "${near}"?`
        : `unknown ${what} key "${key}"; valid: ${suggest(key, known)}`,
      key,
    );
  }
}

/** Text of a scalar option (numbers are taken as text: a column may be named 2024). */
function text(ctx: Ctx, value: unknown, line: number, what: string, field: string): string | undefined {
  const v = js(ctx, value);
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number') return String(v);
  problem(
    ctx,
    line,
    `${what} must be non-empty text, not ${v === '' ? 'empty text' : describeKind(v, 'a list')}`,
    field,
  );
  return undefined;
}

function parseTemplate(template: string): TemplatePart[] | string {
  const parts: TemplatePart[] = [];
  let literal = '';
  const re = /\{\{|\}\}|\{([^{}]*)\}|[{}]/g;
  let last = 0;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    literal += template.slice(last, m.index);
    last = re.lastIndex;
    if (m[0] === '{{') literal += '{';
    else if (m[0] === '}}') literal += '}';
    else if (m[1] !== undefined) {
      const column = m[1].trim();
      if (column === '') return 'has an empty placeholder {}';
      if (literal) parts.push({ text: literal });
      literal = '';
      parts.push({ column });
    } else return `has an unmatched "${m[0]}" (write {{ or }} for a brace)`;
  }
  literal += template.slice(last);
  if (literal) parts.push({ text: literal });
  if (!parts.some((p) => 'column' in p)) return 'has no {Column} placeholder (for a fixed value, use constant)';
  return parts;
}

interface Target {
  path: AttrPath;
  top: AttributeDef;
  leaf: AttributeDef;
}

/** Resolves a target path against the registry: the User schema and its extensions. */
function resolveTarget(given: string, registry: SchemaRegistry): Target | string {
  const target = expandShorthand(given, registry);
  const check = checkColumn(target, registry, SCHEMA.USER);
  if (check.problem) return check.problem;
  let path: AttrPath;
  try {
    path = parsePath(target, registry);
  } catch (e) {
    if (e instanceof ClientUsageError) return e.message;
    throw e;
  }
  const schemaId = path.urn ? (registry.schema(path.urn)?.id ?? path.urn) : SCHEMA.USER;
  const top = registry.lookup(schemaId, path.attr);
  if (!top) return 'unknown attribute';
  const leaf = path.sub !== undefined ? registry.lookup(schemaId, `${path.attr}.${path.sub}`) : top;
  if (!leaf) return `unknown sub-attribute "${path.sub}" of ${top.name}`;
  const name = `${path.urn ? `${schemaId}:` : ''}${top.name}`;
  if (!path.urn && top.name === 'groups')
    return 'groups is read-only: put users in groups with the mapping\'s "groups" section';
  if (!path.urn && (top.name === 'schemas' || top.name === 'id' || top.name === 'meta'))
    return `${top.name} is set by the server and scimctl, not by a source`;
  if (top.mutability === 'readOnly' || leaf.mutability === 'readOnly')
    return `${path.sub !== undefined ? `${name}.${leaf.name}` : name} is read-only (set by the server)`;
  if (path.filter && path.sub === undefined)
    return `a filtered path needs a sub-attribute, e.g. ${top.name}[work].value`;
  return {
    path: {
      ...path,
      urn: path.urn ? schemaId : undefined,
      attr: top.name,
      sub: path.sub !== undefined ? leaf.name : undefined,
    },
    top,
    leaf,
  };
}

function parseTransforms(ctx: Ctx, node: unknown, separator: string, field: string): Transform[] {
  const items = isSeq(node) ? node.items : [node];
  const out: Transform[] = [];
  for (const item of items) {
    const line = lineOf(ctx, item);
    const v = js(ctx, item);
    let name: string;
    let sep = separator;
    if (typeof v === 'string') name = v;
    else if (isPlainObject(v) && Object.keys(v).length === 1) {
      name = Object.keys(v)[0]!;
      const given = v[name];
      if (typeof given !== 'string' || given === '') {
        problem(ctx, line, `the separator of ${name} must be non-empty text`, field);
        continue;
      }
      sep = given;
    } else {
      problem(
        ctx,
        line,
        `a transform is a name (${TRANSFORMS.join(', ')}) or { split: "SEP" } / { ` +
          `join: "SEP" }, not ${describeKind(v, 'a list')}`,
        field,
      );
      continue;
    }
    const known = TRANSFORMS.find((t) => t === name.toLowerCase());
    if (!known) {
      problem(ctx, line, `unknown transform "${name}"; valid: ${TRANSFORMS.join(', ')}`, field);
      continue;
    }
    if (isPlainObject(v) && known !== 'split' && known !== 'join') {
      problem(ctx, line, `${known} takes no separator`, field);
      continue;
    }
    out.push({ name: known, separator: sep });
  }
  return out;
}

function parseRule(
  ctx: Ctx,
  registry: SchemaRegistry,
  target: string,
  keyLine: number,
  value: unknown,
): AttributeRule | undefined {
  const at = (line: number, message: string) => problem(ctx, line, message, target);
  const resolved = resolveTarget(target, registry);
  if (typeof resolved === 'string') at(keyLine, resolved);

  let options: Map<string, { node: unknown; line: number }>;
  if (isScalar(value) && typeof value.value === 'string') {
    options = new Map([['column', { node: value, line: lineOf(ctx, value) || keyLine }]]);
  } else if (isMap(value)) {
    checkKeys(ctx, value, RULE_KEYS, 'attribute rule');
    options = new Map(entries(ctx, value).map((e) => [e.key, { node: e.value, line: e.keyLine }]));
  } else {
    at(
      keyLine,
      `a rule is a column name or an object such as { column: Email }, not ${describeKind(js(ctx, value), 'a list')}`,
    );
    return undefined;
  }

  const given = ['column', 'template', 'constant'].filter((k) => options.has(k));
  let source: ValueSource | undefined;
  if (given.length !== 1) {
    at(
      keyLine,
      given.length === 0
        ? 'give one of column, template or constant'
        : `give only one of column, template or constant (not ${given.join(' and ')})`,
    );
  } else if (given[0] === 'column') {
    const o = options.get('column')!;
    if (isSeq(o.node)) {
      // A list of columns: the first whose cell is not blank.
      const columns = o.node.items.map((item) =>
        text(ctx, item, lineOf(ctx, item) || o.line, 'each column of the list', target),
      );
      if (columns.length === 0) at(o.line, 'column is an empty list: name at least one column');
      else if (columns.every((c) => c !== undefined)) {
        const [first, ...rest] = columns.map((c) => c!.trim());
        source = { kind: 'column', column: first!, ...(rest.length > 0 ? { fallbacks: rest } : {}) };
      }
    } else {
      const column = text(ctx, o.node, o.line, 'column', target);
      if (column !== undefined) source = { kind: 'column', column: column.trim() };
    }
  } else if (given[0] === 'template') {
    const o = options.get('template')!;
    const template = text(ctx, o.node, o.line, 'template', target);
    if (template !== undefined) {
      const parts = parseTemplate(template);
      if (typeof parts === 'string') at(o.line, `the template ${JSON.stringify(template)} ${parts}`);
      else source = { kind: 'template', template, parts };
    }
  } else {
    const o = options.get('constant')!;
    const constant = js(ctx, o.node);
    if (constant === null) at(o.line, 'constant needs a value');
    else source = { kind: 'constant', value: constant };
  }

  let separator = ',';
  const sepOption = options.get('separator');
  if (sepOption) {
    const v = js(ctx, sepOption.node);
    if (typeof v === 'string' && v !== '') separator = v;
    else at(sepOption.line, `separator must be non-empty text, not ${describeKind(v, 'a list')}`);
  }
  const transformOption = options.get('transform');
  const transforms = transformOption ? parseTransforms(ctx, transformOption.node, separator, target) : [];
  if (sepOption && !transforms.some((t) => t.name === 'split' || t.name === 'join'))
    at(sepOption.line, 'separator is for the split and join transforms, and there is neither');

  let map: Array<[string, unknown]> | undefined;
  const mapOption = options.get('map');
  if (mapOption) {
    if (!isMap(mapOption.node))
      at(
        mapOption.line,
        `map must be an object of value → replacement, not ${describeKind(js(ctx, mapOption.node), 'a list')}`,
      );
    else map = entries(ctx, mapOption.node).map((e) => [e.key, js(ctx, e.value)]);
  }
  const defaultOption = options.get('default');
  const dflt = defaultOption ? js(ctx, defaultOption.node) : undefined;
  if (defaultOption && dflt === null) at(defaultOption.line, 'default needs a value');
  let onlyOnCreate = false;
  const onlyOption = options.get('onlyOnCreate');
  if (onlyOption) {
    const v = js(ctx, onlyOption.node);
    if (typeof v === 'boolean') onlyOnCreate = v;
    else at(onlyOption.line, `onlyOnCreate must be true or false, not ${JSON.stringify(v)}`);
  }

  if (typeof resolved === 'string' || !source) return undefined;
  const { leaf, top } = resolved;
  if (
    !onlyOnCreate &&
    (leaf.mutability === 'writeOnly' ||
      leaf.returned === 'never' ||
      top.mutability === 'writeOnly' ||
      top.returned === 'never')
  ) {
    at(keyLine, `the server never returns ${target}, so it cannot be compared: add onlyOnCreate: true`);
    return undefined;
  }
  return { target, ...resolved, line: keyLine, source, transforms, map, default: dflt ?? undefined, onlyOnCreate };
}

function parseGroups(ctx: Ctx, node: unknown, line: number): GroupsRule | undefined {
  if (!isMap(node)) {
    problem(
      ctx,
      line,
      `groups must be an object such as { column: Groups, split: ";" }, not ${describeKind(js(ctx, node), 'a list')}`,
      'groups',
    );
    return undefined;
  }
  checkKeys(ctx, node, GROUP_KEYS, 'groups');
  const rule: GroupsRule = { line, split: ';', nameColumn: 'name' };
  let ok = true;
  for (const { key, keyLine, value } of entries(ctx, node)) {
    if (!GROUP_KEYS.includes(key)) continue;
    const v = text(ctx, value, keyLine, key, `groups.${key}`);
    if (v === undefined) {
      ok = false;
      continue;
    }
    if (key === 'column') {
      rule.column = v.trim();
      rule.columnLine = keyLine;
    } else if (key === 'split') rule.split = v;
    else if (key === 'file') rule.file = v;
    else if (key === 'nameColumn') rule.nameColumn = v.trim();
    else if (key === 'externalIdColumn') rule.externalIdColumn = v.trim();
    else if (key === 'membersColumn') rule.membersColumn = v.trim();
  }
  if (rule.column === undefined && rule.file === undefined) {
    problem(ctx, line, 'groups needs a column (group names per user) or a file (a groups file)', 'groups');
    ok = false;
  }
  if (rule.file === undefined && (rule.externalIdColumn !== undefined || rule.membersColumn !== undefined)) {
    problem(ctx, line, 'externalIdColumn and membersColumn are columns of a groups file: give the file too', 'groups');
    ok = false;
  }
  if (rule.column !== undefined && rule.membersColumn !== undefined) {
    problem(ctx, line, 'membership is given twice (column and membersColumn): use one of them', 'groups');
    ok = false;
  }
  return ok ? rule : undefined;
}

/**
 * Parses a mapping file. Problems name the file and the line of the key concerned. The mapping
 * (its valid rules) comes back unless the file is not an object at all, so that its columns can
 * still be checked; with any problem it must not be applied.
 */
export function parseMapping(
  loaded: LoadedFile,
  registry: SchemaRegistry,
): { mapping?: Mapping; problems: InputProblem[] } {
  const { path, text } = loaded;
  const lines = new LineIndex(text);
  const isJson = /\.json$/i.test(path);
  if (isJson) {
    // YAML would take what JSON does not (a trailing comma, comments): a .json file must be JSON.
    try {
      JSON.parse(text);
    } catch (e) {
      const { offset, reason } = locateSyntaxError(text, e);
      return {
        problems: [
          {
            file: path,
            line: lines.line(offset),
            message: `invalid JSON at column ${lines.column(offset)}: ${reason}`,
          },
        ],
      };
    }
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  const ctx: Ctx = { file: path, doc, lines, problems: [] };
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const message = e.message.split('\n', 1)[0]!.replace(/ at line \d+, column \d+:?$/, '');
      problem(ctx, lines.line(e.pos[0]), `invalid ${isJson ? 'JSON' : 'YAML'}: ${message}`);
    }
    return { problems: ctx.problems };
  }
  const root = doc.contents;
  if (!isMap(root)) {
    const shape = 'a mapping file is an object with "attributes" (and optionally format, delimiter and groups)';
    problem(
      ctx,
      lineOf(ctx, root) || 1,
      root === null ? `the file is empty: ${shape}` : `${shape}, not ${describeKind(js(ctx, root), 'a list')}`,
    );
    return { problems: ctx.problems };
  }
  checkKeys(ctx, root, TOP_KEYS, 'mapping');
  const top = new Map(entries(ctx, root).map((e) => [e.key, e]));
  const mapping: Mapping = { file: path, rules: [] };

  const format = top.get('format');
  if (format) {
    const v = js(ctx, format.value);
    if (v === 'csv' || v === 'tsv') mapping.format = v;
    else
      problem(
        ctx,
        format.keyLine,
        `format must be csv or tsv (a mapping maps the columns of a table), not ${JSON.stringify(v)}`,
        'format',
      );
  }
  const delimiter = top.get('delimiter');
  if (delimiter) {
    const v = js(ctx, delimiter.value);
    if (typeof v === 'string' && v.length === 1 && !/["\r\n]/.test(v)) mapping.delimiter = v;
    else
      problem(
        ctx,
        delimiter.keyLine,
        `delimiter must be one character other than a quote or line break, not ${JSON.stringify(v)}`,
        'delimiter',
      );
  }

  const attributes = top.get('attributes');
  if (!attributes)
    problem(ctx, 1, 'no "attributes": the mapping must say which column gives which attribute (at least userName)');
  else if (!isMap(attributes.value))
    problem(
      ctx,
      attributes.keyLine,
      `attributes must be an object of attribute path → rule, not ${describeKind(js(ctx, attributes.value), 'a list')}`,
      'attributes',
    );
  else {
    const seen = new Map<string, string>();
    for (const { key, keyLine, value } of entries(ctx, attributes.value)) {
      const rule = parseRule(ctx, registry, key.trim(), keyLine, value);
      if (!rule) continue;
      const { urn, attr, filter, sub } = rule.path;
      const canonical = (
        `${urn ? `${urn}:` : ''}${attr}${filter ? `[${JSON.stringify(filter)}]` : ''}` + `${sub ? `.${sub}` : ''}`
      ).toLowerCase();
      const twin = seen.get(canonical);
      if (twin !== undefined) {
        problem(ctx, keyLine, `the same attribute as "${twin}"`, key);
        continue;
      }
      seen.set(canonical, key);
      mapping.rules.push(rule);
    }
    const mapsUserName = mapping.rules.some((r) => !r.path.urn && r.path.attr === 'userName');
    if (!mapsUserName && !ctx.problems.some((p) => p.field !== undefined && /^username$/i.test(p.field))) {
      problem(
        ctx,
        attributes.keyLine,
        'userName is not mapped: every user needs one (the User schema requires it)',
        'attributes',
      );
    }
  }
  const groups = top.get('groups');
  if (groups) {
    const rule = parseGroups(ctx, groups.value, groups.keyLine);
    if (rule) mapping.groups = rule;
  }
  return { mapping, problems: ctx.problems };
}

// ---------------------------------------------------------------- binding and applying

/** The mapping's column names resolved against a header. */
export interface BoundMapping {
  mapping: Mapping;
  columns: Map<string, string>;
}

/**
 * Resolves every column the mapping names against the users file's header. A missing column is
 * one problem (naming the mapping file, at the first line that uses it), however often it is used.
 */
export function bindMapping(mapping: Mapping, table: Table): { bound?: BoundMapping; problems: InputProblem[] } {
  const uses: Array<{ column: string; line: number; field: string }> = [];
  for (const rule of mapping.rules) {
    if (rule.source.kind === 'column')
      for (const column of [rule.source.column, ...(rule.source.fallbacks ?? [])])
        uses.push({ column, line: rule.line, field: rule.target });
    if (rule.source.kind === 'template')
      for (const p of rule.source.parts)
        if ('column' in p) uses.push({ column: p.column, line: rule.line, field: rule.target });
  }
  if (mapping.groups?.column !== undefined)
    uses.push({
      column: mapping.groups.column,
      line: mapping.groups.columnLine ?? mapping.groups.line,
      field: 'groups.column',
    });
  const columns = new Map<string, string>();
  const missing = new Set<string>();
  const problems: InputProblem[] = [];
  const shown = table.columns.length > 0 ? table.columns.map((c) => JSON.stringify(c)).join(', ') : 'none';
  for (const use of uses) {
    const found = findColumn(table.columns, use.column);
    if (found !== undefined) {
      columns.set(use.column, found);
      continue;
    }
    if (missing.has(use.column)) continue;
    missing.add(use.column);
    problems.push({
      file: mapping.file,
      line: use.line,
      field: use.field,
      fieldKind: 'key',
      message:
        `column "${use.column}" is not in ${table.file} (header on line ` +
        `${table.headerLine}); its columns: ${shown}`,
    });
  }
  return problems.length > 0 ? { problems } : { bound: { mapping, columns }, problems };
}

export interface MappedUser {
  attributes: Record<string, unknown>;
  onlyOnCreate?: Record<string, unknown>;
  groups?: string[];
}

function eachText(value: unknown, f: (s: string) => unknown): unknown {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? f(v) : v));
  return value;
}

function applyTransform(t: Transform, value: unknown): unknown {
  switch (t.name) {
    case 'trim':
      return eachText(value, (s) => s.trim());
    case 'lowercase':
      return eachText(value, (s) => s.toLowerCase());
    case 'uppercase':
      return eachText(value, (s) => s.toUpperCase());
    case 'split': {
      const pieces = (s: string) =>
        s
          .split(t.separator)
          .map((p) => p.trim())
          .filter((p) => p !== '');
      if (typeof value === 'string') return pieces(value);
      if (Array.isArray(value)) return value.flatMap((v) => (typeof v === 'string' ? pieces(v) : [v]));
      return value;
    }
    case 'join':
      return Array.isArray(value)
        ? value
            .filter((v) => !isBlank(v))
            .map((v) => cellText(v) ?? JSON.stringify(v))
            .join(t.separator)
        : value;
  }
}

function lookup(map: Array<[string, unknown]>, value: unknown): unknown {
  const key = cellText(value);
  if (key === undefined) return value;
  const exact = map.find(([k]) => k === key);
  if (exact) return exact[1];
  const loose = key.trim().toLowerCase();
  const near = map.find(([k]) => k.trim().toLowerCase() === loose);
  return near ? near[1] : value;
}

type Typed = { value: unknown } | { problem: string };

function scalar(value: unknown, def: AttributeDef): Typed {
  const shown = JSON.stringify(value);
  switch (def.type) {
    case 'boolean': {
      if (typeof value === 'boolean') return { value };
      const v = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
      if (v === 'true') return { value: true };
      if (v === 'false') return { value: false };
      return {
        problem:
          `${shown} is not a boolean (true or false); a map can translate it, e.g. map: ` + `{ Yes: true, No: false }`,
      };
    }
    case 'integer': {
      if (typeof value === 'number' && Number.isInteger(value)) return { value };
      if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return { value: Number(value) };
      return { problem: `${shown} is not an integer` };
    }
    case 'decimal': {
      if (typeof value === 'number' && Number.isFinite(value)) return { value };
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      return Number.isFinite(n) ? { value: n } : { problem: `${shown} is not a number` };
    }
    case 'complex':
      return isPlainObject(value) ? { value } : { problem: `${def.name} is complex: give a JSON object, not ${shown}` };
    default: {
      const text = cellText(value);
      return text !== undefined
        ? { value: text }
        : { problem: `expected text for ${def.name}, not ${describeKind(value, 'a list')}` };
    }
  }
}

/** Types a value for the attribute a rule writes, by the schema. */
function typeFor(rule: AttributeRule, raw: unknown): Typed {
  const { path, top, leaf } = rule;
  const valueDef = top.subAttributes?.find((s) => s.name.toLowerCase() === 'value');
  if (path.sub === undefined && top.multiValued) {
    const parsed = parseJsonText(raw, '[');
    const list = Array.isArray(parsed) ? parsed : [parsed];
    const out: unknown[] = [];
    for (const item of list) {
      if (top.type !== 'complex') {
        const t = scalar(item, top);
        if ('problem' in t) return t;
        out.push(t.value);
      } else if (isPlainObject(item)) out.push(item);
      else if (valueDef) {
        const t = scalar(item, valueDef);
        if ('problem' in t) return t;
        out.push({ value: t.value });
      } else return { problem: `${top.name} takes objects, not ${JSON.stringify(item)}` };
    }
    return { value: out };
  }
  if (path.sub === undefined && top.type === 'complex') {
    const parsed = parseJsonText(raw, '{');
    if (isPlainObject(parsed)) return { value: parsed };
    if (valueDef && !Array.isArray(parsed)) {
      const t = scalar(parsed, valueDef);
      return 'problem' in t ? t : { value: { value: t.value } };
    }
    return {
      problem:
        `${top.name} is complex: map its sub-attributes (e.g. ` +
        `${top.name}.${top.subAttributes?.[0]?.name ?? 'value'}) or give a JSON object`,
    };
  }
  let value = raw;
  if (Array.isArray(value)) {
    if (value.length !== 1)
      return { problem: `gives ${value.length} values, but ${rule.target} takes one: add "join" after "split"` };
    value = value[0];
  }
  return scalar(value, leaf);
}

function valueOf(rule: AttributeRule, row: TableRow, bound: BoundMapping): unknown {
  const { source } = rule;
  if (source.kind === 'constant') return source.value;
  if (source.kind === 'column') {
    const cell = (column: string) => row.cells.get(bound.columns.get(column) ?? column);
    let value = cell(source.column);
    for (const column of source.fallbacks ?? []) {
      if (!isBlank(value)) break;
      value = cell(column);
    }
    return value;
  }
  let anyValue = false;
  const out = source.parts
    .map((p) => {
      if ('text' in p) return p.text;
      const v = row.cells.get(bound.columns.get(p.column) ?? p.column);
      const s = cellText(v) ?? (isBlank(v) ? '' : JSON.stringify(v));
      if (s.trim() !== '') anyValue = true;
      return s;
    })
    .join('');
  // A template whose placeholders are all blank is empty, whatever text is around them.
  return anyValue ? out.trim() : '';
}

/**
 * Drops the items a typed path created that have no value in the end: `emails[work].primary: true`
 * for a user whose e-mail column is blank would otherwise leave an e-mail without an address.
 */
function dropEmptyItems(resource: Record<string, unknown>, rules: AttributeRule[]): void {
  for (const rule of rules) {
    if (!rule.path.filter || !rule.top.multiValued || !rule.top.subAttributes?.some((s) => s.name === 'value'))
      continue;
    const holder = rule.path.urn ? resource[rule.path.urn] : resource;
    if (!isPlainObject(holder)) continue;
    const list = holder[rule.path.attr];
    if (!Array.isArray(list)) continue;
    const kept = list.filter((item) => !isPlainObject(item) || !isBlank(item.value));
    if (kept.length > 0) holder[rule.path.attr] = kept;
    else {
      delete holder[rule.path.attr];
      if (rule.path.urn && Object.keys(holder).length === 0) delete resource[rule.path.urn];
    }
  }
}

/** Applies a bound mapping to one row. Problems name the row's line and the column (or attribute) concerned. */
export function applyMapping(
  bound: BoundMapping,
  row: TableRow,
  file: string,
): { user: MappedUser; problems: InputProblem[] } {
  const { mapping } = bound;
  const attributes: Record<string, unknown> = {};
  const onlyOnCreate: Record<string, unknown> = {};
  const problems: InputProblem[] = [];
  for (const rule of mapping.rules) {
    const field =
      rule.source.kind === 'column' ? (bound.columns.get(rule.source.column) ?? rule.source.column) : rule.target;
    let value = valueOf(rule, row, bound);
    for (const t of rule.transforms) value = applyTransform(t, value);
    if (rule.map) value = Array.isArray(value) ? value.map((v) => lookup(rule.map!, v)) : lookup(rule.map, value);
    if (isBlank(value)) {
      if (rule.default === undefined) continue;
      value = rule.default;
    }
    const typed = typeFor(rule, value);
    if ('problem' in typed) {
      problems.push({ file, line: row.line, field, message: `${typed.problem} (for ${rule.target})` });
      continue;
    }
    if (Array.isArray(typed.value) && typed.value.length === 0) continue;
    setPath(rule.onlyOnCreate ? onlyOnCreate : attributes, rule.path, typed.value);
  }
  dropEmptyItems(attributes, mapping.rules);
  dropEmptyItems(onlyOnCreate, mapping.rules);
  const user: MappedUser = { attributes };
  if (Object.keys(onlyOnCreate).length > 0) user.onlyOnCreate = onlyOnCreate;
  const groups = mapping.groups;
  if (groups?.column !== undefined) {
    const column = bound.columns.get(groups.column) ?? groups.column;
    const names = splitList(row.cells.get(column), groups.split, { ignoreCase: true });
    if (names === undefined)
      problems.push({
        file,
        line: row.line,
        field: column,
        message: 'expected group names (text or a JSON array of names)',
      });
    else user.groups = names;
  }
  return { user, problems };
}

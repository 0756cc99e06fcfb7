/**
 * SCIM filter and sort evaluation (RFC 7644 §3.4.2.2, §3.4.2.3) over stored JSON resources:
 * the grammar (eq ne co sw ew pr gt ge lt le, and/or/not with precedence, value paths,
 * URN-qualified and sub-attribute paths) and the RFC 7643 comparison rules (caseExact,
 * dateTime compared as time, booleans only with eq/ne).
 *
 * `scimctl serve` filters with it, and so does the client when a target cannot filter (or answers
 * a filter wrongly): it then lists and keeps what matches here (see src/api/client.ts).
 */

import type { SchemaRegistry } from './schema.ts';
import { isPlainObject } from '../util/objects.ts';

export type Literal = string | number | boolean | null;
export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'lt' | 'ge' | 'le' | 'pr';

export type FilterNode =
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; expr: FilterNode }
  | { kind: 'cmp'; path: string; op: CompareOp; value: Literal | undefined }
  | { kind: 'valuePath'; path: string; filter: FilterNode };

/** What the evaluator needs to know about an attribute (taken from scimmy's schema definitions). */
export interface AttrInfo {
  type: string; // 'string' | 'boolean' | 'dateTime' | 'integer' | 'decimal' | 'reference' | 'complex' | 'binary'
  caseExact: boolean;
}

export interface SchemaContext {
  /** Core schema URN of the resource type, e.g. urn:ietf:params:scim:schemas:core:2.0:User */
  core: string;
  /** Extension schema URNs; their attributes live under resource[urn]. */
  extensions: string[];
  /** Attribute characteristics for a resolved path (extension URN first when applicable). */
  lookup(parts: readonly string[]): AttrInfo | undefined;
  /** When set, a path the schema does not define is an invalidFilter error instead of matching nothing. */
  strict?: boolean;
}

/**
 * The evaluator's view of a resource type from a schema registry: the core schema's attributes,
 * and those of each extension under its URN. `strict` for a server (an unknown attribute is an
 * invalidFilter), lenient for a client filtering a target's resources (it matches nothing).
 */
export function registryContext(
  registry: SchemaRegistry,
  core: string,
  extensions: readonly string[],
  strict = false,
): SchemaContext {
  return {
    core,
    extensions: [...extensions],
    strict,
    lookup(parts) {
      const ext = extensions.find((e) => e === parts[0]);
      if (ext && parts.length === 1) return { type: 'complex', caseExact: false };
      const def = ext ? registry.lookup(ext, parts.slice(1).join('.')) : registry.lookup(core, parts.join('.'));
      return def ? { type: def.type, caseExact: def.caseExact ?? false } : undefined;
    },
  };
}

/** An error that the host converts into a SCIM 400 invalidFilter. */
export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterError';
  }
}

/**
 * A filter that ran past its deadline (see CompileOptions.deadline). Not a FilterError: the
 * filter is valid, it only costs too much here (`scimctl serve` answers 400 tooMany).
 */
export class FilterDeadlineError extends Error {
  constructor(readonly limitMs: number) {
    super(
      `the filter took more than ${limitMs} ms to evaluate and was stopped; narrow ` +
        `it (fewer comparisons, or eq on userName, externalId or id)`,
    );
    this.name = 'FilterDeadlineError';
  }
}

export interface CompileOptions {
  /**
   * performance.now() after which evaluation throws FilterDeadlineError. Checked while values
   * are compared, not only between resources: one resource with large values cannot outlast it.
   */
  deadline?: number;
  /** The budget the deadline stands for, for the error message. */
  limitMs?: number;
}

/** Counts comparisons and looks at the clock every 64 of them. */
type Tick = () => void;
const NO_TICK: Tick = () => {};
function deadlineTick(options: CompileOptions): Tick {
  const { deadline } = options;
  if (deadline === undefined) return NO_TICK;
  let n = 0;
  return () => {
    if ((++n & 63) === 0 && performance.now() > deadline) throw new FilterDeadlineError(options.limitMs ?? 0);
  };
}

// ---------------------------------------------------------------------------------------------
// Tokeniser and parser

type Token =
  { t: 'lparen' | 'rparen' | 'lbracket' | 'rbracket' } | { t: 'string'; v: string } | { t: 'word'; v: string };

const COMPARE_OPS: ReadonlySet<string> = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'lt', 'ge', 'le', 'pr']);

function tokenise(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(') {
      tokens.push({ t: 'lparen' });
      i++;
    } else if (c === ')') {
      tokens.push({ t: 'rparen' });
      i++;
    } else if (c === '[') {
      tokens.push({ t: 'lbracket' });
      i++;
    } else if (c === ']') {
      tokens.push({ t: 'rbracket' });
      i++;
    } else if (c === '"') {
      // JSON string literal (RFC 7644 compValue uses JSON strings)
      let j = i + 1;
      while (j < input.length && input[j] !== '"') j += input[j] === '\\' ? 2 : 1;
      if (j >= input.length) throw new FilterError(`Unterminated string in filter at offset ${i}`);
      const raw = input.slice(i, j + 1);
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        throw new FilterError(`Invalid string literal ${raw} in filter`);
      }
      tokens.push({ t: 'string', v: String(value) });
      i = j + 1;
    } else {
      let j = i;
      while (j < input.length && !' \t\n\r()[]"'.includes(input[j]!)) j++;
      tokens.push({ t: 'word', v: input.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}

/** Limits that keep one request from exhausting the stack or the CPU. */
const MAX_DEPTH = 32;
const MAX_COMPARISONS = 1000;

class Parser {
  private pos = 0;
  private depth = 0;
  private comparisons = 0;
  constructor(private readonly tokens: Token[]) {}

  private nest<T>(inner: () => T): T {
    if (++this.depth > MAX_DEPTH) throw new FilterError(`the filter nests more than ${MAX_DEPTH} levels deep`);
    const result = inner();
    this.depth--;
    return result;
  }

  parse(): FilterNode {
    const node = this.parseOr();
    if (this.pos < this.tokens.length)
      throw new FilterError(`Unexpected ${describe(this.tokens[this.pos]!)} in filter`);
    return node;
  }

  private peekWord(word: string): boolean {
    const tok = this.tokens[this.pos];
    return tok !== undefined && tok.t === 'word' && tok.v.toLowerCase() === word;
  }

  private expect(t: Token['t']): void {
    const tok = this.tokens[this.pos];
    if (!tok || tok.t !== t)
      throw new FilterError(`Expected '${symbol(t)}' but found ${tok ? describe(tok) : 'end of filter'}`);
    this.pos++;
  }

  private parseOr(): FilterNode {
    let left = this.parseAnd();
    while (this.peekWord('or')) {
      this.pos++;
      left = { kind: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): FilterNode {
    let left = this.parseUnary();
    while (this.peekWord('and')) {
      this.pos++;
      left = { kind: 'and', left, right: this.parseUnary() };
    }
    return left;
  }

  private parseUnary(): FilterNode {
    const tok = this.tokens[this.pos];
    if (!tok) throw new FilterError('Unexpected end of filter');
    if (this.peekWord('not')) {
      this.pos++;
      this.expect('lparen');
      const expr = this.nest(() => this.parseOr());
      this.expect('rparen');
      return { kind: 'not', expr };
    }
    if (tok.t === 'lparen') {
      this.pos++;
      const expr = this.nest(() => this.parseOr());
      this.expect('rparen');
      return expr;
    }
    if (tok.t !== 'word') throw new FilterError(`Unexpected ${describe(tok)} in filter`);
    const path = tok.v;
    if (!/^[A-Za-z$][\w$:.-]*$/.test(path)) throw new FilterError(`Invalid attribute path '${path}' in filter`);
    this.pos++;

    const next = this.tokens[this.pos];
    if (next?.t === 'lbracket') {
      this.pos++;
      const filter = this.nest(() => this.parseOr());
      this.expect('rbracket');
      return { kind: 'valuePath', path, filter };
    }
    if (!next || next.t !== 'word' || !COMPARE_OPS.has(next.v.toLowerCase())) {
      throw new FilterError(
        `Expected a comparison operator after '${path}' but found ${next ? describe(next) : 'end of filter'}`,
      );
    }
    const op = next.v.toLowerCase() as CompareOp;
    this.pos++;
    if (++this.comparisons > MAX_COMPARISONS)
      throw new FilterError(`the filter has more than ${MAX_COMPARISONS} comparisons`);
    if (op === 'pr') return { kind: 'cmp', path, op, value: undefined };

    const valueTok = this.tokens[this.pos];
    if (!valueTok) throw new FilterError(`Missing comparison value for '${path} ${op}'`);
    this.pos++;
    if (valueTok.t === 'string') return { kind: 'cmp', path, op, value: valueTok.v };
    if (valueTok.t === 'word') {
      const w = valueTok.v;
      if (w === 'true' || w === 'false') return { kind: 'cmp', path, op, value: w === 'true' };
      if (w === 'null') return { kind: 'cmp', path, op, value: null };
      if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(w)) return { kind: 'cmp', path, op, value: Number(w) };
    }
    throw new FilterError(`Invalid comparison value ${describe(valueTok)} for '${path} ${op}'`);
  }
}

function symbol(t: Token['t']): string {
  return { lparen: '(', rparen: ')', lbracket: '[', rbracket: ']', string: 'string', word: 'word' }[t];
}

function describe(tok: Token): string {
  return tok.t === 'word' ? `'${tok.v}'` : tok.t === 'string' ? `"${tok.v}"` : `'${symbol(tok.t)}'`;
}

export function parseFilter(expression: string): FilterNode {
  if (!expression.trim()) throw new FilterError('Empty filter');
  return new Parser(tokenise(expression)).parse();
}

// ---------------------------------------------------------------------------------------------
// Attribute paths and values

/**
 * Split an attribute path into parts, with a leading extension URN when qualified by one. Core URN prefixes are
 * dropped.
 */
export function resolvePath(raw: string, schema: SchemaContext, prefix: readonly string[] = []): string[] {
  const lower = raw.toLowerCase();
  for (const urn of schema.extensions) {
    const u = urn.toLowerCase();
    if (lower === u) return [urn];
    if (lower.startsWith(u + ':')) return [urn, ...raw.slice(urn.length + 1).split('.')];
  }
  const core = schema.core.toLowerCase();
  const rest = lower.startsWith(core + ':') ? raw.slice(schema.core.length + 1) : raw;
  return [...prefix, ...rest.split('.')];
}

function childCI(obj: unknown, name: string): unknown {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const rec = obj as Record<string, unknown>;
  if (name in rec) return rec[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(rec)) if (key.toLowerCase() === lower) return rec[key];
  return undefined;
}

/**
 * Whether any value found at `parts` below `node` satisfies `pred`, multi-valued attributes
 * flattened at every level. Walks without building lists: a scan of 100,000 resources is hot.
 */
function someAt(node: unknown, parts: readonly string[], i: number, pred: (v: unknown) => boolean): boolean {
  if (i === parts.length) return pred(node);
  const v = childCI(node, parts[i]!);
  if (v === undefined || v === null) return false;
  if (Array.isArray(v)) {
    for (const e of v) if (e !== undefined && e !== null && someAt(e, parts, i + 1, pred)) return true;
    return false;
  }
  return someAt(v, parts, i + 1, pred);
}

function isPresent(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return false;
  if (typeof v === 'object') return Object.values(v as object).some(isPresent);
  return true;
}

/** Comparable form of a value for an attribute: lower-cased when caseExact=false, epoch ms for dateTime. */
function normalise(value: unknown, info: AttrInfo | undefined): unknown {
  // A complex value compared directly: RFC 7644 compares its "value" sub-attribute
  const v = isPlainObject(value) ? value['value'] : value;
  if (typeof v === 'string') {
    if (info?.type === 'dateTime') {
      const ms = Date.parse(v);
      return Number.isNaN(ms) ? v : ms;
    }
    return info?.caseExact ? v : v.toLowerCase();
  }
  return v;
}

type Predicate = (resource: unknown) => boolean;

export interface CompiledFilter {
  test: Predicate;
  /** Top-level attribute names the filter reads (lower-case), e.g. to know whether computed attributes are needed. */
  attributes: Set<string>;
}

export function compileFilter(expression: string, schema: SchemaContext, options: CompileOptions = {}): CompiledFilter {
  const attributes = new Set<string>();
  const tick = deadlineTick(options);
  const inner = compileNode(parseFilter(expression), schema, [], attributes, tick);
  const test: Predicate = tick === NO_TICK ? inner : (res) => (tick(), inner(res));
  return { test, attributes };
}

function compileNode(
  node: FilterNode,
  schema: SchemaContext,
  prefix: readonly string[],
  attrs: Set<string>,
  tick: Tick,
): Predicate {
  switch (node.kind) {
    case 'and': {
      const l = compileNode(node.left, schema, prefix, attrs, tick);
      const r = compileNode(node.right, schema, prefix, attrs, tick);
      return (res) => l(res) && r(res);
    }
    case 'or': {
      const l = compileNode(node.left, schema, prefix, attrs, tick);
      const r = compileNode(node.right, schema, prefix, attrs, tick);
      return (res) => l(res) || r(res);
    }
    case 'not': {
      const e = compileNode(node.expr, schema, prefix, attrs, tick);
      return (res) => !e(res);
    }
    case 'valuePath': {
      const full = resolvePath(node.path, schema, prefix);
      if (prefix.length === 0) attrs.add(full[0]!.toLowerCase());
      if (schema.strict && !schema.lookup(full))
        throw new FilterError(`'${node.path}' is not an attribute of this resource type`);
      const local = full.slice(prefix.length);
      const inner = compileNode(node.filter, schema, full, attrs, tick);
      return (res) => someAt(res, local, 0, inner);
    }
    case 'cmp':
      return compileComparison(node, schema, prefix, attrs, tick);
  }
}

function compileComparison(
  node: Extract<FilterNode, { kind: 'cmp' }>,
  schema: SchemaContext,
  prefix: readonly string[],
  attrs: Set<string>,
  tick: Tick,
): Predicate {
  const full = resolvePath(node.path, schema, prefix);
  if (prefix.length === 0) attrs.add(full[0]!.toLowerCase());
  const local = full.slice(prefix.length);
  let info = schema.lookup(full);
  if (!info && schema.strict) throw new FilterError(`'${node.path}' is not an attribute of this resource type`);
  // "emails co x" compares the "value" sub-attribute of each email (RFC 7644 §3.4.2.2)
  if (info?.type === 'complex') info = schema.lookup([...full, 'value']) ?? info;
  const { op } = node;

  if (op === 'pr') return (res) => someAt(res, local, 0, isPresent);
  if (node.value === null) {
    // "eq null" / "ne null": treat as absence / presence
    if (op === 'eq') return (res) => !someAt(res, local, 0, isPresent);
    if (op === 'ne') return (res) => someAt(res, local, 0, isPresent);
    return () => false;
  }
  if (info?.type === 'boolean' && !['eq', 'ne'].includes(op)) {
    throw new FilterError(`Operator '${op}' is not valid for boolean attribute '${node.path}'`);
  }

  if (info?.type === 'dateTime' && (typeof node.value !== 'string' || Number.isNaN(Date.parse(node.value)))) {
    throw new FilterError(`'${node.path}' is a date and time: compare it with one, e.g. "2026-01-31T00:00:00Z"`);
  }
  let expected: unknown = node.value;
  // Entra ID sends booleans as strings ("True"); accept them for boolean attributes
  if (info?.type === 'boolean' && typeof expected === 'string') {
    const l = expected.toLowerCase();
    if (l === 'true' || l === 'false') expected = l === 'true';
  }
  const exp = normalise(expected, info);
  const expStr = typeof exp === 'string' ? exp : String(exp);

  const matchOne = (actual: unknown): boolean => {
    tick();
    const act = normalise(actual, info);
    if (act === undefined || act === null) return false;
    switch (op) {
      case 'eq':
        return act === exp;
      case 'ne':
        return act !== exp;
      case 'co':
        return typeof act === 'string' && act.includes(expStr);
      case 'sw':
        return typeof act === 'string' && act.startsWith(expStr);
      case 'ew':
        return typeof act === 'string' && act.endsWith(expStr);
      default: {
        if (typeof act !== typeof exp || (typeof act !== 'number' && typeof act !== 'string')) return false;
        const a = act as number | string;
        const e = exp as number | string;
        if (op === 'gt') return a > e;
        if (op === 'ge') return a >= e;
        if (op === 'lt') return a < e;
        return a <= e;
      }
    }
  };

  if (op === 'ne') {
    // "ne" holds when no value equals the expected one (absent attributes included)
    const equal = (v: unknown) => (tick(), normalise(v, info) === exp);
    return (res) => !someAt(res, local, 0, equal);
  }
  return (res) => someAt(res, local, 0, matchOne);
}

// ---------------------------------------------------------------------------------------------
// Sorting

export interface CompiledSort {
  /** Sort key of one resource: the attribute, or the primary (else first) value of a multi-valued one. */
  key(resource: unknown): string | number | boolean | undefined;
  compare(a: string | number | boolean | undefined, b: string | number | boolean | undefined): number;
  attributes: Set<string>;
}

export function compileSort(sortBy: string, schema: SchemaContext): CompiledSort {
  if (!/^[A-Za-z$][\w$:.-]*$/.test(sortBy)) throw new FilterError(`Invalid sortBy attribute '${sortBy}'`);
  const parts = resolvePath(sortBy, schema);
  let info = schema.lookup(parts);
  if (!info && schema.strict) throw new FilterError(`'${sortBy}' is not an attribute of this resource type`);
  let path = parts;
  if (info?.type === 'complex') {
    path = [...parts, 'value'];
    info = schema.lookup(path) ?? info;
  }
  const key = (resource: unknown): string | number | boolean | undefined => {
    let node: unknown = resource;
    for (const part of path) {
      let v = childCI(node, part);
      if (Array.isArray(v)) {
        v = v.find((e) => childCI(e, 'primary') === true) ?? v[0];
      }
      node = v;
      if (node === undefined || node === null) return undefined;
    }
    const n = normalise(node, info);
    return typeof n === 'string' || typeof n === 'number' || typeof n === 'boolean' ? n : undefined;
  };
  const compare = (a: string | number | boolean | undefined, b: string | number | boolean | undefined): number => {
    if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
    if (typeof a !== typeof b) return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
    return a < b ? -1 : a > b ? 1 : 0;
  };
  return { key, compare, attributes: new Set([parts[0]!.toLowerCase()]) };
}

/**
 * Filtering and sorting for the scimmy test host, done by scimmy itself (SCIMMY.Types.Filter parses and
 * matches), not by scimctl's own filter code: nothing here imports from src/, so a bug in scimctl's filter
 * evaluator cannot hide on the server side of an end-to-end test too.
 *
 * scimmy 1.3.5's Filter departs from RFC 7644 in a few known ways. This wrapper handles each of them
 * explicitly, around scimmy's parser and matcher rather than instead of them:
 *   1. A negated group is negated by text replacement: `not (a or b)` is read as `not a or not b` and
 *      `not (a and b)` as `not a and not b`. A flat group (plain comparisons joined by one kind of operator)
 *      is rewritten here by De Morgan before scimmy sees it; any other negated group (nested groups, value
 *      paths, mixed and/or, double negation) is refused with 400 invalidFilter, as a limited real server would.
 *   2. Every comparison is case-exact. RFC 7644 §3.4.2.2 compares attributes whose caseExact is false (such
 *      as userName or emails.value) case-insensitively: such attributes, and attributes the schema does not
 *      know, are lower-cased on both sides (the expected value and a copy of the record) before matching.
 *   3. A URN-qualified path (`urn:…:enterprise:2.0:User:department`, `urn:…:core:2.0:User:userName`) is kept
 *      as one attribute name, which no record has: the core URN is dropped and an extension URN becomes the
 *      object the attribute lives in, as resources store it.
 *   4. Matching a sub-attribute (`name.givenName`, `emails[type eq "work"]`) of a record that lacks the
 *      parent attribute throws a TypeError: the copy matched gets an empty parent (no values) instead.
 *   5. An incomplete comparison (`userName eq`) parses without complaint: the parsed filter is built again
 *      from its objects, which scimmy validates, and a failure there is a 400 invalidFilter.
 *   6. A trailing `and`, `or` or `not` (`userName eq "x" and`) is dropped without complaint: refused here.
 * Whatever scimmy itself throws while parsing (its own errors, or a TypeError on input such as
 * `and userName eq "x"`) is a 400 invalidFilter too.
 */
import SCIMMY from 'scimmy';

export type ResourceKind = 'User' | 'Group';

/** A filter or sortBy the host does not accept: the host answers 400 invalidFilter with this message. */
export class InvalidFilter extends Error {}

export interface HostFilter {
  /** Lower-cased top-level attribute names the filter reads (extension URNs for extension attributes). */
  attributes: ReadonlySet<string>;
  test(record: Record<string, unknown>): boolean;
}

type SortKey = string | number | boolean | undefined;

export interface HostSort {
  attributes: ReadonlySet<string>;
  key(record: Record<string, unknown>): SortKey;
  /** Ascending; records without a value come last. */
  compare(a: SortKey, b: SortKey): number;
}

const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

interface Facts {
  type: string;
  caseExact: boolean;
  multiValued: boolean;
}

/** What scimmy's schema definitions say about an attribute path (extension URN first when it is one). */
class SchemaFacts {
  private readonly cache = new Map<string, Facts | undefined>();
  readonly core: string;
  readonly extensions: string[];
  private readonly definition: { attribute(name: string): unknown };

  constructor(kind: ResourceKind) {
    this.core = kind === 'User' ? USER_URN : GROUP_URN;
    this.extensions = kind === 'User' ? [ENTERPRISE_URN] : [];
    this.definition = kind === 'User' ? SCIMMY.Schemas.User.definition : SCIMMY.Schemas.Group.definition;
  }

  of(path: readonly string[]): Facts | undefined {
    const extension = this.extensions.find((urn) => urn.toLowerCase() === path[0]?.toLowerCase());
    const name = extension ? `${extension}:${path.slice(1).join('.')}` : path.join('.');
    const key = name.toLowerCase();
    if (this.cache.has(key)) return this.cache.get(key);
    let facts: Facts | undefined;
    try {
      const attribute: unknown = this.definition.attribute(name);
      if (attribute instanceof SCIMMY.Types.Attribute) {
        facts = {
          type: attribute.type,
          caseExact: attribute.config.caseExact === true,
          multiValued: attribute.config.multiValued === true,
        };
      }
    } catch {
      facts = undefined; // not in the schema
    }
    this.cache.set(key, facts);
    return facts;
  }

  /** Divergence 2: values of this attribute are compared lower-cased (unknown attributes too). */
  folds(path: readonly string[]): boolean {
    const facts = this.of(path);
    return !facts || ((facts.type === 'string' || facts.type === 'reference') && !facts.caseExact);
  }

  /**
   * Divergence 3: an attribute name as scimmy leaves it (possibly URN-qualified) as the path records use:
   * the core URN dropped, an extension URN as its own first part.
   */
  split(name: string): string[] {
    const lower = name.toLowerCase();
    if (lower.startsWith(`${this.core.toLowerCase()}:`)) return [name.slice(this.core.length + 1)];
    const extension = this.extensions.find((urn) => lower.startsWith(`${urn.toLowerCase()}:`));
    if (extension) return [extension, name.slice(extension.length + 1)];
    return [name];
  }
}

const schemaFacts = { User: new SchemaFacts('User'), Group: new SchemaFacts('Group') };

// ---------------------------------------------------------------------------------------------
// Divergence 1: negated groups

/** The expression cut into quoted strings and the rest, so that operators are only looked for outside quotes. */
function outsideQuotes(expression: string): Array<{ text: string; quoted: boolean }> {
  const pieces: Array<{ text: string; quoted: boolean }> = [];
  let i = 0;
  while (i < expression.length) {
    const open = expression.indexOf('"', i);
    if (open < 0) {
      pieces.push({ text: expression.slice(i), quoted: false });
      break;
    }
    if (open > i) pieces.push({ text: expression.slice(i, open), quoted: false });
    let close = open + 1;
    while (close < expression.length && expression[close] !== '"') close += expression[close] === '\\' ? 2 : 1;
    pieces.push({ text: expression.slice(open, close + 1), quoted: true });
    i = close + 1;
  }
  return pieces;
}

/** Index of the `)` closing the `(` at `open`, outside quotes; -1 when there is none. */
function closingParen(expression: string, open: number): number {
  let depth = 0;
  let quoted = false;
  for (let i = open; i < expression.length; i++) {
    const c = expression[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

/** `A or B` -> ['A', 'B'] and 'or' (null when it mixes operators); operators outside quotes only. */
function splitFlat(inner: string): { terms: string[]; operator: 'and' | 'or' | undefined } | null {
  const terms: string[] = [];
  const operators = new Set<string>();
  let current = '';
  for (const piece of outsideQuotes(inner)) {
    if (piece.quoted) {
      current += piece.text;
      continue;
    }
    const parts = piece.text.split(/\s+(and|or)\s+/i);
    current += parts[0];
    for (let k = 1; k < parts.length; k += 2) {
      operators.add(parts[k]!.toLowerCase());
      terms.push(current.trim());
      current = parts[k + 1]!;
    }
  }
  terms.push(current.trim());
  if (operators.size > 1) return null;
  return { terms, operator: [...operators][0] as 'and' | 'or' | undefined };
}

function rewriteNegatedGroups(expression: string): string {
  let out = '';
  let rest = expression;
  for (;;) {
    // The first `not (` outside quotes
    let at = -1;
    let offset = 0;
    for (const piece of outsideQuotes(rest)) {
      if (!piece.quoted) {
        const m = /(^|[\s(])not\s*\(/i.exec(piece.text);
        if (m) {
          at = offset + m.index + m[1]!.length;
          break;
        }
      }
      offset += piece.text.length;
    }
    if (at < 0) return out + rest;
    const open = rest.indexOf('(', at);
    const close = closingParen(rest, open);
    if (close < 0) return out + rest; // unbalanced: scimmy reports it
    const inner = rest.slice(open + 1, close);
    const refuse = (): never => {
      throw new InvalidFilter(
        `this server does not support negating "(${inner})": only a group of plain ` +
          `comparisons joined by one operator can be negated`,
      );
    };
    if (outsideQuotes(inner).some((p) => !p.quoted && /[()[\]]/.test(p.text))) refuse();
    const flat = splitFlat(inner);
    if (!flat || flat.terms.some((t) => /^not\b/i.test(t) || t === '')) refuse();
    const { terms, operator } = flat!;
    // not (a) is read right already; not (a or b) = not a and not b; not (a and b) = (not a or not b)
    const negated = terms.map((t) => `not ${t}`);
    const replacement = !operator
      ? `not (${inner})`
      : operator === 'or'
        ? negated.join(' and ')
        : `(${negated.join(' or ')})`;
    out += rest.slice(0, at) + replacement;
    rest = rest.slice(close + 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Filters

type Leaf = unknown[];
interface Branch {
  [name: string]: Leaf | Branch;
}

const isBranch = (v: unknown): v is Branch => typeof v === 'object' && v !== null && !Array.isArray(v);

function mergeInto(target: Branch, name: string, value: Leaf | Branch): void {
  const existing = Object.keys(target).find((k) => k.toLowerCase() === name.toLowerCase());
  if (existing === undefined) {
    target[name] = value;
    return;
  }
  const before = target[existing]!;
  if (isBranch(before) && isBranch(value)) {
    for (const [k, v] of Object.entries(value)) mergeInto(before, k, v);
  } else if (Array.isArray(before) && Array.isArray(value)) {
    const list = (leaf: Leaf): unknown[] => (leaf.every(Array.isArray) ? leaf : [leaf]);
    target[existing] = [...list(before), ...list(value)];
  } else {
    throw new InvalidFilter(`"${name}" is compared both as a value and by its sub-attributes`);
  }
}

/** Divergences 2 and 3 on one parsed branch: paths as records use them, folded expected values. */
function normaliseBranch(branch: Branch, schema: SchemaFacts): Branch {
  const out: Branch = {};
  for (const [name, value] of Object.entries(branch)) {
    const path = schema.split(name);
    let node: Leaf | Branch = foldExpected(value, path, schema);
    for (let i = path.length - 1; i > 0; i--) node = { [path[i]!]: node };
    mergeInto(out, path[0]!, node);
  }
  return out;
}

function foldExpected(value: Leaf | Branch, path: string[], schema: SchemaFacts): Leaf | Branch {
  if (isBranch(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, foldExpected(v, [...path, k], schema)]));
  }
  if (!schema.folds(path)) return value;
  // [comparator, value] or ['not', comparator, value]; pr and np have no value
  const fold = (expression: unknown[]): unknown[] => {
    const at = String(expression[0]).toLowerCase() === 'not' ? 2 : 1;
    return expression.map((part, i) => (i === at && typeof part === 'string' ? part.toLowerCase() : part));
  };
  return value.every(Array.isArray) ? (value as unknown[][]).map(fold) : fold(value);
}

/** A copy of what the filter reads of a record: folded where the schema says so, with empty parents filled in. */
function matchView(record: Record<string, unknown>, branches: Branch[], schema: SchemaFacts): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  const copy = (value: unknown, path: string[]): unknown => {
    if (Array.isArray(value)) return value.map((item) => copy(item, path));
    if (isBranch(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v, [...path, k])]));
    return typeof value === 'string' && schema.folds(path) ? value.toLowerCase() : value;
  };
  const fill = (node: Record<string, unknown>, expression: Branch, path: string[]): void => {
    for (const [name, sub] of Object.entries(expression)) {
      if (!isBranch(sub)) continue;
      const key = Object.keys(node).find((k) => k.toLowerCase() === name.toLowerCase());
      const child = key === undefined ? undefined : node[key];
      if (child === undefined || child === null) {
        node[key ?? name] = schema.of([...path, name])?.multiValued ? [] : {};
        fill(node[key ?? name] as Record<string, unknown>, sub, [...path, name]);
      } else if (Array.isArray(child)) {
        for (const item of child) if (isBranch(item)) fill(item, sub, [...path, name]);
      } else if (isBranch(child)) fill(child, sub, [...path, name]);
    }
  };
  for (const branch of branches) {
    for (const name of Object.keys(branch)) {
      const key = Object.keys(record).find((k) => k.toLowerCase() === name.toLowerCase());
      if (key !== undefined && !(key in view)) view[key] = copy(record[key], [key]);
    }
    fill(view, branch, []);
  }
  return view;
}

export function compileFilter(expression: string, kind: ResourceKind): HostFilter {
  const schema = schemaFacts[kind];
  let filter: InstanceType<typeof SCIMMY.Types.Filter>;
  const pieces = outsideQuotes(expression.trim());
  const last = pieces[pieces.length - 1];
  if (last && !last.quoted && /(^|\s)(and|or|not)$/i.test(last.text))
    throw new InvalidFilter(`Filter ends with an operator: '${expression}'`);
  try {
    const parsed = new SCIMMY.Types.Filter(rewriteNegatedGroups(expression));
    const branches = (JSON.parse(JSON.stringify(parsed)) as Branch[]).map((b) => normaliseBranch(b, schema));
    filter = new SCIMMY.Types.Filter(branches); // divergence 5: validated when built from objects
  } catch (ex) {
    if (ex instanceof InvalidFilter) throw ex;
    if (ex instanceof SCIMMY.Types.Error || ex instanceof TypeError) throw new InvalidFilter((ex as Error).message);
    throw ex;
  }
  const branches = JSON.parse(JSON.stringify(filter)) as Branch[];
  const attributes = new Set(branches.flatMap((b) => Object.keys(b).map((k) => k.toLowerCase())));
  return {
    attributes,
    test: (record) => filter.match([matchView(record, branches, schema)]).length === 1,
  };
}

// ---------------------------------------------------------------------------------------------
// Sorting (scimmy leaves sortBy to the resource handlers)

export function compileSort(sortBy: string, kind: ResourceKind): HostSort {
  const schema = schemaFacts[kind];
  if (!/^[A-Za-z][\w$:.-]*$/.test(sortBy)) throw new InvalidFilter(`Invalid sortBy attribute '${sortBy}'`);
  const [first, ...rest] = schema.split(sortBy);
  let path = [...(first!.startsWith('urn:') ? [first!] : first!.split('.')), ...rest.flatMap((r) => r.split('.'))];
  // A complex attribute sorts by its value sub-attribute
  if (schema.of(path)?.type === 'complex') path = [...path, 'value'];
  const folds = schema.folds(path);
  const child = (node: unknown, name: string): unknown => {
    if (!isBranch(node)) return undefined;
    const key = Object.keys(node).find((k) => k.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : node[key];
  };
  return {
    attributes: new Set([path[0]!.toLowerCase()]),
    key(record) {
      let node: unknown = record;
      for (const name of path) {
        node = child(node, name);
        // A multi-valued attribute sorts by its primary value, else its first
        if (Array.isArray(node)) node = node.find((item) => child(item, 'primary') === true) ?? node[0];
        if (node === undefined || node === null) return undefined;
      }
      if (typeof node === 'string') return folds ? node.toLowerCase() : node;
      return typeof node === 'number' || typeof node === 'boolean' ? node : undefined;
    },
    compare(a, b) {
      if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
      const [x, y] = typeof a === typeof b ? [a, b] : [String(a), String(b)];
      return x < y ? -1 : x > y ? 1 : 0;
    },
  };
}

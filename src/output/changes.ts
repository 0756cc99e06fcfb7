/**
 * Before → after, attribute by attribute, in the column names of the CSV
 * scheme: what an update did (or, for plans, will do).
 */
import { SchemaRegistry } from '../api/schema.ts';
import type { ScimResource } from '../api/types.ts';
import { flattenResource } from '../formats/scim-csv.ts';
import { safeText } from './safe-text.ts';

export interface CellChange {
  column: string;
  before?: string;
  after?: string;
  /** Which sides are a JSON boolean or number (shown bare: `active: true → false`), not a string. */
  literal?: { before: boolean; after: boolean };
}

/** Cell-level differences, ignoring server-kept metadata. */
export function cellChanges(
  before: ScimResource | undefined,
  after: ScimResource | undefined,
  coreSchema: string,
  registry = new SchemaRegistry(),
): CellChange[] {
  const ctx = { registry, coreSchema };
  const skip = (column: string) =>
    column.startsWith('meta.') || column === 'schemas' || column === 'groups' || column.startsWith('groups[');
  const literals = { before: new Set<string>(), after: new Set<string>() };
  const b = before ? flattenResource(before, { ...ctx, literals: literals.before }) : new Map<string, string>();
  const a = after ? flattenResource(after, { ...ctx, literals: literals.after }) : new Map<string, string>();
  const out: CellChange[] = [];
  for (const column of new Set([...b.keys(), ...a.keys()])) {
    if (skip(column)) continue;
    const bv = b.get(column);
    const av = a.get(column);
    if (bv === av) continue;
    const literal = { before: literals.before.has(column), after: literals.after.has(column) };
    out.push({ column, before: bv, after: av, ...(literal.before || literal.after ? { literal } : {}) });
  }
  return out;
}

/**
 * A string value in quotes, cut at 120 characters: quotes and backslashes escaped, control characters by safeText.
 * A boolean or number (`literal`) as it is: `true`, `42`.
 */
const show = (v: string, literal = false) =>
  literal
    ? v
    : `"${safeText((v.length > 120 ? `${v.slice(0, 119)}…` : v).replace(/["\\]/g, '\\$&'), { marks: true })}"`;

/**
 * `  title: "Engineer" → "Senior Engineer"`, `  ~ active: true → false`, `  + phoneNumbers[mobile].value: "…"`,
 * `  - nickName: "…"`.
 */
export function renderCellChanges(changes: readonly CellChange[], indent = '    '): string[] {
  return changes.map((c) => {
    const before = c.before === undefined ? '' : show(c.before, c.literal?.before);
    const after = c.after === undefined ? '' : show(c.after, c.literal?.after);
    if (c.before === undefined) return `${indent}+ ${c.column}: ${after}`;
    if (c.after === undefined) return `${indent}- ${c.column}: ${before}`;
    return `${indent}~ ${c.column}: ${before} → ${after}`;
  });
}

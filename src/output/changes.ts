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
  const b = before ? flattenResource(before, ctx) : new Map<string, string>();
  const a = after ? flattenResource(after, ctx) : new Map<string, string>();
  const out: CellChange[] = [];
  for (const column of new Set([...b.keys(), ...a.keys()])) {
    if (skip(column)) continue;
    const bv = b.get(column);
    const av = a.get(column);
    if (bv !== av) out.push({ column, before: bv, after: av });
  }
  return out;
}

/** A value in quotes, cut at 120 characters: quotes and backslashes escaped, control characters by safeText. */
const show = (v: string) =>
  `"${safeText((v.length > 120 ? `${v.slice(0, 119)}…` : v).replace(/["\\]/g, '\\$&'), { marks: true })}"`;

/** `  title: "Engineer" → "Senior Engineer"`, `  + phoneNumbers[mobile].value: "…"`, `  - nickName: "…"`. */
export function renderCellChanges(changes: readonly CellChange[], indent = '    '): string[] {
  return changes.map((c) => {
    if (c.before === undefined) return `${indent}+ ${c.column}: ${show(c.after!)}`;
    if (c.after === undefined) return `${indent}- ${c.column}: ${show(c.before)}`;
    return `${indent}~ ${c.column}: ${show(c.before)} → ${show(c.after)}`;
  });
}

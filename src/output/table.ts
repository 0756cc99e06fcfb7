/**
 * Tables for terminals and pipes. A terminal gets aligned columns fitted to its
 * width (long cells cut with an ellipsis); a pipe gets tab-separated columns with
 * no header and no truncation, stable for scripts. Pure functions: the Ink
 * Table component in src/ui renders the same layout.
 */
import stringWidth from 'string-width';
import { safeText } from './safe-text.ts';

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Columns that may shrink first when the terminal is narrow (e.g. ids). */
  shrinkable?: boolean;
  /** Never narrower than this. */
  minWidth?: number;
  /** Never wider than this, however long its cells (longer ones are cut with an ellipsis). */
  maxWidth?: number;
  /** Left out when every cell in view is empty (its header alone says nothing). */
  omitWhenEmpty?: boolean;
}

const ELLIPSIS = '…';
const GAP = 2;

/**
 * Cuts a string to a display width, ending in an ellipsis when cut. Control characters are escaped first
 * (safe-text.ts).
 */
export function truncate(raw: string, width: number): string {
  if (width <= 0) return '';
  const text = safeText(raw);
  if (stringWidth(text) <= width) return text;
  let out = '';
  let w = 0;
  for (const ch of text) {
    const cw = stringWidth(ch);
    if (w + cw > width - 1) break;
    out += ch;
    w += cw;
  }
  return out + ELLIPSIS;
}

export function padEnd(text: string, width: number): string {
  const w = stringWidth(text);
  return w >= width ? text : text + ' '.repeat(width - w);
}

/**
 * A cell, on a terminal or in a pipe (one rule for both): tabs and line breaks, which would
 * break the columns and rows, become one space; every other control character is escaped
 * visibly by safeText (ESC as `\x1b`). `--json` gives the exact values.
 */
export function tsvCell(text: string): string {
  return safeText(text.replace(/[\t\r\n]+/g, ' '));
}

/** Computes column widths that fit `total`, shrinking the widest (shrinkable first). */
export function fitWidths(
  natural: number[],
  total: number,
  shrinkable: boolean[] = [],
  minWidths: number[] = [],
): number[] {
  const widths = [...natural];
  const budget = total - GAP * Math.max(0, widths.length - 1);
  const sum = () => widths.reduce((a, b) => a + b, 0);
  const floor = (i: number) => Math.min(natural[i]!, minWidths[i] ?? 4);
  while (sum() > budget) {
    // Shrink the widest shrinkable column above its floor; if none, the widest column of all.
    let pick = -1;
    for (const preferShrinkable of [true, false]) {
      for (let i = 0; i < widths.length; i++) {
        if (preferShrinkable && !shrinkable[i]) continue;
        if (widths[i]! <= floor(i)) continue;
        if (pick < 0 || widths[i]! > widths[pick]!) pick = i;
      }
      if (pick >= 0) break;
    }
    if (pick < 0) break; // Everything at its floor: let the terminal wrap.
    const others = sum() - widths[pick]!;
    widths[pick] = Math.max(floor(pick), Math.min(widths[pick]! - 1, budget - others));
  }
  return widths;
}

export function renderTable<T>(rows: readonly T[], wanted: readonly Column<T>[], width: number): string[] {
  let cells = rows.map((r) => wanted.map((c) => tsvCell(c.value(r))));
  const shown = wanted.map((c, i) => !c.omitWhenEmpty || cells.some((row) => row[i] !== ''));
  const columns = wanted.filter((_, i) => shown[i]);
  if (columns.length < wanted.length) cells = cells.map((row) => row.filter((_, i) => shown[i]));
  const natural = columns.map((c, i) =>
    Math.min(c.maxWidth ?? Infinity, Math.max(stringWidth(c.header), ...cells.map((row) => stringWidth(row[i]!)))),
  );
  const widths = fitWidths(
    natural,
    width,
    columns.map((c) => !!c.shrinkable),
    columns.map((c) => c.minWidth ?? 4),
  );
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? truncate(v, widths[i]!) : padEnd(truncate(v, widths[i]!), widths[i]!)))
      .join(' '.repeat(GAP))
      .trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)];
}

export function renderTsvRow<T>(row: T, columns: readonly Column<T>[]): string {
  return columns.map((c) => tsvCell(c.value(row))).join('\t');
}

/**
 * Per-item results of commands that touch many users or groups: one line per
 * item (or a JSON report), and a summary on stderr.
 */
import { colourMark } from './colour.ts';
import type { IOStreams } from './iostreams.ts';
import { writeChunk } from './iostreams.ts';
import { renderTable, renderTsvRow, type Column } from './table.ts';

export type ItemStatus =
  'created' | 'updated' | 'unchanged' | 'deleted' | 'already-gone' | 'skipped' | 'not-found' | 'failed';

export interface ItemResult {
  /** What the admin named, or where the record came from (file:line). */
  ref: string;
  status: ItemStatus;
  id?: string;
  name?: string;
  detail?: string;
}

const ORDER: ItemStatus[] = [
  'created',
  'updated',
  'deleted',
  'unchanged',
  'already-gone',
  'skipped',
  'not-found',
  'failed',
];

export function summarize(results: readonly ItemResult[]): Record<ItemStatus, number> {
  const counts = Object.fromEntries(ORDER.map((s) => [s, 0])) as Record<ItemStatus, number>;
  for (const r of results) counts[r.status]++;
  return counts;
}

export function summaryLine(results: readonly ItemResult[], only?: readonly ItemStatus[]): string {
  const counts = summarize(results);
  return (only ?? ORDER)
    .filter((s) => only?.includes(s) || counts[s] > 0)
    .map((s) => `${counts[s]} ${s.replace('-', ' ')}`)
    .join(', ');
}

const COLUMNS: Column<ItemResult>[] = [
  { header: 'status', value: (r) => r.status, minWidth: 7 },
  { header: 'name', value: (r) => r.name ?? r.ref, minWidth: 12 },
  { header: 'id', value: (r) => r.id ?? '', shrinkable: true, minWidth: 8 },
  { header: 'detail', value: (r) => r.detail ?? '', minWidth: 10 },
];

const MARKS: Partial<Record<ItemStatus, string>> = {
  created: '✓',
  updated: '✓',
  deleted: '✓',
  unchanged: '✓',
  'already-gone': '✓',
  'not-found': '✗',
  failed: '✗',
};

const TTY_COLUMNS: Column<ItemResult>[] = [
  { ...COLUMNS[0]!, value: (r) => `${MARKS[r.status] ?? '-'} ${r.status}`, minWidth: 9 },
  ...COLUMNS.slice(1),
];

/**
 * Prints the results (table, tab-separated, or JSON with the summary) and the
 * summary line on stderr. `listed` picks the rows a terminal or pipe shows (all by
 * default); the JSON report and the summary always cover every result.
 */
export async function printResults(
  io: IOStreams,
  results: readonly ItemResult[],
  json: boolean,
  summaryStatuses?: readonly ItemStatus[],
  listed: (r: ItemResult) => boolean = () => true,
): Promise<void> {
  if (json) {
    await writeChunk(io.stdout, `${JSON.stringify({ results, summary: summarize(results) }, null, 2)}\n`);
  } else {
    const rows = results.filter(listed);
    // On a terminal each status has its mark, ✓ done or ✗ not (green and red where colour is on).
    const lines = io.isStdoutTTY
      ? renderTable(rows, TTY_COLUMNS, io.columns).map((l, i) => (i === 0 ? l : colourMark(io.color, l)))
      : rows.map((r) => renderTsvRow(r, COLUMNS));
    if (rows.length > 0) await writeChunk(io.stdout, `${lines.join('\n')}\n`);
  }
  io.stderr.write(`scimctl: ${summaryLine(results, summaryStatuses)}\n`);
}

/**
 * The one reader of CSV and TSV text with a header row, for every file of the source of
 * truth (resource-file.ts: the SCIM column scheme; table.ts: presets and mapped files):
 * csv-parse, the line each row starts on, the check of the header's names, and the
 * parser's errors reworded to name the file, the line where the broken row starts, and
 * its column.
 *
 * Pure: no terminal, no exit; it reads text, not files.
 */
import type { InputProblem } from './resource-file.ts';

export interface DelimitedHeader {
  /** Column names as the header writes them, trimmed (unnamed ones as ''). */
  columns: string[];
  /** 1-based line of the header. */
  line: number;
}

export interface DelimitedRow {
  /** 1-based line where the row starts (past quoted line breaks and skipped empty lines). */
  line: number;
  /** Cells in the header's order. */
  cells: string[];
}

/**
 * The header and rows, or the problem that stopped the parse: then there are no rows, and the
 * header only when the problem is past it.
 */
export type DelimitedText =
  | { header: DelimitedHeader; rows: DelimitedRow[]; problem?: undefined }
  | { header?: DelimitedHeader; rows: []; problem: InputProblem };

/**
 * Parses CSV or TSV (by `delimiter`; TSV takes quotes inside a cell literally) with a header
 * row. Empty lines are skipped; a header-only text has no rows. Text that cannot be parsed
 * whole gives one problem: where the broken row starts and, when known, its column.
 */
export async function parseDelimited(file: string, text: string, delimiter: string): Promise<DelimitedText> {
  const empty = (): DelimitedText => ({
    rows: [],
    problem: { file, line: 0, message: 'no records: the file is empty' },
  });
  if (text.trim() === '') return empty();
  // Loaded on first use: most commands never read CSV.
  const { parse } = await import('csv-parse/sync');
  // csv-parse tells the line a record ends on: a record starts after the previous one ended,
  // past the empty lines skipped in between (an unclosed quote is noticed only at the end of the file).
  let lastEnd = 0;
  let lastEmpty = 0;
  const startOf = (emptyLines: number) => lastEnd + 1 + (emptyLines - lastEmpty);
  const starts: number[] = [];
  let header: DelimitedHeader | undefined;
  let raw: string[][];
  try {
    raw = parse(text, {
      delimiter,
      skip_empty_lines: true,
      relax_quotes: delimiter === '\t',
      relax_column_count: false,
      on_record: (record: string[], info: { lines: number; empty_lines: number }) => {
        starts.push(startOf(info.empty_lines));
        header ??= { columns: record.map((c) => c.trim()), line: starts[0]! };
        lastEnd = info.lines;
        lastEmpty = info.empty_lines;
        return record;
      },
    }) as string[][];
  } catch (e) {
    const err = e as { message?: string; lines?: number; empty_lines?: number; index?: number };
    const line = typeof err.lines === 'number' ? startOf(err.empty_lines ?? lastEmpty) : 0;
    // A row past the header is named by its column too (`index` is the cell csv-parse was reading).
    const column = header !== undefined && typeof err.index === 'number' ? header.columns[err.index] : undefined;
    return {
      header,
      rows: [],
      problem: {
        file,
        line,
        ...(column !== undefined ? { field: column } : {}),
        message: parserMessage(err.message ?? String(e), err.index, column),
      },
    };
  }
  if (!header || raw.length === 0) return empty();
  return { header, rows: raw.slice(1).map((cells, i) => ({ line: starts[i + 1] ?? 0, cells })) };
}

/** csv-parse's message as an admin reads it: what is wrong with the row, not how the parser got there. */
function parserMessage(message: string, index: number | undefined, column: string | undefined): string {
  const length = /^Invalid Record Length: (?:expect|columns length is) (\d+), got (\d+)/.exec(message);
  if (length) return `the row has ${length[2]} cells and the header ${length[1]}`;
  return message
    .replace(/^Quote Not Closed: /, '')
    .replace(
      /the parsing is finished with an opening quote at line (\d+)/i,
      'a quote opened in this record is still open at the end of the file (line $1)',
    )
    .replace(/ on field (\d+) /, (whole, n: string) =>
      column !== undefined && Number(n) === index ? ` on field ${JSON.stringify(column)} ` : whole,
    );
}

export interface HeaderColumn {
  /** The column's name (trimmed); unnamed columns are left out. */
  column: string;
  /** Set when the column repeats an earlier one. */
  problem?: InputProblem;
}

/**
 * The named columns of a header, in order, each with the problem of repeating an earlier
 * one. Names ignore case: `namesIgnoringCase` says whose rule that is in the message
 * ("attribute names" for the SCIM column scheme, "column names" for a table).
 */
export function checkHeader(
  file: string,
  header: DelimitedHeader,
  namesIgnoringCase: 'attribute names' | 'column names',
): HeaderColumn[] {
  const seen = new Map<string, string>();
  const out: HeaderColumn[] = [];
  for (const column of header.columns) {
    if (column === '') continue;
    const twin = seen.get(column.toLowerCase());
    if (twin === undefined) {
      seen.set(column.toLowerCase(), column);
      out.push({ column });
    } else {
      out.push({
        column,
        problem: {
          file,
          line: header.line,
          field: column,
          message:
            twin === column
              ? 'the column appears more than once'
              : `the same column as "${twin}" (${namesIgnoringCase} ignore case)`,
        },
      });
    }
  }
  return out;
}

/**
 * Our CSV export scheme read back leniently, for the export tests: csv-parse's own errors, and
 * attributes of extensions the registry does not declare kept as the exporter wrote them (JSON
 * when not a plain string). The commands read CSV through src/sources (delimited.ts, resource-file.ts),
 * which refuse undeclared extensions; an export is read back here to check it round-trips.
 */
import type { InfoRecord, Parser } from 'csv-parse';
import type { Readable } from 'node:stream';
import { CsvInputError, unflattenRow, type FlattenContext } from '../../src/formats/scim-csv.ts';

export interface CsvRecord {
  resource: Record<string, unknown>;
  /** 1-based line in the file where the record starts. */
  line: number;
}

/** Parser options for variants of the scheme: TSV is `{ delimiter: '\t', relaxQuotes: true }`. */
export interface ReadCsvOptions {
  /** Field delimiter; default ','. */
  delimiter?: string;
  /** Take a quote inside an unquoted field literally (csv-parse `relax_quotes`); default false. */
  relaxQuotes?: boolean;
}

/** Streams the records of a CSV file in the export scheme, with csv-parse's own error messages. */
export async function* readExportCsv(
  input: Readable,
  file: string,
  ctx: FlattenContext,
  options: ReadCsvOptions = {},
): AsyncGenerator<CsvRecord> {
  // Loaded on first use: most commands never read CSV.
  const { parse: parseCsv } = await import('csv-parse');
  // csv-parse counts the line a record ends on. A record starts after the previous one (or the header)
  // ended, past the empty lines skipped in between: tracked as the parser goes, so that a record spanning
  // lines, and a parse error (an unclosed quote is noticed only at the end of the file), name the line
  // where the record starts.
  let lastEnd = 0;
  let lastEmpty = 0;
  const startOf = (emptyLines: number) => lastEnd + 1 + (emptyLines - lastEmpty);
  const parser: Parser = input.pipe(
    parseCsv({
      columns: (header: string[]) => {
        lastEnd = parser.info.lines;
        lastEmpty = parser.info.empty_lines;
        return header.map((h) => h.trim());
      },
      on_record: (record: Record<string, string>, info: InfoRecord) => {
        const line = startOf(info.empty_lines);
        lastEnd = info.lines;
        lastEmpty = info.empty_lines;
        return { record, line };
      },
      bom: true,
      skip_empty_lines: true,
      relax_column_count: false,
      delimiter: options.delimiter ?? ',',
      relax_quotes: options.relaxQuotes ?? false,
    }),
  );
  try {
    for await (const entry of parser as AsyncIterable<{ record: Record<string, string>; line: number }>) {
      yield { resource: unflattenRow(entry.record, ctx, file, entry.line), line: entry.line };
    }
  } catch (e) {
    if (e instanceof CsvInputError) throw e;
    const err = e as {
      message?: string;
      lines?: number;
      empty_lines?: number;
      column?: string | number;
      code?: string;
    };
    const line = typeof err.lines === 'number' ? startOf(err.empty_lines ?? lastEmpty) : 0;
    throw new CsvInputError(
      file,
      line,
      typeof err.column === 'string' ? err.column : undefined,
      err.message ?? String(e),
    );
  }
}

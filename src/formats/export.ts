/**
 * Streaming writers for `scimctl export`. JSON is a SCIM ListResponse written
 * resource by resource; CSV needs its columns before its first row, so resources
 * are spooled to a temporary NDJSON file while the column set is collected, then
 * written out. Either way memory stays flat however many resources there are.
 */
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { SCHEMA, type ScimResource } from '../api/types.ts';
import { onInterrupt } from '../util/interrupt.ts';
import { writeChunk } from '../output/iostreams.ts';
import { escapeFormula, flattenResource, orderColumns, type FlattenContext } from './scim-csv.ts';

/** Writes a ListResponse; returns how many resources it holds. */
export async function writeJsonListResponse(resources: AsyncIterable<ScimResource>, out: Writable): Promise<number> {
  let count = 0;
  await writeChunk(out, `{"schemas":[${JSON.stringify(SCHEMA.LIST_RESPONSE)}],"Resources":[`);
  for await (const resource of resources) {
    await writeChunk(out, `${count === 0 ? '\n' : ',\n'}${JSON.stringify(resource)}`);
    count++;
  }
  await writeChunk(
    out,
    `${count === 0 ? '' : '\n'}],"totalResults":${count},"itemsPerPage":${count},"startIndex":1}\n`,
  );
  return count;
}

export interface CsvWriteOptions {
  /** Escape cells a spreadsheet would run as a formula (scim-csv.ts escapeFormula); default true. */
  formulaEscape?: boolean;
}

/** Writes CSV in the scheme of scim-csv.ts; returns how many rows it holds. */
export async function writeCsv(
  resources: AsyncIterable<ScimResource>,
  out: Writable,
  ctx: FlattenContext,
  options: CsvWriteOptions = {},
): Promise<number> {
  const cell = options.formulaEscape === false ? (c: string) => c : escapeFormula;
  const { stringify } = await import('csv-stringify/sync');
  const dir = await mkdtemp(join(tmpdir(), 'scimctl-export-'));
  const spoolPath = join(dir, 'resources.ndjson');
  // Ctrl+C ends the process without running the finally below: the spool holds the exported resources.
  const forget = onInterrupt(() => rmSync(dir, { recursive: true, force: true }));
  try {
    const columns = new Set<string>();
    const spool = createWriteStream(spoolPath, { mode: 0o600 });
    let count = 0;
    try {
      for await (const resource of resources) {
        for (const column of flattenResource(resource, ctx).keys()) columns.add(column);
        await writeChunk(spool, `${JSON.stringify(resource)}\n`);
        count++;
      }
    } finally {
      spool.end();
      await finished(spool);
    }
    const ordered = orderColumns(columns, ctx);
    await writeChunk(out, stringify([ordered]));
    const lines = createInterface({ input: createReadStream(spoolPath, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line === '') continue;
      const cells = flattenResource(JSON.parse(line) as ScimResource, ctx);
      await writeChunk(out, stringify([ordered.map((c) => cell(cells.get(c) ?? ''))]));
    }
    return count;
  } finally {
    forget();
    await rm(dir, { recursive: true, force: true });
  }
}

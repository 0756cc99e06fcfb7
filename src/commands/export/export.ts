import { createWriteStream, rmSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ScimClient } from '../../api/client.ts';
import { SchemaRegistry } from '../../api/schema.ts';
import { SCHEMA, type ScimGroup, type ScimResource } from '../../api/types.ts';
import { writeCsv, writeJsonListResponse } from '../../formats/export.ts';
import { progressBar, type ProgressReporter } from '../../output/progress.ts';
import type { CliContext, Command, GlobalArgs } from '../context.ts';
import { UsageError } from '../exit-codes.ts';
import { onInterrupt } from '../../util/interrupt.ts';
import type { Factory } from '../factory.ts';

export type ExportType = 'users' | 'groups';
export type ExportFormat = 'json' | 'csv';

export interface ExportOptions {
  type: ExportType;
  format: ExportFormat;
  /** File to write; stdout when absent or "-". */
  output?: string;
  filter?: string;
  /** CSV: escape cells a spreadsheet would run as a formula (default true). */
  formulaEscape?: boolean;
}

/** Groups with their members: a server that leaves members out of listings is asked per group. */
async function* groupsWithMembers(client: ScimClient, groups: AsyncIterable<ScimGroup>): AsyncGenerator<ScimGroup> {
  for await (const group of groups) {
    if (group.members === undefined) yield await client.groups.get(group.id);
    else yield group;
  }
}

function resources(client: ScimClient, opts: ExportOptions, progress: ProgressReporter): AsyncIterable<ScimResource> {
  const onPage = ({ received, total }: { received: number; total?: number }) => progress.update(received, total);
  if (opts.type === 'users') return client.users.list({ filter: opts.filter, onPage });
  return groupsWithMembers(client, client.groups.list({ filter: opts.filter, onPage }));
}

export async function runExport(opts: ExportOptions, f: Factory): Promise<void> {
  const client = await f.client();
  const toFile = opts.output !== undefined && opts.output !== '-';
  const progress = progressBar(f.io, `Exporting ${opts.type}`);
  // A file is written under a temporary name and renamed only when complete:
  // a failed export never leaves a file that looks like a full one.
  const partial = toFile ? `${opts.output}.partial-${process.pid}` : undefined;
  const out: Writable = partial ? createWriteStream(partial, { mode: 0o600 }) : f.io.stdout;
  const forget = onInterrupt(() => partial && rmSync(partial, { force: true }));
  let count: number;
  try {
    const items = resources(client, opts, progress);
    if (opts.format === 'json') {
      count = await writeJsonListResponse(items, out);
    } else {
      const caps = await client.capabilities();
      const ctx = { registry: new SchemaRegistry(caps.schemas), coreSchema: opts.type === 'users' ? SCHEMA.USER : SCHEMA.GROUP };
      count = await writeCsv(items, out, ctx, { formulaEscape: opts.formulaEscape !== false });
    }
    if (partial) {
      out.end();
      await finished(out);
      await rename(partial, opts.output!);
    }
  } catch (e) {
    if (partial) {
      out.destroy();
      await rm(partial, { force: true });
    }
    throw e;
  } finally {
    forget();
    progress.finish();
  }
  f.log(`exported ${count} ${opts.type}${toFile ? ` to ${opts.output}` : ''}`);
}

interface Args extends GlobalArgs {
  type: string;
  format: string;
  output?: string;
  filter?: string;
  formulaEscape: boolean;
}

export function exportCommand(ctx: CliContext): Command<Args> {
  return {
    command: 'export <type>',
    describe: 'Export users or groups as a SCIM ListResponse (JSON) or CSV',
    builder: (y) =>
      y
        .positional('type', { type: 'string', choices: ['users', 'groups'], demandOption: true })
        .option('format', { type: 'string', choices: ['json', 'csv'], default: 'json', describe: 'Output format' })
        .option('output', { alias: 'o', type: 'string', describe: 'Write to FILE instead of stdout' })
        .option('filter', { type: 'string', describe: 'Export only resources matching a SCIM filter' })
        .option('formula-escape', { type: 'boolean', default: true, describe: "CSV: write a ' before cells starting with = + - @ (a spreadsheet would run them); --no-formula-escape: as they are" }) as never,
    handler: (argv) => {
      if (argv.type !== 'users' && argv.type !== 'groups') throw new UsageError('export users or groups');
      return runExport(
        { type: argv.type, format: argv.format === 'csv' ? 'csv' : 'json', output: argv.output, filter: argv.filter, formulaEscape: argv.formulaEscape },
        ctx.factory(argv),
      );
    },
  };
}

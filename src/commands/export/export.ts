import { createWriteStream, rmSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ScimClient } from '../../api/client.ts';
import { SchemaRegistry } from '../../api/schema.ts';
import { SCHEMA, type ScimGroup, type ScimResource } from '../../api/types.ts';
import { writeCsv, writeJsonListResponse } from '../../formats/export.ts';
import { progressBar, type ProgressReporter } from '../../output/progress.ts';
import { defineCommand } from '../context.ts';
import { onInterrupt } from '../../util/interrupt.ts';

/** Groups with their members: a server that leaves members out of listings is asked per group. */
async function* groupsWithMembers(client: ScimClient, groups: AsyncIterable<ScimGroup>): AsyncGenerator<ScimGroup> {
  for await (const group of groups) {
    if (group.members === undefined) yield await client.groups.get(group.id);
    else yield group;
  }
}

function resources(
  client: ScimClient,
  type: 'users' | 'groups',
  filter: string | undefined,
  progress: ProgressReporter,
): AsyncIterable<ScimResource> {
  const onPage = ({ received, total }: { received: number; total?: number }) => progress.update(received, total);
  if (type === 'users') return client.users.list({ filter, onPage });
  return groupsWithMembers(client, client.groups.list({ filter, onPage }));
}

export const exportCommand = defineCommand({
  command: 'export <type>',
  describe: 'Export users or groups as a SCIM ListResponse (JSON) or CSV',
  builder: (y) =>
    y
      .positional('type', { type: 'string', choices: ['users', 'groups'] as const, demandOption: true })
      .option('format', {
        type: 'string',
        choices: ['json', 'csv'] as const,
        default: 'json' as const,
        describe: 'Output format',
      })
      .option('output', { alias: 'o', type: 'string', describe: 'Write to FILE instead of stdout' })
      .option('filter', { type: 'string', describe: 'Export only resources matching a SCIM filter' })
      .option('formula-escape', {
        type: 'boolean',
        default: true,
        describe:
          "CSV: write a ' before cells starting with = + - @ (a spreadsheet would run " +
          'them); --no-formula-escape: as they are',
      }),
  run: async (argv, f) => {
    const client = await f.client();
    const toFile = argv.output !== undefined && argv.output !== '-';
    const progress = progressBar(f.io, `Exporting ${argv.type}`);
    // A file is written under a temporary name and renamed only when complete:
    // a failed export never leaves a file that looks like a full one.
    const partial = toFile ? `${argv.output}.partial-${process.pid}` : undefined;
    const out: Writable = partial ? createWriteStream(partial, { mode: 0o600 }) : f.io.stdout;
    const forget = onInterrupt(() => partial && rmSync(partial, { force: true }));
    let count: number;
    try {
      const items = resources(client, argv.type, argv.filter, progress);
      if (argv.format === 'json') {
        count = await writeJsonListResponse(items, out);
      } else {
        const caps = await client.capabilities();
        const ctx = {
          registry: new SchemaRegistry(caps.schemas),
          coreSchema: argv.type === 'users' ? SCHEMA.USER : SCHEMA.GROUP,
        };
        count = await writeCsv(items, out, ctx, { formulaEscape: argv.formulaEscape });
      }
      if (partial) {
        out.end();
        await finished(out);
        await rename(partial, argv.output!);
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
    f.log(`exported ${count} ${argv.type}${toFile ? ` to ${argv.output}` : ''}`);
  },
});

import { parseRate, ratePacer } from '../../api/executor.ts';
import { SchemaRegistry } from '../../api/schema.ts';
import { SCHEMA } from '../../api/types.ts';
import { progressBar } from '../../output/progress.ts';
import { printResults, type ItemResult } from '../../output/results.ts';
import { readUsersFile } from '../../sources/resource-file.ts';
import { createManyUsers } from '../../sync/create-many.ts';
import { defineCommand } from '../context.ts';
import { ExitCode, SilentExit, UsageError } from '../exit-codes.ts';

export const usersBulkCreateCommand = defineCommand({
  command: 'bulk-create <file>',
  describe: 'Create users from a CSV (export column scheme) or SCIM JSON file; existing ones are skipped',
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true })
      .option('concurrency', { type: 'number', default: 4, describe: 'Requests in flight at once' })
      .option('rate', {
        type: 'string',
        describe: 'Pace requests to a limit, e.g. 180/min (Slack user writes), 60/min (Omni)',
      })
      .option('bulk', {
        type: 'boolean',
        default: true,
        describe: 'Use SCIM /Bulk when the server offers it (--no-bulk: single requests)',
      })
      .option('json', { type: 'boolean', default: false, describe: 'Print a JSON report of every record' })
      .option('allow-unusual-names', {
        type: 'boolean',
        default: false,
        describe: 'Accept userNames and e-mails with control, invisible or bidi characters (refused by default)',
      }),
  run: async (argv, f) => {
    if (!(argv.concurrency >= 1 && argv.concurrency <= 64))
      throw new UsageError('--concurrency must be between 1 and 64');
    let pacer;
    try {
      pacer = argv.rate !== undefined ? ratePacer(parseRate(argv.rate)) : undefined;
    } catch (e) {
      throw new UsageError(`--rate: ${(e as Error).message}`);
    }
    const client = await f.client();
    const caps = await client.capabilities();
    const registry = new SchemaRegistry(caps.schemas);
    // The whole file is read and checked before the first request: bad input sends nothing.
    const records = await readUsersFile(
      argv.file,
      { registry, coreSchema: SCHEMA.USER },
      { allowUnusualNames: argv.allowUnusualNames },
    );

    const progress = progressBar(f.io, 'Creating users');
    let done = 0;
    const results = await createManyUsers(client, caps, records, {
      concurrency: argv.concurrency,
      pacer,
      bulk: argv.bulk ? 'auto' : 'never',
      onResult: () => progress.update(++done, records.length),
    });
    progress.finish();
    const items: ItemResult[] = results.map((r) => ({
      ref: `${r.record.file}:${r.record.line}`,
      name: typeof r.record.resource.userName === 'string' ? r.record.resource.userName : undefined,
      id: r.id,
      status: r.status,
      detail: r.status === 'failed' ? `${r.record.file}:${r.record.line}: ${r.detail}` : r.detail,
    }));
    // Every record, created, skipped or failed, one line each (a table on a terminal) or in the --json report.
    await printResults(f.io, items, argv.json, ['created', 'skipped', 'failed']);
    if (items.some((i) => i.status === 'failed')) throw new SilentExit(ExitCode.ERROR);
  },
});

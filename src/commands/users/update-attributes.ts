import { mergeAttributes } from '../../api/edit.ts';
import { SchemaRegistry } from '../../api/schema.ts';
import { SCHEMA, type ScimUser } from '../../api/types.ts';
import { updateResource } from '../../api/update.ts';
import { cellChanges } from '../../output/changes.ts';
import { printResults, type ItemResult } from '../../output/results.ts';
import { InputError, readUsersFile, type InputProblem, type SourceRecord } from '../../sources/resource-file.ts';
import { defineCommand } from '../context.ts';
import { errorText, forEachItem } from '../each.ts';
import { ExitCode, SilentExit } from '../exit-codes.ts';

/** Which user a record means: its id, else its userName, else its externalId. */
function keyOf(record: SourceRecord): { by: 'id' | 'userName' | 'externalId'; value: string } | undefined {
  const r = record.resource;
  if (typeof r.id === 'string' && r.id) return { by: 'id', value: r.id };
  if (typeof r.userName === 'string' && r.userName) return { by: 'userName', value: r.userName };
  if (typeof r.externalId === 'string' && r.externalId) return { by: 'externalId', value: r.externalId };
  return undefined;
}

export const usersUpdateAttributesCommand = defineCommand({
  command: 'update-attributes <file>',
  describe: 'Update many users from a CSV or JSON file (matched by id, userName or externalId)',
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true })
      .option('concurrency', { type: 'number', default: 4, describe: 'Requests in flight at once' })
      .option('json', { type: 'boolean', default: false, describe: 'Print a JSON report' }),
  run: async (argv, f) => {
    const client = await f.client();
    const caps = await client.capabilities();
    const registry = new SchemaRegistry(caps.schemas);
    let records: SourceRecord[];
    let problems: InputProblem[] = [];
    try {
      records = await readUsersFile(argv.file, { registry, coreSchema: SCHEMA.USER }, { requireUserName: false });
    } catch (e) {
      if (!(e instanceof InputError) || e.records === undefined) throw e;
      records = e.records;
      problems = [...e.problems];
    }
    records.forEach((r) => {
      if (!keyOf(r))
        problems.push({ file: r.file, line: r.line, message: 'no id, userName or externalId to find the user by' });
    });
    if (problems.length > 0) throw new InputError(problems);

    // One listing finds every user, instead of one search per record.
    const byUserName = new Map<string, string>();
    const byExternalId = new Map<string, string>();
    for await (const u of client.users.list({ attributes: ['userName', 'externalId'] })) {
      if (typeof u.userName === 'string') byUserName.set(u.userName.toLowerCase(), u.id);
      if (typeof u.externalId === 'string') byExternalId.set(u.externalId, u.id);
    }

    const failed = (record: (typeof records)[number], e: unknown): ItemResult => ({
      ref: `${record.file}:${record.line}`,
      status: 'failed',
      detail: `${record.file}:${record.line}: ${errorText(e)}`,
    });
    const results = await forEachItem(
      f,
      records,
      { label: 'Updating users', concurrency: argv.concurrency, failed },
      async (record): Promise<ItemResult> => {
        const ref = `${record.file}:${record.line}`;
        const key = keyOf(record)!;
        const id =
          key.by === 'id'
            ? key.value
            : key.by === 'userName'
              ? byUserName.get(key.value.toLowerCase())
              : byExternalId.get(key.value);
        if (!id) return { ref, status: 'not-found', name: key.value, detail: `no user with ${key.by} "${key.value}"` };
        const before = await client.users.get(id);
        // The keys find the user; they are not changes (an id never is).
        const changes = { ...record.resource };
        delete changes.id;
        // The key that found the user is not a rename when it differs only in case (userName is caseExact=false).
        if (typeof changes.userName === 'string' && changes.userName.toLowerCase() === before.userName.toLowerCase())
          delete changes.userName;
        const desired = mergeAttributes(before, changes);
        const outcome = await updateResource(client.users, caps, before, desired as ScimUser, SCHEMA.USER);
        const shown = cellChanges(before, outcome.result, SCHEMA.USER, registry);
        return {
          ref,
          id,
          name: before.userName,
          status: outcome.method === 'none' ? 'unchanged' : 'updated',
          detail: shown.map((c) => `${c.column}: ${c.before ?? '∅'} → ${c.after ?? '∅'}`).join('; '),
        };
      },
    );
    await printResults(f.io, results, argv.json, ['updated', 'unchanged', 'not-found', 'failed']);
    if (results.some((r) => r.status === 'failed')) throw new SilentExit(ExitCode.ERROR);
    if (results.some((r) => r.status === 'not-found')) throw new SilentExit(ExitCode.NOT_FOUND);
  },
});

import { readFile } from 'node:fs/promises';
import { applyEdits, parseEdits } from '../../api/edit.ts';
import { ClientUsageError } from '../../api/errors.ts';
import { resolveUser } from '../../api/resolve.ts';
import { SchemaRegistry } from '../../api/schema.ts';
import { SCHEMA, type ScimUser } from '../../api/types.ts';
import { updateResource } from '../../api/update.ts';
import { cellChanges, renderCellChanges } from '../../output/changes.ts';
import { writeChunk } from '../../output/iostreams.ts';
import { defineCommand } from '../context.ts';
import { UsageError } from '../exit-codes.ts';

/** Reads a single SCIM resource from a JSON file. */
export async function readResourceJson(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${file}: cannot read: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new UsageError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new UsageError(`${file}:1: expected one SCIM resource (a JSON object)`);
  return parsed as Record<string, unknown>;
}

export const usersUpdateCommand = defineCommand({
  command: 'update <user>',
  describe: 'Change attributes of one user (PATCH, or GET + PUT on servers without PATCH)',
  builder: (y) =>
    y
      .positional('user', { type: 'string', demandOption: true, describe: 'id, userName or e-mail' })
      .option('set', {
        type: 'string',
        array: true,
        describe: 'PATH=VALUE, e.g. title=CTO, emails[work].value=a@b.c, active=false; an empty VALUE removes',
      })
      .option('unset', {
        type: 'string',
        array: true,
        describe: 'Remove an attribute, e.g. nickName or phoneNumbers[type eq "fax"]',
      })
      .option('from', { type: 'string', describe: 'A JSON file with the whole resource to make the user look like' })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Print the updated resource as the server returned it',
      }),
  run: async (argv, f) => {
    const set = argv.set ?? [];
    const unset = argv.unset ?? [];
    if (argv.from === undefined && set.length === 0 && unset.length === 0)
      throw new UsageError('nothing to change: give --set PATH=VALUE, --unset PATH or --from FILE');
    if (argv.from !== undefined && (set.length > 0 || unset.length > 0))
      throw new UsageError('--from replaces the whole resource; do not combine it with --set or --unset');
    const client = await f.client();
    const caps = await client.capabilities();
    const registry = new SchemaRegistry(caps.schemas);
    // Validate the edits before any request that could change something.
    const edits = parseEdits(set, unset, registry, SCHEMA.USER, caps.schemasFromServer);
    const fromFile = argv.from !== undefined ? await readResourceJson(argv.from) : undefined;
    const found = await resolveUser(client.users, argv.user);
    // A fresh read by id: the base of the change (and of its ETag).
    const before = await client.users.get(found.id);
    let desired: ScimUser;
    if (fromFile) {
      if (fromFile.id !== undefined && fromFile.id !== before.id)
        throw new ClientUsageError(
          `${argv.from}: its id ${String(fromFile.id)} is not the id of ${argv.user} (${before.id})`,
        );
      desired = { ...(fromFile as ScimUser), id: before.id };
    } else {
      desired = applyEdits(before, edits);
    }
    const outcome = await updateResource(client.users, caps, before, desired, SCHEMA.USER);
    if (argv.json) {
      await writeChunk(f.io.stdout, `${JSON.stringify(outcome.result, null, 2)}\n`);
    } else if (outcome.method === 'none') {
      f.log(`${before.userName}: nothing to change`);
    } else {
      const shown = cellChanges(before, outcome.result, SCHEMA.USER, registry);
      await writeChunk(
        f.io.stdout,
        [`~ ${before.userName} (${before.id})`, ...renderCellChanges(shown)].join('\n') + '\n',
      );
      // A server may accept a write and quietly keep something else: say so.
      const intended = new Set(cellChanges(before, desired, SCHEMA.USER, registry).map((c) => c.column));
      const asked = cellChanges(desired, outcome.result, SCHEMA.USER, registry).filter((c) => intended.has(c.column));
      if (asked.length > 0) f.log(`warning: the server did not keep ${asked.map((c) => c.column).join(', ')} as sent`);
    }
    if (outcome.method !== 'none') f.log(`updated ${before.userName} with ${outcome.method}`);
  },
});

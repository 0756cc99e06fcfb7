import { ResponseError } from '../../api/errors.ts';
import { eq } from '../../api/filter.ts';
import { SCHEMA, type ScimGroup } from '../../api/types.ts';
import { updateResource } from '../../api/update.ts';
import { resolveGroup } from '../../api/resolve.ts';
import { writeChunk } from '../../output/iostreams.ts';
import { printResourceDetail } from '../../output/resources.ts';
import { defineCommand } from '../context.ts';
import { UsageError } from '../exit-codes.ts';
import { resolveMemberIds } from './membership.ts';

export const groupsCreateCommand = defineCommand({
  command: 'create <name>',
  describe: 'Create a group, optionally with members',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true })
      .option('member', { type: 'string', array: true, describe: 'A user to add (id, userName or e-mail); repeatable' })
      .option('external-id', { type: 'string' })
      .option('json', { type: 'boolean', default: false }),
  run: async (argv, f) => {
    if (argv.name.trim() === '') throw new UsageError('a group needs a name');
    const client = await f.client();
    // Group names need not be unique in SCIM, but two groups of one name confuse everyone.
    const same = await client.groups.toArray({ filter: eq('displayName', argv.name), limit: 1 });
    if (same.length > 0) throw new UsageError(`a group named "${argv.name}" already exists (${same[0]!.id})`);
    const memberIds = await resolveMemberIds(client, argv.member ?? []);
    const group: Omit<ScimGroup, 'id'> = {
      schemas: [SCHEMA.GROUP],
      displayName: argv.name,
      members: memberIds.map((value) => ({ value })),
    };
    if (argv.externalId) group.externalId = argv.externalId;
    let created: ScimGroup;
    try {
      created = await client.groups.create(group);
    } catch (e) {
      if (e instanceof ResponseError && e.status === 409)
        e.message = `a group named "${argv.name}" already exists: ${e.message}`;
      throw e;
    }
    await printResourceDetail(f.io, created, argv.json, SCHEMA.GROUP);
    f.log(`created group ${created.displayName} (${created.id}) with ${memberIds.length} member(s)`);
  },
});

export const groupsRenameCommand = defineCommand({
  command: 'rename <group> <name>',
  describe: 'Rename a group',
  builder: (y) =>
    y
      .positional('group', { type: 'string', demandOption: true, describe: 'id or displayName' })
      .positional('name', { type: 'string', demandOption: true, describe: 'the new displayName' })
      .option('json', { type: 'boolean', default: false }),
  run: async (argv, f) => {
    if (argv.name.trim() === '') throw new UsageError('the new name must not be empty');
    const client = await f.client();
    const caps = await client.capabilities();
    const found = await resolveGroup(client.groups, argv.group);
    const before = await client.groups.get(found.id);
    const outcome = await updateResource(
      client.groups,
      caps,
      before,
      { ...before, displayName: argv.name },
      SCHEMA.GROUP,
    );
    if (argv.json) await writeChunk(f.io.stdout, `${JSON.stringify(outcome.result, null, 2)}\n`);
    else if (outcome.method !== 'none')
      await writeChunk(
        f.io.stdout,
        `~ ${before.id}\n    ~ displayName: ${JSON.stringify(before.displayName)} → ` +
          `${JSON.stringify(outcome.result.displayName)}\n`,
      );
    f.log(outcome.method === 'none' ? `group is already named "${argv.name}"` : `renamed with ${outcome.method}`);
  },
});

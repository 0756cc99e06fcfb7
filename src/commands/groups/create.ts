import { ResponseError } from '../../api/errors.ts';
import { eq } from '../../api/filter.ts';
import { SCHEMA, type ScimGroup } from '../../api/types.ts';
import { updateResource } from '../../api/update.ts';
import { resolveGroup } from '../../api/resolve.ts';
import { writeChunk } from '../../output/iostreams.ts';
import { printResourceDetail } from '../../output/resources.ts';
import type { CliContext, Command, GlobalArgs } from '../context.ts';
import { UsageError } from '../exit-codes.ts';
import type { Factory } from '../factory.ts';
import { resolveMemberIds } from './membership.ts';

export interface GroupsCreateOptions {
  name: string;
  members: string[];
  externalId?: string;
  json: boolean;
}

export async function runGroupsCreate(opts: GroupsCreateOptions, f: Factory): Promise<void> {
  if (opts.name.trim() === '') throw new UsageError('a group needs a name');
  const client = await f.client();
  // Group names need not be unique in SCIM, but two groups of one name confuse everyone.
  const same = await client.groups.toArray({ filter: eq('displayName', opts.name), limit: 1 });
  if (same.length > 0) throw new UsageError(`a group named "${opts.name}" already exists (${same[0]!.id})`);
  const memberIds = await resolveMemberIds(client, opts.members);
  const group: Omit<ScimGroup, 'id'> = { schemas: [SCHEMA.GROUP], displayName: opts.name, members: memberIds.map((value) => ({ value })) };
  if (opts.externalId) group.externalId = opts.externalId;
  let created: ScimGroup;
  try {
    created = await client.groups.create(group);
  } catch (e) {
    if (e instanceof ResponseError && e.status === 409) e.message = `a group named "${opts.name}" already exists: ${e.message}`;
    throw e;
  }
  await printResourceDetail(f.io, created, opts.json, SCHEMA.GROUP);
  f.log(`created group ${created.displayName} (${created.id}) with ${memberIds.length} member(s)`);
}

export async function runGroupsRename(opts: { group: string; name: string; json: boolean }, f: Factory): Promise<void> {
  if (opts.name.trim() === '') throw new UsageError('the new name must not be empty');
  const client = await f.client();
  const caps = await client.capabilities();
  const found = await resolveGroup(client.groups, opts.group);
  const before = await client.groups.get(found.id);
  const outcome = await updateResource(client.groups, caps, before, { ...before, displayName: opts.name }, SCHEMA.GROUP);
  if (opts.json) await writeChunk(f.io.stdout, `${JSON.stringify(outcome.result, null, 2)}\n`);
  else if (outcome.method !== 'none') await writeChunk(f.io.stdout, `~ ${before.id}\n    ~ displayName: ${JSON.stringify(before.displayName)} → ${JSON.stringify(outcome.result.displayName)}\n`);
  f.log(outcome.method === 'none' ? `group is already named "${opts.name}"` : `renamed with ${outcome.method}`);
}

interface CreateArgs extends GlobalArgs {
  name: string;
  member?: string[];
  externalId?: string;
  json: boolean;
}

export function groupsCreateCommand(ctx: CliContext): Command<CreateArgs> {
  return {
    command: 'create <name>',
    describe: 'Create a group, optionally with members',
    builder: (y) =>
      y
        .positional('name', { type: 'string', demandOption: true })
        .option('member', { type: 'string', array: true, describe: 'A user to add (id, userName or e-mail); repeatable' })
        .option('external-id', { type: 'string' })
        .option('json', { type: 'boolean', default: false }),
    handler: (argv) => runGroupsCreate({ name: argv.name, members: argv.member ?? [], externalId: argv.externalId, json: argv.json }, ctx.factory(argv)),
  };
}

export function groupsRenameCommand(ctx: CliContext): Command<GlobalArgs & { group: string; name: string; json: boolean }> {
  return {
    command: 'rename <group> <name>',
    describe: 'Rename a group',
    builder: (y) =>
      y
        .positional('group', { type: 'string', demandOption: true, describe: 'id or displayName' })
        .positional('name', { type: 'string', demandOption: true, describe: 'the new displayName' })
        .option('json', { type: 'boolean', default: false }),
    handler: (argv) => runGroupsRename({ group: argv.group, name: argv.name, json: argv.json }, ctx.factory(argv)),
  };
}

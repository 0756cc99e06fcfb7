import { resolveGroup } from '../../api/resolve.ts';
import { SCHEMA } from '../../api/types.ts';
import { printResourceDetail } from '../../output/resources.ts';
import type { CliContext, Command, GlobalArgs } from '../context.ts';
import type { Factory } from '../factory.ts';

export interface GroupsGetOptions {
  ref: string;
  json: boolean;
}

export async function runGroupsGet(opts: GroupsGetOptions, f: Factory): Promise<void> {
  const { groups } = await f.client();
  const group = await resolveGroup(groups, opts.ref);
  await printResourceDetail(f.io, group, opts.json, SCHEMA.GROUP);
}

interface Args extends GlobalArgs {
  group: string;
  json: boolean;
}

export function groupsGetCommand(ctx: CliContext): Command<Args> {
  return {
    command: 'get <group>',
    describe: 'Show one group, named by id or displayName',
    builder: (y) =>
      y
        .positional('group', { type: 'string', demandOption: true, describe: 'id or displayName' })
        .option('json', { type: 'boolean', default: false, describe: 'Print the SCIM resource as received' }),
    handler: (argv) => runGroupsGet({ ref: argv.group, json: argv.json }, ctx.factory(argv)),
  };
}

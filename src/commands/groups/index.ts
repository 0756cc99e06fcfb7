/** The groups commands (loaded only when the command line names `groups`). */
import type { CliContext, GlobalArgv } from '../context.ts';
import { groupsCreateCommand, groupsRenameCommand } from './create.ts';
import { groupsDeleteCommand } from './delete.ts';
import { groupsGetCommand } from './get.ts';
import { groupsListCommand } from './list.ts';
import { groupsMembersCommand } from './members.ts';
import { groupsAddMembersCommand, groupsRemoveMembersCommand, groupsSetMembersCommand } from './membership.ts';

export default (y: GlobalArgv, ctx: CliContext): GlobalArgv =>
  y
    .command(groupsListCommand(ctx))
    .command(groupsGetCommand(ctx))
    .command(groupsMembersCommand(ctx))
    .command(groupsCreateCommand(ctx))
    .command(groupsRenameCommand(ctx))
    .command(groupsAddMembersCommand(ctx))
    .command(groupsRemoveMembersCommand(ctx))
    .command(groupsSetMembersCommand(ctx))
    .command(groupsDeleteCommand(ctx))
    .demandCommand(1, 'name a groups command');

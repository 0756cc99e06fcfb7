/** The command tree. Each command module is a thin adapter over its run function. */
import yargs, { type Argv } from 'yargs';
import { exportCommand } from './export/export.ts';
import { tuiCommand } from './tui.ts';
import { runsListCommand, runsLogCommand, runsShowCommand } from './runs/runs.ts';
import { syncApplyCommand } from './sync/apply.ts';
import { syncPlanCommand, syncRunCommand } from './sync/plan.ts';
import type { CliContext } from './context.ts';
import { VERSION } from './factory.ts';
import { groupsGetCommand } from './groups/get.ts';
import { groupsListCommand } from './groups/list.ts';
import { groupsMembersCommand } from './groups/members.ts';
import { profileAddCommand } from './profile/add.ts';
import { profileListCommand } from './profile/list.ts';
import { profileRemoveCommand } from './profile/remove.ts';
import { profileShowCommand } from './profile/show.ts';
import { profileTestCommand } from './profile/test.ts';
import { profileUseCommand } from './profile/use.ts';
import { UsageError } from './exit-codes.ts';
import { usersActivateCommand, usersDeactivateCommand } from './users/activate.ts';
import { usersBulkCreateCommand } from './users/bulk-create.ts';
import { usersCreateCommand } from './users/create.ts';
import { usersDeleteCommand } from './users/delete.ts';
import { usersGetCommand } from './users/get.ts';
import { usersUpdateAttributesCommand } from './users/update-attributes.ts';
import { usersUpdateCommand } from './users/update.ts';
import { groupsCreateCommand, groupsRenameCommand } from './groups/create.ts';
import { groupsDeleteCommand } from './groups/delete.ts';
import { groupsAddMembersCommand, groupsRemoveMembersCommand, groupsSetMembersCommand } from './groups/membership.ts';
import { usersListCommand } from './users/list.ts';
import { usersSearchCommand } from './users/search.ts';

const EPILOG = `Connection: --profile NAME, or SCIMCTL_URL + SCIMCTL_TOKEN (environment or ./.env), or the current profile.
Exit codes: 0 ok, 1 error, 2 usage or bad input, 3 changes pending, 4 auth, 5 not found, 6 server unreachable, 7 refused by a safety check.`;

export function buildCli(args: string[], ctx: CliContext, width: number): Argv {
  return yargs(args)
    .scriptName('scimctl')
    .usage('$0 <command> [options]\n\nA console for SCIM 2.0 user provisioning.')
    .option('profile', { alias: 'p', type: 'string', global: true, describe: 'Connection profile to use' })
    .option('allow-insecure-http', { type: 'boolean', global: true, describe: 'Allow plain http:// to hosts other than this machine' })
    .option('timeout', { type: 'number', global: true, describe: 'Per-request timeout in seconds (default 30)' })
    .option('retries', { type: 'number', global: true, describe: 'Retries of a failed request (default 4; 0 to fail at once)' })
    .command('users', 'List, inspect, create, update and delete users', (y) =>
      y
        .command(usersListCommand(ctx))
        .command(usersGetCommand(ctx))
        .command(usersSearchCommand(ctx))
        .command(usersCreateCommand(ctx))
        .command(usersBulkCreateCommand(ctx))
        .command(usersUpdateCommand(ctx))
        .command(usersUpdateAttributesCommand(ctx))
        .command(usersActivateCommand(ctx))
        .command(usersDeactivateCommand(ctx))
        .command(usersDeleteCommand(ctx))
        .demandCommand(1, 'name a users command'),
    )
    .command('groups', 'List, inspect and change groups and their members', (y) =>
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
        .demandCommand(1, 'name a groups command'),
    )
    .command(tuiCommand(ctx))
    .command(exportCommand(ctx))
    .command('sync', 'Make the target match a source of truth: plan, apply, run', (y) =>
      y
        .command(syncPlanCommand(ctx))
        .command(syncApplyCommand(ctx))
        .command(syncRunCommand(ctx))
        .demandCommand(1, 'name a sync command: plan, apply or run'),
    )
    .command('runs', 'The history of sync runs', (y) =>
      y
        .command(runsListCommand(ctx))
        .command(runsShowCommand(ctx))
        .command(runsLogCommand(ctx))
        .demandCommand(1, 'name a runs command: list, show or log'),
    )
    .command('profile', 'Manage connection profiles', (y) =>
      y
        .command(profileAddCommand(ctx))
        .command(profileListCommand(ctx))
        .command(profileUseCommand(ctx))
        .command(profileShowCommand(ctx))
        .command(profileRemoveCommand(ctx))
        .command(profileTestCommand(ctx))
        .demandCommand(1, 'name a profile command: add, list, use, show, remove or test'),
    )
    .demandCommand(1, 'name a command')
    .recommendCommands()
    .strict()
    .epilog(EPILOG)
    .version(VERSION)
    .alias('h', 'help')
    .wrap(Math.min(110, width))
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    });
}

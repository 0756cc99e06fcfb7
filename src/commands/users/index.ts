/** The users commands (loaded only when the command line names `users`). */
import type { CliContext, GlobalArgv } from '../context.ts';
import { usersActivateCommand, usersDeactivateCommand } from './activate.ts';
import { usersBulkCreateCommand } from './bulk-create.ts';
import { usersCreateCommand } from './create.ts';
import { usersDeleteCommand } from './delete.ts';
import { usersGetCommand } from './get.ts';
import { usersListCommand } from './list.ts';
import { usersSearchCommand } from './search.ts';
import { usersUpdateAttributesCommand } from './update-attributes.ts';
import { usersUpdateCommand } from './update.ts';

export default (y: GlobalArgv, ctx: CliContext): GlobalArgv =>
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
    .demandCommand(1, 'name a users command');

/** The profile commands (loaded only when the command line names `profile`). */
import type { CliContext, GlobalArgv } from '../context.ts';
import { profileAddCommand } from './add.ts';
import { profileListCommand } from './list.ts';
import { profileRemoveCommand } from './remove.ts';
import { profileSetCommand } from './set.ts';
import { profileShowCommand } from './show.ts';
import { profileTestCommand } from './test.ts';
import { profileUseCommand } from './use.ts';

export default (y: GlobalArgv, ctx: CliContext): GlobalArgv =>
  y
    .command(profileAddCommand(ctx))
    .command(profileListCommand(ctx))
    .command(profileSetCommand(ctx))
    .command(profileUseCommand(ctx))
    .command(profileShowCommand(ctx))
    .command(profileRemoveCommand(ctx))
    .command(profileTestCommand(ctx))
    .demandCommand(1, 'name a profile command: add, set, list, use, show, remove or test');

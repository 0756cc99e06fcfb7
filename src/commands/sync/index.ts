/** The sync commands (loaded only when the command line names `sync`). */
import type { CliContext, GlobalArgv } from '../context.ts';
import { syncApplyCommand } from './apply.ts';
import { syncPlanCommand, syncRunCommand } from './plan.ts';
import { syncShowCommand } from './show.ts';

export default (y: GlobalArgv, ctx: CliContext): GlobalArgv =>
  y
    .command(syncPlanCommand(ctx))
    .command(syncApplyCommand(ctx))
    .command(syncRunCommand(ctx))
    .command(syncShowCommand(ctx))
    .demandCommand(1, 'name a sync command: plan, apply, run or show');

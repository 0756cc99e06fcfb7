/** The runs commands (loaded only when the command line names `runs`). */
import type { CliContext, GlobalArgv } from '../context.ts';
import { runsListCommand, runsLogCommand, runsShowCommand, runsUserCommand } from './runs.ts';

export default (y: GlobalArgv, ctx: CliContext): GlobalArgv =>
  y
    .command(runsListCommand(ctx))
    .command(runsShowCommand(ctx))
    .command(runsLogCommand(ctx))
    .command(runsUserCommand(ctx))
    .demandCommand(1, 'name a runs command: list, show, log or user');

import { writeChunk } from '../../output/iostreams.ts';
import { problemGroups, renderPlan } from '../../output/plan.ts';
import { writePlanFile } from '../../sync/plan-file.ts';
import { acceptLine } from '../../sync/safety.ts';
import type { CliContext, Command, GlobalArgs } from '../context.ts';
import { ExitCode, SilentExit } from '../exit-codes.ts';
import type { Factory } from '../factory.ts';
import { confirmAndApply } from './execute.ts';
import { applyOptions, historyFor, prepare, recordPlan, recordRunError, RunLog, safetyFindings, safetyOptions, sourceOptions, type ApplyFlags, type LogFlags, type PlanFlags, type SafetyFlags } from './shared.ts';

export interface SyncPlanOptions extends PlanFlags, SafetyFlags, Partial<ApplyFlags>, Partial<LogFlags> {
  output?: string;
  json: boolean;
  detailedExitcode: boolean;
  /** sync run: apply after showing (unless dryRun). */
  apply: boolean;
  dryRun: boolean;
  yes: boolean;
}

/** sync plan and sync run: read, plan, show, check safety; run goes on to confirm and apply. */
export async function runSyncPlan(opts: SyncPlanOptions, f: Factory): Promise<void> {
  const history = historyFor(f);
  const log = new RunLog(f, history, opts);
  const connection = await f.connection();
  const run = history.start({ command: opts.apply && !opts.dryRun ? 'sync run' : 'sync plan', profile: connection.name, url: connection.url, startedAt: new Date().toISOString() });
  log.attach(run);
  try {
    const p = await prepare(opts, f, log, history.sourceKeeper(run.id));
    const planFile = recordPlan(history, run, p);
    if (opts.output) {
      await writePlanFile(opts.output, planFile);
      log.info(`plan written to ${opts.output}`);
    }
    if (opts.json) await writeChunk(f.io.stdout, `${JSON.stringify(planFile, null, 2)}\n`);
    else await writeChunk(f.io.stdout, `${renderPlan(p.plan, p.registry).join('\n')}\n`);
    // Problems are shown once: in the plan as printed (each kind once), or with --json on stderr; the run log keeps every one.
    for (const problem of p.plan.problems) log.record('warn', `${problem.origin.file}:${problem.origin.line}: ${problem.message}`);
    if (opts.json) for (const lines of problemGroups(p.plan.problems)) log.warn(lines.join('\n'));

    const unattended = opts.yes || !f.io.canPrompt;
    const findings = safetyFindings(p.plan, p.source, p.state, opts, unattended);
    const applying = opts.apply && !opts.dryRun;
    if (findings.length > 0) {
      for (const finding of findings) log[applying ? 'error' : 'warn'](finding.message, { check: finding.check });
      if (applying) {
        run.status = 'refused';
        run.message = findings.map((x) => x.check).join(', ');
        run.finishedAt = new Date().toISOString();
        history.save(run);
        f.log(`nothing was applied; ${acceptLine(findings)}`);
        throw new SilentExit(ExitCode.REFUSED);
      }
    }
    if (!applying) {
      run.status = 'planned';
      run.finishedAt = new Date().toISOString();
      history.save(run);
      if (opts.detailedExitcode && p.plan.changes.length > 0) throw new SilentExit(ExitCode.CHANGES_PENDING);
      return;
    }
    await confirmAndApply(
      f,
      { client: p.client, caps: p.caps, connection: p.connection, dataDir: p.dataDir, state: p.state, recordCount: p.source.users.length, history, run, log },
      p.plan,
      { concurrency: opts.concurrency ?? 4, rate: opts.rate, bulk: opts.bulk ?? true, yes: opts.yes, json: false },
    );
  } catch (e) {
    recordRunError(run, history, log, e);
    throw e;
  }
}

interface Args extends GlobalArgs {
  source: string;
  preset?: string;
  mapping?: string;
  groupsFile?: string;
  mode: string;
  missing: string;
  deleteGroups: boolean;
  manageAll: boolean;
  matchKeys: string;
  strictSchema: boolean;
  allowUnusualNames: boolean;
  maxDeletes?: string;
  maxMembershipRemovals?: string;
  maxGroupDeletes?: string;
  allowEmpty: boolean;
  allowEmptyGroups: boolean;
  acceptSourceChange: boolean;
  output?: string;
  json: boolean;
  detailedExitcode: boolean;
  concurrency: number;
  rate?: string;
  bulk: boolean;
  logFile?: string;
  logFormat: string;
  dryRun: boolean;
  yes: boolean;
}

function toOptions(argv: Args, apply: boolean): SyncPlanOptions {
  return {
    source: argv.source,
    preset: argv.preset,
    mapping: argv.mapping,
    groupsFile: argv.groupsFile,
    mode: argv.mode,
    missing: argv.missing,
    deleteGroups: argv.deleteGroups,
    manageAll: argv.manageAll,
    matchKeys: argv.matchKeys,
    strictSchema: argv.strictSchema,
    allowUnusualNames: argv.allowUnusualNames,
    maxDeletes: argv.maxDeletes,
    maxMembershipRemovals: argv.maxMembershipRemovals,
    maxGroupDeletes: argv.maxGroupDeletes,
    allowEmpty: argv.allowEmpty,
    allowEmptyGroups: argv.allowEmptyGroups,
    acceptSourceChange: argv.acceptSourceChange,
    output: argv.output,
    json: argv.json,
    detailedExitcode: argv.detailedExitcode,
    concurrency: argv.concurrency,
    rate: argv.rate,
    bulk: argv.bulk,
    logFile: argv.logFile,
    logFormat: argv.logFormat,
    apply,
    dryRun: argv.dryRun,
    yes: argv.yes,
  };
}

export function syncPlanCommand(ctx: CliContext): Command<Args> {
  return {
    command: 'plan',
    describe: 'Compute and show what a sync would change (nothing is written to the target)',
    builder: (y) =>
      safetyOptions(sourceOptions(y))
        .option('output', { alias: 'o', type: 'string', describe: 'Save the plan to a file for "sync apply"' })
        .option('json', { type: 'boolean', default: false, describe: 'Print the plan as JSON (the plan file format)' })
        .option('detailed-exitcode', { type: 'boolean', default: false, describe: 'Exit 0 when there are no changes, 3 when there are' })
        .option('log-file', { type: 'string', describe: 'Also write the run log to this file' })
        .option('log-format', { type: 'string', choices: ['text', 'json'], default: 'text' }) as never,
    handler: (argv) => runSyncPlan(toOptions({ ...argv, dryRun: true, yes: false, concurrency: 4, bulk: true }, false), ctx.factory(argv)),
  };
}

export function syncRunCommand(ctx: CliContext): Command<Args> {
  return {
    command: 'run',
    describe: 'Plan, show, confirm and apply in one go',
    builder: (y) =>
      applyOptions(safetyOptions(sourceOptions(y)))
        .option('dry-run', { type: 'boolean', default: false, describe: 'Show the plan and stop' })
        .option('yes', { type: 'boolean', default: false, describe: 'Apply without asking (required without a terminal)' })
        .option('json', { type: 'boolean', default: false, describe: 'Print the plan as JSON' })
        .option('detailed-exitcode', { type: 'boolean', default: false, describe: 'With --dry-run: exit 3 when there are changes' }) as never,
    handler: (argv) => runSyncPlan(toOptions(argv, true), ctx.factory(argv)),
  };
}

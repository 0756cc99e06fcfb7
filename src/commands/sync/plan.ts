import { writeChunk } from '../../output/iostreams.ts';
import { problemGroups, renderPlan } from '../../output/plan.ts';
import { writePlanFile } from '../../sync/plan-file.ts';
import { acceptLine } from '../../sync/safety.ts';
import type { CliContext, Command, GlobalArgs } from '../context.ts';
import { ExitCode, SilentExit } from '../exit-codes.ts';
import type { Factory } from '../factory.ts';
import { confirmAndApply } from './execute.ts';
import { SYNC_DEFAULTS } from '../../sync/defaults.ts';
import { ldapOptions, ldapSourceReader, type LdapFlags } from './ldap-options.ts';
import { location } from '../../sources/problem-groups.ts';
import { applyOptions, historyFor, safetyFindings, safetyOptions, sourceOptions, startSession, syncRequest, type ApplyFlags, type LogFlags, type PlanFlags, type SafetyFlags } from './shared.ts';

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
  const applying = opts.apply && !opts.dryRun;
  const session = await startSession(f, applying ? 'sync run' : 'sync plan', history, opts);
  await session.guard(async () => {
    const { plan, planFile, prepared } = await session.plan(syncRequest(opts));
    if (opts.output) {
      await writePlanFile(opts.output, planFile);
      session.log.info(`plan written to ${opts.output}`);
    }
    if (opts.json) await writeChunk(f.io.stdout, `${JSON.stringify(planFile, null, 2)}\n`);
    else await writeChunk(f.io.stdout, `${renderPlan(plan, prepared!.registry).join('\n')}\n`);
    // Problems are shown once: in the plan as printed (each kind once), or with --json on stderr; the run log keeps every one.
    for (const problem of plan.problems) session.log.record('warn', `${location(problem.origin)}: ${problem.message}`);
    if (opts.json) for (const lines of problemGroups(plan.problems)) session.log.warn(lines.join('\n'));

    const unattended = opts.yes || !f.io.canPrompt;
    const findings = safetyFindings(session, opts, unattended);
    if (findings.length > 0) {
      if (applying) {
        session.refuse(findings);
        f.log(`nothing was applied; ${acceptLine(findings)}`);
        throw new SilentExit(ExitCode.REFUSED);
      }
      for (const finding of findings) session.log.warn(finding.message, { check: finding.check });
    }
    if (!applying) {
      session.finish('planned');
      if (opts.detailedExitcode && plan.changes.length > 0) throw new SilentExit(ExitCode.CHANGES_PENDING);
      return;
    }
    await confirmAndApply(f, session, { concurrency: opts.concurrency ?? SYNC_DEFAULTS.concurrency, rate: opts.rate, bulk: opts.bulk ?? SYNC_DEFAULTS.bulk, yes: opts.yes, json: false });
  });
}

interface Args extends GlobalArgs, LdapFlags {
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
      ldapOptions(safetyOptions(sourceOptions(y)))
        .option('output', { alias: 'o', type: 'string', describe: 'Save the plan to a file for "sync apply"' })
        .option('json', { type: 'boolean', default: false, describe: 'Print the plan as JSON (the plan file format)' })
        .option('detailed-exitcode', { type: 'boolean', default: false, describe: 'Exit 0 when there are no changes, 3 when there are' })
        .option('log-file', { type: 'string', describe: 'Also write the run log to this file' })
        .option('log-format', { type: 'string', choices: ['text', 'json'], default: SYNC_DEFAULTS.logFormat }) as never,
    handler: (argv) => {
      const f = ctx.factory(argv);
      const sourceReader = ldapSourceReader(argv, f.env); // an ldap:// --source (ldap-options.ts)
      return runSyncPlan({ ...toOptions({ ...argv, dryRun: true, yes: false, concurrency: SYNC_DEFAULTS.concurrency, bulk: SYNC_DEFAULTS.bulk }, false), sourceReader }, f);
    },
  };
}

export function syncRunCommand(ctx: CliContext): Command<Args> {
  return {
    command: 'run',
    describe: 'Plan, show, confirm and apply in one go',
    builder: (y) =>
      ldapOptions(applyOptions(safetyOptions(sourceOptions(y))))
        .option('dry-run', { type: 'boolean', default: false, describe: 'Show the plan and stop' })
        .option('yes', { type: 'boolean', default: false, describe: 'Apply without asking (required without a terminal)' })
        .option('json', { type: 'boolean', default: false, describe: 'Print the plan as JSON' })
        .option('detailed-exitcode', { type: 'boolean', default: false, describe: 'With --dry-run: exit 3 when there are changes' }) as never,
    handler: (argv) => {
      const f = ctx.factory(argv);
      const sourceReader = ldapSourceReader(argv, f.env); // an ldap:// --source (ldap-options.ts)
      return runSyncPlan({ ...toOptions(argv, true), sourceReader }, f);
    },
  };
}

import { writeChunk } from '../../output/iostreams.ts';
import { renderPlan } from '../../output/plan.ts';
import { SchemaRegistry } from '../../api/schema.ts';
import type { ScimClient } from '../../api/client.ts';
import type { Connection } from '../../config/connection.ts';
import type { RunHistory, RunRecord } from '../../sync/history.ts';
import { fromPlanFile, PlanFileError, readPlanFile, type PlanFile } from '../../sync/plan-file.ts';
import { dataDir } from '../../sync/state.ts';
import { findStale } from '../../sync/target.ts';
import type { CliContext, Command, GlobalArgs } from '../context.ts';
import { ExitCode, SilentExit, UsageError } from '../exit-codes.ts';
import type { Factory } from '../factory.ts';
import { confirmAndApply } from './execute.ts';
import { applyOptions, historyFor, loadStateAfterInterrupted, recordRunError, RunLog, safetyFindings, type ApplyFlags, type LogFlags, type SafetyFlags } from './shared.ts';

export interface SyncApplyOptions extends ApplyFlags, Partial<LogFlags>, Pick<SafetyFlags, 'maxDeletes'> {
  file: string;
  yes: boolean;
  json: boolean;
}

export async function runSyncApply(opts: SyncApplyOptions, f: Factory): Promise<void> {
  let planFile: PlanFile;
  try {
    planFile = await readPlanFile(opts.file);
  } catch (e) {
    if (e instanceof PlanFileError) throw new UsageError(e.message);
    throw e;
  }
  const client = await f.client();
  const connection = await f.connection();
  if (planFile.url.replace(/\/+$/, '') !== connection.url.replace(/\/+$/, '')) {
    throw new UsageError(`${opts.file} was planned against ${planFile.url}, not ${connection.url} (profile ${connection.name}); apply it with the profile it was made for`);
  }
  const history = historyFor(f);
  const log = new RunLog(f, history, opts);
  const run = history.start({ command: 'sync apply', profile: connection.name, url: connection.url, startedAt: new Date().toISOString() });
  log.attach(run);
  history.writeJson(run.id, 'plan.json', planFile);
  run.summary = { ...planFile.summary };
  try {
    await checkAndApply(opts, f, planFile, { client, connection, history, run, log });
  } catch (e) {
    recordRunError(run, history, log, e);
    throw e;
  }
}

interface ApplyRun {
  client: ScimClient;
  connection: Connection;
  history: RunHistory;
  run: RunRecord;
  log: RunLog;
}

async function checkAndApply(opts: SyncApplyOptions, f: Factory, planFile: PlanFile, { client, connection, history, run, log }: ApplyRun): Promise<void> {
  const refuse = (message: string, check: string): never => {
    log.error(message, { check });
    run.status = 'refused';
    run.message = check;
    run.finishedAt = new Date().toISOString();
    history.save(run);
    f.log('nothing was applied');
    throw new SilentExit(ExitCode.REFUSED);
  };
  const plan = fromPlanFile(planFile);
  // Terraform's rule: a plan applies only to the state it was computed against.
  const stale = await findStale(client, planFile.versions);
  if (stale.length > 0) {
    const list = stale.slice(0, 10).map((s) => `${s.key} (${s.now === undefined ? 'deleted' : 'changed'})`).join(', ');
    refuse(`the plan is stale: ${stale.length} object(s) it touches changed since it was made: ${list}${stale.length > 10 ? ', …' : ''}. Make a new plan`, 'stale-plan');
  }
  const dir = dataDir(f.env);
  const state = loadStateAfterInterrupted(dir, connection, log);
  const unattended = opts.yes || !f.io.canPrompt;
  const findings = safetyFindings(plan, { users: { length: planFile.source.records } }, state, { maxDeletes: opts.maxDeletes, allowEmpty: true, acceptSourceChange: true }, unattended);
  if (findings.length > 0) refuse(findings.map((x) => x.message).join('; '), findings.map((x) => x.check).join(','));
  const caps = await client.capabilities();
  if (!opts.json) await writeChunk(f.io.stdout, `${renderPlan(plan, new SchemaRegistry(caps.schemas)).join('\n')}\n`);
  await confirmAndApply(f, { client, caps, connection, dataDir: dir, state, recordCount: planFile.source.records, history, run, log }, plan, opts);
}

interface Args extends GlobalArgs {
  plan: string;
  yes: boolean;
  json: boolean;
  concurrency: number;
  rate?: string;
  bulk: boolean;
  logFile?: string;
  logFormat: string;
  maxDeletes?: string;
}

export function syncApplyCommand(ctx: CliContext): Command<Args> {
  return {
    command: 'apply <plan>',
    describe: 'Apply a saved plan, exactly as planned (refused when the target changed since)',
    builder: (y) =>
      applyOptions(y)
        .positional('plan', { type: 'string', demandOption: true, describe: 'A plan file from "sync plan -o"' })
        .option('yes', { type: 'boolean', default: false, describe: 'Apply without asking (required without a terminal)' })
        .option('json', { type: 'boolean', default: false, describe: 'Print the results as JSON' })
        .option('max-deletes', { type: 'string', describe: 'Most deactivations + deletions allowed: N or P% (default 10%, at least 5)' }) as never,
    handler: (argv) =>
      runSyncApply(
        { file: argv.plan, yes: argv.yes, json: argv.json, concurrency: argv.concurrency, rate: argv.rate, bulk: argv.bulk, logFile: argv.logFile, logFormat: argv.logFormat, maxDeletes: argv.maxDeletes },
        ctx.factory(argv),
      ),
  };
}

import { colourPlanLines } from '../../output/colour.ts';
import { writeChunk } from '../../output/iostreams.ts';
import { renderPlan } from '../../output/plan.ts';
import { SchemaRegistry } from '../../api/schema.ts';
import { PlanFileError, readPlanJson, type PlanFile } from '../../sync/plan-file.ts';
import { validatePlanFile, type ValidatedPlan } from '../../sync/plan-validate.ts';
import { acceptLine } from '../../sync/safety.ts';
import type { SyncSession } from '../../sync/session.ts';
import { defineCommand, type FlagsOf, type GlobalArgv } from '../context.ts';
import { ExitCode, SilentExit, UsageError } from '../exit-codes.ts';
import type { Factory } from '../factory.ts';
import { confirmAndApply } from './execute.ts';
import { reportOptions } from './report-options.ts';
import { applyOptions, historyFor, safetyFindings, startSession, thresholdOptions } from './shared.ts';

/**
 * sync apply's flags: `plan` the plan file; --allow-edited-plan applies a plan whose digest does not match its content
 * (edited by hand), still checked whole.
 */
export type SyncApplyOptions = FlagsOf<ReturnType<typeof applyArgs>>;

/**
 * A plan file read and checked whole (plan-validate.ts), as `sync apply` and `sync show` take it: a bad file is a
 * usage error naming the file and the field. `allowEdited`: a file edited since it was planned is accepted (and said).
 */
export async function loadPlanFile(path: string, allowEdited: boolean): Promise<ValidatedPlan> {
  try {
    return validatePlanFile(path, await readPlanJson(path), { allowEdited });
  } catch (e) {
    if (e instanceof PlanFileError) throw new UsageError(e.message);
    throw e;
  }
}

export async function runSyncApply(opts: SyncApplyOptions, f: Factory): Promise<void> {
  // The file is checked whole before the profile is even resolved: a bad plan sends nothing.
  const { file: planFile, edited } = await loadPlanFile(opts.plan, opts.allowEditedPlan);
  const connection = await f.connection();
  if (planFile.url.replace(/\/+$/, '') !== connection.url.replace(/\/+$/, '')) {
    throw new UsageError(
      `${opts.plan} was planned against ${planFile.url}, not ${connection.url} ` +
        `(profile ${connection.name}); apply it with the profile it was made for`,
    );
  }
  // Two profiles on one URL are two identities (tokens, owned users): a plan belongs to the one it was made with.
  if (planFile.profile !== connection.name) {
    throw new UsageError(
      `${opts.plan} was planned with profile "${planFile.profile}", not ` +
        `"${connection.name}" (both at ${connection.url}); apply it with --profile ` +
        `${planFile.profile}, or make a new plan with this one`,
    );
  }
  const session = await startSession(f, 'sync apply', historyFor(f), opts);
  await session.guard(async () => {
    if (edited)
      session.log.warn(`${opts.plan} was edited after it was planned; applying it as edited (--allow-edited-plan)`, {
        check: 'edited-plan',
      });
    await checkAndApply(opts, f, session, planFile);
  });
}

async function checkAndApply(
  opts: SyncApplyOptions,
  f: Factory,
  session: SyncSession,
  planFile: PlanFile,
): Promise<void> {
  const refuse = (
    reasons: Array<{ message: string; check: string }>,
    check: string,
    after = 'nothing was applied',
  ): never => {
    session.refuse(reasons, check);
    f.log(after);
    throw new SilentExit(ExitCode.REFUSED);
  };
  const { plan } = session.adopt(planFile);
  const unattended = opts.yes || !f.io.canPrompt;
  // The thresholds again, on the plan's content (its changes, not its summary): before the target is read.
  const findings = safetyFindings(
    session,
    {
      maxDeletes: opts.maxDeletes,
      maxMembershipRemovals: opts.maxMembershipRemovals,
      maxGroupDeletes: opts.maxGroupDeletes,
      allowEmpty: true,
      acceptSourceChange: true,
    },
    unattended,
  );
  if (findings.length > 0) {
    const checks = findings.map((x) => x.check).join(',');
    refuse(
      findings.map((x) => ({ message: x.message, check: checks })),
      checks,
      `nothing was applied; ${acceptLine(findings)}`,
    );
  }
  // Terraform's rule: a plan applies only to the state it was computed against.
  const stale = await session.stale();
  if (stale.length > 0) {
    const list = stale
      .slice(0, 10)
      .map((s) => `${s.key} (${s.now === undefined ? 'deleted' : 'changed'})`)
      .join(', ');
    refuse(
      [
        {
          message:
            `the plan is stale: ${stale.length} object(s) it touches changed since it was ` +
            `made: ${list}${stale.length > 10 ? ', …' : ''}. Make a new plan`,
          check: 'stale-plan',
        },
      ],
      'stale-plan',
    );
  }
  const caps = await session.capabilities();
  if (!opts.json)
    await writeChunk(
      f.io.stdout,
      `${colourPlanLines(f.io.color, renderPlan(plan, new SchemaRegistry(caps.schemas))).join('\n')}\n`,
    );
  await confirmAndApply(f, session, opts);
}

function applyArgs(y: GlobalArgv) {
  return reportOptions(thresholdOptions(applyOptions(y)))
    .positional('plan', { type: 'string', demandOption: true, describe: 'A plan file from "sync plan -o"' })
    .option('yes', { type: 'boolean', default: false, describe: 'Apply without asking (required without a terminal)' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the results as JSON' })
    .option('allow-edited-plan', {
      type: 'boolean',
      default: false,
      describe: 'Apply a plan edited since "sync plan" wrote it (still checked whole, thresholds included)',
    });
}

export const syncApplyCommand = defineCommand({
  command: 'apply <plan>',
  describe: 'Apply a saved plan, exactly as planned (refused when the target changed since)',
  builder: applyArgs,
  run: runSyncApply,
});

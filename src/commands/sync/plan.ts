import { colourPlanLines } from '../../output/colour.ts';
import { writeChunk } from '../../output/iostreams.ts';
import { problemGroups, renderPlan } from '../../output/plan.ts';
import { writePlanFile } from '../../sync/plan-file.ts';
import { shellWord } from '../../util/shell-word.ts';
import { acceptLine } from '../../sync/safety.ts';
import { defineCommand, type FlagsOf, type GlobalArgv } from '../context.ts';
import { ExitCode, SilentExit } from '../exit-codes.ts';
import type { Factory } from '../factory.ts';
import { confirmAndApply } from './execute.ts';
import { SYNC_DEFAULTS } from '../../sync/defaults.ts';
import { ldapOptions, ldapSourceReader } from './ldap-options.ts';
import { scimSourceOptions, scimSourceReader } from './scim-source.ts';
import { reportOptions } from './report-options.ts';
import { location } from '../../sources/problem-groups.ts';
import type { SourceReader } from '../../sync/prepare.ts';
import {
  applyOptions,
  historyFor,
  safetyFindings,
  safetyOptions,
  sourceOptions,
  startSession,
  syncRequest,
} from './shared.ts';

/**
 * What runSyncPlan reads: sync plan's flags, or sync run's (those only run takes may be absent);
 * `apply`: sync run, applying after showing (unless dryRun).
 */
export type SyncPlanOptions = FlagsOf<ReturnType<typeof planOptions>> &
  Partial<FlagsOf<ReturnType<typeof runOptions>>> & { apply: boolean; sourceReader?: SourceReader };

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
    else
      await writeChunk(
        f.io.stdout,
        `${colourPlanLines(f.io.color, renderPlan(plan, prepared!.registry)).join('\n')}\n`,
      );
    // Problems are shown once: in the plan as printed (each kind once), or with --json on stderr; the run log keeps
    // every one.
    for (const problem of plan.problems) session.log.record('warn', `${location(problem.origin)}: ${problem.message}`);
    if (opts.json) for (const lines of problemGroups(plan.problems)) session.log.warn(lines.join('\n'));

    const unattended = opts.yes === true || !f.io.canPrompt;
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
      // Where the plan went and what to run next (as terraform says after `plan -out`), after the plan itself.
      if (opts.output) f.log(savedPlanHint(opts.output, opts.profile));
      session.finish('planned');
      if (opts.detailedExitcode && plan.changes.length > 0) throw new SilentExit(ExitCode.CHANGES_PENDING);
      return;
    }
    await confirmAndApply(f, session, {
      concurrency: opts.concurrency ?? SYNC_DEFAULTS.concurrency,
      rate: opts.rate,
      bulk: opts.bulk ?? SYNC_DEFAULTS.bulk,
      yes: opts.yes === true,
      json: false,
    });
  });
}

/** `plan saved to FILE; review it with "scimctl sync show FILE", apply it with "scimctl sync apply FILE"`. */
export function savedPlanHint(file: string, profile?: string): string {
  const word = shellWord(file);
  const p = profile !== undefined ? ` --profile ${shellWord(profile)}` : '';
  return (
    `plan saved to ${file}; review it with "scimctl sync show ${word}", apply it ` +
    `with "scimctl${p} sync apply ${word}"`
  );
}

function planOptions(y: GlobalArgv) {
  return reportOptions(scimSourceOptions(ldapOptions(safetyOptions(sourceOptions(y)))))
    .option('output', { alias: 'o', type: 'string', describe: 'Save the plan to a file for "sync apply"' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the plan as JSON (the plan file format)' })
    .option('detailed-exitcode', {
      type: 'boolean',
      default: false,
      describe: 'Exit 0 when there are no changes, 3 when there are',
    })
    .option('log-file', { type: 'string', describe: 'Also write the run log to this file' })
    .option('log-format', {
      type: 'string',
      choices: ['text', 'json'],
      default: SYNC_DEFAULTS.logFormat,
      describe: 'Format of --log-file and of the log lines on stderr (json: one object a line, with the run id)',
    });
}

export const syncPlanCommand = defineCommand({
  command: 'plan',
  describe: 'Compute and show what a sync would change (nothing is written to the target)',
  builder: planOptions,
  // An ldap:// --source is read by the directory's reader (ldap-options.ts), a scim:PROFILE one by scim-source.ts.
  run: async (argv, f) => runSyncPlan({ ...argv, apply: false, sourceReader: await sourceReaderFor(argv, f) }, f),
});

function runOptions(y: GlobalArgv) {
  return reportOptions(scimSourceOptions(ldapOptions(applyOptions(safetyOptions(sourceOptions(y))))))
    .option('dry-run', { type: 'boolean', default: false, describe: 'Show the plan and stop' })
    .option('yes', { type: 'boolean', default: false, describe: 'Apply without asking (required without a terminal)' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the plan as JSON' })
    .option('detailed-exitcode', {
      type: 'boolean',
      default: false,
      describe: 'With --dry-run: exit 3 when there are changes',
    });
}

export const syncRunCommand = defineCommand({
  command: 'run',
  describe: 'Plan, show, confirm and apply in one go',
  builder: runOptions,
  run: async (argv, f) => runSyncPlan({ ...argv, apply: true, sourceReader: await sourceReaderFor(argv, f) }, f),
});

/** The reader of a source that is not a file (a directory, another SCIM server), or undefined for a file. */
async function sourceReaderFor(
  argv: Parameters<typeof ldapSourceReader>[0] & Parameters<typeof scimSourceReader>[0],
  f: Factory,
): Promise<SourceReader | undefined> {
  return ldapSourceReader(argv, f.env) ?? (await scimSourceReader(argv, f));
}

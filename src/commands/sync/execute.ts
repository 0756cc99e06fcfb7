/** Confirming and applying a session's plan on the command line, and reporting how it went. */
import { parseRate, ratePacer, type Pacer } from '../../api/executor.ts';
import { writeChunk } from '../../output/iostreams.ts';
import { confirmTyped } from '../../output/prompt.ts';
import type { ChangeResult } from '../../sync/apply.ts';
import type { AppliedRun, SyncSession } from '../../sync/session.ts';
import { ExitCode, SilentExit, UsageError } from '../exit-codes.ts';
import type { Factory } from '../factory.ts';
import type { ApplyFlags } from './shared.ts';

/** How the changes are sent: --concurrency, --rate, --bulk. */
type SendFlags = Pick<ApplyFlags, 'concurrency' | 'rate' | 'bulk'>;

function pacerFor(rate: string | undefined): Pacer | undefined {
  try {
    return rate !== undefined ? ratePacer(parseRate(rate)) : undefined;
  } catch (e) {
    throw new UsageError(`--rate: ${(e as Error).message}`);
  }
}

/** Asks (or takes --yes), applies the session's plan and reports; a failed change fails the command. */
export async function confirmAndApply(
  f: Factory,
  session: SyncSession,
  flags: SendFlags & { yes: boolean; json: boolean },
): Promise<ChangeResult[]> {
  const plan = session.planned!.plan;
  if (plan.changes.length === 0) {
    // Nothing to change still records what the source matched as owned.
    await session.apply();
    return [];
  }
  // On a terminal, the interactive review decides what is applied.
  if (!flags.yes && !flags.json && f.io.canPrompt) return reviewAndApply(f, session, flags);
  if (!flags.yes) {
    const ok = await confirmTyped(f.io, `Apply ${plan.changes.length} change(s) to ${session.connection.url}?`, {
      flag: '--yes',
      what: `refusing to apply ${plan.changes.length} change(s) unattended`,
    });
    if (!ok) {
      session.decline('not confirmed', 'not applied: the admin did not confirm');
      f.log('nothing applied');
      throw new SilentExit(ExitCode.USAGE);
    }
  }
  const { results, counts, message } = await session.apply({
    concurrency: flags.concurrency,
    pacer: pacerFor(flags.rate),
    bulk: flags.bulk,
  });
  if (flags.json) {
    await writeChunk(f.io.stdout, `${JSON.stringify({ run: session.run.id, results, counts }, null, 2)}\n`);
  } else {
    const failed = results.filter((r) => r.status === 'failed');
    if (failed.length > 0)
      await writeChunk(f.io.stdout, `${failed.map((r) => `! ${r.id}: ${r.detail ?? 'failed'}`).join('\n')}\n`);
  }
  f.log(message);
  if (counts.failed) throw new SilentExit(ExitCode.ERROR);
  return results;
}

/** The full-screen review: include or exclude changes, then apply them there with live results. */
async function reviewAndApply(f: Factory, session: SyncSession, flags: SendFlags): Promise<ChangeResult[]> {
  let outcome: AppliedRun | undefined;
  let failure: { error: unknown } | undefined;
  const { runTui } = await import('../../ui/run.tsx');
  await runTui({
    deps: {
      client: session.client,
      caps: await session.capabilities(),
      history: session.history,
      applyPlan: async (excluded, onResult) => {
        try {
          outcome = await session.apply({
            concurrency: flags.concurrency,
            pacer: pacerFor(flags.rate),
            bulk: flags.bulk,
            exclude: excluded,
            onResult,
            progress: false,
          });
        } catch (e) {
          failure = { error: e };
          throw e;
        }
        return outcome.message;
      },
    },
    profile: session.connection.name,
    url: session.connection.url,
    plan: session.planned!.plan,
    color: f.io.color,
  });
  // The review showed the error; the run ends with it, and so does the command.
  if (failure) throw failure.error;
  if (!outcome) {
    session.decline('not applied', 'not applied: the review was closed without applying');
    f.log('nothing applied');
    return [];
  }
  f.log(outcome.message);
  if (outcome.counts.failed) {
    for (const r of outcome.results.filter((x) => x.status === 'failed')) f.log(`failed: ${r.id}: ${r.detail ?? ''}`);
    throw new SilentExit(ExitCode.ERROR);
  }
  return outcome.results;
}

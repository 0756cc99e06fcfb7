/** Confirming and applying a plan, then recording what happened (state, history, report). */
import type { ScimClient } from '../../api/client.ts';
import type { Capabilities } from '../../api/discovery.ts';
import { parseRate, ratePacer } from '../../api/executor.ts';
import type { Connection } from '../../config/connection.ts';
import { writeChunk } from '../../output/iostreams.ts';
import { progressBar } from '../../output/progress.ts';
import { confirmTyped } from '../../output/prompt.ts';
import { applyPlan, type ChangeResult } from '../../sync/apply.ts';
import type { RunHistory, RunRecord } from '../../sync/history.ts';
import type { Plan } from '../../sync/model.ts';
import { saveState, type SyncState } from '../../sync/state.ts';
import { factsOf, foldJournal, JournalWriter, type JournalHeader } from '../../sync/journal.ts';
import { ExitCode, SilentExit, UsageError } from '../exit-codes.ts';
import type { Factory } from '../factory.ts';
import type { ApplyFlags, RunLog } from './shared.ts';

export interface ExecuteContext {
  client: ScimClient;
  caps: Capabilities;
  connection: Connection;
  dataDir: string;
  state: SyncState;
  /** Records in the source the plan came from (remembered for the drift check). */
  recordCount: number;
  history: RunHistory;
  run: RunRecord;
  log: RunLog;
}

export function countResults(results: readonly ChangeResult[]): Record<string, number> {
  const out: Record<string, number> = { applied: 0, failed: 0, excluded: 0 };
  for (const r of results) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

/** What the journal of a run starts with: what the source matched, and how memberships are kept. */
function journalHeader(ctx: ExecuteContext, plan: Plan): JournalHeader {
  return {
    journal: 1,
    profile: ctx.connection.name,
    url: ctx.connection.url,
    changes: plan.changes.length,
    recordCount: ctx.recordCount,
    matched: plan.matched,
    matchedGroups: plan.matchedGroups,
    ledger: ctx.caps.learned.membersReadable === false,
  };
}

/**
 * What scimctl owns after a run: the users it created or the source matched, groups likewise,
 * minus what it deleted; and the source's size, for the next run's drift check. Recorded after
 * every applied run, a run with nothing to change included: that is how an existing directory
 * is adopted. The same fold (journal.ts) puts right the state after a killed run.
 */
function recordOwnership(ctx: ExecuteContext, plan: Plan, results: readonly ChangeResult[]): void {
  saveState(ctx.dataDir, foldJournal(ctx.state, journalHeader(ctx, plan), factsOf(plan.changes, results)));
}

/** Applies (no questions asked), then records state, history and the run's outcome. */
export async function applyAndRecord(
  f: Factory,
  ctx: ExecuteContext,
  plan: Plan,
  flags: ApplyFlags & { exclude?: ReadonlySet<string>; onResult?: (r: ChangeResult) => void; showProgress?: boolean },
): Promise<{ results: ChangeResult[]; counts: Record<string, number>; message: string }> {
  const { log, history, run } = ctx;
  let pacer;
  try {
    pacer = flags.rate !== undefined ? ratePacer(parseRate(flags.rate)) : undefined;
  } catch (e) {
    throw new UsageError(`--rate: ${(e as Error).message}`);
  }
  // Each result goes into the run's journal as it comes: a run killed mid-apply leaves what it did (recover.ts).
  run.status = 'running';
  history.save(run);
  const byId = new Map(plan.changes.map((c) => [c.id, c]));
  const journal = new JournalWriter(history.journalFile(run.id), journalHeader(ctx, plan));
  const progress = flags.showProgress === false ? undefined : progressBar(f.io, 'Applying');
  let done = 0;
  const seen: ChangeResult[] = [];
  let results: ChangeResult[];
  try {
    results = await applyPlan(ctx.client, ctx.caps, plan, {
      concurrency: flags.concurrency,
      pacer,
      bulk: flags.bulk ? 'auto' : 'never',
      exclude: flags.exclude,
      onResult: (r) => {
        const change = byId.get(r.id);
        if (change) journal.add(change, r);
        seen.push(r);
        progress?.update(++done, plan.changes.length);
        flags.onResult?.(r);
        if (r.status === 'failed') log.error(`${r.id}: ${r.detail ?? 'failed'}`, { change: r.id });
        else log.info(`${r.id}: ${r.status}${r.detail ? ` (${r.detail})` : ''}`, { change: r.id });
      },
    });
  } catch (e) {
    // An error that ends the apply early: what was applied until then is still owned.
    journal.close();
    progress?.finish();
    if (seen.some((r) => r.status === 'applied')) recordOwnership(ctx, plan, seen);
    throw e;
  }
  journal.close();
  progress?.finish();

  recordOwnership(ctx, plan, results);

  const counts = countResults(results);
  history.writeJson(run.id, 'results.json', results);
  run.results = counts;
  run.status = counts.failed ? 'partial' : 'applied';
  run.finishedAt = new Date().toISOString();
  history.save(run);
  const message = `applied ${counts.applied} of ${plan.changes.length} change(s)${counts.failed ? `, ${counts.failed} failed` : ''}${counts.excluded ? `, ${counts.excluded} excluded` : ''} (run ${run.id})`;
  return { results, counts, message };
}

export async function confirmAndApply(f: Factory, ctx: ExecuteContext, plan: Plan, flags: ApplyFlags & { yes: boolean; json: boolean; exclude?: ReadonlySet<string> }): Promise<ChangeResult[]> {
  const { log, history, run } = ctx;
  if (plan.changes.length === 0) {
    recordOwnership(ctx, plan, []);
    run.status = 'applied';
    run.finishedAt = new Date().toISOString();
    run.results = { applied: 0, failed: 0, excluded: 0 };
    history.save(run);
    return [];
  }
  // On a terminal, the interactive review decides what is applied.
  if (!flags.yes && !flags.json && f.io.canPrompt) return reviewAndApply(f, ctx, plan, flags);
  if (!flags.yes) {
    const ok = await confirmTyped(f.io, `Apply ${plan.changes.length} change(s) to ${ctx.connection.url}?`, {
      flag: '--yes',
      what: `refusing to apply ${plan.changes.length} change(s) unattended`,
    });
    if (!ok) {
      log.info('not applied: the admin did not confirm');
      run.status = 'planned';
      run.message = 'not confirmed';
      run.finishedAt = new Date().toISOString();
      history.save(run);
      f.log('nothing applied');
      throw new SilentExit(ExitCode.USAGE);
    }
  }
  const { results, counts, message } = await applyAndRecord(f, ctx, plan, flags);
  if (flags.json) {
    await writeChunk(f.io.stdout, `${JSON.stringify({ run: run.id, results, counts }, null, 2)}\n`);
  } else {
    const failed = results.filter((r) => r.status === 'failed');
    if (failed.length > 0) await writeChunk(f.io.stdout, `${failed.map((r) => `! ${r.id}: ${r.detail ?? 'failed'}`).join('\n')}\n`);
  }
  f.log(message);
  if (counts.failed) throw new SilentExit(ExitCode.ERROR);
  return results;
}

/** The full-screen review: include or exclude changes, then apply them there with live results. */
async function reviewAndApply(f: Factory, ctx: ExecuteContext, plan: Plan, flags: ApplyFlags): Promise<ChangeResult[]> {
  let outcome: Awaited<ReturnType<typeof applyAndRecord>> | undefined;
  const { runTui } = await import('../../ui/run.tsx');
  await runTui({
    deps: {
      client: ctx.client,
      caps: ctx.caps,
      history: ctx.history,
      applyPlan: async (excluded, onResult) => {
        outcome = await applyAndRecord(f, ctx, plan, { ...flags, exclude: excluded, onResult, showProgress: false });
        return outcome.message;
      },
    },
    profile: ctx.connection.name,
    url: ctx.connection.url,
    plan,
    color: f.io.color,
  });
  if (!outcome) {
    ctx.log.info('not applied: the review was closed without applying');
    ctx.run.status = 'planned';
    ctx.run.message = 'not applied';
    ctx.run.finishedAt = new Date().toISOString();
    ctx.history.save(ctx.run);
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

/**
 * One sync run, start to end: the run record, planning (read the source, settle the target
 * against it as it is read, release, plan), recording the plan, the safety checks, applying,
 * recording what scimctl owns afterwards, and how the run ended. Every front end (sync plan,
 * run and apply, the explorer's "sync now", the demo; scheduled runs next) drives a sync
 * through a SyncSession, with callbacks for what it shows: no flags, no terminal here.
 *
 * The order of the phases is the session's, not its callers': the only way to a plan is
 * `plan()` (source, settle while the target is read, release, plan, in that order) or
 * `adopt()` (a saved plan); `apply()` needs one of them first. However a run goes, it ends
 * once, in `finish()`, with a status and a finish time: planned only, refused by a safety
 * check, not confirmed, closed without applying, applied, partial, failed.
 */
import type { ScimClient } from '../api/client.ts';
import type { Capabilities } from '../api/discovery.ts';
import type { Pacer } from '../api/executor.ts';
import { formatProblem, InputError } from '../sources/resource-file.ts';
import { applyPlan, type ChangeResult } from './apply.ts';
import { SYNC_DEFAULTS } from './defaults.ts';
import type { LogLine, RunHistory, RunRecord } from './history.ts';
import { factsOf, foldJournal, JournalWriter, type JournalHeader } from './journal.ts';
import type { Change, Plan } from './model.ts';
import { fromPlanFile, type PlanFile } from './plan-file.ts';
import {
  loadStateAfterInterrupted,
  preparePlan,
  recordPlan,
  sourceHasGroups,
  type Prepared,
  type ProgressPhase,
  type ProgressSink,
  type RunLogger,
  type SyncPhase,
  type SyncRequest,
} from './prepare.ts';
import type { RunEnding } from './report.ts';
import { checkSafety, type SafetyFinding, type SafetyOptions } from './safety.ts';
import { saveState, type SyncState } from './state.ts';
import { findStale, type StaleObject } from './target.ts';

/** Where a session's log lines go besides the run history (a log file; `echo`: worth showing on the terminal too). */
export type LogSink = (
  level: LogLine['level'],
  message: string,
  fields: Record<string, unknown>,
  echo: boolean,
) => void;

export interface SessionDeps {
  client: ScimClient;
  /** The target's capabilities; asked of the client when left out. */
  caps?: Capabilities;
  /** The profile synced and its URL (the run record, the state, the plan file). */
  connection: { name: string; url: string };
  /** Where the state of each profile is kept (state.ts). */
  dataDir: string;
  history: RunHistory;
  /** The front end that runs it, as the run history shows it: "sync run", "tui sync", … */
  command: string;
  log?: LogSink;
  /** A progress reporter for a phase (reading the target, applying); none: nothing shown. */
  progress?: (phase: ProgressPhase) => ProgressSink;
  onPhase?: (phase: SyncPhase) => void;
  /** How an error that ended the run is recorded: failed unless the caller knows better (a refusal to prompt). */
  errorStatus?: (error: unknown) => 'failed' | 'refused';
  /** When the run ends, older runs of its profile beyond this many are pruned (default SYNC_DEFAULTS.keepRuns). */
  keepRuns?: number;
  /** Where the source comes from, as a report says it (a path, a URL, `scim:PROFILE`). */
  source?: string;
  /**
   * Told once when the run has ended (any status), e.g. to send its report: `guard` and `settled` wait for it. An error
   * it throws is its own to log: it never changes how the run ended.
   */
  onFinish?: (ending: RunEnding) => Promise<void>;
}

export function countResults(results: readonly ChangeResult[]): Record<string, number> {
  const out: Record<string, number> = { applied: 0, failed: 0, excluded: 0 };
  for (const r of results) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

// ---------------------------------------------------------------------------
// The session.

/** A plan ready to check and apply: made by this session, or adopted from a plan file. */
export interface PlannedRun {
  plan: Plan;
  planFile: PlanFile;
  state: SyncState;
  /** Records in the source the plan came from (the drift check, the next run's). */
  recordCount: number;
  /** Made by this session: the source and the target's schema registry. Adopted from a file: absent. */
  prepared?: Prepared;
}

/** The thresholds and what they accept (safety.ts), without what the session knows itself. */
export type SafetyThresholds = Omit<
  SafetyOptions,
  'unattended' | 'recordCount' | 'lastRecordCount' | 'sourceHasGroups'
>;

export interface ApplySettings {
  concurrency?: number;
  pacer?: Pacer;
  bulk?: boolean;
  /** Change ids left out (the review's). */
  exclude?: ReadonlySet<string>;
  onResult?: (result: ChangeResult) => void;
  /** Report progress through the session's progress reporter (default true). */
  progress?: boolean;
}

export interface AppliedRun {
  results: ChangeResult[];
  counts: Record<string, number>;
  /** "applied 3 of 4 change(s), 1 failed (run …)". */
  message: string;
}

export type RunEnd = Exclude<RunRecord['status'], 'running' | 'interrupted'>;

type Stage = 'started' | 'planning' | 'planned' | 'applying' | 'finished';

export class SyncSession {
  readonly run: RunRecord;
  readonly log: RunLogger;
  private stage: Stage = 'started';
  private current: PlannedRun | undefined;
  private caps: Capabilities | undefined;
  private results: readonly ChangeResult[] = [];
  private refusals: ReadonlyArray<{ message: string; check: string }> = [];
  private ending: Promise<void> = Promise.resolve();

  private constructor(private readonly deps: SessionDeps) {
    this.caps = deps.caps;
    this.run = deps.history.start({
      command: deps.command,
      profile: deps.connection.name,
      url: deps.connection.url,
      startedAt: new Date().toISOString(),
    });
    const write = (level: LogLine['level'], message: string, fields: Record<string, unknown> = {}, echo = true) => {
      deps.history.log(this.run.id, { time: new Date().toISOString(), level, message, ...fields });
      deps.log?.(level, message, fields, echo);
    };
    this.log = {
      info: (m, f) => write('info', m, f),
      warn: (m, f) => write('warn', m, f),
      error: (m, f) => write('error', m, f),
      record: (level, m, f) => write(level, m, f, false),
    };
  }

  /** Starts a run: its record is in the history from now on, `running` until it finishes. */
  static start(deps: SessionDeps): SyncSession {
    const session = new SyncSession(deps);
    deps.onPhase?.('start');
    return session;
  }

  get finished(): boolean {
    return this.stage === 'finished';
  }

  get applying(): boolean {
    return this.stage === 'applying';
  }

  /** The plan of this run, once planned or adopted. */
  get planned(): PlannedRun | undefined {
    return this.current;
  }

  get client(): ScimClient {
    return this.deps.client;
  }

  get history(): RunHistory {
    return this.deps.history;
  }

  get connection(): { name: string; url: string } {
    return this.deps.connection;
  }

  async capabilities(): Promise<Capabilities> {
    return (this.caps ??= await this.deps.client.capabilities());
  }

  private expect(stage: Stage, what: string): void {
    if (this.stage !== stage)
      throw new Error(
        `sync session: ${what} ${this.stage === 'finished' ? 'after the run finished' : `while ${this.stage}`}`,
      );
  }

  private planOf(what: string): PlannedRun {
    if (!this.current) throw new Error(`sync session: ${what} before a plan`);
    return this.current;
  }

  /**
   * Plans the run: reads the source and the target (settling as it goes), releases, plans,
   * and keeps the plan in the run history (with the source as it was read).
   */
  async plan(request: SyncRequest): Promise<PlannedRun> {
    this.expect('started', 'plan');
    this.stage = 'planning';
    const { history, dataDir, connection, client, progress, onPhase } = this.deps;
    const caps = await this.capabilities();
    const prepared = await preparePlan(
      { client, caps, connection, dataDir, log: this.log, keep: history.sourceKeeper(this.run.id), progress, onPhase },
      request,
    );
    const planFile = recordPlan(history, this.run, prepared);
    onPhase?.('recorded');
    this.current = {
      plan: prepared.plan,
      planFile,
      state: prepared.state,
      recordCount: prepared.source.users.length,
      prepared,
    };
    this.stage = 'planned';
    return this.current;
  }

  /** Takes a saved plan (checked whole by the caller: plan-validate.ts) as this run's plan. */
  adopt(planFile: PlanFile): PlannedRun {
    this.expect('started', 'adopt a plan');
    this.deps.history.writeJson(this.run.id, 'plan.json', planFile);
    this.run.summary = { ...planFile.summary };
    const plan = fromPlanFile(planFile);
    const state = loadStateAfterInterrupted(this.deps.dataDir, this.deps.connection, this.log);
    this.current = { plan, planFile, state, recordCount: planFile.source.records };
    this.stage = 'planned';
    this.deps.onPhase?.('adopted');
    return this.current;
  }

  /** The safety findings of the plan (none: it may be applied). Throws on a threshold it cannot read. */
  safety(thresholds: SafetyThresholds, unattended: boolean): SafetyFinding[] {
    const { plan, state, recordCount, prepared } = this.planOf('check safety');
    const findings = checkSafety(plan, {
      ...thresholds,
      unattended,
      recordCount,
      lastRecordCount: state.lastRecordCount,
      sourceHasGroups: prepared ? sourceHasGroups(prepared.source) : undefined,
    });
    this.deps.onPhase?.('safety');
    return findings;
  }

  /**
   * The objects an adopted plan touches that changed since it was made (a plan applies only to the state it was made
   * against).
   */
  async stale(): Promise<StaleObject[]> {
    return findStale(this.deps.client, this.planOf('check staleness').planFile.versions);
  }

  /** Ends the run as refused: each reason in the log as an error. */
  refuse(
    reasons: ReadonlyArray<{ message: string; check: string }>,
    message = reasons.map((r) => r.check).join(', '),
  ): void {
    for (const r of reasons) this.log.error(r.message, { check: r.check });
    this.refusals = reasons;
    this.finish('refused', { message });
  }

  /** Ends the run as planned but not applied (not confirmed, the review closed): `why` goes into the log. */
  decline(message: string, why: string): void {
    if (this.finished) return;
    this.log.info(why);
    this.finish('planned', { message });
  }

  /**
   * Applies the plan (no questions asked: deciding is the caller's), each result into the run's
   * journal as it comes; then records what scimctl owns and how the run ended. A plan with no
   * changes still records ownership: that is how an existing directory is adopted.
   */
  async apply(settings: ApplySettings = {}): Promise<AppliedRun> {
    const planned = this.planOf('apply');
    this.expect('planned', 'apply');
    const { plan } = planned;
    this.stage = 'applying';
    const caps = await this.capabilities();
    if (plan.changes.length === 0) {
      this.recordOwnership(planned, []);
      const counts = { applied: 0, failed: 0, excluded: 0 };
      this.finish('applied', { results: counts });
      return { results: [], counts, message: `applied 0 of 0 change(s) (run ${this.run.id})` };
    }
    this.deps.onPhase?.('apply');
    const { history } = this.deps;
    const byId = new Map(plan.changes.map((c) => [c.id, c]));
    const journal = new JournalWriter(history.journalFile(this.run.id), this.journalHeader(planned));
    const progress = settings.progress === false ? undefined : this.deps.progress?.('apply');
    let done = 0;
    const seen: ChangeResult[] = [];
    let results: ChangeResult[];
    try {
      results = await applyPlan(this.deps.client, caps, plan, {
        concurrency: settings.concurrency ?? SYNC_DEFAULTS.concurrency,
        pacer: settings.pacer,
        bulk: (settings.bulk ?? SYNC_DEFAULTS.bulk) ? 'auto' : 'never',
        exclude: settings.exclude,
        onResult: (r) => {
          const change = byId.get(r.id);
          if (change) journal.add(change, r);
          seen.push(r);
          progress?.update(++done, plan.changes.length);
          settings.onResult?.(r);
          if (r.status === 'failed') this.log.error(`${r.id}: ${r.detail ?? 'failed'}`, { change: r.id });
          else this.log.info(`${r.id}: ${r.status}${r.detail ? ` (${r.detail})` : ''}`, { change: r.id });
        },
      });
    } catch (e) {
      // An error that ends the apply early: what was applied until then is still owned.
      journal.close();
      progress?.finish();
      if (seen.some((r) => r.status === 'applied')) this.recordOwnership(planned, seen);
      this.results = seen;
      throw e;
    }
    journal.close();
    progress?.finish();
    this.recordOwnership(planned, results);
    const counts = countResults(results);
    this.results = results;
    history.writeJson(this.run.id, 'results.json', results);
    this.finish(counts.failed ? 'partial' : 'applied', { results: counts });
    const message =
      `applied ${counts.applied} of ${plan.changes.length} ` +
      `change(s)${counts.failed ? `, ${counts.failed} failed` : ''}` +
      `${counts.excluded ? `, ${counts.excluded} excluded` : ''} (run ${this.run.id})`;
    return { results, counts, message };
  }

  /** What the journal of a run starts with: what the source matched, and how memberships are kept. */
  private journalHeader({ plan, recordCount }: PlannedRun): JournalHeader {
    return {
      journal: 1,
      profile: this.deps.connection.name,
      url: this.deps.connection.url,
      changes: plan.changes.length,
      recordCount,
      matched: plan.matched,
      matchedGroups: plan.matchedGroups,
      ledger: this.caps?.learned.membersReadable === false,
    };
  }

  /**
   * What scimctl owns after a run: the users it created or the source matched, groups likewise,
   * minus what it deleted; and the source's size, for the next run's drift check. The same fold
   * (journal.ts) puts right the state after a killed run.
   */
  private recordOwnership(planned: PlannedRun, results: readonly ChangeResult[]): void {
    saveState(
      this.deps.dataDir,
      foldJournal(planned.state, this.journalHeader(planned), factsOf(planned.plan.changes, results)),
    );
  }

  /**
   * Ends the run: the one place its status and finish time are set and the record saved.
   * Once only: later calls change nothing (and say so by returning false).
   */
  finish(status: RunEnd, detail: { message?: string; results?: Record<string, number> } = {}): boolean {
    if (this.stage === 'finished') return false;
    this.stage = 'finished';
    this.run.status = status;
    if (detail.message !== undefined) this.run.message = detail.message;
    if (detail.results !== undefined) this.run.results = detail.results;
    this.run.finishedAt = new Date().toISOString();
    this.deps.history.save(this.run);
    this.prune();
    this.deps.onPhase?.('finish');
    const { onFinish } = this.deps;
    if (onFinish) this.ending = onFinish(this.endingOf()).catch(() => undefined);
    return true;
  }

  /** Removes the runs of this profile beyond the newest keepRuns (never one still running, never this one). */
  private prune(): void {
    try {
      const removed = this.deps.history.prune(
        this.deps.connection.name,
        this.deps.keepRuns ?? SYNC_DEFAULTS.keepRuns,
        this.run.id,
      );
      if (removed.length > 0)
        this.deps.log?.('info', `pruned ${removed.length} older run(s) of this profile`, {}, false);
    } catch (e) {
      this.deps.log?.('warn', `could not prune older runs: ${e instanceof Error ? e.message : String(e)}`, {}, true);
    }
  }

  /** The run as it ended, for its report and metrics (report.ts). */
  private endingOf(): RunEnding {
    return {
      run: { ...this.run },
      source: this.deps.source ?? this.current?.planFile.source.files.join(', '),
      changes: this.current?.plan.changes ?? [],
      results: this.results,
      refusals: this.refusals,
    };
  }

  /** Resolves once what the run's end set off (its report, its metrics) is done. */
  settled(): Promise<void> {
    return this.ending;
  }

  /**
   * Ends the run with the error that ended it (failed, or refused for a refusal to prompt); the log keeps it, with
   * every input problem.
   */
  fail(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (!this.finish(this.deps.errorStatus?.(error) ?? 'failed', { message })) return;
    // The error itself is shown once, by the caller: the run log only keeps it.
    this.log.record('error', message);
    if (error instanceof InputError)
      for (const p of error.problems)
        this.log.record('error', formatProblem(p), {
          file: p.file,
          line: p.line,
          ...(p.field !== undefined ? { field: p.field } : {}),
        });
  }

  /**
   * Runs `body` as the run's whole life: an error ends the run as failed (then goes on to the
   * caller); a body that returns without ending it leaves it planned (a plan only), or failed
   * when it never got to a plan.
   */
  async guard<T>(body: (session: SyncSession) => Promise<T>): Promise<T> {
    try {
      return await body(this);
    } catch (e) {
      this.fail(e);
      throw e;
    } finally {
      if (!this.finished) {
        if (this.current) this.finish('planned');
        else this.finish('failed', { message: 'ended before a plan was made' });
      }
      await this.ending;
    }
  }
}

// ---------------------------------------------------------------------------
// A session waiting for a decision somewhere else (the explorer's review).

export interface SyncHandle {
  readonly run: RunRecord;
  /** The plan under review: its changes, and the problems and notes the review shows with them. */
  readonly plan: Pick<Plan, 'changes' | 'problems' | 'notes'>;
  readonly changes: Change[];
  /** Applies all but `excluded`, reporting each result; resolves with the run's summary line. */
  apply(excluded: ReadonlySet<string>, onResult: (r: ChangeResult) => void): Promise<string>;
  /** Closes the review: a run not applied ends as such. Changes nothing once applied. */
  close(): void;
  readonly finished: boolean;
}

/** A handle on a planned session for a reviewer that decides later (apply or close). */
export function reviewHandle(
  session: SyncSession,
  settings: Omit<ApplySettings, 'exclude' | 'onResult' | 'progress'> = {},
): SyncHandle {
  const planned = session.planned;
  if (!planned) throw new Error('sync session: a review handle before a plan');
  return {
    run: session.run,
    plan: planned.plan,
    changes: planned.plan.changes,
    get finished() {
      return session.finished;
    },
    apply: async (excluded, onResult) => {
      try {
        return (await session.apply({ ...settings, exclude: excluded, onResult, progress: false })).message;
      } catch (e) {
        session.fail(e);
        throw e;
      }
    },
    close: () => {
      if (!session.applying) session.decline('not applied', 'not applied: the review was closed without applying');
    },
  };
}

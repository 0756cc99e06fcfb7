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
import { SchemaRegistry } from '../api/schema.ts';
import { attrValue, isPlainObject } from '../sources/attributes.ts';
import { formatProblem, InputError, mixedScripts } from '../sources/resource-file.ts';
import { readSource, type ReadOptions, type SourceKeeper, type SourceSpec } from '../sources/source.ts';
import { collectGarbage, withTightHeap } from '../util/memory.ts';
import { adaptToTarget } from './adapt.ts';
import { applyPlan, type ChangeResult } from './apply.ts';
import type { LogLine, RunHistory, RunRecord } from './history.ts';
import { factsOf, foldJournal, JournalWriter, type JournalHeader } from './journal.ts';
import type { Change, MatchKey, MissingPolicy, Plan, PlanOptions, SourceSnapshot, SyncMode } from './model.ts';
import { fromPlanFile, toPlanFile, type PlanFile } from './plan-file.ts';
import { planSync } from './planner.ts';
import { foldInterruptedRuns } from './recover.ts';
import { checkSafety, type SafetyFinding, type SafetyOptions } from './safety.ts';
import { leaveOut, leftOutWarning, strictProblems, type SchemaFit } from './schema-fit.ts';
import { Settler } from './settle.ts';
import { loadState, saveState, type SyncState } from './state.ts';
import { findStale, readTarget, type StaleObject } from './target.ts';

// ---------------------------------------------------------------------------
// Defaults: the one place. Flags' defaults, the explorer's "sync now" and the demo read them here.

export const MATCH_KEYS: readonly MatchKey[] = ['externalId', 'userName', 'email'];

export const SYNC_DEFAULTS = {
  mode: 'full' as SyncMode,
  missing: 'deactivate' as MissingPolicy,
  deleteGroups: false,
  manageAll: false,
  /** Ranked, as the flag takes them. */
  matchKeys: MATCH_KEYS.join(','),
  strictSchema: false,
  allowUnusualNames: false,
  allowEmpty: false,
  allowEmptyGroups: false,
  acceptSourceChange: false,
  /** Requests in flight at once while applying. */
  concurrency: 4,
  /** SCIM /Bulk for creates when the server offers it. */
  bulk: true,
  logFormat: 'text',
} as const;

/** The match keys of a comma-separated list ("externalId,userName"); throws on an unknown key or none. */
export function parseMatchKeys(text: string): MatchKey[] {
  const keys = text.split(',').map((k) => k.trim()).filter(Boolean);
  const bad = keys.filter((k) => !(MATCH_KEYS as readonly string[]).includes(k));
  if (bad.length > 0 || keys.length === 0) throw new Error(`--match-keys takes externalId, userName and email, not "${bad.join(', ')}"`);
  return keys as MatchKey[];
}

// ---------------------------------------------------------------------------
// What a session is given and what it reports through.

/** Reads a source of truth: readSource for a file (the default), or anything that gives a snapshot (a pull from a directory). */
export type SourceReader = (registry: SchemaRegistry, options: ReadOptions) => Promise<SourceSnapshot>;

/** What to plan: the source and how to sync it. What is left out is SYNC_DEFAULTS. */
export interface SyncRequest {
  source: SourceSpec | SourceReader;
  mode?: SyncMode;
  missing?: MissingPolicy;
  deleteGroups?: boolean;
  manageAll?: boolean;
  matchKeys?: readonly MatchKey[];
  /** An attribute the target neither declares nor has is an input error, not left out with a warning. */
  strictSchema?: boolean;
  /** Take unusual and mixed-script names without refusal or warning. */
  allowUnusualNames?: boolean;
}

/** A run's log lines: into the run history, and to the caller (a log file; `echo`: worth showing on the terminal too). */
export interface RunLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** Kept only (history, log file): for what the caller shows another way. */
  record(level: LogLine['level'], message: string, fields?: Record<string, unknown>): void;
}

export type LogSink = (level: LogLine['level'], message: string, fields: Record<string, unknown>, echo: boolean) => void;

export type ProgressPhase = 'target' | 'apply';

export interface ProgressSink {
  update(done: number, total?: number): void;
  /** The phase is over (also when it failed). */
  finish(): void;
}

/** The steps of a session, reported as each is done, in this order. */
export type SyncPhase = 'start' | 'source' | 'target' | 'release' | 'plan' | 'recorded' | 'adopted' | 'safety' | 'apply' | 'finish';

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
}

// ---------------------------------------------------------------------------
// Planning: read the source, settle while the target is read, release, plan.

export interface PlanInputs {
  client: ScimClient;
  caps: Capabilities;
  connection: { name: string; url: string };
  dataDir: string;
  log: RunLogger;
  /** Keeps the source's bytes as they are read (the run history's copy). */
  keep?: SourceKeeper;
  progress?: (phase: ProgressPhase) => ProgressSink;
  onPhase?: (phase: SyncPhase) => void;
}

export interface Prepared {
  client: ScimClient;
  caps: Capabilities;
  connection: { name: string; url: string };
  registry: SchemaRegistry;
  source: SourceSnapshot;
  plan: Plan;
  options: PlanOptions;
  state: SyncState;
  dataDir: string;
}

/** The state of the profile, with the journals of its interrupted runs folded in first (recover.ts). */
export function loadStateAfterInterrupted(dir: string, connection: { name: string; url: string }, log: Pick<RunLogger, 'warn'>): SyncState {
  for (const run of foldInterruptedRuns(dir, connection.name, connection.url)) {
    log.warn(`run ${run.id} was interrupted (${run.message ?? 'its process ended'}); what it applied is now recorded`, { run: run.id });
  }
  return loadState(dir, connection.name, connection.url);
}

export function planOptions(request: Omit<SyncRequest, 'source'>, state: SyncState): PlanOptions {
  return {
    mode: request.mode ?? SYNC_DEFAULTS.mode,
    missing: request.missing ?? SYNC_DEFAULTS.missing,
    deleteGroups: request.deleteGroups ?? SYNC_DEFAULTS.deleteGroups,
    manageAll: request.manageAll ?? SYNC_DEFAULTS.manageAll,
    owned: new Set(state.owned),
    ownedGroups: new Set(state.ownedGroups),
    matchKeys: request.matchKeys ?? MATCH_KEYS,
  };
}

/**
 * Reads the source (all of it, checked) and the target (all of it), then plans: the steps in
 * their one order. With `keep`, the source's bytes are kept as they are read.
 */
export async function preparePlan(inputs: PlanInputs, request: SyncRequest): Promise<Prepared> {
  const { caps, connection, dataDir, log } = inputs;
  // The target's /Schemas as discovery completed it with RFC 7643's: a guide, never a wall (schema-fit.ts).
  const fit: SchemaFit = { undeclared: new Map(caps.undeclared) };
  const registry = new SchemaRegistry(caps.schemas);
  const state = loadStateAfterInterrupted(dataDir, connection, log);
  const options = planOptions(request, state);
  // The heap stays near what is live while a big target is read and planned (bench noop-resync: see the README, Memory).
  return withTightHeap(() => readAndPlan(inputs, request, { registry, state, options, fit }));
}

async function readAndPlan(
  inputs: PlanInputs,
  request: SyncRequest,
  { registry, state, options, fit }: { registry: SchemaRegistry; state: SyncState; options: PlanOptions; fit: SchemaFit },
): Promise<Prepared> {
  const { client, caps, connection, dataDir, log } = inputs;
  const phase = inputs.onPhase ?? (() => undefined);
  const allowUnusualNames = request.allowUnusualNames === true;
  const spec = request.source;
  const read: SourceReader = typeof spec === 'function' ? spec : (r, o) => readSource({ ...spec, allowUnusualNames }, r, o);
  // Parsing the source is CPU work and reading the target mostly waiting: do both at once.
  // Either failing fails the whole run; nothing partial is ever planned.
  const progress = inputs.progress?.('target');
  let source: SourceSnapshot;
  let target: Awaited<ReturnType<typeof readTarget>>;
  // Once the source is in, target users are settled as they arrive (settle.ts): neither side is held whole.
  // Its records stay in the file but for their identities until the settler needs them (stored-records.ts).
  const reading = read(registry, { lazy: true, keep: inputs.keep });
  const settler = reading.then((s) => {
    phase('source');
    return new Settler(s, options.matchKeys);
  });
  try {
    // readTarget ends only once the settler has come (the source is read) and settled every user.
    [source, target] = await Promise.all([reading, readTarget(client, (what, received, total) => progress?.update(received, total), settler)]);
  } catch (e) {
    // A source read lazily holds its file open once a record was read again.
    void reading.then((s) => s.records?.close(), () => undefined);
    throw e;
  } finally {
    progress?.finish();
  }
  phase('target');
  (await settler).release();
  phase('release');
  // What the release let go of (most of the source) is reused by the planner instead of growing the heap.
  collectGarbage();
  log.info(`source: ${source.users.length} users, ${source.groups.length} groups from ${source.files.join(', ')}`);
  log.info(`target: ${target.users.length} users, ${target.groups.length} groups at ${connection.url}`);
  // Attributes the target neither declares nor has on any user: left out (one warning each), or with strictSchema an input error.
  const leftOut = leaveOut(source.users, fit, target.observed, !request.strictSchema);
  if (request.strictSchema && leftOut.length > 0) throw new InputError(strictProblems(leftOut));
  for (const l of leftOut) log.warn(leftOutWarning(l), { attribute: l.path, records: l.origins.length });
  if (!allowUnusualNames) {
    const mixed = mixedScriptWarning(source.users);
    if (mixed) log.warn(mixed.message, { records: mixed.count });
  }
  const notes = adaptToTarget(source, target, caps.learned, state.members);
  const plan = planSync(source, target, options);
  if (notes.length > 0) plan.notes = notes;
  phase('plan');
  return { client, caps, connection, registry, source, plan, options, state, dataDir };
}

/** Whether a source carries any group data: a user naming a group, or a group listing a member. */
export function sourceHasGroups(source: Pick<SourceSnapshot, 'users' | 'groups'>): boolean {
  return source.users.some((u) => (u.groups?.length ?? 0) > 0) || source.groups.some((g) => (g.members?.length ?? 0) > 0);
}

/**
 * One warning for the source users whose userName or e-mail mixes look-alike scripts (a Cyrillic
 * а in a Latin name): they are planned, but may not be who they look like. Undefined when none.
 */
export function mixedScriptWarning(users: SourceSnapshot['users']): { message: string; count: number } | undefined {
  const found: string[] = [];
  let count = 0;
  for (const u of users) {
    const names: Array<[string, unknown]> = [['userName', attrValue(u.attributes, 'userName')]];
    const emails = attrValue(u.attributes, 'emails');
    if (Array.isArray(emails)) for (const e of emails) if (isPlainObject(e)) names.push(['e-mail', attrValue(e, 'value')]);
    const hit = names.find(([, v]) => typeof v === 'string' && mixedScripts(v) !== undefined) as [string, string] | undefined;
    if (!hit) continue;
    count++;
    if (found.length < 3) found.push(`${u.origin.file}:${u.origin.line}: ${hit[0]} ${JSON.stringify(hit[1])} (${mixedScripts(hit[1])!.join(' and ')})`);
  }
  if (count === 0) return undefined;
  return {
    count,
    message: `${count} source user(s) have a name mixing look-alike scripts (Latin, Cyrillic, Greek), which can pass for another name: ${found.join('; ')}${count > 3 ? '; …' : ''}. Check them; --allow-unusual-names takes them without this warning`,
  };
}

/** Keeps the plan in the run history (the source was kept as it was read); returns the plan in its file form. */
export function recordPlan(history: RunHistory, run: RunRecord, p: Pick<Prepared, 'plan' | 'connection' | 'options' | 'source'>): PlanFile {
  const planFile = toPlanFile(p.plan, {
    createdAt: new Date().toISOString(),
    profile: p.connection.name,
    url: p.connection.url,
    mode: p.options.mode,
    options: { missing: p.options.missing, deleteGroups: p.options.deleteGroups, manageAll: p.options.manageAll, matchKeys: p.options.matchKeys },
    source: { fingerprint: p.source.fingerprint, files: p.source.files, records: p.source.users.length },
  });
  history.writeJson(run.id, 'plan.json', planFile);
  run.summary = { ...p.plan.summary };
  return planFile;
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
export type SafetyThresholds = Omit<SafetyOptions, 'unattended' | 'recordCount' | 'lastRecordCount' | 'sourceHasGroups'>;

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

  private constructor(private readonly deps: SessionDeps) {
    this.caps = deps.caps;
    this.run = deps.history.start({ command: deps.command, profile: deps.connection.name, url: deps.connection.url, startedAt: new Date().toISOString() });
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
    if (this.stage !== stage) throw new Error(`sync session: ${what} ${this.stage === 'finished' ? 'after the run finished' : `while ${this.stage}`}`);
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
    const prepared = await preparePlan({ client, caps, connection, dataDir, log: this.log, keep: history.sourceKeeper(this.run.id), progress, onPhase }, request);
    const planFile = recordPlan(history, this.run, prepared);
    onPhase?.('recorded');
    this.current = { plan: prepared.plan, planFile, state: prepared.state, recordCount: prepared.source.users.length, prepared };
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

  /** The objects an adopted plan touches that changed since it was made (a plan applies only to the state it was made against). */
  async stale(): Promise<StaleObject[]> {
    return findStale(this.deps.client, this.planOf('check staleness').planFile.versions);
  }

  /** Ends the run as refused: each reason in the log as an error. */
  refuse(reasons: ReadonlyArray<{ message: string; check: string }>, message = reasons.map((r) => r.check).join(', ')): void {
    for (const r of reasons) this.log.error(r.message, { check: r.check });
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
      throw e;
    }
    journal.close();
    progress?.finish();
    this.recordOwnership(planned, results);
    const counts = countResults(results);
    history.writeJson(this.run.id, 'results.json', results);
    this.finish(counts.failed ? 'partial' : 'applied', { results: counts });
    const message = `applied ${counts.applied} of ${plan.changes.length} change(s)${counts.failed ? `, ${counts.failed} failed` : ''}${counts.excluded ? `, ${counts.excluded} excluded` : ''} (run ${this.run.id})`;
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
    saveState(this.deps.dataDir, foldJournal(planned.state, this.journalHeader(planned), factsOf(planned.plan.changes, results)));
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
    this.deps.onPhase?.('finish');
    return true;
  }

  /** Ends the run with the error that ended it (failed, or refused for a refusal to prompt); the log keeps it, with every input problem. */
  fail(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (!this.finish(this.deps.errorStatus?.(error) ?? 'failed', { message })) return;
    // The error itself is shown once, by the caller: the run log only keeps it.
    this.log.record('error', message);
    if (error instanceof InputError) for (const p of error.problems) this.log.record('error', formatProblem(p), { file: p.file, line: p.line, ...(p.field !== undefined ? { field: p.field } : {}) });
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
    }
  }
}

// ---------------------------------------------------------------------------
// A session waiting for a decision somewhere else (the explorer's review).

export interface SyncHandle {
  readonly run: RunRecord;
  readonly changes: Change[];
  /** Applies all but `excluded`, reporting each result; resolves with the run's summary line. */
  apply(excluded: ReadonlySet<string>, onResult: (r: ChangeResult) => void): Promise<string>;
  /** Closes the review: a run not applied ends as such. Changes nothing once applied. */
  close(): void;
  readonly finished: boolean;
}

/** A handle on a planned session for a reviewer that decides later (apply or close). */
export function reviewHandle(session: SyncSession, settings: Omit<ApplySettings, 'exclude' | 'onResult' | 'progress'> = {}): SyncHandle {
  const planned = session.planned;
  if (!planned) throw new Error('sync session: a review handle before a plan');
  return {
    run: session.run,
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

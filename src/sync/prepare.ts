/**
 * Planning a sync run: read the source (checked whole), settle the target against it as the
 * target is read, release, plan. One function does the steps in their one order (the planner
 * only checks, as a guard, that the source was released). A SyncSession plans through it.
 */
import type { ScimClient } from '../api/client.ts';
import type { Capabilities } from '../api/discovery.ts';
import { SchemaRegistry } from '../api/schema.ts';
import { attrValue } from '../sources/attributes.ts';
import { isPlainObject } from '../util/objects.ts';
import { InputError, mixedScripts } from '../sources/resource-file.ts';
import { readSource, type ReadOptions, type SourceKeeper, type SourceSpec } from '../sources/source.ts';
import { location } from '../sources/problem-groups.ts';
import { collectGarbage, withTightHeap } from '../util/memory.ts';
import { adaptToTarget } from './adapt.ts';
import { MATCH_KEYS, SYNC_DEFAULTS } from './defaults.ts';
import type { LogLine, RunHistory, RunRecord } from './history.ts';
import type { MatchKey, MissingPolicy, Plan, PlanOptions, SourceSnapshot, SyncMode } from './model.ts';
import { toPlanFile, type PlanFile } from './plan-file.ts';
import { planSync } from './planner.ts';
import { foldInterruptedRuns } from './recover.ts';
import { leaveOut, leftOutWarning, strictProblems, type SchemaFit } from './schema-fit.ts';
import { Settler } from './settle.ts';
import { receivedRecord } from './user-history.ts';
import { loadState, type SyncState } from './state.ts';
import { readTarget } from './target.ts';

/**
 * Reads a source of truth: readSource for a file (the default), or anything that gives a snapshot (a pull from a
 * directory).
 */
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

/**
 * A run's log lines: into the run history, and to the caller (a log file; `echo`: worth showing on the terminal too).
 */
export interface RunLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** Kept only (history, log file): for what the caller shows another way. */
  record(level: LogLine['level'], message: string, fields?: Record<string, unknown>): void;
}

/** What a progress reporter is for: reading the target, applying. */
export type ProgressPhase = 'target' | 'apply';

export interface ProgressSink {
  update(done: number, total?: number): void;
  /** The phase is over (also when it failed). */
  finish(): void;
}

/** The steps of a session, reported as each is done, in this order. */
export type SyncPhase =
  'start' | 'source' | 'target' | 'release' | 'plan' | 'recorded' | 'adopted' | 'safety' | 'apply' | 'finish';

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
  /** The positions of the source users kept only as their identity (settle.ts: the target has the rest as said). */
  settled?: ReadonlySet<number>;
}

/** The state of the profile, with the journals of its interrupted runs folded in first (recover.ts). */
export function loadStateAfterInterrupted(
  dir: string,
  connection: { name: string; url: string },
  log: Pick<RunLogger, 'warn'>,
): SyncState {
  for (const run of foldInterruptedRuns(dir, connection.name, connection.url)) {
    log.warn(`run ${run.id} was interrupted (${run.message ?? 'its process ended'}); what it applied is now recorded`, {
      run: run.id,
    });
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
  // The heap stays near what is live while a big target is read and planned (bench noop-resync: see the README,
  // Memory).
  return withTightHeap(() => readAndPlan(inputs, request, { registry, state, options, fit }));
}

async function readAndPlan(
  inputs: PlanInputs,
  request: SyncRequest,
  {
    registry,
    state,
    options,
    fit,
  }: { registry: SchemaRegistry; state: SyncState; options: PlanOptions; fit: SchemaFit },
): Promise<Prepared> {
  const { client, caps, connection, dataDir, log } = inputs;
  const phase = inputs.onPhase ?? (() => undefined);
  const allowUnusualNames = request.allowUnusualNames === true;
  const spec = request.source;
  const read: SourceReader =
    typeof spec === 'function' ? spec : (r, o) => readSource({ ...spec, allowUnusualNames }, r, o);
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
    [source, target] = await Promise.all([
      reading,
      readTarget(client, (what, received, total) => progress?.update(received, total), settler),
    ]);
  } catch (e) {
    // A source read lazily holds its file open once a record was read again.
    void reading.then(
      (s) => s.records?.close(),
      () => undefined,
    );
    throw e;
  } finally {
    progress?.finish();
  }
  phase('target');
  const settled = (await settler).release();
  phase('release');
  // What the release let go of (most of the source) is reused by the planner instead of growing the heap.
  collectGarbage();
  log.info(`source: ${source.users.length} users, ${source.groups.length} groups from ${source.files.join(', ')}`);
  log.info(`target: ${target.users.length} users, ${target.groups.length} groups at ${connection.url}`);
  // Attributes the target neither declares nor has on any user: left out (one warning each), or with strictSchema an
  // input error.
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
  if (source.problems && source.problems.length > 0) plan.problems = [...source.problems, ...plan.problems];
  phase('plan');
  return { client, caps, connection, registry, source, plan, options, state, dataDir, settled };
}

/** Whether a source carries any group data: a user naming a group, or a group listing a member. */
export function sourceHasGroups(source: Pick<SourceSnapshot, 'users' | 'groups'>): boolean {
  return (
    source.users.some((u) => (u.groups?.length ?? 0) > 0) || source.groups.some((g) => (g.members?.length ?? 0) > 0)
  );
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
    if (Array.isArray(emails))
      for (const e of emails) if (isPlainObject(e)) names.push(['e-mail', attrValue(e, 'value')]);
    const hit = names.find(([, v]) => typeof v === 'string' && mixedScripts(v) !== undefined) as
      [string, string] | undefined;
    if (!hit) continue;
    count++;
    if (found.length < 3)
      found.push(`${location(u.origin)}: ${hit[0]} ${JSON.stringify(hit[1])} (${mixedScripts(hit[1])!.join(' and ')})`);
  }
  if (count === 0) return undefined;
  return {
    count,
    message:
      `${count} source user(s) have a name mixing look-alike scripts (Latin, ` +
      `Cyrillic, Greek), which can pass for another name: ` +
      `${found.join('; ')}${count > 3 ? '; …' : ''}. Check them; ` +
      `--allow-unusual-names takes them without this warning`,
  };
}

/** Keeps the plan in the run history (the source was kept as it was read); returns the plan in its file form. */
export function recordPlan(
  history: RunHistory,
  run: RunRecord,
  p: Pick<Prepared, 'plan' | 'connection' | 'options' | 'source' | 'settled'>,
): PlanFile {
  const planFile = toPlanFile(p.plan, {
    createdAt: new Date().toISOString(),
    profile: p.connection.name,
    url: p.connection.url,
    mode: p.options.mode,
    options: {
      missing: p.options.missing,
      deleteGroups: p.options.deleteGroups,
      manageAll: p.options.manageAll,
      matchKeys: p.options.matchKeys,
    },
    source: { fingerprint: p.source.fingerprint, files: p.source.files, records: p.source.users.length },
  });
  history.writeJson(run.id, 'plan.json', planFile);
  const problems = new Map(p.plan.problems.map((x) => [`${x.origin.file}:${x.origin.line}`, x.message]));
  history.writeReceived(
    run.id,
    (function* () {
      for (const [i, u] of p.source.users.entries())
        yield receivedRecord(u, problems.get(`${u.origin.file}:${u.origin.line}`), p.settled?.has(i) === true);
    })(),
  );
  run.summary = { ...p.plan.summary };
  return planFile;
}

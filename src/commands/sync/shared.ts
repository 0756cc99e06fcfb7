/** What sync plan, apply and run share: flags, reading source and target, the run record. */
import type { Argv } from 'yargs';
import type { ScimClient } from '../../api/client.ts';
import type { Capabilities } from '../../api/discovery.ts';
import { SchemaRegistry } from '../../api/schema.ts';
import type { Connection } from '../../config/connection.ts';
import { progressBar } from '../../output/progress.ts';
import { readSource, type SourceKeeper, type SourceSpec } from '../../sources/source.ts';
import { RunHistory, type LogLine, type RunRecord } from '../../sync/history.ts';
import type { MatchKey, MissingPolicy, Plan, PlanOptions, SourceSnapshot, SyncMode } from '../../sync/model.ts';
import { toPlanFile, type PlanFile } from '../../sync/plan-file.ts';
import { planSync } from '../../sync/planner.ts';
import { adaptToTarget } from '../../sync/adapt.ts';
import { checkSafety, type SafetyFinding } from '../../sync/safety.ts';
import { Settler } from '../../sync/settle.ts';
import { dataDir, loadState, type SyncState } from '../../sync/state.ts';
import { foldInterruptedRuns } from '../../sync/recover.ts';
import { readTarget } from '../../sync/target.ts';
import { leaveOut, leftOutWarning, strictProblems, type SchemaFit } from '../../sync/schema-fit.ts';
import { formatProblem, InputError, mixedScripts } from '../../sources/resource-file.ts';
import { attrValue } from '../../sources/attributes.ts';
import { isPlainObject } from '../../util/objects.ts';
import { appendFileSync } from 'node:fs';
import { SilentExit, UsageError } from '../exit-codes.ts';
import { collectGarbage, withTightHeap } from '../../util/memory.ts';
import { PromptUnavailableError } from '../../output/prompt.ts';
import type { Factory } from '../factory.ts';

export interface SourceFlags {
  source: string;
  preset?: string;
  mapping?: string;
  groupsFile?: string;
}

export interface PlanFlags extends SourceFlags {
  mode: string;
  missing: string;
  deleteGroups: boolean;
  manageAll: boolean;
  matchKeys: string;
  /** An attribute the target's /Schemas does not declare (and no target user has) is an input error, not left out. */
  strictSchema?: boolean;
  /** Take userNames and e-mails with control, invisible or bidi characters, and mixed-script ones without a warning. */
  allowUnusualNames?: boolean;
}

export interface SafetyFlags {
  maxDeletes?: string;
  maxMembershipRemovals?: string;
  maxGroupDeletes?: string;
  allowEmpty: boolean;
  allowEmptyGroups?: boolean;
  acceptSourceChange: boolean;
}

export interface ApplyFlags {
  concurrency: number;
  rate?: string;
  bulk: boolean;
}

export interface LogFlags {
  logFile?: string;
  logFormat: string;
}

export function sourceOptions(y: Argv): Argv {
  return y
    .option('source', { type: 'string', demandOption: true, describe: 'Users file: CSV, TSV or JSON (our export scheme, a ListResponse, or a preset layout)' })
    .option('preset', { type: 'string', choices: ['scim', 'pleio', 'omni'], describe: 'Layout of the source file (default: our export scheme / SCIM JSON)' })
    .option('mapping', { type: 'string', describe: 'YAML or JSON file mapping source columns to SCIM attributes' })
    .option('groups-file', { type: 'string', describe: 'Groups file (e.g. groups.csv of the omni preset)' })
    .option('mode', { type: 'string', choices: ['full', 'attributes', 'groups'], default: 'full', describe: 'full; attributes (users only); groups (memberships only)' })
    .option('missing', { type: 'string', choices: ['deactivate', 'delete', 'leave'], default: 'deactivate', describe: 'What happens to managed users no longer in the source' })
    .option('delete-groups', { type: 'boolean', default: false, describe: 'Delete managed groups no longer in the source' })
    .option('manage-all', { type: 'boolean', default: false, describe: 'Adopt every user and group of the target (otherwise only those scimctl created or the source listed)' })
    .option('match-keys', { type: 'string', default: 'externalId,userName,email', describe: 'Ranked keys to match source records to users' })
    .option('strict-schema', {
      type: 'boolean',
      default: false,
      describe: "Refuse source attributes the target's /Schemas does not declare and no target user has (default: leave them out, with a warning)",
    })
    .option('allow-unusual-names', {
      type: 'boolean',
      default: false,
      describe: 'Accept userNames and e-mails with control, invisible or bidi characters (refused by default), and mixed-script look-alikes (a warning by default)',
    });
}

/** The thresholds, for sync plan, run and apply. */
export function thresholdOptions(y: Argv): Argv {
  return y
    .option('max-deletes', { type: 'string', describe: 'Most deactivations + deletions a run may make: N or P% of managed users (default 10%, at least 5)' })
    .option('max-membership-removals', { type: 'string', describe: 'Most group-membership removals a run may make: N or P% of managed memberships (default 10%, at least 10)' })
    .option('max-group-deletes', { type: 'string', describe: 'Most group deletions a run may make: N or P% of managed groups (default 10%, at least 1)' });
}

export function safetyOptions(y: Argv): Argv {
  return thresholdOptions(y)
    .option('allow-empty', { type: 'boolean', default: false, describe: 'Accept a source with no users' })
    .option('allow-empty-groups', { type: 'boolean', default: false, describe: 'Accept a source with no group data at all although managed users have memberships' })
    .option('accept-source-change', { type: 'boolean', default: false, describe: 'Accept a source whose size moved over 10% since the last run, in an unattended run' });
}

export function applyOptions(y: Argv): Argv {
  return y
    .option('concurrency', { type: 'number', default: 4, describe: 'Requests in flight at once' })
    .option('rate', { type: 'string', describe: 'Pace requests to a limit, e.g. 600/min' })
    .option('bulk', { type: 'boolean', default: true, describe: 'Use SCIM /Bulk for creates when the server offers it' })
    .option('log-file', { type: 'string', describe: 'Also write the run log to this file' })
    .option('log-format', { type: 'string', choices: ['text', 'json'], default: 'text', describe: 'Format of --log-file' });
}

export function planOptionsFrom(flags: PlanFlags, state: SyncState): PlanOptions {
  const keys = flags.matchKeys.split(',').map((k) => k.trim()).filter(Boolean);
  const bad = keys.filter((k) => k !== 'externalId' && k !== 'userName' && k !== 'email');
  if (bad.length > 0 || keys.length === 0) throw new UsageError(`--match-keys takes externalId, userName and email, not "${bad.join(', ')}"`);
  return {
    mode: flags.mode as SyncMode,
    missing: flags.missing as MissingPolicy,
    deleteGroups: flags.deleteGroups,
    manageAll: flags.manageAll,
    owned: new Set(state.owned),
    ownedGroups: new Set(state.ownedGroups),
    matchKeys: keys as MatchKey[],
  };
}

export interface Prepared {
  client: ScimClient;
  caps: Capabilities;
  connection: Connection;
  registry: SchemaRegistry;
  source: SourceSnapshot;
  plan: Plan;
  options: PlanOptions;
  state: SyncState;
  dataDir: string;
}

/** The state of the profile, with the journals of its interrupted runs folded in first (recover.ts). */
export function loadStateAfterInterrupted(dir: string, connection: Connection, log: RunLog): SyncState {
  for (const run of foldInterruptedRuns(dir, connection.name, connection.url)) {
    log.warn(`run ${run.id} was interrupted (${run.message ?? 'its process ended'}); what it applied is now recorded`, { run: run.id });
  }
  return loadState(dir, connection.name, connection.url);
}

/**
 * Reads the source (all of it, checked) and the target (all of it), then plans. With `keep`,
 * the source's bytes are kept as they are read (the run history's copy).
 */
export async function prepare(flags: PlanFlags, f: Factory, log: RunLog, keep?: SourceKeeper): Promise<Prepared> {
  const client = await f.client();
  const connection = await f.connection();
  const caps = await client.capabilities();
  // The target's /Schemas as discovery completed it with RFC 7643's: a guide, never a wall (schema-fit.ts).
  const fit: SchemaFit = { undeclared: new Map(caps.undeclared) };
  const registry = new SchemaRegistry(caps.schemas);
  const dir = dataDir(f.env);
  const state = loadStateAfterInterrupted(dir, connection, log);
  const options = planOptionsFrom(flags, state);
  // The heap stays near what is live while a big target is read and planned (bench noop-resync: see the README, Memory).
  return withTightHeap(() => prepareWith(flags, f, log, { client, connection, caps, registry, dir, state, options }, fit, keep));
}

async function prepareWith(
  flags: PlanFlags,
  f: Factory,
  log: RunLog,
  { client, connection, caps, registry, dir, state, options }: Omit<Prepared, 'source' | 'plan' | 'dataDir'> & { dir: string },
  fit: SchemaFit,
  keep: SourceKeeper | undefined,
): Promise<Prepared> {
  const spec: SourceSpec = { path: flags.source, preset: flags.preset as SourceSpec['preset'], mappingFile: flags.mapping, groupsFile: flags.groupsFile, allowUnusualNames: flags.allowUnusualNames === true };
  // Parsing the source is CPU work and reading the target mostly waiting: do both at once.
  // Either failing fails the whole run; nothing partial is ever planned.
  const progress = progressBar(f.io, 'Reading target');
  let source: SourceSnapshot;
  let target: Awaited<ReturnType<typeof readTarget>>;
  // Once the source is in, target users are settled as they arrive (settle.ts): neither side is held whole.
  // Its records stay in the file but for their identities until the settler needs them (stored-records.ts).
  const reading = readSource(spec, registry, { lazy: true, keep });
  const settler = reading.then((s) => new Settler(s, options.matchKeys));
  try {
    [source, target] = await Promise.all([reading, readTarget(client, (what, received, total) => progress.update(received, total), settler)]);
  } catch (e) {
    // A source read lazily holds its file open once a record was read again.
    void reading.then((s) => s.records?.close(), () => undefined);
    throw e;
  } finally {
    progress.finish();
  }
  (await settler).release();
  // What the release let go of (most of the source) is reused by the planner instead of growing the heap.
  collectGarbage();
  log.info(`source: ${source.users.length} users, ${source.groups.length} groups from ${source.files.join(', ')}`);
  log.info(`target: ${target.users.length} users, ${target.groups.length} groups at ${connection.url}`);
  // Attributes the target neither declares nor has on any user: left out (one warning each), or with --strict-schema an input error.
  const leftOut = leaveOut(source.users, fit, target.observed, !flags.strictSchema);
  if (flags.strictSchema && leftOut.length > 0) throw new InputError(strictProblems(leftOut));
  for (const l of leftOut) log.warn(leftOutWarning(l), { attribute: l.path, records: l.origins.length });
  if (!flags.allowUnusualNames) {
    const mixed = mixedScriptWarning(source.users);
    if (mixed) log.warn(mixed.message, { records: mixed.count });
  }
  const notes = adaptToTarget(source, target, caps.learned, state.members);
  const plan = planSync(source, target, options);
  if (notes.length > 0) plan.notes = notes;
  return { client, caps, connection, registry, source, plan, options, state, dataDir: dir };
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

export function safetyFindings(plan: Plan, source: SourceSnapshot | { users: { length: number } }, state: SyncState, flags: SafetyFlags, unattended: boolean): SafetyFinding[] {
  try {
    return checkSafety(plan, {
      maxDeletes: flags.maxDeletes,
      maxMembershipRemovals: flags.maxMembershipRemovals,
      maxGroupDeletes: flags.maxGroupDeletes,
      allowEmpty: flags.allowEmpty,
      allowEmptyGroups: flags.allowEmptyGroups,
      acceptSourceChange: flags.acceptSourceChange,
      unattended,
      recordCount: source.users.length,
      lastRecordCount: state.lastRecordCount,
      sourceHasGroups: 'groups' in source ? sourceHasGroups(source) : undefined,
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The run's log: into the run history, an optional --log-file, and warnings onto stderr. */
export class RunLog {
  private run: RunRecord | undefined;
  constructor(
    private readonly f: Factory,
    private readonly history: RunHistory | undefined,
    private readonly flags: Partial<LogFlags>,
    /** Warnings and errors also on stderr (not while a full-screen view owns the terminal). */
    private readonly echo = true,
  ) {}

  attach(run: RunRecord): void {
    this.run = run;
  }

  private write(level: LogLine['level'], message: string, fields: Record<string, unknown> = {}, echo = this.echo): void {
    const line: LogLine = { time: new Date().toISOString(), level, message, ...fields };
    if (this.run && this.history) this.history.log(this.run.id, line);
    if (this.flags.logFile) {
      appendFileSync(this.flags.logFile, this.flags.logFormat === 'json' ? `${JSON.stringify(line)}\n` : `${line.time} ${level.toUpperCase()} ${message}\n`, { mode: 0o600 });
    }
    if (level !== 'info' && echo) this.f.log(`${level === 'warn' ? 'warning' : 'error'}: ${message}`);
  }

  /** Into the run history and --log-file only: for what the user is shown another way (never twice on the terminal). */
  record(level: LogLine['level'], message: string, fields?: Record<string, unknown>): void {
    this.write(level, message, fields, false);
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.write('info', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.write('warn', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.write('error', message, fields);
  }
}

/** The run history; runs whose process is gone are marked interrupted first (history.ts). */
export function historyFor(f: Factory): RunHistory {
  const history = new RunHistory(dataDir(f.env));
  try {
    history.markInterrupted();
  } catch (e) {
    f.log(`warning: could not check for interrupted runs: ${e instanceof Error ? e.message : String(e)}`);
  }
  return history;
}

/** Records how a run ended when an error ended it (a refusal to prompt counts as refused). */
export function recordRunError(run: RunRecord, history: RunHistory, log: RunLog, e: unknown): void {
  if (run.status !== 'running') return;
  run.status = e instanceof PromptUnavailableError ? 'refused' : 'failed';
  run.message = e instanceof Error ? e.message : String(e);
  run.finishedAt = new Date().toISOString();
  history.save(run);
  // The error itself is printed once, by the command line's handler (cli.ts): the run log only keeps it,
  // with every problem of bad input (the message tells each kind once).
  if (e instanceof SilentExit) return;
  log.record('error', run.message);
  if (e instanceof InputError) for (const p of e.problems) log.record('error', formatProblem(p), { file: p.file, line: p.line, ...(p.field !== undefined ? { field: p.field } : {}) });
}

/** Keeps the plan in the run history (the source was kept as it was read: prepare's `keep`); returns the plan in its file form. */
export function recordPlan(history: RunHistory, run: RunRecord, p: Prepared): PlanFile {
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

/** What sync plan, apply and run share: flags, and the sync session (sync/session.ts) as commands start and show it. */
import type { Argv } from 'yargs';
import { appendFileSync } from 'node:fs';
import { progressBar } from '../../output/progress.ts';
import { PromptUnavailableError } from '../../output/prompt.ts';
import type { SourceKeeper, SourceSpec } from '../../sources/source.ts';
import type { AvatarMode } from '../../sources/avatars.ts';
import { parseSize } from '../../util/size.ts';
import { RunHistory, type LogLine, type RunRecord } from '../../sync/history.ts';
import type { MatchKey, MissingPolicy, SyncMode } from '../../sync/model.ts';
import type { SafetyFinding } from '../../sync/safety.ts';
import { parseMatchKeys, SYNC_DEFAULTS } from '../../sync/defaults.ts';
import {
  mixedScriptWarning,
  preparePlan,
  recordPlan,
  sourceHasGroups,
  type Prepared,
  type ProgressPhase,
  type ProgressSink,
  type RunLogger,
  type SourceReader,
  type SyncRequest,
} from '../../sync/prepare.ts';
import { SyncSession, type LogSink, type SafetyThresholds } from '../../sync/session.ts';
import { dataDir } from '../../sync/state.ts';
import { UsageError } from '../exit-codes.ts';
import type { FlagsOf } from '../context.ts';
import type { Factory } from '../factory.ts';
import { interruptedEnding, type RunEnding } from '../../sync/report.ts';
import { runEndHandler, type ReportFlags } from './report-options.ts';

export function sourceOptions<T>(y: Argv<T>) {
  return y
    .option('source', {
      type: 'string',
      demandOption: true,
      describe:
        'Users file: CSV, TSV or JSON (our export scheme, a ListResponse, or a preset ' +
        'layout); or a directory: ldap://HOST:PORT/BASE_DN, ldaps://…; or another SCIM ' +
        'server: scim:PROFILE',
    })
    .option('preset', {
      type: 'string',
      choices: ['scim', 'pleio', 'omni'],
      describe: 'Layout of the source file (default: our export scheme / SCIM JSON)',
    })
    .option('mapping', { type: 'string', describe: 'YAML or JSON file mapping source columns to SCIM attributes' })
    .option('groups-file', { type: 'string', describe: 'Groups file (e.g. groups.csv of the omni preset)' })
    .option('mode', {
      type: 'string',
      choices: ['full', 'attributes', 'groups'],
      default: SYNC_DEFAULTS.mode,
      describe: 'full; attributes (users only); groups (memberships only)',
    })
    .option('missing', {
      type: 'string',
      choices: ['deactivate', 'delete', 'leave'],
      default: SYNC_DEFAULTS.missing,
      describe: 'What happens to managed users no longer in the source',
    })
    .option('delete-groups', {
      type: 'boolean',
      default: SYNC_DEFAULTS.deleteGroups,
      describe: 'Delete managed groups no longer in the source',
    })
    .option('manage-all', {
      type: 'boolean',
      default: SYNC_DEFAULTS.manageAll,
      describe: 'Adopt every user and group of the target (otherwise only those scimctl created or the source listed)',
    })
    .option('match-keys', {
      type: 'string',
      default: SYNC_DEFAULTS.matchKeys,
      describe: 'Ranked keys to match source records to users',
    })
    .option('strict-schema', {
      type: 'boolean',
      default: SYNC_DEFAULTS.strictSchema,
      describe:
        "Refuse source attributes the target's /Schemas does not declare and no target " +
        'user has (default: leave them out, with a warning)',
    })
    .option('avatars', {
      type: 'string',
      choices: ['url', 'inline'],
      default: SYNC_DEFAULTS.avatars,
      describe:
        'Avatars that are local files (pleio avatar column): url takes URLs only (a ' +
        'file is a problem of its record); inline sends a JPEG or PNG as a data: URI',
    })
    .option('avatar-max', {
      type: 'string',
      default: SYNC_DEFAULTS.avatarMax,
      describe: 'The largest avatar file sent inline (e.g. 256KB, 1MB)',
    })
    .option('allow-unusual-names', {
      type: 'boolean',
      default: SYNC_DEFAULTS.allowUnusualNames,
      describe:
        'Accept userNames and e-mails with control, invisible or bidi characters ' +
        '(refused by default), and mixed-script look-alikes (a warning by default)',
    });
}

/** The thresholds, for sync plan, run and apply. */
export function thresholdOptions<T>(y: Argv<T>) {
  return y
    .option('keep-runs', {
      type: 'number',
      default: SYNC_DEFAULTS.keepRuns,
      describe: 'Runs kept in the history per profile: older ones are pruned when a run ends',
    })
    .option('max-deletes', {
      type: 'string',
      describe: 'Most deactivations + deletions a run may make: N or P% of managed users (default 10%, at least 5)',
    })
    .option('max-membership-removals', {
      type: 'string',
      describe:
        'Most group-membership removals a run may make: N or P% of managed memberships (default 10%, at least 10)',
    })
    .option('max-group-deletes', {
      type: 'string',
      describe: 'Most group deletions a run may make: N or P% of managed groups (default 10%, at least 1)',
    });
}

export function safetyOptions<T>(y: Argv<T>) {
  return thresholdOptions(y)
    .option('allow-empty', {
      type: 'boolean',
      default: SYNC_DEFAULTS.allowEmpty,
      describe: 'Accept a source with no users',
    })
    .option('allow-empty-groups', {
      type: 'boolean',
      default: SYNC_DEFAULTS.allowEmptyGroups,
      describe: 'Accept a source with no group data at all although managed users have memberships',
    })
    .option('accept-source-change', {
      type: 'boolean',
      default: SYNC_DEFAULTS.acceptSourceChange,
      describe: 'Accept a source whose size moved over 10% since the last run, in an unattended run',
    });
}

export function applyOptions<T>(y: Argv<T>) {
  return y
    .option('concurrency', {
      type: 'number',
      default: SYNC_DEFAULTS.concurrency,
      describe: 'Requests in flight at once',
    })
    .option('rate', { type: 'string', describe: 'Pace requests to a limit, e.g. 600/min' })
    .option('bulk', {
      type: 'boolean',
      default: SYNC_DEFAULTS.bulk,
      describe: 'Use SCIM /Bulk for creates when the server offers it',
    })
    .option('log-file', { type: 'string', describe: 'Also write the run log to this file' })
    .option('log-format', {
      type: 'string',
      choices: ['text', 'json'],
      default: SYNC_DEFAULTS.logFormat,
      describe: 'Format of --log-file and of the log lines on stderr (json: one object a line, with the run id)',
    });
}

/** The flags sourceOptions declares. */
export type SourceFlags = FlagsOf<ReturnType<typeof sourceOptions<object>>>;

/**
 * What to plan, as flags: sourceOptions' flags, where --strict-schema (an attribute the target's
 * /Schemas does not declare, and no target user has, is an input error) and --allow-unusual-names
 * (take control, invisible, bidi and mixed-script names without refusal or warning) may be left out.
 */
export type PlanFlags = Omit<SourceFlags, 'strictSchema' | 'allowUnusualNames' | 'avatars' | 'avatarMax'> &
  Partial<Pick<SourceFlags, 'strictSchema' | 'allowUnusualNames' | 'avatars' | 'avatarMax'>> & {
    /** A reader in the source's place (an ldap:// --source: ldap-options.ts). */
    sourceReader?: SourceReader;
  };

/** The flags applyOptions declares. */
export type ApplyFlags = FlagsOf<ReturnType<typeof applyOptions<object>>>;

/** The run log's flags (--log-file, --log-format). */
export type LogFlags = Pick<ApplyFlags, 'logFile' | 'logFormat'>;

/** What to plan, from the flags: the source spec and how to sync it. */
export function syncRequest(flags: PlanFlags): SyncRequest {
  let matchKeys: MatchKey[];
  try {
    matchKeys = parseMatchKeys(flags.matchKeys);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  let avatarMax: number;
  try {
    avatarMax = parseSize(flags.avatarMax ?? SYNC_DEFAULTS.avatarMax);
  } catch (e) {
    throw new UsageError(`--avatar-max: ${(e as Error).message}`);
  }
  return {
    source: flags.sourceReader ?? {
      path: flags.source,
      preset: flags.preset as SourceSpec['preset'],
      mappingFile: flags.mapping,
      groupsFile: flags.groupsFile,
      avatars: { mode: (flags.avatars ?? SYNC_DEFAULTS.avatars) as AvatarMode, maxBytes: avatarMax },
    },
    mode: flags.mode as SyncMode,
    missing: flags.missing as MissingPolicy,
    deleteGroups: flags.deleteGroups,
    manageAll: flags.manageAll,
    matchKeys,
    strictSchema: flags.strictSchema === true,
    allowUnusualNames: flags.allowUnusualNames === true,
  };
}

export type { Prepared };
export { mixedScriptWarning, recordPlan, sourceHasGroups };

/** The progress bars of a sync on stderr (only on a terminal). */
export function syncProgress(f: Factory): (phase: ProgressPhase) => ProgressSink {
  return (phase) => progressBar(f.io, phase === 'target' ? 'Reading target' : 'Applying');
}

/**
 * Reads the source (all of it, checked) and the target (all of it), then plans, into a run the
 * caller started (a SyncSession does all of this itself). With `keep`, the source's bytes are
 * kept as they are read (the run history's copy).
 */
export async function prepare(flags: PlanFlags, f: Factory, log: RunLogger, keep?: SourceKeeper): Promise<Prepared> {
  const client = await f.client();
  const connection = await f.connection();
  const caps = await client.capabilities();
  return preparePlan(
    { client, caps, connection, dataDir: dataDir(f.env), log, keep, progress: syncProgress(f) },
    syncRequest(flags),
  );
}

/** A refusal to prompt (no terminal, no --yes) ends a run as refused; any other error as failed. */
export function runErrorStatus(e: unknown): 'failed' | 'refused' {
  return e instanceof PromptUnavailableError ? 'refused' : 'failed';
}

/**
 * Starts a sync session for a command: its log into the history, --log-file and (warnings) stderr, its progress on
 * stderr; when it ends, its report (--report-url) and metrics (--metrics-file). `source`: the source as given.
 */
export async function startSession(
  f: Factory,
  command: string,
  history: RunHistory,
  flags: Partial<LogFlags> & ReportFlags & { source?: string; keepRuns?: number },
  { echo = true, progress = true }: { echo?: boolean; progress?: boolean } = {},
): Promise<SyncSession> {
  const started: { session?: SyncSession; earlier?: Promise<unknown> } = {};
  // Checked before the run starts: a bad --report-header is a usage error, not a failed run.
  const handler = runEndHandler(f, flags, (message) => started.session?.log.warn(message));
  const connection = await f.connection();
  const onFinish = handler
    ? async (ending: RunEnding) => {
        await started.earlier;
        await handler(ending);
      }
    : undefined;
  const client = await f.client();
  const log = new RunLog(f, undefined, flags, echo);
  const session = SyncSession.start({
    client,
    connection,
    dataDir: dataDir(f.env),
    history,
    command,
    log: log.sink,
    progress: progress ? syncProgress(f) : undefined,
    errorStatus: runErrorStatus,
    keepRuns: flags.keepRuns,
    source: flags.source,
    onFinish,
  });
  log.attach(session.run);
  started.session = session;
  // Runs of this profile found interrupted just now (historyFor) are reported too: they could not report themselves.
  if (handler)
    started.earlier = Promise.all(
      (interruptedNow.get(history) ?? [])
        .filter((run) => run.profile === connection.name)
        .map((run) => handler(interruptedEnding(history, run), { metrics: false })),
    );
  return session;
}

/** The safety findings of the session's plan; a threshold that cannot be read is a usage error. */
export function safetyFindings(session: SyncSession, flags: SafetyThresholds, unattended: boolean): SafetyFinding[] {
  try {
    return session.safety(
      {
        maxDeletes: flags.maxDeletes,
        maxMembershipRemovals: flags.maxMembershipRemovals,
        maxGroupDeletes: flags.maxGroupDeletes,
        allowEmpty: flags.allowEmpty,
        allowEmptyGroups: flags.allowEmptyGroups,
        acceptSourceChange: flags.acceptSourceChange,
      },
      unattended,
    );
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The run's log: into the run history, an optional --log-file, and warnings onto stderr. */
export class RunLog implements RunLogger {
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

  /** The log of a SyncSession (which keeps its lines in the history itself): --log-file, and warnings on stderr. */
  readonly sink: LogSink = (level, message, fields, echo) => this.write(level, message, fields, echo && this.echo);

  private write(
    level: LogLine['level'],
    message: string,
    fields: Record<string, unknown> = {},
    echo = this.echo,
  ): void {
    const line: LogLine = { time: new Date().toISOString(), level, message, ...fields };
    if (this.run && this.history) this.history.log(this.run.id, line);
    const json = this.flags.logFormat === 'json';
    // A JSON line names its run (the history's own lines need not: they are in its folder).
    const runId = this.run ? { runId: this.run.id } : {};
    const jsonLine = () => `${JSON.stringify({ time: line.time, level, ...runId, message, ...fields })}\n`;
    if (this.flags.logFile) {
      appendFileSync(this.flags.logFile, json ? jsonLine() : `${line.time} ${level.toUpperCase()} ${message}\n`, {
        mode: 0o600,
      });
    }
    if (level === 'info' || !echo) return;
    if (json) {
      this.f.clearStatus();
      this.f.io.stderr.write(jsonLine());
    } else this.f.log(`${level === 'warn' ? 'warning' : 'error'}: ${message}`);
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

/** The runs each history marked interrupted when it was opened (historyFor), for their reports (startSession). */
const interruptedNow = new WeakMap<RunHistory, RunRecord[]>();

/** The run history; runs whose process is gone are marked interrupted first (history.ts). */
export function historyFor(f: Factory): RunHistory {
  const history = new RunHistory(dataDir(f.env));
  try {
    interruptedNow.set(history, history.markInterrupted());
  } catch (e) {
    f.log(`warning: could not check for interrupted runs: ${e instanceof Error ? e.message : String(e)}`);
  }
  return history;
}

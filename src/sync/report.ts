/**
 * What a run tells the outside world when it ends: a JSON report POSTed to a webhook (--report-url) and a
 * Prometheus textfile (--metrics-file). Both are made from the run as it ended (RunEnding, from SyncSession.finish);
 * neither ever holds a secret: the target's URL is the profile's (never credentials), header values come by
 * reference and are masked in every message.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { redact } from '../api/redact.ts';
import type { ChangeResult } from './apply.ts';
import { CHANGE_KINDS } from './change-kinds.ts';
import type { RunHistory, RunRecord } from './history.ts';
import { readJournal } from './journal.ts';
import type { Change, ChangeKind } from './model.ts';

/** The version of the report's schema (README: "Run reports"). */
export const REPORT_SCHEMA = 'scimctl.run-report/1';

/** The most failures a report lists one by one (`failuresTotal` counts them all). */
export const REPORT_FAILURES_MAX = 50;

/** A run as it ended: what the report and the metrics are made from. */
export interface RunEnding {
  run: RunRecord;
  /** Where the source came from: a path, a URL (without credentials), `scim:PROFILE`; absent when unknown. */
  source?: string;
  /** The plan's changes (none when the run ended before a plan). */
  changes: readonly Change[];
  /** What applying them did (none when nothing was applied). */
  results: readonly ChangeResult[];
  /** The safety checks that refused the run. */
  refusals: ReadonlyArray<{ check: string; message: string }>;
}

export interface KindCount {
  planned: number;
  applied: number;
  failed: number;
  excluded: number;
}

export interface RunReport {
  schema: typeof REPORT_SCHEMA;
  runId: string;
  command: string;
  profile: string;
  target: string;
  source: string | null;
  status: RunRecord['status'];
  message: string | null;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  counts: Record<ChangeKind, KindCount>;
  totals: KindCount;
  failures: Array<{ change: string; kind: ChangeKind; detail: string }>;
  failuresTotal: number;
  refusals: Array<{ check: string; message: string }>;
  text: string;
}

/** A URL without user, password, query or fragment (what a report may say about where something is). */
export function withoutCredentials(raw: string): string {
  try {
    const url = new URL(raw);
    if (!/^(https?|ldaps?):$/.test(url.protocol)) return raw;
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    return url.toString().replace(/\/+$/, '');
  } catch {
    return raw;
  }
}

/**
 * A run a later command found interrupted (its process gone: history.ts), as it ended: its plan's changes and what
 * its journal says they did (no server detail: the journal keeps none).
 */
export function interruptedEnding(history: RunHistory, run: RunRecord): RunEnding {
  const journal = readJournal(history.journalFile(run.id));
  const results: ChangeResult[] = (journal?.facts ?? []).map((f) => ({ id: f.change, kind: f.kind, status: f.status }));
  return {
    run: { ...run, finishedAt: run.finishedAt ?? run.interruptedAt },
    changes: history.outcome(run.id).changes.map((c) => c.change),
    results,
    refusals: [],
  };
}

/** Planned, applied, failed and excluded changes of each kind (every kind, zeros included). */
export function countByKind(
  changes: readonly Change[],
  results: readonly ChangeResult[],
): { counts: Record<ChangeKind, KindCount>; totals: KindCount } {
  const zero = (): KindCount => ({ planned: 0, applied: 0, failed: 0, excluded: 0 });
  const counts = Object.fromEntries(CHANGE_KINDS.map((k) => [k, zero()])) as Record<ChangeKind, KindCount>;
  const totals = zero();
  for (const c of changes) {
    counts[c.kind].planned++;
    totals.planned++;
  }
  for (const r of results) {
    counts[r.kind][r.status]++;
    totals[r.status]++;
  }
  return { counts, totals };
}

const seconds = (from: string, to: string): number =>
  Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 10) / 100);

/** The report of a run as it ended. */
export function runReport(ending: RunEnding): RunReport {
  const { run } = ending;
  const finishedAt = run.finishedAt ?? new Date().toISOString();
  const { counts, totals } = countByKind(ending.changes, ending.results);
  const failed = ending.results.filter((r) => r.status === 'failed');
  const report: Omit<RunReport, 'text'> = {
    schema: REPORT_SCHEMA,
    runId: run.id,
    command: run.command,
    profile: run.profile,
    target: withoutCredentials(run.url),
    source: ending.source !== undefined ? withoutCredentials(ending.source) : null,
    status: run.status,
    message: run.message ?? null,
    startedAt: run.startedAt,
    finishedAt,
    durationSeconds: seconds(run.startedAt, finishedAt),
    counts,
    totals,
    failures: failed
      .slice(0, REPORT_FAILURES_MAX)
      .map((r) => ({ change: r.id, kind: r.kind, detail: r.detail ?? 'failed' })),
    failuresTotal: failed.length,
    refusals: ending.refusals.map((r) => ({ check: r.check, message: r.message })),
  };
  return { ...report, text: reportText(report) };
}

/** The report's one readable line (what a chat's incoming webhook shows). */
function reportText(r: Omit<RunReport, 'text'>): string {
  const head = `scimctl ${r.command} ${r.profile}: ${r.status}`;
  const tail = `(run ${r.runId}, ${r.durationSeconds}s)`;
  if (r.status === 'refused')
    return `${head}: ${r.refusals.map((x) => x.message).join('; ') || r.message || 'refused'} ${tail}`;
  if (r.status === 'failed' || r.status === 'interrupted') return `${head}: ${r.message ?? 'no detail'} ${tail}`;
  const t = r.totals;
  const what =
    r.status === 'planned'
      ? `${t.planned} change(s) planned, none applied`
      : `applied ${t.applied} of ${t.planned} ` +
        `change(s)${t.failed ? `, ${t.failed} failed` : ''}` +
        `${t.excluded ? `, ${t.excluded} excluded` : ''}`;
  return `${head}: ${what} ${tail}`;
}

// ---------------------------------------------------------------------------
// Delivery.

export interface DeliveryOptions {
  /** Extra headers (values already read from their references). */
  headers?: Record<string, string>;
  /** Per attempt. */
  timeoutMs: number;
  /** Attempts after the first (network errors, 429 and 5xx only). */
  retries?: number;
  /** The pause before retry n (1-based). Default 500 ms × 2^(n−1). */
  backoffMs?: (attempt: number) => number;
  userAgent?: string;
  fetch?: typeof globalThis.fetch;
}

/** Where a report goes, as messages may say it: scheme, host and port (a webhook's path is often its secret). */
export function reportOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(not a URL)';
  }
}

/**
 * POSTs a report; resolves with nothing when it was taken (2xx), else with why it was not (every secret masked).
 * Never throws.
 */
export async function deliverReport(
  url: string,
  report: RunReport,
  options: DeliveryOptions,
): Promise<string | undefined> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const retries = options.retries ?? 3;
  const backoff = options.backoffMs ?? ((n: number) => 500 * 2 ** (n - 1));
  const headers = options.headers ?? {};
  const secrets = [...Object.values(headers), url];
  const body = JSON.stringify(report);
  let why = '';
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, backoff(attempt)));
    let retryable: boolean;
    try {
      const res = await doFetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(options.userAgent ? { 'user-agent': options.userAgent } : {}),
          ...headers,
        },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return undefined;
      why = `HTTP ${res.status}`;
      retryable = res.status === 429 || res.status >= 500;
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      why =
        err.name === 'TimeoutError'
          ? `no answer within ${options.timeoutMs / 1000}s`
          : (err.cause?.code ?? err.message ?? String(e));
      retryable = true;
    }
    if (!retryable) break;
  }
  return redact(`could not deliver the run report to ${reportOrigin(url)}: ${why}`, secrets);
}

// ---------------------------------------------------------------------------
// Metrics (Prometheus text format, for node_exporter's textfile collector).

/** A Prometheus label value, escaped. */
const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/** The value of a sample for `profile` in a metrics file, or undefined. */
function previousSample(text: string, metric: string, profile: string): number | undefined {
  const prefix = `${metric}{profile="${label(profile)}"} `;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  if (!line) return undefined;
  const value = Number(line.slice(prefix.length).trim().split(/\s+/)[0]);
  return Number.isFinite(value) ? value : undefined;
}

/** A run that ended well: applied in full, or planned only. */
export const isSuccess = (status: RunRecord['status']) => status === 'applied' || status === 'planned';

/**
 * The metrics file's text after a run, given the file as it was (`previous`, '' when none): the last success and the
 * refusals counter carry over from it.
 */
export function renderMetrics(ending: RunEnding, previous = ''): string {
  const { run } = ending;
  const p = `profile="${label(run.profile)}"`;
  const finishedAt = run.finishedAt ?? new Date().toISOString();
  const ended = Date.parse(finishedAt) / 1000;
  const lastSuccess = isSuccess(run.status)
    ? ended
    : previousSample(previous, 'scimctl_sync_last_success_timestamp_seconds', run.profile);
  const refused = run.status === 'refused' ? 1 : 0;
  const refusals = (previousSample(previous, 'scimctl_sync_refusals_total', run.profile) ?? 0) + refused;
  const { counts, totals } = countByKind(ending.changes, ending.results);
  const out: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, samples: Array<[string, number]>) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) out.push(`${name}{${labels}} ${value}`);
  };
  metric('scimctl_sync_last_run_timestamp_seconds', 'gauge', 'When the last sync run ended (Unix time).', [[p, ended]]);
  metric(
    'scimctl_sync_last_success_timestamp_seconds',
    'gauge',
    'When the last sync run that ended applied or planned ended (Unix time).',
    lastSuccess !== undefined ? [[p, lastSuccess]] : [],
  );
  metric(
    'scimctl_sync_last_run_status',
    'gauge',
    'How the last sync run ended: 1 for its status, 0 for the others.',
    (['applied', 'partial', 'planned', 'refused', 'failed', 'interrupted'] as const).map((s) => [
      `${p},status="${s}"`,
      run.status === s ? 1 : 0,
    ]),
  );
  metric('scimctl_sync_last_run_duration_seconds', 'gauge', 'How long the last sync run took.', [
    [p, seconds(run.startedAt, finishedAt)],
  ]);
  metric(
    'scimctl_sync_last_run_changes_planned',
    'gauge',
    'Changes the last sync run planned, by kind.',
    CHANGE_KINDS.map((k) => [`${p},kind="${k}"`, counts[k].planned]),
  );
  metric(
    'scimctl_sync_last_run_changes_applied',
    'gauge',
    'Changes the last sync run applied, by kind.',
    CHANGE_KINDS.map((k) => [`${p},kind="${k}"`, counts[k].applied]),
  );
  metric(
    'scimctl_sync_last_run_changes_failed',
    'gauge',
    'Changes that failed in the last sync run, by kind.',
    CHANGE_KINDS.map((k) => [`${p},kind="${k}"`, counts[k].failed]),
  );
  metric('scimctl_sync_last_run_failures', 'gauge', 'Changes that failed in the last sync run.', [[p, totals.failed]]);
  metric('scimctl_sync_last_run_refused', 'gauge', '1 when a safety check refused the last sync run.', [[p, refused]]);
  metric('scimctl_sync_refusals_total', 'counter', 'Sync runs refused by a safety check.', [[p, refusals]]);
  return `${out.join('\n')}\n`;
}

/** Writes the metrics file whole or not at all (tmp + rename: the collector never reads half of it). */
export function writeMetricsFile(path: string, ending: RunEnding): void {
  let previous = '';
  try {
    previous = readFileSync(path, 'utf8');
  } catch {
    // No file yet: nothing carries over.
  }
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, renderMetrics(ending, previous), { mode: 0o644 });
  renameSync(tmp, path);
}

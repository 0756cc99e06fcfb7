/**
 * Run reports and metrics (src/sync/report.ts): the report's counts, failures (capped) and readable line; delivery
 * with retries on what may pass (network errors, 429, 5xx) and none on what will not, every secret masked; the
 * Prometheus text, parsed, with what carries over from the previous file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { ChangeResult } from '../../src/sync/apply.ts';
import type { RunRecord } from '../../src/sync/history.ts';
import type { Change } from '../../src/sync/model.ts';
import {
  deliverReport,
  renderMetrics,
  REPORT_FAILURES_MAX,
  runReport,
  withoutCredentials,
  writeMetricsFile,
  type RunEnding,
} from '../../src/sync/report.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function run(status: RunRecord['status'], finishedAt = '2026-12-03T10:00:05.000Z'): RunRecord {
  return {
    id: '20261203T100000Z-abcd',
    command: 'sync run',
    profile: 'acme',
    url: 'https://scim.example.com/v2',
    startedAt: '2026-12-03T10:00:00.000Z',
    finishedAt,
    status,
  };
}

const create = (i: number): Change =>
  ({ id: `c${i}`, kind: 'create-user', resource: { userName: `u${i}@example.com` } }) as unknown as Change;
const deactivate = (i: number): Change => ({ id: `d${i}`, kind: 'deactivate-user', target: `t${i}`, userName: 'x' });

function ending(over: Partial<RunEnding> & { run: RunRecord }): RunEnding {
  return { changes: [], results: [], refusals: [], ...over };
}

describe('runReport', () => {
  test('counts each kind planned, applied and failed; lists failures with the server detail, capped', () => {
    const changes = [...Array.from({ length: 60 }, (_, i) => create(i)), deactivate(1), deactivate(2)];
    const results: ChangeResult[] = [
      ...changes.slice(0, 60).map((c, i): ChangeResult => ({
        id: c.id,
        kind: c.kind,
        status: i < 55 ? 'failed' : 'applied',
        detail: i < 55 ? `409 uniqueness: u${i} exists` : undefined,
      })),
      { id: 'd1', kind: 'deactivate-user', status: 'applied' },
      { id: 'd2', kind: 'deactivate-user', status: 'excluded' },
    ];
    const r = runReport(ending({ run: run('partial'), changes, results, source: '/data/hr.csv' }));
    assert.equal(r.schema, 'scimctl.run-report/1');
    assert.deepEqual(r.counts['create-user'], { planned: 60, applied: 5, failed: 55, excluded: 0 });
    assert.deepEqual(r.counts['deactivate-user'], { planned: 2, applied: 1, failed: 0, excluded: 1 });
    assert.deepEqual(r.counts['delete-group'], { planned: 0, applied: 0, failed: 0, excluded: 0 });
    assert.deepEqual(r.totals, { planned: 62, applied: 6, failed: 55, excluded: 1 });
    assert.equal(r.failures.length, REPORT_FAILURES_MAX);
    assert.equal(r.failuresTotal, 55);
    assert.deepEqual(r.failures[0], { change: 'c0', kind: 'create-user', detail: '409 uniqueness: u0 exists' });
    assert.equal(r.durationSeconds, 5);
    assert.equal(r.source, '/data/hr.csv');
    assert.equal(
      r.text,
      'scimctl sync run acme: partial: applied 6 of 62 change(s), 55 failed, 1 ' +
        'excluded (run 20261203T100000Z-abcd, 5s)',
    );
  });

  test('a refused run says the safety check; a failed one its error', () => {
    const refused = runReport(
      ending({
        run: { ...run('refused'), message: 'deletion-threshold' },
        changes: [deactivate(1)],
        refusals: [{ check: 'deletion-threshold', message: 'the plan would deactivate 1 of 1 managed users' }],
      }),
    );
    assert.deepEqual(refused.refusals, [
      { check: 'deletion-threshold', message: 'the plan would deactivate 1 of 1 managed users' },
    ]);
    assert.match(refused.text, /^scimctl sync run acme: refused: the plan would deactivate 1 of 1 managed users \(run/);
    const failed = runReport(ending({ run: { ...run('failed'), message: 'cannot read hr.csv' } }));
    assert.match(failed.text, /^scimctl sync run acme: failed: cannot read hr\.csv \(run/);
    assert.equal(failed.totals.planned, 0);
  });

  test('URLs lose their credentials', () => {
    assert.equal(
      withoutCredentials('ldaps://cn=admin:pw@dc.example.com:636/dc=example'),
      'ldaps://dc.example.com:636/dc=example',
    );
    assert.equal(withoutCredentials('https://u:p@hr.example.com/scim?token=abc'), 'https://hr.example.com/scim');
    assert.equal(withoutCredentials('scim:hr'), 'scim:hr');
    assert.equal(withoutCredentials('/data/hr.csv'), '/data/hr.csv');
  });
});

describe('deliverReport', () => {
  const report = runReport(ending({ run: run('applied') }));
  const SECRET = 'Bearer s3cr3t-hook-value-123';

  function fakeFetch(answers: Array<number | Error>) {
    const calls: Array<{ url: string; init: RequestInit }> = [];
    const f = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      const a = answers[Math.min(calls.length - 1, answers.length - 1)]!;
      if (a instanceof Error) throw a;
      return new Response(null, { status: a });
    }) as unknown as typeof fetch;
    return { f, calls };
  }

  test('network errors, 429 and 5xx are retried; the report is sent whole with its headers', async () => {
    const { f, calls } = fakeFetch([new TypeError('fetch failed'), 429, 503, 204]);
    const waits: number[] = [];
    const problem = await deliverReport('https://hooks.example.com/T0/B0/xyz', report, {
      headers: { Authorization: SECRET },
      timeoutMs: 1000,
      fetch: f,
      backoffMs: (n) => (waits.push(n), 0),
    });
    assert.equal(problem, undefined);
    assert.equal(calls.length, 4);
    assert.deepEqual(waits, [1, 2, 3]);
    const headers = calls[0]!.init.headers as Record<string, string>;
    assert.equal(headers.Authorization, SECRET);
    assert.equal(headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(String(calls[0]!.init.body)), report);
  });

  test('gives up after the retries, or at once on a 4xx; says why with the origin only, nothing secret', async () => {
    const down = fakeFetch([500]);
    const problem = await deliverReport('https://hooks.example.com/T0/B0/xyz', report, {
      headers: { Authorization: SECRET },
      timeoutMs: 1000,
      retries: 2,
      fetch: down.f,
      backoffMs: () => 0,
    });
    assert.equal(down.calls.length, 3);
    assert.equal(problem, 'could not deliver the run report to https://hooks.example.com: HTTP 500');
    const bad = fakeFetch([400, 204]);
    const once = await deliverReport('https://hooks.example.com/x', report, {
      timeoutMs: 1000,
      fetch: bad.f,
      backoffMs: () => 0,
    });
    assert.equal(bad.calls.length, 1);
    assert.match(once!, /HTTP 400$/);
    const echo = fakeFetch([new Error(`refused with ${SECRET}`)]);
    const masked = await deliverReport('https://hooks.example.com/x', report, {
      headers: { Authorization: SECRET },
      timeoutMs: 1000,
      retries: 0,
      fetch: echo.f,
    });
    assert.ok(!masked!.includes('s3cr3t'), masked);
  });
});

/** Parses Prometheus text: every sample has HELP and TYPE lines before it; returns `name{labels}` → value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const help = new Set<string>();
  const type = new Map<string, string>();
  assert.ok(text.endsWith('\n'));
  for (const line of text.trimEnd().split('\n')) {
    let m = /^# HELP (\w+) \S.*$/.exec(line);
    if (m) {
      help.add(m[1]!);
      continue;
    }
    m = /^# TYPE (\w+) (gauge|counter)$/.exec(line);
    if (m) {
      type.set(m[1]!, m[2]!);
      continue;
    }
    m = /^(\w+)\{((?:\w+="[^"]*",?)*)\} (-?[\d.e+]+)$/.exec(line);
    assert.ok(m, `not Prometheus text: ${line}`);
    assert.ok(help.has(m[1]!) && type.has(m[1]!), `${m[1]} without HELP/TYPE`);
    if (type.get(m[1]!) === 'counter') assert.match(m[1]!, /_total$/);
    out.set(`${m[1]}{${m[2]}}`, Number(m[3]));
  }
  return out;
}

describe('metrics', () => {
  const P = '{profile="acme"}';
  test('an applied run: its time is the last success; applied per kind; no refusal', () => {
    const changes = [create(1), create(2), deactivate(1)];
    const results: ChangeResult[] = [
      { id: 'c1', kind: 'create-user', status: 'applied' },
      { id: 'c2', kind: 'create-user', status: 'failed', detail: '409' },
      { id: 'd1', kind: 'deactivate-user', status: 'applied' },
    ];
    const m = parse(renderMetrics(ending({ run: run('partial'), changes, results })));
    const t = Date.parse('2026-12-03T10:00:05.000Z') / 1000;
    assert.equal(m.get(`scimctl_sync_last_run_timestamp_seconds${P}`), t);
    assert.equal(m.has(`scimctl_sync_last_success_timestamp_seconds${P}`), false, 'partial is no success');
    assert.equal(m.get('scimctl_sync_last_run_changes_applied{profile="acme",kind="create-user"}'), 1);
    assert.equal(m.get('scimctl_sync_last_run_changes_failed{profile="acme",kind="create-user"}'), 1);
    assert.equal(m.get('scimctl_sync_last_run_changes_applied{profile="acme",kind="deactivate-user"}'), 1);
    assert.equal(m.get(`scimctl_sync_last_run_failures${P}`), 1);
    assert.equal(m.get(`scimctl_sync_last_run_duration_seconds${P}`), 5);
    assert.equal(m.get('scimctl_sync_last_run_status{profile="acme",status="partial"}'), 1);
  });

  test('the last success and the refusals counter carry over from the file before', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scimctl-metrics-'));
    dirs.push(dir);
    const file = join(dir, 'scimctl.prom');
    writeMetricsFile(file, ending({ run: run('applied', '2026-12-03T09:00:00.000Z') }));
    writeMetricsFile(file, ending({ run: run('refused', '2026-12-03T09:15:00.000Z'), refusals: [] }));
    writeMetricsFile(file, ending({ run: run('refused', '2026-12-03T09:30:00.000Z'), refusals: [] }));
    const m = parse(readFileSync(file, 'utf8'));
    assert.equal(m.get(`scimctl_sync_last_success_timestamp_seconds${P}`), Date.parse('2026-12-03T09:00:00Z') / 1000);
    assert.equal(m.get(`scimctl_sync_last_run_timestamp_seconds${P}`), Date.parse('2026-12-03T09:30:00Z') / 1000);
    assert.equal(m.get(`scimctl_sync_refusals_total${P}`), 2);
    assert.equal(m.get(`scimctl_sync_last_run_refused${P}`), 1);
    assert.deepEqual(readdirSync(dir), ['scimctl.prom'], 'no temporary file left');
    writeMetricsFile(file, ending({ run: run('applied', '2026-12-03T09:45:00.000Z') }));
    const again = parse(readFileSync(file, 'utf8'));
    assert.equal(again.get(`scimctl_sync_refusals_total${P}`), 2);
    assert.equal(again.get(`scimctl_sync_last_run_refused${P}`), 0);
    assert.equal(
      again.get(`scimctl_sync_last_success_timestamp_seconds${P}`),
      Date.parse('2026-12-03T09:45:00Z') / 1000,
    );
  });

  test('label values are escaped', () => {
    const text = renderMetrics(ending({ run: { ...run('applied'), profile: 'a"b\\c' } }));
    assert.ok(text.includes('{profile="a\\"b\\\\c"}'), text);
  });
});

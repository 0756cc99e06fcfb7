/**
 * Run reports end to end: the built binary syncs into `scimctl serve` and, when each run ends, POSTs its report to a
 * webhook receiver run here (127.0.0.1), writes its metrics file, and logs JSON lines with its run id. A receiver that
 * is down or answers 500 never changes the sync's exit code; the webhook's header secret never shows anywhere.
 */
import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, tempHome, type RunResult } from './helpers.ts';
import { startServe, type Json, type ServeProcess } from './serve-helpers.ts';

const TOKEN = 'e2e-run-reports-token-5d1f0a';
const TOKEN_VAR = 'RUN_REPORTS_E2E_TOKEN';
const HOOK_SECRET = 'hook-secret-9c2e47b1d3';
let server: ServeProcess;
let home: ReturnType<typeof tempHome>;
let env: Record<string, string>;
let mapping: string;
let metrics: string;

interface Received {
  headers: IncomingHttpHeaders;
  body: Json;
  text: string;
}

/** A webhook receiver on 127.0.0.1: keeps what it is sent; answers `status`. */
async function receiver(status = 204): Promise<{ url: string; got: Received[]; attempts: number; close(): void }> {
  const got: Received[] = [];
  const state = { attempts: 0 };
  const srv: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.attempts++;
      const text = Buffer.concat(chunks).toString('utf8');
      if (status < 300) got.push({ headers: req.headers, body: JSON.parse(text), text });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/hooks/scimctl`,
    got,
    get attempts() {
      return state.attempts;
    },
    close: () => srv.close(),
  };
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

const PEOPLE = Array.from({ length: 8 }, (_, i) => ({
  id: `R${i + 1}`,
  email: `person${i + 1}@example.com`,
  groups: [i % 2 ? 'Red' : 'Blue'],
}));

function writeSource(name: string, rows: ReadonlyArray<{ id: string; email: string; groups: string[] }>): string {
  const file = join(home.dir, name);
  writeFileSync(
    file,
    `EmployeeID,Email,Groups\n${rows.map((p) => `${p.id},${p.email},${p.groups.join(';')}`).join('\n')}\n`,
  );
  return file;
}

const sync = (source: string, ...more: string[]): Promise<RunResult> =>
  runCli(['sync', 'run', '--yes', '--profile', 'main', '--source', source, '--mapping', mapping, ...more], {
    env,
    timeoutMs: 120_000,
  });

const reportFlags = (url: string) => ['--report-url', url, '--report-header', `Authorization=env:HOOK_TOKEN`];

/** Every file under a directory, as text. */
function allText(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');
}

/** A metrics file's samples: `name{labels}` → value. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.trim().split('\n')) {
    const type = /^# TYPE (\w+) (gauge|counter)$/.exec(line);
    if (type) typed.add(type[1]!);
    if (line.startsWith('#')) continue;
    const m = /^(\w+)(\{[^}]*\}) (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    assert.ok(typed.has(m[1]!), `${m[1]} has no TYPE line before its samples`);
    samples.set(`${m[1]}${m[2]}`, Number(m[3]));
  }
  return samples;
}

const P = '{profile="main"}';
const kind = (k: string) => `{profile="main",kind="${k}"}`;

/** The JSON lines a run wrote on stderr (its other lines are not JSON). */
const jsonLines = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { runId?: string; time: string; level: string; message: string });

before(async () => {
  server = await startServe({ token: TOKEN });
  home = tempHome();
  env = {
    ...home.env,
    SCIMCTL_DATA_DIR: join(home.dir, 'data'),
    [TOKEN_VAR]: TOKEN,
    HOOK_TOKEN: `Bearer ${HOOK_SECRET}`,
  };
  const r = await runCli(['profile', 'add', 'main', '--url', server.url, '--token-env', TOKEN_VAR], { env });
  assert.equal(r.code, 0, r.stderr);
  mapping = join(home.dir, 'mapping.yaml');
  writeFileSync(
    mapping,
    'attributes:\n  externalId: { column: EmployeeID }\n  userName: { column: Email }\ngroups: { column: Groups }\n',
  );
  metrics = join(home.dir, 'scimctl.prom');
});

after(async () => {
  await server.stop();
  server.cleanup();
  home.cleanup();
});

/** Nothing anywhere holds the webhook's secret or the SCIM token. */
function assertNoSecrets(where: string, text: string): void {
  assert.ok(!text.includes(HOOK_SECRET), `the webhook secret is in ${where}`);
  assert.ok(!text.includes(TOKEN), `the SCIM token is in ${where}`);
}

describe('run reports', { concurrency: false }, () => {
  test(
    'an applied run: one report with its counts per kind, the metrics file, the ' + 'header sent by reference',
    async () => {
      const hook = await receiver();
      try {
        const r = await sync(writeSource('all.csv', PEOPLE), ...reportFlags(hook.url), '--metrics-file', metrics);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(hook.got.length, 1, 'one report per run');
        const { body, headers, text } = hook.got[0]!;
        assert.equal(headers.authorization, `Bearer ${HOOK_SECRET}`);
        assert.equal(headers['content-type'], 'application/json');
        assert.equal(body.schema, 'scimctl.run-report/1');
        assert.equal(body.status, 'applied');
        assert.equal(body.profile, 'main');
        assert.equal(body.target, server.url);
        assert.equal(body.source, join(home.dir, 'all.csv'));
        assert.equal(body.command, 'sync run');
        assert.deepEqual(body.counts['create-user'], { planned: 8, applied: 8, failed: 0, excluded: 0 });
        assert.deepEqual(body.counts['create-group'], { planned: 2, applied: 2, failed: 0, excluded: 0 });
        assert.deepEqual(body.counts['delete-user'], { planned: 0, applied: 0, failed: 0, excluded: 0 });
        assert.equal(body.failuresTotal, 0);
        assert.deepEqual(body.refusals, []);
        assert.match(
          body.text,
          /^scimctl sync run main: applied: applied \d+ of \d+ change\(s\) \(run \S+, [\d.]+s\)$/,
        );
        assert.ok(Date.parse(body.finishedAt) >= Date.parse(body.startedAt));
        assert.equal(typeof body.durationSeconds, 'number');
        assert.match(r.stderr, new RegExp(`run ${body.runId}`));
        for (const [where, t] of [
          ['the report', text],
          ['stdout', r.stdout],
          ['stderr', r.stderr],
          ['the history', allText(join(home.dir, 'data'))],
          ['the metrics file', readFileSync(metrics, 'utf8')],
        ] as const)
          assertNoSecrets(where, t);

        const m = parseMetrics(readFileSync(metrics, 'utf8'));
        const ended = Date.parse(body.finishedAt) / 1000;
        assert.equal(m.get(`scimctl_sync_last_run_timestamp_seconds${P}`), ended);
        assert.equal(m.get(`scimctl_sync_last_success_timestamp_seconds${P}`), ended);
        assert.equal(m.get(`scimctl_sync_last_run_changes_applied${kind('create-user')}`), 8);
        assert.equal(m.get(`scimctl_sync_last_run_changes_applied${kind('create-group')}`), 2);
        assert.equal(m.get(`scimctl_sync_last_run_failures${P}`), 0);
        assert.equal(m.get(`scimctl_sync_last_run_refused${P}`), 0);
        assert.equal(m.get(`scimctl_sync_refusals_total${P}`), 0);
        assert.equal(m.get('scimctl_sync_last_run_status{profile="main",status="applied"}'), 1);
        assert.equal(m.get(`scimctl_sync_last_run_duration_seconds${P}`), body.durationSeconds);
      } finally {
        hook.close();
      }
    },
  );

  test(
    'a refused run: its report has the safety check and its message; the metrics ' + 'keep the last success',
    async () => {
      // Each test stands alone: the target as synced, and a metrics file of its own with that run's success.
      const own = join(home.dir, 'refused.prom');
      const synced = await sync(writeSource('all.csv', PEOPLE), '--metrics-file', own);
      assert.equal(synced.code, 0, synced.stderr);
      const success = parseMetrics(readFileSync(own, 'utf8')).get(`scimctl_sync_last_success_timestamp_seconds${P}`);
      assert.ok(success);
      const hook = await receiver();
      try {
        const r = await sync(
          writeSource('leavers.csv', PEOPLE.slice(0, 5)),
          ...reportFlags(hook.url),
          '--metrics-file',
          own,
          '--max-deletes',
          '1',
          '--accept-source-change',
          '--log-format',
          'json',
        );
        assert.equal(r.code, 7, r.stderr);
        assert.equal(hook.got.length, 1);
        const { body } = hook.got[0]!;
        assert.equal(body.status, 'refused');
        assert.deepEqual(body.counts['deactivate-user'], { planned: 3, applied: 0, failed: 0, excluded: 0 });
        assert.equal(body.refusals.length, 1, JSON.stringify(body.refusals));
        const deletes = body.refusals[0];
        assert.equal(deletes.check, 'deletion-threshold');
        assert.match(deletes.message, /deactivate or delete 3 of 8 managed users, over the limit of 1/);
        assert.ok(body.text.includes(deletes.message), body.text);

        // JSON log lines on stderr: each with this run's id, a time, a level and a message.
        const lines = jsonLines(r.stderr);
        assert.ok(lines.length > 0, r.stderr);
        for (const l of lines) {
          assert.equal(l.runId, body.runId);
          assert.ok(!Number.isNaN(Date.parse(l.time)));
          assert.match(l.level, /^(warn|error)$/);
        }
        assert.ok(lines.some((l) => l.level === 'error' && l.message === deletes.message));

        const m = parseMetrics(readFileSync(own, 'utf8'));
        assert.equal(m.get(`scimctl_sync_last_run_timestamp_seconds${P}`), Date.parse(body.finishedAt) / 1000);
        assert.equal(m.get(`scimctl_sync_last_success_timestamp_seconds${P}`), success);
        assert.equal(m.get(`scimctl_sync_last_run_refused${P}`), 1);
        assert.equal(m.get(`scimctl_sync_refusals_total${P}`), 1);
        assert.equal(m.get(`scimctl_sync_last_run_changes_applied${kind('create-user')}`), 0);
        assert.equal(m.get('scimctl_sync_last_run_status{profile="main",status="refused"}'), 1);
        assert.equal(m.get('scimctl_sync_last_run_status{profile="main",status="applied"}'), 0);
      } finally {
        hook.close();
      }
    },
  );

  test('a change the server rejects: the report lists it with the server detail', async () => {
    // Someone else's account holds the userName; matched by externalId only, the create collides.
    const taken = await server.request('POST', '/Users', {
      body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'taken@example.com' },
    });
    assert.equal(taken.status, 201, taken.text);
    const hook = await receiver();
    try {
      const more = ['--match-keys', 'externalId', '--accept-source-change'];
      const rows = [...PEOPLE, { id: 'R9', email: 'taken@example.com', groups: ['Blue'] }];
      const without = await sync(writeSource('taken.csv', rows), ...more, '--dry-run');
      assert.equal(without.code, 0, without.stderr);
      const r = await sync(writeSource('taken.csv', rows), ...reportFlags(hook.url), ...more);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(hook.got.length, 1);
      const { body } = hook.got[0]!;
      assert.equal(body.status, 'partial');
      // The create fails, and so does R9's membership, which depends on it.
      assert.equal(body.counts['create-user'].failed, 1);
      assert.equal(body.failuresTotal, body.totals.failed);
      assert.equal(body.failures.length, body.failuresTotal);
      const create = body.failures.find((x: Json) => x.kind === 'create-user');
      assert.match(create.detail, /409|uniqueness|exists|taken/i);
      assert.match(body.text, new RegExp(`, ${body.totals.failed} failed `));
    } finally {
      hook.close();
    }
  });

  test('a receiver that is down or answers 500 never fails the sync: one warning, in the run log too', async () => {
    const source = writeSource('all.csv', PEOPLE);
    const plain = await sync(source, '--accept-source-change');
    assert.equal(plain.code, 0, plain.stderr);
    const down = await sync(
      source,
      ...reportFlags(`http://127.0.0.1:${await closedPort()}/hook`),
      '--report-timeout',
      '2',
    );
    assert.equal(down.code, plain.code, down.stderr);
    assert.equal(down.stderr.match(/could not deliver the run report/g)?.length, 1, down.stderr);

    const failing = await receiver(500);
    try {
      const r = await sync(source, ...reportFlags(failing.url));
      assert.equal(r.code, plain.code, r.stderr);
      assert.equal(
        r.stderr.match(/warning: could not deliver the run report to http:\/\/127\.0\.0\.1:\d+: HTTP 500/g)?.length,
        1,
        r.stderr,
      );
      assert.equal(failing.attempts, 4, 'the first attempt and 3 retries');
      assert.ok(!r.stderr.includes('/hooks/scimctl'), 'the webhook path (often its secret) is not shown');
      const runId = readdirSync(join(home.dir, 'data', 'runs'))
        .sort()
        .at(-1)!;
      const log = readFileSync(join(home.dir, 'data', 'runs', runId, 'log.ndjson'), 'utf8');
      assert.match(log, /"level":"warn","message":"could not deliver the run report/);
      for (const [where, t] of [
        ['stderr', r.stderr + down.stderr],
        ['stdout', r.stdout + down.stdout],
        ['the history', allText(join(home.dir, 'data'))],
      ] as const)
        assertNoSecrets(where, t);
    } finally {
      failing.close();
    }
  });

  test('from the config file: a plan-only run reports planned, its metrics count it as a success', async () => {
    const synced = await sync(writeSource('all.csv', PEOPLE), '--accept-source-change');
    assert.equal(synced.code, 0, synced.stderr);
    const hook = await receiver();
    try {
      const prom = join(home.dir, 'planned.prom');
      const config = join(home.dir, 'reports.yaml');
      const R10 = { id: 'R10', email: 'person10@example.com', groups: ['Red'] };
      writeFileSync(
        config,
        [
          'target: main',
          'source:',
          `  file: ${writeSource('more.csv', [...PEOPLE, R10])}`,
          `  mapping: ${mapping}`,
          'options:',
          `  report-url: ${hook.url}`,
          '  report-header: Authorization=env:HOOK_TOKEN',
          `  metrics-file: ${prom}`,
          '',
        ].join('\n'),
      );
      const r = await runCli(['sync', 'plan', '--config', config, '--accept-source-change'], {
        env,
        timeoutMs: 120_000,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(hook.got.length, 1);
      const { body, headers } = hook.got[0]!;
      assert.equal(headers.authorization, `Bearer ${HOOK_SECRET}`);
      assert.equal(body.status, 'planned');
      assert.equal(body.command, 'sync plan');
      assert.equal(body.counts['create-user'].planned, 1);
      assert.equal(body.counts['create-user'].applied, 0);
      assert.equal(body.counts['add-member'].planned, 1);
      assert.equal(body.totals.planned, 2);
      assert.match(body.text, /^scimctl sync plan main: planned: 2 change\(s\) planned, none applied \(run /);
      const m = parseMetrics(readFileSync(prom, 'utf8'));
      assert.equal(m.get(`scimctl_sync_last_success_timestamp_seconds${P}`), Date.parse(body.finishedAt) / 1000);
      assert.equal(m.get(`scimctl_sync_last_run_changes_planned${kind('create-user')}`), 1);
    } finally {
      hook.close();
    }
  });

  test('a run found interrupted (its process gone) is reported by the next run of its profile', async () => {
    const synced = await sync(writeSource('all.csv', PEOPLE), '--accept-source-change');
    assert.equal(synced.code, 0, synced.stderr);
    const grown = [...PEOPLE, { id: 'R11', email: 'person11@example.com', groups: ['Red'] }];
    const applied = await sync(writeSource('grown.csv', grown), '--accept-source-change');
    assert.equal(applied.code, 0, applied.stderr);
    // That run as a killed process leaves it: still "running", its journal half written (here: whole), its pid gone.
    const runs = join(home.dir, 'data', 'runs');
    const last = readdirSync(runs).sort().at(-1)!;
    const dead = '20200101T000000Z-dead';
    cpSync(join(runs, last), join(runs, dead), { recursive: true });
    const record = JSON.parse(readFileSync(join(runs, dead, 'run.json'), 'utf8')) as Json;
    for (const k of ['finishedAt', 'results', 'message']) delete record[k];
    writeFileSync(join(runs, dead, 'run.json'), JSON.stringify({ ...record, id: dead, status: 'running' }));
    rmSync(join(runs, dead, 'results.json'), { force: true });
    const hook = await receiver();
    try {
      const r = await sync(writeSource('grown.csv', grown), ...reportFlags(hook.url));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(hook.got.length, 2, 'the interrupted run and this one');
      const interrupted = hook.got.find((g) => g.body.runId === dead)!.body;
      assert.equal(interrupted.status, 'interrupted');
      assert.match(interrupted.message, /the process \(pid \d+ on .*\) ended during the apply/);
      assert.deepEqual(interrupted.counts['create-user'], { planned: 1, applied: 1, failed: 0, excluded: 0 });
      assert.match(interrupted.text, /^scimctl sync run main: interrupted: /);
      const now = hook.got.find((g) => g.body.runId !== dead)!.body;
      assert.equal(now.status, 'applied');
      assert.equal(now.totals.planned, 0);
    } finally {
      hook.close();
    }
  });

  test('a header value given literally is refused before anything runs, and never echoed', async () => {
    const hook = await receiver();
    try {
      const r = await sync(
        writeSource('all.csv', PEOPLE),
        '--report-url',
        hook.url,
        '--report-header',
        `Authorization=Bearer ${HOOK_SECRET}`,
      );
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--report-header Authorization: a header value is never taken on the command line/);
      assertNoSecrets('stderr', r.stderr + r.stdout);
      assert.equal(hook.attempts, 0);
    } finally {
      hook.close();
    }
  });
});

/**
 * Every error is printed once (issue 14, point 17): the refusal to apply without a terminal and without --yes, a
 * threshold's refusal, and the lists of source problems, in each way they reach an admin (sync run, sync run --json,
 * sync plan, sync apply of a plan file, a source with bad rows, the demo). The built binary against the scimmy server;
 * no line of stderr may appear twice, and each message is counted.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startScimmyServer, type ScimmyServer } from '../support/scimmy-server.ts';
import { runCli, serverEnv, tempHome, type RunResult } from './helpers.ts';

const TOKEN = 'e2e-errors-once-token-9b2c4f';
let server: ScimmyServer;
let home: ReturnType<typeof tempHome>;
let env: Record<string, string>;
/** Two of the server's five users, one with a changed title; two rows share an e-mail (a problem each). */
let source: string;
let badSource: string;

before(async () => {
  server = await startScimmyServer({ token: TOKEN, users: 5 });
  home = tempHome();
  env = { ...serverEnv(server.url, TOKEN, home), SCIMCTL_DATA_DIR: join(home.dir, 'data') };
  const [a, b] = [...server.users.values()] as Array<{ userName: string }>;
  source = join(home.dir, 'people.csv');
  writeFileSync(
    source,
    [
      'userName,title,emails[work].value',
      `${a!.userName},Changed,${a!.userName}`,
      `${b!.userName},Same,${b!.userName}`,
      'twin.one@example.com,X,twin@example.com',
      'twin.two@example.com,Y,twin@example.com',
    ].join('\n') + '\n',
  );
  badSource = join(home.dir, 'bad.csv');
  writeFileSync(badSource, 'userName,active\nok@example.com,true\n,true\nbad@example.com,maybe\n');
});

after(async () => {
  await server.close();
  home.cleanup();
});

const count = (text: string, needle: string | RegExp) =>
  typeof needle === 'string' ? text.split(needle).length - 1 : (text.match(new RegExp(needle, 'g')) ?? []).length;

/** No line of stderr is printed twice. */
function linesOnce(r: RunResult): void {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  const twice = lines.filter((l, i) => lines.indexOf(l) !== i);
  assert.deepEqual(twice, [], `printed twice:\n${r.stderr}`);
}

const sync = (args: string[]) =>
  runCli(['sync', ...args, '--source', source, '--manage-all'], { env, timeoutMs: 60_000 });

describe('every error once', () => {
  test('sync run without a terminal and without --yes: one refusal, each source problem once', async () => {
    const r = await sync(['run']);
    assert.equal(r.code, 2, r.stderr);
    linesOnce(r);
    assert.equal(count(r.stderr, 'refusing to apply'), 1, r.stderr);
    assert.equal(count(r.stderr, 'pass --yes'), 1, r.stderr);
    const all = r.stdout + r.stderr;
    assert.equal(count(all, /people\.csv:4: email "twin@example\.com" is also on/), 1, all);
    assert.equal(count(all, /people\.csv:5: email "twin@example\.com" is also on/), 1, all);
  });

  test('sync run --json: the problems on stderr once, the refusal once', async () => {
    const r = await sync(['run', '--json']);
    assert.equal(r.code, 2, r.stderr);
    linesOnce(r);
    assert.equal(count(r.stderr, 'refusing to apply'), 1, r.stderr);
    assert.equal(count(r.stderr, /people\.csv:4: email "twin@example\.com"/), 1, r.stderr);
  });

  test('a threshold refusal (sync run --yes) and its warning (sync plan): once each', async () => {
    const run = await sync(['run', '--yes', '--max-deletes', '1']);
    assert.equal(run.code, 7, run.stderr);
    linesOnce(run);
    assert.equal(count(run.stderr, 'over the limit of 1'), 1, run.stderr);
    assert.equal(count(run.stderr, 'nothing was applied'), 1, run.stderr);
    const plan = await sync(['plan', '--max-deletes', '1']);
    assert.equal(plan.code, 0, plan.stderr);
    linesOnce(plan);
    assert.equal(count(plan.stderr, 'over the limit of 1'), 1, plan.stderr);
    assert.equal(count(plan.stdout + plan.stderr, /people\.csv:4: email "twin@example\.com"/), 1);
  });

  test('sync apply of a plan file without a terminal and without --yes: one refusal', async () => {
    const file = join(home.dir, 'plan.json');
    const plan = await sync(['plan', '-o', file]);
    assert.equal(plan.code, 0, plan.stderr);
    const r = await runCli(['sync', 'apply', file], { env });
    assert.equal(r.code, 2, r.stderr);
    linesOnce(r);
    assert.equal(count(r.stderr, 'refusing to apply'), 1, r.stderr);
    assert.equal(count(r.stdout + r.stderr, /people\.csv:4: email "twin@example\.com"/), 1);
  });

  test('a source with bad rows: each problem once, nothing sent', async () => {
    const writes = server.requests.filter((q) => q.method !== 'GET').length;
    const r = await runCli(['sync', 'run', '--yes', '--source', badSource], { env });
    assert.equal(r.code, 2, r.stderr);
    linesOnce(r);
    assert.equal(count(r.stderr, 'bad.csv:3'), 1, r.stderr);
    assert.equal(count(r.stderr, 'bad.csv:4'), 1, r.stderr);
    assert.equal(server.requests.filter((q) => q.method !== 'GET').length, writes);
  });

  test('the demo without a terminal: no line twice', async () => {
    const demoHome = tempHome();
    try {
      const r = await runCli(['demo'], {
        env: { ...demoHome.env, SCIMCTL_DATA_DIR: join(demoHome.dir, 'data') },
        timeoutMs: 60_000,
      });
      assert.equal(r.code, 0, r.stderr);
      linesOnce(r);
      assert.equal(count(r.stderr, 'demo server stopped'), 1, r.stderr);
    } finally {
      demoHome.cleanup();
    }
  });
});

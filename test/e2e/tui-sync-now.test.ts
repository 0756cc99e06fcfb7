/**
 * The explorer's "sync now" (runs view, p) on a real terminal against the scimmy server: a
 * run planned there ends with a status and a finish time however the review ends: closed
 * with q (back to the runs), or left open when the explorer quits.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { startScimmyServer, type ScimmyServer } from '../support/scimmy-server.ts';
import { runCli, serverEnv, tempHome } from './helpers.ts';
import { PtyApp } from './pty.ts';

const TOKEN = 'e2e-tui-sync-now-token-7d1e';

interface Run {
  command: string;
  status: string;
  message?: string;
  startedAt: string;
  finishedAt?: string;
}

describe('sync now from the explorer', () => {
  let server: ScimmyServer;
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  let apps: PtyApp[] = [];

  before(async () => {
    server = await startScimmyServer({ token: TOKEN, users: 30, groups: 2 });
    home = tempHome();
    env = { ...home.env, SCIMCTL_DATA_DIR: join(home.dir, 'data'), HR_SCIM_TOKEN: TOKEN };
    // The HR export: the directory as it is, but for one new title.
    const file = join(home.dir, 'hr.json');
    const exported = await runCli(['export', 'users', '-o', file], { env: serverEnv(server.url, TOKEN, home) });
    assert.equal(exported.code, 0, exported.stderr);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { Resources: Array<{ title?: string }> };
    doc.Resources[3]!.title = 'Head of Sync';
    writeFileSync(file, JSON.stringify(doc));
    const add = await runCli(
      ['profile', 'add', 'hr', '--url', server.url, '--token-env', 'HR_SCIM_TOKEN', '--sync-source', file, '--use'],
      { env },
    );
    assert.equal(add.code, 0, add.stderr);
  });
  after(async () => {
    await server.close();
    home.cleanup();
  });
  afterEach(() => {
    for (const a of apps) a.dispose();
    apps = [];
  });

  const runs = async (): Promise<Run[]> => {
    const listed = await runCli(['runs', 'list', '--json'], { env });
    assert.equal(listed.code, 0, listed.stderr);
    return JSON.parse(listed.stdout) as Run[];
  };

  async function review(): Promise<PtyApp> {
    const app = new PtyApp(['tui'], { cols: 120, rows: 40, env });
    apps.push(app);
    await app.waitForText(/USERNAME/i, 30_000);
    app.type('3');
    await app.waitForText(/sync now/);
    app.type('p');
    await app.waitForText('Update users (1)', 30_000);
    return app;
  }

  test(
    'closed with q: back in the runs view, the run is listed as ended (planned, ' +
      'not applied), and nothing was written',
    async () => {
      const writes = server.requests.filter((r) => r.method !== 'GET').length;
      const app = await review();
      app.type('q');
      await app.waitForText('closed the review: nothing applied');
      // The runs view was read again after the run ended: it shows it planned, not running.
      await app.waitForText(/tui sync\s.*planned/);
      assert.doesNotMatch(app.screen(), /tui sync\s.*running/);
      app.type('q');
      assert.equal((await app.waitForExit(20_000)).exitCode, 0);
      const [run] = await runs();
      assert.equal(run!.command, 'tui sync');
      assert.equal(run!.status, 'planned');
      assert.equal(run!.message, 'not applied');
      assert.ok(run!.finishedAt && run!.finishedAt >= run!.startedAt, JSON.stringify(run));
      assert.equal(server.requests.filter((r) => r.method !== 'GET').length, writes);
    },
  );

  test('the explorer quit (Ctrl+C) with the review open: the run still ends, planned and not applied', async () => {
    const before = (await runs()).length;
    const app = await review();
    app.type('\u0003');
    assert.equal((await app.waitForExit(20_000)).exitCode, 0);
    const list = await runs();
    assert.equal(list.length, before + 1);
    const [run] = list;
    assert.equal(run!.command, 'tui sync');
    assert.equal(run!.status, 'planned');
    assert.equal(run!.message, 'not applied');
    assert.ok(run!.finishedAt, JSON.stringify(run));
  });
});

/**
 * The plan review after apply, and the runs view, on a real terminal (80×24, the smallest the
 * explorer is laid out for) against the scimmy server: one change fails at the server (its user
 * was deleted between the plan and the apply), and the outcome is read by moving, filtering to
 * the failures, and opening the server's detail; then the run is opened from the explorer's runs.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { startScimmyServer, type ScimmyServer } from '../support/scimmy-server.ts';
import { runCli, serverEnv, tempHome } from './helpers.ts';
import { PtyApp } from './pty.ts';

const TOKEN = 'e2e-tui-review-done-token-3b9a';
const SIZE = { cols: 80, rows: 24 };

describe('after apply, at 80×24: the review is read by moving; the run opens from the runs view', () => {
  let server: ScimmyServer;
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  let apps: PtyApp[] = [];
  /** The user whose update fails: deleted on the server while the review is open. */
  let gone: { id: string; userName: string };

  before(async () => {
    server = await startScimmyServer({ token: TOKEN, users: 12, groups: 1 });
    home = tempHome();
    env = { ...serverEnv(server.url, TOKEN, home), SCIMCTL_DATA_DIR: join(home.dir, 'data') };
  });
  after(async () => {
    await server.close();
    home.cleanup();
  });
  afterEach(() => {
    for (const a of apps) a.dispose();
    apps = [];
  });

  const open = (args: string[]) => {
    const app = new PtyApp(args, { ...SIZE, env });
    apps.push(app);
    return app;
  };
  /** The key hints: the last line with text. */
  const footer = (app: PtyApp) => app.lines().findLast((l) => l.trim() !== '') ?? '';

  test('a failure is found with f, its server detail with Enter; the footer offers only what works', async () => {
    const file = join(home.dir, 'users.json');
    const exported = await runCli(['export', 'users', '-o', file], { env });
    assert.equal(exported.code, 0, exported.stderr);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as {
      Resources: Array<{ id: string; userName: string; title?: string }>;
    };
    const [a, b, c] = doc.Resources.slice(2, 5) as Array<{ id: string; userName: string; title?: string }>;
    a!.title = 'Title A';
    b!.title = 'Title B';
    c!.title = 'Title C';
    gone = { id: b!.id, userName: b!.userName };
    writeFileSync(file, JSON.stringify(doc));

    const app = open(['sync', 'run', '--source', file]);
    await app.waitForText('Update users (3)', 30_000);
    // Before apply the footer keeps apply in sight, even at 80 columns.
    await app.waitForScreen(() => / a apply/.test(footer(app)));

    // Meanwhile somebody deletes one of the users the plan updates.
    const res = await fetch(`${server.url}/Users/${gone.id}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(res.status, 204);

    app.type('a');
    await app.waitForText('Apply 3 change(s)? Type "yes" and Enter:');
    app.type('yes');
    await app.waitForText('Type "yes" and Enter: yes');
    app.type('\r');
    await app.waitForText(/Done: 2 applied, 1 failed, 0 excluded\./, 30_000);
    await app.waitForText(new RegExp(`\\[✗\\] ~ update user ${gone.userName.replace(/\./g, '\\.')}`));

    // Only what works after apply: moving, the failures, the detail; nothing to include or apply.
    await app.waitForScreen(() => /f failures \/ all/.test(footer(app)));
    assert.doesNotMatch(footer(app), /a apply|include/, footer(app));

    // Moving works: the selection goes down and comes back.
    const selected = () => app.inverseRows()[0];
    const top = selected();
    app.type('j');
    await app.waitForScreen(() => selected() !== top);
    app.type('k');
    await app.waitForScreen(() => selected() === top);

    // f: the failures only.
    app.type('f');
    await app.waitForScreen(() => !/\[✓\]/.test(app.screen()) && /\[✗\]/.test(app.screen()));
    const failedRow = app.lines().findIndex((l) => l.includes('[✗]'));
    await app.waitForScreen(() => selected() === failedRow);

    // Enter: what the server said, in full on a line of its own.
    const said = new RegExp(`^ +Resource ${gone.id} not found`, 'm');
    assert.doesNotMatch(app.screen(), said);
    app.type('\r');
    await app.waitForText(said);

    app.type('f');
    await app.waitForScreen(() => /\[✓\]/.test(app.screen()));
    app.type('q');
    const exit = await app.waitForExit();
    assert.equal(exit.exitCode, 1, 'a change failed: the run is partial');
  });

  test(
    'the runs view: Enter opens the run (its failure with the server detail); q ' + 'closes it, q again quits',
    async () => {
      assert.ok(gone, 'runs after the apply test');
      const app = open(['tui']);
      await app.waitForText(/USERNAME/i, 30_000);
      app.type('3');
      await app.waitForText(/sync run/);
      app.type('\r');
      await app.waitForText(/partial/);
      await app.waitForText(/failures/i);
      await app.waitForText(
        new RegExp(`✗ ~ update user ${gone.userName.replace(/\./g, '\\.')}\n +Resource ${gone.id} not found`),
      );
      app.type('q');
      await app.waitForScreen(() => !/not found/.test(app.screen()) && /sync run/.test(app.screen()));
      app.type('q');
      const exit = await app.waitForExit();
      assert.equal(exit.exitCode, 0);
    },
  );
});

/**
 * `scimctl demo`, the README's "run the main job" command, end to end: without a terminal
 * (plan printed, server stopped), kept running for other commands, and in a real terminal
 * (explorer, sync from the sample HR export, apply, quit).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { laterExport, sampleOrganisation } from '../../src/server/sample.ts';
import { BIN, ROOT, runCli, tempHome, waitFor } from './helpers.ts';
import { PtyApp } from './pty.ts';

const homes: Array<ReturnType<typeof tempHome>> = [];
afterEach(() => {
  for (const h of homes.splice(0)) h.cleanup();
});
function home() {
  const h = tempHome();
  homes.push(h);
  return { ...h, env: { ...h.env, SCIMCTL_DATA_DIR: join(h.dir, 'data') } };
}

/** What the plan must say, from the same generator the demo uses. */
function expectedSummary(): RegExp {
  const org = sampleOrganisation(500, 20);
  const { changes } = laterExport(org);
  const updated = new Set([...changes.retitled, ...changes.moved]).size;
  return new RegExp(
    `^Plan: ${changes.hired.length} to create, ${updated} to update, ` +
      `${changes.left.length} to deactivate, 0 to delete, \\d+ membership changes\\.$`,
    'm',
  );
}

/** Each profile: whether it is the current one. */
async function currentProfiles(env: NodeJS.ProcessEnv): Promise<Record<string, boolean>> {
  const r = await runCli(['profile', 'list', '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  return Object.fromEntries(
    (JSON.parse(r.stdout) as Array<{ name: string; current: boolean }>).map((p) => [p.name, p.current]),
  );
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url);
    return false;
  } catch {
    return true;
  }
}

describe('scimctl demo', () => {
  test(
    'without a terminal: prints the plan for the sample HR export and what to try ' + 'next, then stops its server',
    async () => {
      const h = home();
      const r = await runCli(['demo'], { env: h.env, timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, expectedSummary());
      assert.match(r.stdout, /^- deactivate user /m, 'leavers are deactivated: the demo profile manages these users');
      assert.match(r.stdout, /^\+ create user /m);
      assert.match(r.stdout, /^ {4}~ title: /m);
      assert.match(r.stderr, /What to try next:/);
      assert.match(r.stderr, /scimctl --profile demo users list/);
      const url = /demo server at (\S+) with 500 users \(\d+ inactive\) and 20 groups/.exec(r.stderr)?.[1];
      assert.ok(url, r.stderr);
      assert.match(r.stderr, /demo server stopped/);
      assert.ok(await refused(url), 'nothing listens on the demo port any more');
      const profiles = JSON.parse((await runCli(['profile', 'list', '--json'], { env: h.env })).stdout) as Array<{
        name: string;
        url: string;
      }>;
      assert.deepEqual(
        profiles.map((p) => [p.name, p.url]),
        [['demo', url]],
      );
      assert.ok(existsSync(join(h.dir, 'data', 'demo', 'hr-export.json')));
      assert.doesNotMatch(r.stdout + r.stderr, /Bearer|token [0-9a-f]{16}/i, 'the demo token is never printed');
    },
  );

  test(
    'when the demo stops, its profile is no longer current; a command against the ' +
      'stopped demo says how to start it',
    async () => {
      const h = home();
      const r = await runCli(['demo', '--users', '20'], { env: h.env, timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await currentProfiles(h.env), { demo: false });
      const stopped = await runCli(['--profile', 'demo', 'users', 'list'], { env: h.env });
      assert.equal(stopped.code, 6, stopped.stderr);
      assert.equal(
        stopped.stderr.trim(),
        'scimctl: error: the demo server is not running — start it with `scimctl demo --keep-running`',
      );
      // With another profile current before, that one is current after.
      const add = await runCli(['profile', 'add', 'work', '--url', 'https://scim.example.com/v2', '--token-env', 'T'], {
        env: h.env,
      });
      assert.equal(add.code, 0, add.stderr);
      assert.equal((await runCli(['profile', 'use', 'work'], { env: h.env })).code, 0);
      assert.equal((await runCli(['demo', '--users', '20'], { env: h.env, timeoutMs: 60_000 })).code, 0);
      assert.deepEqual(await currentProfiles(h.env), { demo: false, work: true });
    },
  );

  test(
    '--keep-running: other commands use the demo profile; sync applies the plan; ' + 'Ctrl+C stops it cleanly',
    async () => {
      const h = home();
      const child = spawn(process.execPath, [BIN, 'demo', '--keep-running', '--users', '120'], {
        cwd: ROOT,
        env: { ...process.env, ...h.env, CI: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      let stdout = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        await waitFor(() => stderr.includes('keeps running'), 30_000);
        assert.deepEqual(await currentProfiles(h.env), { demo: true }, 'while it runs, the demo is current');
        // A second demo must not pull the store from under the running one.
        const second = await runCli(['demo'], { env: h.env, timeoutMs: 30_000 });
        assert.equal(second.code, 2, second.stderr);
        assert.match(second.stderr, /a demo is already running \(process \d+\)/);
        const source = join(h.dir, 'data', 'demo', 'hr-export.json');
        const list = await runCli(['--profile', 'demo', 'users', 'list'], { env: h.env });
        assert.equal(list.code, 0, list.stderr);
        assert.equal(list.stdout.trimEnd().split('\n').length, 120);
        const run = await runCli(['--profile', 'demo', 'sync', 'run', '--source', source, '--yes'], {
          env: h.env,
          timeoutMs: 60_000,
        });
        assert.equal(run.code, 0, run.stderr);
        const again = await runCli(['--profile', 'demo', 'sync', 'plan', '--source', source, '--detailed-exitcode'], {
          env: h.env,
        });
        assert.equal(again.code, 0, `a second plan is empty:\n${again.stdout}`);
        const wanted = JSON.parse(readFileSync(source, 'utf8')) as {
          Resources: Array<{ userName: string; title: string }>;
        };
        const someone = wanted.Resources[wanted.Resources.length - 1]!;
        const got = JSON.parse(
          (await runCli(['--profile', 'demo', 'users', 'get', someone.userName, '--json'], { env: h.env })).stdout,
        ) as { title: string };
        assert.equal(got.title, someone.title);
      } finally {
        child.kill('SIGINT');
      }
      assert.equal(await exited, 0, stderr);
      assert.match(stderr, /demo server stopped/);
      assert.match(stdout, /^Plan: /m);
      assert.deepEqual(await currentProfiles(h.env), { demo: false });
    },
  );

  test('in a terminal with --keep-running: closing the explorer leaves the server up until Ctrl+C', async () => {
    const h = home();
    const app = new PtyApp(['demo', '--keep-running', '--users', '40'], { cols: 120, rows: 40, env: h.env });
    try {
      await app.waitForText(/USERNAME/i, 30_000);
      app.type('q');
      await app.waitForScreen(() => app.bufferType === 'normal', 10_000);
      await waitFor(() => /the demo server keeps running/.test(app.raw), 10_000);
      const url = /demo server at (\S+)/.exec(app.raw)?.[1];
      assert.ok(url, 'the demo said where its server was');
      assert.doesNotMatch(app.raw, /demo server stopped/);
      const list = await runCli(['--profile', 'demo', 'users', 'list'], { env: h.env });
      assert.equal(list.code, 0, list.stderr);
      assert.equal(list.stdout.trimEnd().split('\n').length, 40);
      app.type('\x03');
      const exit = await app.waitForExit(10_000);
      assert.equal(exit.exitCode, 0, app.normalLines().join('\n'));
      assert.match(app.raw, /demo server stopped/);
      assert.ok(await refused(url));
      assert.deepEqual(await currentProfiles(h.env), { demo: false });
    } finally {
      app.dispose();
    }
  });

  test(
    'in a terminal: the explorer opens on the sample users; 3, p plans the sync; a ' +
      '+ "yes" applies it; q quits and stops the server',
    async () => {
      const h = home();
      const app = new PtyApp(['demo', '--users', '100'], { cols: 120, rows: 40, env: h.env });
      try {
        await app.waitForText(/USERNAME/i, 30_000);
        assert.equal(app.bufferType, 'alternate');
        app.type('3');
        await app.waitForText(/sync now/);
        app.type('p');
        await app.waitForText('plan review', 30_000);
        assert.match(
          app.screen(),
          /^\d+ to create, \d+ to update, \d+ to deactivate, 0 to delete, \d+ membership changes\.$/m,
        );
        app.type('a');
        await app.waitForText(/Apply \d+ change\(s\)\? Type "yes" and Enter:/);
        app.type('yes');
        app.type('\r');
        await app.waitForText(/Done: \d+ applied, 0 failed/, 60_000);
        app.type('q');
        await app.waitForText(/sync now|USERNAME/i);
        app.type('q');
        const exit = await app.waitForExit(20_000);
        assert.equal(exit.exitCode, 0, app.normalLines().join('\n'));
        assert.equal(app.bufferType, 'normal');
        const url = /demo server at (\S+)/.exec(app.raw)?.[1];
        assert.ok(url, 'the demo said where its server was');
        assert.match(app.raw, /demo server stopped/);
        assert.ok(await refused(url));
      } finally {
        app.dispose();
      }
    },
  );

  test(
    'in a terminal: Ctrl+C while the users are still loading ends at once and ' +
      'cleanly (nothing retried against the stopped server)',
    async () => {
      const h = home();
      const app = new PtyApp(['demo', '--users', '3000'], { cols: 120, rows: 40, env: h.env });
      try {
        await app.waitForText(/USERNAME/i, 30_000);
        app.type('\x03');
        const exit = await app.waitForExit(5_000);
        assert.equal(exit.exitCode, 0, app.normalLines().join('\n'));
        assert.equal(app.bufferType, 'normal');
        assert.equal(app.cursorVisible, true);
        assert.match(app.raw, /demo server stopped/);
        assert.doesNotMatch(app.raw, /retrying|cannot reach/);
      } finally {
        app.dispose();
      }
    },
  );
});

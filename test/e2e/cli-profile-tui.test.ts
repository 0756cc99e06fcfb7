/**
 * `scimctl -p NAME` with no command (issue 14: 12): on a terminal it opens the explorer on that
 * profile, as bare `scimctl` does on the current one. The built binary on a pseudo-terminal.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startScimmyServer, type ScimmyServer } from '../support/scimmy-server.ts';
import { runCli, tempHome } from './helpers.ts';
import { PtyApp } from './pty.ts';

const TOKEN = 'e2e-profile-tui-token-3b7c1d';
let server: ScimmyServer;
let home: ReturnType<typeof tempHome>;
let env: Record<string, string>;

before(async () => {
  server = await startScimmyServer({ token: TOKEN, users: 12, groups: 1 });
  home = tempHome();
  env = { ...home.env, SCIMCTL_DATA_DIR: join(home.dir, 'data'), ACME_TOKEN: TOKEN };
  // The current profile points at nothing; only "acme" reaches the server.
  const broken = await runCli(['profile', 'add', 'broken', '--url', 'http://127.0.0.1:9/scim/v2', '--use'], { env });
  assert.equal(broken.code, 0, broken.stderr);
  const acme = await runCli(['profile', 'add', 'acme', '--url', server.url, '--token-env', 'ACME_TOKEN'], { env });
  assert.equal(acme.code, 0, acme.stderr);
});

after(async () => {
  await server.close();
  home.cleanup();
});

describe('scimctl -p NAME on a terminal', () => {
  for (const args of [
    ['-p', 'acme'],
    ['--profile', 'acme'],
  ]) {
    test(`${args.join(' ')} opens the explorer on that profile`, async () => {
      const app = new PtyApp(args, { env });
      try {
        await app.waitForText(/\[1 users 12\]/, 20_000);
        assert.match(app.screen(), /acme/);
        app.type('q');
        const exit = await app.waitForExit();
        assert.equal(exit.exitCode, 0, app.describe());
      } finally {
        app.dispose();
      }
    });
  }

  test('without a terminal, -p NAME alone prints the help (exit 0)', async () => {
    const r = await runCli(['-p', 'acme'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^scimctl <command> \[options\]/);
  });
});

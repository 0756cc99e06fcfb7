/**
 * Issue 11 (safety): what scimctl prints never carries a secret or a terminal control sequence
 * it was handed, and a .env file cannot quietly point it somewhere else. The built binary, on
 * pipes and on a real pseudo-terminal.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempHome, waitFor } from './helpers.ts';
import { startServe, type ServeProcess } from './serve-helpers.ts';

const TOKEN = 'safety-e2e-token-7c1f93ab52d04e68';

describe('serve --log-requests masks credentials', () => {
  let server: ServeProcess;
  before(async () => {
    server = await startServe({ token: TOKEN, args: ['--log-requests', '--no-fsync'] });
  });
  after(async () => {
    await server?.stop();
    server?.cleanup();
  });

  test('access_token, other credential-looking parameters and the token itself never reach the log', async () => {
    const secret = 'cl1ent-s3cret-value-42';
    await server.request('GET', `/Users?count=1&access_token=${TOKEN}`);
    await server.request('GET', `/Users?client_secret=${secret}&startIndex=1`);
    await server.request('GET', `/Users?filter=${encodeURIComponent(`userName eq "${TOKEN}"`)}`);
    await server.request('GET', `/Users?api_key=${encodeURIComponent(TOKEN.toUpperCase())}`, { auth: 'Bearer wrong-token-value' });
    await waitFor(() => server.stderr().split('\n').filter((l) => /^scimctl: GET /.test(l)).length >= 4);
    const log = server.stderr();
    assert.ok(!log.includes(TOKEN) && !log.toLowerCase().includes(TOKEN.toLowerCase()), log);
    assert.ok(!log.includes(secret), log);
    assert.match(log, /GET \/scim\/v2\/Users\?count=1&access_token=\*\*\* 200/);
    assert.match(log, /GET \/scim\/v2\/Users\?client_secret=\*\*\*&startIndex=1 200/);
    assert.match(log, /GET \/scim\/v2\/Users\?filter=userName%20eq%20%22\*\*\*%22 200/);
    assert.match(log, /GET \/scim\/v2\/Users\?api_key=\*\*\* 401/);
  });
});

describe('a .env in the working directory', () => {
  let server: ServeProcess;
  let home: ReturnType<typeof tempHome>;
  before(async () => {
    server = await startServe({ token: TOKEN, args: ['--no-fsync'] });
    home = tempHome();
  });
  after(async () => {
    await server?.stop();
    server?.cleanup();
    home?.cleanup();
  });

  test('that sets the target URL is announced on stderr, and the command works', async () => {
    writeFileSync(join(home.dir, '.env'), `SCIMCTL_URL=${server.url}\n`);
    const r = await runCli(['users', 'list'], { cwd: home.dir, env: { ...home.env, SCIMCTL_TOKEN: TOKEN } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^scimctl: using SCIMCTL_URL from \\./\\.env \\(${server.url.replace(/[.]/g, '\\.')}\\)$`, 'm'));
    const plain = await runCli(['users', 'list'], { cwd: home.dir, env: { ...home.env, SCIMCTL_URL: server.url, SCIMCTL_TOKEN: TOKEN } });
    assert.equal(plain.code, 0, plain.stderr);
    assert.doesNotMatch(plain.stderr, /\.env/, 'the environment wins, and nothing is announced');
  });

  test('that points a token at plain http on another machine is refused with exit 2, even when it (or the flag) allows insecure http', async () => {
    // 192.0.2.1 (TEST-NET-1) is never reachable: a connection attempt would end in exit 6, not 2.
    writeFileSync(join(home.dir, '.env'), 'SCIMCTL_URL=http://192.0.2.1/scim/v2\nSCIMCTL_ALLOW_INSECURE_HTTP=1\n');
    for (const extra of [[], ['--allow-insecure-http']]) {
      const r = await runCli([...extra, 'users', 'list'], { cwd: home.dir, env: { ...home.env, SCIMCTL_TOKEN: TOKEN }, timeoutMs: 20_000 });
      assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /refusing to send credentials over plain http:\/\/ to 192\.0\.2\.1: SCIMCTL_URL comes from \.\/\.env/);
      assert.match(r.stderr, /a \.env cannot allow insecure http/);
      assert.ok(!r.stderr.includes(TOKEN));
    }
    // The same URL from the environment still needs the flag: the allowance in .env is ignored.
    writeFileSync(join(home.dir, '.env'), 'SCIMCTL_ALLOW_INSECURE_HTTP=1\n');
    const own = await runCli(['users', 'list'], { cwd: home.dir, env: { ...home.env, SCIMCTL_URL: 'http://192.0.2.1/scim/v2', SCIMCTL_TOKEN: TOKEN } });
    assert.equal(own.code, 2, own.stderr);
    assert.match(own.stderr, /refusing plain http:\/\/ to 192\.0\.2\.1/, "the .env did not allow it");
  });
});

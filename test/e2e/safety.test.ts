/**
 * Issue 11 (safety): what scimctl prints never carries a secret or a terminal control sequence
 * it was handed, and a .env file cannot quietly point it somewhere else. The built binary, on
 * pipes and on a real pseudo-terminal.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, runCliInTerminal, serverEnv, tempHome, waitFor } from './helpers.ts';
import { PtyApp } from './pty.ts';
import { URN, startServe, type ServeProcess } from './serve-helpers.ts';

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
    await server.request('GET', `/Users?api_key=${encodeURIComponent(TOKEN.toUpperCase())}`, {
      auth: 'Bearer wrong-token-value',
    });
    await waitFor(
      () =>
        server
          .stderr()
          .split('\n')
          .filter((l) => /^scimctl: GET /.test(l)).length >= 4,
    );
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
    assert.match(
      r.stderr,
      new RegExp(`^scimctl: using SCIMCTL_URL from \\./\\.env \\(${server.url.replace(/[.]/g, '\\.')}\\)$`, 'm'),
    );
    const plain = await runCli(['users', 'list'], {
      cwd: home.dir,
      env: { ...home.env, SCIMCTL_URL: server.url, SCIMCTL_TOKEN: TOKEN },
    });
    assert.equal(plain.code, 0, plain.stderr);
    assert.doesNotMatch(plain.stderr, /\.env/, 'the environment wins, and nothing is announced');
  });

  test(
    'that points a token at plain http on another machine is refused with exit 2, ' +
      'even when it (or the flag) allows insecure http',
    async () => {
      // 192.0.2.1 (TEST-NET-1) is never reachable: a connection attempt would end in exit 6, not 2.
      writeFileSync(join(home.dir, '.env'), 'SCIMCTL_URL=http://192.0.2.1/scim/v2\nSCIMCTL_ALLOW_INSECURE_HTTP=1\n');
      for (const extra of [[], ['--allow-insecure-http']]) {
        const r = await runCli([...extra, 'users', 'list'], {
          cwd: home.dir,
          env: { ...home.env, SCIMCTL_TOKEN: TOKEN },
          timeoutMs: 20_000,
        });
        assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
        assert.match(
          r.stderr,
          /refusing to send credentials over plain http:\/\/ to 192\.0\.2\.1: SCIMCTL_URL comes from \.\/\.env/,
        );
        assert.match(r.stderr, /a \.env cannot allow insecure http/);
        assert.ok(!r.stderr.includes(TOKEN));
      }
      // The same URL from the environment still needs the flag: the allowance in .env is ignored.
      writeFileSync(join(home.dir, '.env'), 'SCIMCTL_ALLOW_INSECURE_HTTP=1\n');
      const own = await runCli(['users', 'list'], {
        cwd: home.dir,
        env: { ...home.env, SCIMCTL_URL: 'http://192.0.2.1/scim/v2', SCIMCTL_TOKEN: TOKEN },
      });
      assert.equal(own.code, 2, own.stderr);
      assert.match(own.stderr, /refusing plain http:\/\/ to 192\.0\.2\.1/, 'the .env did not allow it');
    },
  );
});

describe('terminal output escapes control characters', () => {
  // A displayName that recolours the terminal, sets its title (OSC), clears it with a C1 CSI,
  // and flips the rest of the line (RLO); a title with a hyperlink (OSC 8) and a zero-width space.
  const DISPLAY = 'Eve \u001b[31mRED\u001b[0m\u001b]0;pwned\u0007\u009b2J\u202eflipped';
  const TITLE = 'Boss\u001b]8;;https://evil.test\u0007link\u001b]8;;\u0007\u200b';
  const GROUP = 'Ops \u001b[5mblink\u001b[25m';
  /** The payloads must never reach the terminal raw (the progress bar's own \r\x1b[2K may). */
  const RAW = [/\u001b\[31m/, /\u001b\]0;pwned/, /\u001b\]8;;/, /\u009b/, /\u202e/, /\u001b\[5m/, /\u0007/];
  let server: ServeProcess;
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  const apps: PtyApp[] = [];

  before(async () => {
    server = await startServe({ token: TOKEN, args: ['--no-fsync'] });
    home = tempHome();
    env = serverEnv(server.url, TOKEN, home);
    const u = await server.request('POST', '/Users', {
      body: { schemas: [URN.user], userName: 'eve@escape.test', displayName: DISPLAY, title: TITLE },
    });
    assert.equal(u.status, 201, u.text);
    const g = await server.request('POST', '/Groups', {
      body: { schemas: [URN.group], displayName: GROUP, members: [{ value: u.body.id }] },
    });
    assert.equal(g.status, 201, g.text);
  });
  after(async () => {
    for (const a of apps) a.dispose();
    await server?.stop();
    server?.cleanup();
    home?.cleanup();
  });

  function assertNoRaw(out: string, what: string): void {
    // The colours scimctl itself adds on a terminal (src/output/colour.ts) are not data: only those are set aside.
    const data = out.replace(/\x1b\[(?:31|32|33|39|2|22)m/g, '');
    for (const re of RAW) assert.doesNotMatch(data, re, `${what}: ${JSON.stringify(out.slice(0, 2000))}`);
  }

  test('users list, users get, groups get and groups members on a terminal', async () => {
    const list = await runCliInTerminal(['users', 'list'], 200, { env });
    assert.equal(list.code, 0, list.stdout);
    assertNoRaw(list.stdout, 'users list');
    assert.ok(list.stdout.includes('Eve \\x1b[31mRED\\x1b[0m\\x1b]0;pwned\\x07\\x9b2J<U+202E>flipped'), list.stdout);

    const get = await runCliInTerminal(['users', 'get', 'eve@escape.test'], 200, { env });
    assert.equal(get.code, 0, get.stdout);
    assertNoRaw(get.stdout, 'users get');
    assert.ok(get.stdout.includes('Boss\\x1b]8;;https://evil.test\\x07link'), get.stdout);

    for (const args of [
      ['groups', 'get', GROUP],
      ['groups', 'members', GROUP],
      ['groups', 'list'],
    ]) {
      const r = await runCliInTerminal(args, 200, { env });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stdout}`);
      assertNoRaw(r.stdout, args.join(' '));
      assert.ok(
        r.stdout.includes('\\x1b[5mblink') || r.stdout.includes('Eve \\x1b[31m'),
        `${args.join(' ')}: ${r.stdout}`,
      );
    }
  });

  test('an error message echoing a name, on a terminal', async () => {
    const r = await runCliInTerminal(['users', 'get', 'ghost\u001b]0;pwned\u0007@escape.test'], 200, { env });
    assert.equal(r.code, 5, r.stdout);
    assertNoRaw(r.stdout, 'error');
    assert.match(r.stdout, /ghost\\x1b\]0;pwned\\x07@escape\.test/);
  });

  test(
    'a pipe gets tab-separated rows: control characters escaped the same way, tabs ' + 'and newlines as spaces',
    async () => {
      const r = await runCli(['users', 'list'], { env });
      assert.equal(r.code, 0, r.stderr);
      assertNoRaw(r.stdout, 'pipe');
      const row = r.stdout.split('\n').find((l) => l.includes('eve@escape.test'))!;
      assert.equal(row.split('\t').length, 5);
      assert.ok(row.includes('Eve \\x1b[31mRED'), row);
      const json = JSON.parse((await runCli(['users', 'get', 'eve@escape.test', '--json'], { env })).stdout);
      assert.equal(json.displayName, DISPLAY, '--json keeps the exact value');
    },
  );

  test('a plan on a terminal escapes control characters and marks invisible ones', async () => {
    const csv = join(home.dir, 'hr.csv');
    writeFileSync(
      csv,
      `userName,displayName,title\nadm\u200bin@escape.test,"Mallory \u001b[8mhidden\u001b[28m",CEO\u202eOEC\n`,
    );
    // A userName with an invisible character is refused unless asked for; asked for, the plan marks it.
    const refused = await runCliInTerminal(['sync', 'plan', '--source', csv], 200, { env });
    assert.equal(refused.code, 2, refused.stdout);
    const r = await runCliInTerminal(['sync', 'plan', '--source', csv, '--allow-unusual-names'], 200, { env });
    assert.ok(r.code === 0 || r.code === 3, r.stdout);
    assert.doesNotMatch(r.stdout, /\u001b\[8m|\u202e|\u200b/, JSON.stringify(r.stdout));
    assert.match(r.stdout, /\+ create user adm<U\+200B>in@escape\.test/);
    assert.ok(r.stdout.includes('Mallory \\x1b[8mhidden'), r.stdout);
    assert.ok(r.stdout.includes('CEO<U+202E>OEC'), r.stdout);
  });

  test('the TUI list and detail pane', async () => {
    const app = new PtyApp(['tui'], { cols: 200, rows: 30, env });
    apps.push(app);
    await app.waitForText('eve@escape.test');
    assert.ok(app.screen().includes('Eve \\x1b[31mRED\\x1b[0m\\x1b]0;pwned\\x07\\x9b2J<U+202E>flipped'), app.screen());
    assert.ok(app.screen().includes('groups: Ops \\x1b[5mblink'), app.screen());
    app.type('\r'); // the user's own view: every attribute
    await app.waitForText('Boss\\x1b]8;;https://evil.test\\x07link');
    assertNoRaw(app.raw, 'tui');
  });
});

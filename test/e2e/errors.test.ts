/** Error paths end to end: what an admin sees, and the exit code a script gets. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startScimmyServer, type ScimmyServer } from '../support/scimmy-server.ts';
import { BIN, ROOT, runCli, runCliInTerminal, serverEnv, tempHome, waitFor } from './helpers.ts';

const TOKEN = 'e2e-errors-token-5f3a9c2e7b';
let server: ScimmyServer;
let home: ReturnType<typeof tempHome>;
let env: Record<string, string>;

before(async () => {
  server = await startScimmyServer({ token: TOKEN, users: 30, groups: 2 });
  home = tempHome();
  env = serverEnv(server.url, TOKEN, home);
});

after(async () => {
  await server.close();
  home.cleanup();
});

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('errors', () => {
  test('401: exit 4, says which variable to fix, never prints the token', async () => {
    const badToken = 'wrong-token-7c1d0e9f8a6b5c4d';
    const r = await runCli(['users', 'list'], { env: { ...env, SCIMCTL_TOKEN: badToken } });
    assert.equal(r.code, 4);
    assert.match(r.stderr, /\$SCIMCTL_TOKEN/);
    assert.ok(!r.stderr.includes(badToken) && !r.stdout.includes(badToken));
    assert.equal(r.stdout, '');
  });

  test('401 with a profile names the profile and the command that fixes it', async () => {
    const local = tempHome();
    try {
      const add = await runCli(['profile', 'add', 'acme', '--url', server.url, '--token-stdin'], {
        env: local.env,
        input: 'not-the-right-token-123456\n',
      });
      assert.equal(add.code, 0, add.stderr);
      const r = await runCli(['users', 'list', '--profile', 'acme'], { env: local.env });
      assert.equal(r.code, 4);
      assert.match(r.stderr, /profile "acme"/);
      assert.match(r.stderr, /scimctl profile add acme --url .* --token-stdin/);
      assert.ok(!r.stderr.includes('not-the-right-token-123456'));
    } finally {
      local.cleanup();
    }
  });

  test('server down: exit 6 with "connection refused"', async () => {
    const port = await closedPort();
    const r = await runCli(['users', 'list', '--retries', '0'], {
      env: { ...env, SCIMCTL_URL: `http://127.0.0.1:${port}/scim/v2` },
    });
    assert.equal(r.code, 6);
    assert.match(r.stderr, /connection refused by 127\.0\.0\.1:\d+ \(is the server running\?\)/);
  });

  test('invalid filter: the server detail and a hint, exit 1', async () => {
    const r = await runCli(['users', 'list', '--filter', 'userName zz "x"'], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /400 invalidFilter/);
    assert.match(r.stderr, /rejected the filter/);
  });

  test('a proxy answering with an HTML page is reported as such', async () => {
    server.addFault({
      path: /\/Users/,
      status: 502,
      body: '<html><head><title>502 Bad Gateway</title></head><body><h1>nginx</h1></body></html>',
      contentType: 'text/html',
      times: Infinity,
    });
    try {
      const r = await runCli(['users', 'list', '--retries', '1'], { env });
      assert.equal(r.code, 6);
      assert.match(r.stderr, /expected a JSON response but got text\/html \(HTTP 502\): 502 Bad Gateway/);
      assert.ok(!r.stderr.includes('<h1>'));
    } finally {
      server.clearFaults();
    }
  });

  test('503 with Retry-After is waited out and the listing completes', async () => {
    server.addFault({ path: /\/Users\?/, status: 503, headers: { 'retry-after': '0' }, times: 2 });
    const before = server.requests.length;
    try {
      const r = await runCli(['users', 'list'], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trimEnd().split('\n').length, 30);
      assert.match(r.stderr, /retrying GET \/scim\/v2\/Users .*HTTP 503/);
      assert.ok(server.requests.slice(before).filter((q) => q.faulted).length === 2);
    } finally {
      server.clearFaults();
    }
  });

  test('a server that never answers times out (exit 6)', async () => {
    server.addFault({ path: /\/Users\?/, status: 200, hang: true, times: Infinity });
    try {
      const r = await runCli(['users', 'list', '--timeout', '0.5', '--retries', '1'], { env });
      assert.equal(r.code, 6);
      assert.match(r.stderr, /no response within 0\.5 s/);
    } finally {
      server.clearFaults();
    }
  });

  test('plain http to a non-loopback host is refused before any request (exit 2)', async () => {
    const r = await runCli(['users', 'list'], { env: { ...env, SCIMCTL_URL: 'http://scim.example.com/scim/v2' } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /refusing plain http:\/\/ to scim\.example\.com/);
  });

  test('no configuration at all tells how to add a profile (exit 2)', async () => {
    const r = await runCli(['users', 'list'], { env: home.env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /scimctl profile add NAME/);
  });

  test('unknown commands and flags are usage errors (exit 2)', async () => {
    assert.equal((await runCli(['users', 'lst'], { env })).code, 2);
    assert.equal((await runCli(['users', 'list', '--bogus'], { env })).code, 2);
  });
});

describe('usage errors (issue 14: 14, 17)', () => {
  for (const args of [
    ['users', 'list', '--limit', 'abc'],
    ['users', 'list', '--limit', '-1'],
    ['--timeout', 'abc', 'users', 'list'],
    ['--retries', 'abc', 'users', 'list'],
    ['sync', 'run', '--source', 'users.csv', '--concurrency', '0'],
  ]) {
    test(`${args.join(' ')}: exit 2 naming the option, nothing read`, async () => {
      const r = await runCli(args, { env });
      assert.equal(r.code, 2, r.stderr);
      // The option given a bad value: the last one before a value (--source's is a good one).
      const option = args.filter((a, i) => a.startsWith('--') && i + 1 < args.length).at(-1)!;
      assert.match(r.stderr, new RegExp(`error: ${option} takes `));
      assert.equal(r.stdout, '');
    });
  }

  test('a mistyped command: did you mean, and the hint names the corrected command', async () => {
    const r = await runCli(['userz', 'list'], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command "userz"; did you mean "users"\?/);
    assert.match(r.stderr, /see "scimctl users list --help"/);
    assert.ok(!r.stderr.includes('  --help') && !/see "[^"]*userz/.test(r.stderr), r.stderr);

    const sub = await runCli(['users', 'lsit'], { env });
    assert.match(sub.stderr, /unknown command "lsit"; did you mean "list"\?/);
    assert.match(sub.stderr, /see "scimctl users list --help"/);
  });

  test('a mistyped option: did you mean, once', async () => {
    const r = await runCli(['users', 'list', '--limt', '3'], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option --limt; did you mean --limit\?/);
    assert.equal(r.stderr.match(/error:/g)?.length, 1, r.stderr);
  });

  test('a hint with no command names scimctl itself, without a double space', async () => {
    const r = await runCli(['xyzzy'], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command "xyzzy"/);
    assert.match(r.stderr, /see "scimctl --help"/);
  });
});

describe('a server that is down (issue 14: 15)', () => {
  test('without a terminal: one line per attempt at most, never a MaxListenersExceededWarning', async () => {
    const port = await closedPort();
    const r = await runCli(['users', 'list', '--retries', '3'], {
      env: { ...env, SCIMCTL_URL: `http://127.0.0.1:${port}/scim/v2` },
    });
    assert.equal(r.code, 6);
    const status = r.stderr.split('\n').filter((l) => l.includes('connecting…'));
    // Discovery sends requests in parallel: each attempt is told once, not once per request.
    assert.deepEqual(
      status.map((l) => /attempt (\d+\/\d+)/.exec(l)?.[1]),
      ['2/4', '3/4', '4/4'],
      r.stderr,
    );
    assert.doesNotMatch(r.stderr, /MaxListenersExceeded/);
    assert.equal(r.stderr.match(/error:/g)?.length, 1, r.stderr);
  });

  test('on a terminal: one status line rewritten in place, then the error on a clean line', async () => {
    const port = await closedPort();
    const r = await runCliInTerminal(['users', 'list', '--retries', '2'], 200, {
      env: { ...env, SCIMCTL_URL: `http://127.0.0.1:${port}/scim/v2` },
    });
    assert.equal(r.code, 6, r.stdout);
    assert.match(r.stdout, /\r\x1b\[2Kscimctl: connecting… attempt 2\/3/);
    assert.match(r.stdout, /\r\x1b\[2Kscimctl: connecting… attempt 3\/3/);
    // No status line ends with a line break: each is rewritten by the next, the last cleared for the error.
    assert.doesNotMatch(r.stdout, /connecting…[^\r]*\n/);
    assert.match(r.stdout, /\r\x1b\[2Kscimctl: (\x1b\[31m)?error:(\x1b\[39m)? cannot reach the server/);
    assert.doesNotMatch(r.stdout, /MaxListenersExceeded/);
  });
});

describe('Ctrl+C (issue 14: 16)', () => {
  for (const args of [
    ['users', 'list'],
    ['export', 'users'],
  ]) {
    test(`${args.join(' ')}: SIGINT while a page is awaited ends the run within a second (exit 130)`, async () => {
      // The target never answers its page: the read is under way, and waits.
      server.addFault({ path: /\/Users\?/, status: 200, hang: true, times: Infinity });
      try {
        const seen = server.requests.length;
        const child = spawn(process.execPath, [BIN, ...args, '--retries', '0'], {
          cwd: ROOT,
          env: { ...process.env, ...env },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
        await waitFor(() => server.requests.slice(seen).some((q) => /\/Users\?/.test(q.path)));
        const sent = Date.now();
        child.kill('SIGINT');
        const code = await exited;
        const took = Date.now() - sent;
        assert.equal(code, 130, stderr);
        assert.ok(took < 1000, `exited ${took} ms after SIGINT`);
        assert.match(stderr, /scimctl: interrupted/);
      } finally {
        server.clearFaults();
      }
    });
  }
});

describe('colour (issue 14: 18)', () => {
  const RED_ERROR = '\x1b[31merror:\x1b[39m';
  const GREEN_CREATE = '\x1b[32m+ create user colour.new@example.com';

  test('on a terminal, errors and plan lines are coloured', async () => {
    const usage = await runCliInTerminal(['users', 'lsit'], 120, { env });
    assert.equal(usage.code, 2);
    assert.ok(usage.stdout.includes(RED_ERROR), JSON.stringify(usage.stdout));
    const source = join(home.dir, 'colour.csv');
    writeFileSync(source, 'userName,displayName\ncolour.new@example.com,Colour New\n');
    const plan = await runCliInTerminal(['sync', 'plan', '--source', source], 120, { env: { ...env, CI: 'true' } });
    assert.ok(plan.stdout.includes(GREEN_CREATE), JSON.stringify(plan.stdout.slice(-400)));
  });

  test('off with NO_COLOR, with --no-color, and in pipes', async () => {
    const source = join(home.dir, 'colour.csv');
    writeFileSync(source, 'userName,displayName\ncolour.new@example.com,Colour New\n');
    const runs = [
      await runCliInTerminal(['users', 'lsit'], 120, { env: { ...env, NO_COLOR: '1' } }),
      await runCliInTerminal(['--no-color', 'users', 'lsit'], 120, { env }),
      await runCliInTerminal(['sync', 'plan', '--source', source, '--no-color'], 120, { env: { ...env, CI: 'true' } }),
      await runCli(['users', 'lsit'], { env }),
      await runCli(['sync', 'plan', '--source', source], { env }),
    ];
    for (const r of runs) {
      const all = r.stdout + r.stderr;
      assert.ok(!/\x1b\[3\dm/.test(all), JSON.stringify(all.slice(-400)));
      assert.match(all, /error:|\+ create user colour\.new@example\.com/);
    }
  });
});

describe('names not found (issue 14: 17)', () => {
  test('users get with a mistyped userName suggests the nearest (exit 5)', async () => {
    const userName = ([...server.users.values()] as Array<{ userName: string }>)[0]!.userName;
    const [local, domain] = userName.split('@');
    // One letter of the part before "@" left out, the domain as typed.
    const typo = `${local!.slice(0, 3)}${local!.slice(4)}@${domain}`;
    const r = await runCli(['users', 'get', typo], { env });
    assert.equal(r.code, 5, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `no user matches "${typo.replace(/\./g, '\\.')}"; did you mean "${userName.replace(/\./g, '\\.')}"\\?`,
      ),
    );
    const none = await runCli(['users', 'get', 'qqqqzzzz'], { env });
    assert.equal(none.code, 5);
    assert.doesNotMatch(none.stderr, /did you mean/);
  });
});

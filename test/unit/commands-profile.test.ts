/**
 * The profile commands, run in-process (runCli) with a temporary config directory: what they
 * store, what they show (secrets masked), and `profile test` against an in-memory SCIM server.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ExitCode } from '../../src/commands/exit-codes.ts';
import { cliHarness, type CliHarness } from '../support/cli.ts';

let h: CliHarness;
/** No SCIMCTL_URL: the profiles choose the connection. */
const NO_ENV_TARGET = { SCIMCTL_URL: undefined, SCIMCTL_TOKEN: undefined };
const run = (args: string[], options: Parameters<CliHarness['run']>[1] = {}) =>
  h.run(args, { ...options, env: { ...NO_ENV_TARGET, ...options.env } });

beforeEach(async () => {
  h = await cliHarness();
});
afterEach(() => h.cleanup());

/** The config directory's files, read whole. */
function configText(): string {
  const dir = h.env.SCIMCTL_CONFIG_DIR!;
  return readdirSync(dir)
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
}

describe('profile add, list, show, use and remove', () => {
  test('add stores the profile; the first one becomes current', async () => {
    const r = await run([
      'profile',
      'add',
      'prod',
      '--url',
      'https://scim.example.com/scim/v2',
      '--token-env',
      'PROD_TOKEN',
      '--header',
      'X-Tenant: acme',
      '--timeout',
      '12',
    ]);
    assert.equal(r.code, ExitCode.OK, r.stderr);
    assert.match(r.stderr, /added profile "prod" \(https:\/\/scim\.example\.com\/scim\/v2\), now the current profile/);
    const shown = JSON.parse((await run(['profile', 'show', '--json'])).stdout);
    assert.deepEqual(
      {
        name: shown.name,
        current: shown.current,
        url: shown.url,
        auth: shown.auth,
        headers: shown.headers,
        timeoutMs: shown.timeoutMs,
      },
      {
        name: 'prod',
        current: true,
        url: 'https://scim.example.com/scim/v2',
        auth: { type: 'bearer', tokenEnv: 'PROD_TOKEN' },
        headers: { 'X-Tenant': '***' },
        timeoutMs: 12000,
      },
    );
    const again = await run([
      'profile',
      'add',
      'prod',
      '--url',
      'https://scim.example.com/scim/v2',
      '--token-env',
      'OTHER',
    ]);
    assert.match(again.stderr, /updated profile "prod"/);
  });

  test('a token from stdin is stored but never shown', async () => {
    const token = 'secret-token-abcdef-9876';
    const r = await run(['profile', 'add', 'dev', '--url', 'http://localhost:8080/scim/v2', '--token-stdin'], {
      stdin: `${token}\n`,
    });
    assert.equal(r.code, ExitCode.OK, r.stderr);
    assert.ok(configText().includes(token), 'the token is stored');
    const shown = await run(['profile', 'show', 'dev']);
    assert.equal(shown.code, ExitCode.OK, shown.stderr);
    assert.match(shown.stdout, /^auth:\tbearer token .*9876 \(stored\)$/m);
    assert.match(shown.stdout, /^current:\tyes$/m);
    const listed = await run(['profile', 'list', '--json']);
    assert.doesNotMatch(shown.stdout + listed.stdout + r.stderr, new RegExp(token));
    const empty = await run(['profile', 'add', 'dev2', '--url', 'http://localhost:8080/scim/v2', '--token-stdin'], {
      stdin: '\n',
    });
    assert.equal(empty.code, ExitCode.USAGE);
    assert.match(empty.stderr, /no token on standard input/);
  });

  test('list, use and remove', async () => {
    assert.match((await run(['profile', 'list'])).stderr, /no profiles; add one with/);
    await run([
      'profile',
      'add',
      'a',
      '--url',
      'https://a.example.com/scim/v2',
      '--basic-user',
      'svc',
      '--password-env',
      'A_PASS',
    ]);
    await run(['profile', 'add', 'b', '--url', 'https://b.example.com/scim/v2']);
    const listed = await run(['profile', 'list']);
    assert.deepEqual(
      listed.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.split('\t')),
      [
        ['*', 'a', 'https://a.example.com/scim/v2', 'basic, user svc, password from $A_PASS'],
        ['', 'b', 'https://b.example.com/scim/v2', 'none'],
      ],
    );
    const used = await run(['profile', 'use', 'b']);
    assert.equal(used.code, ExitCode.OK);
    assert.deepEqual(
      (JSON.parse((await run(['profile', 'list', '--json'])).stdout) as any[])
        .filter((p) => p.current)
        .map((p) => p.name),
      ['b'],
    );
    assert.equal((await run(['profile', 'use', 'c'])).code, ExitCode.USAGE);
    const removed = await run(['profile', 'remove', 'a']);
    assert.equal(removed.code, ExitCode.OK);
    assert.match(removed.stderr, /removed profile "a"/);
    assert.deepEqual(
      (JSON.parse((await run(['profile', 'list', '--json'])).stdout) as any[]).map((p) => p.name),
      ['b'],
    );
    const again = await run(['profile', 'remove', 'a']);
    assert.equal(again.code, ExitCode.USAGE);
    assert.match(again.stderr, /no profile named "a"/);
  });

  test('bad input is refused before anything is stored', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['profile', 'add', 'bad name', '--url', 'https://x.example.com'], /may use letters, digits/],
      [['profile', 'add', 'x', '--url', 'http://x.example.com/scim/v2'], /http/],
      [
        ['profile', 'add', 'x', '--url', 'https://x.example.com', '--token-env', 'A', '--basic-user', 'u'],
        /choose one of --token-env, --token-stdin or --basic-user/,
      ],
      [
        ['profile', 'add', 'x', '--url', 'https://x.example.com', '--token-env', 'abc-123-token'],
        /takes the NAME of an environment variable/,
      ],
      [
        ['profile', 'add', 'x', '--url', 'https://x.example.com', '--basic-user', 'u'],
        /--basic-user needs --password-env VAR/,
      ],
      [
        ['profile', 'add', 'x', '--url', 'https://x.example.com', '--header', 'no colon'],
        /must look like "Name: value"/,
      ],
      [['profile', 'add', 'x', '--url', 'https://x.example.com', '--sync-preset', 'omni'], /go with --sync-source/],
      [['profile', 'add', 'x'], /Missing required argument: url/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      assert.equal(r.code, ExitCode.USAGE, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
    }
    assert.match((await run(['profile', 'list'])).stderr, /no profiles/);
    const none = await run(['profile', 'show']);
    assert.equal(none.code, ExitCode.USAGE);
    assert.match(none.stderr, /no current profile/);
  });
});

describe('profile test', () => {
  test('reports the in-memory server usable; the profile named is the one tested', async () => {
    await run(['profile', 'add', 'local', '--url', h.url, '--token-env', 'LOCAL_TOKEN']);
    await run(['profile', 'add', 'other', '--url', 'https://other.example.com/scim/v2', '--use']);
    const r = await run(['profile', 'test', 'local', '--json'], { env: { LOCAL_TOKEN: h.token } });
    assert.equal(r.code, ExitCode.OK, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.profile, 'local');
    assert.equal(report.url, h.url);
    assert.equal(report.ok, true);
    assert.ok(h.requests.length > 0, 'the server was asked');
    // Without --write-probe nothing is written (POST /.search is a read).
    assert.deepEqual(
      h.requests.filter((q) => q.method !== 'GET' && !q.path.endsWith('/.search')),
      [],
    );

    const pipe = await run(['profile', 'test', 'local'], { env: { LOCAL_TOKEN: h.token } });
    assert.equal(pipe.code, ExitCode.OK, pipe.stderr);
    assert.match(pipe.stderr, new RegExp(`${h.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(profile local\\)`));
    assert.ok(
      pipe.stdout
        .trimEnd()
        .split('\n')
        .every((l) => l.split('\t').length === 4),
      'four tab-separated columns per finding',
    );
  });

  test('--write-probe creates and deletes throwaway resources, leaving nothing', async () => {
    await run(['profile', 'add', 'local', '--url', h.url, '--token-env', 'LOCAL_TOKEN']);
    const r = await run(['profile', 'test', '--write-probe', '--json'], { env: { LOCAL_TOKEN: h.token } });
    assert.equal(r.code, ExitCode.OK, r.stderr);
    assert.equal(JSON.parse(r.stdout).writeProbe, true);
    assert.ok(
      h.requests.some((q) => q.method === 'POST' && q.path === '/Users'),
      'a user was created',
    );
    assert.ok(
      h.requests.some((q) => q.method === 'DELETE'),
      'and deleted',
    );
    assert.equal(h.service.store.users.size, 0);
    assert.equal(h.service.store.groups.size, 0);
  });

  test('a wrong token exits 4 and the token is not shown', async () => {
    await run(['profile', 'add', 'local', '--url', h.url, '--token-env', 'LOCAL_TOKEN']);
    const r = await run(['profile', 'test', 'local'], { env: { LOCAL_TOKEN: 'wrong-secret-0000000000' } });
    assert.equal(r.code, ExitCode.AUTH, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /wrong-secret/);
  });
});

describe('profile set, and adding a profile again (issue 14: 13)', () => {
  const URL = 'http://localhost:8080/scim/v2';
  const show = async (name: string) => JSON.parse((await run(['profile', 'show', name, '--json'])).stdout);

  test('set changes one setting and keeps the rest, credentials included', async () => {
    const add = await run(['profile', 'add', 'acme', '--url', URL, '--token-stdin', '--header', 'X-Tenant: a'], {
      stdin: 'token-abcdef-1234\n',
    });
    assert.equal(add.code, ExitCode.OK, add.stderr);
    const set = await run(['profile', 'set', 'acme', '--sync-source', 'people.csv', '--sync-preset', 'scim']);
    assert.equal(set.code, ExitCode.OK, set.stderr);
    assert.match(set.stderr, /profile "acme": changed sync source; the rest kept/);
    const shown = await show('acme');
    assert.deepEqual(shown.auth, { type: 'bearer', token: '***1234' });
    assert.deepEqual(shown.headers, { 'X-Tenant': '***' });
    assert.equal(shown.url, URL);
    assert.match(shown.sync.source, /people\.csv$/);
    assert.equal(shown.sync.preset, 'scim');

    const forget = await run(['profile', 'set', 'acme', '--no-sync']);
    assert.equal(forget.code, ExitCode.OK, forget.stderr);
    assert.equal((await show('acme')).sync, undefined);
    assert.deepEqual((await show('acme')).auth, { type: 'bearer', token: '***1234' });
  });

  test('set refuses an unknown profile and a call that changes nothing (exit 2)', async () => {
    const missing = await run(['profile', 'set', 'nope', '--url', URL]);
    assert.equal(missing.code, ExitCode.USAGE);
    assert.match(missing.stderr, /no profile "nope"; add it with: scimctl profile add nope/);
    await run(['profile', 'add', 'acme', '--url', URL, '--token-env', 'ACME_TOKEN']);
    const nothing = await run(['profile', 'set', 'acme']);
    assert.equal(nothing.code, ExitCode.USAGE);
    assert.match(nothing.stderr, /name a setting to change/);
  });

  test('adding an existing profile again without credentials keeps them, and says so', async () => {
    await run(['profile', 'add', 'acme', '--url', URL, '--token-env', 'ACME_TOKEN']);
    const again = await run(['profile', 'add', 'acme', '--url', 'http://localhost:9090/scim/v2']);
    assert.equal(again.code, ExitCode.OK, again.stderr);
    assert.match(again.stderr, /kept its credentials; .*scimctl profile set acme/);
    assert.doesNotMatch(again.stderr, /sends no credentials/);
    const shown = await show('acme');
    assert.deepEqual(shown.auth, { type: 'bearer', tokenEnv: 'ACME_TOKEN' });
    assert.equal(shown.url, 'http://localhost:9090/scim/v2');
    // New credentials replace the old.
    await run(['profile', 'add', 'acme', '--url', URL, '--token-env', 'OTHER_TOKEN']);
    assert.deepEqual((await show('acme')).auth, { type: 'bearer', tokenEnv: 'OTHER_TOKEN' });
  });
});

/**
 * Connection profiles, the environment and .env, end to end. The server is shared (nothing here
 * writes to it); each test has its own config directory, and adds the profiles it uses itself.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startScimmyServer, type ScimmyServer } from '../support/scimmy-server.ts';
import { runCli, tempHome } from './helpers.ts';

const TOKEN = 'e2e-profile-token-9b8a7c6d5e4f';
let server: ScimmyServer;
const homes: Array<ReturnType<typeof tempHome>> = [];

/** A config and cache directory of the test's own, with no profile yet. */
function freshHome(): ReturnType<typeof tempHome> {
  const home = tempHome();
  homes.push(home);
  return home;
}

/** Adds the profile "prod" for the shared server, token given on stdin: the current profile afterwards. */
async function addProd(home: ReturnType<typeof tempHome>) {
  return runCli(['profile', 'add', 'prod', '--url', server.url, '--token-stdin'], {
    env: home.env,
    input: `${TOKEN}\n`,
  });
}

before(async () => {
  server = await startScimmyServer({ token: TOKEN, users: 12, groups: 1 });
});

after(async () => {
  await server.close();
  for (const home of homes) home.cleanup();
});

describe('profiles', () => {
  test('add with --token-stdin stores the token in a 0600 file and never shows it', async () => {
    const home = freshHome();
    const add = await addProd(home);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stderr, /added profile "prod".*now the current profile/);
    const file = join(home.env.SCIMCTL_CONFIG_DIR!, 'config.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(readFileSync(file, 'utf8').includes(TOKEN));

    for (const args of [
      ['profile', 'show'],
      ['profile', 'show', 'prod', '--json'],
      ['profile', 'list'],
      ['profile', 'list', '--json'],
    ]) {
      const r = await runCli(args, { env: home.env });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!r.stdout.includes(TOKEN) && !r.stderr.includes(TOKEN), `${args.join(' ')} leaked the token`);
      assert.match(r.stdout, /prod/);
    }
    const show = await runCli(['profile', 'show', 'prod'], { env: home.env });
    assert.ok(show.stdout.includes(`bearer token ***${TOKEN.slice(-4)} (stored)`), show.stdout);
  });

  test('the current profile is used without flags; test prints capabilities', async () => {
    const home = freshHome();
    const prod = await addProd(home);
    assert.equal(prod.code, 0, prod.stderr);
    const list = await runCli(['users', 'list'], { env: home.env });
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout.trimEnd().split('\n').length, 12);

    const t = await runCli(['profile', 'test'], { env: home.env });
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stderr, /http:\/\/127\.0\.0\.1:\d+\/scim\/v2 \(profile prod\)/);
    assert.match(t.stdout, /^connection\tok\treads \/Users with these credentials \(12 users\)/m);
    assert.match(t.stdout, /^ServiceProviderConfig\tok\tpublished: PATCH, .*filter \(max \d+ results\)/m);
    const json = JSON.parse((await runCli(['profile', 'test', 'prod', '--json'], { env: home.env })).stdout) as {
      profile: string;
      capabilities: { source: string };
    };
    assert.equal(json.profile, 'prod');
    assert.equal(json.capabilities.source, 'discovered');
  });

  test('--token-env reads the token at run time; --profile picks a profile; use and remove', async () => {
    const home = freshHome();
    const add = await runCli(['profile', 'add', 'staging', '--url', server.url, '--token-env', 'STAGING_SCIM_TOKEN'], {
      env: home.env,
    });
    assert.equal(add.code, 0, add.stderr);
    const missing = await runCli(['users', 'list', '--profile', 'staging'], { env: home.env });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /\$STAGING_SCIM_TOKEN, which is not set/);
    const ok = await runCli(['users', 'list', '-p', 'staging'], { env: { ...home.env, STAGING_SCIM_TOKEN: TOKEN } });
    assert.equal(ok.code, 0, ok.stderr);

    assert.equal((await runCli(['profile', 'use', 'staging'], { env: home.env })).code, 0);
    const show = await runCli(['profile', 'show', '--json'], { env: home.env });
    assert.equal((JSON.parse(show.stdout) as { name: string; current: boolean }).name, 'staging');
    assert.equal((await runCli(['profile', 'remove', 'staging'], { env: home.env })).code, 0);
    const gone = await runCli(['profile', 'use', 'staging'], { env: home.env });
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /no profile named "staging"/);
  });

  test('add refuses plain http to another host, and a token given where a variable name belongs', async () => {
    const home = freshHome();
    const insecure = await runCli(['profile', 'add', 'x', '--url', 'http://scim.example.com/v2', '--token-env', 'X'], {
      env: home.env,
    });
    assert.equal(insecure.code, 2);
    assert.match(insecure.stderr, /--allow-insecure-http/);
    const withFlag = await runCli(
      ['profile', 'add', 'x', '--url', 'http://scim.example.com/v2', '--token-env', 'X', '--allow-insecure-http'],
      { env: home.env },
    );
    assert.equal(withFlag.code, 0, withFlag.stderr);
    const tokenAsName = await runCli(['profile', 'add', 'y', '--url', server.url, '--token-env', 'abc.def-ghi'], {
      env: home.env,
    });
    assert.equal(tokenAsName.code, 2);
  });

  test('SCIMCTL_URL and SCIMCTL_TOKEN from a .env file work without any profile', async () => {
    const dir = tempHome();
    try {
      writeFileSync(join(dir.dir, '.env'), `SCIMCTL_URL=${server.url}\nSCIMCTL_TOKEN=${TOKEN}\nOTHER=ignored\n`);
      const r = await runCli(['users', 'list', '--limit', '2'], { env: dir.env, cwd: dir.dir });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trimEnd().split('\n').length, 2);
    } finally {
      dir.cleanup();
    }
  });
});

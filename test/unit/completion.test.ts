/**
 * Shell completion: the hidden completer (`scimctl __complete WORD… CURRENT`), run in-process, answers from the
 * command tree as registered (commands, subcommands, options, choices) and from the profile store (profile names).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ExitCode } from '../../src/commands/exit-codes.ts';
import { cliHarness, type CliHarness } from '../support/cli.ts';

let h: CliHarness;

beforeEach(async () => {
  h = await cliHarness();
  for (const name of ['alpha', 'beta', 'prod-eu'])
    assert.equal(
      (await h.run(['profile', 'add', name, '--url', `https://${name}.example.com/scim/v2`, '--token-env', 'T'])).code,
      ExitCode.OK,
    );
});
afterEach(() => h.cleanup());

/** The candidates for the last word (what is being typed) after the others. */
async function complete(...words: string[]): Promise<string[]> {
  const r = await h.run(['__complete', '--', ...words]);
  assert.equal(r.code, ExitCode.OK, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout === '' ? [] : r.stdout.trimEnd().split('\n');
}

describe('scimctl __complete', () => {
  test('commands at the top, and those starting with what is typed', async () => {
    const top = await complete('');
    for (const c of ['users', 'groups', 'export', 'sync', 'runs', 'tui', 'serve', 'demo', 'profile', 'completion'])
      assert.ok(top.includes(c), `${c} missing from ${top.join(' ')}`);
    assert.ok(!top.includes('__complete'));
    assert.deepEqual(await complete('sy'), ['sync']);
    assert.deepEqual(await complete('p'), ['profile']);
  });

  test("a noun's subcommands, after global options too", async () => {
    assert.deepEqual((await complete('sync', '')).sort(), ['apply', 'plan', 'run', 'show']);
    assert.deepEqual(await complete('sync', 'a'), ['apply']);
    assert.deepEqual(await complete('--profile', 'alpha', 'sync', 'sh'), ['show']);
    assert.deepEqual(await complete('-p', 'alpha', 'users', 'bulk'), ['bulk-create']);
  });

  test("a subcommand's options, with the global ones, and --no- for booleans that are on by default", async () => {
    const plan = await complete('sync', 'plan', '--');
    for (const o of ['--source', '--mapping', '--output', '--json', '--max-deletes', '--profile', '--help'])
      assert.ok(plan.includes(o), `${o} missing from ${plan.join(' ')}`);
    assert.ok(!plan.includes('--yes'), 'sync plan has no --yes');
    assert.deepEqual(await complete('sync', 'plan', '--ma'), [
      '--manage-all',
      '--mapping',
      '--match-keys',
      '--max-deletes',
      '--max-group-deletes',
      '--max-membership-removals',
    ]);
    assert.ok((await complete('sync', 'run', '--')).includes('--yes'));
    assert.deepEqual(await complete('users', 'bulk-create', 'people.csv', '--no-b'), ['--no-bulk']);
    assert.deepEqual(await complete('users', 'list', '--no-c'), ['--no-color']);
  });

  test('profile names after -p and --profile (and --profile=), read from the profiles as they are now', async () => {
    assert.deepEqual(await complete('-p', ''), ['alpha', 'beta', 'prod-eu']);
    assert.deepEqual(await complete('--profile', 'p'), ['prod-eu']);
    assert.deepEqual(await complete('users', 'list', '--profile', 'b'), ['beta']);
    assert.deepEqual(await complete('--profile='), ['--profile=alpha', '--profile=beta', '--profile=prod-eu']);
    assert.deepEqual(await complete('profile', 'use', ''), ['alpha', 'beta', 'prod-eu']);
    assert.deepEqual(await complete('profile', 'add', ''), []);
    // A profile added since completes at once: nothing to regenerate.
    await h.run(['profile', 'add', 'gamma', '--url', 'https://gamma.example.com', '--token-env', 'T']);
    assert.deepEqual(await complete('-p', 'g'), ['gamma']);
  });

  test("an option's choices and a positional's choices; nothing where a file name is wanted", async () => {
    assert.deepEqual(await complete('sync', 'plan', '--mode', ''), ['full', 'attributes', 'groups']);
    assert.deepEqual(await complete('export', ''), ['users', 'groups']);
    assert.deepEqual(await complete('completion', ''), ['bash', 'zsh', 'fish']);
    assert.deepEqual(await complete('sync', 'plan', '--source', ''), []);
    assert.deepEqual(await complete('sync', 'show', ''), []);
  });

  test('nothing is sent to the server', async () => {
    const before = h.requests.length;
    await complete('users', 'get', '');
    await complete('-p', '');
    assert.equal(h.requests.length, before);
  });
});

describe('scimctl completion', () => {
  test('prints a script for bash, zsh and fish that calls back scimctl __complete', async () => {
    for (const shell of ['bash', 'zsh', 'fish']) {
      const r = await h.run(['completion', shell]);
      assert.equal(r.code, ExitCode.OK, r.stderr);
      assert.match(r.stdout, /scimctl __complete --/, shell);
    }
    const bad = await h.run(['completion', 'tcsh']);
    assert.equal(bad.code, ExitCode.USAGE);
    assert.match(bad.stderr, /bash, zsh, fish|"bash", "zsh", "fish"/);
  });
});

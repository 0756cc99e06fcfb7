/**
 * Shell completion end to end: the bash script the built binary prints is valid bash, and its completion function,
 * run the way bash runs it on Tab (COMP_WORDS, COMP_CWORD), gets its candidates from the scimctl on the PATH:
 * commands, subcommands, options and profile names (added after the script was made); file names where scimctl has
 * none.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, runCli, tempHome } from './helpers.ts';

let home: ReturnType<typeof tempHome>;
let script: string;
/** A PATH whose `scimctl` is the built binary. */
let path: string;

before(async () => {
  home = tempHome();
  const bin = join(home.dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'scimctl'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`);
  chmodSync(join(bin, 'scimctl'), 0o755);
  path = `${bin}:${process.env.PATH ?? ''}`;
  const r = await runCli(['completion', 'bash'], { env: home.env });
  assert.equal(r.code, 0, r.stderr);
  script = join(home.dir, 'scimctl.bash');
  writeFileSync(script, r.stdout);
});

after(() => home.cleanup());

/** What bash offers for the command line `words` (the last one being typed), via the script's function. */
function tab(...words: string[]): string[] {
  const r = spawnSync(
    'bash',
    [
      '-c',
      `source "$1"; shift; COMP_WORDS=(scimctl "$@"); COMP_CWORD=$#; ` +
        `_scimctl_complete; printf '%s\\n' "\${COMPREPLY[@]}"`,
      'tab',
      script,
      ...words,
    ],
    { env: { ...process.env, ...home.env, PATH: path }, cwd: home.dir, encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

describe('completion bash', () => {
  test('the script is valid bash', () => {
    const r = spawnSync('bash', ['-n', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  test('Tab completes commands, subcommands, options and profile names', async () => {
    assert.deepEqual(tab('sy'), ['sync']);
    assert.deepEqual(tab('sync', '').sort(), ['apply', 'plan', 'run', 'show']);
    assert.deepEqual(tab('sync', 'plan', '--so'), ['--source', '--source-filter']);
    for (const name of ['staging', 'prod']) {
      const r = await runCli(['profile', 'add', name, '--url', `https://${name}.example.com`, '--token-env', 'T'], {
        env: home.env,
      });
      assert.equal(r.code, 0, r.stderr);
    }
    assert.deepEqual(tab('-p', ''), ['prod', 'staging']);
    assert.deepEqual(tab('users', 'list', '--profile', 'st'), ['staging']);
  });

  test('where scimctl has no candidates, file names', () => {
    writeFileSync(join(home.dir, 'plan-one.json'), '{}');
    assert.deepEqual(tab('sync', 'show', 'plan-'), ['plan-one.json']);
  });
});

/** Whether a shell is installed (zsh and fish often are not: their checks are skipped then). */
const installed = (shell: string) => spawnSync(shell, ['-c', 'exit 0']).status === 0;

describe('completion zsh and fish', () => {
  test(
    'the zsh script is valid zsh, and its function offers what scimctl __complete says',
    { skip: !installed('zsh') },
    async () => {
      const r = await runCli(['completion', 'zsh'], { env: home.env });
      assert.equal(r.code, 0, r.stderr);
      const file = join(home.dir, '_scimctl');
      writeFileSync(file, r.stdout);
      assert.equal(spawnSync('zsh', ['-n', file]).status, 0);
      // compadd and _files stand in for zsh's completion system: they print what they are handed.
      const run = spawnSync(
        'zsh',
        [
          '-f',
          '-c',
          'compdef() { :; }; compadd() { shift 2; print -l -- "$@"; }; _files() { print FILES; }; source "$1"; ' +
            'words=(scimctl sync ""); CURRENT=3; _scimctl; words=(scimctl sync show pl); CURRENT=4; _scimctl',
          'zsh',
          file,
        ],
        { env: { ...process.env, ...home.env, PATH: path }, encoding: 'utf8', timeout: 30_000 },
      );
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(run.stdout.trim().split('\n').sort(), ['FILES', 'apply', 'plan', 'run', 'show']);
    },
  );

  test(
    'the fish script is valid fish, and completes from scimctl __complete',
    { skip: !installed('fish') },
    async () => {
      const r = await runCli(['completion', 'fish'], { env: home.env });
      assert.equal(r.code, 0, r.stderr);
      const file = join(home.dir, 'scimctl.fish');
      writeFileSync(file, r.stdout);
      assert.equal(spawnSync('fish', ['-n', file]).status, 0);
      const run = spawnSync('fish', ['-c', `source '${file}'; complete -C'scimctl sync pl'; complete -C'scimctl sy'`], {
        env: { ...process.env, ...home.env, PATH: path },
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(run.stdout.trim().split('\n'), ['plan', 'sync']);
    },
  );
});

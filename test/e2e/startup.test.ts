/**
 * Start-up does only the work the command needs. Timing is the benchmark's job (bench/run.ts
 * startup); this checks the mechanism, which a stray eager import would undo: help and usage
 * errors never evaluate string-width (an Intl.Segmenter and Unicode regular expressions,
 * ~20 ms of a ~90 ms start). That output with wide characters still gets the real width rules
 * is checked by test/unit/string-width.test.ts and by the terminal table in read.test.ts.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, tempHome } from './helpers.ts';

let home: ReturnType<typeof tempHome>;
let env: Record<string, string>;

before(() => {
  home = tempHome();
  // Preloaded into scimctl: counts the Intl.Segmenter objects made, reported on exit.
  const hook = join(home.dir, 'count-segmenters.mjs');
  writeFileSync(
    hook,
    `const Original = Intl.Segmenter;
let made = 0;
Intl.Segmenter = class extends Original { constructor(...args) { super(...args); made++; } };
process.on('exit', () => process.stderr.write('segmenters=' + made + '\\n'));
`,
  );
  env = { ...home.env, NODE_OPTIONS: `--import=${hook}` };
});

after(() => home.cleanup());

const segmenters = (stderr: string) => Number(/segmenters=(\d+)/.exec(stderr)?.[1]);

describe('start-up', () => {
  test("--help, a noun's --help and a usage error do not evaluate string-width", async () => {
    const help = await runCli(['--help'], { env });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^scimctl <command> \[options\]/);
    assert.equal(segmenters(help.stderr), 0);

    const users = await runCli(['users', '--help'], { env });
    assert.equal(users.code, 0, users.stderr);
    assert.match(users.stdout, /scimctl users list/);
    assert.equal(segmenters(users.stderr), 0);

    const usage = await runCli(['users', 'lisst'], { env });
    assert.equal(usage.code, 2);
    assert.equal(segmenters(usage.stderr), 0);
  });
});

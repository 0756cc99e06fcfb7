/**
 * Colour where it helps (issue 14 point 18): `error:` red and `warning:` yellow on stderr when stderr is a
 * terminal (whatever stdout is), ✓/✗ in results green/red on a terminal; none in pipes, with NO_COLOR or
 * --no-color.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ExitCode } from '../../src/commands/exit-codes.ts';
import { createFactory } from '../../src/commands/factory.ts';
import { colourLabel, colourMark, stderrColour } from '../../src/output/colour.ts';
import { cliHarness, testStreams, type CliHarness } from '../support/cli.ts';

const RED = '\x1b[31m';
const GREEN = '\x1b[32m';
const YELLOW = '\x1b[33m';
const ESC = /\x1b\[[\d;]*m/;
/** Text as a regular expression that matches it exactly. */
const re = (s: string) => s.replace(/[[\]\\^$.*+?()|{}]/g, '\\$&');

describe('the colour decisions', () => {
  test('stderr colour reads stderr: on with stderr a terminal though stdout is a pipe; off when it is not', () => {
    const base = { color: false, isStderrTTY: true };
    assert.equal(stderrColour({ ...base, stderrColor: true }), true, 'stdout piped, stderr a terminal');
    assert.equal(stderrColour({ color: true, isStderrTTY: false, stderrColor: false }), false, 'stderr piped');
    assert.equal(stderrColour({ color: true, isStderrTTY: true }), true, 'streams without their own decision');
    assert.equal(stderrColour({ color: true, isStderrTTY: false }), false);
  });

  test('labels and marks', () => {
    assert.equal(colourLabel(true, 'error: boom'), `${RED}error:\x1b[39m boom`);
    assert.equal(colourLabel(true, 'warning: careful'), `${YELLOW}warning:\x1b[39m careful`);
    assert.equal(colourLabel(true, 'no warning: here'), 'no warning: here');
    assert.equal(colourLabel(false, 'error: boom'), 'error: boom');
    assert.equal(colourMark(true, '✓ created  ann'), `${GREEN}✓\x1b[39m created  ann`);
    assert.equal(colourMark(true, '✗ failed  bob'), `${RED}✗\x1b[39m failed  bob`);
    assert.equal(colourMark(false, '✗ failed'), '✗ failed');
  });

  test('a warning logged through the factory is yellow on a colour terminal, plain elsewhere', () => {
    const tty = testStreams({ tty: true, color: true });
    createFactory(tty.io, {}, {}).log('warning: the server did not keep title as sent');
    assert.equal(tty.stderr(), `scimctl: ${YELLOW}warning:\x1b[39m the server did not keep title as sent\n`);
    const pipe = testStreams({ tty: false });
    createFactory(pipe.io, {}, {}).log('warning: x');
    assert.equal(pipe.stderr(), 'scimctl: warning: x\n');
    // stderr a terminal, stdout a pipe: the warning is still coloured (stderr decides).
    const split = testStreams({ tty: false });
    createFactory({ ...split.io, isStderrTTY: true, stderrColor: true }, {}, {}).log('warning: y');
    assert.match(split.stderr(), new RegExp(`^scimctl: ${re(YELLOW)}warning:`));
  });
});

describe('colour in commands', () => {
  let h: CliHarness;
  beforeEach(async () => {
    h = await cliHarness();
  });
  afterEach(() => h.cleanup());

  test('results on a terminal: ✓ green, ✗ red; no colour with --no-color or in a pipe', async () => {
    await h.scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'ann@x.org' });
    const args = ['users', 'activate', 'nobody@x.org', 'ann@x.org'];
    const tty = await h.run(args, { tty: true, color: true, columns: 120 });
    assert.equal(tty.code, ExitCode.NOT_FOUND);
    assert.match(tty.stdout, new RegExp(`^${re(GREEN)}✓\\x1b\\[39m updated +ann@x\\.org`, 'm'));
    assert.match(tty.stdout, new RegExp(`^${re(RED)}✗\\x1b\\[39m not-found +nobody@x\\.org`, 'm'));
    const plain = await h.run([...args, '--no-color'], { tty: true, color: true, columns: 120 });
    assert.match(plain.stdout, /^✓ (updated|unchanged) +ann@x\.org/m);
    assert.doesNotMatch(plain.stdout + plain.stderr, ESC);
    const pipe = await h.run(args);
    assert.doesNotMatch(pipe.stdout + pipe.stderr, /[✓✗]|\x1b\[[\d;]*m/);
  });

  test('errors are red on a colour terminal, plain with --no-color', async () => {
    const tty = await h.run(['users', 'get', 'nobody@x.org'], { tty: true, color: true });
    assert.equal(tty.code, ExitCode.NOT_FOUND);
    assert.match(tty.stderr, new RegExp(`^scimctl: ${re(RED)}error:`, 'm'));
    const plain = await h.run(['users', 'get', 'nobody@x.org', '--no-color'], { tty: true, color: true });
    assert.doesNotMatch(plain.stderr, ESC);
  });
});

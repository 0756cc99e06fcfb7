/**
 * The groups commands, run in-process (runCli) against an in-memory SCIM server: their output,
 * exit codes and what they leave on the server.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ExitCode } from '../../src/commands/exit-codes.ts';
import { cliHarness, type CliHarness } from '../support/cli.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

let h: CliHarness;
beforeEach(async () => {
  h = await cliHarness();
});
afterEach(() => h.cleanup());

async function add(path: '/Users' | '/Groups', body: Record<string, unknown>): Promise<string> {
  const r = await h.scim('POST', path, body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id as string;
}

/** Member ids of a group as the server has them, sorted. */
async function membersOf(id: string): Promise<string[]> {
  const r = await h.scim('GET', `/Groups/${id}`);
  return ((r.body.members ?? []) as Array<{ value: string }>).map((m) => m.value).sort();
}

async function seed() {
  const ann = await add('/Users', { schemas: [USER], userName: 'ann@example.com' });
  const bob = await add('/Users', { schemas: [USER], userName: 'bob@example.com' });
  const eng = await add('/Groups', { schemas: [GROUP], displayName: 'Engineering', members: [{ value: ann }] });
  const ops = await add('/Groups', { schemas: [GROUP], displayName: 'Operations' });
  return { ann, bob, eng, ops };
}

describe('groups list, get and members', () => {
  test('list: a row per group with its member count; --filter and --json', async () => {
    const { eng, ops } = await seed();
    const r = await h.run(['groups', 'list']);
    assert.equal(r.code, ExitCode.OK, r.stderr);
    assert.deepEqual(
      r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.split('\t')),
      [
        [eng, 'Engineering', '1'],
        [ops, 'Operations', '0'],
      ],
    );
    const json = await h.run(['groups', 'list', '--filter', 'displayName eq "Operations"', '--json']);
    assert.deepEqual(
      (JSON.parse(json.stdout) as any[]).map((g) => g.id),
      [ops],
    );
    const none = await h.run(['groups', 'list', '--filter', 'displayName eq "Nobody"']);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /no groups match the filter/);
  });

  test('get by displayName; an unknown group exits 5', async () => {
    const { eng } = await seed();
    const r = await h.run(['groups', 'get', 'Engineering', '--json']);
    assert.equal(r.code, ExitCode.OK, r.stderr);
    assert.equal(JSON.parse(r.stdout).id, eng);
    const missing = await h.run(['groups', 'get', 'Marketing']);
    assert.equal(missing.code, ExitCode.NOT_FOUND);
  });

  test('get on a terminal names the members (userName), looking up those the server gives no display for', async () => {
    const { ann, bob, eng } = await seed();
    await h.scim('PUT', `/Groups/${eng}`, {
      schemas: [GROUP],
      displayName: 'Engineering',
      members: [{ value: ann }, { value: bob }],
    });
    const tty = await h.run(['groups', 'get', 'Engineering'], { tty: true, columns: 140 });
    assert.equal(tty.code, ExitCode.OK, tty.stderr);
    const rows = tty.stdout.split('\n').filter((l) => /^members\[/.test(l));
    assert.equal(rows.length, 2, tty.stdout);
    assert.match(rows.join('\n'), new RegExp(`members\\[\\d\\] +ann@example\\.com +.*value=${ann}`));
    assert.match(rows.join('\n'), new RegExp(`members\\[\\d\\] +bob@example\\.com +.*value=${bob}`));
    // In a pipe, the output stays as the server gave it: no look-ups.
    const before = h.requests.length;
    const pipe = await h.run(['groups', 'get', 'Engineering']);
    assert.equal(pipe.code, ExitCode.OK);
    assert.doesNotMatch(pipe.stdout, /^members\[\d\]\tann@example\.com/m);
    assert.equal(
      h.requests.slice(before).filter((q) => q.path.startsWith('/Users/')).length,
      0,
      'no user is read without a terminal',
    );
  });

  test('members: one row per member; an empty group says so', async () => {
    const { ann } = await seed();
    const r = await h.run(['groups', 'members', 'Engineering']);
    assert.equal(r.code, ExitCode.OK, r.stderr);
    assert.equal(r.stdout.split('\t')[0], ann);
    assert.equal(r.stdout.trimEnd().split('\n').length, 1);
    const json = await h.run(['groups', 'members', 'Engineering', '--json']);
    assert.deepEqual(
      (JSON.parse(json.stdout) as any[]).map((m) => m.value),
      [ann],
    );
    const empty = await h.run(['groups', 'members', 'Operations']);
    assert.equal(empty.stdout, '');
    assert.match(empty.stderr, /group "Operations" has no members/);
  });
});

describe('groups create and rename', () => {
  test('create with members; a second group of the same name is refused', async () => {
    const { ann, bob } = await seed();
    const r = await h.run([
      'groups',
      'create',
      'Sales',
      '--member',
      'ann@example.com',
      '--member',
      bob,
      '--external-id',
      'S-1',
      '--json',
    ]);
    assert.equal(r.code, ExitCode.OK, r.stderr);
    const id = JSON.parse(r.stdout).id as string;
    assert.deepEqual(await membersOf(id), [ann, bob].sort());
    assert.equal((await h.scim('GET', `/Groups/${id}`)).body.externalId, 'S-1');
    assert.match(r.stderr, /created group Sales .* with 2 member\(s\)/);
    const again = await h.run(['groups', 'create', 'Sales']);
    assert.equal(again.code, ExitCode.USAGE);
    assert.match(again.stderr, /a group named "Sales" already exists/);
    const unknown = await h.run(['groups', 'create', 'Support', '--member', 'nobody@example.com']);
    assert.equal(unknown.code, ExitCode.NOT_FOUND);
    assert.equal(h.service.store.groups.size, 3, 'no group made with an unknown member');
  });

  test('rename shows the change; the same name changes nothing', async () => {
    const { ops } = await seed();
    const r = await h.run(['groups', 'rename', 'Operations', 'Platform']);
    assert.equal(r.code, ExitCode.OK, r.stderr);
    assert.equal(r.stdout, `~ ${ops}\n    ~ displayName: "Operations" → "Platform"\n`);
    assert.equal((await h.scim('GET', `/Groups/${ops}`)).body.displayName, 'Platform');
    const same = await h.run(['groups', 'rename', 'Platform', 'Platform']);
    assert.equal(same.stdout, '');
    assert.match(same.stderr, /already named "Platform"/);
    const empty = await h.run(['groups', 'rename', 'Platform', ' ']);
    assert.equal(empty.code, ExitCode.USAGE);
  });
});

describe('groups add-members, remove-members and set-members', () => {
  test('add and remove members', async () => {
    const { ann, bob, eng } = await seed();
    const added = await h.run(['groups', 'add-members', 'Engineering', 'bob@example.com']);
    assert.equal(added.code, ExitCode.OK, added.stderr);
    assert.equal(added.stdout, `+ Engineering: ${bob}\n`);
    assert.deepEqual(await membersOf(eng), [ann, bob].sort());
    const removed = await h.run(['groups', 'remove-members', 'Engineering', ann, '--json']);
    assert.equal(removed.code, ExitCode.OK, removed.stderr);
    assert.deepEqual(JSON.parse(removed.stdout).removed, [ann]);
    assert.deepEqual(await membersOf(eng), [bob]);
  });

  test('set-members asks before removing; --yes replaces', async () => {
    const { ann, bob, eng } = await seed();
    const refused = await h.run(['groups', 'set-members', 'Engineering', 'bob@example.com']);
    assert.equal(refused.code, ExitCode.USAGE);
    assert.match(refused.stderr, /1 member\(s\) will be removed/);
    assert.deepEqual(await membersOf(eng), [ann]);
    const file = join(h.dir, 'members.txt');
    writeFileSync(file, 'bob@example.com\n');
    const done = await h.run(['groups', 'set-members', 'Engineering', '--from', file, '--yes']);
    assert.equal(done.code, ExitCode.OK, done.stderr);
    assert.deepEqual(await membersOf(eng), [bob]);
  });
});

describe('groups delete', () => {
  test('needs --yes without a terminal; deletes the group, not its members', async () => {
    const { ann, eng } = await seed();
    const refused = await h.run(['groups', 'delete', 'Engineering']);
    assert.equal(refused.code, ExitCode.USAGE);
    assert.equal((await h.scim('GET', `/Groups/${eng}`)).status, 200);
    const done = await h.run(['groups', 'delete', 'Engineering', 'Operations', '--yes', '--json']);
    assert.equal(done.code, ExitCode.OK, done.stderr);
    assert.equal(JSON.parse(done.stdout).summary.deleted, 2);
    assert.equal(h.service.store.groups.size, 0);
    assert.equal((await h.scim('GET', `/Users/${ann}`)).status, 200);
    const none = await h.run(['groups', 'delete', '--yes']);
    assert.equal(none.code, ExitCode.USAGE);
    assert.match(none.stderr, /name the groups to delete/);
  });
});

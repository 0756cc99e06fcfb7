/**
 * sync plan, sync run and sync apply, run in-process (runCli) against an in-memory SCIM server:
 * what they print, their exit codes, and what they leave on the server (or do not).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ExitCode } from '../../src/commands/exit-codes.ts';
import { cliHarness, type CliHarness } from '../support/cli.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const NAMES = ['ann', 'bob', 'cat', 'dan', 'eve', 'fay'];
const PLAN_SUMMARY =
  'Plan: 6 to create, 0 to update, 0 to deactivate, 0 to delete, 6 membership changes, 2 groups to create.';

let h: CliHarness;
let source: string;
beforeEach(async () => {
  h = await cliHarness();
  source = join(h.dir, 'hr.json');
  writeSource(NAMES);
});
afterEach(() => h.cleanup());

/** The HR export as a SCIM ListResponse: these people, in Engineering (even) or Sales (odd). */
function writeSource(names: readonly string[], title = (_name: string): string | undefined => undefined): void {
  const resources = names.map((n) => ({
    schemas: [USER],
    externalId: `E${NAMES.indexOf(n)}`,
    userName: `${n}@example.com`,
    displayName: n.toUpperCase(),
    title: title(n),
    groups: [{ display: NAMES.indexOf(n) % 2 ? 'Sales' : 'Engineering' }],
  }));
  writeFileSync(source, JSON.stringify({ schemas: [LIST], totalResults: resources.length, Resources: resources }));
}

async function usersOnServer(): Promise<any[]> {
  return ((await h.scim('GET', '/Users')).body.Resources ?? []) as any[];
}

async function membersOf(group: string): Promise<string[]> {
  const groups = ((await h.scim('GET', '/Groups')).body.Resources ?? []) as any[];
  const g = groups.find((x) => x.displayName === group);
  const ids = new Map((await usersOnServer()).map((u) => [u.id as string, u.userName as string]));
  return g ? ((g.members ?? []) as any[]).map((m) => ids.get(m.value)!).sort() : [];
}

/** The requests that changed something on the server, from request number `from` on. */
const writes = (from = 0) => h.requests.slice(from).filter((r) => r.method !== 'GET');

/** A first `sync run --yes` of all six people. */
async function firstSync(): Promise<void> {
  const r = await h.run(['sync', 'run', '--source', source, '--yes']);
  assert.equal(r.code, ExitCode.OK, r.stderr);
}

describe('sync plan', () => {
  test(
    'prints the changes and their summary; writes nothing; --detailed-exitcode ' + 'exits 3 while changes are pending',
    async () => {
      const r = await h.run(['sync', 'plan', '--source', source]);
      assert.equal(r.code, ExitCode.OK, r.stderr);
      assert.match(r.stdout, /^\+ create user ann@example\.com {2}\(.*hr\.json:1\)$/m);
      assert.match(r.stdout, /^ {4}\+ externalId: "E0"$/m);
      assert.match(r.stdout, /^\+ add bob@example\.com to group Sales$/m);
      assert.equal(r.stdout.trimEnd().split('\n').at(-1), PLAN_SUMMARY);
      assert.equal(r.stderr, '');
      assert.deepEqual(writes(), []);
      assert.deepEqual(await usersOnServer(), []);

      const detailed = await h.run(['sync', 'plan', '--source', source, '--detailed-exitcode']);
      assert.equal(detailed.code, ExitCode.CHANGES_PENDING, detailed.stderr);
      assert.equal(detailed.stdout.trimEnd().split('\n').at(-1), PLAN_SUMMARY);
      assert.deepEqual(writes(), []);

      // Once synced, nothing is pending: 0 with --detailed-exitcode.
      await firstSync();
      const none = await h.run(['sync', 'plan', '--source', source, '--detailed-exitcode']);
      assert.equal(none.code, ExitCode.OK, none.stderr);
      assert.match(none.stdout, /0 to create, 0 to update, 0 to deactivate, 0 to delete/);
    },
  );

  test('--json prints the plan file; -o saves it for sync apply (the text plan still on stdout)', async () => {
    const json = await h.run(['sync', 'plan', '--source', source, '--json']);
    assert.equal(json.code, ExitCode.OK, json.stderr);
    const plan = JSON.parse(json.stdout);
    assert.equal(plan.kind, 'scimctl-plan');
    assert.equal(plan.url, h.url);
    assert.equal(plan.profile, 'environment');
    assert.equal(plan.source.records, 6);
    assert.deepEqual(plan.source.files, [source]);
    assert.deepEqual(
      (plan.changes as any[]).filter((c) => c.kind === 'create-user').map((c) => c.userName),
      NAMES.map((n) => `${n}@example.com`),
    );
    assert.equal(plan.summary.create, 6);
    assert.equal(typeof plan.digest, 'string');

    const file = join(h.dir, 'plan.json');
    const saved = await h.run(['sync', 'plan', '--source', source, '-o', file]);
    assert.equal(saved.code, ExitCode.OK, saved.stderr);
    assert.equal(saved.stdout.trimEnd().split('\n').at(-1), PLAN_SUMMARY);
    const written = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(written.kind, 'scimctl-plan');
    assert.equal(written.changes.length, plan.changes.length);
    assert.deepEqual(writes(), []);
  });
});

describe('sync run', () => {
  test('--dry-run shows the plan and stops (exit 3 with --detailed-exitcode); nothing is written', async () => {
    const dry = await h.run(['sync', 'run', '--source', source, '--dry-run', '--detailed-exitcode']);
    assert.equal(dry.code, ExitCode.CHANGES_PENDING, dry.stderr);
    assert.equal(dry.stdout.trimEnd().split('\n').at(-1), PLAN_SUMMARY);
    const plain = await h.run(['sync', 'run', '--source', source, '--dry-run']);
    assert.equal(plain.code, ExitCode.OK, plain.stderr);
    assert.deepEqual(writes(), []);
    assert.deepEqual(await usersOnServer(), []);
  });

  test('--yes applies the plan: the users and groups are on the server', async () => {
    const r = await h.run(['sync', 'run', '--source', source, '--yes']);
    assert.equal(r.code, ExitCode.OK, r.stderr);
    assert.equal(r.stdout.trimEnd().split('\n').at(-1), PLAN_SUMMARY);
    assert.match(r.stderr, /^scimctl: applied 14 of 14 change\(s\) \(run \S+\)$/m);
    const users = await usersOnServer();
    assert.deepEqual(
      users.map((u) => [u.userName, u.externalId, u.displayName]).sort(),
      NAMES.map((n, i) => [`${n}@example.com`, `E${i}`, n.toUpperCase()]),
    );
    assert.deepEqual(await membersOf('Engineering'), ['ann@example.com', 'cat@example.com', 'eve@example.com']);
    assert.deepEqual(await membersOf('Sales'), ['bob@example.com', 'dan@example.com', 'fay@example.com']);
  });

  test('a threshold refusal exits 7, names the flag to go ahead, and writes nothing', async () => {
    await firstSync();
    writeSource(NAMES.slice(0, 4));
    const before = h.requests.length;
    const r = await h.run(['sync', 'run', '--source', source, '--yes', '--accept-source-change', '--max-deletes', '1']);
    assert.equal(r.code, ExitCode.REFUSED, r.stderr);
    assert.match(r.stdout, /^- deactivate user eve@example\.com /m);
    assert.match(
      r.stderr,
      /the plan would deactivate or delete 2 of 6 managed users, over the limit of 1 \(--max-deletes 1\)/,
    );
    assert.match(r.stderr, /^scimctl: nothing was applied; to go ahead as planned, pass --max-deletes 2$/m);
    assert.deepEqual(writes(before), []);
    assert.ok(
      (await usersOnServer()).every((u) => u.active !== false),
      'no one was deactivated',
    );
  });

  test('without a terminal and without --yes: exit 2, naming --yes; nothing is written', async () => {
    const r = await h.run(['sync', 'run', '--source', source]);
    assert.equal(r.code, ExitCode.USAGE);
    assert.match(
      r.stderr,
      new RegExp(
        /refusing to apply 14 change\(s\) unattended: there is no terminal to /.source +
          /ask for confirmation on; pass --yes to go ahead/.source,
      ),
    );
    assert.deepEqual(writes(), []);
    assert.deepEqual(await usersOnServer(), []);
  });
});

describe('sync apply', () => {
  test('applies a saved plan exactly as planned', async () => {
    await firstSync();
    writeSource(NAMES.slice(0, 5), (n) => (n === 'ann' ? 'Manager' : undefined));
    const file = join(h.dir, 'plan.json');
    const planned = await h.run(['sync', 'plan', '--source', source, '-o', file]);
    assert.equal(planned.code, ExitCode.OK, planned.stderr);
    assert.ok(existsSync(file));
    // The source changes again after the plan: apply applies the plan, not the source.
    writeSource(NAMES);
    const before = h.requests.length;

    const r = await h.run(['sync', 'apply', file, '--yes']);
    assert.equal(r.code, ExitCode.OK, r.stderr);
    assert.match(r.stdout, /^- deactivate user fay@example\.com /m);
    assert.match(r.stdout, /^~ update user ann@example\.com/m);
    assert.match(r.stderr, /^scimctl: applied 2 of 2 change\(s\) \(run \S+\)$/m);
    assert.ok(writes(before).length > 0);
    const users = new Map((await usersOnServer()).map((u) => [u.userName, u]));
    assert.equal(users.get('fay@example.com').active, false);
    assert.equal(users.get('ann@example.com').title, 'Manager');
    assert.notEqual(users.get('eve@example.com').active, false);

    // A plan applies once: the second time it is stale and refused (7), nothing written.
    const again = h.requests.length;
    const second = await h.run(['sync', 'apply', file, '--yes']);
    assert.equal(second.code, ExitCode.REFUSED, second.stderr);
    assert.match(second.stderr, /the plan is stale/);
    assert.deepEqual(writes(again), []);
  });
});

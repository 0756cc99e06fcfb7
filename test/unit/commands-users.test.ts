/**
 * The users commands, run in-process (runCli) against an in-memory SCIM server: their output,
 * exit codes and what they leave on the server.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ExitCode } from '../../src/commands/exit-codes.ts';
import { cliHarness, type CliHarness } from '../support/cli.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

let h: CliHarness;
beforeEach(async () => {
  h = await cliHarness();
});
afterEach(() => h.cleanup());

async function addUser(userName: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await h.scim('POST', '/Users', { schemas: [USER], userName, ...extra });
  assert.equal(r.status, 201);
  return r.body.id as string;
}

async function userOnServer(id: string): Promise<any> {
  const r = await h.scim('GET', `/Users/${id}`);
  return r.status === 200 ? r.body : undefined;
}

async function seed(): Promise<{ ann: string; bob: string }> {
  const ann = await addUser('ann@example.com', {
    displayName: 'Ann Archer',
    emails: [{ value: 'ann@example.com', type: 'work', primary: true }],
    active: true,
  });
  const bob = await addUser('bob@example.com', {
    displayName: 'Bob Baker',
    name: { givenName: 'Bob', familyName: 'Baker' },
    active: true,
  });
  return { ann, bob };
}

describe('users list', () => {
  test('prints one tab-separated row per user in a pipe, and the resources with --json', async () => {
    const { ann, bob } = await seed();
    const plain = await h.run(['users', 'list']);
    assert.equal(plain.code, ExitCode.OK, plain.stderr);
    const rows = plain.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split('\t'));
    assert.deepEqual(
      rows.map((r) => [r[0], r[1], r[2], r[3]]),
      [
        [ann, 'ann@example.com', 'Ann Archer', 'yes'],
        [bob, 'bob@example.com', 'Bob Baker', 'yes'],
      ],
    );
    const json = await h.run(['users', 'list', '--json']);
    assert.equal(json.code, ExitCode.OK);
    assert.deepEqual(
      (JSON.parse(json.stdout) as any[]).map((u) => u.userName),
      ['ann@example.com', 'bob@example.com'],
    );
  });

  test('--filter, --limit and --attributes reach the server', async () => {
    await seed();
    const filtered = await h.run(['users', 'list', '--filter', 'userName eq "bob@example.com"', '--json']);
    assert.deepEqual(
      (JSON.parse(filtered.stdout) as any[]).map((u) => u.userName),
      ['bob@example.com'],
    );
    const limited = await h.run(['users', 'list', '--limit', '1', '--json']);
    assert.equal((JSON.parse(limited.stdout) as any[]).length, 1);
    const some = await h.run(['users', 'list', '--attributes', 'userName, displayName']);
    assert.equal(some.code, ExitCode.OK);
    assert.deepEqual(
      some.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.split('\t').slice(1)),
      [
        ['ann@example.com', 'Ann Archer'],
        ['bob@example.com', 'Bob Baker'],
      ],
    );
  });

  test('--attributes takes the enterprise shorthands; the header is the name given', async () => {
    const { ann } = await seed();
    const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    await h.scim('PATCH', `/Users/${ann}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'add', path: `${ENT}:department`, value: 'Sales' }],
    });
    const r = await h.run([
      'users',
      'list',
      '--attributes',
      'userName,department',
      '--filter',
      'userName eq "ann@example.com"',
    ]);
    assert.equal(r.code, ExitCode.OK, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split('\t').slice(1), ['ann@example.com', 'Sales']);
    const tty = await h.run(['users', 'list', '--attributes', 'department'], { tty: true, columns: 100 });
    assert.match(tty.stdout.split('\n')[0]!, /^ID\s+DEPARTMENT\s*$/i);
    // The server is asked for the extension's attribute (and returns only what was asked for).
    const json = await h.run(['users', 'list', '--attributes', 'department', '--json']);
    const first = (JSON.parse(json.stdout) as any[]).find((u) => u.id === ann);
    assert.deepEqual([first[ENT], first.displayName], [{ department: 'Sales' }, undefined]);
  });

  test('on a terminal, a table with headers; no users is said on stderr', async () => {
    await seed();
    const tty = await h.run(['users', 'list'], { tty: true, columns: 100 });
    assert.match(tty.stdout.split('\n')[0]!, /^ID\s+USERNAME\s+DISPLAYNAME\s+ACTIVE\s+EMAIL/i);
    const none = await h.run(['users', 'list', '--filter', 'userName eq "nobody"']);
    assert.equal(none.code, ExitCode.OK);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /no users match the filter/);
  });

  test('a bad number is a usage error before any request', async () => {
    const r = await h.run(['users', 'list', '--limit', 'abc']);
    assert.equal(r.code, ExitCode.USAGE);
    assert.match(r.stderr, /--limit/);
    assert.equal(h.requests.length, 0);
  });
});

describe('users get', () => {
  test('finds a user by userName or id; --json prints the resource', async () => {
    const { ann } = await seed();
    const byName = await h.run(['users', 'get', 'ann@example.com', '--json']);
    assert.equal(byName.code, ExitCode.OK, byName.stderr);
    assert.equal(JSON.parse(byName.stdout).id, ann);
    const byId = await h.run(['users', 'get', ann]);
    assert.equal(byId.code, ExitCode.OK);
    assert.match(byId.stdout, /ann@example\.com/);
    assert.match(byId.stdout, /Ann Archer/);
  });

  test("on a terminal, the user's groups are named; in a pipe the output is as before", async () => {
    const { ann } = await seed();
    const group = await h.scim('POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Engineering',
      members: [{ value: ann }],
    });
    const tty = await h.run(['users', 'get', 'ann@example.com'], { tty: true, columns: 160 });
    assert.equal(tty.code, ExitCode.OK, tty.stderr);
    assert.match(tty.stdout, new RegExp(`^groups\\[1\\] +Engineering +value=${group.body.id}`, 'm'));
    const pipe = await h.run(['users', 'get', 'ann@example.com']);
    assert.match(pipe.stdout, new RegExp(`^groups\\[direct\\]\\.value\t${group.body.id}$`, 'm'));
  });

  test('an unknown user exits 5; a missing argument is a usage error', async () => {
    await seed();
    const missing = await h.run(['users', 'get', 'nobody@example.com']);
    assert.equal(missing.code, ExitCode.NOT_FOUND);
    assert.match(missing.stderr, /nobody@example\.com/);
    const noArg = await h.run(['users', 'get']);
    assert.equal(noArg.code, ExitCode.USAGE);
  });
});

describe('users search', () => {
  test('by e-mail and by part of a name', async () => {
    const { ann, bob } = await seed();
    const byEmail = await h.run(['users', 'search', '--email', 'ann@example.com', '--json']);
    assert.equal(byEmail.code, ExitCode.OK, byEmail.stderr);
    assert.deepEqual(
      (JSON.parse(byEmail.stdout) as any[]).map((u) => u.id),
      [ann],
    );
    const byName = await h.run(['users', 'search', '--name', 'bak']);
    assert.equal(byName.code, ExitCode.OK, byName.stderr);
    assert.equal(byName.stdout.trimEnd().split('\n').length, 1);
    assert.equal(byName.stdout.split('\t')[0], bob);
  });

  test('exactly one of --email, --name or --filter', async () => {
    const none = await h.run(['users', 'search']);
    assert.equal(none.code, ExitCode.USAGE);
    assert.match(none.stderr, /give exactly one of --email, --name or --filter/);
    const two = await h.run(['users', 'search', '--email', 'a@b.c', '--name', 'x']);
    assert.equal(two.code, ExitCode.USAGE);
    assert.match(two.stderr, /mutually exclusive/i);
  });
});

describe('users create', () => {
  test('from flags: the server gets the user, the display name made of given and family names', async () => {
    const r = await h.run([
      'users',
      'create',
      '--user-name',
      'cy@example.com',
      '--given-name',
      'Cy',
      '--family-name',
      'Cole',
      '--email',
      'cy@example.com',
      '--set',
      'title=CTO',
      '--json',
    ]);
    assert.equal(r.code, ExitCode.OK, r.stderr);
    const created = JSON.parse(r.stdout);
    const stored = await userOnServer(created.id);
    assert.equal(stored.userName, 'cy@example.com');
    assert.equal(stored.displayName, 'Cy Cole');
    assert.equal(stored.title, 'CTO');
    assert.equal(stored.emails[0].value, 'cy@example.com');
    assert.match(r.stderr, new RegExp(`created cy@example.com \\(${created.id}\\)`));
  });

  test('from a file; flags and --from together are refused; a taken userName is an error', async () => {
    const file = join(h.dir, 'dee.json');
    writeFileSync(file, JSON.stringify({ schemas: [USER], userName: 'dee@example.com', displayName: 'Dee' }));
    const r = await h.run(['users', 'create', '--from', file]);
    assert.equal(r.code, ExitCode.OK, r.stderr);
    assert.equal(h.service.store.users.size, 1);
    const both = await h.run(['users', 'create', '--from', file, '--user-name', 'x@example.com']);
    assert.equal(both.code, ExitCode.USAGE);
    assert.match(both.stderr, /either with flags or with --from FILE/);
    const again = await h.run(['users', 'create', '--user-name', 'dee@example.com']);
    assert.equal(again.code, ExitCode.ERROR);
    assert.match(again.stderr, /already exists/);
    assert.equal(h.service.store.users.size, 1);
  });
});

describe('users bulk-create', () => {
  test('creates the users of a file and skips those that exist', async () => {
    await addUser('ann@example.com');
    const file = join(h.dir, 'people.json');
    writeFileSync(
      file,
      JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
        totalResults: 3,
        Resources: ['ann@example.com', 'eve@example.com', 'fay@example.com'].map((userName) => ({
          schemas: [USER],
          userName,
        })),
      }),
    );
    const r = await h.run(['users', 'bulk-create', file, '--json']);
    assert.equal(r.code, ExitCode.OK, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(report.summary.created, 2);
    assert.deepEqual(report.summary.skipped, 1);
    const names = [...h.service.store.users.values()].map((u) => u.attrs.userName).sort();
    assert.deepEqual(names, ['ann@example.com', 'eve@example.com', 'fay@example.com']);
  });

  test('--concurrency out of range and a bad --rate are usage errors; bad input sends no write', async () => {
    const file = join(h.dir, 'bad.json');
    writeFileSync(file, JSON.stringify([{ schemas: [USER] }]));
    const conc = await h.run(['users', 'bulk-create', file, '--concurrency', '100']);
    assert.equal(conc.code, ExitCode.USAGE);
    assert.match(conc.stderr, /--concurrency must be between 1 and 64/);
    const rate = await h.run(['users', 'bulk-create', file, '--rate', 'fast']);
    assert.equal(rate.code, ExitCode.USAGE);
    assert.match(rate.stderr, /--rate/);
    const bad = await h.run(['users', 'bulk-create', file]);
    assert.equal(bad.code, ExitCode.USAGE);
    assert.match(bad.stderr, /userName/);
    assert.equal(h.requests.filter((q) => q.method !== 'GET').length, 0);
  });
});

describe('users update', () => {
  test('--set and --unset change the user; the change is shown', async () => {
    const { ann } = await seed();
    const r = await h.run(['users', 'update', 'ann@example.com', '--set', 'title=CTO', '--unset', 'displayName']);
    assert.equal(r.code, ExitCode.OK, r.stderr);
    assert.match(r.stdout, new RegExp(`^~ ann@example.com \\(${ann}\\)`));
    assert.match(r.stdout, /title/);
    const stored = await userOnServer(ann);
    assert.equal(stored.title, 'CTO');
    assert.equal(stored.displayName, undefined);
    const same = await h.run(['users', 'update', 'ann@example.com', '--set', 'title=CTO']);
    assert.equal(same.code, ExitCode.OK);
    assert.match(same.stderr, /nothing to change/);
  });

  test('enterprise shorthands in --set and --unset; a mistyped attribute suggests the closest', async () => {
    const { ann, bob } = await seed();
    const set = await h.run([
      'users',
      'update',
      'ann@example.com',
      '--set',
      'department=Sales',
      '--set',
      `manager=${bob}`,
    ]);
    assert.equal(set.code, ExitCode.OK, set.stderr);
    const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    assert.deepEqual((await userOnServer(ann))[ENT], { department: 'Sales', manager: { value: bob } });
    const unset = await h.run(['users', 'update', 'ann@example.com', '--unset', 'department']);
    assert.equal(unset.code, ExitCode.OK, unset.stderr);
    assert.equal((await userOnServer(ann))[ENT]?.department, undefined);
    const typo = await h.run(['users', 'update', 'ann@example.com', '--set', 'divison=R&D']);
    assert.equal(typo.code, ExitCode.USAGE);
    assert.match(typo.stderr, /--set divison: .*Did you mean division\b/);
  });

  test('nothing to change, or --from with --set, is a usage error', async () => {
    await seed();
    const nothing = await h.run(['users', 'update', 'ann@example.com']);
    assert.equal(nothing.code, ExitCode.USAGE);
    assert.match(nothing.stderr, /nothing to change/);
    const both = await h.run(['users', 'update', 'ann@example.com', '--from', 'x.json', '--set', 'title=x']);
    assert.equal(both.code, ExitCode.USAGE);
    assert.match(both.stderr, /do not combine it with --set or --unset/);
  });
});

describe('users update-attributes', () => {
  test('updates users matched by userName; unknown ones exit 5', async () => {
    const { ann, bob } = await seed();
    const file = join(h.dir, 'titles.json');
    writeFileSync(
      file,
      JSON.stringify([
        { schemas: [USER], userName: 'ann@example.com', title: 'Engineer' },
        { schemas: [USER], userName: 'BOB@example.com', title: 'Designer' },
      ]),
    );
    const r = await h.run(['users', 'update-attributes', file, '--json']);
    assert.equal(r.code, ExitCode.OK, r.stderr);
    assert.equal(JSON.parse(r.stdout).summary.updated, 2);
    assert.equal((await userOnServer(ann)).title, 'Engineer');
    const bobNow = await userOnServer(bob);
    assert.equal(bobNow.title, 'Designer');
    assert.equal(bobNow.userName, 'bob@example.com', 'a key differing in case is not a rename');

    writeFileSync(file, JSON.stringify([{ schemas: [USER], userName: 'zed@example.com', title: 'x' }]));
    const missing = await h.run(['users', 'update-attributes', file]);
    assert.equal(missing.code, ExitCode.NOT_FOUND);
  });
});

describe('users activate and deactivate', () => {
  test('deactivate asks; without a terminal it needs --yes; activate does not ask', async () => {
    const { ann, bob } = await seed();
    const refused = await h.run(['users', 'deactivate', 'ann@example.com']);
    assert.equal(refused.code, ExitCode.USAGE);
    assert.match(refused.stderr, /--yes/);
    assert.equal((await userOnServer(ann)).active, true);

    const done = await h.run(['users', 'deactivate', 'ann@example.com', bob, '--yes', '--json']);
    assert.equal(done.code, ExitCode.OK, done.stderr);
    assert.equal(JSON.parse(done.stdout).summary.updated, 2);
    assert.equal((await userOnServer(ann)).active, false);
    assert.equal((await userOnServer(bob)).active, false);

    const back = await h.run(['users', 'activate', 'ann@example.com']);
    assert.equal(back.code, ExitCode.OK, back.stderr);
    assert.equal((await userOnServer(ann)).active, true);
    const again = await h.run(['users', 'activate', 'ann@example.com', '--json']);
    assert.equal(JSON.parse(again.stdout).results[0].status, 'unchanged');
  });

  test('unknown users exit 5; the others are still done', async () => {
    await seed();
    const missing = await h.run(['users', 'activate', 'nobody@example.com', 'ann@example.com', '--json']);
    assert.equal(missing.code, ExitCode.NOT_FOUND);
    assert.deepEqual((JSON.parse(missing.stdout).results as any[]).map((r) => [r.ref, r.status]).sort(), [
      ['ann@example.com', 'unchanged'],
      ['nobody@example.com', 'not-found'],
    ]);
    const none = await h.run(['users', 'activate']);
    assert.equal(none.code, ExitCode.USAGE);
    assert.match(none.stderr, /name the users to activate, or give --from FILE/);
  });

  test('--from FILE names the users', async () => {
    const { ann } = await seed();
    const file = join(h.dir, 'leavers.txt');
    writeFileSync(file, 'ann@example.com\n');
    const r = await h.run(['users', 'deactivate', '--from', file, '--yes']);
    assert.equal(r.code, ExitCode.OK, r.stderr);
    assert.equal((await userOnServer(ann)).active, false);
  });
});

describe('users delete', () => {
  test('needs --yes without a terminal; with it, the users are gone', async () => {
    const { ann, bob } = await seed();
    const refused = await h.run(['users', 'delete', 'ann@example.com']);
    assert.equal(refused.code, ExitCode.USAGE);
    assert.ok(await userOnServer(ann), 'nothing deleted without --yes');
    const listFile = join(h.dir, 'gone.txt');
    writeFileSync(listFile, 'bob@example.com\n');
    const done = await h.run(['users', 'delete', 'ann@example.com', '--from', listFile, '--yes', '--json']);
    assert.equal(done.code, ExitCode.OK, done.stderr);
    assert.equal(JSON.parse(done.stdout).summary.deleted, 2);
    assert.equal(await userOnServer(ann), undefined);
    assert.equal(await userOnServer(bob), undefined);
  });

  test('on a terminal, typing yes confirms', async () => {
    const { ann } = await seed();
    const r = await h.run(['users', 'delete', 'ann@example.com'], { tty: true, stdin: 'yes\n' });
    assert.equal(r.code, ExitCode.OK, r.stderr);
    assert.equal(await userOnServer(ann), undefined);
  });
});

test('the server refusing the token exits 4', async () => {
  await seed();
  const r = await h.run(['users', 'list'], { env: { SCIMCTL_TOKEN: 'wrong-token-000000000000' } });
  assert.equal(r.code, ExitCode.AUTH);
  assert.doesNotMatch(r.stderr, /wrong-token/);
});

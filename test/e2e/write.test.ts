/** Write commands end to end: create, bulk-create, update (PATCH and PUT), activate, delete, group membership. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startScimmyServer, type ScimmyServer } from '../support/scimmy-server.ts';
import { runCli, runCliInTerminal, serverEnv, tempHome } from './helpers.ts';

const TOKEN = 'e2e-write-token-4b1f0a9c8d7e';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
let server: ScimmyServer;
let home: ReturnType<typeof tempHome>;
let env: Record<string, string>;

interface StoredUser {
  id: string;
  userName: string;
  title?: string;
  active?: boolean;
  displayName?: string;
  emails?: Array<{ value: string; type?: string; primary?: boolean }>;
  phoneNumbers?: Array<{ value: string; type?: string }>;
  [k: string]: unknown;
}

before(async () => {
  server = await startScimmyServer({ token: TOKEN, users: 40, groups: 3 });
  home = tempHome();
  env = serverEnv(server.url, TOKEN, home);
});

after(async () => {
  await server.close();
  home.cleanup();
});

const users = () => [...server.users.values()] as StoredUser[];
const byName = (userName: string) => users().find((u) => u.userName.toLowerCase() === userName.toLowerCase());
const writes = (from: number) =>
  server.requests.slice(from).filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method));

describe('users create', () => {
  test('from flags, with an extension attribute via --set', async () => {
    const r = await runCli(
      [
        'users',
        'create',
        '--user-name',
        'new.hire@example.com',
        '--email',
        'new.hire@example.com',
        '--given-name',
        'New',
        '--family-name',
        'Hire',
        '--set',
        `${ENTERPRISE}:department=Research`,
        '--set',
        'title=Analyst',
        '--json',
      ],
      { env },
    );
    assert.equal(r.code, 0, r.stderr);
    const created = JSON.parse(r.stdout) as StoredUser;
    const stored = server.users.get(created.id) as StoredUser;
    assert.equal(stored.userName, 'new.hire@example.com');
    assert.equal(stored.displayName, 'New Hire');
    assert.equal(stored.title, 'Analyst');
    assert.equal((stored[ENTERPRISE] as { department: string }).department, 'Research');
    assert.deepEqual(
      stored.emails?.map((e) => e.value),
      ['new.hire@example.com'],
    );
  });

  test('bad input is refused before anything is sent (exit 2)', async () => {
    const start = server.requests.length;
    const r = await runCli(['users', 'create', '--user-name', 'x@example.com', '--email', 'not an email'], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /emails/);
    const noUser = await runCli(['users', 'create', '--email', 'y@example.com'], { env });
    assert.equal(noUser.code, 2);
    assert.match(noUser.stderr, /userName/);
    const badBool = await runCli(['users', 'create', '--user-name', 'z@example.com', '--set', 'active=maybe'], { env });
    assert.equal(badBool.code, 2);
    assert.match(badBool.stderr, /boolean/);
    assert.deepEqual(writes(start), []);
  });

  test('a duplicate userName is a clear error', async () => {
    const existing = users()[0]!;
    const r = await runCli(['users', 'create', '--user-name', existing.userName], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already exists/);
  });
});

describe('users bulk-create', () => {
  test('creates new users, skips existing ones, and reports counts', async () => {
    const existing = users().slice(0, 3);
    const lines = ['userName,name.givenName,name.familyName,emails[work].value,active'];
    for (const u of existing) lines.push(`${u.userName.toUpperCase()},X,Y,${u.userName},true`);
    for (let i = 0; i < 12; i++)
      lines.push(`bulk${i}@example.com,Bulk,Number ${i},bulk${i}@example.com,${i % 4 === 0 ? 'false' : 'true'}`);
    const file = join(home.dir, 'bulk.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const before = users().length;
    const r = await runCli(['users', 'bulk-create', file, '--json', '--concurrency', '3'], { env });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      summary: Record<string, number>;
      results: Array<{ status: string; ref: string }>;
    };
    assert.equal(report.summary.created, 12);
    assert.equal(report.summary.skipped, 3);
    assert.equal(report.summary.failed, 0);
    assert.equal(users().length, before + 12);
    assert.equal(byName('bulk4@example.com')?.active, false);
    assert.ok(report.results.filter((x) => x.status === 'skipped').every((x) => /bulk\.csv:[234]$/.test(x.ref)));
    // Running it again creates nothing.
    const again = await runCli(['users', 'bulk-create', file], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /0 created, 15 skipped, 0 failed/);
  });

  test('created users are reported as skipped ones are: a line each on stdout, and in --json', async () => {
    const existing = users()[5]!;
    const file = join(home.dir, 'report.csv');
    writeFileSync(file, `userName\nreport1@example.com\n${existing.userName}\nreport2@example.com\n`);
    const r = await runCli(['users', 'bulk-create', file], { env });
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split('\t'));
    const id = (name: string) => byName(name)!.id;
    assert.deepEqual(
      rows.map((c) => c.slice(0, 3)),
      [
        ['created', 'report1@example.com', id('report1@example.com')],
        ['skipped', existing.userName, existing.id],
        ['created', 'report2@example.com', id('report2@example.com')],
      ],
    );
    assert.match(r.stderr, /^scimctl: 2 created, 1 skipped, 0 failed$/m);

    writeFileSync(file, `userName\nreport3@example.com\n${existing.userName}\n`);
    const json = await runCli(['users', 'bulk-create', file, '--json'], { env });
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as { results: Array<Record<string, unknown>> };
    assert.deepEqual(
      report.results.map(({ ref, name, id, status }) => ({ ref, name, id, status })),
      [
        { ref: `${file}:2`, name: 'report3@example.com', id: id('report3@example.com'), status: 'created' },
        { ref: `${file}:3`, name: existing.userName, id: existing.id, status: 'skipped' },
      ],
    );
  });

  test('a malformed file names file, line and field, and sends nothing', async () => {
    const cases: Array<[string, string, RegExp]> = [
      [
        'dup.csv',
        'userName,emails[work].value\nann@example.com,ann@example.com\nbob@example.com,' +
          'bob@example.com\nANN@example.com,ann2@example.com\n',
        /dup\.csv:4.*userName.*line 2/,
      ],
      [
        'email.csv',
        'userName,emails[work].value\ncat@example.com,cat at example\n',
        /email\.csv:2.*emails\[work\]\.value/,
      ],
      ['column.csv', 'userName,favouriteColour\ndan@example.com,blue\n', /column\.csv:1.*favouriteColour/],
      ['quote.csv', 'userName,title\neve@example.com,"Head of\nfay@example.com,CEO\n', /quote\.csv:2/],
      ['shape.json', '{"Resources": {"userName": "x"}}', /shape\.json:1/],
    ];
    for (const [name, content, pattern] of cases) {
      const file = join(home.dir, name);
      writeFileSync(file, content);
      const start = server.requests.length;
      const r = await runCli(['users', 'bulk-create', file], { env });
      assert.equal(r.code, 2, `${name}: ${r.stderr}`);
      assert.match(r.stderr, pattern, name);
      assert.deepEqual(writes(start), [], `${name} sent a write`);
    }
  });
});

describe('users update', () => {
  test('PATCH: --set and --unset change exactly those attributes', async () => {
    const target = users().find((u) => u.phoneNumbers?.length)!;
    const snapshot = structuredClone(target);
    const start = server.requests.length;
    const r = await runCli(
      [
        'users',
        'update',
        target.userName,
        '--set',
        'title=Chief Tester',
        '--set',
        'emails[home].value=home@example.org',
        '--unset',
        'phoneNumbers',
      ],
      { env },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /~ title: .* → "Chief Tester"/);
    assert.match(r.stdout, /\+ emails\[home\]\.value: "home@example.org"/);
    assert.match(r.stdout, /- phoneNumbers\[mobile\]\.value/);
    assert.deepEqual(
      writes(start).map((w) => w.method),
      ['PATCH'],
    );
    const stored = server.users.get(target.id) as StoredUser;
    assert.equal(stored.title, 'Chief Tester');
    assert.equal(stored.phoneNumbers, undefined);
    assert.deepEqual(
      new Set(stored.emails?.map((e) => e.value)),
      new Set([...(snapshot.emails ?? []).map((e) => e.value), 'home@example.org']),
    );
    assert.deepEqual(stored[ENTERPRISE], snapshot[ENTERPRISE]);
    assert.equal(stored.displayName, snapshot.displayName);
  });

  test('a 412 is reported as changed on the server, never overwritten', async () => {
    const target = users()[5]!;
    server.addFault({ method: 'PATCH', path: new RegExp(`/Users/${target.id}`), status: 412, times: 1 });
    try {
      const r = await runCli(['users', 'update', target.id, '--set', 'title=Nope'], { env });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /changed on the server since it was read; nothing was overwritten/);
      assert.notEqual((server.users.get(target.id) as StoredUser).title, 'Nope');
    } finally {
      server.clearFaults();
    }
  });

  test('unknown attributes are refused with the valid ones listed', async () => {
    const r = await runCli(['users', 'update', users()[0]!.id, '--set', 'favouriteColour=blue'], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no such attribute\. Valid attributes: .*userName.*name\.givenName/);
  });

  test('enterprise shorthands: --set department and manager, --unset; a typo suggests the closest', async () => {
    const [target, boss] = users().slice(10, 12);
    const set = await runCli(
      ['users', 'update', target!.id, '--set', 'department=Research', '--set', `manager=${boss!.id}`],
      { env },
    );
    assert.equal(set.code, 0, set.stderr);
    const stored = server.users.get(target!.id) as StoredUser;
    const ext = stored[ENTERPRISE] as { department?: string; manager?: { value?: string } };
    assert.equal(ext.department, 'Research');
    assert.equal(ext.manager?.value, boss!.id);
    const unset = await runCli(['users', 'update', target!.id, '--unset', 'department'], { env });
    assert.equal(unset.code, 0, unset.stderr);
    const after = (server.users.get(target!.id) as StoredUser)[ENTERPRISE] as { department?: string } | undefined;
    assert.equal(after?.department, undefined);
    const typo = await runCli(['users', 'update', target!.id, '--set', 'costCentre=42'], { env });
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /--set costCentre: .*Did you mean costCenter\?/);
  });

  test('activate and deactivate', async () => {
    const [a, b] = users().filter((u) => u.active !== false);
    // Without a terminal, deactivating needs --yes: nothing is changed, the flag is named.
    const refused = await runCli(['users', 'deactivate', a!.userName, b!.id], { env });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--yes/);
    assert.match(refused.stderr, new RegExp(a!.userName.replace(/[.]/g, '\\.')));
    assert.notEqual((server.users.get(a!.id) as StoredUser).active, false);
    const r = await runCli(['users', 'deactivate', a!.userName, b!.id, '--yes'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((server.users.get(a!.id) as StoredUser).active, false);
    assert.equal((server.users.get(b!.id) as StoredUser).active, false);
    const again = await runCli(['users', 'deactivate', a!.userName, '--yes'], { env });
    assert.match(again.stdout, /unchanged/);
    const back = await runCli(['users', 'activate', a!.userName], { env });
    assert.equal(back.code, 0, back.stderr);
    assert.equal((server.users.get(a!.id) as StoredUser).active, true);
    const missing = await runCli(['users', 'activate', 'ghost@example.com'], { env });
    assert.equal(missing.code, 5);
  });
});

describe('users update-attributes', () => {
  test('changes only the attributes in the file, matched by userName or externalId; unknown users exit 5', async () => {
    const [a, b] = users()
      .filter((u) => u.active !== false)
      .slice(20, 22) as [StoredUser, StoredUser];
    const snapshotB = structuredClone(b);
    const file = join(home.dir, 'attrs.csv');
    writeFileSync(
      file,
      `userName,externalId,title\n${a.userName.toUpperCase()},,Night ` +
        `Owl\n,${String(b.externalId)},Early Bird\nnobody@example.com,,Ghost\n`,
    );
    const r = await runCli(['users', 'update-attributes', file, '--json'], { env });
    assert.equal(r.code, 5, r.stderr);
    const report = JSON.parse(r.stdout) as { summary: Record<string, number> };
    assert.equal(report.summary.updated, 2);
    assert.equal(report.summary['not-found'], 1);
    assert.equal((server.users.get(a.id) as StoredUser).title, 'Night Owl');
    assert.equal(
      (server.users.get(a.id) as StoredUser).userName,
      a.userName,
      'matching by userName in another case is not a rename',
    );
    const storedB = server.users.get(b.id) as StoredUser;
    assert.equal(storedB.title, 'Early Bird');
    assert.deepEqual({ ...storedB, title: snapshotB.title, meta: undefined }, { ...snapshotB, meta: undefined });
  });
});

describe('users delete', () => {
  test('without a terminal and without --yes nothing is deleted (exit 2, names --yes)', async () => {
    const target = users()[7]!;
    const start = server.requests.length;
    const r = await runCli(['users', 'delete', target.userName], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /will be deleted/);
    assert.match(r.stderr, new RegExp(target.userName.replace(/[.]/g, '\\.')));
    assert.match(r.stderr, /pass --yes/);
    assert.ok(server.users.has(target.id));
    assert.deepEqual(writes(start), []);
  });

  test('in a terminal it asks to type yes; any other answer deletes nothing', async () => {
    const target = users()[8]!;
    const no = await runCliInTerminal(['users', 'delete', target.id], 100, { env, input: 'y\n' });
    assert.equal(no.code, 2, no.stdout);
    assert.match(no.stdout, /Type "yes" to continue/);
    assert.ok(server.users.has(target.id));
    const yes = await runCliInTerminal(['users', 'delete', target.id], 100, { env, input: 'yes\n' });
    assert.equal(yes.code, 0, yes.stdout);
    assert.ok(!server.users.has(target.id));
  });

  test('with --yes: deletes, and counts unknown users as already gone', async () => {
    const [a, b] = users().slice(10, 12);
    const r = await runCli(['users', 'delete', a!.userName, b!.id, 'gone-already@example.com', '--yes', '--json'], {
      env,
    });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { summary: Record<string, number> };
    assert.equal(report.summary.deleted, 2);
    assert.equal(report.summary['already-gone'], 1);
    assert.ok(!server.users.has(a!.id) && !server.users.has(b!.id));
  });
});

describe('groups', () => {
  test('create with members, add, remove (RFC filter form), rename, set-members, delete', async () => {
    const [u1, u2, u3] = users().slice(15, 18) as [StoredUser, StoredUser, StoredUser];
    const created = await runCli(['groups', 'create', 'Release Managers', '--member', u1.userName, '--json'], { env });
    assert.equal(created.code, 0, created.stderr);
    const gid = (JSON.parse(created.stdout) as { id: string }).id;
    const members = () =>
      new Set(((server.groups.get(gid) as { members?: Array<{ value: string }> }).members ?? []).map((m) => m.value));
    assert.deepEqual(members(), new Set([u1.id]));

    assert.equal((await runCli(['groups', 'add-members', 'Release Managers', u2.userName, u3.id], { env })).code, 0);
    assert.deepEqual(members(), new Set([u1.id, u2.id, u3.id]));

    const start = server.requests.length;
    const removed = await runCli(['groups', 'remove-members', gid, u2.userName], { env });
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(members(), new Set([u1.id, u3.id]));
    const patch = writes(start).find((w) => w.method === 'PATCH')!;
    assert.deepEqual((patch.body as { Operations: unknown[] }).Operations, [
      { op: 'remove', path: `members[value eq "${u2.id}"]` },
    ]);

    assert.equal((await runCli(['groups', 'rename', gid, 'Release Captains'], { env })).code, 0);
    assert.equal((server.groups.get(gid) as { displayName: string }).displayName, 'Release Captains');

    const refused = await runCli(['groups', 'set-members', gid, u2.id], { env });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /pass --yes/);
    assert.deepEqual(members(), new Set([u1.id, u3.id]));
    assert.equal((await runCli(['groups', 'set-members', gid, u2.id, '--yes'], { env })).code, 0);
    assert.deepEqual(members(), new Set([u2.id]));

    const del = await runCli(['groups', 'delete', 'Release Captains', '--yes'], { env });
    assert.equal(del.code, 0, del.stderr);
    assert.ok(!server.groups.has(gid));
    assert.ok(server.users.has(u2.id), 'deleting a group keeps its members');
  });
});

describe('a server without PATCH', () => {
  let plain: ScimmyServer;
  let plainEnv: Record<string, string>;
  before(async () => {
    plain = await startScimmyServer({ token: TOKEN, users: 10, groups: 2, patch: false, etag: true });
    plainEnv = serverEnv(plain.url, TOKEN, tempHome());
  });
  after(() => plain.close());

  test('update goes through GET + PUT with If-Match and loses nothing else', async () => {
    const target = [...plain.users.values()].find((u: StoredUser) => u.phoneNumbers?.length) as StoredUser;
    const snapshot = structuredClone(target);
    const start = plain.requests.length;
    const r = await runCli(
      ['users', 'update', target.userName, '--set', 'title=Put Master', '--set', `${ENTERPRISE}:department=Legal`],
      { env: plainEnv },
    );
    assert.equal(r.code, 0, r.stderr);
    const put = plain.requests.slice(start).filter((q) => q.method === 'PUT');
    assert.equal(put.length, 1);
    assert.equal(plain.requests.slice(start).filter((q) => q.method === 'PATCH').length, 0);
    assert.match(String(put[0]!.headers['if-match']), /^W\/"/);
    const stored = plain.users.get(target.id) as StoredUser;
    assert.equal(stored.title, 'Put Master');
    assert.equal((stored[ENTERPRISE] as { department: string }).department, 'Legal');
    assert.deepEqual(stored.phoneNumbers, snapshot.phoneNumbers);
    assert.deepEqual(stored.emails, snapshot.emails);
    assert.deepEqual(stored.name, snapshot.name);
    assert.equal(stored.externalId, snapshot.externalId);
    assert.equal(
      (stored[ENTERPRISE] as { employeeNumber: string }).employeeNumber,
      (snapshot[ENTERPRISE] as { employeeNumber: string }).employeeNumber,
    );
  });

  test('membership changes re-PUT the group with its current members', async () => {
    const group = [...plain.groups.values()][0] as { id: string; members: Array<{ value: string }> };
    const before = new Set(group.members.map((m) => m.value));
    const outsider = [...plain.users.values()].find((u: StoredUser) => !before.has(u.id)) as StoredUser;
    const r = await runCli(['groups', 'add-members', group.id, outsider.id], { env: plainEnv });
    assert.equal(r.code, 0, r.stderr);
    const after = new Set(
      (plain.groups.get(group.id) as { members: Array<{ value: string }> }).members.map((m) => m.value),
    );
    assert.deepEqual(after, new Set([...before, outsider.id]));
  });
});

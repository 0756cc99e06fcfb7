/** users and groups read commands, end to end against the scimmy-based server. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startScimmyServer, type ScimmyServer } from '../support/scimmy-server.ts';
import { runCli, runCliInTerminal, serverEnv, tempHome } from './helpers.ts';
import stringWidth from 'string-width';

const TOKEN = 'e2e-read-token-0123456789';
let server: ScimmyServer;
let home: ReturnType<typeof tempHome>;
let env: Record<string, string>;

interface User {
  id: string;
  userName: string;
  displayName?: string;
  emails?: Array<{ value: string; primary?: boolean }>;
  title?: string;
  active?: boolean;
}

before(async () => {
  // maxPageSize below our default request size: every listing crosses capped pages.
  server = await startScimmyServer({ token: TOKEN, users: 137, groups: 6, maxPageSize: 50 });
  home = tempHome();
  env = serverEnv(server.url, TOKEN, home);
});

after(async () => {
  await server.close();
  home.cleanup();
});

const storedUsers = () => [...server.users.values()] as User[];

describe('users list', () => {
  test('lists every user across capped pages as stable tab-separated rows', async () => {
    const r = await runCli(['users', 'list'], { env });
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split('\t'));
    assert.equal(rows.length, 137);
    assert.ok(rows.every((cols) => cols.length === 5));
    const ids = new Set(rows.map((cols) => cols[0]));
    assert.deepEqual(ids, new Set(storedUsers().map((u) => u.id)));
    const byId = new Map(storedUsers().map((u) => [u.id, u]));
    for (const [id, userName, , active] of rows) {
      assert.equal(userName, byId.get(id!)!.userName);
      assert.equal(active, byId.get(id!)!.active === false ? 'no' : 'yes');
    }
    // The server capped pages at 50: at least three list requests were needed.
    assert.ok(server.requests.filter((q) => q.method === 'GET' && /^\/scim\/v2\/Users\?/.test(q.path)).length >= 3);
  });

  test('--json prints the resources as received, --limit stops early', async () => {
    const all = await runCli(['users', 'list', '--json'], { env });
    assert.equal(all.code, 0, all.stderr);
    const users = JSON.parse(all.stdout) as User[];
    assert.equal(users.length, 137);
    const stored = server.users.get(users[0]!.id) as User;
    assert.equal(users[0]!.userName, stored.userName);

    const some = await runCli(['users', 'list', '--json', '--limit', '7'], { env });
    assert.equal((JSON.parse(some.stdout) as User[]).length, 7);
  });

  test('--filter is passed to the server; userName matches case-insensitively', async () => {
    const target = storedUsers()[42]!;
    const r = await runCli(['users', 'list', '--json', '--filter', `userName eq "${target.userName.toUpperCase()}"`], {
      env,
    });
    assert.equal(r.code, 0, r.stderr);
    const users = JSON.parse(r.stdout) as User[];
    assert.deepEqual(
      users.map((u) => u.id),
      [target.id],
    );
  });

  test('--attributes chooses the columns', async () => {
    const r = await runCli(['users', 'list', '--attributes', 'userName,title', '--limit', '3'], { env });
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split('\t'));
    assert.equal(rows.length, 3);
    for (const [id, userName, title] of rows) {
      const u = server.users.get(id!) as User;
      assert.equal(userName, u.userName);
      assert.equal(title, u.title ?? '');
    }
  });
});

describe('on a terminal', () => {
  test('users list prints a table with a header that fits the width', async () => {
    const r = await runCliInTerminal(['users', 'list', '--limit', '20'], 72, { env });
    assert.equal(r.code, 0, r.stdout);
    // Progress lines are cleared with \r\x1b[2K; what remains is the table.
    const lines = r.stdout
      .split('\r\n')
      .map((l) => l.replace(/^[\s\S]*\r\x1b\[2K/, ''))
      .filter((l) => l.trim() !== '');
    assert.match(lines[0]!, /^ID\s+USERNAME\s+DISPLAYNAME\s+ACTIVE\s+EMAIL$/);
    assert.equal(lines.length, 21);
    for (const line of lines) assert.ok(stringWidth(line) <= 72, `"${line}" is wider than 72`);
    assert.ok(
      lines.slice(1).every((l) => l.includes('…')),
      'ids were shortened to fit',
    );
  });
});

describe('users get and search', () => {
  test('get finds a user by id, by userName and by e-mail', async () => {
    const target = storedUsers()[10]!;
    const email = target.emails![0]!.value;
    for (const ref of [target.id, target.userName, email]) {
      const r = await runCli(['users', 'get', ref, '--json'], { env });
      assert.equal(r.code, 0, `${ref}: ${r.stderr}`);
      assert.equal((JSON.parse(r.stdout) as User).id, target.id);
    }
  });

  test('get prints attributes one per line in a pipe', async () => {
    const target = storedUsers()[3]!;
    const r = await runCli(['users', 'get', target.id], { env });
    assert.equal(r.code, 0, r.stderr);
    const lines = new Map(
      r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.split('\t') as [string, string]),
    );
    assert.equal(lines.get('userName'), target.userName);
    assert.equal(lines.get('id'), target.id);
  });

  test('get of an unknown user exits 5 with a message', async () => {
    const r = await runCli(['users', 'get', 'nobody-here@example.com'], { env });
    assert.equal(r.code, 5);
    assert.match(r.stderr, /no user matches "nobody-here@example.com"/);
    assert.equal(r.stdout, '');
  });

  test('search by e-mail, by name and by filter', async () => {
    const target = storedUsers()[20]!;
    const byEmail = await runCli(['users', 'search', '--email', target.emails![0]!.value, '--json'], { env });
    assert.equal(byEmail.code, 0, byEmail.stderr);
    assert.deepEqual(
      (JSON.parse(byEmail.stdout) as User[]).map((u) => u.id),
      [target.id],
    );

    const family = target.userName.split('@')[0]!.split('.')[1]!;
    const byName = await runCli(['users', 'search', '--name', family, '--json'], { env });
    assert.equal(byName.code, 0, byName.stderr);
    const found = JSON.parse(byName.stdout) as User[];
    assert.ok(found.some((u) => u.id === target.id));
    const expected = storedUsers().filter((u) =>
      [u.userName, u.displayName].some((t) => t?.toLowerCase().includes(family.toLowerCase())),
    );
    for (const u of expected)
      assert.ok(
        found.some((f) => f.id === u.id),
        `missing ${u.userName}`,
      );

    const inactive = await runCli(['users', 'search', '--filter', 'active eq false', '--json'], { env });
    assert.equal(inactive.code, 0, inactive.stderr);
    assert.deepEqual(
      new Set((JSON.parse(inactive.stdout) as User[]).map((u) => u.id)),
      new Set(
        storedUsers()
          .filter((u) => u.active === false)
          .map((u) => u.id),
      ),
    );
  });

  test('search needs exactly one criterion (exit 2)', async () => {
    const r = await runCli(['users', 'search'], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--email, --name or --filter/);
  });
});

describe('groups', () => {
  test('list shows every group with its member count', async () => {
    const r = await runCli(['groups', 'list'], { env });
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split('\t'));
    assert.equal(rows.length, 6);
    for (const [id, name, count] of rows) {
      const g = server.groups.get(id!) as { displayName: string; members?: unknown[] };
      assert.equal(name, g.displayName);
      assert.equal(Number(count), g.members?.length ?? 0);
    }
  });

  test('get and members by displayName', async () => {
    const g = [...server.groups.values()][1] as { id: string; displayName: string; members: Array<{ value: string }> };
    const get = await runCli(['groups', 'get', g.displayName, '--json'], { env });
    assert.equal(get.code, 0, get.stderr);
    assert.equal((JSON.parse(get.stdout) as { id: string }).id, g.id);

    const members = await runCli(['groups', 'members', g.displayName], { env });
    assert.equal(members.code, 0, members.stderr);
    const ids = members.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split('\t')[0]);
    assert.deepEqual(new Set(ids), new Set(g.members.map((m) => m.value)));
  });
});

describe('names and colour on a terminal', () => {
  test(
    'groups get and users get name the members and groups; in a pipe the lines are ' + 'as the server gave them',
    async () => {
      const group = [...server.groups.values()].find((g) => (g.members ?? []).length >= 2)!;
      const r = await runCliInTerminal(['groups', 'get', group.id], 200, { env });
      assert.equal(r.code, 0, r.stdout);
      const byId = new Map(storedUsers().map((u) => [u.id, u]));
      const rows = r.stdout.split('\r\n').filter((l) => /^members\[\d+\]/.test(l));
      assert.equal(rows.length, group.members!.length, r.stdout);
      // Named by the server's display where it gives one, else by the userName read by id.
      for (const m of group.members!) {
        const name = m.display ?? byId.get(m.value)!.userName;
        assert.ok(
          rows.some((l) => new RegExp(`^members\\[\\d+\\] +${name}  value=${m.value}`).test(l)),
          `member ${m.value} is named:\n${rows.join('\n')}`,
        );
      }
      const member = byId.get(group.members![0]!.value)!;
      const user = await runCliInTerminal(['users', 'get', member.id], 200, { env });
      assert.match(user.stdout, new RegExp(`^groups\\[\\d+\\] +${group.displayName} +value=${group.id}`, 'm'));
      const pipe = await runCli(['groups', 'get', group.id], { env });
      assert.equal(pipe.code, 0, pipe.stderr);
      assert.doesNotMatch(pipe.stdout, new RegExp(`^members\\[\\d+\\]\\t${member.userName}`, 'm'));
    },
  );

  test(
    'error: is red when stderr is a terminal, though stdout is a file; not with ' + 'NO_COLOR or --no-color',
    async () => {
      const out = join(home.dir, 'out.txt');
      const red = await runCliInTerminal(['users', 'get', 'nobody-at-all@example.com'], 100, { env, stdoutTo: out });
      assert.equal(red.code, 5, red.stdout);
      assert.match(red.stdout, /scimctl: \x1b\[31merror:\x1b\[39m /);
      const noColor = await runCliInTerminal(['users', 'get', 'nobody-at-all@example.com'], 100, {
        env: { ...env, NO_COLOR: '1' },
        stdoutTo: out,
      });
      assert.match(noColor.stdout, /scimctl: error: /);
      const flag = await runCliInTerminal(['users', 'get', 'nobody-at-all@example.com', '--no-color'], 100, {
        env,
        stdoutTo: out,
      });
      assert.doesNotMatch(flag.stdout, /\x1b\[3\dm/);
    },
  );
});

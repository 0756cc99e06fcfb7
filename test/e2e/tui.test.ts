/**
 * The TUI in a real terminal: the built binary on a pseudo-terminal (node-pty), its
 * output drawn on a virtual screen (xterm headless), against the scimmy SCIM server.
 * Every wait polls the screen (or the server's store) against a deadline.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { startScimmyServer, type ScimmyServer } from '../support/scimmy-server.ts';
import { runCli, serverEnv, tempHome } from './helpers.ts';
import { PtyApp, waitFor, type PtyOptions } from './pty.ts';

const TOKEN = 'e2e-tui-token-5c2d9e8f7a6b';
const SHELL = 'admin@host:~$ echo before\r\nbefore\r\nadmin@host:~$ scimctl\r\n';

interface StoredUser {
  id: string;
  userName: string;
  title?: string;
  displayName?: string;
}

let apps: PtyApp[] = [];
afterEach(() => {
  for (const a of apps) a.dispose();
  apps = [];
});

function open(args: string[], env: Record<string, string>, options: PtyOptions = {}): PtyApp {
  const app = new PtyApp(args, { before: SHELL, ...options, env: { ...env, ...options.env } });
  apps.push(app);
  return app;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function assertRestoredAfterSync(app: PtyApp): void {
  assert.equal(app.bufferType, 'normal', app.describe());
  assert.equal(app.cursorVisible, true, 'the cursor is shown again');
  assert.doesNotMatch(
    app.normalLines().join('\n'),
    /q back \/ quit|plan review/,
    'nothing of the TUI is left on the normal screen',
  );
}

/**
 * The terminal after the program ended: normal screen back, cursor shown, the shell's lines intact, nothing of the TUI
 * left.
 */
function assertRestored(app: PtyApp): void {
  assert.equal(app.bufferType, 'normal', app.describe());
  assert.equal(app.cursorVisible, true, 'the cursor is shown again');
  const normal = app.normalLines().join('\n');
  assert.match(normal, /^admin@host:~\$ echo before\nbefore\nadmin@host:~\$ scimctl/);
  assert.doesNotMatch(normal, /USERNAME|q back \/ quit/, 'nothing of the TUI is left on the normal screen');
}

interface Fixture {
  server: ScimmyServer;
  home: ReturnType<typeof tempHome>;
  env: Record<string, string>;
}

/** A scimmy server with 300 users and a private scimctl home, for the tests of one describe. */
function withScimServer(set: (f: Fixture) => void): void {
  let fixture: Fixture | undefined;
  before(async () => {
    const server = await startScimmyServer({ token: TOKEN, users: 300, groups: 5 });
    const home = tempHome();
    fixture = {
      server,
      home,
      env: { ...serverEnv(server.url, TOKEN, home), SCIMCTL_DATA_DIR: join(home.dir, 'data') },
    };
    set(fixture);
  });
  after(async () => {
    await fixture?.server.close();
    fixture?.home.cleanup();
  });
}

describe('scimctl tui in a terminal', () => {
  let server: ScimmyServer;
  let env: Record<string, string>;
  const users = () => [...server.users.values()] as StoredUser[];

  withScimServer((f) => ({ server, env } = f));

  test('alternate screen; search as you type; open a user; delete it with "yes"; q restores the terminal', async () => {
    const app = open(['tui'], env);
    await app.waitForText('[1 users 300]', 20_000);
    assert.equal(app.bufferType, 'alternate');
    assert.equal(app.cursorVisible, false, 'the cursor is hidden while the TUI runs');
    // The shell's lines stay on the normal screen, untouched.
    assert.deepEqual(app.normalLines().filter(Boolean), [
      'admin@host:~$ echo before',
      'before',
      'admin@host:~$ scimctl',
    ]);
    let lines = app.lines();
    assert.ok(lines[0]!.startsWith(`scimctl  environment  ${server.url}`), lines[0]);
    // Names first, no id column (the e-mail, equal to the userName, folded into it).
    assert.match(lines[1]!, /^USERNAME\s+DISPLAYNAME\s+ACTIVE$/);
    assert.match(lines[28]!, /^q back \/ quit {2}\? help {2}enter open/);
    assert.deepEqual(app.inverseRows(), [2], 'the first user is selected');

    // A user whose userName is unique, found by typing part of it, one key at a time.
    const target = users()[137]!;
    const query = target.userName.split('@')[0]!;
    const count = (): number => Number(/\((\d+) match/.exec(app.screen())?.[1] ?? NaN);
    app.type('/');
    await app.waitForText('/▏  (300 match');
    const seen: number[] = [];
    for (let i = 1; i <= query.length; i++) {
      app.type(query[i - 1]!);
      await app.waitForText(`/${query.slice(0, i)}▏`);
      seen.push(count());
    }
    const expected = users().filter((u) =>
      `${u.userName} ${u.displayName ?? ''}`.toLowerCase().includes(query.toLowerCase()),
    ).length;
    assert.equal(seen.at(-1), expected, `matches for "${query}"`);
    // (One letter may match every user: the haystack holds the e-mail, and every e-mail has "example.com".)
    assert.ok(seen.at(-1)! < seen[0]!, `typing narrows the list: ${seen.join(' ')}`);
    assert.ok(
      seen.every((n, i) => i === 0 || n <= seen[i - 1]!),
      `no key widens it: ${seen.join(' ')}`,
    );
    assert.match(app.screen(), new RegExp(escape(target.userName)));

    // Enter keeps the filter; on the first match, Enter opens the user.
    app.type('\r');
    await app.waitForText(/filter: .* shown; \/ to change/);
    const row = app.lines().findIndex((l) => l.includes(target.userName));
    for (let i = 2; i < row; i++) app.type('j');
    await app.waitForScreen(() => app.inverseRows()[0] === row);
    app.type('\r');
    await app.waitForText(new RegExp(`userName +${escape(target.userName)}`));
    await app.waitForText(/groups \(\d+\):/);
    assert.match(app.screen(), new RegExp(`id +${target.id}`));

    // D, then "yes" and Enter.
    app.type('D');
    await app.waitForText('Delete user');
    app.type('yes');
    await app.waitForText(/Esc to cancel: yes/);
    assert.ok(server.users.has(target.id), 'nothing is deleted before Enter');
    app.type('\r');
    // The status line names the user by userName, not by id.
    await app.waitForText(`deleted user ${target.userName}`);
    await waitFor(() => !server.users.has(target.id));
    assert.equal(server.requests.filter((r) => r.method === 'DELETE').length, 1);
    lines = app.lines();
    assert.match(lines[0]!, /\[1 users 299\]/);
    // Only the status line still names the user: the list has lost the row.
    assert.deepEqual(
      lines.filter((l) => l.includes(target.userName)),
      [`deleted user ${target.userName}`],
    );

    app.type('q');
    const exit = await app.waitForExit();
    assert.equal(exit.exitCode, 0);
    assertRestored(app);
  });

  test('D with anything but "yes" deletes nothing', async () => {
    const app = open(['tui'], env);
    await app.waitForText(/\[1 users \d+\]/, 20_000);
    const first = users()[0]!;
    app.type('\r');
    await app.waitForText(new RegExp(`userName +${escape(first.userName)}`));
    // Backspace is not Delete: it opens no confirmation (the "?" after it opens the help).
    app.type('\u007f');
    app.type('?');
    await app.waitForText('Keys (user)');
    assert.doesNotMatch(app.screen(), /Delete user/);
    app.type('?');
    await app.waitForText(/groups \(\d+\):/);
    app.type('D');
    await app.waitForText('Delete user');
    app.type('y\r');
    await app.waitForText('not confirmed (type "yes")');
    app.type('Dno\r');
    await app.waitForText('not confirmed (type "yes")');
    assert.ok(server.users.has(first.id));
    app.type('qq');
    assert.equal((await app.waitForExit()).exitCode, 0);
    assertRestored(app);
  });

  test('Esc never quits: search, Enter, Esc clears the filter, Esc again does nothing; q quits', async () => {
    const app = open(['tui'], env);
    await app.waitForText(/\[1 users \d+\]/, 20_000);
    const query = users()[137]!.userName.split('@')[0]!;
    app.type('/');
    await app.waitForText('/▏');
    app.type(query);
    await app.waitForText(`/${query}▏`);
    app.type('\r');
    await app.waitForText(`filter: ${query}`);
    app.type('\u001b');
    await app.waitForScreen((screen) => !screen.includes(`filter: ${query}`));
    app.type('\u001b');
    // The app took the key after the second Esc: it is still running.
    app.type('2');
    await app.waitForText('[2 groups');
    assert.equal(app.bufferType, 'alternate');
    app.type('q');
    assert.equal((await app.waitForExit()).exitCode, 0);
    assertRestored(app);
  });

  test('Ctrl+C from an overlay in the detail view leaves the alternate screen (exit 0)', async () => {
    const app = open(['tui'], env);
    await app.waitForText(/\[1 users \d+\]/, 20_000);
    app.type('\r');
    await app.waitForText(/groups \(\d+\):/);
    app.type('D');
    await app.waitForText('Delete user');
    app.type('\u0003');
    const exit = await app.waitForExit();
    // Ink has the terminal in raw mode: Ctrl+C is a key the app quits on, not SIGINT (which would be 130).
    assert.equal(exit.exitCode, 0);
    assertRestored(app);
  });

  test('resizing the terminal redraws the explorer at the new size', async () => {
    const app = open(['tui'], env);
    await app.waitForText(/\[1 users \d+\]/, 20_000);
    assert.ok(app.lines()[0]!.length > 90);

    app.resize(80, 24);
    // Header, table and footer redrawn for 80×24: the counts at the right edge, the hints on row 22.
    await app.waitForScreen(
      (_, l) =>
        /\[1 users \d+\] 2 groups \d+ {2}3 runs 0 ?$/.test(l[0]!) &&
        l[0]!.length <= 80 &&
        /^q back \/ quit/.test(l[22]!),
    );
    let lines = app.lines();
    assert.match(lines[1]!, /^USERNAME +DISPLAYNAME/);
    assert.equal(lines.filter((l) => /@/.test(l)).length, 18, '18 rows of users fit');
    assert.equal(lines[23], '', 'one row is left free');

    app.resize(120, 40);
    await app.waitForScreen((_, l) => l[0]!.length > 110 && /^q back \/ quit/.test(l[38]!));
    lines = app.lines();
    assert.equal(lines.filter((l) => /@/.test(l)).length, 34, '34 rows of users fit');
    assert.equal(
      lines.filter((l) => l.startsWith('scimctl  ')).length,
      1,
      'one header, no leftovers of earlier frames',
    );
    app.type('q');
    assert.equal((await app.waitForExit()).exitCode, 0);
    assertRestored(app);
  });

  test('at 80×24 the header, the table and the footer fit', async () => {
    const app = open(['tui'], env, { cols: 80, rows: 24 });
    await app.waitForText(/\[1 users \d+\]/, 20_000);
    const lines = app.lines();
    // The URL gives way to the pane counts.
    assert.match(
      lines[0]!,
      /^scimctl {2}environment {2}http:\/\/127\.0\.0\.1:\S*… \[1 users \d+\] 2 groups \d+ {2}3 runs 0 ?$/,
    );
    assert.match(lines[1]!, /^USERNAME +DISPLAYNAME +ACTIVE$/);
    assert.equal(lines.slice(2, 20).filter((l) => /@example\.com/.test(l)).length, 18);
    assert.match(lines[22]!, /^q back \/ quit {2}\? help {2}enter open {2}\/ search/);
    assert.ok(lines.every((l) => l.length <= 80));
    // The help fits too, every line of it.
    app.type('?');
    await app.waitForText('Keys (users)');
    for (const label of [
      'quit',
      'back / quit',
      'move down',
      'page down',
      'last',
      'open',
      'search',
      'sort by next column',
      'reload',
      'new user',
    ]) {
      assert.ok(
        // In full: the end of a line, or of the left one of two columns (21 keys do not fit one column of 24 rows).
        app.lines().some((l) => new RegExp(` ${escape(label)}( {2,}\\S|$)`).test(l)),
        label,
      );
    }
    app.type('?q');
    assert.equal((await app.waitForExit()).exitCode, 0);
    assertRestored(app);
  });

  test('scimctl with no arguments opens the explorer on a terminal', async () => {
    const app = open([], env);
    await app.waitForText(/\[1 users \d+\]/, 20_000);
    assert.equal(app.bufferType, 'alternate');
    app.type('q');
    assert.equal((await app.waitForExit()).exitCode, 0);
    assertRestored(app);
  });

  test('without a terminal: tui exits 2 with a clear message, no arguments print the help', async () => {
    const tui = await runCli(['tui'], { env });
    assert.equal(tui.code, 2);
    assert.match(tui.stderr, /the TUI needs a terminal; for scripts use the subcommands/);
    assert.equal(tui.stdout, '');
    const bare = await runCli([], { env });
    assert.equal(bare.code, 0, bare.stderr);
    assert.match(bare.stdout, /^scimctl <command> \[options\]/);
    assert.match(bare.stdout, /scimctl tui +Open the full-screen explorer/);
    assert.doesNotMatch(bare.stdout, /\u001b\[\?1049h/);
  });
});

describe('scimctl sync run: the plan review in a terminal', () => {
  let server: ScimmyServer;
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;

  withScimServer((f) => ({ server, home, env } = f));

  test('exclude one change with space, apply with "yes": the server gets exactly the included changes', async () => {
    // The source: the server's own users, exported, with two titles changed and one user added.
    const file = join(home.dir, 'users.json');
    const exported = await runCli(['export', 'users', '-o', file], { env });
    assert.equal(exported.code, 0, exported.stderr);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { Resources: Array<Record<string, unknown>> };
    type Exported = { id: string; userName: string; title?: string };
    const a = doc.Resources[3] as unknown as Exported;
    const b = doc.Resources[4] as unknown as Exported;
    const titles = new Map([...server.users.values()].map((u: StoredUser) => [u.id, u.title]));
    a.title = 'Chief Tester';
    b.title = 'Head of QA';
    doc.Resources.push({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'new.person@example.com',
      name: { givenName: 'New', familyName: 'Person' },
      emails: [{ value: 'new.person@example.com', type: 'work', primary: true }],
    });
    writeFileSync(file, JSON.stringify(doc));
    const writesBefore = server.requests.filter((r) => r.method !== 'GET').length;

    const app = open(['sync', 'run', '--source', file], env);
    await app.waitForText('plan review', 30_000);
    await app.waitForText('Update users (2)');
    assert.equal(app.bufferType, 'alternate');
    assert.match(app.screen(), /Create users \(1\)\n\[✔\] \+ create user new\.person@example\.com/);
    assert.match(app.screen(), /^1 to create, 2 to update, 0 to deactivate, 0 to delete, 0 membership changes\.$/m);
    assert.match(app.screen(), /^filter: all$/m);

    // Down to the first update, and exclude it.
    const updateRows = () =>
      app
        .lines()
        .map((l, i) => (/~ update user /.test(l) ? i : -1))
        .filter((i) => i >= 0);
    assert.deepEqual(app.inverseRows(), [app.lines().findIndex((l) => l.includes('create user new.person'))]);
    app.type('j');
    await app.waitForScreen(() => app.inverseRows()[0] === updateRows()[0]);
    const excludedName = /update user (\S+)/.exec(app.lines()[updateRows()[0]!]!)![1]!;
    const excluded = [a, b].find((u) => u.userName === excludedName)!;
    const included = [a, b].find((u) => u.userName !== excludedName)!;
    assert.ok(excluded && included, `the selected update is one of the two: ${excludedName}`);
    app.type(' ');
    await app.waitForText(`[ ] ~ update user ${excludedName}`);
    await app.waitForText(/^filter: all {2}· {2}1 excluded$/m);
    assert.match(app.screen(), /^1 to create, 1 to update, 0 to deactivate/m);

    app.type('a');
    await app.waitForText('Apply 2 change(s)? Type "yes" and Enter:');
    app.type('yes');
    await app.waitForText('Type "yes" and Enter: yes');
    app.type('\r');
    await app.waitForText(/Done: 2 applied, 0 failed, 1 excluded\. q to quit\./, 30_000);
    assert.match(app.screen(), /\[✓\] \+ create user new\.person@example\.com/);
    assert.match(app.screen(), new RegExp(`\\[-\\] ~ update user ${escape(excludedName)}`));
    assert.match(app.screen(), new RegExp(`\\[✓\\] ~ update user ${escape(included.userName)}`));
    app.type('q');
    const exit = await app.waitForExit();
    assert.equal(exit.exitCode, 0, app.normalLines().join('\n'));
    assertRestoredAfterSync(app);
    assert.match(app.normalLines().join('\n'), /scimctl: applied 2 of 3 change\(s\), 1 excluded \(run \S+\)/);

    // The server got exactly the included changes.
    const stored = (id: string) => server.users.get(id) as StoredUser;
    assert.equal(stored(included.id).title, included === a ? 'Chief Tester' : 'Head of QA');
    assert.equal(stored(excluded.id).title, titles.get(excluded.id));
    const created = ([...server.users.values()] as StoredUser[]).filter((u) => u.userName === 'new.person@example.com');
    assert.equal(created.length, 1);
    const writes = server.requests.filter((r) => r.method !== 'GET').slice(writesBefore);
    assert.equal(writes.length, 2, writes.map((w) => `${w.method} ${w.path}`).join('\n'));
    assert.ok(!writes.some((w) => w.path.includes(excluded.id)), 'nothing was sent for the excluded user');

    const runs = await runCli(['runs', 'list', '--json'], { env });
    assert.equal(runs.code, 0, runs.stderr);
    const list = JSON.parse(runs.stdout) as Array<{
      command: string;
      status: string;
      results?: Record<string, number>;
    }>;
    assert.equal(list.length, 1);
    assert.equal(list[0]!.command, 'sync run');
    assert.equal(list[0]!.status, 'applied');
    assert.deepEqual(list[0]!.results, { applied: 2, failed: 0, excluded: 1 });
  });

  test('Ctrl+C while changes are being applied keeps the review open until they are done', async () => {
    const file = join(home.dir, 'users3.json');
    const exported = await runCli(['export', 'users', '-o', file], { env });
    assert.equal(exported.code, 0, exported.stderr);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as {
      Resources: Array<{ id: string; userName: string; title?: string }>;
    };
    const [fast, slow] = [doc.Resources[20]!, doc.Resources[21]!];
    fast.title = 'Quick Change';
    slow.title = 'Slow Change';
    writeFileSync(file, JSON.stringify(doc));
    // The server never answers the change of one user: it fails after the 2-second timeout.
    server.addFault({ method: 'PATCH', path: new RegExp(slow.id), status: 500, hang: true, times: Infinity });
    try {
      const app = open(
        ['sync', 'run', '--source', file, '--timeout', '2', '--retries', '0', '--concurrency', '1'],
        env,
      );
      await app.waitForText('Update users (2)', 30_000);
      app.type('a');
      await app.waitForText('Type "yes" and Enter:');
      app.type('yes\r');
      await app.waitForText(/Applying… [01]\/2/);
      app.type('\u0003');
      await app.waitForText('changes are being applied: q quits when they are done');
      assert.equal(app.exited, undefined);
      assert.equal(app.bufferType, 'alternate');
      await app.waitForText(/Done: 1 applied, 1 failed, 0 excluded\./, 20_000);
      assert.match(app.screen(), new RegExp(`\\[✓\\] ~ update user ${escape(fast.userName)}`));
      assert.match(app.screen(), new RegExp(`\\[✗\\] ~ update user ${escape(slow.userName)} .*— `));
      app.type('\u0003');
      const exit = await app.waitForExit();
      assert.equal(exit.exitCode, 1, 'a failed change makes the run fail');
      assertRestoredAfterSync(app);
      const normal = app.normalLines().join('\n');
      assert.match(normal, /scimctl: applied 1 of 2 change\(s\), 1 failed/);
      assert.doesNotMatch(normal, /nothing applied/);
      const runs = JSON.parse((await runCli(['runs', 'list', '--json'], { env })).stdout) as Array<{
        status: string;
        message?: string;
        results?: Record<string, number>;
      }>;
      assert.equal(runs[0]!.status, 'partial');
      assert.equal(runs[0]!.message, undefined);
      assert.deepEqual(runs[0]!.results, { applied: 1, failed: 1, excluded: 0 });
      assert.equal((server.users.get(fast.id) as StoredUser).title, 'Quick Change');
    } finally {
      server.clearFaults();
    }
  });

  test('closing the review with q applies nothing and records the run as not applied', async () => {
    const file = join(home.dir, 'users2.json');
    const exported = await runCli(['export', 'users', '-o', file], { env });
    assert.equal(exported.code, 0, exported.stderr);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { Resources: Array<{ id: string; title?: string }> };
    const target = doc.Resources[10]!;
    const title = target.title;
    target.title = 'Never Applied';
    writeFileSync(file, JSON.stringify(doc));
    const app = open(['sync', 'run', '--source', file], env);
    await app.waitForText('Update users (1)', 30_000);
    // q with a change not applied asks first.
    app.type('q');
    await app.waitForText('Quit without applying?');
    app.type('yes\r');
    assert.equal((await app.waitForExit()).exitCode, 0);
    assert.equal(app.bufferType, 'normal');
    assert.match(app.normalLines().join('\n'), /scimctl: nothing applied/);
    assert.equal((server.users.get(target.id) as StoredUser).title, title);
    const runs = JSON.parse((await runCli(['runs', 'list', '--json'], { env })).stdout) as Array<{
      status: string;
      message?: string;
    }>;
    assert.equal(runs[0]!.status, 'planned');
    assert.equal(runs[0]!.message, 'not applied');
  });
});

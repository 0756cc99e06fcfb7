/**
 * export, runs and serve, run in-process (runCli): export and runs against an in-memory SCIM
 * server; serve's argument checks, and one serve that starts, answers and stops on SIGTERM.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

async function seed() {
  const ann = (
    await h.scim('POST', '/Users', { schemas: [USER], userName: 'ann@example.com', displayName: '=SUM(A1)' })
  ).body.id as string;
  const bob = (await h.scim('POST', '/Users', { schemas: [USER], userName: 'bob@example.com' })).body.id as string;
  const eng = (
    await h.scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Engineering',
      members: [{ value: ann }, { value: bob }],
    })
  ).body.id as string;
  return { ann, bob, eng };
}

/** Waits until `check` holds (polling), failing after a while. */
async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('export', () => {
  test('users as a SCIM ListResponse on stdout (the default)', async () => {
    const { ann, bob } = await seed();
    const r = await h.run(['export', 'users']);
    assert.equal(r.code, ExitCode.OK, r.stderr);
    const list = JSON.parse(r.stdout);
    assert.equal(list.totalResults, 2);
    assert.deepEqual(
      (list.Resources as any[]).map((u) => u.id),
      [ann, bob],
    );
    assert.match(r.stderr, /exported 2 users$/m);
  });

  test('groups with their members, as CSV to a file; formula cells escaped unless --no-formula-escape', async () => {
    const { ann, bob } = await seed();
    const file = join(h.dir, 'groups.csv');
    const r = await h.run(['export', 'groups', '--format', 'csv', '-o', file]);
    assert.equal(r.code, ExitCode.OK, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`exported 1 groups to ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const csv = readFileSync(file, 'utf8');
    assert.match(csv, /Engineering/);
    assert.ok(csv.includes(ann) && csv.includes(bob), 'members are in the export');
    assert.deepEqual(
      readdirSync(h.dir).filter((n) => n.includes('.partial-')),
      [],
      'no partial file left',
    );

    const escaped = await h.run(['export', 'users', '--format', 'csv']);
    assert.match(escaped.stdout, /'=SUM\(A1\)/);
    const raw = await h.run(['export', 'users', '--format', 'csv', '--no-formula-escape']);
    assert.doesNotMatch(raw.stdout, /'=SUM/);
    assert.match(raw.stdout, /=SUM\(A1\)/);
  });

  test('only users or groups, only json or csv; --filter reaches the server', async () => {
    await seed();
    const type = await h.run(['export', 'things']);
    assert.equal(type.code, ExitCode.USAGE);
    assert.match(type.stderr, /Invalid values/);
    const format = await h.run(['export', 'users', '--format', 'xml']);
    assert.equal(format.code, ExitCode.USAGE);
    assert.equal(h.requests.length, 0);
    const filtered = await h.run(['export', 'users', '--filter', 'userName eq "bob@example.com"']);
    assert.deepEqual(
      (JSON.parse(filtered.stdout).Resources as any[]).map((u) => u.userName),
      ['bob@example.com'],
    );
  });

  test('a failed export leaves no file behind', async () => {
    await seed();
    const file = join(h.dir, 'users.json');
    const r = await h.run(['export', 'users', '-o', file], { env: { SCIMCTL_TOKEN: 'not-the-token-0000000000' } });
    assert.equal(r.code, ExitCode.AUTH);
    assert.equal(existsSync(file), false);
    assert.deepEqual(
      readdirSync(h.dir).filter((n) => n.startsWith('users.json')),
      [],
    );
  });
});

describe('runs', () => {
  test('no runs yet: said on stderr; --json is an empty list', async () => {
    const r = await h.run(['runs', 'list']);
    assert.equal(r.code, ExitCode.OK);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /no runs yet/);
    assert.deepEqual(JSON.parse((await h.run(['runs', 'list', '--json'])).stdout), []);
    const show = await h.run(['runs', 'show', 'latest']);
    assert.equal(show.code, ExitCode.NOT_FOUND);
  });

  test('list, show and log of a sync plan run', async () => {
    await seed();
    const source = join(h.dir, 'source.json');
    writeFileSync(
      source,
      JSON.stringify([
        { schemas: [USER], userName: 'ann@example.com' },
        { schemas: [USER], userName: 'cy@example.com' },
      ]),
    );
    const plan = await h.run(['sync', 'plan', '--source', source]);
    assert.equal(plan.code, ExitCode.OK, plan.stderr);

    const list = await h.run(['runs', 'list']);
    const [row, ...more] = list.stdout.trimEnd().split('\n');
    assert.equal(more.length, 0);
    const [id, command, status, profile] = row!.split('\t');
    assert.deepEqual([command, status, profile], ['sync plan', 'planned', 'environment']);
    const listed = JSON.parse((await h.run(['runs', 'list', '--json', '--limit', '1'])).stdout) as any[];
    assert.deepEqual(
      listed.map((r) => r.id),
      [id],
    );

    const show = await h.run(['runs', 'show', 'latest']);
    assert.equal(show.code, ExitCode.OK, show.stderr);
    assert.match(show.stdout, new RegExp(`^run: +${id}$`, 'm'));
    assert.match(show.stdout, /^plan: +1 to create, /m);
    const showJson = JSON.parse((await h.run(['runs', 'show', id!, '--json'])).stdout);
    assert.equal(showJson.run.id, id);
    assert.ok(Array.isArray(showJson.plan.changes), 'the plan is included');

    const log = await h.run(['runs', 'log', id!.slice(0, 12)]);
    assert.equal(log.code, ExitCode.OK, log.stderr);
    assert.match(log.stdout, / INFO {2}source: 2 users, 0 groups from /);
    const logJson = await h.run(['runs', 'log', 'latest', '--json']);
    assert.equal(JSON.parse(logJson.stdout.split('\n')[0]!).level, 'info');
  });

  test("list: the active profile's runs; --all-profiles lists every profile's, with a PROFILE column", async () => {
    await seed();
    const source = join(h.dir, 'source.json');
    writeFileSync(source, JSON.stringify([{ schemas: [USER], userName: 'ann@example.com' }]));
    const add = await h.run(['profile', 'add', 'other', '--url', h.url, '--token-env', 'SCIMCTL_TOKEN']);
    assert.equal(add.code, ExitCode.OK, add.stderr);
    assert.equal((await h.run(['sync', 'plan', '--source', source])).code, ExitCode.OK);
    assert.equal((await h.run(['--profile', 'other', 'sync', 'plan', '--source', source])).code, ExitCode.OK);
    const profilesOf = async (args: string[]) =>
      (JSON.parse((await h.run([...args, '--json'])).stdout) as Array<{ profile: string }>).map((r) => r.profile);
    assert.deepEqual(await profilesOf(['runs', 'list']), ['environment']);
    assert.deepEqual(await profilesOf(['--profile', 'other', 'runs', 'list']), ['other']);
    assert.deepEqual((await profilesOf(['runs', 'list', '--all-profiles'])).sort(), ['environment', 'other']);
    const one = await h.run(['runs', 'list'], { tty: true, columns: 120 });
    assert.match(one.stdout.split('\n')[0]!, /^ID +COMMAND +STATUS +CHANGES +APPLIED +FAILED$/);
    const all = await h.run(['runs', 'list', '--all-profiles'], { tty: true, columns: 120 });
    assert.match(all.stdout.split('\n')[0]!, /^ID +COMMAND +STATUS +PROFILE +CHANGES/);
    assert.match(all.stdout, /^\S+ +sync plan +planned +other +/m);
    assert.match(all.stdout, /^\S+ +sync plan +planned +environment +/m);
  });

  test('show lists the failures of a run with what the server said', async () => {
    await seed();
    const source = join(h.dir, 'source.json');
    writeFileSync(source, JSON.stringify([{ schemas: [USER], userName: 'cy@example.com' }]));
    assert.equal((await h.run(['sync', 'plan', '--source', source])).code, ExitCode.OK);
    const id = JSON.parse((await h.run(['runs', 'list', '--json'])).stdout)[0].id as string;
    const dir = join(h.env.SCIMCTL_DATA_DIR!, 'runs', id);
    const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as {
      changes: { id: string; kind: string }[];
    };
    const create = plan.changes.find((c) => c.kind === 'create-user')!;
    const before = await h.run(['runs', 'show', id]);
    assert.doesNotMatch(before.stdout, /failures:/, 'a run without results lists no failures');
    writeFileSync(
      join(dir, 'results.json'),
      JSON.stringify([{ id: create.id, kind: create.kind, status: 'failed', detail: 'HTTP 409: userName taken' }]),
    );
    const show = await h.run(['runs', 'show', id]);
    assert.equal(show.code, ExitCode.OK, show.stderr);
    assert.match(show.stdout, /^failures: 1\n {2}\+ create user cy@example\.com.*\n {4}HTTP 409: userName taken$/m);
  });
});

describe('serve', () => {
  test('argument checks: the token variable, loopback, the port, --source with --seed-users', async () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['serve'], {}, /--token-env VAR/],
      [['serve', '--token-env', 'SERVE_TOKEN'], {}, /SERVE_TOKEN is not set/],
      [['serve', '--token-env', 'SERVE_TOKEN', '--host', '0.0.0.0'], { SERVE_TOKEN: 't' }, /plain HTTP to the network/],
      [
        ['serve', '--token-env', 'SERVE_TOKEN', '--port', '70000'],
        { SERVE_TOKEN: 't' },
        /--port takes a whole number from 0 to 65535/,
      ],
      [
        ['serve', '--token-env', 'SERVE_TOKEN', '--source', 'x.csv', '--seed-users', '5'],
        { SERVE_TOKEN: 't' },
        /cannot be combined with --seed-users/,
      ],
      [['serve', '--preset', 'ldap'], {}, /Invalid values/],
    ];
    for (const [args, env, message] of cases) {
      const r = await h.run(args, { env });
      assert.equal(r.code, ExitCode.USAGE, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
      assert.equal(r.stdout, '', args.join(' '));
    }
  });

  test('serves a seeded store on a free port until SIGTERM', async () => {
    const token = 'serve-test-token-0123456789';
    const server = h.start(
      ['serve', '--token-env', 'SERVE_TOKEN', '--port', '0', '--seed-users', '5', '--seed-groups', '2', '--no-fsync'],
      { env: { SERVE_TOKEN: token } },
    );
    await until('the base URL on stdout', () => server.stdout().endsWith('\n'));
    const url = server.stdout().trim();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/scim\/v2$/);
    const res = await fetch(`${url}/Users?count=1`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as any).totalResults, 5);
    const refused = await fetch(`${url}/Users`);
    assert.equal(refused.status, 401);
    await until('the serving line', () => server.stderr().includes('Ctrl+C stops'));
    assert.match(server.stderr(), /serving 5 users and 2 groups/);
    assert.doesNotMatch(server.stderr(), new RegExp(token));
    process.emit('SIGTERM');
    assert.equal(await server.exit, ExitCode.OK);
    assert.match(server.stderr(), /SIGTERM: stopping\n.*stopped; everything is saved\n$/s);
    assert.ok(existsSync(join(h.env.SCIMCTL_DATA_DIR!, 'serve')), 'the store is in the data directory');
  });
});

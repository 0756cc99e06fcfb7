/**
 * The client's main journeys, end to end, against two independent SCIM servers: the
 * third-party scimmy-based host and `scimctl serve` (spawned as the built binary). Every
 * assertion reads back through the CLI, so the same test holds for both servers, and a
 * misreading of the RFC shared by our client and our server shows up against the other one.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startScimmyServer } from '../support/scimmy-server.ts';
import { runCli, serverEnv, tempHome, type RunResult } from './helpers.ts';
import { startServe } from './serve-helpers.ts';

const TOKEN = 'e2e-both-servers-token-5d0c2e';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

interface User {
  id: string;
  userName: string;
  title?: string;
  active?: boolean;
  emails?: Array<{ value: string }>;
  [k: string]: unknown;
}

const SERVERS: Array<{ name: string; start: () => Promise<{ url: string; stop: () => Promise<void> }> }> = [
  {
    name: 'the scimmy-based server (third party)',
    start: async () => {
      const s = await startScimmyServer({ token: TOKEN, maxPageSize: 25 });
      return { url: s.url, stop: () => s.close() };
    },
  },
  {
    name: 'scimctl serve',
    start: async () => {
      const s = await startServe({ token: TOKEN });
      return {
        url: s.url,
        stop: async () => {
          const exit = await s.stop('SIGTERM');
          s.cleanup();
          assert.equal(exit.code, 0, 'serve ends with exit 0 on SIGTERM');
        },
      };
    },
  },
];

const PEOPLE = Array.from({ length: 60 }, (_, i) => ({
  userName: `person${String(i).padStart(2, '0')}@example.com`,
  given: `Given${i}`,
  family: `Family${i}`,
  title: i % 3 === 0 ? 'Engineer' : 'Analyst',
  department: i % 2 === 0 ? 'Research' : 'Sales',
}));

for (const server of SERVERS) {
  describe(`the client against ${server.name}`, () => {
    let stop: () => Promise<void>;
    let home: ReturnType<typeof tempHome>;
    let env: Record<string, string>;
    /**
     * The bulk-create of PEOPLE that `before` runs: every test reads those users; each writes only to users no other
     * test reads.
     */
    let seeded: RunResult;
    const cli = (args: string[]) => runCli(args, { env, timeoutMs: 60_000 });
    const json = async <T>(args: string[]): Promise<T> => {
      const r = await cli([...args, '--json']);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    };
    const getUser = (name: string) => json<User>(['users', 'get', name]);

    before(async () => {
      const s = await server.start();
      stop = s.stop;
      home = tempHome();
      // Sync state in the test's own directory, not the user's data directory.
      env = { ...serverEnv(s.url, TOKEN, home), SCIMCTL_DATA_DIR: join(home.dir, 'data') };
      const file = join(home.dir, 'people.csv');
      const header = `userName,name.givenName,name.familyName,emails[work].value,title,${ENTERPRISE}:department`;
      writeFileSync(
        file,
        [
          header,
          ...PEOPLE.map((p) => `${p.userName},${p.given},${p.family},${p.userName},${p.title},${p.department}`),
        ].join('\n') + '\n',
      );
      seeded = await cli(['users', 'bulk-create', file, '--concurrency', '4']);
    });
    after(async () => {
      await stop();
      home.cleanup();
    });

    test('bulk-create from CSV, then list every user across pages', async () => {
      // The bulk-create is the one `before` ran.
      const r = seeded;
      assert.equal(r.code, 0, r.stderr);
      const users = await json<User[]>(['users', 'list']);
      assert.deepEqual(users.map((u) => u.userName).sort(), PEOPLE.map((p) => p.userName).sort());
      assert.equal(new Set(users.map((u) => u.id)).size, PEOPLE.length);
    });

    test('get and search find users by userName (any case), e-mail and filter', async () => {
      const u = await getUser('PERSON07@example.com');
      assert.equal(u.userName, 'person07@example.com');
      assert.equal((u[ENTERPRISE] as { department: string }).department, 'Sales');
      const byEmail = await json<User[]>(['users', 'search', '--email', 'person12@example.com']);
      assert.deepEqual(
        byEmail.map((x) => x.userName),
        ['person12@example.com'],
      );
      const engineers = await json<User[]>([
        'users',
        'search',
        '--filter',
        'title eq "engineer" and userName sw "person1"',
      ]);
      assert.deepEqual(engineers.map((x) => x.userName).sort(), [
        'person12@example.com',
        'person15@example.com',
        'person18@example.com',
      ]);
    });

    test('update, deactivate and delete one user; the others stay as they were', async () => {
      assert.equal((await cli(['users', 'update', 'person01@example.com', '--set', 'title=Lead'])).code, 0);
      assert.equal((await getUser('person01@example.com')).title, 'Lead');
      assert.equal((await cli(['users', 'deactivate', 'person02@example.com', '--yes'])).code, 0);
      assert.equal((await getUser('person02@example.com')).active, false);
      assert.equal((await getUser('person03@example.com')).title, 'Engineer');
      const del = await cli(['users', 'delete', 'person59@example.com', '--yes']);
      assert.equal(del.code, 0, del.stderr);
      assert.equal((await cli(['users', 'get', 'person59@example.com'])).code, 5);
    });

    test('groups: create, add and remove members, list them', async () => {
      assert.equal((await cli(['groups', 'create', 'Research Team'])).code, 0);
      const add = await cli([
        'groups',
        'add-members',
        'Research Team',
        'person04@example.com',
        'person06@example.com',
        'person08@example.com',
      ]);
      assert.equal(add.code, 0, add.stderr);
      const remove = await cli(['groups', 'remove-members', 'Research Team', 'person06@example.com']);
      assert.equal(remove.code, 0, remove.stderr);
      const members = await json<Array<{ value: string }>>(['groups', 'members', 'Research Team']);
      const ids = [(await getUser('person04@example.com')).id, (await getUser('person08@example.com')).id].sort();
      assert.deepEqual(members.map((m) => m.value).sort(), ids);
    });

    test('export → sync gives zero changes; an edited export syncs exactly its edits; then zero again', async () => {
      const exported = join(home.dir, 'users.json');
      assert.equal((await cli(['export', 'users', '--format', 'json', '-o', exported])).code, 0);
      const first = await cli(['sync', 'run', '--source', exported, '--yes', '--detailed-exitcode']);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /0 to create, 0 to update, 0 to deactivate/);

      const list = JSON.parse(readFileSync(exported, 'utf8')) as { Resources: User[]; totalResults: number };
      const resources = list.Resources.filter((u) => u.userName !== 'person10@example.com');
      resources.find((u) => u.userName === 'person11@example.com')!.title = 'Principal';
      resources.push({
        id: 'ignored',
        userName: 'newcomer@example.com',
        emails: [{ value: 'newcomer@example.com' }],
        title: 'Intern',
        active: true,
      });
      const edited = join(home.dir, 'edited.json');
      writeFileSync(edited, JSON.stringify({ ...list, totalResults: resources.length, Resources: resources }));

      const plan = await cli(['sync', 'plan', '--source', edited, '--detailed-exitcode']);
      assert.equal(plan.code, 3, plan.stderr);
      assert.match(plan.stdout, /1 to create, 1 to update, 1 to deactivate, 0 to delete/);
      const run = await cli(['sync', 'run', '--source', edited, '--yes']);
      assert.equal(run.code, 0, run.stderr);
      assert.equal((await getUser('newcomer@example.com')).title, 'Intern');
      assert.equal((await getUser('person11@example.com')).title, 'Principal');
      assert.equal((await getUser('person10@example.com')).active, false);
      const again = await cli(['sync', 'plan', '--source', edited, '--detailed-exitcode']);
      assert.equal(again.code, 0, again.stdout);
    });

    test('a plan made stale by a change on the server is refused, nothing applied', async () => {
      const exported = join(home.dir, 'now.json');
      assert.equal((await cli(['export', 'users', '--format', 'json', '-o', exported])).code, 0);
      const list = JSON.parse(readFileSync(exported, 'utf8')) as { Resources: User[] };
      list.Resources.find((u) => u.userName === 'person13@example.com')!.title = 'From the plan';
      writeFileSync(exported, JSON.stringify(list));
      const planFile = join(home.dir, 'plan.json');
      assert.equal((await cli(['sync', 'plan', '--source', exported, '-o', planFile])).code, 0);
      assert.equal(
        (await cli(['users', 'update', 'person13@example.com', '--set', 'title=Changed meanwhile'])).code,
        0,
      );
      const apply = await cli(['sync', 'apply', planFile, '--yes']);
      assert.equal(apply.code, 7, apply.stderr);
      assert.equal((await getUser('person13@example.com')).title, 'Changed meanwhile');
    });
  });
}

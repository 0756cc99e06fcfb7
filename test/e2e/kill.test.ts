/**
 * A sync run killed with SIGKILL mid-apply, against `scimctl serve`: the next command marks it
 * interrupted (with what it applied), the next run folds its journal into the state, so the
 * users it created are owned (a source without some of them deactivates exactly those), and a
 * rerun of the source converges without duplicates.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, ROOT, runCli } from './helpers.ts';
import { startServe, teardown, tempDir, type Json, type ServeProcess } from './serve-helpers.ts';

const TOKEN = 'e2e-kill-token-5c1d9e7f';
const USERS = 3000;
const TEAMS = ['Red', 'Green', 'Blue'];

let serve: ServeProcess;
let home: { dir: string; cleanup(): void };
let env: Record<string, string>;

interface SourceUser {
  externalId: string;
  userName: string;
  displayName: string;
  title: string;
  groups?: Array<{ display: string }>;
}

const people: SourceUser[] = Array.from({ length: USERS }, (_, i) => ({
  externalId: `K${String(i + 1).padStart(5, '0')}`,
  userName: `kill.user${i + 1}@example.com`,
  displayName: `Kill User ${i + 1}`,
  title: i % 5 === 0 ? 'Lead' : 'Staff',
  groups: i % 10 === 0 ? [{ display: TEAMS[i % 3]! }] : [],
}));

function writeSource(list: SourceUser[], name: string): string {
  const file = join(home.dir, name);
  const resources = list.map((u) => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], ...u }));
  writeFileSync(
    file,
    JSON.stringify({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: resources.length,
      Resources: resources,
    }),
  );
  return file;
}

async function serverUsers(): Promise<Json[]> {
  const out: Json[] = [];
  for (let start = 1; ; start += 1000) {
    const r = await serve.request('GET', `/Users?startIndex=${start}&count=1000`);
    assert.equal(r.status, 200, r.text);
    out.push(...(r.body.Resources ?? []));
    if (out.length >= r.body.totalResults || (r.body.Resources ?? []).length === 0) return out;
  }
}

async function userCount(): Promise<number> {
  const r = await serve.request('GET', '/Users?count=0');
  return r.status === 200 ? Number(r.body.totalResults) : 0;
}

const sync = (args: string[], source: string) =>
  runCli(['sync', ...args, '--source', source], { env, timeoutMs: 240_000 });

before(async () => {
  serve = await startServe({ token: TOKEN });
  home = tempDir('scimctl-kill-e2e-');
  env = {
    SCIMCTL_URL: serve.url,
    SCIMCTL_TOKEN: TOKEN,
    SCIMCTL_CONFIG_DIR: join(home.dir, 'config'),
    SCIMCTL_CACHE_DIR: join(home.dir, 'cache'),
    SCIMCTL_DATA_DIR: join(home.dir, 'data'),
  };
});

after(() => teardown([serve], [home]));

describe('a sync run killed mid-apply', () => {
  test('is marked interrupted; its creations are owned; a rerun converges without duplicates', async () => {
    const source = writeSource(people, 'users.json');
    // One create per request (no Bulk), two at a time: the apply takes seconds.
    const child = spawn(
      process.execPath,
      [BIN, 'sync', 'run', '--yes', '--no-bulk', '--concurrency', '2', '--source', source],
      {
        env: { ...process.env, ...env },
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.resume();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );

    // Kill it once a fifth of the users are on the server (polled, never a fixed sleep).
    let present = 0;
    let done = false;
    void exited.then(() => (done = true));
    const poll = async () => {
      present = await userCount();
    };
    const deadline = Date.now() + 120_000;
    while (present < USERS / 5) {
      assert.ok(!done, `the run ended before it could be killed: ${stderr}`);
      assert.ok(Date.now() < deadline, 'the run created too few users in time');
      await poll();
    }
    child.kill('SIGKILL');
    const end = await exited;
    assert.equal(end.signal, 'SIGKILL');
    const created = await userCount();
    assert.ok(created >= USERS / 5 && created < USERS, `killed mid-apply: ${created} of ${USERS} users on the server`);

    // The next command finds the run's process gone: interrupted, with what it applied.
    const list = await runCli(['runs', 'list', '--json'], { env });
    assert.equal(list.code, 0, list.stderr);
    const runs = JSON.parse(list.stdout) as Array<{
      id: string;
      status: string;
      pid?: number;
      host?: string;
      results?: Record<string, number>;
      message?: string;
    }>;
    const killed = runs[0]!;
    assert.equal(killed.status, 'interrupted');
    assert.equal(killed.pid, child.pid);
    assert.ok(killed.host);
    // Everything it applied is in its journal, but for at most the two requests in flight when it was killed.
    const applied = killed.results!.applied!;
    assert.ok(applied <= created && applied >= created - 2, `journal: ${applied} applied; server: ${created} users`);
    assert.match(killed.message!, new RegExp(`pid ${child.pid} .*${applied} of \\d+ change\\(s\\) applied`));
    const table = await runCli(['runs', 'list'], { env });
    assert.match(table.stdout, new RegExp(`${killed.id}\\tsync run\\tinterrupted\\t.*\\t${applied}\\t0`));
    const show = await runCli(['runs', 'show', killed.id], { env });
    assert.match(show.stdout, /status: {3}interrupted \(the process \(pid \d+ on .+\) ended during the apply/);
    assert.match(show.stdout, new RegExp(`results: {2}${applied} applied, 0 failed, 0 excluded, \\d+ unfinished`));
    assert.match(show.stdout, new RegExp(`process: {2}pid ${child.pid} on `));

    // A source without five users the killed run created: exactly those are deactivated.
    const leavers = people.slice(1, 6); // none of them in a team
    const before = await serverUsers();
    for (const l of leavers)
      assert.ok(
        before.some((u) => u.externalId === l.externalId && u.active !== false),
        `${l.externalId} was created by the killed run`,
      );
    const fewer = await sync(
      ['run', '--yes', '--max-deletes', '5'],
      writeSource(
        people.filter((p) => !leavers.includes(p)),
        'fewer.json',
      ),
    );
    assert.equal(fewer.code, 0, fewer.stderr);
    assert.match(fewer.stderr, new RegExp(`run ${killed.id} was interrupted`));
    assert.match(fewer.stdout, /Plan: \d+ to create, 0 to update, 5 to deactivate, 0 to delete/);
    const middle = await serverUsers();
    assert.deepEqual(
      middle
        .filter((u) => u.active === false)
        .map((u) => u.externalId)
        .sort(),
      leavers.map((l) => l.externalId),
    );
    const show2 = await runCli(['runs', 'show', killed.id], { env });
    assert.match(show2.stdout, /journal: {2}folded into the state by a later run/);

    // The whole source again: the five come back, and then there is nothing left to do.
    const again = await sync(['run', '--yes'], source);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Plan: 0 to create, 5 to update, 0 to deactivate, 0 to delete, 0 membership changes\./);
    const plan = await sync(['plan', '--detailed-exitcode'], source);
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /No changes/);

    // No duplicates: one user per source record, each once, all active; each team once, with its members.
    const users = await serverUsers();
    assert.equal(users.length, USERS);
    assert.equal(new Set(users.map((u) => u.externalId)).size, USERS);
    assert.equal(new Set(users.map((u) => String(u.userName).toLowerCase())).size, USERS);
    assert.ok(users.every((u) => u.active !== false));
    const groups = (await serve.request('GET', '/Groups?count=100')).body.Resources as Json[];
    assert.deepEqual(groups.map((g) => g.displayName).sort(), [...TEAMS].sort());
    for (const g of groups) assert.equal((g.members ?? []).length, USERS / 10 / 3, g.displayName);
  });
});

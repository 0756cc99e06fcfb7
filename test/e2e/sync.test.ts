/**
 * sync plan / apply / run end to end: an HR export mapped onto the scimmy server, across several runs.
 *
 * Each test stands alone (any one can run by itself with --test-name-pattern): it starts with
 * `startSynced()`, which puts the shared server back to the directory right after a first sync of
 * `people` onto an empty server (made once, in `before`) and gives the test its own copy of the
 * config, cache and data directories of that first sync. Whatever a test writes, the next one
 * starts from that snapshot again.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startScimmyServer, type ScimmyServer } from '../support/scimmy-server.ts';
import { runCli, serverEnv, tempHome, type RunResult } from './helpers.ts';

const TOKEN = 'e2e-sync-token-77aa88bb99cc';
/** What the running test works on: set by startSynced(), never left over from another test. */
let server: ScimmyServer;
let home: ReturnType<typeof tempHome>;
let env: Record<string, string>;

interface Person {
  id: string;
  first: string;
  last: string;
  title: string;
  groups: string[];
}
interface StoredUser {
  id: string;
  userName: string;
  externalId?: string;
  title?: string;
  active?: boolean;
  displayName?: string;
}

const TEAMS = ['Engineering', 'Sales', 'Support', 'Finance'];
const people: readonly Person[] = Array.from({ length: 300 }, (_, i) => ({
  id: `E${String(i + 1).padStart(5, '0')}`,
  first: `Given${i}`,
  last: `Family${i}`,
  title: i % 7 === 0 ? 'Manager' : 'Staff',
  groups: [TEAMS[i % 4]!, ...(i % 10 === 0 ? ['Leads'] : [])],
}));

const MAPPING = `attributes:
  externalId: { column: EmployeeID }
  userName: { column: Email, transform: [trim, lowercase] }
  name.givenName: { column: First }
  name.familyName: { column: Last }
  displayName: { template: "{First} {Last}" }
  emails[work].value: { column: Email, transform: [trim, lowercase] }
  title: { column: Title }
groups:
  column: Groups
  split: ";"
`;

function writeSource(list: readonly Person[], name = 'hr.csv'): string {
  const file = join(home.dir, name);
  const rows = list.map((p) =>
    [p.id, p.first, p.last, ` ${p.first}.${p.last}@Example.com `, p.title, p.groups.join(';')]
      .map((c) => `"${c}"`)
      .join(','),
  );
  writeFileSync(file, `EmployeeID,First,Last,Email,Title,Groups\n${rows.join('\n')}\n`);
  return file;
}

const stored = () => [...server.users.values()] as StoredUser[];
const byExt = (ext: string) => stored().find((u) => u.externalId === ext);
const groupMembers = (name: string) => {
  const g = ([...server.groups.values()] as Array<{ displayName: string; members?: Array<{ value: string }> }>).find(
    (x) => x.displayName === name,
  );
  return g ? new Set((g.members ?? []).map((m) => m.value)) : undefined;
};
const writes = (from: number) => server.requests.slice(from).filter((r) => r.method !== 'GET');

let mapping: string;
let outsiderId: string;
let outsiderBefore: unknown;

const useHome = (h: ReturnType<typeof tempHome>) => {
  home = h;
  homes.push(h);
  env = { ...serverEnv(server.url, TOKEN, home), SCIMCTL_DATA_DIR: join(home.dir, 'data') };
  mapping = join(home.dir, 'mapping.yaml');
};
const homes: Array<ReturnType<typeof tempHome>> = [];
const servers: ScimmyServer[] = [];

/** An empty server of the test's own, with only the outsider on it, and a fresh home. */
async function startEmpty(): Promise<void> {
  server = await startScimmyServer({ token: TOKEN, users: 0, groups: 0 });
  servers.push(server);
  useHome(tempHome());
  writeFileSync(mapping, MAPPING);
  // A user made outside scimctl, e.g. by hand in the app's admin console.
  const r = await runCli(
    ['users', 'create', '--user-name', 'outsider@example.com', '--email', 'outsider@example.com', '--json'],
    { env },
  );
  assert.equal(r.code, 0, r.stderr);
  outsiderId = (JSON.parse(r.stdout) as { id: string }).id;
  outsiderBefore = structuredClone(server.users.get(outsiderId));
}

/** The directory right after the first sync of `people`: made once, copied back before each test (startSynced). */
let synced: {
  /** What that first `sync run` printed: the first test checks it. */
  first: RunResult;
  server: ScimmyServer;
  home: ReturnType<typeof tempHome>;
  users: Array<[string, unknown]>;
  groups: Array<[string, unknown]>;
  outsiderId: string;
  outsiderBefore: unknown;
};

async function takeSnapshot(): Promise<void> {
  await startEmpty();
  const first = await sync(['run', '--yes'], writeSource(people));
  synced = {
    first,
    server,
    home,
    users: structuredClone([...server.users]),
    groups: structuredClone([...server.groups]),
    outsiderId,
    outsiderBefore,
  };
}

/**
 * Puts the shared server back to the snapshot (groups last, so memberships are indexed) and copies its home for this
 * test.
 */
function startSynced(): void {
  server = synced.server;
  server.clearFaults();
  server.groups.clear();
  server.users.clear();
  for (const [id, user] of structuredClone(synced.users)) server.users.set(id, user);
  for (const [id, group] of structuredClone(synced.groups)) server.groups.set(id, group);
  const copy = tempHome();
  cpSync(synced.home.dir, copy.dir, { recursive: true });
  useHome(copy);
  outsiderId = synced.outsiderId;
  outsiderBefore = synced.outsiderBefore;
}

after(async () => {
  for (const s of servers) await s.close();
  for (const h of homes) h.cleanup();
});

const sync = (args: string[], source: string, extra: Record<string, string> = {}) =>
  runCli(['sync', ...args, '--source', source, '--mapping', mapping], {
    env: { ...env, ...extra },
    timeoutMs: 120_000,
  });

describe('sync', () => {
  // Every test here starts from this snapshot (startSynced): an empty server, the outsider, and one `sync run` of
  // `people`.
  before(takeSnapshot);

  test('initial run creates every user, the groups and their members', async () => {
    // The run is the one `before` made on an empty server (with only the outsider on it).
    startSynced();
    const r = synced.first;
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /Plan: 300 to create, 0 to update, 0 to deactivate, 0 to delete, 330 membership changes, 5 groups to create\./,
    );
    assert.equal(stored().length, 301);
    const ann = byExt('E00001')!;
    assert.equal(ann.userName, 'given0.family0@example.com');
    assert.equal(ann.displayName, 'Given0 Family0');
    assert.equal(groupMembers('Engineering')!.size, 75);
    assert.equal(groupMembers('Leads')!.size, 30);
    assert.ok(groupMembers('Leads')!.has(ann.id));
    assert.deepEqual(server.users.get(outsiderId), outsiderBefore);
  });

  test('the next run with the same source plans nothing (exit 0 with --detailed-exitcode)', async () => {
    startSynced();
    const start = server.requests.length;
    const r = await sync(['plan', '--detailed-exitcode'], writeSource(people));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /No changes/);
    assert.deepEqual(writes(start), []);
  });

  test('changes, leavers and group moves; the outsider is never touched', async () => {
    startSynced();
    const changed = people.map((p) => ({ ...p, groups: [...p.groups] }));
    for (const i of [1, 2, 3, 4, 5]) changed[i]!.title = 'Principal';
    changed[6]!.groups = ['Finance']; // moves from Support (6 % 4 = 2) to Finance
    const leavers = changed.splice(290, 4); // E00291..E00294
    const logFile = join(home.dir, 'sync.log');
    const r = await sync(['run', '--yes', '--log-file', logFile, '--log-format', 'json'], writeSource(changed));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /~ update user given1\.family1@example\.com\n\s+~ title: "Staff" → "Principal"/);
    const logLines = readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { level: string; message: string });
    assert.ok(logLines.some((l) => l.level === 'info' && /^deactivate-user:/.test(l.message)));
    assert.ok(!readFileSync(logFile, 'utf8').includes(TOKEN));
    assert.match(r.stdout, /Plan: 0 to create, 5 to update, 4 to deactivate, 0 to delete, 2 membership changes\./);
    for (const p of leavers) assert.equal(byExt(p.id)!.active, false, `${p.id} should be inactive`);
    assert.equal(byExt('E00002')!.title, 'Principal');
    assert.ok(groupMembers('Finance')!.has(byExt('E00007')!.id));
    assert.ok(!groupMembers('Support')!.has(byExt('E00007')!.id));
    assert.deepEqual(server.users.get(outsiderId), outsiderBefore);

    const again = await sync(['plan', '--detailed-exitcode'], writeSource(changed));
    assert.equal(again.code, 0, again.stdout);

    // A leaver comes back: reactivated, nothing else.
    const back = [...changed, leavers[0]!];
    const re = await sync(['run', '--yes'], writeSource(back));
    assert.equal(re.code, 0, re.stderr);
    assert.match(re.stdout, /~ update user given290\.family290@example\.com \(reactivate\)/);
    assert.match(re.stdout, /Plan: 0 to create, 1 to update, 0 to deactivate, 0 to delete, 0 membership changes\./);
    assert.equal(byExt('E00291')!.active, true);
  });

  test('a saved plan applies exactly; a stale one is refused (exit 7)', async () => {
    startSynced();
    const edited = people.map((p) => ({ ...p }));
    edited[10]!.title = 'Director';
    edited[11]!.title = 'Director';
    const source = writeSource(edited);
    const planFile = join(home.dir, 'plan.json');
    const plan = await sync(['plan', '-o', planFile], source);
    assert.equal(plan.code, 0, plan.stderr);
    const saved = JSON.parse(readFileSync(planFile, 'utf8')) as {
      changes: Array<{ kind: string }>;
      versions: Record<string, string>;
    };
    assert.deepEqual(
      saved.changes.map((c) => c.kind),
      ['update-user', 'update-user'],
    );
    assert.ok(!readFileSync(planFile, 'utf8').includes(TOKEN));

    // Someone edits one of those users on the server in between.
    server.bump(byExt('E00011')!.id);
    const start = server.requests.length;
    const stale = await runCli(['sync', 'apply', planFile, '--yes'], { env });
    assert.equal(stale.code, 7, stale.stderr);
    assert.match(stale.stderr, /the plan is stale: 1 object\(s\)/);
    assert.deepEqual(writes(start), []);
    assert.equal(byExt('E00012')!.title, 'Staff');

    const fresh = await sync(['plan', '-o', planFile], source);
    assert.equal(fresh.code, 0);
    const applied = await runCli(['sync', 'apply', planFile, '--yes'], { env });
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(byExt('E00011')!.title, 'Director');
    assert.equal(byExt('E00012')!.title, 'Director');
  });

  test('the deletion threshold stops a run before anything is applied', async () => {
    startSynced();
    // Three leavers already deactivated by an earlier run.
    const stayed = people.filter((p) => !['E00292', 'E00293', 'E00294'].includes(p.id));
    const earlier = await sync(['run', '--yes'], writeSource(stayed));
    assert.equal(earlier.code, 0, earlier.stderr);
    const fewer = stayed.slice(0, stayed.length - 40);
    const start = server.requests.length;
    const r = await sync(['run', '--yes'], writeSource(fewer));
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /would deactivate or delete 40 of \d+ managed users, over the limit of \d+/);
    assert.match(r.stderr, /--max-deletes 40/);
    assert.match(r.stderr, /--accept-source-change/);
    assert.deepEqual(writes(start), []);

    const ok = await sync(['run', '--yes', '--max-deletes', '40', '--accept-source-change'], writeSource(fewer));
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(stored().filter((u) => u.active === false).length, 40 + 3);
  });

  test('an empty source is refused', async () => {
    startSynced();
    const empty = join(home.dir, 'empty.csv');
    writeFileSync(empty, 'EmployeeID,First,Last,Email,Title,Groups\n');
    const start = server.requests.length;
    const r = await sync(['run', '--yes', '--accept-source-change'], empty);
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /the source has no users.*--allow-empty/);
    assert.deepEqual(writes(start), []);
  });

  test('a failed read of the target aborts the run; nothing is deactivated', async () => {
    startSynced();
    server.addFault({ method: 'GET', path: /\/Users\?.*startIndex=201/, status: 503, times: Infinity });
    const start = server.requests.length;
    try {
      const r = await sync(['run', '--yes', '--retries', '0'], writeSource(people.slice(0, 50)));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /stopped after 200 resources/);
      assert.deepEqual(writes(start), []);
    } finally {
      server.clearFaults();
    }
  });

  test('runs are recorded: list, show and log', async () => {
    startSynced();
    // A refused run and an applied saved plan, besides the first sync.
    const empty = join(home.dir, 'empty.csv');
    writeFileSync(empty, 'EmployeeID,First,Last,Email,Title,Groups\n');
    assert.equal((await sync(['run', '--yes', '--accept-source-change'], empty)).code, 7);
    const edited = people.map((p, i) => (i === 20 ? { ...p, title: 'Director' } : p));
    const planFile = join(home.dir, 'plan.json');
    assert.equal((await sync(['plan', '-o', planFile], writeSource(edited))).code, 0);
    const applied = await runCli(['sync', 'apply', planFile, '--yes'], { env });
    assert.equal(applied.code, 0, applied.stderr);
    const list = await runCli(['runs', 'list', '--json'], { env });
    assert.equal(list.code, 0, list.stderr);
    const runs = JSON.parse(list.stdout) as Array<{ id: string; command: string; status: string }>;
    assert.ok(runs.some((r) => r.status === 'refused'));
    assert.ok(runs.some((r) => r.command === 'sync apply' && r.status === 'applied'));
    const show = await runCli(['runs', 'show', 'latest', '--json'], { env });
    assert.equal(show.code, 0, show.stderr);
    const log = await runCli(['runs', 'log', runs.find((r) => r.status === 'applied')!.id], { env });
    assert.equal(log.code, 0, log.stderr);
    assert.match(log.stdout, /INFO/);
    const everything = [list.stdout, show.stdout, log.stdout].join('\n');
    assert.ok(!everything.includes(TOKEN));
  });
});

describe('adopting an existing directory', () => {
  test(
    'a first run with nothing to change adopts the users the source lists; later ' + 'leavers are deactivated',
    async () => {
      const existing = await startScimmyServer({ token: TOKEN, users: 40, groups: 2 });
      const local = tempHome();
      const localEnv = { ...serverEnv(existing.url, TOKEN, local), SCIMCTL_DATA_DIR: join(local.dir, 'data') };
      try {
        const exportFile = join(local.dir, 'export.json');
        assert.equal((await runCli(['export', 'users', '-o', exportFile], { env: localEnv })).code, 0);
        const first = await runCli(['sync', 'run', '--yes', '--source', exportFile], { env: localEnv });
        assert.equal(first.code, 0, first.stderr);
        assert.match(first.stdout, /No changes/);

        const list = JSON.parse(readFileSync(exportFile, 'utf8')) as {
          Resources: Array<{ id: string; active?: boolean }>;
        };
        const leavers = list.Resources.splice(0, 2).filter((u) => u.active !== false);
        const edited = join(local.dir, 'edited.json');
        writeFileSync(edited, JSON.stringify(list));
        const second = await runCli(['sync', 'run', '--yes', '--source', edited], { env: localEnv });
        assert.equal(second.code, 0, second.stderr);
        assert.match(second.stdout, new RegExp(`${leavers.length} to deactivate`));
        for (const u of leavers) assert.equal((existing.users.get(u.id) as { active?: boolean }).active, false);
      } finally {
        await existing.close();
        local.cleanup();
      }
    },
  );
});

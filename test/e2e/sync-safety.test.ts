/**
 * Sync's safety nets end to end, the built binary against `scimctl serve`: a source whose
 * group column went blank, group deletions, plan files that lie about themselves, and bad
 * numbers on the command line. Every refusal leaves the server byte-for-byte as it was
 * (a full listing of users and groups, compared as text).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, tempHome } from './helpers.ts';
import { startServe, type Json, type ServeProcess } from './serve-helpers.ts';

const TOKEN = 'e2e-sync-safety-token-41c9d2';
const TOKEN_VAR = 'SYNC_SAFETY_E2E_TOKEN';
let server: ServeProcess;
let home: ReturnType<typeof tempHome>;
let env: Record<string, string>;
let mapping: string;
let people: Array<{ id: string; externalId: string; userName: string; groups: string[] }>;

const MAPPING = `attributes:
  externalId: { column: EmployeeID }
  userName: { column: Email }
groups: { column: Groups, split: ";" }
`;

/** Every user and group, page by page, as the server sends them: the text of each page. */
async function listing(): Promise<string> {
  const pages: string[] = [];
  for (const type of ['Users', 'Groups']) {
    for (let start = 1; ;) {
      const r = await server.request('GET', `/${type}?startIndex=${start}&count=100`);
      assert.equal(r.status, 200, r.text);
      pages.push(r.text);
      const got = (r.body.Resources ?? []).length as number;
      if (got === 0 || start + got > r.body.totalResults) break;
      start += got;
    }
  }
  return pages.join('\n');
}

function writeSource(
  name: string,
  rows: typeof people,
  groups = (p: (typeof people)[number]) => p.groups.join(';'),
): string {
  const file = join(home.dir, name);
  writeFileSync(
    file,
    `EmployeeID,Email,Groups\n${rows.map((p) => `${p.externalId},${p.userName},"${groups(p)}"`).join('\n')}\n`,
  );
  return file;
}

const cli = (args: string[]) => runCli(args, { env, timeoutMs: 120_000 });
const sync = (args: string[], source: string) =>
  cli(['sync', ...args, '--profile', 'main', '--source', source, '--mapping', mapping]);
const apply = (file: string, ...more: string[]) => cli(['sync', 'apply', file, '--yes', '--profile', 'main', ...more]);

before(async () => {
  server = await startServe({ token: TOKEN, args: ['--seed-users', '60', '--seed-groups', '4'] });
  home = tempHome();
  env = { ...home.env, SCIMCTL_DATA_DIR: join(home.dir, 'data'), [TOKEN_VAR]: TOKEN };
  for (const name of ['main', 'other']) {
    const r = await runCli(['profile', 'add', name, '--url', server.url, '--token-env', TOKEN_VAR], { env });
    assert.equal(r.code, 0, r.stderr);
  }
  mapping = join(home.dir, 'mapping.yaml');
  writeFileSync(mapping, MAPPING);
  const users = (await server.request('GET', '/Users?count=100')).body.Resources as Json[];
  people = users.map((u) => ({
    id: u.id,
    externalId: u.externalId,
    userName: u.userName,
    groups: (u.groups ?? []).map((g: Json) => g.display),
  }));
  assert.equal(people.length, 60);
  assert.ok(people.filter((p) => p.groups.length > 0).length >= 50, 'the sample organisation puts people in groups');
  // The first run adopts everyone the source lists, and the groups it names.
  const first = await sync(['run', '--yes'], writeSource('hr.csv', people));
  assert.equal(first.code, 0, first.stderr);
  const again = await sync(['plan', '--detailed-exitcode'], writeSource('hr.csv', people));
  assert.equal(again.code, 0, again.stdout + again.stderr);
});

after(async () => {
  await server?.stop();
  server?.cleanup();
  home?.cleanup();
});

describe('a source whose Groups column is blank for everyone', () => {
  test('sync run is refused with exit 7, says what to pass, and changes nothing', async () => {
    const memberships = people.reduce((n, p) => n + p.groups.length, 0);
    const before = await listing();
    const r = await sync(
      ['run', '--yes'],
      writeSource('blank.csv', people, () => ''),
    );
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /the source has no group data at all .* --allow-empty-groups/);
    assert.match(
      r.stderr,
      new RegExp(
        `would remove ${memberships} of ${memberships} group memberships of managed ` +
          `users, over the limit of 10 \\(10%, at least 10\\)`,
      ),
    );
    assert.match(
      r.stderr,
      new RegExp(`to go ahead as planned, pass --allow-empty-groups --max-membership-removals ${memberships}\\b`),
    );
    assert.equal(await listing(), before);
  });

  test('with --delete-groups, deleting every managed group is refused with exit 7', async () => {
    const before = await listing();
    const r = await sync(
      ['run', '--yes', '--delete-groups'],
      writeSource('blank.csv', people, () => ''),
    );
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /would delete 4 of 4 managed groups, over the limit of 1 \(10%, at least 1\)/);
    assert.match(r.stderr, /--max-group-deletes 4\b/);
    assert.equal(await listing(), before);
  });

  test(
    'sync plan reports the refusals (exit 0), and applying its saved plan is ' + 'refused by the thresholds',
    async () => {
      const before = await listing();
      const file = join(home.dir, 'blank-plan.json');
      const plan = await sync(
        ['plan', '-o', file],
        writeSource('blank.csv', people, () => ''),
      );
      assert.equal(plan.code, 0, plan.stderr);
      assert.match(plan.stderr, /warning: the source has no group data at all/);
      assert.match(plan.stderr, /warning: the plan would remove \d+ of \d+ group memberships/);
      const r = await apply(file);
      assert.equal(r.code, 7, r.stderr);
      assert.match(r.stderr, /--max-membership-removals \d+/);
      assert.equal(await listing(), before);
    },
  );

  test('one moved person is not a blank column: the run goes through', async () => {
    const moved = people.map((p, i) => (i === 0 ? { ...p, groups: [] } : p));
    const r = await sync(['run', '--yes'], writeSource('moved.csv', moved));
    assert.equal(r.code, 0, r.stderr);
    const back = await sync(['run', '--yes'], writeSource('hr.csv', people));
    assert.equal(back.code, 0, back.stderr);
  });
});

describe('sync apply of a plan file that lies about itself', () => {
  let planFile: string;
  let plan: Json;
  const leavers = () => people.slice(0, 58);
  const variant = (name: string, change: (p: Json) => void): string => {
    const copy = structuredClone(plan);
    change(copy);
    const file = join(home.dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(copy, null, 2));
    return file;
  };
  const deactivation = (p: (typeof people)[number]) => ({
    id: `deactivate-user:${p.id}`,
    kind: 'deactivate-user',
    target: p.id,
    userName: p.userName,
  });

  before(async () => {
    planFile = join(home.dir, 'leavers.json');
    const r = await sync(['plan', '-o', planFile], writeSource('leavers.csv', leavers()));
    assert.equal(r.code, 0, r.stderr);
    plan = JSON.parse(readFileSync(planFile, 'utf8'));
    assert.deepEqual(
      plan.changes.map((c: Json) => c.kind),
      ['deactivate-user', 'deactivate-user'],
    );
    assert.match(plan.digest, /^sha256:/);
  });

  const refused = async (file: string, message: RegExp, ...more: string[]) => {
    const before = await listing();
    const r = await apply(file, ...more);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /is not iterable/);
    assert.equal(await listing(), before, 'the server is unchanged');
  };

  test('40 deactivations appended, summary untouched: exit 2, naming the file and the change', async () => {
    const file = variant('appended', (p) => p.changes.push(...people.slice(2, 42).map(deactivation)));
    await refused(
      file,
      new RegExp(
        `appended\\.json: change 2 \\(id "deactivate-user:${people[2]!.id}"\\): field ` +
          `"target": User/${people[2]!.id} is not in "versions"`,
      ),
    );
  });

  test('appended with their versions: the summary disagrees (exit 2)', async () => {
    const file = variant('appended-versions', (p) => {
      for (const x of people.slice(2, 42)) {
        p.changes.push(deactivation(x));
        p.versions[`User/${x.id}`] = 'W/"1"';
      }
    });
    await refused(
      file,
      /appended-versions\.json: field "summary\.deactivate": the summary says 2, the changes hold 42/,
    );
  });

  test('versions emptied: exit 2, every change named', async () => {
    const file = variant('no-versions', (p) => (p.versions = {}));
    await refused(
      file,
      /no-versions\.json: change 0 \(id "deactivate-user:[^"]+"\): field "target": User\/\S+ is not in "versions"/,
    );
  });

  test('an unknown kind: exit 2, naming the change', async () => {
    const file = variant('unknown-kind', (p) => (p.changes[1].kind = 'purge-user'));
    await refused(
      file,
      /unknown-kind\.json: change 1 \(id "deactivate-user:[^"]+"\): field "kind": unknown kind "purge-user"/,
    );
  });

  test('a plan made with another profile at the same URL: exit 2', async () => {
    const before = await listing();
    const r = await cli(['sync', 'apply', planFile, '--yes', '--profile', 'other']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /leavers\.json was planned with profile "main", not "other"/);
    assert.equal(await listing(), before);
  });

  test(
    'edited by hand: refused (exit 2); with --allow-edited-plan still checked, ' + 'thresholds included (exit 7)',
    async () => {
      const file = variant('edited', (p) => {
        for (const x of people.slice(2, 12)) {
          p.changes.push(deactivation(x));
          p.versions[`User/${x.id}`] = 'W/"1"';
        }
        p.summary.deactivate = 12;
      });
      await refused(file, /edited\.json: field "digest": does not match the content.*--allow-edited-plan/);
      const before = await listing();
      const r = await apply(file, '--allow-edited-plan');
      assert.equal(r.code, 7, r.stderr);
      assert.match(r.stderr, /edited after it was planned; applying it as edited/);
      assert.match(r.stderr, /would deactivate or delete 12 of 60 managed users, over the limit of 6/);
      assert.equal(await listing(), before);
    },
  );

  test(
    'an edit that passes every check applies with --allow-edited-plan; the plan as ' + 'written applies as it is',
    async () => {
      const one = variant('one-leaver', (p) => {
        p.changes.pop();
        p.summary.deactivate = 1;
      });
      const edited = await apply(one, '--allow-edited-plan');
      assert.equal(edited.code, 0, edited.stderr);
      assert.match(edited.stderr, /applied 1 of 1 change/);
      assert.equal((await server.request('GET', `/Users/${plan.changes[0].target}`)).body.active, false);
      // The original is stale now for the user just deactivated: refused with exit 7 (the target changed).
      const stale = await apply(planFile);
      assert.equal(stale.code, 7, stale.stderr);
      assert.match(stale.stderr, /the plan is stale/);
    },
  );
});

describe('numeric options are checked before anything is read', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--concurrency', 'abc'], /--concurrency takes a whole number from 1 to 1000, not "abc"/],
    [['--concurrency', '0'], /--concurrency .* not "0"/],
    [['--rate', 'fast'], /--rate takes a rate above 0 .* not "fast"/],
    [['--max-deletes', 'lots'], /--max-deletes takes a count or a percentage .* not "lots"/],
    [['--max-membership-removals', '150%'], /--max-membership-removals .* not "150%"/],
    [['--max-group-deletes', 'x'], /--max-group-deletes .* not "x"/],
    [['--timeout', '0'], /--timeout takes a number of seconds above 0/],
    [['--retries', 'many'], /--retries takes a whole number from 0 to 100, not "many"/],
  ];
  for (const [flags, message] of cases) {
    test(`sync run ${flags.join(' ')}: exit 2, the option named, nothing read or written`, async () => {
      const before = await listing();
      // The source does not exist: reading it would be a different error.
      const r = await sync(['run', '--yes', ...flags], join(home.dir, 'no-such-source.csv'));
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /no-such-source/);
      assert.equal(await listing(), before);
    });
  }

  test(
    'sync apply and sync plan check them too, before the plan file or the source ' + 'is read; no run is recorded',
    async () => {
      const runsBefore = (await cli(['runs', 'list', '--json', '--profile', 'main'])).stdout;
      const a = await cli([
        'sync',
        'apply',
        join(home.dir, 'no-such-plan.json'),
        '--yes',
        '--profile',
        'main',
        '--max-group-deletes',
        '-1',
      ]);
      assert.equal(a.code, 2, a.stderr);
      assert.match(a.stderr, /--max-group-deletes/);
      assert.doesNotMatch(a.stderr, /no-such-plan/);
      const p = await sync(['plan', '--max-deletes', '10 %'], join(home.dir, 'no-such-source.csv'));
      assert.equal(p.code, 2, p.stderr);
      assert.match(p.stderr, /--max-deletes .* not "10 %"/);
      assert.equal(
        (await cli(['runs', 'list', '--json', '--profile', 'main'])).stdout,
        runsBefore,
        'no run was recorded',
      );
    },
  );
});

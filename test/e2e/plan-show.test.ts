/**
 * Saved plans end to end (issue 14, point 20), the built binary against the scimmy server: `sync plan -o` says where
 * the plan went and what to run next; `sync show` prints a saved plan as `sync plan` printed it (or its JSON) without
 * contacting any server, and refuses a bad file as `sync apply` does; values and source paths in the text plan.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startScimmyServer, type ScimmyServer } from '../support/scimmy-server.ts';
import { runCli, serverEnv, tempHome, type RunResult } from './helpers.ts';

const TOKEN = 'e2e-plan-show-token-5d1e7a';
let server: ScimmyServer;
let home: ReturnType<typeof tempHome>;
let env: Record<string, string>;
/** The working directory of the runs: the source is in a folder under it. */
let work: string;

before(async () => {
  server = await startScimmyServer({ token: TOKEN, users: 3 });
  home = tempHome();
  env = { ...serverEnv(server.url, TOKEN, home), SCIMCTL_DATA_DIR: join(home.dir, 'data') };
  work = join(home.dir, 'work');
  mkdirSync(join(work, 'hr'), { recursive: true });
  const someone = [...server.users.values()][0] as { userName: string };
  writeFileSync(
    join(work, 'hr', 'people.csv'),
    [
      'userName,name.givenName,active,title',
      'new.hire@example.com,Nu,true,Engineer',
      `${someone.userName},Changed,false,Boss`,
    ].join('\n') + '\n',
  );
});

/** `sync plan -o plan.json` in the working directory, run once (the first test that needs it runs it). */
let planning: Promise<RunResult> | undefined;
const savedPlan = () =>
  (planning ??= runCli(['sync', 'plan', '--source', join(work, 'hr', 'people.csv'), '-o', 'plan.json'], {
    env,
    cwd: work,
  }));

after(async () => {
  await server.close();
  home.cleanup();
});

describe('sync plan -o and sync show', () => {
  test('plan -o says where the plan went and what to run next; show prints it as plan did, and as JSON', async () => {
    const planned = await savedPlan();
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(
      planned.stderr,
      new RegExp(
        /^scimctl: plan saved to plan\.json; review it with "scimctl sync show plan\.json", /.source +
          /apply it with "scimctl sync apply plan\.json"$/.source,
        'm',
      ),
    );
    // The source was named by its absolute path: the create line shows it relative to the working directory.
    assert.match(planned.stdout, /^\+ create user new\.hire@example\.com {2}\(hr\/people\.csv:2\)$/m);
    assert.ok(!planned.stdout.includes(work), planned.stdout);
    // Booleans are not quoted; strings are.
    assert.match(planned.stdout, /^ {4}\+ active: true$/m);
    assert.match(planned.stdout, /^ {4}~ active: true → false$/m);
    assert.match(planned.stdout, /^ {4}\+ title: "Engineer"$/m);

    // No profile, no server URL: show reads the file only.
    const requests = server.requests.length;
    const offline = { ...home.env, SCIMCTL_DATA_DIR: join(home.dir, 'data') };
    const shown = await runCli(['sync', 'show', 'plan.json'], { env: offline, cwd: work });
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(shown.stdout, planned.stdout);
    assert.equal(server.requests.length, requests, 'sync show contacted the server');

    const json = await runCli(['sync', 'show', 'plan.json', '--json'], { env: offline, cwd: work });
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), JSON.parse(readFileSync(join(work, 'plan.json'), 'utf8')));
  });

  test('with --profile, the next step names the profile', async () => {
    const add = await runCli(['profile', 'add', 'hr', '--url', server.url, '--token-env', 'PLAN_SHOW_TOKEN'], {
      env: home.env,
    });
    assert.equal(add.code, 0, add.stderr);
    const planned = await runCli(
      ['--profile', 'hr', 'sync', 'plan', '--source', join(work, 'hr', 'people.csv'), '-o', 'my plan.json'],
      { env: { ...home.env, PLAN_SHOW_TOKEN: TOKEN, SCIMCTL_DATA_DIR: join(home.dir, 'data') }, cwd: work },
    );
    assert.equal(planned.code, 0, planned.stderr);
    assert.ok(
      planned.stderr.includes(`apply it with "scimctl --profile hr sync apply 'my plan.json'"`),
      planned.stderr,
    );
  });

  test('a bad plan file is refused as sync apply refuses it: exit 2, naming the file and the field', async () => {
    assert.equal((await savedPlan()).code, 0);
    const good = JSON.parse(readFileSync(join(work, 'plan.json'), 'utf8')) as { changes: Array<{ kind: string }> };
    good.changes[0]!.kind = 'create-usr';
    writeFileSync(join(work, 'bad.json'), JSON.stringify(good));
    const shown = await runCli(['sync', 'show', 'bad.json'], { env: home.env, cwd: work });
    assert.equal(shown.code, 2);
    assert.equal(shown.stdout, '');
    assert.match(shown.stderr, /bad\.json: change 0 \(id "[^"]+"\): field "kind": unknown kind "create-usr"/);
    const applied = await runCli(['sync', 'apply', 'bad.json'], { env, cwd: work });
    assert.equal(applied.code, 2);
    assert.match(applied.stderr, /bad\.json: change 0 \(id "[^"]+"\): field "kind": unknown kind "create-usr"/);

    const missing = await runCli(['sync', 'show', 'nowhere.json'], { env: home.env, cwd: work });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nowhere\.json: cannot read/);
  });

  test('a plan edited by hand is shown, with a warning that apply refuses it without --allow-edited-plan', async () => {
    assert.equal((await savedPlan()).code, 0);
    const edited = JSON.parse(readFileSync(join(work, 'plan.json'), 'utf8')) as {
      changes: Array<{ kind: string; resource?: { title?: string } }>;
    };
    const create = edited.changes.find((c) => c.kind === 'create-user')!;
    create.resource!.title = 'Edited';
    writeFileSync(join(work, 'edited.json'), JSON.stringify(edited));
    const shown = await runCli(['sync', 'show', 'edited.json'], { env: home.env, cwd: work });
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^ {4}\+ title: "Edited"$/m);
    assert.match(shown.stderr, /warning: edited\.json was edited after it was planned.*--allow-edited-plan/);
  });
});

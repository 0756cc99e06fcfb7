/**
 * A user's history across runs (`runs user`), pruning the history (`--keep-runs`) and avatars of the pleio layout,
 * end to end: the built binary syncs a pleio CSV onto `scimctl serve` on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startQuirkProxy } from '../support/quirk-proxy.ts';
import { runCli, tempHome } from './helpers.ts';
import { startServe, teardown, type Json, type ServeProcess } from './serve-helpers.ts';

const TOKEN = 'e2e-user-history-token-5f3e9a';
let server: ServeProcess;
let home: ReturnType<typeof tempHome>;

before(async () => {
  server = await startServe({ token: TOKEN });
});
after(async () => {
  await teardown([server]);
});

/** A fresh home (config, cache, run history) for one test, on the shared server. */
function freshHome(): Record<string, string> {
  home?.cleanup();
  home = tempHome();
  return {
    ...home.env,
    SCIMCTL_DATA_DIR: join(home.dir, 'data'),
    SCIMCTL_URL: server.url,
    SCIMCTL_TOKEN: TOKEN,
  };
}
after(() => home?.cleanup());

function writeCsv(name: string, rows: string[][]): string {
  const file = join(home.dir, name);
  writeFileSync(file, `external_id,name,email,avatar\n${rows.map((r) => r.join(',')).join('\n')}\n`);
  return file;
}

async function sync(env: Record<string, string>, source: string, ...extra: string[]) {
  const r = await runCli(['sync', 'run', '--source', source, '--preset', 'pleio', '--yes', ...extra], { env });
  assert.equal(r.code, 0, `sync run failed: ${r.stderr}`);
  return r;
}

async function storedUser(userName: string): Promise<Json> {
  const res = await server.request('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
  return res.body.Resources[0];
}

describe('runs user', () => {
  test('after a create and an update: each run, what the source said, the plan and the result', async () => {
    const env = freshHome();
    const csv = writeCsv('hist.csv', [
      ['h-1', 'Hanna Early', 'hanna@history.test', ''],
      ['h-2', 'Piet Other', 'piet@history.test', ''],
    ]);
    await sync(env, csv);
    writeCsv('hist.csv', [
      ['h-1', 'Hanna Later', 'hanna@history.test', ''],
      ['h-2', 'Piet Other', 'piet@history.test', ''],
    ]);
    await sync(env, csv);
    const id = (await storedUser('hanna@history.test')).id as string;

    const r = await runCli(['runs', 'user', 'hanna@history.test', '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Json;
    assert.equal(out.user, 'hanna@history.test');
    assert.equal(out.runs.length, 2);
    const [second, first] = out.runs;
    assert.ok(second.run.startedAt >= first.run.startedAt, 'newest first');
    assert.equal(second.run.status, 'applied');
    // What the source said in each run: the record as received, with where it was.
    assert.equal(first.source[0].attributes.displayName, 'Hanna Early');
    assert.equal(second.source[0].attributes.displayName, 'Hanna Later');
    assert.equal(second.source[0].origin.line, 2);
    // What the plan did, and how it went.
    assert.equal(first.changes.length, 1);
    assert.equal(first.changes[0].change.kind, 'create-user');
    assert.equal(first.changes[0].result.status, 'applied');
    assert.equal(first.changes[0].result.createdId, id);
    assert.equal(second.changes[0].change.kind, 'update-user');
    const diff = second.changes[0].change.diffs.find((d: Json) => d.path === 'displayName');
    assert.deepEqual([diff.before, diff.after], ['Hanna Early', 'Hanna Later']);
    assert.equal(second.changes[0].result.status, 'applied');
    // Nothing of the other user.
    assert.ok(!r.stdout.includes('piet@history.test'));

    // By id and by externalId: the same runs.
    for (const ref of [id, 'h-1']) {
      const other = JSON.parse((await runCli(['runs', 'user', ref, '--json'], { env })).stdout) as Json;
      assert.deepEqual(
        other.runs.map((x: Json) => x.run.id),
        out.runs.map((x: Json) => x.run.id),
        ref,
      );
    }

    const text = await runCli(['runs', 'user', 'hanna@history.test'], { env });
    assert.equal(text.code, 0);
    assert.match(text.stdout, /history of hanna@history\.test: 2 run\(s\)/);
    assert.match(text.stdout, /plan: {3}~ update user hanna@history\.test/);
    assert.match(text.stdout, /Hanna Early.*Hanna Later/s);
    assert.match(text.stdout, /result: ✓ applied/);
    assert.match(text.stdout, /source: .*hist\.csv:2/);

    // A user the second run received unchanged: in both runs, the second without a change.
    const piet = JSON.parse((await runCli(['runs', 'user', 'piet@history.test', '--json'], { env })).stdout) as Json;
    assert.equal(piet.runs.length, 2);
    assert.deepEqual(piet.runs[0].changes, []);
    assert.equal(piet.runs[0].source[0].attributes.userName, 'piet@history.test');
    assert.equal(piet.runs[0].source[0].identityOnly, true);
    assert.match((await runCli(['runs', 'user', 'piet@history.test'], { env })).stdout, /plan: {3}no change/);

    // -p narrows it to one profile's runs (these ran with the connection from the environment).
    const scoped = await runCli(['runs', 'user', 'hanna@history.test', '-p', 'environment', '--json'], { env });
    assert.equal((JSON.parse(scoped.stdout) as Json).runs.length, 2);
    const elsewhere = await runCli(['runs', 'user', 'hanna@history.test', '-p', 'other-profile'], { env });
    assert.equal(elsewhere.code, 5);
    assert.match(elsewhere.stderr, /no user in the run history of profile other-profile matches "hanna@history\.test"/);

    // A user no run knows: a clear message, exit 5.
    const none = await runCli(['runs', 'user', 'nobody@history.test'], { env });
    assert.equal(none.code, 5);
    assert.match(none.stderr, /no user in the run history matches "nobody@history\.test"/);
  });

  test('a renamed user is found by the old name and the new one', async () => {
    const env = freshHome();
    const csv = writeCsv('rename.csv', [['r-1', 'Rena Me', 'rena@history.test', '']]);
    await sync(env, csv);
    writeCsv('rename.csv', [['r-1', 'Rena Me', 'rena.new@history.test', '']]);
    await sync(env, csv);
    for (const ref of ['rena@history.test', 'rena.new@history.test']) {
      const out = JSON.parse((await runCli(['runs', 'user', ref, '--json'], { env })).stdout) as Json;
      assert.equal(out.runs.length, 2, ref);
      assert.deepEqual(
        out.runs.map((x: Json) => x.changes[0].change.kind),
        ['update-user', 'create-user'],
      );
    }
  });
});

describe('--keep-runs', () => {
  test('keeps the newest N runs of the profile and prunes the rest when a run ends', async () => {
    const env = freshHome();
    const csv = writeCsv('keep.csv', [['k-1', 'Kee Pruns', 'keep@history.test', '']]);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await runCli(['sync', 'plan', '--source', csv, '--preset', 'pleio', '--keep-runs', '2'], { env });
      assert.equal(r.code, 0, r.stderr);
      const list = JSON.parse((await runCli(['runs', 'list', '--json'], { env })).stdout) as Json[];
      ids.push(list[0].id as string);
    }
    const list = JSON.parse((await runCli(['runs', 'list', '--json'], { env })).stdout) as Json[];
    assert.deepEqual(
      list.map((r) => r.id),
      [ids[2], ids[1]],
    );
    // The default keeps them all (up to 100).
    await runCli(['sync', 'plan', '--source', csv, '--preset', 'pleio'], { env });
    assert.equal((JSON.parse((await runCli(['runs', 'list', '--json'], { env })).stdout) as Json[]).length, 3);
    const bad = await runCli(['sync', 'plan', '--source', csv, '--preset', 'pleio', '--keep-runs', '0'], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--keep-runs/);
  });
});

describe('avatars of the pleio layout', () => {
  const png = (size: number, seed: number) => {
    const bytes = Buffer.alloc(size, seed);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes);
    return bytes;
  };
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]);

  test(
    'a URL as it is; a local file inline as a data: URI; too big, missing, not an ' +
      'image: problems of their records',
    async () => {
      const env = freshHome();
      mkdirSync(join(home.dir, 'pics'));
      writeFileSync(join(home.dir, 'pics', 'small.png'), png(300, 1));
      writeFileSync(join(home.dir, 'pics', 'face.jpg.png'), jpeg);
      writeFileSync(join(home.dir, 'pics', 'big.png'), png(3000, 2));
      writeFileSync(join(home.dir, 'pics', 'notes.png'), 'not an image at all');
      const csv = writeCsv('avatars.csv', [
        ['av-1', 'Url Avatar', 'url@avatar.test', 'https://img.avatar.test/u1.png'],
        ['av-2', 'Local Png', 'png@avatar.test', 'pics/small.png'],
        ['av-3', 'Local Jpeg', 'jpeg@avatar.test', 'pics/face.jpg.png'],
        ['av-4', 'Too Big', 'big@avatar.test', 'pics/big.png'],
        ['av-5', 'Missing File', 'missing@avatar.test', 'pics/gone.jpg'],
        ['av-6', 'Not Image', 'text@avatar.test', 'pics/notes.png'],
      ]);
      const flags = ['--avatars', 'inline', '--avatar-max', '2KB'];
      const first = await sync(env, csv, ...flags);
      const out = first.stdout + first.stderr;
      assert.equal((await storedUser('url@avatar.test')).photos[0].value, 'https://img.avatar.test/u1.png');
      const small = (await storedUser('png@avatar.test')).photos[0];
      assert.equal(small.value, `data:image/png;base64,${png(300, 1).toString('base64')}`);
      assert.equal(small.type, 'photo');
      // The type comes from the bytes, not the name.
      assert.match((await storedUser('jpeg@avatar.test')).photos[0].value, /^data:image\/jpeg;base64,/);
      for (const name of ['big', 'missing', 'text']) assert.equal(await storedUser(`${name}@avatar.test`), undefined);
      assert.match(out, /avatars\.csv:5: column "avatar": "pics\/big\.png": the file is 3 KB, over --avatar-max 2 KB/);
      assert.match(out, /avatars\.csv:6: column "avatar": "pics\/gone\.jpg": no such file/);
      assert.match(out, /avatars\.csv:7: column "avatar": "pics\/notes\.png": not a JPEG or PNG image/);

      // Unchanged files: nothing to do.
      const again = await runCli(
        ['sync', 'plan', '--source', csv, '--preset', 'pleio', ...flags, '--detailed-exitcode'],
        { env },
      );
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.match(again.stdout, /0 to create, 0 to update/);

      // A changed file: an update of that user's photo alone.
      writeFileSync(join(home.dir, 'pics', 'small.png'), png(400, 3));
      const changed = await runCli(['sync', 'plan', '--source', csv, '--preset', 'pleio', ...flags, '--json'], { env });
      const plan = JSON.parse(changed.stdout) as Json;
      assert.deepEqual(
        plan.changes.map((c: Json) => [c.kind, c.userName, c.diffs.map((d: Json) => d.path)]),
        [['update-user', 'png@avatar.test', ['photos']]],
      );
      await sync(env, csv, ...flags);
      assert.equal(
        (await storedUser('png@avatar.test')).photos[0].value,
        `data:image/png;base64,${png(400, 3).toString('base64')}`,
      );
      // Its history shows the photo's change as the type and size of the image, not its bytes.
      const history = await runCli(['runs', 'user', 'png@avatar.test'], { env });
      assert.equal(history.code, 0, history.stderr);
      assert.match(
        history.stdout,
        /update user png@avatar\.test\n.*photos.*data:image\/png;base64,… \(\d+ characters\)/,
      );
      assert.ok(!history.stdout.includes(png(400, 3).toString('base64').slice(0, 60)), 'no image bytes');
      // The records left out: why, in the run's history of them.
      const big = await runCli(['runs', 'user', 'big@avatar.test'], { env });
      assert.match(big.stdout, /plan: {3}left out: column "avatar": "pics\/big\.png": the file is 3 KB/);
    },
  );

  test('a target whose /Schemas does not declare photos: one warning, the photos left out, no refusal', async () => {
    const env = freshHome();
    // A server of its own: no user of it has photos yet (a target whose users have them takes them after all).
    const empty = await startServe({ token: TOKEN });
    const proxy = await startQuirkProxy(empty.url, { partialSchemas: true });
    try {
      writeFileSync(join(home.dir, 'p.png'), png(200, 5));
      const csv = writeCsv('no-photos.csv', [
        ['np-1', 'No Photos', 'np1@avatar.test', 'p.png'],
        ['np-2', 'No Photos Two', 'np2@avatar.test', 'https://img.avatar.test/np2.png'],
      ]);
      const plan = await runCli(
        ['sync', 'plan', '--source', csv, '--preset', 'pleio', '--avatars', 'inline', '--json'],
        { env: { ...env, SCIMCTL_URL: proxy.url } },
      );
      assert.equal(plan.code, 0, plan.stderr);
      const warnings = plan.stderr.split('\n').filter((l) => l.includes('photos'));
      assert.deepEqual(warnings, [
        "scimctl: warning: photos: the target's /Schemas does not declare it; 2 " +
          'records; left out — --strict-schema makes this an error',
      ]);
      const changes = (JSON.parse(plan.stdout) as Json).changes as Json[];
      assert.deepEqual(
        changes.map((c) => [c.kind, c.userName, 'photos' in c.resource]),
        [
          ['create-user', 'np1@avatar.test', false],
          ['create-user', 'np2@avatar.test', false],
        ],
      );
    } finally {
      await proxy.close();
      await teardown([empty]);
    }
  });

  test(
    'without --avatars inline a local file is a problem of its record, with a ' + 'hint; the rest is synced',
    async () => {
      const env = freshHome();
      writeFileSync(join(home.dir, 'me.png'), png(100, 4));
      const csv = writeCsv('urls-only.csv', [
        ['ao-1', 'Has Url', 'has-url@avatar.test', 'https://img.avatar.test/ao1.png'],
        ['ao-2', 'Has File', 'has-file@avatar.test', 'me.png'],
      ]);
      const r = await sync(env, csv);
      assert.match(r.stdout + r.stderr, /urls-only\.csv:3: column "avatar": "me\.png": a local file.*--avatars inline/);
      assert.ok(await storedUser('has-url@avatar.test'));
      assert.equal(await storedUser('has-file@avatar.test'), undefined);
      const bad = await runCli(['sync', 'plan', '--source', csv, '--preset', 'pleio', '--avatar-max', '256 K'], {
        env,
      });
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--avatar-max takes a size/);
    },
  );
});

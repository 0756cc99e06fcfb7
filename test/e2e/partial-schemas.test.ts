/**
 * A target whose /Schemas is partial (as many real ones are): its User schema declares neither
 * `groups`, `photos` nor `x509Certificates`, and `addresses` without `primary`, while its users
 * carry `addresses[work].primary`. The built scimctl syncs against `scimctl serve` behind the
 * quirk proxy (test/support/quirk-proxy.ts, partialSchemas), which serves such a /Schemas.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startQuirkProxy, type QuirkProxy } from '../support/quirk-proxy.ts';
import { runCli, serverEnv, tempHome } from './helpers.ts';
import { startServe, URN, type Json, type ServeProcess } from './serve-helpers.ts';

const TOKEN = 'partial-schemas-e2e-token';

const USERS = Array.from({ length: 6 }, (_, i) => ({
  externalId: `E${i + 1}`,
  userName: `user${i + 1}@example.com`,
  name: { givenName: `Given${i + 1}`, familyName: 'Partial' },
  displayName: `Given${i + 1} Partial`,
  title: 'Engineer',
  active: true,
  emails: [{ value: `user${i + 1}@example.com`, type: 'work', primary: true }],
  addresses: [{ type: 'work', locality: 'Utrecht', country: 'NL', primary: true }],
  groups: [{ display: 'Staff' }],
}));

describe('a target whose /Schemas is partial', () => {
  let serve: ServeProcess;
  let proxy: QuirkProxy;
  let home: ReturnType<typeof tempHome>;
  let seedHome: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  let exported: Json[];
  const file = (name: string, content: unknown) => {
    const path = join(home.dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return path;
  };
  const upstreamUser = async (userName: string): Promise<Json> => {
    const r = await serve.request('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
    return r.body.Resources[0];
  };

  before(async () => {
    serve = await startServe({ token: TOKEN });
    proxy = await startQuirkProxy(serve.url, { partialSchemas: true });
    home = tempHome();
    // Run history and sync state stay in the test's own folder.
    env = { ...serverEnv(proxy.url, TOKEN, home), SCIMCTL_DATA_DIR: join(home.dir, 'data') };
    // Seeded through the CLI, straight to the server (its whole schema): users with addresses[work].primary, in group
    // Staff.
    seedHome = tempHome();
    const seedEnv = { ...serverEnv(serve.url, TOKEN, seedHome), SCIMCTL_DATA_DIR: join(seedHome.dir, 'data') };
    const seeded = await runCli(['sync', 'run', '--yes', '--source', file('seed.json', USERS)], { env: seedEnv });
    assert.equal(seeded.code, 0, seeded.stdout + seeded.stderr);
  });

  after(async () => {
    await proxy?.close();
    await serve?.stop();
    serve?.cleanup();
    home?.cleanup();
    seedHome?.cleanup();
  });

  test(
    'the proxy serves a User schema without groups, photos and addresses.primary; ' +
      'the users carry addresses[work].primary',
    async () => {
      const schemas = (await (
        await fetch(`${proxy.url}/Schemas`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).json()) as Json;
      const user = (schemas.Resources as Json[]).find((s) => s.id === URN.user);
      const names = (user.attributes as Json[]).map((a) => a.name);
      assert.ok(!names.includes('groups') && !names.includes('photos') && names.includes('addresses'));
      assert.ok(
        !(user.attributes as Json[])
          .find((a) => a.name === 'addresses')
          .subAttributes.some((s: Json) => s.name === 'primary'),
      );
      assert.equal((await upstreamUser('user1@example.com')).addresses[0].primary, true);
    },
  );

  test('export users, then sync plan of that very export: no changes, no problems, no warnings', async () => {
    const out = join(home.dir, 'export.json');
    const r = await runCli(['export', 'users', '--format', 'json', '--output', out], { env });
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(readFileSync(out, 'utf8')) as Json;
    exported = (Array.isArray(body) ? body : body.Resources) as Json[];
    assert.equal(exported.length, USERS.length);
    assert.ok(
      exported.every((u) => u.addresses?.[0]?.primary === true && u.groups?.some((g: Json) => g.display === 'Staff')),
      JSON.stringify(exported[0]),
    );

    const plan = await runCli(['sync', 'plan', '--source', out], { env });
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /No changes: the target matches the source\./);
    assert.match(plan.stdout, /Plan: 0 to create, 0 to update, 0 to deactivate, 0 to delete, 0 membership changes\./);
    assert.doesNotMatch(plan.stdout, /could not be planned/);
    assert.doesNotMatch(plan.stderr, /warning|error/i);
    // addresses[work].primary is undeclared, but the target's users carry it: even --strict-schema takes it.
    const strict = await runCli(['sync', 'plan', '--strict-schema', '--source', out], { env });
    assert.equal(strict.code, 0, strict.stdout + strict.stderr);
    assert.match(strict.stdout, /No changes: the target matches the source\./);
  });

  test('the same with a CSV export: addresses[work].primary and groups columns are taken', async () => {
    const out = join(home.dir, 'export.csv');
    const r = await runCli(['export', 'users', '--format', 'csv', '--output', out], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(out, 'utf8').split('\n')[0]!, /addresses\[work\]\.primary/);
    const plan = await runCli(['sync', 'plan', '--strict-schema', '--source', out], { env });
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /No changes: the target matches the source\./);
    assert.doesNotMatch(plan.stderr, /warning|error/i);
  });

  test(
    'users carrying "groups": [{"display": "Sales"}] plan membership changes, ' + 'whatever the User schema says',
    async () => {
      const users = USERS.map(({ groups: _, ...u }) => ({ ...u, groups: [{ display: 'Sales' }] }));
      const plan = await runCli(['sync', 'plan', '--source', file('sales.json', users)], { env });
      assert.equal(plan.code, 0, plan.stdout + plan.stderr);
      assert.match(plan.stdout, /\+ create group Sales/);
      for (const u of USERS)
        assert.match(plan.stdout, new RegExp(`\\+ add ${u.userName.replace(/\./g, '\\.')} to group Sales`));
      assert.doesNotMatch(plan.stderr, /unknown attribute|warning/);
    },
  );

  test(
    'photos, which the target neither declares nor has on any user: left out, with ' + 'one warning and its count',
    async () => {
      const users = exported.map((u) => ({
        ...u,
        photos: [{ value: `https://example.com/${u.userName}.png`, type: 'photo' }],
      }));
      const plan = await runCli(['sync', 'plan', '--source', file('photos.json', users)], { env });
      assert.equal(plan.code, 0, plan.stdout + plan.stderr);
      const warnings = plan.stderr.split('\n').filter((l) => l.includes('warning:'));
      assert.deepEqual(warnings, [
        `scimctl: warning: photos: the target's /Schemas does not declare it; ` +
          `${USERS.length} records; left out — --strict-schema makes this an error`,
      ]);
      assert.match(plan.stdout, /No changes: the target matches the source\./);
      assert.doesNotMatch(plan.stdout, /photos/);
    },
  );

  test('--strict-schema: the same source is an input error, told once, and nothing is written', async () => {
    const users = exported.map((u) => ({
      ...u,
      title: 'Changed',
      photos: [{ value: `https://example.com/${u.userName}.png`, type: 'photo' }],
    }));
    const source = file('strict.json', users);
    const r = await runCli(['sync', 'run', '--yes', '--strict-schema', '--source', source], { env });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`error: ${USERS.length} problems in the input; nothing was written:`));
    const told = r.stderr.split('\n').filter((l) => l.includes("the target's /Schemas does not declare it"));
    assert.equal(told.length, 1, r.stderr);
    assert.match(
      told[0]!,
      new RegExp(
        `column "photos": the target's /Schemas does not declare it, and no user of ` +
          `the target has it \\(--strict-schema\\): ${USERS.length} records, e\\.g\\. ` +
          `.*strict\\.json:\\d+, .*strict\\.json:\\d+, .*strict\\.json:\\d+$`,
      ),
    );
    assert.equal(r.stdout, '');
    for (const u of USERS) {
      const now = await upstreamUser(u.userName);
      assert.equal(now.title, 'Engineer');
      assert.equal(now.photos, undefined);
    }
    // The run log keeps every problem (run ids go by the second: find the run by what it was).
    const list = await runCli(['runs', 'list', '--json'], { env });
    const failed = (JSON.parse(list.stdout) as Array<{ id: string; command: string; status: string }>).filter(
      (x) => x.command === 'sync run' && x.status === 'failed',
    );
    assert.equal(failed.length, 1, list.stdout);
    const log = await runCli(['runs', 'log', failed[0]!.id], { env });
    assert.equal(log.code, 0, log.stderr);
    assert.equal(
      log.stdout.split('\n').filter((l) => /strict\.json:\d+: column "photos"/.test(l)).length,
      USERS.length,
      log.stdout,
    );
  });

  test(
    'a name neither the target nor RFC 7643 knows is still an error, each kind ' + 'told once with its count',
    async () => {
      const users = exported.map(({ title, ...u }) => ({ ...u, titel: title }));
      const r = await runCli(['sync', 'plan', '--source', file('typo.json', users)], { env });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      const told = r.stderr.split('\n').filter((l) => l.includes('titel'));
      assert.equal(told.length, 1, r.stderr);
      assert.match(
        told[0]!,
        new RegExp(`field "titel": unknown attribute; valid: title, .*: ${USERS.length} records, e\\.g\\. `),
      );
    },
  );
});

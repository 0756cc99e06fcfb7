/**
 * sync plan|run from another SCIM server, end to end: the built binary reads one `scimctl serve` (the source, profile
 * "hr": users, groups, a nested group, an inactive user) and syncs it into another (the target, profile "app").
 *
 * The journeys run in order on the same two servers: initial sync → plan again is 0 changes (the config-file form too);
 * a rename and a group move on the source are updates and membership changes (never create + delete); --source-filter
 * on a server that filters, and on one that cannot (filtered on this side, with one note); a source that fails
 * part-way (a 500, a closed connection on page 2) aborts the run and leaves the target untouched; the same server as
 * source and target exits 2.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startQuirkProxy, type QuirkProxy } from '../support/quirk-proxy.ts';
import { runCli, tempHome, type RunResult } from './helpers.ts';
import { startServe, URN, type Json, type ServeProcess } from './serve-helpers.ts';

const HR_TOKEN = 'e2e-pull-hr-token-7f3a19';
const APP_TOKEN = 'e2e-pull-app-token-2b8c44';

let hr: ServeProcess;
let app: ServeProcess;
let home: ReturnType<typeof tempHome>;
let env: Record<string, string>;
const ids: Record<string, string> = {};
const id = (name: string): string => ids[name]!;

const cli = (args: string[]): Promise<RunResult> => runCli(args, { env, timeoutMs: 120_000 });
const sync = (args: string[]): Promise<RunResult> => cli(['sync', ...args]);
interface PlanJson {
  summary: Record<string, number>;
  changes: Array<{ kind: string; userName?: string; groupName?: string; target?: string }>;
  problems: unknown[];
  source: { records: number; files: string[] };
}
const planJson = async (args: string[]): Promise<PlanJson> => {
  const r = await sync(['plan', '--profile', 'app', ...args, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as PlanJson;
};
const list = async (server: ServeProcess, what: 'Users' | 'Groups'): Promise<Json[]> => {
  const r = await server.request('GET', `/${what}?count=1000`);
  assert.equal(r.status, 200);
  return r.body.Resources as Json[];
};
const byName = (users: Json[], userName: string): Json | undefined => users.find((u) => u.userName === userName);
/** The target's groups as name → sorted member userNames. */
const targetMemberships = async (): Promise<Record<string, string[]>> => {
  const users = await list(app, 'Users');
  const name = new Map(users.map((u) => [u.id as string, u.userName as string]));
  const out: Record<string, string[]> = {};
  for (const g of await list(app, 'Groups'))
    out[g.displayName] = ((g.members ?? []) as Json[]).map((m) => name.get(m.value) ?? `?${m.value}`).sort();
  return out;
};

async function post(server: ServeProcess, what: 'Users' | 'Groups', body: Json): Promise<string> {
  const r = await server.request('POST', `/${what}`, { body });
  assert.equal(r.status, 201, r.text);
  return r.body.id as string;
}
const member = (id: string, type: 'User' | 'Group') => ({ value: id, type });
const patch = (server: ServeProcess, path: string, Operations: Json[]) =>
  server.request('PATCH', path, { body: { schemas: [URN.patch], Operations } });

/**
 * A proxy in front of the source that pages /Users two at a time and answers the second page (startIndex 3) with a
 * 500, or closes the connection: a source that fails part-way.
 */
async function failingProxy(
  upstream: string,
  how: 'status' | 'close',
): Promise<{ url: string; close(): Promise<void> }> {
  const base = new URL(upstream);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    if (req.method === 'GET' && /\/Users$/.test(url.pathname)) {
      if (url.searchParams.has('count')) url.searchParams.set('count', '2');
      // The second page, by index or by cursor.
      if (Number(url.searchParams.get('startIndex') ?? '1') >= 3 || (url.searchParams.get('cursor') ?? '') !== '') {
        if (how === 'close') {
          req.socket.destroy();
          return;
        }
        res.writeHead(500, { 'content-type': 'application/scim+json' });
        res.end(JSON.stringify({ schemas: [URN.error], status: '500', detail: 'database went away' }));
        return;
      }
    }
    const out = httpRequest(
      {
        host: base.hostname,
        port: base.port,
        method: req.method,
        path: url.pathname + url.search,
        headers: req.headers,
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${base.pathname}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('sync from another SCIM server, end to end (scimctl serve → scimctl serve)', { timeout: 600_000 }, () => {
  let noFilters: QuirkProxy | undefined;
  const proxies: Array<{ close(): Promise<void> }> = [];
  before(async () => {
    [hr, app] = await Promise.all([startServe({ token: HR_TOKEN }), startServe({ token: APP_TOKEN })]);
    home = tempHome();
    env = { ...home.env, SCIMCTL_DATA_DIR: join(home.dir, 'data'), HR_TOKEN, APP_TOKEN };
    for (const [name, url, token] of [
      ['hr', hr.url, 'HR_TOKEN'],
      ['app', app.url, 'APP_TOKEN'],
    ] as const) {
      const r = await cli(['profile', 'add', name, '--url', url, '--token-env', token]);
      assert.equal(r.code, 0, r.stderr);
    }
    // The source: ann (externalId), bob (none: his id is his identity), cy (inactive), dee; Staff holds ann, bob and
    // the group Eng (cy); Sales holds dee.
    const user = (userName: string, extra: Json = {}) => ({
      schemas: [URN.user],
      userName,
      name: { givenName: userName.split('@')[0], familyName: 'Example' },
      emails: [{ value: userName, type: 'work', primary: true }],
      active: true,
      ...extra,
    });
    ids.ann = await post(hr, 'Users', user('ann@example.com', { externalId: 'HR-ANN', title: 'Engineer' }));
    ids.bob = await post(hr, 'Users', user('bob@example.com', { title: 'Engineer' }));
    ids.cy = await post(hr, 'Users', user('cy@example.com', { externalId: 'HR-CY', active: false }));
    ids.dee = await post(hr, 'Users', user('dee@example.com', { externalId: 'HR-DEE', title: 'Sales' }));
    ids.eng = await post(hr, 'Groups', {
      schemas: [URN.group],
      displayName: 'Eng',
      externalId: 'HR-G-ENG',
      members: [member(id('cy'), 'User')],
    });
    ids.staff = await post(hr, 'Groups', {
      schemas: [URN.group],
      displayName: 'Staff',
      members: [member(id('ann'), 'User'), member(id('bob'), 'User'), member(id('eng'), 'Group')],
    });
    ids.sales = await post(hr, 'Groups', {
      schemas: [URN.group],
      displayName: 'Sales',
      members: [member(id('dee'), 'User')],
    });
  });
  after(async () => {
    await noFilters?.close();
    for (const p of proxies) await p.close();
    for (const s of [hr, app]) await s?.stop();
    for (const s of [hr, app]) s?.cleanup();
    home?.cleanup();
  });

  test(
    'initial sync: identities, the inactive user, nested groups flattened; plan ' + 'again = 0; the source is kept',
    async () => {
      const run = await sync(['run', '--source', 'scim:hr', '--profile', 'app', '--yes']);
      assert.equal(run.code, 0, run.stderr);
      assert.ok(!`${run.stdout}${run.stderr}`.includes(HR_TOKEN), 'the source token is never shown');
      const users = await list(app, 'Users');
      assert.equal(users.length, 4);
      assert.equal(byName(users, 'ann@example.com')?.externalId, 'HR-ANN', "the source's externalId");
      assert.equal(byName(users, 'bob@example.com')?.externalId, ids.bob, 'no externalId: the source id');
      assert.equal(byName(users, 'cy@example.com')?.active, false, 'inactive stays inactive');
      assert.equal(byName(users, 'ann@example.com')?.title, 'Engineer');
      assert.deepEqual(await targetMemberships(), {
        Eng: ['cy@example.com'],
        Staff: ['ann@example.com', 'bob@example.com', 'cy@example.com'],
        Sales: ['dee@example.com'],
      });
      const groups = await list(app, 'Groups');
      assert.equal(groups.find((g) => g.displayName === 'Eng')?.externalId, 'HR-G-ENG');
      assert.equal(groups.find((g) => g.displayName === 'Staff')?.externalId, ids.staff);

      const again = await planJson(['--source', 'scim:hr']);
      assert.equal(again.changes.length, 0, JSON.stringify(again.changes));
      assert.deepEqual(again.source.files, [`${hr.url}/Users`, `${hr.url}/Groups`]);

      // The run history keeps what was read: the users and groups as ListResponses, never the token.
      const runs = JSON.parse((await cli(['runs', 'list', '--all-profiles', '--json'])).stdout) as Json;
      const list0 = (Array.isArray(runs) ? runs : runs.runs) as Json[];
      const applied = list0.find((r) => r.command === 'sync run');
      assert.ok(applied, JSON.stringify(list0));
      const dir = join(home.dir, 'data', 'runs', applied.id, 'source');
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Json[];
      assert.deepEqual(
        manifest.map((m) => m.role),
        ['users', 'groups'],
      );
      const keptUsers = JSON.parse(readFileSync(join(dir, manifest[0].copy), 'utf8'));
      assert.equal(keptUsers.Resources.length, 4);
      assert.equal(keptUsers.totalResults, 4);
      const keptGroups = JSON.parse(readFileSync(join(dir, manifest[1].copy), 'utf8'));
      assert.deepEqual(keptGroups.Resources.map((g: Json) => g.displayName).sort(), ['Eng', 'Sales', 'Staff']);
      for (const m of manifest) assert.ok(!readFileSync(join(dir, m.copy), 'utf8').includes(HR_TOKEN));
    },
  );

  test(
    'the config-file form (source: {scim: hr}) reads the same: 0 changes; --nested ' + 'direct changes Staff',
    async () => {
      const path = join(home.dir, 'sync.yaml');
      writeFileSync(path, 'target: app\nsource:\n  scim: hr\n');
      const r = await sync(['plan', '--config', path, '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as PlanJson).changes.length, 0);

      writeFileSync(path, 'target: app\nsource:\n  scim: hr\n  nested: direct\n');
      const direct = await sync(['plan', '--config', path, '--json']);
      assert.equal(direct.code, 0, direct.stderr);
      assert.deepEqual(
        (JSON.parse(direct.stdout) as PlanJson).changes.map((c) => [c.kind, c.groupName, c.userName]),
        [['remove-member', 'Staff', 'cy@example.com']],
        'direct: Eng is no user of Staff, so cy (a member through Eng) leaves it',
      );
    },
  );

  test(
    'a rename and a group move on the source are an update and membership changes, ' + 'never create + delete',
    async () => {
      const before = await list(app, 'Users');
      assert.equal(
        (
          await patch(hr, `/Users/${ids.bob}`, [
            { op: 'replace', path: 'userName', value: 'robert@example.com' },
            { op: 'replace', path: 'emails', value: [{ value: 'robert@example.com', type: 'work', primary: true }] },
          ])
        ).status,
        200,
      );
      assert.equal(
        (await patch(hr, `/Groups/${ids.sales}`, [{ op: 'remove', path: `members[value eq "${ids.dee}"]` }])).status,
        200,
      );
      const added = await patch(hr, `/Groups/${ids.eng}`, [
        { op: 'add', path: 'members', value: [member(id('dee'), 'User')] },
      ]);
      assert.equal(added.status, 200);

      const plan = await planJson(['--source', 'scim:hr']);
      assert.deepEqual(
        plan.changes.map((c) => [c.kind, c.groupName ?? '', c.userName]).sort(),
        [
          ['add-member', 'Eng', 'dee@example.com'],
          ['add-member', 'Staff', 'dee@example.com'],
          ['remove-member', 'Sales', 'dee@example.com'],
          ['update-user', '', 'bob@example.com'],
        ].sort(),
      );
      const update = plan.changes.find((c) => c.kind === 'update-user');
      assert.match(JSON.stringify(update), /robert@example\.com/, 'the update renames bob');
      const run = await sync(['run', '--source', 'scim:hr', '--profile', 'app', '--yes']);
      assert.equal(run.code, 0, run.stderr);
      const after = await list(app, 'Users');
      assert.equal(byName(after, 'robert@example.com')?.id, byName(before, 'bob@example.com')?.id, 'the same user');
      assert.equal(byName(after, 'bob@example.com'), undefined);
      assert.equal(after.length, 4);
      assert.deepEqual((await targetMemberships()).Sales, []);
      assert.equal((await planJson(['--source', 'scim:hr'])).changes.length, 0);
    },
  );

  test(
    '--source-filter: applied by the source server; by this side (one note) when ' + 'the server cannot filter',
    async () => {
      const filtered = await planJson(['--source', 'scim:hr', '--source-filter', 'title eq "Engineer"']);
      assert.equal(filtered.source.records, 2, 'ann and robert');
      assert.equal(filtered.summary.create, 0);
      assert.equal(filtered.summary.update, 0, JSON.stringify(filtered.changes));

      noFilters = await startQuirkProxy(hr.url, { noFilters: true });
      const add = await cli(['profile', 'add', 'hr-nofilter', '--url', noFilters.url, '--token-env', 'HR_TOKEN']);
      assert.equal(add.code, 0, add.stderr);
      const r = await sync([
        'plan',
        '--profile',
        'app',
        '--source',
        'scim:hr-nofilter',
        '--source-filter',
        'title eq "Engineer"',
        '--json',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as PlanJson).source.records, 2, 'the same two, filtered on this side');
      const notes = r.stderr.split('\n').filter((l) => /source scim:hr-nofilter: .*filtering on this side/.test(l));
      assert.equal(notes.length, 1, r.stderr);

      const bad = await sync(['plan', '--profile', 'app', '--source', 'scim:hr', '--source-filter', 'title eq']);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /--source-filter: .* is not a SCIM filter/);
    },
  );

  for (const how of ['status', 'close'] as const) {
    test(
      `a source that fails part-way ` +
        `(${how === 'status' ? 'a 500' : 'the connection closed'} on page 2) aborts ` +
        `the run; the target is untouched`,
      async () => {
        // A change on the source that a complete read would apply.
        await post(hr, 'Users', {
          schemas: [URN.user],
          userName: `new-${how}@example.com`,
          externalId: `HR-NEW-${how}`,
        });
        const proxy = await failingProxy(hr.url, how);
        proxies.push(proxy);
        const name = `hr-flaky-${how}`;
        assert.equal((await cli(['profile', 'add', name, '--url', proxy.url, '--token-env', 'HR_TOKEN'])).code, 0);
        const usersBefore = await list(app, 'Users');
        const groupsBefore = await list(app, 'Groups');
        const run = await sync([
          'run',
          '--source',
          `scim:${name}`,
          '--profile',
          'app',
          '--yes',
          '--retries',
          '0',
          '--accept-source-change',
        ]);
        assert.equal(run.code, how === 'status' ? 1 : 6, `${run.stdout}\n${run.stderr}`);
        assert.match(run.stderr, /stopped after 2 resources/, 'the first page was read, the second failed');
        assert.match(run.stderr, new RegExp(`source scim:${name}`), run.stderr);
        assert.deepEqual(await list(app, 'Users'), usersBefore);
        assert.deepEqual(await list(app, 'Groups'), groupsBefore);
        const runs = JSON.parse((await cli(['runs', 'list', '--all-profiles', '--json'])).stdout) as Json;
        const last = ((Array.isArray(runs) ? runs : runs.runs) as Json[]).find((r) => r.command === 'sync run');
        assert.equal(last?.status, 'failed', JSON.stringify(last));
      },
    );
  }

  test('the same server as source and target exits 2, before anything is read', async () => {
    const same = await sync(['plan', '--profile', 'app', '--source', 'scim:app']);
    assert.equal(same.code, 2, same.stderr);
    assert.match(same.stderr, /are the same server/);
    assert.equal(
      (await cli(['profile', 'add', 'app-again', '--url', `${app.url}/`, '--token-env', 'APP_TOKEN'])).code,
      0,
    );
    const sameUrl = await sync(['run', '--profile', 'app', '--source', 'scim:app-again', '--yes']);
    assert.equal(sameUrl.code, 2, sameUrl.stderr);
    assert.match(sameUrl.stderr, /are the same server/);
    const unknown = await sync(['plan', '--profile', 'app', '--source', 'scim:nobody']);
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /no profile named "nobody"/);
    const fileWithFilter = await sync([
      'plan',
      '--profile',
      'app',
      '--source',
      'users.csv',
      '--source-filter',
      'x eq 1',
    ]);
    assert.equal(fileWithFilter.code, 2, fileWithFilter.stderr);
    assert.match(fileWithFilter.stderr, /--source-filter is for a scim:PROFILE --source/);
  });
});

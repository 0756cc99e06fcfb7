import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScimClient } from '../../src/api/client.ts';
import type { Capabilities } from '../../src/api/discovery.ts';
import { PATCH_OP_SCHEMA } from '../../src/api/patch.ts';
import { SCHEMA, type ScimUser } from '../../src/api/types.ts';
import { changesToPatch } from '../../src/api/update.ts';
import { applyDiffs, applyPlan, type ApplyOptions, type ChangeResult } from '../../src/sync/apply.ts';
import type { Change, Plan, TargetSnapshot } from '../../src/sync/model.ts';
import { planSync } from '../../src/sync/planner.ts';
import { BASE, caps, recordingSleep, scimError, type FakeRequest } from './helpers.ts';
import {
  CUSTOM,
  ENT,
  grp,
  ofKind,
  opts,
  rec,
  scimServer,
  source,
  target,
  tgroup,
  tuser,
  type FakeServer,
  type ServerOptions,
} from './sync-helpers.ts';

function setup(
  start: TargetSnapshot,
  server: Partial<ServerOptions> = {},
  change: (c: Capabilities) => void = () => undefined,
) {
  const capabilities = caps((c) => {
    c.patch = server.patch ?? true;
    c.etag = server.etag ?? false;
    change(c);
  });
  const srv = scimServer(start, { patch: capabilities.patch, etag: capabilities.etag, ...server });
  const client = new ScimClient({
    baseUrl: BASE,
    fetch: srv.f.fetch,
    sleep: recordingSleep().sleep,
    capabilities,
    retries: 0,
  });
  return { srv, client, capabilities };
}

const applyOpts = (extra: Partial<ApplyOptions> = {}): ApplyOptions => ({ concurrency: 1, bulk: 'never', ...extra });
const status = (results: ChangeResult[]) => Object.fromEntries(results.map((r) => [r.id, r.status]));
const result = (results: ChangeResult[], id: string) => {
  const r = results.find((x) => x.id === id);
  assert.ok(r, `a result for ${id}`);
  return r;
};
const writes = (srv: FakeServer) => srv.log().filter((l) => !l.startsWith('GET'));
const callsTo = (srv: FakeServer, method: string, path: string): FakeRequest[] =>
  srv.f.calls.filter((c) => c.method === method && c.url.pathname === `/scim/v2${path}`);
const body = (req: FakeRequest) => JSON.parse(req.body!) as Record<string, unknown>;

/** A plan with one change of every kind, built by the planner. */
function everyKind() {
  const start = target(
    [
      tuser('t1', {
        userName: 'ann@example.com',
        title: 'Dev',
        phoneNumbers: [{ type: 'work', value: '+1 555 0101' }],
        [ENT]: { department: 'Sales', costCenter: 'CC1' },
      }),
      tuser('t2', { userName: 'gone@example.com', active: true }),
      tuser('t3', { userName: 'bob@example.com' }),
    ],
    [tgroup('g1', 'Sales', ['t3']), tgroup('g2', 'Old')],
  );
  const plan = planSync(
    source(
      [
        rec(2, { userName: 'ann@example.com', title: 'Lead', [ENT]: { department: 'Eng' } }),
        rec(3, { userName: 'new@example.com', name: { givenName: 'Nu' } }),
        rec(4, { userName: 'bob@example.com' }),
      ],
      [grp(2, 'Sales', ['ann@example.com', 'new@example.com']), grp(3, 'New', ['ann@example.com', 'new@example.com'])],
    ),
    start,
    opts({ owned: new Set(['t1', 't2', 't3']), ownedGroups: new Set(['g2']), deleteGroups: true }),
  );
  return { start, plan };
}

describe('applyPlan: order and dependencies', () => {
  test('phases run in dependency order whatever the order of the plan; created ids flow into memberships', async () => {
    const { start, plan } = everyKind();
    const kindsInPlan = new Set(plan.changes.map((c) => c.kind));
    assert.deepEqual([...kindsInPlan].sort(), [
      'add-member',
      'create-group',
      'create-user',
      'deactivate-user',
      'delete-group',
      'remove-member',
      'update-user',
    ]);
    // Reverse the plan: the applier orders by phase, not by position.
    const reversed: Plan = { ...plan, changes: [...plan.changes].reverse() };
    const { srv, client, capabilities } = setup(start);
    const seen: string[] = [];
    const results = await applyPlan(client, capabilities, reversed, applyOpts({ onResult: (r) => seen.push(r.id) }));
    assert.ok(
      results.every((r) => r.status === 'applied'),
      JSON.stringify(results),
    );
    assert.equal(results.length, plan.changes.length);
    assert.deepEqual([...seen].sort(), plan.changes.map((c) => c.id).sort());
    // Results come back in phase order.
    const phase = [
      'create-user',
      'update-user',
      'create-group',
      'add-member',
      'remove-member',
      'deactivate-user',
      'delete-user',
      'delete-group',
    ];
    const positions = results.map((r) => phase.indexOf(r.kind));
    assert.deepEqual(
      positions,
      [...positions].sort((a, b) => a - b),
    );

    const w = writes(srv);
    const first = (prefix: string) => w.findIndex((l) => l.startsWith(prefix));
    const last = (prefix: string) => w.map((l) => l.startsWith(prefix)).lastIndexOf(true);
    assert.ok(last('POST /Users') < first('PATCH /Users/t1'), w.join('\n'));
    assert.ok(last('PATCH /Users/t1') < first('POST /Groups'), w.join('\n'));
    assert.ok(last('POST /Groups') < first('PATCH /Groups'), w.join('\n'));
    assert.ok(last('PATCH /Groups') < first('PATCH /Users/t2'), w.join('\n'));
    assert.ok(last('PATCH /Users/t2') < first('DELETE /Groups/g2'), w.join('\n'));

    const newUser = result(results, 'create-user:new@example.com').createdId!;
    const newGroup = result(results, 'create-group:New').createdId!;
    assert.equal(srv.users.get(newUser)!.userName, 'new@example.com');
    const members = (id: string) => (srv.groups.get(id)!.members ?? []).map((m) => m.value).sort();
    assert.deepEqual(members('g1'), ['t1', newUser].sort());
    assert.deepEqual(members(newGroup), ['t1', newUser].sort());
    assert.equal(srv.users.get('t2')!.active, false);
    assert.equal(srv.groups.has('g2'), false);
  });

  test('a failed create fails the memberships that need it ("was not created"); everything else applies', async () => {
    const { start, plan } = everyKind();
    const { srv, client, capabilities } = setup(start, {
      intercept: (req) =>
        req.method === 'POST' && req.url.pathname.endsWith('/Users')
          ? scimError(400, 'emails are required', 'invalidValue')
          : undefined,
    });
    const results = await applyPlan(client, capabilities, plan, applyOpts());
    const failed = results.filter((r) => r.status === 'failed');
    assert.deepEqual(failed.map((r) => r.id).sort(), [
      'add-member:create-group:New:create-user:new@example.com',
      'add-member:g1:create-user:new@example.com',
      'create-user:new@example.com',
    ]);
    assert.match(result(results, 'create-user:new@example.com').detail!, /emails are required/);
    for (const id of [
      'add-member:create-group:New:create-user:new@example.com',
      'add-member:g1:create-user:new@example.com',
    ]) {
      assert.equal(result(results, id).detail, 'user new@example.com was not created');
    }
    // t1 still joined both groups.
    const newGroup = result(results, 'create-group:New').createdId!;
    assert.deepEqual(
      (srv.groups.get(newGroup)!.members ?? []).map((m) => m.value),
      ['t1'],
    );
    assert.ok((srv.groups.get('g1')!.members ?? []).some((m) => m.value === 't1'));
    assert.equal(results.filter((r) => r.status === 'applied').length, plan.changes.length - 3);
  });

  test(
    'a failed group create fails its memberships ("group … was not created"); a ' +
      '409 on a user create says "already exists"',
    async () => {
      const { start, plan } = everyKind();
      const { client, capabilities } = setup(start, {
        intercept: (req) => {
          if (req.method === 'POST' && req.url.pathname.endsWith('/Groups')) return scimError(500, 'boom');
          if (req.method === 'POST' && req.url.pathname.endsWith('/Users'))
            return scimError(409, 'userName taken', 'uniqueness');
          return undefined;
        },
      });
      const results = await applyPlan(client, capabilities, plan, applyOpts());
      assert.equal(result(results, 'add-member:create-group:New:t1').status, 'failed');
      assert.equal(result(results, 'add-member:create-group:New:t1').detail, 'group New was not created');
      assert.match(result(results, 'create-user:new@example.com').detail!, /^already exists: userName taken/);
      assert.equal(result(results, 'add-member:g1:t1').status, 'applied');
      assert.equal(result(results, 'delete-group:g2').status, 'applied');
    },
  );

  test('excluded changes are not sent and are reported as excluded', async () => {
    const { start, plan } = everyKind();
    const { srv, client, capabilities } = setup(start);
    const exclude = new Set(['update-user:t1', 'deactivate-user:t2', 'delete-group:g2']);
    const seen: ChangeResult[] = [];
    const results = await applyPlan(client, capabilities, plan, applyOpts({ exclude, onResult: (r) => seen.push(r) }));
    for (const id of exclude) {
      assert.equal(result(results, id).status, 'excluded');
      assert.ok(
        seen.some((r) => r.id === id && r.status === 'excluded'),
        `told about ${id}`,
      );
    }
    const w = writes(srv);
    assert.ok(
      !w.some((l) => l === 'PATCH /Users/t1' || l === 'PATCH /Users/t2' || l === 'DELETE /Groups/g2'),
      w.join('\n'),
    );
    assert.equal(srv.users.get('t1')!.title, 'Dev');
    assert.equal(srv.users.get('t2')!.active, true);
    assert.ok(srv.groups.has('g2'));
    assert.ok(results.filter((r) => !exclude.has(r.id)).every((r) => r.status === 'applied'));
  });

  test('excluding a create excludes the memberships that need it: nothing is sent to fail at the server', async () => {
    const { start, plan } = everyKind();
    const { srv, client, capabilities } = setup(start);
    const exclude = new Set(['create-user:new@example.com']);
    const results = await applyPlan(client, capabilities, plan, applyOpts({ exclude }));
    for (const id of [
      'add-member:create-group:New:create-user:new@example.com',
      'add-member:g1:create-user:new@example.com',
    ]) {
      assert.equal(result(results, id).status, 'excluded', id);
      assert.equal(result(results, id).detail, 'needs create user new@example.com');
    }
    assert.ok(!writes(srv).some((l) => l === 'POST /Users'), writes(srv).join('\n'));
    assert.equal(result(results, 'create-group:New').status, 'applied');
    assert.ok(results.filter((r) => r.status !== 'excluded').every((r) => r.status === 'applied'));
  });
});

describe('applyPlan: updates', () => {
  const start = () =>
    target([
      tuser('t1', {
        userName: 'ann@example.com',
        title: 'Dev',
        nickName: 'A',
        phoneNumbers: [{ type: 'work', value: '+1 555 0101' }],
        [ENT]: { department: 'Sales', costCenter: 'CC1' },
      }),
      tuser('t2', { userName: 'bob@example.com', title: 'Dev' }),
      tuser('t3', { userName: 'cy@example.com', active: true }),
    ]);
  const plan = () =>
    planSync(
      source([
        rec(2, { userName: 'ann@example.com', title: 'Lead', nickName: null, [ENT]: { department: 'Eng' } }),
        rec(3, { userName: 'bob@example.com', title: 'Lead' }),
      ]),
      start(),
      opts({ owned: new Set(['t1', 't2', 't3']) }),
    );

  for (const etag of [true, false]) {
    test(
      `PATCH sends exactly ` +
        `changesToPatch(diffs)` +
        `${etag ? ', with If-Match the planned version' : ', without If-Match (no ETags)'}`,
      async () => {
        const p = plan();
        const { srv, client, capabilities } = setup(start(), { etag });
        const results = await applyPlan(client, capabilities, p, applyOpts());
        assert.ok(results.every((r) => r.status === 'applied'));
        for (const u of ofKind(p, 'update-user')) {
          const [req, ...more] = callsTo(srv, 'PATCH', `/Users/${u.target}`);
          assert.equal(more.length, 0);
          assert.deepEqual(body(req!), changesToPatch(u.diffs));
          assert.equal(req!.headers.get('if-match'), etag ? p.versions[`User/${u.target}`]! : null);
        }
        assert.equal(callsTo(srv, 'GET', '/Users/t1').length, 0, 'PATCH needs no read');
        const t1 = srv.users.get('t1')!;
        assert.equal(t1.title, 'Lead');
        assert.equal(t1.nickName, undefined);
        assert.deepEqual(t1[ENT], { department: 'Eng', costCenter: 'CC1' });
        assert.deepEqual(t1.phoneNumbers, [{ type: 'work', value: '+1 555 0101' }]);
      },
    );
  }

  test('a version that is not an ETag (lastModified or a content hash) is never sent as If-Match', async () => {
    const users = [
      tuser('t1', { userName: 'ann@example.com', title: 'Dev' }, null),
      {
        ...tuser('t2', { userName: 'bob@example.com', title: 'Dev' }, null),
        meta: { lastModified: '2025-05-05T00:00:00Z' },
      },
    ];
    const p = planSync(
      source([
        rec(2, { userName: 'ann@example.com', title: 'Lead' }),
        rec(3, { userName: 'bob@example.com', title: 'Lead' }),
      ]),
      target(users),
      opts(),
    );
    assert.match(p.versions['User/t1']!, /^hash:/);
    assert.match(p.versions['User/t2']!, /^lastModified:/);
    const { srv, client, capabilities } = setup(target(users), { etag: true });
    const results = await applyPlan(client, capabilities, p, applyOpts());
    assert.deepEqual(status(results), { 'update-user:t1': 'applied', 'update-user:t2': 'applied' });
    for (const c of srv.f.calls) assert.equal(c.headers.get('if-match'), null);
  });

  test('412 on one update: that change fails "changed on the server", the rest continue', async () => {
    const p = plan();
    const { srv, client, capabilities } = setup(start(), { etag: true });
    // Someone edits t1 after the plan was made.
    srv.users.get('t1')!.meta = { version: 'W/"edited"' };
    const results = await applyPlan(client, capabilities, p, applyOpts());
    const r1 = result(results, 'update-user:t1');
    assert.equal(r1.status, 'failed');
    assert.match(r1.detail!, /changed on the server/);
    assert.equal(result(results, 'update-user:t2').status, 'applied');
    assert.equal(srv.users.get('t1')!.title, 'Dev', 'nothing was overwritten');
    assert.equal(srv.users.get('t2')!.title, 'Lead');
  });

  test(
    'PUT fallback (no PATCH): GET, then PUT of the fresh resource with the diffs, ' + 'other attributes preserved',
    async () => {
      const p = plan();
      const { srv, client, capabilities } = setup(start(), { patch: false, etag: true });
      // An attribute the plan does not touch changed since planning (no conflict): the PUT keeps it.
      srv.users.get('t1')!.displayName = 'Ann (edited)';
      const results = await applyPlan(client, capabilities, p, applyOpts());
      assert.ok(
        results.every((r) => r.status === 'applied'),
        JSON.stringify(results),
      );
      assert.equal(callsTo(srv, 'PATCH', '/Users/t1').length, 0);
      const log = srv.log().filter((l) => l.endsWith('/Users/t1'));
      assert.deepEqual(log, ['GET /Users/t1', 'PUT /Users/t1']);
      const [put] = callsTo(srv, 'PUT', '/Users/t1');
      const sent = body(put!);
      assert.equal(sent.meta, undefined);
      assert.deepEqual(sent.schemas, [SCHEMA.USER, ENT]);
      assert.equal(sent.title, 'Lead');
      assert.equal('nickName' in sent, false);
      assert.equal(sent.displayName, 'Ann (edited)');
      assert.deepEqual(sent.phoneNumbers, [{ type: 'work', value: '+1 555 0101' }]);
      assert.deepEqual(sent[ENT], { department: 'Eng', costCenter: 'CC1' });
      // If-Match on the PUT is the version just read.
      assert.equal(put!.headers.get('if-match'), 'W/"t1-1"');
    },
  );

  test('PATCH advertised but answered 501: falls back to GET + PUT, and stops trying PATCH', async () => {
    const p = plan();
    const { srv, client, capabilities } = setup(start(), { patch: false }, (c) => (c.patch = true));
    const results = await applyPlan(client, capabilities, p, applyOpts());
    assert.ok(
      results.every((r) => r.status === 'applied'),
      JSON.stringify(results),
    );
    assert.equal(capabilities.patch, false);
    assert.equal(srv.f.calls.filter((c) => c.method === 'PATCH').length, 1, 'one PATCH, then PUTs only');
    assert.equal(srv.users.get('t1')!.title, 'Lead');
    assert.equal(srv.users.get('t2')!.title, 'Lead');
  });
});

describe('applyPlan: deactivate and delete', () => {
  const start = () =>
    target([
      tuser('t1', { userName: 'a@example.com', active: true, title: 'Keep' }),
      tuser('t2', { userName: 'b@example.com' }),
      tuser('t3', { userName: 'c@example.com' }),
    ]);

  test('deactivate: PATCH replace active=false with If-Match the planned version', async () => {
    const p = planSync(
      source([rec(2, { userName: 'c@example.com' })]),
      start(),
      opts({ owned: new Set(['t1', 't2']) }),
    );
    const { srv, client, capabilities } = setup(start(), { etag: true });
    const results = await applyPlan(client, capabilities, p, applyOpts());
    assert.deepEqual(status(results), { 'deactivate-user:t1': 'applied', 'deactivate-user:t2': 'applied' });
    const [req] = callsTo(srv, 'PATCH', '/Users/t1');
    assert.deepEqual(body(req!), {
      schemas: [PATCH_OP_SCHEMA],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    assert.equal(req!.headers.get('if-match'), 'W/"t1-1"');
    assert.equal(srv.users.get('t1')!.active, false);
    assert.equal(srv.users.get('t1')!.title, 'Keep');
  });

  test('deactivate without PATCH: GET then PUT with active=false, the rest kept', async () => {
    const p = planSync(source([]), start(), opts({ owned: new Set(['t1']) }));
    const { srv, client, capabilities } = setup(start(), { patch: false });
    const results = await applyPlan(client, capabilities, p, applyOpts());
    assert.deepEqual(status(results), { 'deactivate-user:t1': 'applied' });
    const [put] = callsTo(srv, 'PUT', '/Users/t1');
    assert.equal(body(put!).active, false);
    assert.equal(body(put!).title, 'Keep');
    assert.equal(body(put!).userName, 'a@example.com');
  });

  test('delete: 404 means already gone (applied); 412 fails as changed on the server; others go on', async () => {
    const p = planSync(source([]), start(), opts({ owned: new Set(['t1', 't2', 't3']), missing: 'delete' }));
    const { srv, client, capabilities } = setup(start(), { etag: true });
    srv.users.delete('t1');
    srv.users.get('t2')!.meta = { version: 'W/"moved-on"' };
    const results = await applyPlan(client, capabilities, p, applyOpts());
    assert.deepEqual(result(results, 'delete-user:t1'), {
      id: 'delete-user:t1',
      kind: 'delete-user',
      status: 'applied',
      detail: 'already gone',
    });
    assert.equal(result(results, 'delete-user:t2').status, 'failed');
    assert.match(result(results, 'delete-user:t2').detail!, /changed on the server/);
    assert.equal(result(results, 'delete-user:t3').status, 'applied');
    assert.equal(result(results, 'delete-user:t3').detail, undefined);
    assert.ok(srv.users.has('t2'));
    assert.ok(!srv.users.has('t3'));
    assert.equal(callsTo(srv, 'DELETE', '/Users/t3')[0]!.headers.get('if-match'), 'W/"t3-1"');
  });

  test('delete-group: 404 means already gone', async () => {
    const groups = [tgroup('g1', 'Old'), tgroup('g2', 'Older')];
    const p = planSync(
      source([]),
      target([], groups),
      opts({ ownedGroups: new Set(['g1', 'g2']), deleteGroups: true }),
    );
    const { srv, client, capabilities } = setup(target([], groups));
    srv.groups.delete('g1');
    const results = await applyPlan(client, capabilities, p, applyOpts());
    assert.deepEqual(
      results.map((r) => [r.id, r.status, r.detail]),
      [
        ['delete-group:g1', 'applied', 'already gone'],
        ['delete-group:g2', 'applied', undefined],
      ],
    );
    assert.equal(srv.groups.size, 0);
  });
});

describe('applyDiffs', () => {
  const user = (): ScimUser => ({
    schemas: [SCHEMA.USER, ENT],
    id: 'u1',
    userName: 'a',
    title: 'Dev',
    nickName: 'A',
    emails: [{ type: 'work', value: 'a@x' }],
    [ENT]: { department: 'Sales', costCenter: 'CC1' },
    meta: { version: 'W/"1"' },
  });

  test('sets top-level and extension values; undefined or null removes; the input is not modified', () => {
    const before = user();
    const frozen = structuredClone(before);
    const out = applyDiffs(before, [
      { path: 'title', before: 'Dev', after: 'Lead' },
      { path: 'nickName', before: 'A', after: undefined },
      {
        path: 'emails',
        before: before.emails,
        after: [
          { type: 'work', value: 'a@x' },
          { type: 'home', value: 'h@x' },
        ],
      },
      { path: `${ENT}:department`, before: 'Sales', after: 'Eng' },
      { path: `${ENT}:costCenter`, before: 'CC1', after: null },
      { path: 'displayName', before: undefined, after: 'Ann' },
    ]);
    assert.deepEqual(before, frozen);
    assert.deepEqual(out, {
      schemas: [SCHEMA.USER, ENT],
      id: 'u1',
      userName: 'a',
      title: 'Lead',
      displayName: 'Ann',
      emails: [
        { type: 'work', value: 'a@x' },
        { type: 'home', value: 'h@x' },
      ],
      [ENT]: { department: 'Eng' },
      meta: { version: 'W/"1"' },
    });
  });

  test('an extension appears when its first attribute is set and disappears with its last one', () => {
    const added = applyDiffs(user(), [{ path: `${CUSTOM}:badge`, before: undefined, after: '42' }]);
    assert.deepEqual(added[CUSTOM], { badge: '42' });
    const removed = applyDiffs(user(), [
      { path: `${ENT}:department`, before: 'Sales', after: undefined },
      { path: `${ENT}:costCenter`, before: 'CC1', after: undefined },
    ]);
    assert.equal(ENT in removed, false);
  });

  test('no diffs: an equal copy', () => {
    const before = user();
    const out = applyDiffs(before, []);
    assert.deepEqual(out, before);
    assert.notEqual(out, before);
  });
});

describe('applyPlan: membership changes go per group', () => {
  test('adds and removes for one group share one read; removal uses the filter form', async () => {
    const start = target(
      [
        tuser('t1', { userName: 'a@example.com' }),
        tuser('t2', { userName: 'b@example.com' }),
        tuser('t3', { userName: 'c@example.com' }),
      ],
      [tgroup('g1', 'Sales', ['t2', 'svc-1'])],
    );
    const p = planSync(
      source([
        rec(2, { userName: 'a@example.com' }, { groups: ['Sales'] }),
        rec(3, { userName: 'b@example.com' }, { groups: [] }),
        rec(4, { userName: 'c@example.com' }, { groups: ['Sales'] }),
      ]),
      start,
      opts(),
    );
    assert.deepEqual(p.changes.map((c: Change) => c.id).sort(), [
      'add-member:g1:t1',
      'add-member:g1:t3',
      'remove-member:g1:t2',
    ]);
    const { srv, client, capabilities } = setup(start);
    // Known to return members (learning that costs one read, once per profile: below).
    capabilities.learned.membersReadable = true;
    const results = await applyPlan(client, capabilities, p, applyOpts());
    assert.ok(results.every((r) => r.status === 'applied'));
    assert.equal(callsTo(srv, 'GET', '/Groups/g1').length, 1);
    const ops = callsTo(srv, 'PATCH', '/Groups/g1').flatMap(
      (r) => body(r).Operations as Array<{ op: string; path: string }>,
    );
    assert.deepEqual(
      ops.map((o) => `${o.op} ${o.path}`),
      ['add members', 'remove members[value eq "t2"]'],
    );
    assert.deepEqual((srv.groups.get('g1')!.members ?? []).map((m) => m.value).sort(), ['svc-1', 't1', 't3']);
  });
});

describe('applyPlan: what the target does is learned once', () => {
  test('whether members can be read back is learned from one read after the first add', async () => {
    const start = target([tuser('t1', { userName: 'a@example.com' })], [tgroup('g1', 'Sales', [])]);
    const p = planSync(source([rec(2, { userName: 'a@example.com' }, { groups: ['Sales'] })]), start, opts());
    const { srv, client, capabilities } = setup(start);
    assert.equal(capabilities.learned.membersReadable, undefined);
    await applyPlan(client, capabilities, p, applyOpts());
    assert.equal(callsTo(srv, 'GET', '/Groups/g1').length, 2, 'the read before, and one after the add');
    assert.equal(capabilities.learned.membersReadable, true);
  });
});

describe('secrets left out of plan files', () => {
  test('a create from a plan file never sends the placeholder as a password', async () => {
    const { fakeFetch, scimJson, BASE, caps } = await import('./helpers.ts');
    const { ScimClient } = await import('../../src/api/client.ts');
    const { applyPlan } = await import('../../src/sync/apply.ts');
    const { REDACTED, fromPlanFile } = await import('../../src/sync/plan-file.ts');
    const fake = fakeFetch(() => scimJson({ id: 'new-1', userName: 'a' }, 201));
    const client = new ScimClient({ baseUrl: BASE, fetch: fake.fetch, capabilities: caps() });
    const plan = fromPlanFile({
      kind: 'scimctl-plan',
      formatVersion: 1,
      createdAt: 'now',
      profile: 'p',
      url: BASE,
      mode: 'full',
      options: { missing: 'deactivate', deleteGroups: false, manageAll: false, matchKeys: ['userName'] },
      source: { fingerprint: 'f', files: [], records: 1 },
      versions: {},
      matched: [],
      matchedGroups: [],
      changes: [
        {
          id: 'create-user:a',
          kind: 'create-user',
          userName: 'a',
          resource: { userName: 'a', password: REDACTED },
          origin: { file: 'f', line: 2 },
        },
      ],
      problems: [],
      summary: {
        create: 1,
        update: 0,
        deactivate: 0,
        delete: 0,
        memberships: 0,
        groupsCreated: 0,
        groupsDeleted: 0,
        managed: 0,
      },
    });
    const results = await applyPlan(client, caps(), plan, { concurrency: 1, bulk: 'never' });
    assert.equal(results[0]!.status, 'applied');
    assert.equal(fake.calls.length, 1);
    assert.ok(!String(fake.calls[0]!.body).includes(REDACTED));
    assert.equal((fake.json(0) as { password?: unknown }).password, undefined);
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScimClient } from '../../src/api/client.ts';
import { emptyLearned, type Learned } from '../../src/api/learned.ts';
import { SCHEMA, type ScimUser } from '../../src/api/types.ts';
import { adaptToTarget, updateLedger, type MemberLedger } from '../../src/sync/adapt.ts';
import { applyPlan, type ChangeResult } from '../../src/sync/apply.ts';
import type { Change, GroupRef, UserRef } from '../../src/sync/model.ts';
import { planSync } from '../../src/sync/planner.ts';
import { BASE, caps, recordingSleep, scimJson } from './helpers.ts';
import { ENT, ofKind, opts, rec, scimServer, source, target, tgroup, tuser } from './sync-helpers.ts';

const learned = (change: Partial<Learned>): Learned => ({ ...emptyLearned(), ...change });
const memberValues = (g: { members?: Array<{ value?: string }> }) => (g.members ?? []).map((m) => m.value);

describe('adaptToTarget: write-only members', () => {
  test("groups' members come from the ledger, without repeats, and a note says so", () => {
    const t = target(
      [tuser('t1', { userName: 'a' }), tuser('t2', { userName: 'b' }), tuser('t3', { userName: 'c' })],
      [tgroup('g1', 'Sales'), tgroup('g2', 'Ops', ['t3']), tgroup('g3', 'Empty')],
    );
    const ledger: MemberLedger = { g1: ['t1', 't2'], g2: ['t3', 't2'], 'g-gone': ['t1'] };
    const notes = adaptToTarget(source([]), t, learned({ membersReadable: false }), ledger);
    assert.deepEqual(memberValues(t.groups[0]!), ['t1', 't2']);
    assert.deepEqual(memberValues(t.groups[1]!), ['t3', 't2'], 't3 was read already: not added twice');
    assert.deepEqual(memberValues(t.groups[2]!), []);
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, /does not return group members.*record of those it added \(3\)/);
  });

  test('no ledger yet: members stay as read, and the note still says how they are compared', () => {
    const t = target([], [tgroup('g1', 'Sales')]);
    const notes = adaptToTarget(source([]), t, learned({ membersReadable: false }), undefined);
    assert.deepEqual(memberValues(t.groups[0]!), []);
    assert.match(notes[0]!, /\(0\)/);
  });

  test('a group with no members property gets the ledger ones', () => {
    const t = target([], [{ schemas: [SCHEMA.GROUP], id: 'g1', displayName: 'Sales' }]);
    adaptToTarget(source([]), t, learned({ membersReadable: false }), { g1: ['t1'] });
    assert.deepEqual(t.groups[0]!.members, [{ value: 't1' }]);
  });

  test('members readable (or not known): the ledger is not used and nothing is noted', () => {
    for (const membersReadable of [true, undefined]) {
      const t = target([], [tgroup('g1', 'Sales', ['t9'])]);
      const notes = adaptToTarget(source([]), t, learned({ membersReadable }), { g1: ['t1'] });
      assert.deepEqual(memberValues(t.groups[0]!), ['t9']);
      assert.deepEqual(notes, []);
    }
  });

  test('with the ledger, a member added before is not planned again; without it, it is', () => {
    const start = () => target([tuser('t1', { userName: 'a@example.com' })], [tgroup('g1', 'Sales')]);
    const src = () => source([rec(2, { userName: 'a@example.com' }, { groups: ['Sales'] })]);
    const blind = planSync(src(), start(), opts({ owned: new Set(['t1']) }));
    assert.equal(ofKind(blind, 'add-member').length, 1);
    const t = start();
    const s = src();
    adaptToTarget(s, t, learned({ membersReadable: false }), { g1: ['t1'] });
    const adapted = planSync(s, t, opts({ owned: new Set(['t1']) }));
    assert.deepEqual(ofKind(adapted, 'add-member'), []);
  });

  test('with the ledger, a member the source no longer puts in the group is removed', () => {
    const t = target(
      [tuser('t1', { userName: 'a@example.com' }), tuser('t2', { userName: 'b@example.com' })],
      [tgroup('g1', 'Sales')],
    );
    const s = source([
      rec(2, { userName: 'a@example.com' }, { groups: ['Sales'] }),
      rec(3, { userName: 'b@example.com' }),
    ]);
    adaptToTarget(s, t, learned({ membersReadable: false }), { g1: ['t1', 't2'] });
    const plan = planSync(s, t, opts({ owned: new Set(['t1', 't2']) }));
    assert.deepEqual(
      ofKind(plan, 'remove-member').map((c) => c.id),
      ['remove-member:g1:t2'],
    );
    assert.deepEqual(ofKind(plan, 'add-member'), []);
  });
});

describe('adaptToTarget: attributes the target does not keep', () => {
  test('source users are fitted, with a note naming each attribute and how', () => {
    const ann = rec(
      2,
      {
        userName: 'ann',
        title: 'Dev',
        displayName: 'Ann E',
        emails: [{ value: 'x@example.com' }, { value: 'a@example.com', primary: true }],
        [ENT]: { department: 'Sales', costCenter: 'CC1' },
      },
      { onlyOnCreate: { title: 'Dev', password: 'p' } },
    );
    const bob = rec(3, { userName: 'bob', nickName: 'B' });
    const s = source([ann, bob]);
    const t = target([tuser('t1', { userName: 'ann' })]);
    const before = structuredClone(t);
    const unkept = {
      title: 'dropped',
      displayname: 'computed',
      emails: 'single',
      [`${ENT.toLowerCase()}:department`]: 'dropped',
    } as const;
    const notes = adaptToTarget(s, t, learned({ unkept: { ...unkept } }), undefined);
    assert.deepEqual(s.users[0]!.attributes, {
      userName: 'ann',
      emails: [{ value: 'a@example.com', primary: true }],
      [ENT]: { costCenter: 'CC1' },
    });
    assert.deepEqual(
      s.users[0]!.onlyOnCreate,
      { title: 'Dev', password: 'p' },
      'what is written on create only is left as it is',
    );
    assert.deepEqual(s.users[1]!.attributes, { userName: 'bob', nickName: 'B' });
    assert.deepEqual(t, before, 'the target is not changed');
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, /does not keep them as sent/);
    for (const part of [
      'title (not kept)',
      'displayname (the server sets its own value)',
      'emails (only one value kept)',
      `${ENT.toLowerCase()}:department (not kept)`,
    ]) {
      assert.ok(notes[0]!.includes(part), `${part} in ${notes[0]}`);
    }
  });

  test('nothing learned: no notes, and the source users keep their attribute objects', () => {
    const ann = rec(2, { userName: 'ann', title: 'Dev' });
    const attrs = ann.attributes;
    const t = target([], [tgroup('g1', 'Sales')]);
    assert.deepEqual(adaptToTarget(source([ann]), t, emptyLearned(), { g1: ['t1'] }), []);
    assert.equal(ann.attributes, attrs);
    assert.deepEqual(memberValues(t.groups[0]!), []);
  });

  test('both at once: two notes', () => {
    const notes = adaptToTarget(
      source([rec(2, { userName: 'a', title: 'x' })]),
      target([]),
      learned({ membersReadable: false, unkept: { title: 'dropped' } }),
      {},
    );
    assert.equal(notes.length, 2);
  });

  test('a second plan against a lossy target is empty once adapted', () => {
    const t = () =>
      target([
        tuser('t1', { userName: 'ann', displayName: 'E, Ann', emails: [{ value: 'a@example.com', primary: true }] }),
      ]);
    const s = () =>
      source([
        rec(2, {
          userName: 'ann',
          title: 'Dev',
          displayName: 'Ann E',
          emails: [{ value: 'x@example.com' }, { value: 'a@example.com', primary: true }],
        }),
      ]);
    const blind = planSync(s(), t(), opts({ owned: new Set(['t1']) }));
    assert.equal(ofKind(blind, 'update-user').length, 1);
    const src = s();
    const tgt = t();
    adaptToTarget(
      src,
      tgt,
      learned({ unkept: { title: 'dropped', displayname: 'computed', emails: 'single' } }),
      undefined,
    );
    assert.deepEqual(planSync(src, tgt, opts({ owned: new Set(['t1']) })).changes, []);
  });
});

describe('updateLedger', () => {
  const add = (id: string, group: GroupRef, user: UserRef): Change => ({
    id,
    kind: 'add-member',
    group,
    groupName: 'G',
    user,
    userName: 'u',
  });
  const remove = (id: string, group: string, user: string): Change => ({
    id,
    kind: 'remove-member',
    group: { id: group },
    groupName: 'G',
    user: { id: user },
    userName: 'u',
  });
  const ok = (id: string, kind: Change['kind'], createdId?: string): ChangeResult => ({
    id,
    kind,
    status: 'applied',
    ...(createdId ? { createdId } : {}),
  });
  const failed = (id: string, kind: Change['kind']): ChangeResult => ({
    id,
    kind,
    status: 'failed',
    detail: 'HTTP 500',
  });

  test('adds to existing groups and users', () => {
    const changes = [add('a1', { id: 'g1' }, { id: 't1' }), add('a2', { id: 'g1' }, { id: 't2' })];
    assert.deepEqual(updateLedger(undefined, changes, [ok('a1', 'add-member'), ok('a2', 'add-member')]), {
      g1: ['t1', 't2'],
    });
  });

  test('references to created users and groups become their new ids', () => {
    const changes: Change[] = [
      { id: 'create-user:n', kind: 'create-user', userName: 'n', resource: {}, origin: { file: 'f', line: 2 } },
      {
        id: 'create-group:New',
        kind: 'create-group',
        displayName: 'New',
        resource: {},
        origin: { file: 'f', line: 2 },
      },
      add('a1', { change: 'create-group:New' }, { change: 'create-user:n' }),
      add('a2', { id: 'g1' }, { change: 'create-user:n' }),
    ];
    const results = [
      ok('create-user:n', 'create-user', 'u-new'),
      ok('create-group:New', 'create-group', 'g-new'),
      ok('a1', 'add-member'),
      ok('a2', 'add-member'),
    ];
    assert.deepEqual(updateLedger({}, changes, results), { 'g-new': ['u-new'], g1: ['u-new'] });
  });

  test('a reference to a create that did not produce an id is skipped', () => {
    const changes: Change[] = [add('a1', { id: 'g1' }, { change: 'create-user:n' })];
    assert.deepEqual(
      updateLedger({ g1: ['t1'] }, changes, [failed('create-user:n', 'create-user'), ok('a1', 'add-member')]),
      { g1: ['t1'] },
    );
  });

  test('removals take members out; a group left empty is dropped from the ledger', () => {
    const changes = [remove('r1', 'g1', 't1'), remove('r2', 'g2', 't2')];
    const out = updateLedger({ g1: ['t1', 't3'], g2: ['t2'] }, changes, [
      ok('r1', 'remove-member'),
      ok('r2', 'remove-member'),
    ]);
    assert.deepEqual(out, { g1: ['t3'] });
  });

  test('deleted groups go; deleted users leave every group', () => {
    const changes: Change[] = [
      { id: 'dg', kind: 'delete-group', target: 'g2', displayName: 'Old' },
      { id: 'du', kind: 'delete-user', target: 't1', userName: 'a' },
    ];
    const out = updateLedger({ g1: ['t1', 't2'], g2: ['t3'], g3: ['t1'] }, changes, [
      ok('dg', 'delete-group'),
      ok('du', 'delete-user'),
    ]);
    assert.deepEqual(out, { g1: ['t2'] });
  });

  test('failed and excluded changes leave the ledger as it was', () => {
    const changes: Change[] = [
      add('a1', { id: 'g1' }, { id: 't9' }),
      remove('r1', 'g1', 't1'),
      { id: 'dg', kind: 'delete-group', target: 'g1', displayName: 'Sales' },
      { id: 'du', kind: 'delete-user', target: 't1', userName: 'a' },
    ];
    const results: ChangeResult[] = [
      failed('a1', 'add-member'),
      { id: 'r1', kind: 'remove-member', status: 'excluded' },
      failed('dg', 'delete-group'),
      failed('du', 'delete-user'),
    ];
    assert.deepEqual(updateLedger({ g1: ['t1'] }, changes, results), { g1: ['t1'] });
  });

  test('the ledger passed in is not changed', () => {
    const ledger: MemberLedger = { g1: ['t1'] };
    updateLedger(ledger, [remove('r1', 'g1', 't1')], [ok('r1', 'remove-member')]);
    assert.deepEqual(ledger, { g1: ['t1'] });
  });

  test('other kinds of changes do not touch it', () => {
    const changes: Change[] = [
      { id: 'd', kind: 'deactivate-user', target: 't1', userName: 'a' },
      {
        id: 'u',
        kind: 'update-user',
        target: 't1',
        userName: 'a',
        diffs: [{ path: 'title', before: 'x', after: 'y' }],
        reactivate: false,
        origin: { file: 'f', line: 2 },
      },
    ];
    assert.deepEqual(updateLedger({ g1: ['t1'] }, changes, [ok('d', 'deactivate-user'), ok('u', 'update-user')]), {
      g1: ['t1'],
    });
  });
});

describe('applyPlan learns what the target does not keep', () => {
  test('from the answer to a create: an attribute left out is learned and said once', async () => {
    const start = target([]);
    const capabilities = caps((c) => (c.patch = true));
    let seq = 0;
    const srv = scimServer(start, {
      patch: true,
      etag: false,
      intercept: (req) => {
        if (req.method !== 'POST') return undefined;
        // Keeps everything but the title.
        const { title: _t, ...kept } = JSON.parse(req.body!) as Record<string, unknown>;
        return scimJson({ ...kept, id: `made-${++seq}` }, 201);
      },
    });
    const said: string[] = [];
    const client = new ScimClient({
      baseUrl: BASE,
      fetch: srv.f.fetch,
      sleep: recordingSleep().sleep,
      capabilities,
      retries: 0,
      onAdapt: (m) => said.push(m),
    });
    const plan = planSync(
      source([
        rec(2, { userName: 'a@example.com', title: 'Dev' }),
        rec(3, { userName: 'b@example.com', title: 'Ops' }),
      ]),
      start,
      opts(),
    );
    const results = await applyPlan(client, capabilities, plan, { concurrency: 1, bulk: 'never' });
    assert.ok(
      results.every((r) => r.status === 'applied'),
      JSON.stringify(results),
    );
    assert.deepEqual(capabilities.learned.unkept, { title: 'dropped' });
    assert.equal(said.filter((m) => /does not keep these attributes/.test(m)).length, 1, said.join('\n'));
    assert.match(
      said.find((m) => /does not keep/.test(m))!,
      /title \(not kept\)/,
    );
  });

  test('a PATCH answered 204 says nothing about what was kept', async () => {
    const start = target([tuser('t1', { userName: 'a@example.com', title: 'Old' })]);
    const capabilities = caps((c) => (c.patch = true));
    const srv = scimServer(start, { patch: true, etag: false });
    const client = new ScimClient({
      baseUrl: BASE,
      fetch: srv.f.fetch,
      sleep: recordingSleep().sleep,
      capabilities,
      retries: 0,
    });
    const plan = planSync(
      source([rec(2, { userName: 'a@example.com', title: 'New' })]),
      start,
      opts({ owned: new Set(['t1']) }),
    );
    assert.equal(ofKind(plan, 'update-user').length, 1);
    await applyPlan(client, capabilities, plan, { concurrency: 1, bulk: 'never' });
    assert.deepEqual(capabilities.learned.unkept, {});
  });

  test('a PATCH answered with the user shows a computed value', async () => {
    const start = target([tuser('t1', { userName: 'a@example.com', displayName: 'Old' })]);
    const capabilities = caps((c) => (c.patch = true));
    const srv = scimServer(start, {
      patch: true,
      etag: false,
      intercept: (req) =>
        req.method === 'PATCH'
          ? scimJson({ ...(srv.users.get('t1') as ScimUser), displayName: 'Computed, Name' })
          : undefined,
    });
    const client = new ScimClient({
      baseUrl: BASE,
      fetch: srv.f.fetch,
      sleep: recordingSleep().sleep,
      capabilities,
      retries: 0,
    });
    const plan = planSync(
      source([rec(2, { userName: 'a@example.com', displayName: 'Ann New' })]),
      start,
      opts({ owned: new Set(['t1']) }),
    );
    await applyPlan(client, capabilities, plan, { concurrency: 1, bulk: 'never' });
    assert.deepEqual(
      Object.entries(capabilities.learned.unkept).map(([k, v]) => [k.toLowerCase(), v]),
      [['displayname', 'computed']],
    );
  });

  test('what was learned before is not said again', async () => {
    const start = target([]);
    const capabilities = caps((c) => (c.learned.unkept = { title: 'dropped' }));
    const srv = scimServer(start, {
      patch: false,
      etag: false,
      intercept: (req) => {
        if (req.method !== 'POST') return undefined;
        const { title: _t, ...kept } = JSON.parse(req.body!) as Record<string, unknown>;
        return scimJson({ ...kept, id: 'made-1' }, 201);
      },
    });
    const said: string[] = [];
    const client = new ScimClient({
      baseUrl: BASE,
      fetch: srv.f.fetch,
      sleep: recordingSleep().sleep,
      capabilities,
      retries: 0,
      onAdapt: (m) => said.push(m),
    });
    await applyPlan(
      client,
      capabilities,
      planSync(source([rec(2, { userName: 'a@example.com', title: 'Dev' })]), start, opts()),
      { concurrency: 1, bulk: 'never' },
    );
    assert.deepEqual(said, []);
    assert.deepEqual(capabilities.learned.unkept, { title: 'dropped' });
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScimClient } from '../../src/api/client.ts';
import type { Capabilities } from '../../src/api/discovery.ts';
import { ScimError } from '../../src/api/errors.ts';
import { changeMembers, MEMBER_BATCH, MembershipSafetyError, setMembers } from '../../src/api/members.ts';
import { PATCH_OP_SCHEMA, type PatchOperation } from '../../src/api/patch.ts';
import { SCHEMA, type ScimGroup } from '../../src/api/types.ts';
import { ChangedOnServerError } from '../../src/api/update.ts';
import { BASE, caps, fakeFetch, recordingSleep, rejection, scimError, scimJson, type FakeRequest } from './helpers.ts';

const EXT = 'urn:example:params:scim:schemas:extension:acme:2.0:Group';
const idsFrom = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);

interface ServerOptions {
  members: string[];
  /** Leave members out of a GET unless `attributes` asks for them. */
  omitMembersUnlessAsked?: boolean;
  /** How PATCH removal with `members[value eq "ID"]` is answered. */
  filterForm?: 'accept' | { status: number; scimType?: string };
  /** How the value form (`path: members, value: [...]`) is applied. */
  valueForm?: 'exact' | 'clears-all';
  /** The server has no PATCH: answer it 501. */
  noPatch?: boolean;
  put?: 'ok' | 412;
}

/** One group, g1, on a server with the given quirks. */
function groupServer(opts: ServerOptions) {
  let members = [...opts.members];
  const base = {
    schemas: [SCHEMA.GROUP, EXT],
    id: 'g1',
    displayName: 'Sales',
    externalId: 'ext-g1',
    [EXT]: { costCenter: 'CC1' },
  };
  let version = 1;
  const patches: PatchOperation[][] = [];
  const f = fakeFetch((req: FakeRequest) => {
    assert.equal(req.url.pathname, '/scim/v2/Groups/g1');
    if (req.method === 'GET') {
      const attributes = req.url.searchParams.get('attributes');
      const meta = { resourceType: 'Group', version: `W/"${version}"` };
      if (attributes) {
        // A partial read: only what was asked (and id).
        return scimJson({
          id: 'g1',
          displayName: base.displayName,
          members: members.map((value) => ({ value })),
          meta,
        });
      }
      const group: Record<string, unknown> = { ...base, meta };
      if (!opts.omitMembersUnlessAsked && members.length > 0)
        group.members = members.map((value) => ({ value, display: `User ${value}` }));
      return scimJson(group);
    }
    if (req.method === 'PATCH') {
      if (opts.noPatch) return scimError(501, 'PATCH is not implemented');
      const body = JSON.parse(req.body!) as { schemas: string[]; Operations: PatchOperation[] };
      assert.deepEqual(body.schemas, [PATCH_OP_SCHEMA]);
      patches.push(body.Operations);
      let next = [...members];
      for (const op of body.Operations) {
        const filtered = op.path === undefined ? null : /^members\[value eq (".*")\]$/.exec(op.path);
        if (op.op === 'add' && op.path === 'members') {
          for (const { value } of op.value as Array<{ value: string }>) if (!next.includes(value)) next.push(value);
        } else if (op.op === 'remove' && filtered) {
          if (opts.filterForm !== undefined && opts.filterForm !== 'accept')
            return scimError(opts.filterForm.status, 'filtered paths are not supported', opts.filterForm.scimType);
          const id = JSON.parse(filtered[1]!) as string;
          next = next.filter((m) => m !== id);
        } else if (op.op === 'remove' && op.path === 'members') {
          if ((opts.valueForm ?? 'exact') === 'clears-all' || op.value === undefined) next = [];
          else {
            const gone = new Set((op.value as Array<{ value: string }>).map((v) => v.value));
            next = next.filter((m) => !gone.has(m));
          }
        } else {
          return scimError(400, `unsupported operation ${JSON.stringify(op)}`, 'invalidPath');
        }
      }
      members = next;
      version++;
      return new Response(null, { status: 204 });
    }
    if (req.method === 'PUT') {
      if (opts.put === 412) return scimError(412, 'version mismatch');
      const body = JSON.parse(req.body!) as ScimGroup;
      members = (body.members ?? []).map((m) => m.value!);
      version++;
      return scimJson({ ...body, meta: { version: `W/"${version}"` } });
    }
    return scimError(405, 'method not allowed');
  });
  const sleep = recordingSleep();
  const client = new ScimClient({ baseUrl: BASE, fetch: f.fetch, sleep: sleep.sleep, capabilities: caps() });
  return { groups: client.groups, f, patches, sleep, members: () => [...members] };
}

const patchCaps = (change: (c: Capabilities) => void = () => undefined): Capabilities =>
  caps((c) => {
    c.patch = true;
    change(c);
  });

const methods = (calls: FakeRequest[]) => calls.map((c) => c.method);
const sorted = (xs: readonly string[]) => [...xs].sort();

describe('changeMembers: reading first', () => {
  test('adds already present and removes already absent are skipped; nothing to do means no write', async () => {
    const s = groupServer({ members: ['a', 'b'] });
    const out = await changeMembers(s.groups, patchCaps(), 'g1', { add: ['a', 'b'], remove: ['zz'] });
    assert.deepEqual(out, { added: [], removed: [], unchanged: ['a', 'b', 'zz'], method: 'none' });
    assert.deepEqual(methods(s.f.calls), ['GET']);
  });

  test('only the real changes are sent', async () => {
    const s = groupServer({ members: ['a', 'b'] });
    const out = await changeMembers(s.groups, patchCaps(), 'g1', { add: ['a', 'c', 'c'], remove: ['b', 'zz'] });
    assert.deepEqual(out.added, ['c']);
    assert.deepEqual(out.removed, ['b']);
    assert.deepEqual(sorted(out.unchanged), ['a', 'zz']);
    assert.equal(out.method, 'PATCH');
    assert.equal(out.removalForm, 'filter');
    assert.deepEqual(s.patches, [
      [{ op: 'add', path: 'members', value: [{ value: 'c' }] }],
      [{ op: 'remove', path: 'members[value eq "b"]' }],
    ]);
    assert.deepEqual(sorted(s.members()), ['a', 'c']);
  });

  test('a server that leaves members out is asked for them', async () => {
    const s = groupServer({ members: ['a', 'b'], omitMembersUnlessAsked: true });
    const out = await changeMembers(s.groups, patchCaps(), 'g1', { add: ['a'], remove: ['zz'] });
    assert.equal(out.method, 'none');
    assert.deepEqual(methods(s.f.calls), ['GET', 'GET']);
    assert.equal(s.f.calls[0]!.url.searchParams.get('attributes'), null);
    assert.equal(s.f.calls[1]!.url.searchParams.get('attributes'), 'displayName,members');
  });
});

describe('changeMembers: PATCH', () => {
  test(`adds in batches of at most ${MEMBER_BATCH} per PATCH`, async () => {
    assert.equal(MEMBER_BATCH, 100);
    const s = groupServer({ members: ['x'] });
    const add = idsFrom('n', 250);
    const out = await changeMembers(s.groups, patchCaps(), 'g1', { add: ['x', ...add] });
    assert.deepEqual(out.added, add);
    assert.deepEqual(out.unchanged, ['x']);
    assert.equal(s.patches.length, 3);
    for (const ops of s.patches) {
      assert.equal(ops.length, 1);
      assert.equal(ops[0]!.op, 'add');
      assert.equal(ops[0]!.path, 'members');
    }
    const batches = s.patches.map((ops) => (ops[0]!.value as Array<{ value: string }>).map((v) => v.value));
    assert.deepEqual(
      batches.map((b) => b.length),
      [100, 100, 50],
    );
    assert.deepEqual(batches.flat(), add);
    assert.deepEqual(sorted(s.members()), sorted(['x', ...add]));
  });

  test(`removes in the RFC filter form, at most ${MEMBER_BATCH} operations per PATCH`, async () => {
    const keep = idsFrom('k', 5);
    const remove = idsFrom('r', 230);
    const s = groupServer({ members: [...keep, ...remove] });
    const c = patchCaps();
    const out = await changeMembers(s.groups, c, 'g1', { remove });
    assert.equal(out.removalForm, 'filter');
    assert.equal(c.memberRemoval, 'filter');
    assert.deepEqual(out.removed, remove);
    assert.deepEqual(
      s.patches.map((ops) => ops.length),
      [100, 100, 30],
    );
    assert.deepEqual(
      s.patches.flat(),
      remove.map((id) => ({ op: 'remove', path: `members[value eq "${id}"]` })),
    );
    assert.deepEqual(sorted(s.members()), keep);
    assert.deepEqual(methods(s.f.calls), ['GET', 'PATCH', 'PATCH', 'PATCH']);
  });

  test('an id with a quote is escaped in the filter', async () => {
    const s = groupServer({ members: ['a"b', 'c'] });
    await changeMembers(s.groups, patchCaps(), 'g1', { remove: ['a"b'] });
    assert.deepEqual(s.patches, [[{ op: 'remove', path: 'members[value eq "a\\"b"]' }]]);
    assert.deepEqual(s.members(), ['c']);
  });

  test('adds and removals in one call: adds first, then removals', async () => {
    const s = groupServer({ members: ['a', 'b'] });
    await changeMembers(s.groups, patchCaps(), 'g1', { add: ['c'], remove: ['a'] });
    assert.deepEqual(
      s.patches.map((ops) => ops[0]!.op),
      ['add', 'remove'],
    );
  });

  for (const rejection400 of [
    { status: 400, scimType: 'invalidFilter' },
    { status: 400, scimType: 'invalidPath' },
    { status: 400 },
  ]) {
    test(
      `filter form rejected (400 ${rejection400.scimType ?? 'without scimType'}): ` +
        `the value form is used, the group read back, success`,
      async () => {
        const keep = ['a', 'b', 'c'];
        const s = groupServer({ members: [...keep, 'r1', 'r2'], filterForm: rejection400, valueForm: 'exact' });
        const c = patchCaps();
        const out = await changeMembers(s.groups, c, 'g1', { remove: ['r1', 'r2'] });
        assert.equal(out.method, 'PATCH');
        assert.equal(out.removalForm, 'value');
        assert.deepEqual(out.removed, ['r1', 'r2']);
        assert.equal(c.memberRemoval, 'value');
        assert.deepEqual(methods(s.f.calls), ['GET', 'PATCH', 'PATCH', 'GET']);
        assert.deepEqual(s.patches[1], [{ op: 'remove', path: 'members', value: [{ value: 'r1' }, { value: 'r2' }] }]);
        assert.deepEqual(sorted(s.members()), keep);
      },
    );
  }

  test('value form over several batches: members removed by an earlier batch are not "lost"', async () => {
    const keep = ['a', 'b'];
    const remove = idsFrom('r', 150);
    const s = groupServer({
      members: [...keep, ...remove],
      filterForm: { status: 400, scimType: 'invalidFilter' },
      valueForm: 'exact',
    });
    const c = patchCaps();
    const out = await changeMembers(s.groups, c, 'g1', { remove });
    assert.equal(out.removalForm, 'value');
    assert.deepEqual(sorted(s.members()), keep);
    // One rejected filter PATCH, then one value-form PATCH per batch; no add-back.
    assert.deepEqual(
      s.patches.map((ops) => [ops[0]!.op, ops[0]!.path, ops.length]),
      [
        ['remove', `members[value eq "${remove[0]}"]`, 100],
        ['remove', 'members', 1],
        ['remove', 'members', 1],
      ],
    );
    assert.deepEqual(
      s.patches.slice(1).map((ops) => (ops[0]!.value as unknown[]).length),
      [100, 50],
    );
  });

  test(
    'a server that clears the whole group on the value form: the others are added ' +
      'back, MembershipSafetyError names them',
    async () => {
      const keep = ['a', 'b', 'c'];
      const s = groupServer({
        members: [...keep, 'r1'],
        filterForm: { status: 400, scimType: 'invalidPath' },
        valueForm: 'clears-all',
      });
      const c = patchCaps();
      const e = await rejection(changeMembers(s.groups, c, 'g1', { remove: ['r1'] }));
      assert.ok(e instanceof MembershipSafetyError, String(e));
      assert.equal(e.groupId, 'g1');
      assert.deepEqual(sorted(e.restored), keep);
      assert.match(e.message, /removed 3 member/);
      assert.deepEqual(sorted(s.members()), keep, 'everyone not asked to go is back; r1 stays removed');
      const last = s.patches.at(-1)!;
      assert.equal(last.length, 1);
      assert.equal(last[0]!.op, 'add');
      assert.equal(last[0]!.path, 'members');
      assert.deepEqual(sorted((last[0]!.value as Array<{ value: string }>).map((v) => v.value)), keep);
      assert.notEqual(c.memberRemoval, 'value', 'the unsafe form is not remembered as working');
    },
  );

  test('the add-back after a cleared group is itself batched by 100', async () => {
    const keep = idsFrom('k', 130);
    const s = groupServer({
      members: [...keep, 'r1'],
      filterForm: { status: 400, scimType: 'invalidFilter' },
      valueForm: 'clears-all',
    });
    const e = await rejection(changeMembers(s.groups, patchCaps(), 'g1', { remove: ['r1'] }));
    assert.ok(e instanceof MembershipSafetyError);
    assert.equal(e.restored.length, 130);
    const addBacks = s.patches.filter((ops) => ops[0]!.op === 'add');
    assert.deepEqual(
      addBacks.map((ops) => (ops[0]!.value as unknown[]).length),
      [100, 30],
    );
    assert.deepEqual(sorted(s.members()), keep);
  });

  test('members added in the same call are expected to stay after a value-form removal', async () => {
    const s = groupServer({
      members: ['a', 'r1'],
      filterForm: { status: 400, scimType: 'invalidFilter' },
      valueForm: 'clears-all',
    });
    const e = await rejection(changeMembers(s.groups, patchCaps(), 'g1', { add: ['n1'], remove: ['r1'] }));
    assert.ok(e instanceof MembershipSafetyError);
    assert.deepEqual(sorted(e.restored), ['a', 'n1']);
    assert.deepEqual(sorted(s.members()), ['a', 'n1']);
  });

  test('a server known to take the value form gets it directly', async () => {
    const s = groupServer({ members: ['a', 'r1'], valueForm: 'exact' });
    const out = await changeMembers(
      s.groups,
      patchCaps((c) => (c.memberRemoval = 'value')),
      'g1',
      { remove: ['r1'] },
    );
    assert.equal(out.removalForm, 'value');
    assert.deepEqual(s.patches, [[{ op: 'remove', path: 'members', value: [{ value: 'r1' }] }]]);
    assert.deepEqual(methods(s.f.calls), ['GET', 'PATCH', 'GET']);
  });

  test('a 400 that is not about the path form is not retried in another form', async () => {
    const s = groupServer({ members: ['a', 'r1'], filterForm: { status: 400, scimType: 'mutability' } });
    const c = patchCaps();
    const e = await rejection(changeMembers(s.groups, c, 'g1', { remove: ['r1'] }));
    assert.ok(e instanceof ScimError);
    assert.equal(e.scimType, 'mutability');
    assert.equal(s.patches.length, 1);
    assert.equal(c.memberRemoval, undefined);
    assert.deepEqual(sorted(s.members()), ['a', 'r1']);
  });
});

describe('changeMembers: without PATCH', () => {
  test('one PUT with the current members plus and minus the change; the group otherwise unchanged', async () => {
    const s = groupServer({ members: ['a', 'b', 'c'] });
    const out = await changeMembers(s.groups, caps(), 'g1', { add: ['d', 'a'], remove: ['b', 'zz'] });
    assert.equal(out.method, 'PUT');
    assert.deepEqual(out.added, ['d']);
    assert.deepEqual(out.removed, ['b']);
    assert.deepEqual(methods(s.f.calls), ['GET', 'PUT']);
    assert.equal(s.f.calls[1]!.headers.get('if-match'), null, 'no If-Match without ETag support');
    assert.deepEqual(s.f.json(1), {
      schemas: [SCHEMA.GROUP, EXT],
      id: 'g1',
      displayName: 'Sales',
      externalId: 'ext-g1',
      [EXT]: { costCenter: 'CC1' },
      members: [{ value: 'a' }, { value: 'c' }, { value: 'd' }],
    });
    assert.deepEqual(s.members(), ['a', 'c', 'd']);
  });

  test('If-Match with the version read when the server supports ETags', async () => {
    const s = groupServer({ members: ['a'] });
    await changeMembers(
      s.groups,
      caps((c) => (c.etag = true)),
      'g1',
      { add: ['b'] },
    );
    assert.equal(s.f.calls[1]!.headers.get('if-match'), 'W/"1"');
  });

  test('a server that leaves members out: the PUT still carries every other attribute of the group', async () => {
    const s = groupServer({ members: ['a', 'b'], omitMembersUnlessAsked: true });
    await changeMembers(s.groups, caps(), 'g1', { remove: ['a'] });
    const put = s.f.calls.findIndex((c) => c.method === 'PUT');
    assert.ok(put > 0);
    const body = s.f.json(put) as Record<string, unknown>;
    assert.equal(body.externalId, 'ext-g1');
    assert.deepEqual(body[EXT], { costCenter: 'CC1' });
    assert.deepEqual(body.schemas, [SCHEMA.GROUP, EXT]);
    assert.deepEqual(body.members, [{ value: 'b' }]);
  });

  test('412 on the PUT: ChangedOnServerError, no retry', async () => {
    const s = groupServer({ members: ['a'], put: 412 });
    const e = await rejection(
      changeMembers(
        s.groups,
        caps((c) => (c.etag = true)),
        'g1',
        { add: ['b'] },
      ),
    );
    assert.ok(e instanceof ChangedOnServerError);
    assert.equal(e.resourceId, 'g1');
    assert.deepEqual(methods(s.f.calls), ['GET', 'PUT']);
    assert.deepEqual(s.sleep.delays, []);
  });

  test('a server that advertises PATCH but answers 501: PUT, and PATCH is off for the rest of the run', async () => {
    const s = groupServer({ members: ['a', 'b'], noPatch: true });
    const c = patchCaps();
    const out = await changeMembers(s.groups, c, 'g1', { add: ['c'], remove: ['a'] });
    assert.equal(out.method, 'PUT');
    assert.equal(c.patch, false);
    assert.deepEqual(methods(s.f.calls), ['GET', 'PATCH', 'PUT']);
    assert.deepEqual(s.members(), ['b', 'c']);
    await changeMembers(s.groups, c, 'g1', { add: ['d'] });
    assert.deepEqual(methods(s.f.calls), ['GET', 'PATCH', 'PUT', 'GET', 'PUT']);
  });
});

describe('setMembers', () => {
  test('computes the minimal add and remove', async () => {
    const s = groupServer({ members: ['a', 'b', 'c'] });
    const out = await setMembers(s.groups, patchCaps(), 'g1', ['b', 'c', 'd', 'd']);
    assert.deepEqual(out.added, ['d']);
    assert.deepEqual(out.removed, ['a']);
    assert.deepEqual(s.patches, [
      [{ op: 'add', path: 'members', value: [{ value: 'd' }] }],
      [{ op: 'remove', path: 'members[value eq "a"]' }],
    ]);
    assert.deepEqual(sorted(s.members()), ['b', 'c', 'd']);
  });

  test('already as desired: no write', async () => {
    const s = groupServer({ members: ['a', 'b'] });
    const out = await setMembers(s.groups, patchCaps(), 'g1', ['b', 'a']);
    assert.equal(out.method, 'none');
    assert.ok(s.f.calls.every((c) => c.method === 'GET'));
  });

  test('to empty: removes everyone, in the filter form', async () => {
    const s = groupServer({ members: ['a', 'b'] });
    const out = await setMembers(s.groups, patchCaps(), 'g1', []);
    assert.deepEqual(sorted(out.removed), ['a', 'b']);
    assert.deepEqual(s.members(), []);
    assert.ok(s.patches.flat().every((op) => op.op === 'remove' && /^members\[value eq /.test(op.path ?? '')));
  });
});

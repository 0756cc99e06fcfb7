import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScimClient } from '../../src/api/client.ts';
import type { Capabilities } from '../../src/api/discovery.ts';
import { applyEdits, parseEdits } from '../../src/api/edit.ts';
import { ScimError } from '../../src/api/errors.ts';
import { PATCH_OP_SCHEMA } from '../../src/api/patch.ts';
import { SchemaRegistry } from '../../src/api/schema.ts';
import { SCHEMA, type ScimUser } from '../../src/api/types.ts';
import {
  ChangedOnServerError,
  changesToPatch,
  diffResources,
  putBody,
  sameValue,
  updateResource,
} from '../../src/api/update.ts';
import { BASE, caps, fakeFetch, recordingSleep, rejection, scimError, scimJson, type FakeRequest } from './helpers.ts';

const ENT = SCHEMA.ENTERPRISE_USER;
const registry = new SchemaRegistry();

/** A full user as a server returns it. */
const ANN = (): ScimUser => ({
  schemas: [SCHEMA.USER, ENT],
  id: 'u1',
  externalId: 'ext-1',
  userName: 'ann@example.com',
  name: { givenName: 'Ann', familyName: 'Example' },
  displayName: 'Ann Example',
  title: 'Engineer',
  active: true,
  emails: [
    { type: 'work', value: 'ann@example.com', primary: true },
    { type: 'home', value: 'ann@home.example' },
  ],
  phoneNumbers: [{ type: 'mobile', value: '+1 555 0100' }],
  groups: [{ value: 'g1', display: 'Sales' }],
  [ENT]: { department: 'Sales', costCenter: 'CC1', manager: { value: 'm1', displayName: 'Boss' } },
  meta: { resourceType: 'User', version: 'W/"3"', location: `${BASE}/Users/u1` },
});

const edit = (before: ScimUser, sets: string[], unsets: string[] = []) =>
  applyEdits(before, parseEdits(sets, unsets, registry, SCHEMA.USER, true));

describe('diffResources', () => {
  test('ignores id, meta, schemas and groups, in any case', () => {
    const before = ANN();
    const after = { ...ANN(), id: 'other', meta: { version: 'W/"9"' }, schemas: [SCHEMA.USER], groups: [] };
    assert.deepEqual(diffResources(before, after), []);
    const upper: Record<string, unknown> = { ...ANN() };
    delete upper.meta;
    delete upper.groups;
    upper.Meta = { version: 'x' };
    upper.GROUPS = [{ value: 'g2' }];
    upper.ID = 'u9';
    upper.Schemas = ['y'];
    assert.deepEqual(diffResources(before, upper), []);
  });

  test('a changed simple attribute, a new one and a removed one', () => {
    const before = ANN();
    const after: Record<string, unknown> = { ...ANN(), title: 'Lead', nickName: 'A' };
    delete after.displayName;
    const byPath = (a: { path: string }, b: { path: string }) => a.path.localeCompare(b.path);
    assert.deepEqual(diffResources(before, after).sort(byPath), [
      { path: 'displayName', before: 'Ann Example', after: undefined },
      { path: 'nickName', before: undefined, after: 'A' },
      { path: 'title', before: 'Engineer', after: 'Lead' },
    ]);
  });

  test('multi-valued attributes are unordered, and so are the keys of their items', () => {
    const before = ANN();
    const after = {
      ...ANN(),
      emails: [
        { value: 'ann@home.example', type: 'home' },
        { primary: true, value: 'ann@example.com', type: 'work' },
      ],
    };
    assert.deepEqual(diffResources(before, after), []);
    const changed = { ...ANN(), emails: [{ type: 'work', value: 'ann@example.com', primary: true }] };
    const d = diffResources(before, changed);
    assert.deepEqual(
      d.map((c) => c.path),
      ['emails'],
    );
  });

  test('missing, null, "" and [] are all unset', () => {
    const unsets = [undefined, null, '', []];
    for (const b of unsets) {
      for (const a of unsets) {
        assert.deepEqual(
          diffResources({ id: 'u1', title: b, emails: b }, { id: 'u1', title: a, emails: a }),
          [],
          `${JSON.stringify(b)} vs ${JSON.stringify(a)}`,
        );
      }
    }
    assert.deepEqual(
      diffResources({ id: 'u1', name: { givenName: 'A', middleName: null } }, { id: 'u1', name: { givenName: 'A' } }),
      [],
    );
    assert.deepEqual(diffResources({ id: 'u1' }, { id: 'u1', name: {} }), [], 'an empty complex value is unset');
    assert.equal(sameValue(undefined, { givenName: null }), true);
    assert.equal(sameValue('', 'x'), false);
  });

  test('extension attributes are diffed one by one, with URN paths', () => {
    const before = ANN();
    const after = {
      ...ANN(),
      [ENT]: {
        department: 'Support',
        costCenter: 'CC1',
        manager: { value: 'm1', displayName: 'Boss' },
        division: 'EMEA',
      },
    };
    assert.deepEqual(diffResources(before, after), [
      { path: `${ENT}:department`, before: 'Sales', after: 'Support' },
      { path: `${ENT}:division`, before: undefined, after: 'EMEA' },
    ]);
  });

  test('an extension that goes is removed attribute by attribute; one that comes is added likewise', () => {
    const before = ANN();
    const gone: Record<string, unknown> = { ...ANN() };
    delete gone[ENT];
    assert.deepEqual(
      diffResources(before, gone).map((c) => [c.path, c.after]),
      [
        [`${ENT}:department`, undefined],
        [`${ENT}:costCenter`, undefined],
        [`${ENT}:manager`, undefined],
      ],
    );
    assert.deepEqual(
      diffResources(gone, before).map((c) => [c.path, c.before]),
      [
        [`${ENT}:department`, undefined],
        [`${ENT}:costCenter`, undefined],
        [`${ENT}:manager`, undefined],
      ],
    );
  });

  test('attribute names (and extension URNs) compare case-insensitively', () => {
    const before = ANN();
    const after: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(ANN())) after[k.toUpperCase()] = v;
    after[ENT.toUpperCase()] = {
      DEPARTMENT: 'Sales',
      COSTCENTER: 'CC1',
      MANAGER: { VALUE: 'm1', DISPLAYNAME: 'Boss' },
    };
    after.NAME = { GIVENNAME: 'Ann', familyname: 'Example' };
    assert.deepEqual(diffResources(before, after), []);
    after.TITLE = 'Lead';
    assert.deepEqual(diffResources(before, after), [{ path: 'TITLE', before: 'Engineer', after: 'Lead' }]);
  });

  test('values compare exactly: a changed case of a value is a change', () => {
    assert.equal(diffResources({ id: 'u1', title: 'lead' }, { id: 'u1', title: 'Lead' }).length, 1);
    assert.equal(diffResources({ id: 'u1', active: true }, { id: 'u1', active: false }).length, 1);
  });
});

describe('changesToPatch', () => {
  test('add for newly set, replace for changed, remove for unset', () => {
    const body = changesToPatch([
      { path: 'nickName', before: undefined, after: 'A' },
      { path: 'title', before: 'Engineer', after: 'Lead' },
      { path: 'displayName', before: 'Ann', after: undefined },
      { path: 'profileUrl', before: null, after: 'https://x' },
      { path: 'emails', before: [{ value: 'a' }], after: [] },
      { path: `${ENT}:department`, before: 'Sales', after: '' },
    ]);
    assert.deepEqual(body, {
      schemas: [PATCH_OP_SCHEMA],
      Operations: [
        { op: 'add', path: 'nickName', value: 'A' },
        { op: 'replace', path: 'title', value: 'Lead' },
        { op: 'remove', path: 'displayName' },
        { op: 'add', path: 'profileUrl', value: 'https://x' },
        { op: 'remove', path: 'emails' },
        { op: 'remove', path: `${ENT}:department` },
      ],
    });
  });

  test(
    'a sub-attribute that goes from a complex value is removed explicitly (replace ' +
      'would leave it, RFC 7644 §3.5.2.3)',
    () => {
      const before = ANN();
      const after = edit(before, [], ['name.familyName']);
      const body = changesToPatch(diffResources(before, after));
      assert.deepEqual(body.Operations, [
        { op: 'remove', path: 'name.familyName' },
        { op: 'replace', path: 'name', value: { givenName: 'Ann' } },
      ]);
      const ext = edit(before, [], [`${ENT}:manager.value`]);
      assert.deepEqual(changesToPatch(diffResources(before, ext)).Operations, [
        { op: 'remove', path: `${ENT}:manager.value` },
        { op: 'replace', path: `${ENT}:manager`, value: { displayName: 'Boss' } },
      ]);
    },
  );

  test('a complex value left with nothing assigned is removed', () => {
    assert.deepEqual(
      changesToPatch([{ path: 'name', before: { givenName: 'A' }, after: { givenName: null } }]).Operations,
      [{ op: 'remove', path: 'name' }],
    );
  });
});

describe('putBody', () => {
  test('strips meta and groups, lists the extensions present in schemas, keeps everything else', () => {
    const user = ANN();
    const body = putBody(user, SCHEMA.USER);
    const expected: Record<string, unknown> = { ...ANN(), schemas: [SCHEMA.USER, ENT] };
    delete expected.meta;
    delete expected.groups;
    assert.deepEqual(body, expected);
    assert.deepEqual(user, ANN(), 'the input is not mutated');
  });

  test('an empty extension object is left out and not listed', () => {
    const body = putBody({ id: 'u1', userName: 'a', [ENT]: {}, schemas: [SCHEMA.USER, ENT] }, SCHEMA.USER);
    assert.deepEqual(body, { schemas: [SCHEMA.USER], id: 'u1', userName: 'a' });
  });

  test('the core schema given is used (a Group)', () => {
    const body = putBody(
      { id: 'g1', displayName: 'Sales', members: [{ value: 'u1' }], meta: { version: '1' } },
      SCHEMA.GROUP,
    );
    assert.deepEqual(body, { schemas: [SCHEMA.GROUP], id: 'g1', displayName: 'Sales', members: [{ value: 'u1' }] });
  });
});

type PatchAnswer = 'echo' | 204 | 405 | 501 | 412 | 400;

/** A one-user server: GET, PATCH (answering as told) and PUT of /Users/u1. */
function userServer(opts: { patch?: PatchAnswer; put?: 'echo' | 412 | 500 } = {}) {
  let stored: ScimUser = ANN();
  const afterWrite = (): ScimUser => ({ ...stored, meta: { ...stored.meta, version: 'W/"4"' } });
  const f = fakeFetch((req: FakeRequest) => {
    assert.equal(req.url.pathname, '/scim/v2/Users/u1');
    if (req.method === 'GET') return scimJson(stored);
    if (req.method === 'PATCH') {
      const answer = opts.patch ?? 'echo';
      if (answer === 'echo') {
        stored = { ...afterWrite(), title: 'patched' };
        return scimJson(stored);
      }
      if (answer === 204) {
        stored = { ...afterWrite(), title: 'patched-204' };
        return new Response(null, { status: 204 });
      }
      if (answer === 412) return scimError(412, 'version mismatch', undefined);
      if (answer === 400) return scimError(400, 'bad path', 'invalidPath');
      return scimError(answer, 'PATCH not supported');
    }
    if (req.method === 'PUT') {
      const answer = opts.put ?? 'echo';
      if (answer === 412) return scimError(412, 'precondition failed');
      if (answer === 500) return scimError(500, 'boom');
      stored = { ...(JSON.parse(req.body!) as ScimUser), meta: { version: 'W/"4"' } };
      return scimJson(stored);
    }
    return scimError(405, 'no');
  });
  const sleep = recordingSleep();
  const client = new ScimClient({ baseUrl: BASE, fetch: f.fetch, sleep: sleep.sleep, capabilities: caps() });
  return { client, f, sleep, stored: () => stored };
}

const withPatch = (etag = false): Capabilities =>
  caps((c) => {
    c.patch = true;
    c.etag = etag;
  });

describe('updateResource', () => {
  test('no changes: no request at all', async () => {
    const { client, f } = userServer();
    const before = ANN();
    for (const c of [withPatch(), caps()]) {
      const out = await updateResource(client.users, c, before, { ...ANN(), meta: { version: 'other' } }, SCHEMA.USER);
      assert.equal(out.method, 'none');
      assert.equal(out.result, before);
      assert.deepEqual(out.changes, []);
    }
    assert.equal(f.calls.length, 0);
  });

  test('PATCH when the server supports it: the PatchOp schema and exactly the changed attributes', async () => {
    const { client, f } = userServer();
    const before = ANN();
    const desired = edit(before, ['title=Lead', 'nickName=Annie', `${ENT}:department=Support`], ['phoneNumbers']);
    const out = await updateResource(client.users, withPatch(), before, desired, SCHEMA.USER);
    assert.equal(out.method, 'PATCH');
    assert.equal(f.calls.length, 1);
    assert.equal(f.calls[0]!.method, 'PATCH');
    const body = f.json(0) as { schemas: string[]; Operations: Array<{ op: string; path: string; value?: unknown }> };
    assert.deepEqual(body.schemas, [PATCH_OP_SCHEMA]);
    const byPath = (o: { path: string }) => o.path;
    assert.deepEqual(
      [...body.Operations].sort((a, b) => byPath(a).localeCompare(byPath(b))),
      [
        { op: 'remove', path: 'phoneNumbers' },
        { op: 'add', path: 'nickName', value: 'Annie' },
        { op: 'replace', path: 'title', value: 'Lead' },
        { op: 'replace', path: `${ENT}:department`, value: 'Support' },
      ].sort((a, b) => byPath(a).localeCompare(byPath(b))),
    );
    assert.equal(out.result.title, 'patched', 'the resource the server returned');
    assert.deepEqual(
      out.changes.map((c) => c.path).sort(),
      ['nickName', 'phoneNumbers', 'title', `${ENT}:department`].sort(),
    );
  });

  test('PATCH answered 204: the resource is read back', async () => {
    const { client, f } = userServer({ patch: 204 });
    const out = await updateResource(client.users, withPatch(), ANN(), edit(ANN(), ['title=Lead']), SCHEMA.USER);
    assert.equal(out.method, 'PATCH');
    assert.deepEqual(
      f.calls.map((c) => c.method),
      ['PATCH', 'GET'],
    );
    assert.equal(out.result.title, 'patched-204');
    assert.equal(out.result.meta?.version, 'W/"4"');
  });

  test('If-Match carries meta.version only when the server supports ETags (PATCH and PUT)', async () => {
    for (const [c, expected] of [
      [withPatch(true), 'W/"3"'],
      [withPatch(false), null],
      [caps((x) => (x.etag = true)), 'W/"3"'],
      [caps(), null],
    ] as const) {
      const { client, f } = userServer();
      await updateResource(client.users, c, ANN(), edit(ANN(), ['title=Lead']), SCHEMA.USER);
      assert.equal(f.calls.length, 1);
      assert.equal(f.calls[0]!.method, c.patch ? 'PATCH' : 'PUT');
      assert.equal(f.calls[0]!.headers.get('if-match'), expected);
    }
  });

  test('no If-Match without a version, even with ETags', async () => {
    const { client, f } = userServer();
    const before: ScimUser = { ...ANN(), meta: { resourceType: 'User' } };
    await updateResource(client.users, withPatch(true), before, edit(before, ['title=Lead']), SCHEMA.USER);
    assert.equal(f.calls[0]!.headers.get('if-match'), null);
  });

  test('PUT without PATCH: the body is the fresh read plus the change; nothing else is lost', async () => {
    const { client, f } = userServer();
    const before = ANN();
    const desired = edit(before, ['title=Lead']);
    const out = await updateResource(client.users, caps(), before, desired, SCHEMA.USER);
    assert.equal(out.method, 'PUT');
    assert.equal(f.calls.length, 1);
    assert.equal(f.calls[0]!.method, 'PUT');
    const body = f.json(0) as Record<string, unknown>;
    assert.deepEqual(body.schemas, [SCHEMA.USER, ENT]);
    for (const [key, value] of Object.entries(before)) {
      if (key === 'meta' || key === 'groups' || key === 'schemas') {
        if (key !== 'schemas') assert.equal(key in body, false, `${key} is not sent`);
        continue;
      }
      assert.deepEqual(body[key], key === 'title' ? 'Lead' : value, `${key} is kept`);
    }
    assert.deepEqual(body.phoneNumbers, [{ type: 'mobile', value: '+1 555 0100' }]);
    assert.deepEqual(body[ENT], {
      department: 'Sales',
      costCenter: 'CC1',
      manager: { value: 'm1', displayName: 'Boss' },
    });
    assert.deepEqual(
      Object.keys(body).sort(),
      Object.keys(before)
        .filter((k) => k !== 'meta' && k !== 'groups')
        .sort(),
    );
    assert.equal(out.result.title, 'Lead');
  });

  for (const status of [501, 405] as const) {
    test(`PATCH answered ${status}: falls back to PUT and remembers that PATCH does not work`, async () => {
      const { client, f, stored } = userServer({ patch: status });
      const c = withPatch(true);
      const out = await updateResource(client.users, c, ANN(), edit(ANN(), ['title=Lead']), SCHEMA.USER);
      assert.equal(out.method, 'PUT');
      assert.equal(c.patch, false);
      assert.deepEqual(
        f.calls.map((r) => r.method),
        ['PATCH', 'PUT'],
      );
      assert.equal(f.calls[1]!.headers.get('if-match'), 'W/"3"');
      assert.equal(stored().title, 'Lead');
      assert.deepEqual(stored().phoneNumbers, ANN().phoneNumbers);
      // The next update goes straight to PUT.
      await updateResource(client.users, c, stored(), { ...stored(), title: 'Chief' }, SCHEMA.USER);
      assert.deepEqual(
        f.calls.map((r) => r.method),
        ['PATCH', 'PUT', 'PUT'],
      );
    });
  }

  test('412 on PATCH: ChangedOnServerError, no retry and no second write', async () => {
    const { client, f, sleep } = userServer({ patch: 412 });
    const c = withPatch(true);
    const e = await rejection(updateResource(client.users, c, ANN(), edit(ANN(), ['title=Lead']), SCHEMA.USER));
    assert.ok(e instanceof ChangedOnServerError, String(e));
    assert.equal(e.status, 412);
    assert.equal(e.resourceId, 'u1');
    assert.match(e.message, /changed on the server/);
    assert.equal(e.request?.method, 'PATCH');
    assert.equal(f.calls.length, 1);
    assert.deepEqual(sleep.delays, []);
    assert.equal(c.patch, true);
  });

  test('412 on PUT: ChangedOnServerError, no retry', async () => {
    const { client, f, sleep } = userServer({ put: 412 });
    const e = await rejection(
      updateResource(
        client.users,
        caps((x) => (x.etag = true)),
        ANN(),
        edit(ANN(), ['title=Lead']),
        SCHEMA.USER,
      ),
    );
    assert.ok(e instanceof ChangedOnServerError);
    assert.equal(e.request?.method, 'PUT');
    assert.equal(f.calls.length, 1);
    assert.deepEqual(sleep.delays, []);
  });

  test('another PATCH error is not a reason to PUT', async () => {
    const { client, f } = userServer({ patch: 400 });
    const c = withPatch();
    const e = await rejection(updateResource(client.users, c, ANN(), edit(ANN(), ['title=Lead']), SCHEMA.USER));
    assert.ok(e instanceof ScimError);
    assert.equal(e.status, 400);
    assert.equal(e.scimType, 'invalidPath');
    assert.deepEqual(
      f.calls.map((r) => r.method),
      ['PATCH'],
    );
    assert.equal(c.patch, true);
  });

  test('a Group is PUT with the Group schema', async () => {
    const group = {
      schemas: [SCHEMA.GROUP],
      id: 'g1',
      displayName: 'Sales',
      members: [{ value: 'u1' }],
      meta: { version: '1' },
    };
    const f = fakeFetch((req) => scimJson({ ...(JSON.parse(req.body!) as object), id: 'g1' }));
    const client = new ScimClient({
      baseUrl: BASE,
      fetch: f.fetch,
      sleep: recordingSleep().sleep,
      capabilities: caps(),
    });
    const out = await updateResource(
      client.groups,
      caps(),
      group,
      { ...group, displayName: 'Sales EMEA' },
      SCHEMA.GROUP,
    );
    assert.equal(out.method, 'PUT');
    assert.equal(f.calls[0]!.url.pathname, '/scim/v2/Groups/g1');
    assert.deepEqual(f.json(0), {
      schemas: [SCHEMA.GROUP],
      id: 'g1',
      displayName: 'Sales EMEA',
      members: [{ value: 'u1' }],
    });
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { SCHEMA, type ScimResource } from '../../src/api/types.ts';
import { writeCsv, writeJsonListResponse } from '../../src/formats/export.ts';
import { canonicalResource } from '../../src/formats/scim-csv.ts';
import { readSource } from '../../src/sources/source.ts';
import { problemsOf, registry, tempFiles } from './sync-source-helpers.ts';
import type { SourceSnapshot } from '../../src/sync/model.ts';

const ENT = SCHEMA.ENTERPRISE_USER;
const file = tempFiles('scimctl-sync-source-');

async function* from<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

function sink() {
  const chunks: string[] = [];
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _enc, cb) {
      chunks.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/** Users as a server returns them: ids, meta, schemas, groups, an extension. */
const SERVER_USERS: ScimResource[] = [
  {
    schemas: [SCHEMA.USER, ENT],
    id: 'a1b2c3d4-0000-4000-8000-000000000001',
    externalId: 'E1',
    userName: 'alice@example.com',
    name: { givenName: 'Alice', familyName: 'Smith' },
    displayName: 'Alice Smith',
    active: true,
    emails: [
      { value: 'alice@example.com', type: 'work', primary: true },
      { value: 'alice@home.example', type: 'home' },
    ],
    groups: [
      { value: 'g-1', display: 'Admins', $ref: 'https://scim.example/Groups/g-1', type: 'direct' },
      { value: 'g-2', display: 'Sales', type: 'direct' },
      { value: 'g-3', display: 'Everyone', type: 'indirect' },
    ],
    [ENT]: { department: 'Sales', manager: { value: 'a1b2c3d4-0000-4000-8000-000000000002', displayName: 'Bob' } },
    meta: {
      resourceType: 'User',
      created: '2024-01-01T00:00:00Z',
      lastModified: '2024-02-01T00:00:00Z',
      version: 'W/"3"',
      location: 'https://scim.example/Users/a1',
    },
  },
  {
    schemas: [SCHEMA.USER],
    id: 'a1b2c3d4-0000-4000-8000-000000000002',
    userName: 'bob@example.com',
    active: false,
    meta: { resourceType: 'User' },
  },
];

/** What a source must want for each of them: the resource minus id, meta, schemas and groups. */
function expectedAttributes(u: ScimResource): Record<string, unknown> {
  const { id: _id, meta: _meta, schemas: _schemas, groups: _groups, ...rest } = u as Record<string, unknown>;
  return rest;
}

describe('readSource, preset scim: our export read back', () => {
  test('a ListResponse: attributes without id/meta/schemas/groups, group names from groups, lines', async () => {
    const out = sink();
    await writeJsonListResponse(from(SERVER_USERS), out.stream);
    const path = await file('users.json', out.text());
    const snap = await readSource({ path }, registry);
    assert.equal(snap.users.length, 2);
    // writeJsonListResponse puts one resource per line, after the opening line.
    assert.deepEqual(
      snap.users.map((u) => u.origin),
      [
        { file: path, line: 2 },
        { file: path, line: 3 },
      ],
    );
    assert.deepEqual(snap.users[0]!.attributes, expectedAttributes(SERVER_USERS[0]!));
    assert.deepEqual(snap.users[1]!.attributes, expectedAttributes(SERVER_USERS[1]!));
    for (const u of snap.users)
      for (const key of ['id', 'meta', 'schemas', 'groups']) assert.ok(!(key in u.attributes), key);
    // display names, indirect memberships skipped; a user without groups is in none (the file has groups).
    assert.deepEqual(snap.users[0]!.groups, ['Admins', 'Sales']);
    assert.deepEqual(snap.users[1]!.groups, []);
    // groups only users name are in the snapshot, from the first user naming them.
    assert.deepEqual(snap.groups, [
      { displayName: 'Admins', origin: { file: path, line: 2 } },
      { displayName: 'Sales', origin: { file: path, line: 2 } },
    ]);
    assert.deepEqual(snap.files, [path]);
    assert.match(snap.fingerprint, /^[0-9a-f]{64}$/);
  });

  test('our CSV export reads back to the same attributes as the JSON one', async () => {
    const out = sink();
    await writeCsv(from(SERVER_USERS), out.stream, { registry, coreSchema: SCHEMA.USER });
    const path = await file('users.csv', out.text());
    const snap = await readSource({ path }, registry);
    assert.deepEqual(
      snap.users.map((u) => u.origin.line),
      [2, 3],
    );
    snap.users.forEach((u, i) =>
      assert.deepEqual(canonicalResource(u.attributes), canonicalResource(expectedAttributes(SERVER_USERS[i]!))),
    );
    assert.deepEqual(snap.users[0]!.groups, ['Admins', 'Sales']);
  });

  test(
    'an array and a single resource; groups given by value only; no groups ' + 'anywhere leaves groups undefined',
    async () => {
      const arrayPath = await file(
        'users.json',
        [
          '[',
          '  {"userName": "a", "groups": [{"value": "Team A"}]},',
          '',
          '  {',
          '    "userName": "b"',
          '  }',
          ']',
        ].join('\n'),
      );
      const snap = await readSource({ path: arrayPath }, registry);
      assert.deepEqual(
        snap.users.map((u) => [u.origin.line, u.groups]),
        [
          [2, ['Team A']],
          [4, []],
        ],
      );
      const single = await file('one.json', '{"userName": "solo", "title": "Boss"}');
      const one = await readSource({ path: single }, registry);
      assert.equal(one.users[0]!.groups, undefined);
      assert.deepEqual(one.users, [
        { attributes: { userName: 'solo', title: 'Boss' }, origin: { file: single, line: 1 } },
      ]);
      assert.deepEqual(one.groups, []);
    },
  );

  test('a password goes to onlyOnCreate: the server never returns it', async () => {
    const path = await file('pw.json', JSON.stringify([{ userName: 'a', password: 's3cret', title: 'x' }]));
    const [user] = (await readSource({ path }, registry)).users;
    assert.deepEqual(user!.attributes, { userName: 'a', title: 'x' });
    assert.deepEqual(user!.onlyOnCreate, { password: 's3cret' });
  });

  test('TSV by extension and an explicit format', async () => {
    const tsv = await file('users.tsv', 'userName\ttitle\nann\tBoss\n');
    assert.deepEqual((await readSource({ path: tsv }, registry)).users[0]!.attributes, {
      userName: 'ann',
      title: 'Boss',
    });
    const txt = await file('users.txt', 'userName,title\nann,Boss\n');
    assert.deepEqual((await readSource({ path: txt, format: 'csv' }, registry)).users[0]!.attributes, {
      userName: 'ann',
      title: 'Boss',
    });
  });

  test(
    'zero users is a valid source: a header-only CSV, an empty list, a ' + 'ListResponse with totalResults 0',
    async () => {
      const sources = [
        await file('empty.csv', 'userName,displayName\n'),
        await file('empty.json', '[]'),
        await file('empty-list.json', `{"schemas":["${SCHEMA.LIST_RESPONSE}"],"Resources":[],"totalResults":0}`),
        await file('no-resources.json', `{"schemas":["${SCHEMA.LIST_RESPONSE}"],"totalResults":0}`),
      ];
      for (const path of sources) {
        const snap = await readSource({ path }, registry);
        assert.deepEqual([snap.users, snap.groups], [[], []], path);
      }
    },
  );

  test('a file with no text, a missing file and broken JSON are problems', async () => {
    const blank = await file('blank.csv', '\n');
    assert.match((await problemsOf({ path: blank }))[0]!.message, /the file is empty/);
    const missing = join(dirname(await file('anchor', '')), 'nope.csv');
    const [p] = await problemsOf({ path: missing });
    assert.deepEqual([p!.file, p!.line], [missing, 0]);
    assert.match(p!.message, /cannot read/);
    const broken = await file('broken.json', '[\n{"userName": "a"},\n{"userName": }\n]');
    const [q] = await problemsOf({ path: broken });
    assert.equal(q!.line, 3);
    assert.match(q!.message, /invalid JSON/);
  });

  test(
    'records are checked: no match key, duplicate userName, bad e-mail, all at ' + "once, with the format's checks",
    async () => {
      const rows = [
        { userName: 'a' },
        { title: 'no key' },
        { userName: 'A' },
        { userName: 'c', emails: [{ value: 'not-an-address', type: 'work' }] },
      ];
      const text = (extra: object[]) => `[\n${[...rows, ...extra].map((r) => JSON.stringify(r)).join(',\n')}\n]\n`;
      // The reader's own checks (an unknown attribute) and ours are told together, in the order of the file.
      const withUnknown = await problemsOf({ path: await file('bad.json', text([{ userName: 'd', titel: 'x' }])) });
      assert.deepEqual(
        withUnknown.map((p) => [p.line, p.field ?? null]),
        [
          [3, null],
          [4, 'userName'],
          [5, 'emails[work].value'],
          [6, 'titel'],
        ],
      );
      assert.match(withUnknown[3]!.message, /unknown attribute; valid: title/);
      const all = await problemsOf({ path: await file('bad2.json', text([])) });
      assert.deepEqual(
        all.map((p) => [p.line, p.field ?? null]),
        [
          [3, null],
          [4, 'userName'],
          [5, 'emails[work].value'],
        ],
      );
      assert.match(all[0]!.message, /^no match key: the record has no externalId, userName or e-mail address$/);
      assert.match(all[1]!.message, /userName "A" already on line 2/);
      assert.match(all[2]!.message, /not a valid e-mail address/);
    },
  );

  test('a user with only an e-mail has a match key', async () => {
    const path = await file('email-only.json', JSON.stringify([{ emails: [{ value: 'x@example.com' }] }]));
    assert.equal((await readSource({ path }, registry)).users.length, 1);
  });

  test('a groups export names groups (displayName, externalId); membership stays with the users', async () => {
    const users = await file(
      'u.json',
      JSON.stringify(
        [
          {
            userName: 'a',
            groups: [
              { value: 'g-1', display: 'Admins' },
              { value: 'g-9', display: 'Ops' },
            ],
          },
        ],
        null,
        1,
      ),
    );
    const groups = await file(
      'g.json',
      [
        `{"schemas": ["${SCHEMA.LIST_RESPONSE}"], "Resources": [`,
        '  {"id": "g-1", "displayName": "admins", "externalId": "X1", "members": [{"value": "u-1", "display": "a"}]},',
        '  {"id": "g-2", "displayName": "Empty"}',
        ']}',
      ].join('\n'),
    );
    const snap = await readSource({ path: users, groupsFile: groups }, registry);
    assert.deepEqual(snap.groups, [
      { displayName: 'admins', externalId: 'X1', origin: { file: groups, line: 2 } },
      { displayName: 'Empty', origin: { file: groups, line: 3 } },
      // named by a user only; "Admins" is the file's "admins" (names ignore case)
      { displayName: 'Ops', origin: { file: users, line: 2 } },
    ]);
    assert.ok(snap.groups.every((g) => g.members === undefined));
    assert.deepEqual(snap.files, [users, groups]);
  });

  test('a groups file in CSV; duplicate group names are problems', async () => {
    const users = await file('u.csv', 'userName\na\n');
    const groups = await file('g.csv', 'id,displayName,externalId\ng1,Admins,\ng2,ADMINS,x\n');
    const [p, ...rest] = await problemsOf({ path: users, groupsFile: groups });
    assert.equal(rest.length, 0);
    assert.deepEqual([p!.file, p!.line, p!.field], [groups, 3, 'displayName']);
  });

  test('bad groups values in the users file are problems on their line', async () => {
    const path = await file('g.json', JSON.stringify([{ userName: 'a', groups: [{ type: 'direct' }] }], null, 1));
    const [p] = await problemsOf({ path });
    assert.deepEqual([p!.line, p!.field], [2, 'groups']);
    assert.match(p!.message, /neither a "display" nor a "value"/);
  });
});

describe('readSource: snapshot shape', () => {
  test('every user keeps its origin; the snapshot is plain data', async () => {
    const path = await file('u.csv', 'userName,externalId\n\na,1\nb,2\n');
    const snap: SourceSnapshot = await readSource({ path }, registry);
    assert.deepEqual(
      snap.users.map((u) => u.origin.line),
      [3, 4],
    );
    assert.deepEqual(JSON.parse(JSON.stringify(snap)), snap);
  });
});

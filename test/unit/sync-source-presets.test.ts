import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMA } from '../../src/api/types.ts';
import { OMNI_EXTENSION, PLEIO_EXTENSION } from '../../src/sources/presets.ts';
import { formatProblem } from '../../src/sources/resource-file.ts';
import { problemsOf, registry, tempFiles } from './sync-source-helpers.ts';
import { readSource } from '../../src/sources/source.ts';

const ENT = SCHEMA.ENTERPRISE_USER;
const file = tempFiles('scimctl-sync-presets-');

describe('readSource, preset pleio', () => {
  test(
    'maps every column; profile fields to the enterprise extension or the pleio ' +
      'one; blank cells leave attributes out',
    async () => {
      const path = await file(
        'pleio.csv',
        [
          'external_id,name,email,avatar,profile.department,profile.favourite_colour,profile.organization',
          '101,Ann Lee, ann@example.com ,https://pleio.example/a.png,Sales,blue,',
          '',
          '102,,bob@example.com,,,,"Acme, Inc."',
          '103,"Carol',
          'Multi",carol@example.com,,,,',
        ].join('\n'),
      );
      const snap = await readSource({ path, preset: 'pleio' }, registry);
      assert.deepEqual(
        snap.users.map((u) => u.origin),
        [
          { file: path, line: 2 },
          { file: path, line: 4 },
          { file: path, line: 5 },
        ],
      );
      assert.deepEqual(snap.users[0]!.attributes, {
        externalId: '101',
        userName: 'ann@example.com',
        displayName: 'Ann Lee',
        name: { formatted: 'Ann Lee' },
        active: true,
        emails: [{ value: 'ann@example.com', type: 'work', primary: true }],
        photos: [{ value: 'https://pleio.example/a.png', type: 'photo' }],
        [ENT]: { department: 'Sales' },
        [PLEIO_EXTENSION]: { favourite_colour: 'blue' },
      });
      assert.deepEqual(snap.users[1]!.attributes, {
        externalId: '102',
        userName: 'bob@example.com',
        active: true,
        emails: [{ value: 'bob@example.com', type: 'work', primary: true }],
        [ENT]: { organization: 'Acme, Inc.' },
      });
      assert.equal(snap.users[2]!.attributes.displayName, 'Carol\nMulti');
      assert.ok(snap.users.every((u) => u.groups === undefined && u.onlyOnCreate === undefined));
      assert.deepEqual(snap.groups, []);
    },
  );

  test(
    'an enterprise attribute is matched ignoring case; a complex one (manager) ' + 'goes to the pleio extension',
    async () => {
      const path = await file('p.csv', 'email,profile.Department,profile.manager\nann@example.com,Ops,Bob\n');
      const [user] = (await readSource({ path, preset: 'pleio' }, registry)).users;
      assert.deepEqual(user!.attributes[ENT], { department: 'Ops' });
      assert.deepEqual(user!.attributes[PLEIO_EXTENSION], { manager: 'Bob' });
    },
  );

  test('problems: unknown columns and bad profile names on the header line, a missing key column, JSON', async () => {
    const path = await file('p.csv', 'external_id,name,mail,profile.job title\n1,Ann,ann@example.com,x\n');
    const problems = await problemsOf({ path, preset: 'pleio' });
    assert.deepEqual(
      problems.map((p) => [p.line, p.field]),
      [
        [1, 'mail'],
        [1, 'profile.job title'],
      ],
    );
    assert.match(
      problems[0]!.message,
      /not a pleio column; expected external_id, name, email, avatar or profile\.<field>/,
    );
    const keyless = await file('k.csv', 'name,avatar\nAnn,x\n');
    assert.match(
      (await problemsOf({ path: keyless, preset: 'pleio' }))[0]!.message,
      /needs an "email" or "external_id" column/,
    );
    const json = await file('p.json', '[]');
    assert.match((await problemsOf({ path: json, preset: 'pleio' }))[0]!.message, /reads CSV or TSV/);
  });

  test('broken CSV is a problem on the line where its row starts', async () => {
    const quote = await file('q.csv', 'email,name\na@example.com,A\nb@example.com,"B\nc@example.com,C\n');
    const [q, ...rest] = await problemsOf({ path: quote, preset: 'pleio' });
    assert.equal(rest.length, 0);
    assert.equal(q!.line, 3);
    assert.match(q!.message, /quote opened in this record is still open/);
    const length = await file('len.csv', 'email,name\n\na@example.com,A\nb@example.com,B,extra\n');
    const [l] = await problemsOf({ path: length, preset: 'pleio' });
    assert.deepEqual([l!.line, l!.message], [4, 'the row has 3 cells and the header 2']);
  });

  test('record problems name the pleio column: duplicate e-mail, duplicate external_id, no key', async () => {
    const path = await file(
      'p.csv',
      'external_id,name,email\n1,Ann,ann@example.com\n1,Bob,ANN@example.com\n,Nobody,\n2,Bad,not-an-address\n',
    );
    const problems = await problemsOf({ path, preset: 'pleio' });
    assert.deepEqual(
      problems.map((p) => [p.line, p.field ?? null]),
      [
        [3, 'email'],
        [3, 'external_id'],
        [4, null],
        [5, 'email'],
      ],
    );
    assert.equal(
      formatProblem(problems[0]!),
      `${path}:3: column "email": userName "ANN@example.com" already on line 2`,
    );
  });
});

describe('readSource, preset omni', () => {
  const usersCsv = [
    'id,userName,displayName,active,emails,userAttributes',
    'u1,ann,Ann,TRUE,"[{""value"":""ann@example.com"",""primary"":true,' +
      '""type"":""work""}]","{""region"":""EU"",""level"":3}"',
    'u2,bob,Bob,false,,',
    '42,carol,,true,carol@example.com,{}',
  ].join('\n');

  test(
    'users CSV: id → externalId, JSON cells, active in any case; groups file with ' + 'JSON and ";" members',
    async () => {
      const users = await file('users.csv', usersCsv);
      const groups = await file(
        'groups.csv',
        'id,name,members\ng1,Admins,"[""u1"",""u2""]"\ng2,Sales,u2; 42 ;u2\ng3,Empty,\n',
      );
      const snap = await readSource({ path: users, preset: 'omni', groupsFile: groups }, registry);
      assert.deepEqual(
        snap.users.map((u) => u.origin.line),
        [2, 3, 4],
      );
      assert.deepEqual(snap.users[0]!.attributes, {
        externalId: 'u1',
        userName: 'ann',
        displayName: 'Ann',
        active: true,
        emails: [{ value: 'ann@example.com', primary: true, type: 'work' }],
        [OMNI_EXTENSION]: { region: 'EU', level: 3 },
      });
      assert.deepEqual(snap.users[1]!.attributes, {
        externalId: 'u2',
        userName: 'bob',
        displayName: 'Bob',
        active: false,
      });
      // a bare address is one primary e-mail; an empty userAttributes object leaves the extension out
      assert.deepEqual(snap.users[2]!.attributes, {
        externalId: '42',
        userName: 'carol',
        active: true,
        emails: [{ value: 'carol@example.com', primary: true }],
      });
      assert.deepEqual(snap.groups, [
        { displayName: 'Admins', externalId: 'g1', members: ['u1', 'u2'], origin: { file: groups, line: 2 } },
        { displayName: 'Sales', externalId: 'g2', members: ['u2', '42'], origin: { file: groups, line: 3 } },
        { displayName: 'Empty', externalId: 'g3', members: [], origin: { file: groups, line: 4 } },
      ]);
      assert.ok(snap.users.every((u) => u.groups === undefined));
      assert.deepEqual(snap.files, [users, groups]);
    },
  );

  test('a groups file in JSON: {"groups": [...]}, members as ids or objects', async () => {
    const users = await file('users.csv', usersCsv);
    const groups = await file(
      'groups.json',
      '{"groups": [\n  {"id": "g1", "name": "Admins", "members": ["u1", {"value": "u2"}, 42]}\n]}',
    );
    const snap = await readSource({ path: users, preset: 'omni', groupsFile: groups }, registry);
    assert.deepEqual(snap.groups, [
      { displayName: 'Admins', externalId: 'g1', members: ['u1', 'u2', '42'], origin: { file: groups, line: 2 } },
    ]);
  });

  test('the JSON form: {"users": [...]} with groups per user', async () => {
    const path = await file(
      'omni.json',
      [
        '{"users": [',
        '  {"id": "u1", "userName": "ann", "displayName": "Ann", "active": true,',
        '   "emails": [{"value": "ann@example.com", "primary": true}],',
        '   "userAttributes": {"region": "EU"}, "groups": ["Admins", "Sales", "admins"]},',
        '  {"id": 7, "userName": "bob", "active": "FALSE", "emails": [], "groups": []},',
        '  {"id": "u3", "userName": "carol"}',
        ']}',
      ].join('\n'),
    );
    const snap = await readSource({ path, preset: 'omni' }, registry);
    assert.deepEqual(
      snap.users.map((u) => [u.origin.line, u.groups]),
      [
        [2, ['Admins', 'Sales']],
        [5, []],
        [6, []],
      ],
    );
    assert.deepEqual(snap.users[0]!.attributes, {
      externalId: 'u1',
      userName: 'ann',
      displayName: 'Ann',
      active: true,
      emails: [{ value: 'ann@example.com', primary: true }],
      [OMNI_EXTENSION]: { region: 'EU' },
    });
    assert.deepEqual(snap.users[1]!.attributes, { externalId: '7', userName: 'bob', active: false });
    assert.deepEqual(snap.groups, [
      { displayName: 'Admins', origin: { file: path, line: 2 } },
      { displayName: 'Sales', origin: { file: path, line: 2 } },
    ]);
  });

  test('a plain array works too', async () => {
    const path = await file('omni.json', '[{"id": "u1", "userName": "ann"}]');
    assert.deepEqual((await readSource({ path, preset: 'omni' }, registry)).users[0]!.attributes, {
      externalId: 'u1',
      userName: 'ann',
    });
  });

  test('problems: unknown column, bad active, bad JSON cells, each on its line', async () => {
    const header = await file('h.csv', 'id,userName,mail\n1,a,x\n');
    const [h] = await problemsOf({ path: header, preset: 'omni' });
    assert.deepEqual([h!.line, h!.field], [1, 'mail']);
    assert.match(h!.message, /not an omni column; expected id, userName/);
    const path = await file(
      'bad.csv',
      ['id,userName,active,emails,userAttributes', '1,a,yes,,', '2,b,true,[1],', '3,c,,,"[""x""]"', '1,d,,,'].join(
        '\n',
      ),
    );
    const problems = await problemsOf({ path, preset: 'omni' });
    assert.deepEqual(
      problems.map((p) => [p.line, p.field]),
      [
        [2, 'active'],
        [3, 'emails'],
        [4, 'userAttributes'],
        [5, 'id'],
      ],
    );
    assert.match(problems[0]!.message, /"yes" is not a boolean/);
    // the records are checked too (all problems at once): the repeated id is an externalId twice
    const dup = await file('dup.csv', 'id,userName\n1,a\n1,d\n');
    const [d] = await problemsOf({ path: dup, preset: 'omni' });
    assert.deepEqual([d!.line, d!.field], [3, 'id']);
    assert.match(d!.message, /externalId "1" already on line 2/);
  });

  test('a JSON key that is not omni is reported on the first object that has it', async () => {
    const path = await file('o.json', '[\n{"id": "1", "userName": "a"},\n{"id": "2", "userName": "b", "mail": "x"}\n]');
    const [p] = await problemsOf({ path, preset: 'omni' });
    assert.deepEqual([p!.line, p!.field], [3, 'mail']);
    assert.match(p!.message, /not an omni key/);
  });

  test('groups file problems: missing members column, a group without name, a repeated name', async () => {
    const users = await file('users.csv', 'id,userName\nu1,a\n');
    const noMembers = await file('g.csv', 'id,name\ng1,A\n');
    const [m] = await problemsOf({ path: users, preset: 'omni', groupsFile: noMembers });
    assert.deepEqual([m!.file, m!.line, m!.field], [noMembers, 1, 'members']);
    const bad = await file('g2.csv', 'id,name,members\ng1,,u1\ng2,A,u1\ng3,a,u1\n');
    const problems = await problemsOf({ path: users, preset: 'omni', groupsFile: bad });
    assert.deepEqual(
      problems.map((p) => [p.line, p.message]),
      [
        [2, 'the group has no name'],
        [4, 'group "a" already on line 3'],
      ],
    );
  });
});

/** Input that cannot smuggle (issue 11): header case, JSON values, unusual names, sizes, formula cells. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry } from '../../src/api/schema.ts';
import { SCHEMA } from '../../src/api/types.ts';
import {
  InputError,
  mixedScripts,
  readResourceFile,
  unusualCharacter,
  validateUsers,
  type InputProblem,
  type SourceRecord,
} from '../../src/sources/resource-file.ts';
import { mixedScriptWarning } from '../../src/commands/sync/shared.ts';
import { readSource } from '../../src/sources/source.ts';

const registry = new SchemaRegistry();
let dir = '';
let n = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scimctl-safety-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, `${n++}-${name}`);
  await writeFile(path, content);
  return path;
}

const read = (path: string, coreSchema: string = SCHEMA.USER): Promise<SourceRecord[]> =>
  readResourceFile(path, { registry, coreSchema });

async function problems(path: string, coreSchema: string = SCHEMA.USER): Promise<InputProblem[]> {
  try {
    await read(path, coreSchema);
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    return e.problems;
  }
  assert.fail('expected an InputError');
}

describe('CSV headers', () => {
  test('match attribute names ignoring case, and give the schema its own spelling', async () => {
    const path = await file(
      'upper.csv',
      'EXTERNALID,USERNAME,DISPLAYNAME,EMAILS[WORK].VALUE,NAME.GIVENNAME,' +
        'URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:DEPARTMENT\ne1,' +
        'ann@example.com,Ann,ann@example.com,Ann,Sales\n',
    );
    const [r] = await read(path);
    assert.deepEqual(r!.resource, {
      externalId: 'e1',
      userName: 'ann@example.com',
      displayName: 'Ann',
      emails: [{ type: 'work', value: 'ann@example.com' }],
      name: { givenName: 'Ann' },
      [SCHEMA.ENTERPRISE_USER]: { department: 'Sales' },
    });
  });

  test('a users header with no key column is one problem on the header line', async () => {
    const path = await file('nokey.csv', 'displayName,title\nAnn,Boss\nBob,Clerk\n');
    const found = await problems(path);
    assert.equal(found.length, 1);
    assert.equal(found[0]!.line, 1);
    assert.match(found[0]!.message, /no key column: a users file needs externalId, userName or an e-mail column/);
  });

  test('unknown upper-case columns are each reported with the valid names', async () => {
    const path = await file('foreign.csv', 'EXT_ID,LOGIN\n1,ann\n');
    const found = await problems(path);
    assert.deepEqual(
      found.map((p) => p.field),
      ['EXT_ID', 'LOGIN', undefined],
    );
    assert.match(found[0]!.message, /unknown attribute; valid: .*userName/);
  });

  test('a groups file needs no user key column', async () => {
    const path = await file('groups.csv', 'displayName\nStaff\n');
    assert.equal((await read(path, SCHEMA.GROUP)).length, 1);
  });
});

describe('JSON values', () => {
  test('a key given twice in one record is a problem naming the record and the key', async () => {
    const path = await file(
      'dup.json',
      '[\n{"userName": "a", "title": "x", "title": "y"},\n{"userName": "b", "name": ' +
        '{"givenName": "B", "givenName": "C"}}\n]',
    );
    const found = await problems(path);
    assert.deepEqual(
      found.map((p) => [p.line, p.field, p.fieldKind]),
      [
        [2, 'title', 'field'],
        [3, 'name.givenName', 'field'],
      ],
    );
    assert.match(found[0]!.message, /the key "title" is given more than once in one object/);
  });

  test('values of the wrong type are problems at the source, with the field', async () => {
    const path = await file(
      'types.json',
      JSON.stringify(
        [
          { userName: 'a', title: 42 },
          { userName: 'b', displayName: { x: 1 } },
          { userName: 'c', emails: { value: 'c@example.com' } },
          { userName: 'd', name: { givenName: 7 } },
          { userName: 'e', emails: [{ value: 'e@example.com', primary: 'yes' }] },
        ],
        null,
        1,
      ),
    );
    const found = await problems(path);
    assert.deepEqual(
      found.map((p) => p.field),
      ['title', 'displayName', 'emails', 'name.givenName', 'emails.primary'],
    );
    assert.match(found[0]!.message, /^must be a string, not a number \(42\)$/);
    assert.match(found[1]!.message, /^must be a string, not an object$/);
    assert.match(found[2]!.message, /is multi-valued: give a list/);
    assert.match(found[4]!.message, /"yes" is a string: write true or false|must be true or false/);
  });

  test('1e999 and -1e999 are out of range, named once', async () => {
    const path = await file(
      'inf.json',
      '[{"userName": "a", "externalId": "x", ' +
        '"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": ' +
        '{"employeeNumber": 1e999}}, {"userName": "b", "nickName": -1e400}]',
    );
    const found = await problems(path);
    assert.equal(found.length, 2);
    assert.equal(found[0]!.field, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber');
    assert.ok(found.some((p) => /the number 1e999 is out of range/.test(p.message)));
    assert.ok(found.some((p) => /the number -1e400 is out of range/.test(p.message) && p.field === 'nickName'));
  });

  test('a file on one line names each record by its place and its userName', async () => {
    const records = Array.from({ length: 20 }, (_, i) => ({ userName: `u${i}`, active: i === 16 ? 'yes' : true }));
    const path = await file('one.json', JSON.stringify(records));
    const err = await read(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof InputError);
    assert.equal(err.problems[0]!.record, 'record 17 (userName "u16")');
    assert.match(err.message, /one\.json:1: record 17 \(userName "u16"\): field "active": /);
  });

  test('every bad value is reported at once, each once', async () => {
    const path = await file(
      'many.json',
      JSON.stringify([
        { userName: 'a', title: 1 },
        { userName: 'b', nickName: [] },
        { userName: 'c', active: 'no' },
      ]),
    );
    const found = await problems(path);
    assert.deepEqual(
      found.map((p) => p.field),
      ['title', 'nickName', 'active'],
    );
  });

  test('a JSON string over 64 KiB is a problem; a CSV cell too', async () => {
    const big = 'x'.repeat(64 * 1024 + 1);
    const json = await problems(await file('big.json', JSON.stringify([{ userName: 'a', title: big }])));
    assert.deepEqual(
      json.map((p) => p.field),
      ['title'],
    );
    assert.match(json[0]!.message, /65537 bytes long, over the limit of 65536 bytes/);
    const csv = await problems(await file('big.csv', `userName,title\na,${big}\n`));
    assert.deepEqual(
      csv.map((p) => [p.line, p.field]),
      [[2, 'title']],
    );
    assert.match(csv[0]!.message, /over the limit of 65536 bytes/);
    // at the limit is fine
    assert.equal(
      (await read(await file('edge.json', JSON.stringify([{ userName: 'a', title: big.slice(1) }])))).length,
      1,
    );
  });
});

describe('unusual names', () => {
  const cases: Array<[string, RegExp]> = [
    ['a\u0000b', /control character U\+0000 \(NUL\)/],
    ['a\nb', /control character U\+000A \(LINE FEED\)/],
    ['an\u200bn', /invisible character U\+200B \(ZERO WIDTH SPACE\)/],
    ['ann\u202egro', /bidi control character U\+202E \(RIGHT-TO-LEFT OVERRIDE\)/],
    ['a\ud800b', /half of a surrogate pair \(U\+D800/],
    ['a\udc00b', /half of a surrogate pair \(U\+DC00/],
  ];
  for (const [value, message] of cases) {
    test(`userName ${JSON.stringify(value)} is refused`, async () => {
      const found = validateUsers([{ resource: { userName: value }, file: 'f.json', line: 3 }], registry);
      assert.equal(found.length, 1);
      assert.equal(found[0]!.field, 'userName');
      assert.match(found[0]!.message, message);
      assert.match(found[0]!.message, /--allow-unusual-names/);
      assert.deepEqual(
        validateUsers([{ resource: { userName: value }, file: 'f.json', line: 3 }], registry, {
          allowUnusualNames: true,
        }),
        [],
      );
    });
  }

  test('an e-mail with a line break is told once, as unusual', () => {
    const found = validateUsers(
      [{ resource: { userName: 'a', emails: [{ value: 'a\n@example.com', type: 'work' }] }, file: 'f.json', line: 3 }],
      registry,
    );
    assert.deepEqual(
      found.map((p) => p.field),
      ['emails[work].value'],
    );
    assert.match(found[0]!.message, /LINE FEED/);
  });

  test('ordinary names from many scripts are fine; emoji too', () => {
    for (const name of ['Zoë', 'Łukasz', '李', 'Ольга', 'Νίκος', "O'Brien", 'Anne-Marie', '😀x'])
      assert.equal(unusualCharacter(name), undefined, name);
  });

  test('mixed look-alike scripts are found (a Cyrillic а in a Latin name)', () => {
    assert.deepEqual(mixedScripts('\u0430nn@example.com'), ['Latin', 'Cyrillic']);
    assert.deepEqual(mixedScripts('\u03bfscar'), ['Latin', 'Greek']);
    assert.equal(mixedScripts('ann@example.com'), undefined);
    assert.equal(mixedScripts('Ольга'), undefined);
  });

  test('the sync warning names the user and the scripts', () => {
    const w = mixedScriptWarning([
      { attributes: { userName: '\u0430nn' }, origin: { file: 'u.csv', line: 4 } },
      {
        attributes: { userName: 'bob', emails: [{ value: 'b\u043eb@example.com' }] },
        origin: { file: 'u.csv', line: 5 },
      },
    ]);
    assert.equal(w?.count, 2);
    assert.match(w!.message, /u\.csv:4: userName "аnn" \(Latin and Cyrillic\); u\.csv:5: e-mail/);
    assert.equal(
      mixedScriptWarning([{ attributes: { userName: 'ann' }, origin: { file: 'u.csv', line: 4 } }]),
      undefined,
    );
  });
});

describe('JSON attribute names', () => {
  test('are taken ignoring case, and given the schema its own spelling (read whole and read lazily)', async () => {
    const record = {
      EXTERNALID: 'e1',
      USERNAME: 'ann@example.com',
      NAME: { GIVENNAME: 'Ann' },
      EMAILS: [{ VALUE: 'ann@example.com', TYPE: 'work' }],
      'URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER': { DEPARTMENT: 'Sales' },
      nickname: 'an',
    };
    const want = {
      externalId: 'e1',
      userName: 'ann@example.com',
      name: { givenName: 'Ann' },
      emails: [{ value: 'ann@example.com', type: 'work' }],
      [SCHEMA.ENTERPRISE_USER]: { department: 'Sales' },
      nickName: 'an',
    };
    const path = await file(
      'upper.json',
      `[\n${JSON.stringify(record)},\n${JSON.stringify({ userName: 'bob@example.com' })}\n]\n`,
    );
    const whole = await readSource({ path }, registry);
    assert.deepEqual(whole.users[0]!.attributes, want);
    const lazy = await readSource({ path }, registry, { lazy: true });
    assert.deepEqual(lazy.records!.whole(lazy.users[0]!).attributes, want);
    lazy.records!.close();
  });

  test('a name given twice in different case stays an error', async () => {
    const path = await file('twins.json', JSON.stringify([{ userName: 'a', USERNAME: 'b' }]));
    await assert.rejects(readSource({ path }, registry), /given more than once, in different case: userName, USERNAME/);
  });
});

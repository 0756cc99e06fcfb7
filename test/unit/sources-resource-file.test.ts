import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry } from '../../src/api/schema.ts';
import { SCHEMA } from '../../src/api/types.ts';
import {
  detectFormat,
  InputError,
  readResourceFile,
  type FileFormat,
  type InputProblem,
  type SourceRecord,
} from '../../src/sources/resource-file.ts';

const registry = new SchemaRegistry();
const ENT = SCHEMA.ENTERPRISE_USER;
let dir = '';
let n = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scimctl-sources-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, `${n++}-${name}`);
  await writeFile(path, content);
  return path;
}

function read(path: string, format?: FileFormat, coreSchema: string = SCHEMA.USER): Promise<SourceRecord[]> {
  return readResourceFile(path, { registry, coreSchema, format });
}

async function problems(path: string, format?: FileFormat, coreSchema: string = SCHEMA.USER): Promise<InputProblem[]> {
  try {
    await read(path, format, coreSchema);
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    assert.ok(e.problems.length > 0);
    return e.problems;
  }
  assert.fail('expected an InputError');
}

const lines = (records: SourceRecord[]) => records.map((r) => r.line);

describe('readResourceFile: CSV', () => {
  test('reads typed records with the line each starts on', async () => {
    const path = await file(
      'users.csv',
      [
        'userName,active,name.givenName,emails[work].value,' + `${ENT}:department`,
        'alice,true,Alice,alice@example.com,Sales',
        '',
        'bob,false,"Bob',
        'the second",bob@example.com,',
        'carol,,Carol,,Ops',
      ].join('\n'),
    );
    const records = await read(path);
    assert.deepEqual(lines(records), [2, 4, 6]);
    assert.deepEqual(records[0]!.resource, {
      userName: 'alice',
      active: true,
      name: { givenName: 'Alice' },
      emails: [{ type: 'work', value: 'alice@example.com' }],
      [ENT]: { department: 'Sales' },
    });
    assert.equal((records[1]!.resource.name as { givenName: string }).givenName, 'Bob\nthe second');
    assert.equal(records[2]!.resource.active, undefined);
    assert.ok(records.every((r) => r.file === path));
  });

  test('a UTF-8 BOM does not become part of the first column', async () => {
    const path = await file('bom.csv', '\uFEFFuserName,displayName\nalice,Alice\n');
    const records = await read(path);
    assert.deepEqual(
      records.map((r) => r.resource),
      [{ userName: 'alice', displayName: 'Alice' }],
    );
  });

  test('a UTF-16LE file with its BOM is read', async () => {
    const path = await file(
      'utf16.csv',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('userName\nzoë\n', 'utf16le')]),
    );
    assert.deepEqual(
      (await read(path)).map((r) => r.resource.userName),
      ['zoë'],
    );
  });

  test('bytes that are not UTF-8 are a problem on their line', async () => {
    const path = await file(
      'latin1.csv',
      Buffer.concat([Buffer.from('userName,displayName\nbob,Bob\nm,M'), Buffer.from([0xfc]), Buffer.from('ller\n')]),
    );
    const [p, ...rest] = await problems(path);
    assert.equal(rest.length, 0);
    assert.equal(p!.line, 3);
    assert.match(p!.message, /not UTF-8/);
  });

  test('an unclosed quote is a problem on the line where its record starts', async () => {
    const path = await file('broken.csv', 'userName,displayName\nalice,Alice\nbob,"Bob\ncarol,Carol\ndave,Dave\n');
    const [p, ...rest] = await problems(path);
    assert.equal(rest.length, 0);
    assert.equal(p!.line, 3);
    assert.match(p!.message, /quote/i);
    assert.doesNotMatch(p!.message, /^broken\.csv/);
  });

  test('a row with too many cells is a problem on its line', async () => {
    const path = await file('len.csv', 'userName,displayName\nalice,Alice\nbob,Bob,extra\n');
    const [p] = await problems(path);
    assert.equal(p!.line, 3);
  });

  test('a bad value is a problem naming its line and column', async () => {
    const path = await file('bool.csv', 'userName,active\nalice,true\nbob,yes\n');
    const [p] = await problems(path);
    assert.deepEqual({ line: p!.line, field: p!.field }, { line: 3, field: 'active' });
    assert.match(p!.message, /not a boolean/);
  });

  test('an unknown column is reported once, on the header line, listing valid ones nearest first', async () => {
    const path = await file('unknown.csv', 'userName,givenname\nalice,Alice\nbob,Bob\ncarol,Carol\n');
    const found = await problems(path);
    assert.equal(found.length, 1);
    const [p] = found;
    assert.equal(p!.line, 1);
    assert.equal(p!.field, 'givenname');
    assert.match(p!.message, /^unknown attribute; valid: name\.givenName, userName, /);
    const listed = p!.message.replace(/^.*valid: /, '').split(', ');
    assert.equal(listed.length, 11); // ten names, then "…"
    assert.equal(listed[10], '…');
  });

  test('unknown sub-attributes, misplaced types and unknown URNs in the header', async () => {
    const header = [
      'userName',
      'emails[work].valeu',
      'name[work].givenName',
      'emails.value',
      'urn:example:unknown:1.0:User:level',
      `${ENT}:departmant`,
    ];
    const path = await file('header.csv', `${header.join(',')}\nalice,a,b,c,d,e\n`);
    const found = await problems(path);
    assert.deepEqual(
      found.map((p) => [p.line, p.field]),
      header.slice(1).map((h) => [1, h]),
    );
    const by = (field: string) => found.find((p) => p.field === field)!.message;
    assert.match(
      by('emails[work].valeu'),
      /unknown sub-attribute "valeu" of emails; valid: value, display, type, primary/,
    );
    assert.match(by('name[work].givenName'), /not multi-valued/);
    assert.match(by('emails.value'), /multi-valued: write emails\[TYPE\]\.value/);
    assert.match(
      by('urn:example:unknown:1.0:User:level'),
      new RegExp(
        /unknown schema URN "urn:example:unknown:1\.0:User"; known extensions: /.source +
          /urn:ietf:params:scim:schemas:extension:enterprise:2\.0:User/.source,
      ),
    );
    assert.match(
      by(`${ENT}:departmant`),
      /unknown attribute; valid: urn:ietf:params:scim:schemas:extension:enterprise:2\.0:User:department/,
    );
  });

  test('a column that is not an attribute path and a repeated column are reported on the header', async () => {
    const path = await file('bad-name.csv', 'userName,Given Name,UserName\nalice,Alice,x\n');
    const found = await problems(path);
    assert.deepEqual(
      found.map((p) => p.field),
      ['Given Name', 'UserName'],
    );
    assert.ok(found.every((p) => p.line === 1));
    assert.match(found[0]!.message, /not an attribute column; valid: /);
    assert.match(found[1]!.message, /same column as "userName"/);
  });

  test('unknown sub-attributes inside a JSON cell are problems on the row', async () => {
    const path = await file(
      'json-cell.csv',
      'userName,emails\nalice,"[{""value"":""a@example.com""}]"\nbob,' +
        '"[{""value"":""b@example.com"",""type"":""work"",""primery"":true}]"\n',
    );
    const [p, ...rest] = await problems(path);
    assert.equal(rest.length, 0);
    assert.deepEqual({ line: p!.line, field: p!.field }, { line: 3, field: 'emails[work].primery' });
  });

  test('a header only, or an empty file, has no records', async () => {
    const [header] = await problems(await file('header-only.csv', 'userName,displayName\n'));
    assert.equal(header!.line, 1);
    assert.match(header!.message, /^no records/);
    const [empty] = await problems(await file('empty.csv', ''));
    assert.equal(empty!.line, 0);
    assert.match(empty!.message, /^no records: the file is empty/);
    const [blank] = await problems(await file('blank.json', ' \n\n'));
    assert.match(blank!.message, /^no records/);
  });

  test('a missing file is an InputError on line 0', async () => {
    const path = join(dir, 'does-not-exist.csv');
    const [p] = await problems(path);
    assert.equal(p!.line, 0);
    assert.match(p!.message, /^cannot read: ENOENT/);
    await assert.rejects(
      read(path),
      (e: unknown) => e instanceof InputError && e.message.startsWith(`${path}:0: cannot read: ENOENT`),
    );
  });
});

describe('readResourceFile: TSV', () => {
  test('tab-delimited, with quotes inside values taken literally', async () => {
    const text = 'userName\tdisplayName\tname.givenName\nalice\tAlice, "Al" A.\tAlice\nbob\t"Bob\tB"\tBob\n';
    const records = await read(await file('users.tsv', text));
    assert.deepEqual(lines(records), [2, 3]);
    assert.equal(records[0]!.resource.displayName, 'Alice, "Al" A.');
    assert.equal(records[1]!.resource.displayName, 'Bob\tB');
  });

  test('sniffed from the content when the extension says nothing', async () => {
    const records = await read(await file('users.txt', 'userName\tdisplayName\nalice\tSmith, Alice\n'));
    assert.deepEqual(records[0]!.resource, { userName: 'alice', displayName: 'Smith, Alice' });
  });

  test('an unknown column in TSV is reported on the header', async () => {
    const [p] = await problems(await file('bad.tsv', 'userName\tmail\nalice\ta@example.com\n'));
    assert.deepEqual({ line: p!.line, field: p!.field }, { line: 1, field: 'mail' });
    assert.match(p!.message, /valid: emails\[work\]\.value/);
  });
});

describe('readResourceFile: JSON', () => {
  const listResponse = [
    '{',
    '  "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],',
    '  "totalResults": 3,',
    '  "Resources": [',
    '    {',
    '      "userName": "alice",',
    '      "displayName": "Alice {the \\"first\\"} [x]",',
    '      "name": {',
    '        "givenName": "Alice"',
    '      }',
    '    },',
    '    {"userName": "bob", "title": "\\\\"}, {"userName": "carol",',
    '',
    '     "emails": [{"value": "c@example.com", "type": "work"}]',
    '    }',
    '  ]',
    '}',
  ].join('\n');

  test('a ListResponse: each record on the line its object starts', async () => {
    const records = await read(await file('list.json', listResponse));
    assert.deepEqual(lines(records), [5, 12, 12]);
    assert.equal(records[0]!.resource.displayName, 'Alice {the "first"} [x]');
    assert.equal(records[1]!.resource.title, '\\');
    assert.deepEqual(
      records.map((r) => r.resource.userName),
      ['alice', 'bob', 'carol'],
    );
  });

  test('a ListResponse in a file with no .json extension, and with a BOM', async () => {
    const records = await read(await file('list.out', `\uFEFF${listResponse}`));
    assert.deepEqual(lines(records), [5, 12, 12]);
  });

  test('a bare array', async () => {
    const text = '[\n  {"userName": "a"},\n\n  {\n    "userName": "b{"\n  },\n  {"userName": "c"}\n]\n';
    const records = await read(await file('array.json', text));
    assert.deepEqual(lines(records), [2, 4, 7]);
  });

  test('a single resource', async () => {
    const text =
      `\n\n{\n  "schemas": ["${SCHEMA.USER}", "${ENT}"],\n  "userName": "solo",\n  ` +
      `"${ENT}": {"department": "Ops"}\n}\n`;
    const records = await read(await file('one.json', text));
    assert.deepEqual(lines(records), [3]);
    assert.equal(records[0]!.resource.userName, 'solo');
  });

  test('a group file', async () => {
    const text = '[{"displayName": "Ops", "members": [{"value": "u1"}]}]';
    const records = await read(await file('groups.json', text), undefined, SCHEMA.GROUP);
    assert.equal(records[0]!.resource.displayName, 'Ops');
    const [p] = await problems(
      await file('groups-bad.json', '[{"displayName": "Ops", "userName": "x"}]'),
      undefined,
      SCHEMA.GROUP,
    );
    assert.equal(p!.field, 'userName');
  });

  test('malformed JSON names the line and column of the error', async () => {
    const [p, ...rest] = await problems(await file('bad.json', '[\n  {"userName": "a"},\n  {"userName": "b",}\n]\n'));
    assert.equal(rest.length, 0);
    assert.equal(p!.line, 3);
    assert.match(p!.message, /^invalid JSON at column 20: /);
  });

  test('malformed JSON whose V8 message has no position still names the line', async () => {
    const [p] = await problems(await file('bad-token.json', '[\n  {"userName": "a"},\n\n  {"userName": b}\n]\n'));
    assert.equal(p!.line, 4);
    assert.match(p!.message, /column 16: Unexpected token 'b'/);
  });

  test('JSON Lines is a syntax error on the second line, with a hint', async () => {
    const [p] = await problems(await file('lines.json', '{"userName": "a"}\n{"userName": "b"}\n'));
    assert.equal(p!.line, 2);
    assert.match(p!.message, /one JSON value/);
  });

  test('wrong shapes name the line of what is wrong', async () => {
    const at = async (text: string) =>
      (await problems(await file('shape.json', text))).map((p) => [p.line, p.message] as const);

    const [[line1, number]] = (await at('\n42\n')) as [[number, string]];
    assert.equal(line1, 2);
    assert.match(number, /expected a SCIM ListResponse, an array of resources or a single User object, not a number/);

    const strings = await at('[\n  "alice",\n  {"userName": "bob"},\n  "carol"\n]');
    assert.deepEqual(
      strings.map(([l]) => l),
      [2, 4],
    );
    assert.match(strings[0]![1], /item 1 is a string, not a User object/);
    assert.match(strings[1]![1], /item 3 is a string/);

    const notArray = await at('{\n  "totalResults": 1,\n  "Resources":\n    {"userName": "a"}\n}');
    assert.deepEqual(
      notArray.map(([l]) => l),
      [4],
    );
    assert.match(notArray[0]![1], /"Resources" must be an array of resources, not an object/);

    const element = await at('{"Resources": [\n  {"userName": "a"},\n  null,\n  [1]\n]}');
    assert.deepEqual(
      element.map(([l]) => l),
      [3, 4],
    );
    assert.match(element[0]![1], /Resources item 2 is null/);
    assert.match(element[1]![1], /Resources item 3 is an array/);

    const neither = await at('\n{"totalResults": 0, "foo": 1}');
    assert.equal(neither[0]![0], 2);
    assert.match(neither[0]![1], /no "Resources" and no User attribute \(keys: "totalResults", "foo"\)/);

    const error = await at(`{"schemas": ["${SCHEMA.ERROR}"], "status": "404", "detail": "not found"}`);
    assert.match(error[0]![1], /this is a SCIM error response \(404 not found\)/);
  });

  test('no records: an empty array or an empty Resources', async () => {
    const [a] = await problems(await file('empty-array.json', '\n[ ]'));
    assert.deepEqual([a!.line, a!.message], [2, 'no records: the list of resources is empty']);
    const [b] = await problems(
      await file('empty-list.json', `{"schemas": ["${SCHEMA.LIST_RESPONSE}"],\n "Resources": []}`),
    );
    assert.equal(b!.line, 2);
    assert.match(b!.message, /^no records/);
    const [c] = await problems(
      await file('no-resources.json', `{"schemas": ["${SCHEMA.LIST_RESPONSE}"], "totalResults": 0}`),
    );
    assert.match(c!.message, /^no records/);
  });

  test('unknown attributes and URNs are problems on the line of their record', async () => {
    const text = [
      '[',
      '  {"userName": "a", "usrName": "x"},',
      '  {"userName": "b",',
      '   "urn:example:unknown:1.0:User": {"level": 3}},',
      `  {"userName": "c", "${ENT}": {"departmant": "x"}},`,
      `  {"userName": "d", "name": {"givn": "D"}, "emails": [{"value": ` +
        `"d@example.com", "type": "home", "kind": 1}, {"value": "e@example.com", ` +
        `"label": "x"}]},`,
      `  {"userName": "e", "schemas": ["${SCHEMA.USER}", "urn:example:other"]},`,
      `  {"userName": "f", "${ENT}:department": "x"}`,
      ']',
    ].join('\n');
    const found = await problems(await file('unknown.json', text));
    assert.deepEqual(
      found.map((p) => [p.line, p.field]),
      [
        [2, 'usrName'],
        [3, 'urn:example:unknown:1.0:User'],
        [5, `${ENT}:departmant`],
        [6, 'name.givn'],
        [6, 'emails[home].kind'],
        [6, 'emails.label'],
        [7, 'schemas'],
        [8, `${ENT}:department`],
      ],
    );
    assert.match(found[0]!.message, /^unknown attribute; valid: userName, /);
    assert.match(found[1]!.message, /^unknown schema URN "urn:example:unknown:1\.0:User"/);
    assert.match(found[3]!.message, /unknown sub-attribute "givn" of name; valid: formatted, familyName, givenName/);
    assert.match(found[6]!.message, /unknown schema URN "urn:example:other"/);
    assert.match(found[7]!.message, /nest it as/);
  });

  test('read-only attributes of an export are not problems', async () => {
    const text = JSON.stringify([
      {
        schemas: [SCHEMA.USER],
        id: 'u1',
        userName: 'a',
        meta: {
          resourceType: 'User',
          created: '2024-01-01T00:00:00Z',
          location: 'https://x/Users/u1',
          version: 'W/"1"',
        },
        groups: [{ value: 'g1', display: 'Ops', $ref: 'https://x/Groups/g1', type: 'direct' }],
      },
    ]);
    assert.equal((await read(await file('export.json', text))).length, 1);
  });

  test('an explicit format overrides the extension', async () => {
    const records = await read(await file('users.csv', '[{"userName": "a"}]'), 'json');
    assert.equal(records[0]!.resource.userName, 'a');
  });
});

describe('detectFormat', () => {
  test('by extension, then by content', () => {
    assert.equal(detectFormat('a.CSV', '{'), 'csv');
    assert.equal(detectFormat('a.tsv', 'a,b'), 'tsv');
    assert.equal(detectFormat('a.json', 'a,b'), 'json');
    assert.equal(detectFormat('a', '\uFEFF  \n[{}]'), 'json');
    assert.equal(detectFormat('a.txt', 'userName\tdisplayName\n'), 'tsv');
    assert.equal(detectFormat('a.txt', 'userName,displayName\n'), 'csv');
  });
});

describe('InputError', () => {
  test('lists every problem as FILE:LINE: column "FIELD": MESSAGE, at most 20', () => {
    const problems: InputProblem[] = Array.from({ length: 23 }, (_, i) => ({
      file: 'u.csv',
      line: i + 2,
      field: i === 0 ? undefined : 'userName',
      message: `m${i}`,
    }));
    const e = new InputError(problems);
    const lines = e.message.split('\n');
    assert.equal(lines.length, 21);
    assert.equal(lines[0], 'u.csv:2: m0');
    assert.equal(lines[1], 'u.csv:3: column "userName": m1');
    assert.equal(lines[20], '… and 3 more');
    assert.equal(e.problems.length, 23);
    assert.equal(e.name, 'InputError');
  });
});

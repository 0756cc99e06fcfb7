import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry } from '../../src/api/schema.ts';
import { SCHEMA } from '../../src/api/types.ts';
import { JsonListSplitter, type JsonListItem } from '../../src/sources/json-text.ts';
import {
  InputError,
  parseResourceBytes,
  streamJsonResources,
  type InputProblem,
  type RecordSpan,
  type SourceRecord,
} from '../../src/sources/resource-file.ts';

/** Splits `text` given in pieces of `size` characters; undefined when the splitter gives up. */
function split(text: string, size = text.length): { items: JsonListItem[]; key: string | undefined } | undefined {
  const s = new JsonListSplitter();
  const items: JsonListItem[] = [];
  for (let i = 0; i < text.length; i += size) s.push(text.slice(i, i + size), (item) => items.push(item));
  const end = s.end();
  return end ? { items, key: end.key } : undefined;
}

describe('JsonListSplitter', () => {
  const list = [
    '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 3,',
    ' "Resources": [',
    '  {"userName": "a\\"}]{[", "x": [1, {"y": "]"}]},',
    '  {"userName": "b\\\\", "name": {"givenName": "B"}}',
    '  ,{"userName": "ç€𝄞"}',
    ' ], "itemsPerPage": 3}',
    '',
  ].join('\n');

  test('hands over each element of "Resources" with the line it starts on, whatever the pieces', () => {
    const whole = split(list)!;
    assert.deepEqual(
      whole.items.map((i) => i.line),
      [3, 4, 5],
    );
    assert.deepEqual(
      whole.items.map((i) => JSON.parse(i.text)),
      (JSON.parse(list) as { Resources: unknown[] }).Resources,
    );
    assert.equal(whole.key, 'Resources');
    for (const size of [1, 2, 3, 7, 64]) assert.deepEqual(split(list, size), whole, `pieces of ${size}`);
  });

  test(
    'the byte offset of each element in the UTF-8 text, with multi-byte characters ' +
      'before, in and between elements',
    () => {
      const text =
        `{"note": "ç€𝄞 before", "Resources": [ ` +
        `\n${['{"userName": "ç€𝄞"}', '{"a": "b"}', '{"x": ["𝄞", {"y": "]"}]}'].join(' ,\n\t')}], ` +
        `"after": "€"}`;
      const bytes = Buffer.from(text);
      for (const size of [1, 2, 3, 5, 64, text.length]) {
        const { items } = split(text, size)!;
        assert.equal(items.length, 3);
        for (const item of items)
          assert.equal(
            bytes.toString('utf8', item.byteOffset, item.byteOffset + Buffer.byteLength(item.text)),
            item.text,
            `pieces of ${size}`,
          );
      }
    },
  );

  test('a root array, and "resources" in another case', () => {
    assert.deepEqual(split('[{"a": 1},\n{"b": "}"}]\n')!.items, [
      { text: '{"a": 1}', line: 1, byteOffset: 1 },
      { text: '{"b": "}"}', line: 2, byteOffset: 11 },
    ]);
    const lower = split('{"resources": [{"a": 1}], "schemas": []}')!;
    assert.equal(lower.key, 'resources');
    assert.equal(lower.items.length, 1);
    // A key that only decodes to "Resources".
    assert.equal(split('{"Re\\u0073ources": [{"a": 1}]}')!.key, 'Resources');
    // "Resources" deeper down is not the list.
    assert.equal(split('{"x": {"Resources": [{"a": 1}]}}'), undefined);
  });

  test('gives up on what only the whole text can describe', () => {
    for (const text of [
      '',
      '   ',
      '{"userName": "ann"}', // one resource
      '[]', // an empty list
      '{"Resources": []}',
      '[1, 2]', // not objects
      '[{"a": 1}, "b"]',
      '[{"a": 1},]', // a trailing comma
      '[{"a": 1} {"b": 2}]', // a missing comma
      '[,{"a": 1}]',
      '[{"a": 1}] x', // text after the root value
      '[{"a": 1}][{"b": 2}]',
      '{"Resources": [{"a": 1}], "Resources": [{"b": 2}]}', // repeated
      '{"Resources": [{"a": 1}], "resources": 5}',
      '{"Resources": [{"a": 1}], "x": }', // a syntax error outside the list
      '{"Resources": {"a": 1}}', // not a list
      '{"Resources": [{"a": 1}]', // unfinished
      '[{"a": "1}]',
    ]) {
      assert.equal(split(text), undefined, text);
    }
  });

  test('an element that is not JSON is left for the caller to find (and fail)', () => {
    const s = new JsonListSplitter();
    const texts: string[] = [];
    s.push('[{"a": tru}, {"b": 1}]', (item) => {
      texts.push(item.text);
      try {
        JSON.parse(item.text);
      } catch {
        s.fail();
      }
    });
    assert.deepEqual(texts, ['{"a": tru}']);
    assert.equal(s.failed, true);
    assert.equal(s.end(), undefined);
  });
});

describe('streamJsonResources', () => {
  const registry = new SchemaRegistry();
  const options = { registry, coreSchema: SCHEMA.USER, allowEmpty: true };
  let dir = '';
  let n = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scimctl-stream-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const file = async (name: string, content: string | Buffer) => {
    const path = join(dir, `${n++}-${name}`);
    await writeFile(path, content);
    return path;
  };
  const stream = async (path: string, format?: 'json' | 'csv') => {
    const records: SourceRecord[] = [];
    const problems: InputProblem[] = [];
    const spans: RecordSpan[] = [];
    const chunks: Buffer[] = [];
    let size = -1;
    const ok = await streamJsonResources(
      path,
      { ...options, format },
      {
        size: (bytes) => (size = bytes),
        bytes: (chunk) => chunks.push(Buffer.from(chunk)),
        record: (r, found, span) => {
          records.push(r);
          problems.push(...found);
          spans.push({ ...span, text: `${span.text}` });
        },
      },
    );
    return { ok, records, problems, spans, size, bytes: Buffer.concat(chunks) };
  };
  const whole = async (path: string, bytes: Buffer) => {
    try {
      return { records: await parseResourceBytes(path, bytes, options), problems: [] };
    } catch (e) {
      if (e instanceof InputError) return { records: [], problems: e.problems };
      throw e;
    }
  };

  test('the records, lines and bytes of a file read whole, across many pieces and multi-byte characters', async () => {
    // Over 1 MiB, so the file comes in several pieces; non-ASCII names put multi-byte characters at piece boundaries.
    const users = Array.from({ length: 12_000 }, (_, i) => ({
      userName: `user${i}@example.com`,
      name: { givenName: `Zoë ${'€'.repeat(i % 7)}`, familyName: `𝄞${i}` },
      active: i % 2 === 0,
    }));
    const text =
      `\uFEFF{"schemas": ["${SCHEMA.LIST_RESPONSE}"],\n"Resources": ` +
      `[\n${users.map((u) => JSON.stringify(u, null, i2(u))).join(',\n')}\n]}\n`;
    const path = await file('users.json', text);
    const got = await stream(path);
    assert.equal(got.ok, true);
    assert.equal(got.size, Buffer.byteLength(text));
    assert.deepEqual(got.bytes, Buffer.from(text));
    const expected = await whole(path, got.bytes);
    assert.equal(got.records.length, 12_000);
    assert.deepEqual(got.records, expected.records);
    assert.deepEqual(got.problems, []);
    // Each record's span: its text, where it is in the file's bytes (after the byte order mark).
    for (const [i, span] of got.spans.entries()) {
      assert.equal(span.bytes, Buffer.byteLength(span.text));
      assert.deepEqual(JSON.parse(got.bytes.toString('utf8', span.offset, span.offset + span.bytes)), users[i]);
    }
  });

  test('problems of the records are those of a whole read', async () => {
    const path = await file(
      'bad.json',
      '[\n{"userName": "ann", "nmae": "Ann"},\n{"userName": "bob"},\n{"userName": "cy", "titel": "Boss"}\n]',
    );
    const got = await stream(path);
    assert.equal(got.ok, true);
    assert.deepEqual(
      got.problems.map((p) => [p.line, p.field]),
      [
        [2, 'nmae'],
        [4, 'titel'],
      ],
    );
    assert.deepEqual(got.problems, (await whole(path, got.bytes)).problems);
  });

  test('leaves to a whole read what it does not take', async () => {
    const cases: Array<[string, string | Buffer, ('json' | 'csv')?]> = [
      ['users.csv', 'userName\nann\n'],
      ['users.json', 'userName\nann\n', 'csv'],
      ['users.txt', 'userName\nann\n'],
      ['broken.json', '[{"userName": "ann"},'],
      ['one.json', '{"userName": "ann"}'],
      ['empty.json', '[]'],
      ['utf16.json', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('[{"userName": "ann"}]', 'utf16le')])],
      ['latin1.json', Buffer.from('[{"userName": "Zo\xeb"}]', 'latin1')],
    ];
    for (const [name, content, format] of cases) {
      assert.equal((await stream(await file(name, content), format)).ok, false, name);
    }
    assert.equal((await stream(join(dir, 'missing.json'))).ok, false);
    // No extension: JSON by its content.
    assert.equal((await stream(await file('users', '[{"userName": "ann"}]'))).ok, true);
  });
});

/** Some records indented, some on one line. */
function i2(u: { active: boolean }): number {
  return u.active ? 0 : 2;
}

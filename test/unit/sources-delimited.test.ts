import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry } from '../../src/api/schema.ts';
import { SCHEMA } from '../../src/api/types.ts';
import { checkHeader, parseDelimited } from '../../src/sources/delimited.ts';
import { InputError, readResourceFile, type InputProblem } from '../../src/sources/resource-file.ts';
import { loadFile, readDelimitedTable } from '../../src/sources/table.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scimctl-delimited-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseDelimited', () => {
  test('rows know the line they start on, past empty lines and quoted line breaks', async () => {
    const parsed = await parseDelimited('a.csv', '\nuserName,displayName\n\nann,"Ann\nA."\nbob,Bob\n', ',');
    assert.equal(parsed.problem, undefined);
    assert.deepEqual(parsed.header, { columns: ['userName', 'displayName'], line: 2 });
    assert.deepEqual(parsed.rows, [
      { line: 4, cells: ['ann', 'Ann\nA.'] },
      { line: 6, cells: ['bob', 'Bob'] },
    ]);
  });

  test('header names are trimmed; a header-only text has no rows', async () => {
    const parsed = await parseDelimited('a.tsv', ' userName \t displayName\n', '\t');
    assert.deepEqual(parsed.header?.columns, ['userName', 'displayName']);
    assert.deepEqual(parsed.rows, []);
  });

  test('blank text is an empty file', async () => {
    assert.deepEqual((await parseDelimited('a.csv', ' \n\n', ',')).problem, {
      file: 'a.csv',
      line: 0,
      message: 'no records: the file is empty',
    });
  });

  test('an unclosed quote is told on the line its row starts, in its column, and no row is kept', async () => {
    const parsed = await parseDelimited('a.csv', 'userName,displayName\nann,Ann\n\nbob,"Bob\ncarl,C\n', ',');
    assert.deepEqual(parsed.rows, []);
    assert.deepEqual(parsed.header?.line, 1);
    assert.deepEqual(parsed.problem, {
      file: 'a.csv',
      line: 4,
      field: 'displayName',
      message: 'a quote opened in this record is still open at the end of the file (line 5)',
    });
  });

  test('a row of the wrong length says how many cells it has; a missing cell names its column', async () => {
    const more = await parseDelimited('a.csv', 'userName,displayName\nann,Ann,x\n', ',');
    assert.deepEqual(more.problem, { file: 'a.csv', line: 2, message: 'the row has 3 cells and the header 2' });
    const fewer = await parseDelimited('a.csv', 'userName,displayName\nann\n', ',');
    assert.deepEqual(fewer.problem, {
      file: 'a.csv',
      line: 2,
      field: 'displayName',
      message: 'the row has 1 cells and the header 2',
    });
  });

  test('a stray quote names the column by its header name, not by its index', async () => {
    const parsed = await parseDelimited('a.csv', 'userName,displayName\nann,Ann "x" y\n', ',');
    assert.equal(parsed.problem?.field, 'displayName');
    assert.equal(
      parsed.problem?.message,
      'Invalid Opening Quote: a quote is found on field "displayName" at line 2, value is "Ann "',
    );
  });

  test('TSV takes quotes inside a cell literally', async () => {
    const parsed = await parseDelimited('a.tsv', 'userName\tdisplayName\nann\tAnn "the" x\n', '\t');
    assert.deepEqual(parsed.rows, [{ line: 2, cells: ['ann', 'Ann "the" x'] }]);
  });
});

describe('checkHeader', () => {
  test(
    'repeats are problems on the header line, named by whose names ignore case; ' + 'unnamed columns are left out',
    () => {
      const header = { columns: ['title', '', 'Title', 'title', 'name'], line: 3 };
      assert.deepEqual(checkHeader('a.csv', header, 'column names'), [
        { column: 'title' },
        {
          column: 'Title',
          problem: {
            file: 'a.csv',
            line: 3,
            field: 'Title',
            message: 'the same column as "title" (column names ignore case)',
          },
        },
        {
          column: 'title',
          problem: { file: 'a.csv', line: 3, field: 'title', message: 'the column appears more than once' },
        },
        { column: 'name' },
      ]);
      assert.match(
        checkHeader('a.csv', header, 'attribute names')[1]!.problem!.message,
        /\(attribute names ignore case\)$/,
      );
    },
  );
});

describe('one reader for resource files and tables', () => {
  const cases = [
    ['unclosed quote', 'userName,displayName\nann,Ann\nbob,"Bob\n'],
    ['too many cells', 'userName,displayName\n\nann,Ann\nbob,Bob,x\n'],
    ['stray quote', 'userName,displayName\nann,"Ann" x\n'],
  ] as const;
  for (const [what, text] of cases) {
    test(`${what}: the same problem from both`, async () => {
      const path = join(dir, `${what.replaceAll(' ', '-')}.csv`);
      await writeFile(path, text);
      const loaded = await loadFile(path);
      assert.ok(!('message' in loaded));
      const fromTable = (await readDelimitedTable(loaded, ',')).problems;
      let fromResourceFile: InputProblem[] = [];
      try {
        await readResourceFile(path, { registry: new SchemaRegistry(), coreSchema: SCHEMA.USER });
      } catch (e) {
        assert.ok(e instanceof InputError);
        fromResourceFile = e.problems;
      }
      assert.equal(fromTable.length, 1);
      assert.deepEqual(fromResourceFile, fromTable);
    });
  }
});

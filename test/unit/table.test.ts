import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import stringWidth from 'string-width';
import { fitWidths, renderTable, renderTsvRow, truncate, type Column } from '../../src/output/table.ts';

interface Row {
  id: string;
  name: string;
}
const columns: Column<Row>[] = [
  { header: 'id', value: (r) => r.id, shrinkable: true, minWidth: 6 },
  { header: 'name', value: (r) => r.name, minWidth: 6 },
];
const rows: Row[] = [
  { id: '2f701d86-3914-4b9c-89b3-d5b6e4aa6f28', name: 'Susan Jackson' },
  { id: 'short', name: '山田 太郎 (Yamada Tarō)' },
];

describe('table', () => {
  test('truncate cuts to a display width with an ellipsis, counting wide characters as two', () => {
    assert.equal(truncate('abcdef', 4), 'abc…');
    assert.equal(truncate('abc', 4), 'abc');
    const cut = truncate('山田太郎', 5);
    assert.ok(stringWidth(cut) <= 5);
    assert.ok(cut.endsWith('…'));
  });

  test('a wide terminal shows everything, aligned', () => {
    const lines = renderTable(rows, columns, 120);
    assert.equal(lines[0]!.startsWith('ID'), true);
    assert.ok(lines[1]!.includes(rows[0]!.id) && lines[1]!.includes('Susan Jackson'));
    const nameAt = lines[0]!.indexOf('NAME');
    assert.equal(stringWidth(lines[1]!.slice(0, lines[1]!.indexOf('Susan'))), nameAt);
  });

  test('a narrow terminal shrinks the shrinkable id column first and never exceeds the width', () => {
    const lines = renderTable(rows, columns, 40);
    for (const line of lines) assert.ok(stringWidth(line) <= 40, `${line} is ${stringWidth(line)} wide`);
    assert.ok(lines[1]!.includes('Susan Jackson'), 'the name column kept its width');
    assert.ok(lines[1]!.includes('…'), 'the id was cut');
  });

  test('fitWidths keeps floors and gives up only when everything is at its floor', () => {
    assert.deepEqual(fitWidths([10, 10], 24), [10, 10]);
    const w = fitWidths([30, 10], 30, [true, false]);
    assert.equal(w[1], 10);
    assert.ok(w[0]! + w[1]! + 2 <= 30);
    assert.deepEqual(fitWidths([8, 8], 5, [], [4, 4]), [4, 4]);
  });

  test('pipe rows are tab-separated and free of tabs and newlines inside cells', () => {
    assert.equal(renderTsvRow({ id: 'a\tb', name: 'x\ny' }, columns), 'a b\tx y');
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { render } from 'ink-testing-library';
import { Table } from '../../src/ui/components/Table.tsx';
import type { Column } from '../../src/output/table.ts';

interface Row {
  n: number;
}
const columns: Column<Row>[] = [
  { header: 'n', value: (r) => `row-${r.n}` },
  { header: 'square', value: (r) => String(r.n * r.n) },
];
const rows: Row[] = Array.from({ length: 10_000 }, (_, n) => ({ n }));

describe('ui Table', () => {
  test('renders only the rows in view', () => {
    const { lastFrame, unmount } = render(
      <Table rows={rows} columns={columns} width={40} height={6} offset={500} selected={502} />,
    );
    const frame = lastFrame() ?? '';
    const lines = frame.split('\n');
    assert.equal(lines.length, 6);
    assert.match(lines[0]!, /N\s+SQUARE/);
    assert.match(frame, /row-500\s+250000/);
    assert.match(frame, /row-504/);
    assert.doesNotMatch(frame, /row-505|row-499/);
    unmount();
  });
});

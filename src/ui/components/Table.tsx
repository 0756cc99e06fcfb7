/**
 * A virtualized table for the TUI: renders only the rows in view, with the same
 * column fitting as the plain-terminal tables (src/output/table.ts).
 */
import { Box, Text } from 'ink';
import { renderTable, type Column } from '../../output/table.ts';

export interface TableProps<T> {
  rows: readonly T[];
  columns: readonly Column<T>[];
  /** Width in cells. */
  width: number;
  /** Height in lines, header included. */
  height: number;
  /** Index of the first row in view. */
  offset: number;
  /** Index of the highlighted row, if any. */
  selected?: number;
  /** The column the rows are sorted by (its header), marked ▲ ascending or ▼ descending. */
  sort?: { header: string; desc: boolean };
}

export function Table<T>({ rows, columns, width, height, offset, selected, sort }: TableProps<T>) {
  const visible = rows.slice(offset, offset + Math.max(0, height - 1));
  const marked = sort
    ? columns.map((c) => (c.header === sort.header ? { ...c, header: `${c.header} ${sort.desc ? '▼' : '▲'}` } : c))
    : columns;
  const [header, ...lines] = renderTable(visible, marked, width);
  return (
    <Box flexDirection="column" width={width}>
      <Text bold>{header}</Text>
      {lines.map((line, i) => (
        <Text key={offset + i} inverse={offset + i === selected} wrap="truncate">
          {line}
        </Text>
      ))}
    </Box>
  );
}

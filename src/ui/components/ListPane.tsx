/** The users, groups or runs list: the rows in view of the list's window. */
import { Text } from 'ink';
import type { ScimUser } from '../../api/types.ts';
import { GROUP_COLUMNS, USER_COLUMNS } from '../../output/resources.ts';
import { RUN_TAB_COLUMNS as RUN_COLUMNS } from '../../output/runs.ts';
import { safeText } from '../../output/safe-text.ts';
import type { Column } from '../../output/table.ts';
import type { Tab } from '../state/app.ts';
import type { ListState } from '../state/list.ts';
import { Table } from './Table.tsx';

const ACTIVE_USER_COLUMNS: Column<ScimUser>[] = USER_COLUMNS.map((c) =>
  c.header === 'active' ? { ...c, value: (u: ScimUser) => (u.active === false ? '✗ no' : 'yes') } : c,
);

const COLUMNS: Record<Tab, Column<unknown>[]> = {
  users: ACTIVE_USER_COLUMNS as Column<unknown>[],
  groups: GROUP_COLUMNS as Column<unknown>[],
  runs: RUN_COLUMNS as Column<unknown>[],
};

export interface ListPaneProps {
  what: Tab;
  list: ListState<unknown>;
  width: number;
  /** Lines, the table's header included. */
  height: number;
  color: boolean;
  /** The column sorted by, and which way. */
  sort?: { header: string; desc: boolean };
}

export function ListPane({ what, list, width, height, color, sort }: ListPaneProps) {
  if (list.error && list.items.length === 0)
    return <Text color={color ? 'red' : undefined}>{safeText(list.error)}</Text>;
  if (list.items.length === 0) return <Text dimColor>{list.loading ? `loading ${what}…` : `no ${what}`}</Text>;
  const rows = list.visible.slice(list.offset, list.offset + height - 1).map((i) => list.items[i]);
  return (
    <Table
      rows={rows}
      columns={COLUMNS[what]}
      width={width}
      height={height}
      offset={0}
      selected={list.selected - list.offset}
      sort={sort}
    />
  );
}

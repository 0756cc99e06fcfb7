/** The users, groups or runs list: the rows in view of the list's window. */
import { Text } from 'ink';
import { primaryEmail, type ScimGroup, type ScimUser } from '../../api/types.ts';
import { RUN_TAB_COLUMNS as RUN_COLUMNS } from '../../output/runs.ts';
import { safeText } from '../../output/safe-text.ts';
import type { Column } from '../../output/table.ts';
import type { Tab } from '../state/app.ts';
import type { ListState } from '../state/list.ts';
import { Table } from './Table.tsx';

/**
 * The explorer's lists lead with what a person recognises: the userName in full (the e-mail only when it says
 * something else), the group's name; ids only on demand (`I`), last. Widths follow the rows in view, up to a cap.
 * The CLI tables keep their own columns (src/output/resources.ts).
 */
const ID_COLUMN: Column<{ id: string }> = { header: 'id', value: (r) => r.id, shrinkable: true, minWidth: 8 };

const emailIfOther = (u: ScimUser): string => {
  const email = primaryEmail(u) ?? '';
  return email.toLowerCase() === (u.userName ?? '').toLowerCase() ? '' : email;
};

const USER_LIST_COLUMNS: Column<ScimUser>[] = [
  { header: 'userName', value: (u) => u.userName ?? '', minWidth: 32, maxWidth: 64 },
  { header: 'displayName', value: (u) => u.displayName ?? '', shrinkable: true, minWidth: 8, maxWidth: 32 },
  { header: 'email', value: emailIfOther, shrinkable: true, minWidth: 12, maxWidth: 40, omitWhenEmpty: true },
  { header: 'active', value: (u) => (u.active === false ? '✗ no' : 'yes'), minWidth: 6 },
];

const GROUP_LIST_COLUMNS: Column<ScimGroup>[] = [
  { header: 'displayName', value: (g) => g.displayName ?? '', minWidth: 32, maxWidth: 64 },
  { header: 'members', value: (g) => (Array.isArray(g.members) ? String(g.members.length) : ''), minWidth: 7 },
];

const COLUMNS: Record<Tab, Column<unknown>[]> = {
  users: USER_LIST_COLUMNS as Column<unknown>[],
  groups: GROUP_LIST_COLUMNS as Column<unknown>[],
  runs: RUN_COLUMNS as Column<unknown>[],
};
const WITH_IDS: Record<Tab, Column<unknown>[]> = {
  users: [...COLUMNS.users, ID_COLUMN as Column<unknown>],
  groups: [...COLUMNS.groups, ID_COLUMN as Column<unknown>],
  runs: COLUMNS.runs,
};

export interface ListPaneProps {
  what: Tab;
  list: ListState<unknown>;
  width: number;
  /** Lines, the table's header included. */
  height: number;
  color: boolean;
  /** An id column, last (the `I` key). */
  showIds?: boolean;
  /** The column sorted by, and which way. */
  sort?: { header: string; desc: boolean };
  /** The first load is retrying a server that does not answer: said instead of an empty list. */
  connecting?: { attempt: number; attempts: number };
}

/** "connecting… attempt 3/5": the explorer's first load retrying a server that does not answer. */
export const connectingText = (c: { attempt: number; attempts: number }) =>
  `connecting… attempt ${c.attempt}/${c.attempts}`;

export function ListPane({ what, list, width, height, color, showIds = false, sort, connecting }: ListPaneProps) {
  if (list.error && list.items.length === 0)
    return <Text color={color ? 'red' : undefined}>{safeText(list.error)}</Text>;
  if (list.items.length === 0 && list.loading && connecting)
    return (
      <Text
        color={color ? 'yellow' : undefined}
      >{`${connectingText(connecting)} (the server does not answer yet)`}</Text>
    );
  if (list.items.length === 0) return <Text dimColor>{list.loading ? `loading ${what}…` : `no ${what}`}</Text>;
  const rows = list.visible.slice(list.offset, list.offset + height - 1).map((i) => list.items[i]);
  return (
    <Table
      rows={rows}
      columns={(showIds ? WITH_IDS : COLUMNS)[what]}
      width={width}
      height={height}
      offset={0}
      selected={list.selected - list.offset}
      sort={sort}
    />
  );
}

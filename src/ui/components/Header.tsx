/** The top line: profile and URL, then the tabs with their counts (or the plan review's title and findings). */
import { Box, Text } from 'ink';
import { padEnd, truncate } from '../../output/table.ts';
import { keyLabel } from '../keys.ts';
import { connectingText } from './ListPane.tsx';
import type { Tab } from '../state/app.ts';
import type { ListState } from '../state/list.ts';

export interface HeaderProps {
  columns: number;
  profile: string;
  url: string;
  tab: Tab;
  lists: Record<Tab, ListState<unknown>>;
  /**
   * In the plan review: how many problems and notes the plan has, and how many of its included changes remove
   * something (the review's title replaces the tabs).
   */
  review?: { problems: number; notes: number; removals?: number };
  /** The first load is retrying a server that does not answer: said in place of the tabs. */
  connecting?: { attempt: number; attempts: number };
}

const count = (l: ListState<unknown>) =>
  // Not listed yet: the server's count.
  l.items.length === 0 && !l.loading && l.total !== undefined
    ? l.total.toLocaleString('en-US')
    : `${l.items.length.toLocaleString('en-US')}${ofTotal(l)}${l.loading ? '…' : ''}`;
const ofTotal = (l: ListState<unknown>) =>
  l.total !== undefined && l.total > l.items.length ? `/${l.total.toLocaleString('en-US')}` : '';
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function reviewTitle({
  problems,
  notes,
  removals = 0,
}: {
  problems: number;
  notes: number;
  removals?: number;
}): string {
  return [
    'plan review',
    problems ? plural(problems, 'problem') : '',
    notes ? plural(notes, 'note') : '',
    removals ? `⚠ ${plural(removals, 'removal')}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

export function Header({ columns, profile, url, tab, lists, review, connecting }: HeaderProps) {
  const tabText = (name: Tab, key: string) =>
    tab === name ? `[${key} ${name} ${count(lists[name])}]` : ` ${key} ${name} ${count(lists[name])} `;
  const left = `scimctl  ${profile}  ${url}`;
  const tabs = review
    ? reviewTitle(review)
    : connecting
      ? connectingText(connecting)
      : [
          tabText('users', keyLabel('users', 'showUsers')),
          tabText('groups', keyLabel('users', 'showGroups')),
          tabText('runs', keyLabel('users', 'showRuns')),
        ].join('');
  return (
    <Box>
      <Text bold wrap="truncate">
        {/* The URL gives way first: the tabs carry the counts. */}
        {truncate(
          `${padEnd(truncate(left, Math.max(1, columns - tabs.length - 1)), Math.max(0, columns - tabs.length - 1))} ` +
            `${tabs}`,
          columns,
        )}
      </Text>
    </Box>
  );
}

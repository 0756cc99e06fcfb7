/** The two bottom lines: the status (or the search being typed, or the filter in force) and the key hints. */
import { Box, Text } from 'ink';
import { truncate } from '../../output/table.ts';
import { keyLabel } from '../keys.ts';

export interface FooterProps {
  columns: number;
  color: boolean;
  status?: { text: string; level: 'info' | 'error' };
  /** The hints of the current view (hintsFor). */
  hints: string;
  /** The search prompt, while it is open: what is typed, and how many rows match. */
  search?: { input: string; matches: number; loading: boolean };
  /** The filter the list keeps after a search. */
  filter?: { query: string; shown: number };
}

export function Footer({ columns, color, status, hints, search, filter }: FooterProps) {
  const line = search
    ? `/${search.input}▏  (${search.matches.toLocaleString('en-US')} ` +
      `match${search.loading ? ', still loading: the server is asked too' : ''}; ` +
      `${keyLabel('prompt', 'submit')} keeps, ${keyLabel('prompt', 'cancel')} closes)`
    : status
      ? `${!color && status.level === 'error' ? 'error: ' : ''}${status.text}`
      : filter
        ? `filter: ${filter.query} (${filter.shown} shown; ${keyLabel('users', 'search')} to change)`
        : '';
  return (
    <Box flexDirection="column">
      <Text color={color && status?.level === 'error' && !search ? 'red' : undefined} wrap="truncate">
        {truncate(line, columns)}
      </Text>
      <Text dimColor wrap="truncate">
        {truncate(hints, columns)}
      </Text>
    </Box>
  );
}

/** Choosing a group to add the user to, or remove it from: type to narrow, Enter to choose. */
import { Box, Text } from 'ink';
import { truncate } from '../../output/table.ts';
import { keyHint } from '../keys.ts';

export interface GroupPickerProps {
  add: boolean;
  query: string;
  selected: number;
  groups: Array<{ id: string; displayName: string }>;
  width: number;
  /** Most groups listed at once. */
  height: number;
}

export function GroupPicker({ add, query, selected, groups, width, height }: GroupPickerProps) {
  const matches = groups.filter((g) => g.displayName.toLowerCase().includes(query.toLowerCase()));
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold>
        {`${add ? 'Add to group' : 'Remove from group'} (type to filter, ` +
          `${keyHint('pickGroup', 'submit', 'choose')}, ` +
          `${keyHint('pickGroup', 'cancel')})`}
      </Text>
      <Text>{`> ${query}`}</Text>
      {matches.slice(0, height).map((g, i) => (
        <Text key={g.id} inverse={i === selected}>
          {truncate(g.displayName, width - 4)}
        </Text>
      ))}
      {matches.length === 0 ? (
        <Text dimColor>{groups.length === 0 ? 'loading groups…' : 'no group matches'}</Text>
      ) : null}
    </Box>
  );
}

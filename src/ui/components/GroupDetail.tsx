/** An open group: its name and id, then its members as a table. */
import { Box, Text } from 'ink';
import type { ScimGroup } from '../../api/types.ts';
import { MEMBER_COLUMNS } from '../../output/resources.ts';
import { truncate } from '../../output/table.ts';
import { Table } from './Table.tsx';

export interface GroupDetailProps {
  /** Undefined until it is read. */
  group?: ScimGroup;
  scroll: number;
  width: number;
  height: number;
}

export function GroupDetail({ group, scroll, width, height }: GroupDetailProps) {
  if (!group) return <Text dimColor>loading…</Text>;
  const members = group.members ?? [];
  const head = [`displayName  ${group.displayName}`, `id           ${group.id}`, `members      ${members.length}`];
  const top = Math.min(scroll, Math.max(0, members.length - 1));
  return (
    <Box flexDirection="column">
      {head.map((l) => (
        <Text key={l} wrap="truncate">
          {truncate(l, width)}
        </Text>
      ))}
      <Table
        rows={members}
        columns={MEMBER_COLUMNS}
        width={width}
        height={Math.max(2, height - head.length)}
        offset={top}
      />
    </Box>
  );
}

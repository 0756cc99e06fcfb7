/** An open user: every attribute, then its groups. */
import { Box, Text } from 'ink';
import { SCHEMA, type ScimUser } from '../../api/types.ts';
import { truncate } from '../../output/table.ts';
import { detailLines } from './detail-lines.ts';

export interface UserDetailProps {
  /** Undefined until it is read. */
  user?: ScimUser;
  scroll: number;
  width: number;
  height: number;
}

export function UserDetail({ user, scroll, width, height }: UserDetailProps) {
  if (!user) return <Text dimColor>loading…</Text>;
  const groups = (user.groups ?? []).map(
    (g) => `  ${g.display ?? g.value}${g.type && g.type !== 'direct' ? ` (${g.type})` : ''}`,
  );
  const lines = [
    ...detailLines(user, SCHEMA.USER),
    '',
    `groups (${groups.length}):`,
    ...(groups.length ? groups : ['  (none, or the server does not list them)']),
  ];
  const top = Math.min(scroll, Math.max(0, lines.length - height));
  return (
    <Box flexDirection="column">
      {lines.slice(top, top + height).map((l, i) => (
        <Text key={i} wrap="truncate">
          {truncate(l, width)}
        </Text>
      ))}
    </Box>
  );
}

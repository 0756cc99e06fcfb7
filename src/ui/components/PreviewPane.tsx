/** The detail pane beside (or instead of) the list: the selected row at once, every attribute once read. */
import { Box, Text } from 'ink';
import { SCHEMA, type ScimGroup, type ScimUser } from '../../api/types.ts';
import { truncate } from '../../output/table.ts';
import { detailLines } from './detail-lines.ts';

const groupNames = (user: ScimUser) => (user.groups ?? []).map((g) => g.display ?? g.value).join(', ');

export interface PreviewPaneProps {
  what: 'users' | 'groups';
  /** The selected row, or all of it once read; undefined when nothing is selected. */
  resource?: ScimUser | ScimGroup;
  scroll: number;
  width: number;
  height: number;
}

export function PreviewPane({ what, resource, scroll, width, height }: PreviewPaneProps) {
  if (!resource) return <Text dimColor>nothing selected</Text>;
  const lines =
    what === 'users'
      ? [
          ...detailLines(resource as ScimUser, SCHEMA.USER)
            .filter((l) => !/^(schemas|meta\.)/.test(l))
            .map((l) => l.replace(/^(\S+)\s+/, '$1  ')),
          '',
          `groups: ${groupNames(resource as ScimUser) || '(none listed)'}`,
        ]
      : [
          `displayName  ${(resource as ScimGroup).displayName}`,
          `members      ${(resource as ScimGroup).members?.length ?? 0}`,
          ...((resource as ScimGroup).members ?? []).map((m) => `  ${m.display ?? m.value}`),
        ];
  const top = Math.min(scroll, Math.max(0, lines.length - height));
  return (
    <Box flexDirection="column" width={width}>
      {lines.slice(top, top + height).map((l, i) => (
        <Text key={i} wrap="truncate">
          {truncate(l, width)}
        </Text>
      ))}
    </Box>
  );
}

/** The new-user and edit forms: one line per field, the focused one highlighted. */
import { Box, Text } from 'ink';
import { safeText } from '../../output/safe-text.ts';
import { padEnd, truncate } from '../../output/table.ts';
import { keyHint } from '../keys.ts';

export interface FormDialogProps {
  purpose: 'create' | 'edit';
  title: string;
  /** `error`: why the server or the schema refused the value, shown beside it. */
  fields: Array<{ label: string; value: string; error?: string }>;
  focus: number;
  width: number;
  color?: boolean;
}

export function FormDialog({ purpose, title, fields, focus, width, color = true }: FormDialogProps) {
  const keys = [
    keyHint('form', 'nextField'),
    keyHint('form', 'prevField', 'back'),
    keyHint('form', 'clearField'),
    keyHint('form', 'submit', purpose === 'create' ? 'create' : 'save'),
    keyHint('form', 'cancel'),
  ];
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold>{`${safeText(title)} (${keys.join(', ')})`}</Text>
      {fields.map((f, i) => (
        <Box key={`${f.label}`}>
          <Text inverse={i === focus} wrap="truncate">
            {truncate(`${padEnd(f.label, 14)} ${f.value}`, f.error ? Math.max(20, (width - 4) >> 1) : width - 4)}
          </Text>
          {f.error ? (
            <Text color={color ? 'red' : undefined} wrap="truncate">
              {truncate(`  ✗ ${safeText(f.error)}`, Math.max(1, width - 4 - Math.max(20, (width - 4) >> 1)))}
            </Text>
          ) : null}
        </Box>
      ))}
      {purpose === 'edit' ? (
        <Text dimColor>
          {truncate(
            'An emptied field removes the attribute; "other" takes any PATH=VALUE (checked against the server schema).',
            width - 4,
          )}
        </Text>
      ) : null}
    </Box>
  );
}

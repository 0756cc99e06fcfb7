/** The new-user and edit forms: one line per field, the focused one highlighted. */
import { Box, Text } from 'ink';
import { safeText } from '../../output/safe-text.ts';
import { padEnd, truncate } from '../../output/table.ts';
import { keyHint } from '../keys.ts';

export interface FormDialogProps {
  purpose: 'create' | 'edit';
  title: string;
  fields: Array<{ label: string; value: string }>;
  focus: number;
  width: number;
}

export function FormDialog({ purpose, title, fields, focus, width }: FormDialogProps) {
  const keys = [
    keyHint('form', 'nextField'),
    keyHint('form', 'clearField'),
    keyHint('form', 'submit', purpose === 'create' ? 'create' : 'save'),
    keyHint('form', 'cancel'),
  ];
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold>{`${safeText(title)} (${keys.join(', ')})`}</Text>
      {fields.map((f, i) => (
        <Text key={`${f.label}`} inverse={i === focus} wrap="truncate">
          {truncate(`${padEnd(f.label, 14)} ${f.value}`, width - 4)}
        </Text>
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

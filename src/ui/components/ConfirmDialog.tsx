/** A confirmation to be typed ("yes") before something that cannot be undone. */
import { Box, Text } from 'ink';
import { safeText } from '../../output/safe-text.ts';
import { truncate } from '../../output/table.ts';
import { commandLabel, keyLabel } from '../keys.ts';

export interface ConfirmDialogProps {
  title: string;
  lines: string[];
  /** What must be typed. */
  expected: string;
  input: string;
  width: number;
}

export function ConfirmDialog({ title, lines, expected, input, width }: ConfirmDialogProps) {
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold>{safeText(title)}</Text>
      {lines.map((l, i) => (
        <Text key={i}>{truncate(l, width - 4)}</Text>
      ))}
      <Text>
        {`Type "${expected}" and ${keyLabel('confirm', 'submit')} to ` +
          `${commandLabel('confirm', 'submit')}, ${keyLabel('confirm', 'cancel')} to ` +
          `${commandLabel('confirm', 'cancel')}: ${input}`}
      </Text>
    </Box>
  );
}

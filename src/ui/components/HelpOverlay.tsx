/** The key table of the view help was opened in, read from src/ui/keys.ts. */
import { Box, Text } from 'ink';
import { padEnd, truncate } from '../../output/table.ts';
import { bindingsFor, type ViewContext } from '../keys.ts';

export interface HelpOverlayProps {
  view: ViewContext;
  columns: number;
  rows: number;
}

export function HelpOverlay({ view, columns: w, rows }: HelpOverlayProps) {
  // The keys of the view help was opened in: the whole table does not fit a terminal 24 or 30
  // rows high, and lines that do not fit are silently dropped. Two columns when even these do not fit.
  const here = bindingsFor(view);
  const room = Math.max(1, rows - 4);
  const split = here.length > room ? Math.ceil(here.length / 2) : here.length;
  const columns = split < here.length ? [here.slice(0, split), here.slice(split)] : [here];
  const width = Math.floor(w / columns.length);
  return (
    <Box flexDirection="column">
      <Text bold>{`Keys (${view})`}</Text>
      <Box>
        {columns.map((bindings, c) => (
          <Box key={c} flexDirection="column" width={width}>
            {bindings.map((b) => (
              <Text key={`${b.command}-${b.keys.join()}`} wrap="truncate">
                {truncate(
                  `${padEnd(b.keys.map((k) => (k === ' ' ? 'space' : k)).join(', '), 24)} ${b.label}`,
                  width - 1,
                )}
              </Text>
            ))}
          </Box>
        ))}
      </Box>
    </Box>
  );
}

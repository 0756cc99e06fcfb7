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
  const keysOf = (b: (typeof here)[number]) => b.keys.map((k) => (k === ' ' ? 'space' : k)).join(', ');
  // Each column as wide as its own keys and labels (two columns of 80 cells hold them in full); cut only beyond.
  const layout = columns.map((bindings) => {
    const keyWidth = Math.max(...bindings.map((b) => keysOf(b).length));
    return { bindings, keyWidth, width: keyWidth + 1 + Math.max(...bindings.map((b) => b.label.length)) + 2 };
  });
  const natural = layout.reduce((sum, c) => sum + c.width, 0) <= w;
  return (
    <Box flexDirection="column">
      <Text bold>{`Keys (${view})`}</Text>
      <Box>
        {layout.map(({ bindings, keyWidth, width: own }, c) => {
          const width = natural ? own : Math.floor(w / columns.length);
          return (
            <Box key={c} flexDirection="column" width={width}>
              {bindings.map((b) => (
                <Text key={`${b.command}-${b.keys.join()}`} wrap="truncate">
                  {truncate(`${padEnd(keysOf(b), natural ? keyWidth : 24)} ${b.label}`, width - 1)}
                </Text>
              ))}
            </Box>
          );
        })}
      </Box>
    </Box>
  );
}

/**
 * Colour for the command line's text output, where colour is on (a terminal, no NO_COLOR, no
 * --no-color: IOStreams.color). Applied after text is made safe: the escapes are ours.
 */
import type { IOStreams } from './iostreams.ts';

const sgr = (open: number, close: number) => (on: boolean, text: string) =>
  on && text !== '' ? `\x1b[${open}m${text}\x1b[${close}m` : text;

export const red = sgr(31, 39);
export const green = sgr(32, 39);
export const yellow = sgr(33, 39);
export const dim = sgr(2, 22);

/** Whether what goes to stderr is coloured: decided by stderr itself (a terminal there), not by stdout. */
export function stderrColour(io: Pick<IOStreams, 'color' | 'isStderrTTY' | 'stderrColor'>): boolean {
  return io.stderrColor ?? (io.color && io.isStderrTTY);
}

/** The labels that start a message on stderr, coloured: `error:` red, `warning:` yellow. */
export function colourLabel(on: boolean, text: string): string {
  return text.replace(/^(error|warning):/, (label, kind: string) => (kind === 'error' ? red : yellow)(on, label));
}

/** A result's mark: ✓ green, ✗ red; the rest as it is. */
export function colourMark(on: boolean, text: string): string {
  return text.replace(/^([✓✗])/, (mark) => (mark === '✓' ? green : red)(on, mark));
}

/** A plan's lines coloured by their mark: + green (create, add), ~ yellow (update), - red (removal), ! yellow. */
export function colourPlanLines(on: boolean, lines: readonly string[]): string[] {
  if (!on) return [...lines];
  return lines.map((line) => {
    const mark = /^\s*([-+~!])\s/.exec(line)?.[1];
    if (mark === '+') return green(on, line);
    if (mark === '-') return red(on, line);
    if (mark === '~' || mark === '!') return yellow(on, line);
    return line;
  });
}

/**
 * Synchronized output (DEC private mode 2026): the TUI (Ink) wraps each frame in CSI ? 2026 h … CSI ? 2026 l,
 * and a terminal shows the screen only outside them. A harness reading a virtual screen must do the same, and must
 * follow the marks as the terminal's parser sees them: the pty hands output over in chunks of about 2 KiB, cut
 * anywhere, so a mark may arrive split across two chunks ("…\x1b[" then "?2026l"). Searching each chunk for the
 * marks misses those, and the frame then looks unfinished (or a half-drawn frame looks finished).
 */
import type xtermHeadless from '@xterm/headless';

type Term = InstanceType<typeof xtermHeadless.Terminal>;

export interface SynchronizedOutput {
  /** Between CSI ? 2026 h and CSI ? 2026 l, as parsed so far: the screen may hold part of a frame. */
  readonly inFrame: boolean;
}

/** Follows mode 2026 in `term`'s parser (call before writing to it). */
export function trackSynchronizedOutput(term: Term): SynchronizedOutput {
  const state = { inFrame: false };
  for (const final of ['h', 'l'] as const) {
    term.parser.registerCsiHandler({ prefix: '?', final }, (params) => {
      if (params.includes(2026)) state.inFrame = final === 'h';
      return false; // xterm handles the sequence as usual
    });
  }
  return state;
}

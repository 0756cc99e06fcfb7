/**
 * A progress line on stderr, only when stderr is a terminal: "Exporting users  1,200/10,000  ████░░░░ 12%".
 * Redrawn at most ten times a second; cleared when done so results stay clean.
 */
import type { IOStreams } from './iostreams.ts';

export interface ProgressReporter {
  update(done: number, total?: number): void;
  finish(): void;
}

const noop: ProgressReporter = { update() {}, finish() {} };
let numberFormat: Intl.NumberFormat | undefined;
const fmt = { format: (n: number) => (numberFormat ??= new Intl.NumberFormat('en-US')).format(n) };

export function progressBar(io: IOStreams, label: string, now: () => number = Date.now): ProgressReporter {
  if (!io.isStderrTTY) return noop;
  let last = 0;
  let shown = false;
  let finished = false;
  const draw = (done: number, total?: number) => {
    let text = `${label}  ${fmt.format(done)}`;
    if (total !== undefined && total > 0) {
      const ratio = Math.min(1, done / total);
      const width = 20;
      const filled = Math.round(ratio * width);
      text += `/${fmt.format(total)}  ${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${Math.floor(ratio * 100)}%`;
    }
    io.stderr.write(`\r\x1b[2K${text}`);
    shown = true;
  };
  return {
    update(done, total) {
      if (finished) return;
      const t = now();
      if (t - last < 100) return;
      last = t;
      draw(done, total);
    },
    /** Clears the line for good: later updates are ignored. */
    finish() {
      finished = true;
      if (shown) io.stderr.write('\r\x1b[2K');
      shown = false;
    },
  };
}

export interface StatusLine {
  /**
   * Shows `text` as the state now: rewritten in place on a terminal (cut to its width, and taken
   * off after `forMs` if given), a line of its own elsewhere.
   */
  show(text: string, forMs?: number): void;
  /** Takes a shown text off the terminal (nothing elsewhere: its line stays, as a log line). */
  clear(): void;
}

/**
 * One status line for a state that changes ("connecting… attempt 3/5"): on a terminal it is
 * rewritten in place (\r) and cleared by clear(); without one, each text is a line of its own.
 */
export function statusLine(io: IOStreams): StatusLine {
  let shown = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const line: StatusLine = {
    show(text, forMs) {
      if (!io.isStderrTTY) {
        io.stderr.write(`${text}\n`);
        return;
      }
      // One line, so that \r rewrites all of it (a wrapped line would leave its first part behind).
      const width = Math.max(10, (io.stderr.columns || io.columns || 80) - 1);
      io.stderr.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
      shown = true;
      clearTimeout(timer);
      // The line is taken off when what it tells is over (the process never waits for that).
      if (forMs !== undefined) timer = setTimeout(line.clear, forMs).unref();
    },
    clear() {
      clearTimeout(timer);
      if (shown) io.stderr.write('\r\x1b[2K');
      shown = false;
    },
  };
  return line;
}

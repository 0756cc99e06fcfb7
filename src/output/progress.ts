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

/**
 * The terminal as scimctl sees it: where results and messages go, whether each
 * stream is a terminal, colour (off for pipes and with NO_COLOR), and whether
 * prompting is possible. Commands write through this, never to process.* directly.
 */
import type { Readable, Writable } from 'node:stream';

export interface IOStreams {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean; columns?: number };
  /** Results go to stdout as a table (TTY) or stable tab-separated columns (pipe). */
  isStdoutTTY: boolean;
  /** Progress and spinners only when stderr is a terminal. */
  isStderrTTY: boolean;
  /** Colour on stdout: a terminal, no NO_COLOR, no --no-color, a TERM that is not dumb. */
  color: boolean;
  /** Colour on stderr, decided the same way for that stream (unset: colour on stdout and stderr a terminal). */
  stderrColor?: boolean;
  /** Width for tables on a terminal. */
  columns: number;
  /** A prompt needs a terminal on both ends; CI=true never prompts. */
  canPrompt: boolean;
}

export function systemStreams(env: Record<string, string | undefined> = process.env): IOStreams {
  const isStdoutTTY = !!process.stdout.isTTY;
  const isStderrTTY = !!process.stderr.isTTY;
  const noColor = (env.NO_COLOR !== undefined && env.NO_COLOR !== '') || env.TERM === 'dumb';
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    isStdoutTTY,
    isStderrTTY,
    color: isStdoutTTY && !noColor,
    stderrColor: isStderrTTY && !noColor,
    columns: process.stdout.columns || Number(env.COLUMNS) || 80,
    canPrompt: !!process.stdin.isTTY && isStdoutTTY && !env.CI,
  };
}

/** Writes a chunk and waits for the stream to drain when its buffer is full (flat memory for big outputs). */
export function writeChunk(stream: Writable, chunk: string): Promise<void> | void {
  if (!stream.write(chunk)) {
    return new Promise((resolve, reject) => {
      const done = (err?: Error) => {
        stream.off('drain', done);
        stream.off('error', done);
        if (err) reject(err);
        else resolve();
      };
      stream.once('drain', done);
      stream.once('error', done);
    });
  }
}

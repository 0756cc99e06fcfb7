/**
 * Drives the built scimctl binary in a real pseudo-terminal (@lydell/node-pty) and
 * keeps a virtual screen of what it draws (@xterm/headless), so tests can read the
 * screen the way an admin sees it: which buffer is active, what each row says,
 * whether the cursor is shown.
 */
import { spawn, type IPty } from '@lydell/node-pty';
import xtermHeadless from '@xterm/headless';
import { trackSynchronizedOutput, type SynchronizedOutput } from '../support/sync-output.ts';
import { BIN, ROOT } from './helpers.ts';

const { Terminal } = xtermHeadless;
type Term = InstanceType<typeof Terminal>;

export interface PtyExit {
  exitCode: number;
  signal?: number;
}

export interface PtyOptions {
  cols?: number;
  rows?: number;
  env?: Record<string, string | undefined>;
  /** Written to the terminal (the normal buffer) before the program starts, as a shell would have. */
  before?: string;
}

/** Polls a condition until it holds, failing after a deadline with a description of what was awaited. */
export async function waitFor(
  predicate: () => boolean,
  timeoutMs = 10_000,
  describe: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms${describe() ? `\n${describe()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

export class PtyApp {
  readonly term: Term;
  readonly proc: IPty;
  /** Everything the program wrote, raw. */
  raw = '';
  exited: PtyExit | undefined;
  readonly exit: Promise<PtyExit>;
  /** Data handed to xterm whose parsing has not finished yet. */
  private pending = 0;
  private cursorHidden = false;
  /** Frames in synchronized-output marks: inside one, the screen may be half drawn. */
  private readonly sync: SynchronizedOutput;

  constructor(args: string[], options: PtyOptions = {}) {
    const cols = options.cols ?? 100;
    const rows = options.rows ?? 30;
    this.term = new Terminal({ cols, rows, allowProposedApi: true, scrollback: 1000 });
    this.sync = trackSynchronizedOutput(this.term);
    // DECTCEM (CSI ? 25 h / l): xterm keeps the cursor's visibility to itself, so watch for it.
    for (const final of ['h', 'l'] as const) {
      this.term.parser.registerCsiHandler({ prefix: '?', final }, (params) => {
        if (params.includes(25)) this.cursorHidden = final === 'l';
        return false; // xterm handles the sequence as usual
      });
    }
    if (options.before) this.feed(options.before);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) {
      // CI=true makes Ink draw only the last frame; a developer's own scimctl settings must not leak in.
      if (v !== undefined && !k.startsWith('SCIMCTL_') && k !== 'CI' && k !== 'CONTINUOUS_INTEGRATION') env[k] = v;
    }
    env.TERM = 'xterm-256color';
    for (const [k, v] of Object.entries(options.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    this.proc = spawn(process.execPath, [BIN, ...args], { name: 'xterm-256color', cols, rows, cwd: ROOT, env });
    this.proc.onData((data) => {
      this.raw += data;
      this.feed(data);
    });
    this.exit = new Promise((resolve) => {
      this.proc.onExit((e) => {
        this.exited = e;
        resolve(e);
      });
    });
  }

  private feed(data: string): void {
    this.pending++;
    this.term.write(data, () => this.pending--);
  }

  /**
   * Whether xterm has parsed everything received so far and the screen holds a whole frame (not inside
   * synchronized-output marks, which a pty chunk may cut anywhere; a program that exited draws no more).
   */
  get settled(): boolean {
    return this.pending === 0 && (!this.sync.inFrame || this.exited !== undefined);
  }

  get cols(): number {
    return this.term.cols;
  }

  get rows(): number {
    return this.term.rows;
  }

  get bufferType(): 'normal' | 'alternate' {
    return this.term.buffer.active.type;
  }

  get cursorVisible(): boolean {
    return !this.cursorHidden;
  }

  /** The rows in view of the active buffer, trailing blanks trimmed. */
  lines(): string[] {
    const buffer = this.term.buffer.active;
    const out: string[] = [];
    for (let i = 0; i < this.term.rows; i++)
      out.push(buffer.getLine(buffer.viewportY + i)?.translateToString(true) ?? '');
    return out;
  }

  /** The normal buffer's rows (scrollback included), trailing blanks trimmed. */
  normalLines(): string[] {
    const buffer = this.term.buffer.normal;
    const out: string[] = [];
    for (let i = 0; i < buffer.length; i++) out.push(buffer.getLine(i)?.translateToString(true) ?? '');
    return out;
  }

  /** Rows of the screen drawn in inverse video (the TUI's selection). */
  inverseRows(): number[] {
    const buffer = this.term.buffer.active;
    const out: number[] = [];
    for (let i = 0; i < this.term.rows; i++) {
      const line = buffer.getLine(buffer.viewportY + i);
      const text = line?.translateToString(true) ?? '';
      const first = text.search(/\S/);
      if (line && first >= 0 && line.getCell(first)?.isInverse()) out.push(i);
    }
    return out;
  }

  screen(): string {
    return this.lines().join('\n');
  }

  /** Waits until the screen (parsed to the end) satisfies the predicate. */
  async waitForScreen(predicate: (screen: string, lines: string[]) => boolean, timeoutMs = 10_000): Promise<void> {
    await waitFor(
      () => this.settled && predicate(this.screen(), this.lines()),
      timeoutMs,
      () => this.describe(),
    );
  }

  async waitForText(pattern: RegExp | string, timeoutMs = 10_000): Promise<void> {
    await this.waitForScreen((s) => (typeof pattern === 'string' ? s.includes(pattern) : pattern.test(s)), timeoutMs);
  }

  /** Waits for the program to exit and for its last output to be parsed. */
  async waitForExit(timeoutMs = 10_000): Promise<PtyExit> {
    await waitFor(
      () => this.exited !== undefined && this.settled,
      timeoutMs,
      () => this.describe(),
    );
    // The exit may race the last data event: one more round for output still in flight.
    await new Promise((resolve) => setImmediate(resolve));
    await waitFor(
      () => this.settled,
      timeoutMs,
      () => this.describe(),
    );
    return this.exited!;
  }

  type(keys: string): void {
    this.proc.write(keys);
  }

  resize(cols: number, rows: number): void {
    this.term.resize(cols, rows);
    this.proc.resize(cols, rows);
  }

  describe(): string {
    return (
      `--- screen (${this.bufferType} buffer, ` +
      `${this.cols}x${this.rows}${this.exited ? `, exited ${JSON.stringify(this.exited)}` : ''}) ` +
      `---\n${this.screen()}\n---`
    );
  }

  /** Kills the program if it is still running (a failed test must not leave it behind). */
  dispose(): void {
    if (!this.exited) {
      try {
        this.proc.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    this.term.dispose();
  }
}

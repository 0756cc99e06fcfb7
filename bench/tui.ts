/**
 * The TUI benchmark: `scimctl tui` in a real pty (node-pty), its output fed to a
 * headless xterm so we know what is on screen. Measures first paint, the time to
 * load every user, keystroke-to-repaint latency (j, and typing a search) over the
 * loaded list, and the scimctl process's memory.
 *
 * A repaint counts only once the screen holds a whole frame: Ink wraps each frame in
 * synchronized-output marks (CSI ? 2026 h … l), so the screen is read only outside them, as xterm's parser
 * sees them: a mark split across two pty chunks once left the bench waiting on a finished frame
 * (test/support/sync-output.ts). BENCH_TUI_PRESSES: how many j (1,000); BENCH_TUI_RAW: a file for the raw output.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pty, { type IPty } from '@lydell/node-pty';
import xterm from '@xterm/headless';
import { trackSynchronizedOutput } from '../test/support/sync-output.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'scimctl.js');
const COLS = 120;
const ROWS = 40;

export interface TuiBenchContext {
  startServer(users: number): Promise<{ url: string; proc: ChildProcess }>;
  stopServer(s: { proc: ChildProcess }): Promise<void>;
  /** The other benchmarks' environment (SCIMCTL_CONFIG_DIR, SCIMCTL_CACHE_DIR, SCIMCTL_TOKEN). */
  baseEnv: NodeJS.ProcessEnv;
  /** A temporary folder removed after the run. */
  home: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => sorted(xs)[Math.max(0, Math.ceil(xs.length * 0.95) - 1)]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

/** The list's part of a screen row: the detail pane beside the list (after "│") is not the row. */
const listPart = (text: string) => text.split('│')[0]!;
/** A user row of the list: not blank, not the header (some users have no e-mail to look for). */
const isUserRow = (text: string | undefined): text is string =>
  text !== undefined && listPart(text).trim() !== '' && !/^\s*USERNAME\s+DISPLAYNAME/i.test(text);

/** What the terminal shows, fed from the pty. */
class Screen {
  readonly term = new xterm.Terminal({ cols: COLS, rows: ROWS, allowProposedApi: true, scrollback: 0 });
  /** Inside a synchronized-output block (as xterm parsed it, marks split across chunks included): half a frame. */
  private readonly sync = trackSynchronizedOutput(this.term);
  private waiters = new Set<(arrivedAt: number) => void>();
  /** Arrival time of the last chunk from the pty (before parsing). */
  lastChunkAt = 0;
  chunks = 0;
  exited: { exitCode: number; signal?: number } | undefined;

  /** Everything the program wrote, with arrival times (BENCH_TUI_RAW: written to that file at the end). */
  raw: Array<{ at: number; data: string }> = [];

  feed(data: string): void {
    const at = performance.now();
    this.raw.push({ at, data });
    this.lastChunkAt = at;
    this.chunks++;
    this.term.write(data, () => {
      if (!this.sync.inFrame) for (const w of [...this.waiters]) w(at);
    });
  }

  lines(): string[] {
    const buf = this.term.buffer.active;
    const out: string[] = [];
    for (let y = 0; y < ROWS; y++) out.push(buf.getLine(buf.viewportY + y)?.translateToString(true) ?? '');
    return out;
  }

  text(): string {
    return this.lines().join('\n');
  }

  /** The highlighted (inverse) row of the list, if any: its screen row and text. */
  selected(): { row: number; text: string } | undefined {
    const buf = this.term.buffer.active;
    for (let y = 0; y < ROWS; y++) {
      const line = buf.getLine(buf.viewportY + y);
      if (line?.getCell(0)?.isInverse()) return { row: y, text: line.translateToString(true) };
    }
    return undefined;
  }

  /**
   * Resolves with the arrival time of the chunk after which `done()` holds on a whole frame.
   * Checks at once too (then resolves with now). Rejects at the deadline or if the app exits.
   */
  until(what: string, done: () => boolean, timeoutMs: number): Promise<number> {
    if (!this.sync.inFrame && done()) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const finish = (err: Error | undefined, at = 0) => {
        clearTimeout(timer);
        clearInterval(exitPoll);
        this.waiters.delete(check);
        if (err) reject(err);
        else resolve(at);
      };
      const check = (at: number) => {
        if (done()) finish(undefined, at);
      };
      const timer = setTimeout(
        () =>
          finish(new Error(`tui bench: timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${this.text()}`)),
        timeoutMs,
      );
      const exitPoll = setInterval(() => {
        if (this.exited)
          finish(
            new Error(
              `tui bench: scimctl exited (code ${this.exited.exitCode}) while waiting for ` +
                `${what}; screen:\n${this.text()}`,
            ),
          );
      }, 50);
      this.waiters.add(check);
    });
  }

  /** Waits until the pty has been quiet for `quietMs` (at most `maxMs`). */
  async idle(quietMs: number, maxMs: number): Promise<void> {
    const end = performance.now() + maxMs;
    while (performance.now() < end) {
      const since = performance.now() - this.lastChunkAt;
      if (since >= quietMs) return;
      await sleep(quietMs - since + 1);
    }
  }
}

function procStatusKb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** Presses `key` once and times until the screen shows `changed()` on a whole frame. */
async function press(
  screen: Screen,
  child: IPty,
  key: string,
  what: string,
  changed: () => boolean,
): Promise<{ repaint: number; firstOutput: number }> {
  await screen.idle(15, 2_000);
  const chunksBefore = screen.chunks;
  let t0 = 0;
  let firstOutput = NaN;
  const first = child.onData(() => {
    if (Number.isNaN(firstOutput)) firstOutput = performance.now() - t0;
  });
  t0 = performance.now();
  child.write(key);
  try {
    const at = await screen.until(what, () => screen.chunks > chunksBefore && changed(), 5_000);
    return { repaint: at - t0, firstOutput };
  } finally {
    first.dispose();
  }
}

export async function benchTui(ctx: TuiBenchContext): Promise<void> {
  const users = Number(process.env.BENCH_TUI_USERS ?? 100_000);
  if (!Number.isInteger(users) || users < 2)
    throw new Error(`BENCH_TUI_USERS must be a whole number >= 2, not ${process.env.BENCH_TUI_USERS}`);
  const count = users.toLocaleString('en-US');
  const server = await ctx.startServer(users);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.baseEnv)) if (v !== undefined) env[k] = v;
  // Ink renders only the last frame when it thinks it runs in CI.
  delete env.CI;
  delete env.CONTINUOUS_INTEGRATION;
  Object.assign(env, {
    TERM: 'xterm-256color',
    SCIMCTL_URL: server.url,
    SCIMCTL_CONFIG_DIR: join(ctx.home, 'tui-config'),
    SCIMCTL_CACHE_DIR: join(ctx.home, 'tui-cache'),
    SCIMCTL_DATA_DIR: join(ctx.home, 'tui-data'),
  });

  const screen = new Screen();
  let child: IPty | undefined;
  const killAll = () => {
    try {
      if (child && !screen.exited) process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    server.proc.kill('SIGKILL');
  };
  const onSignal = () => {
    killAll();
    rmSync(ctx.home, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', killAll);
  try {
    const t0 = performance.now();
    child = pty.spawn(process.execPath, [BIN, 'tui'], {
      name: 'xterm-256color',
      cols: COLS,
      rows: ROWS,
      cwd: ROOT,
      env,
    });
    child.onData((d) => screen.feed(d));
    child.onExit((e) => (screen.exited = e));
    const pid = child.pid;

    // First paint: the users table header and at least one user row.
    const painted = await screen.until(
      'the users table',
      () => /\buserName\s+displayName\s+active\b/i.test(screen.text()) && isUserRow(screen.selected()?.text),
      30_000,
    );
    const firstPaint = painted - t0;

    // Every user loaded: the header shows "[1 users N]" with no "/total" or "…".
    const loadedAt = await screen.until(
      `all ${count} users`,
      () => screen.lines()[0]!.includes(`[1 users ${count}]`),
      5 * 60_000,
    );
    const loadSeconds = (loadedAt - t0) / 1000;
    await screen.idle(200, 5_000);
    const afterLoad = procStatusKb(pid);

    // j, one at a time: the highlighted row must show another user.
    const jRepaint: number[] = [];
    const jFirst: number[] = [];
    let cutFrames = 0;
    const presses = Math.min(Number(process.env.BENCH_TUI_PRESSES ?? 1000), users - 1);
    for (let i = 0; i < presses; i++) {
      const before = screen.selected()?.text;
      const r = await press(screen, child, 'j', `row ${i + 2} selected`, () => {
        const s = screen.selected();
        return isUserRow(s?.text) && listPart(s!.text) !== (before === undefined ? undefined : listPart(before));
      });
      jRepaint.push(r.repaint);
      jFirst.push(r.firstOutput);
      // A whole frame: the header on top, the key hints at the bottom, one highlighted row.
      const lines = screen.lines();
      if (!lines[0]!.startsWith('scimctl ') || !lines.slice(-3).some((l) => l.startsWith('q back'))) cutFrames++;
    }
    const footer = () => screen.lines().slice(-3).join('\n');

    // Search as you type over the loaded list: "/" then "s", "so", "son", then back to empty.
    await press(screen, child, '/', 'the search prompt', () => footer().includes('/▏'));
    const typeRepaint: number[] = [];
    const typeFirst: number[] = [];
    const eraseRepaint: number[] = [];
    const word = 'son';
    const rounds = 10;
    let matches = '';
    for (let round = 0; round < rounds; round++) {
      for (let i = 1; i <= word.length; i++) {
        const typed = word.slice(0, i);
        const r = await press(screen, child, word[i - 1]!, `"/${typed}" and its matches`, () =>
          footer().includes(`/${typed}▏  (`),
        );
        typeRepaint.push(r.repaint);
        typeFirst.push(r.firstOutput);
      }
      matches = new RegExp(`/${word}▏\\s+\\(([\\d,]+) match`).exec(footer())?.[1] ?? '?';
      for (let i = word.length - 1; i >= 0; i--) {
        const typed = word.slice(0, i);
        const r = await press(screen, child, '\x7f', `"/${typed}" after backspace`, () =>
          footer().includes(`/${typed}▏  (`),
        );
        eraseRepaint.push(r.repaint);
      }
    }
    await press(screen, child, '\r', 'the search prompt closed', () => !footer().includes('▏'));
    const atEnd = procStatusKb(pid);

    console.log(`tui (${count} users, ${COLS}x${ROWS} pty)`);
    console.log(`  first paint          ${ms(firstPaint)}   (target <= 1000 ms)`);
    console.log(`  all users loaded     ${loadSeconds.toFixed(1)} s   (the test server's paging dominates)`);
    console.log(
      `  j (down) x${String(presses).padEnd(11)}median ${ms(median(jRepaint))}, p95 ` +
        `${ms(p95(jRepaint))}   (first output: median ${ms(median(jFirst))})   (target ` +
        `median <= 25 ms)`,
    );
    console.log(
      `  cut frames           ${cutFrames} of ${presses}   (screens read after a j that were not a whole frame)`,
    );
    console.log(
      `  search typing        median ${ms(median(typeRepaint))}, p95 ` +
        `${ms(p95(typeRepaint))}   (${typeRepaint.length} keys: "${word}" x${rounds}, ` +
        `${matches} matches; first output: median ${ms(median(typeFirst))})`,
    );
    console.log(
      `  search backspace     median ${ms(median(eraseRepaint))}, p95 ` +
        `${ms(p95(eraseRepaint))}   (${eraseRepaint.length} keys)`,
    );
    console.log(
      `  RSS after load       ${(afterLoad.rss / 1024).toFixed(0)} MiB (peak ` +
        `${(afterLoad.hwm / 1024).toFixed(0)} MiB)   (target <= 200 MB)`,
    );
    console.log(
      `  RSS after the keys   ${(atEnd.rss / 1024).toFixed(0)} MiB (peak ${(atEnd.hwm / 1024).toFixed(0)} MiB)`,
    );

    // Quit cleanly: q leaves the explorer.
    child.write('q');
    const quitBy = performance.now() + 5_000;
    while (!screen.exited && performance.now() < quitBy) await sleep(20);
    if (!screen.exited) console.log('  (scimctl did not exit on q within 5 s; killed)');
    else if (screen.exited.exitCode !== 0) console.log(`  (scimctl exited with ${screen.exited.exitCode} on q)`);
  } finally {
    if (process.env.BENCH_TUI_RAW) writeFileSync(process.env.BENCH_TUI_RAW, JSON.stringify(screen.raw));
    if (child && !screen.exited) {
      child.kill('SIGTERM');
      const by = performance.now() + 3_000;
      while (!screen.exited && performance.now() < by) await sleep(20);
      if (!screen.exited) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    screen.term.dispose();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', killAll);
    await ctx.stopServer(server);
  }
}

/**
 * Starting and stopping the full-screen TUI: the alternate screen on entry, and
 * on every way out (quit, Ctrl+C, a crash) the normal screen and the cursor back.
 * Loaded only by commands that draw the TUI (a separate bundle chunk).
 */
import { render } from 'ink';
import { App, type AppProps } from './App.tsx';

const ENTER = '\u001b[?1049h\u001b[H';
const LEAVE = '\u001b[?25h\u001b[?1049l';

export async function runTui(props: AppProps, stdout: NodeJS.WriteStream = process.stdout): Promise<void> {
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    stdout.write(LEAVE);
  };
  stdout.write(ENTER);
  process.once('exit', restore);
  // Terminated from outside: give the terminal back, then let the signal end the process as it would have.
  const onSignal = (signal: NodeJS.Signals) => {
    restore();
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    process.kill(process.pid, signal);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGHUP', onSignal);
  try {
    // Ink treats CI=true as "render only the last frame": a person at a terminal is not CI.
    const instance = render(<App {...props} />, { exitOnCtrlC: false, patchConsole: true, maxFps: 120 });
    await instance.waitUntilExit();
    instance.cleanup();
  } finally {
    restore();
    process.off('exit', restore);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
}

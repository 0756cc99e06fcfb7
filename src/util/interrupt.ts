/**
 * Work to undo when the user presses Ctrl+C: a half-written export file, say.
 * The CLI runs these on SIGINT before it exits with code 130.
 */
type Cleanup = () => void;

const cleanups = new Set<Cleanup>();

/** Registers synchronous clean-up for an interruption; call the returned function when the work is done. */
export function onInterrupt(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

export function runInterruptCleanups(): void {
  for (const cleanup of [...cleanups]) {
    try {
      cleanup();
    } catch {
      // Best effort: the process is ending.
    }
  }
  cleanups.clear();
}

let stopHandler: ((signal: NodeJS.Signals) => void) | undefined;
const ours = new WeakSet<(...args: never[]) => unknown>();

/** The process's SIGINT listener (installed by the CLI): hands the signal to a waiting command first. */
export function interruptListener(interrupt: () => void): () => void {
  const listener = () => {
    if (!deliverStop('SIGINT')) interrupt();
  };
  ours.add(listener);
  return listener;
}

type Listener = (...args: unknown[]) => void;

/**
 * For commands that run until stopped (serve, demo): the first Ctrl+C (or a SIGTERM) is
 * theirs to shut down cleanly and return; a second Ctrl+C interrupts as usual.
 * `wait()` resolves with the signal that asked to stop. While it waits, other listeners of
 * SIGINT and SIGTERM are set aside (a library that re-raises the signal to end the process,
 * as conf's atomic writer does, would otherwise cut the shutdown short) and put back after.
 */
export function untilStopped(): { wait(): Promise<NodeJS.Signals>; release(): void } {
  let resolve!: (signal: NodeJS.Signals) => void;
  const stopped = new Promise<NodeJS.Signals>((r) => (resolve = r));
  const onTerm = () => deliverStop('SIGTERM');
  ours.add(onTerm);
  const setAside: Array<[NodeJS.Signals, Listener[]]> = [];
  const putBack = () => {
    for (const [signal, listeners] of setAside.splice(0)) for (const l of listeners) process.on(signal, l);
  };
  const release = () => {
    if (stopHandler === handler) stopHandler = undefined;
    process.off('SIGTERM', onTerm);
    putBack();
  };
  const handler = (signal: NodeJS.Signals) => {
    stopHandler = undefined;
    resolve(signal);
  };
  stopHandler = handler;
  process.on('SIGTERM', onTerm);
  return {
    wait: () => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        const others = (process.rawListeners(signal) as Listener[]).filter((l) => !ours.has(l));
        for (const l of others) process.off(signal, l);
        setAside.push([signal, others]);
      }
      return stopped.finally(putBack);
    },
    release,
  };
}
/** Hands a stop signal to the command waiting for one; false when none is. */
export function deliverStop(signal: NodeJS.Signals): boolean {
  if (!stopHandler) return false;
  stopHandler(signal);
  return true;
}

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

/**
 * For commands that run until stopped (serve, demo): the first Ctrl+C (or a SIGTERM) is
 * theirs to shut down cleanly and return; a second Ctrl+C interrupts as usual.
 * Resolves with the signal that asked to stop.
 */
export function untilStopped(): { stopped: Promise<NodeJS.Signals>; release(): void } {
  let resolve!: (signal: NodeJS.Signals) => void;
  const stopped = new Promise<NodeJS.Signals>((r) => (resolve = r));
  const onTerm = () => deliverStop('SIGTERM');
  stopHandler = (signal) => {
    stopHandler = undefined;
    process.off('SIGTERM', onTerm);
    resolve(signal);
  };
  process.on('SIGTERM', onTerm);
  return {
    stopped,
    release: () => {
      stopHandler = undefined;
      process.off('SIGTERM', onTerm);
    },
  };
}

/** Hands a stop signal to the command waiting for one; false when none is. */
export function deliverStop(signal: NodeJS.Signals): boolean {
  if (!stopHandler) return false;
  stopHandler(signal);
  return true;
}

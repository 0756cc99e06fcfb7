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

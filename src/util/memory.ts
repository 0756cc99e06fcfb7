/**
 * Keeping the heap of a big run near what is live. Both are V8 settings made at run time
 * (node:v8, node:vm); neither changes what a run computes, only when garbage is collected.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collector: (() => void) | undefined;

/**
 * A full garbage collection now: after a step that let go of much (a released source), so
 * the next step reuses that memory instead of growing the heap. The collector is taken once
 * from a fresh context with --expose-gc briefly on; `gc` never appears on globalThis here.
 */
export function collectGarbage(): void {
  if (!collector) {
    setFlagsFromString('--expose-gc');
    try {
      collector = runInNewContext('gc') as () => void;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  collector();
}

/**
 * Runs `work` with the heap kept near what is live: the young generation stays at its size
 * now (V8 grows it up to 16 MiB a half), so garbage is collected sooner, and the old
 * generation grows at most HEAP_GROWING_PERCENT past what survived the last full collection
 * before the next one. While a big target is read page after page, that is what keeps the
 * peak down; the cost is more collections (about 1 s of CPU over a 100,000-user plan, on a
 * second core, no wall time: bench noop-resync).
 */
export async function withTightHeap<T>(work: () => Promise<T>): Promise<T> {
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  try {
    return await work();
  } finally {
    setFlagsFromString('--semi-space-growth-factor=2');
    setFlagsFromString('--heap-growing-percent=0');
  }
}

/** How far the old generation may grow past what survived the last full collection (V8 picks 10 to 300 % by itself). */
const HEAP_GROWING_PERCENT = 25;

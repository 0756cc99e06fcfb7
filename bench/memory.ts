/**
 * The heap helpers of src/util/memory.ts, by what the garbage collector does: figures that depend on
 * V8's collector and its heuristics, so they are measured here rather than asserted in unit tests
 * (test/unit/memory.test.ts keeps what is deterministic). Each measure runs in a fresh process, where
 * the heap starts the same way every time, and is reported as pass or FAIL against its limit:
 *   - collectGarbage: after 500,000 small objects are let go, one call frees more than 20 MiB of heap;
 *   - withTightHeap: under the same allocations, the young generation stays at most 4 MiB inside it,
 *     and grows to at least 4 times that size without it.
 */
import { execFileSync } from 'node:child_process';

const MODULE = new URL('../src/util/memory.ts', import.meta.url).href;
const MiB = 1024 * 1024;

/** Runs an ES module script in a fresh `node --import tsx` and returns what it prints. */
function inFreshProcess(script: string): string {
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
}

/** Heap used while 500,000 objects are held, and after they are let go and collectGarbage() ran. */
function collectGarbageFreed(): { held: number; after: number } {
  const script = `
    import { collectGarbage } from ${JSON.stringify(MODULE)};
    let big = Array.from({ length: 500_000 }, (_, i) => ({ i, s: 'item ' + i }));
    const held = process.memoryUsage().heapUsed;
    if (big.length !== 500_000) throw new Error('wrong length');
    big = undefined;
    collectGarbage();
    const after = process.memoryUsage().heapUsed;
    process.stdout.write(JSON.stringify({ held, after }));`;
  return JSON.parse(inFreshProcess(script)) as { held: number; after: number };
}

/** Size of the young generation after allocating 3,000,000 objects (keeping a quarter), inside withTightHeap or not. */
function youngGenerationAfter(wrapped: boolean): number {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { withTightHeap } from ${JSON.stringify(MODULE)};
    const work = async () => {
      const keep = [];
      for (let i = 0; i < 3e6; i++) { const o = { i, s: 'x' + i }; if (i % 4 === 0) keep.push(o); }
      return keep.length;
    };
    const n = await (${wrapped} ? withTightHeap(work) : work());
    if (n !== 750000) throw new Error('wrong result ' + n);
    process.stdout.write(String(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size));`;
  return Number(inFreshProcess(script));
}

const verdict = (ok: boolean) => (ok ? 'pass' : 'FAIL');

/** Prints each measure with its limit; returns false when one is over it. */
export function benchMemory(): boolean {
  console.log('memory helpers (src/util/memory.ts), each in a fresh process');
  const { held, after } = collectGarbageFreed();
  const freed = held - after;
  const freedOk = freed > 20 * MiB;
  console.log(
    `  collectGarbage       freed ${(freed / MiB).toFixed(1)} MiB of ` +
      `${(held / MiB).toFixed(1)} MiB   (limit > 20 MiB)   ${verdict(freedOk)}`,
  );
  const small = youngGenerationAfter(true);
  const grown = youngGenerationAfter(false);
  const youngOk = small <= 4 * MiB && grown >= 4 * small;
  console.log(
    `  withTightHeap        young generation ${(small / 1024).toFixed(0)} KiB ` +
      `inside, ${(grown / 1024).toFixed(0)} KiB without, ` +
      `${(grown / small).toFixed(1)}x   (limit <= 4096 KiB inside, >= 4x without)   ${verdict(youngOk)}`,
  );
  return freedOk && youngOk;
}

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { collectGarbage, withTightHeap } from '../../src/util/memory.ts';

describe('memory', () => {
  test('collectGarbage frees what nothing holds any more, and leaves no gc on globalThis', () => {
    let big: { i: number; s: string }[] | undefined = Array.from({ length: 500_000 }, (_, i) => ({ i, s: `item ${i}` }));
    const held = process.memoryUsage().heapUsed;
    assert.equal(big.length, 500_000);
    big = undefined;
    collectGarbage();
    const after = process.memoryUsage().heapUsed;
    assert.ok(held - after > 20 * 1024 * 1024, `freed ${(held - after) >> 20} MiB`);
    assert.equal((globalThis as { gc?: unknown }).gc, undefined);
    collectGarbage(); // again: the same collector
  });

  // In a fresh process each, where the young generation starts small: how big it grows under the same allocations.
  function youngGenerationAfter(wrapped: boolean): number {
    const module = new URL('../../src/util/memory.ts', import.meta.url).href;
    const script = `
      import { getHeapSpaceStatistics } from 'node:v8';
      import { withTightHeap } from ${JSON.stringify(module)};
      const work = async () => { const keep = []; for (let i = 0; i < 3e6; i++) { const o = { i, s: 'x' + i }; if (i % 4 === 0) keep.push(o); } return keep.length; };
      const n = await (${wrapped} ? withTightHeap(work) : work());
      if (n !== 750000) throw new Error('wrong result ' + n);
      process.stdout.write(String(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size));`;
    return Number(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' }));
  }

  test('withTightHeap keeps the young generation from growing while its work allocates, and returns its result', async () => {
    const small = youngGenerationAfter(true);
    const grown = youngGenerationAfter(false);
    assert.ok(small <= 4 * 1024 * 1024 && grown >= 4 * small, `young generation ${small >> 10} KiB wrapped, ${grown >> 10} KiB not`);
    await assert.rejects(withTightHeap(async () => Promise.reject(new Error('boom'))), /boom/);
  });
});

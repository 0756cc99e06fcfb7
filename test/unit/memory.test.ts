/**
 * What the heap helpers do that does not depend on the collector's heuristics. How much memory they
 * save (heap freed by collectGarbage, the young generation kept small by withTightHeap) are GC figures:
 * `npm run bench -- memory` (bench/memory.ts) measures them against their limits.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { collectGarbage, withTightHeap } from '../../src/util/memory.ts';

/** A WeakRef to an object nothing else holds (made in its own frame, so no local of the caller keeps it). */
function unheld(): WeakRef<object> {
  return new WeakRef({ payload: Array.from({ length: 1000 }, (_, i) => i) });
}

describe('memory', () => {
  test(
    'collectGarbage collects an object nothing holds, keeps one that is held, and ' + 'leaves no gc on globalThis',
    async () => {
      const dropped = unheld();
      const kept = { payload: [1, 2, 3] };
      const keptRef = new WeakRef(kept);
      // A WeakRef's target lives at least until the current job ends: let it end first.
      await nextTurn();
      collectGarbage(); // a full collection: whatever is unreachable is gone after it
      assert.equal(dropped.deref(), undefined);
      assert.equal(keptRef.deref(), kept);
      assert.equal((globalThis as { gc?: unknown }).gc, undefined);
      const again = unheld();
      await nextTurn();
      collectGarbage(); // again: the same collector
      assert.equal(again.deref(), undefined);
      assert.equal((globalThis as { gc?: unknown }).gc, undefined);
    },
  );

  test('withTightHeap returns its work’s result and passes on its failure', async () => {
    assert.equal(await withTightHeap(async () => 42), 42);
    await assert.rejects(
      withTightHeap(async () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    // and the next run is not affected by the failed one
    assert.deepEqual(await withTightHeap(async () => ['ok']), ['ok']);
  });
});

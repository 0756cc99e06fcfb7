import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRate, ratePacer, runAll, type Pacer, type Settled } from '../../src/api/executor.ts';
import { prng, recordingSleep } from './helpers.ts';

/** Yields to the microtask queue n times (no timers). */
async function ticks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

/** A clock that only moves when its sleep is awaited. */
function fakeClock(start = 1_000_000) {
  let t = start;
  const delays: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      delays.push(ms);
      t += ms;
    },
    advance: (ms: number) => {
      t += ms;
    },
    delays,
  };
}

describe('runAll', () => {
  for (const [n, concurrency] of [
    [20, 3],
    [7, 1],
    [5, 10],
    [50, 8],
  ] as const) {
    test(`${n} items, concurrency ${concurrency}: never more in flight, and that many reached`, async () => {
      const random = prng(n * 31 + concurrency);
      let inFlight = 0;
      let max = 0;
      const started: number[] = [];
      const results = await runAll(
        Array.from({ length: n }, (_, i) => i),
        async (item) => {
          started.push(item);
          inFlight++;
          max = Math.max(max, inFlight);
          await ticks(1 + Math.floor(random() * 20));
          inFlight--;
          return item * 2;
        },
        { concurrency },
      );
      assert.equal(max, Math.min(n, concurrency));
      assert.equal(inFlight, 0);
      assert.deepEqual(
        started,
        Array.from({ length: n }, (_, i) => i),
        'started in input order',
      );
      assert.deepEqual(
        results,
        Array.from({ length: n }, (_, i) => ({ ok: true, value: i * 2 })),
      );
    });
  }

  test('results come back in input order even when items finish out of order', async () => {
    const finished: string[] = [];
    const delays = { a: 30, b: 1, c: 15, d: 5 } as const;
    const results = await runAll(
      ['a', 'b', 'c', 'd'] as const,
      async (item) => {
        await ticks(delays[item]);
        finished.push(item);
        return item.toUpperCase();
      },
      { concurrency: 4 },
    );
    assert.deepEqual(finished, ['b', 'd', 'c', 'a']);
    assert.deepEqual(
      results.map((r) => r.ok && r.value),
      ['A', 'B', 'C', 'D'],
    );
  });

  test('failures are results too; the rest still run; onSettled once per item', async () => {
    const boom = new Error('boom');
    const settled: Array<[number, Settled<number>]> = [];
    const ran: number[] = [];
    const results = await runAll(
      [1, 2, 3, 4, 5, 6],
      async (item, index) => {
        ran.push(index);
        await ticks(item % 3);
        if (item % 2 === 0) throw item === 4 ? 'not an Error' : boom;
        return item * 10;
      },
      { concurrency: 2, onSettled: (index, outcome) => settled.push([index, outcome]) },
    );
    assert.deepEqual(ran.sort(), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(results, [
      { ok: true, value: 10 },
      { ok: false, error: boom },
      { ok: true, value: 30 },
      { ok: false, error: 'not an Error' },
      { ok: true, value: 50 },
      { ok: false, error: boom },
    ]);
    assert.equal(settled.length, 6);
    assert.deepEqual(settled.map(([i]) => i).sort(), [0, 1, 2, 3, 4, 5]);
    for (const [i, outcome] of settled) assert.equal(outcome, results[i], 'onSettled gets the very outcome returned');
  });

  test('onSettled is told as each item finishes, before the whole run ends', async () => {
    const order: string[] = [];
    await runAll(
      [3, 1],
      async (n) => {
        await ticks(n * 5);
        order.push(`done ${n}`);
        return n;
      },
      { concurrency: 2, onSettled: (i) => order.push(`settled ${i}`) },
    );
    assert.deepEqual(order, ['done 1', 'settled 1', 'done 3', 'settled 0']);
  });

  test('no items: no calls, no results', async () => {
    let calls = 0;
    const results = await runAll([], async () => ++calls, { concurrency: 4 });
    assert.deepEqual(results, []);
    assert.equal(calls, 0);
  });

  test('a concurrency below 1 still runs everything, one at a time', async () => {
    let inFlight = 0;
    let max = 0;
    const results = await runAll(
      [1, 2, 3],
      async (x) => {
        inFlight++;
        max = Math.max(max, inFlight);
        await ticks(2);
        inFlight--;
        return x;
      },
      { concurrency: 0 },
    );
    assert.equal(max, 1);
    assert.equal(results.length, 3);
    assert.ok(results.every((r) => r.ok));
  });

  test('the pacer is awaited once before each item starts', async () => {
    const log: string[] = [];
    let waits = 0;
    const pacer: Pacer = {
      async wait() {
        waits++;
        log.push('wait');
      },
    };
    await runAll(
      ['a', 'b', 'c'],
      async (x) => {
        log.push(x);
        return x;
      },
      { concurrency: 1, pacer },
    );
    assert.equal(waits, 3);
    assert.deepEqual(log, ['wait', 'a', 'wait', 'b', 'wait', 'c']);
  });

  test('with a rate pacer, concurrent lanes still start 60000/perMinute ms apart', async () => {
    const { sleep, delays } = recordingSleep();
    const log: string[] = [];
    const slept = async (ms: number) => {
      await sleep(ms);
      log.push(`slept ${ms}`);
    };
    await runAll(
      ['a', 'b', 'c', 'd'],
      async (x) => {
        log.push(`start ${x}`);
      },
      { concurrency: 4, pacer: ratePacer(120, () => 0, slept) },
    );
    // On a clock that stands still, the lanes reserve slots 0, 500, 1000 and 1500 ms from now.
    assert.deepEqual(delays, [500, 1000, 1500]);
    assert.equal(log[0], 'start a', 'the first starts at once');
    for (const [x, ms] of [
      ['b', 500],
      ['c', 1000],
      ['d', 1500],
    ] as const) {
      assert.ok(log.indexOf(`start ${x}`) > log.indexOf(`slept ${ms}`), `${x} starts only after its ${ms} ms wait`);
    }
  });
});

describe('ratePacer', () => {
  test('spaces starts by 60000/perMinute ms', async () => {
    const clock = fakeClock();
    const pacer = ratePacer(600, clock.now, clock.sleep);
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) {
      await pacer.wait();
      starts.push(clock.now());
    }
    assert.deepEqual(clock.delays, [100, 100, 100, 100]);
    assert.deepEqual(
      starts.map((s) => s - starts[0]!),
      [0, 100, 200, 300, 400],
    );
  });

  test('the first start does not wait', async () => {
    const { sleep, delays } = recordingSleep();
    await ratePacer(1, () => 5, sleep).wait();
    assert.deepEqual(delays, []);
  });

  test(
    'time already spent elsewhere counts: no wait when the interval has passed, a ' + 'shorter one when partly passed',
    async () => {
      const clock = fakeClock();
      const pacer = ratePacer(60, clock.now, clock.sleep); // one a second
      await pacer.wait();
      clock.advance(1500);
      await pacer.wait();
      assert.deepEqual(clock.delays, []);
      clock.advance(400);
      await pacer.wait();
      assert.deepEqual(clock.delays, [600]);
    },
  );

  test('idle time is not banked into a burst', async () => {
    const clock = fakeClock();
    const pacer = ratePacer(60, clock.now, clock.sleep);
    await pacer.wait();
    clock.advance(10_000);
    await pacer.wait();
    await pacer.wait();
    assert.deepEqual(clock.delays, [1000]);
  });

  test('concurrent waiters get distinct, evenly spaced slots', async () => {
    const { sleep, delays } = recordingSleep();
    const pacer = ratePacer(1000, () => 0, sleep); // 60 ms apart, on a clock that stands still
    await Promise.all([pacer.wait(), pacer.wait(), pacer.wait(), pacer.wait()]);
    assert.deepEqual(delays, [60, 120, 180]);
  });

  test('fractional rates (per hour) give long intervals', async () => {
    const { sleep, delays } = recordingSleep();
    const pacer = ratePacer(parseRate('1000/h'), () => 0, sleep);
    await pacer.wait();
    await pacer.wait();
    assert.equal(delays.length, 1);
    assert.ok(Math.abs(delays[0]! - 3600) < 1e-6, `3.6 s between starts, got ${delays[0]}`);
  });

  test('a rate that is not positive is refused', () => {
    for (const bad of [0, -1, Number.NaN]) assert.throws(() => ratePacer(bad), RangeError, String(bad));
  });
});

describe('parseRate', () => {
  for (const [text, perMinute] of [
    ['600/min', 600],
    ['600/m', 600],
    ['600/minute', 600],
    ['10/s', 600],
    ['10/sec', 600],
    ['2/second', 120],
    ['1000/h', 1000 / 60],
    ['120/hour', 2],
    ['60', 60],
    ['1.5', 1.5],
    [' 30 / MIN ', 30],
    ['0.5/s', 30],
  ] as const) {
    test(`${JSON.stringify(text)} is ${perMinute} per minute`, () => {
      assert.ok(Math.abs(parseRate(text) - perMinute) < 1e-9, `${parseRate(text)}`);
    });
  }

  for (const bad of [
    '',
    'fast',
    '600/day',
    '10/ms',
    '-5',
    '0',
    '0/s',
    '0.0/min',
    '/min',
    '10 per minute',
    '1e3',
    '600/min/s',
    'Infinity',
  ]) {
    test(`${JSON.stringify(bad)} is refused`, () => {
      assert.throws(() => parseRate(bad), RangeError);
    });
  }
});

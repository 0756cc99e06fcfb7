/**
 * Running many requests: bounded concurrency, optional pacing to a published
 * rate limit, and a result for every item (one failure never stops the rest).
 */

export interface Pacer {
  /** Resolves when the next request may start. */
  wait(): Promise<void>;
}

/** Spaces request starts evenly so that no more than `perMinute` start in any minute. */
export function ratePacer(
  perMinute: number,
  now: () => number = Date.now,
  sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
): Pacer {
  if (!(perMinute > 0)) throw new RangeError('the rate must be a positive number of requests per minute');
  const interval = 60_000 / perMinute;
  let next = 0;
  return {
    async wait() {
      const t = now();
      const start = Math.max(t, next);
      next = start + interval;
      if (start > t) await sleep(start - t);
    },
  };
}

/** Parses `--rate` values: "600/min", "10/s", "1000/h", or a bare number per minute. */
export function parseRate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|second|m|min|minute|h|hour))?\s*$/i.exec(text);
  if (!m) throw new RangeError(`"${text}" is not a rate (e.g. 600/min, 10/s, 1000/h)`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 'min').toLowerCase();
  const perMinute = unit.startsWith('s') ? n * 60 : unit.startsWith('h') ? n / 60 : n;
  if (!(perMinute > 0)) throw new RangeError(`"${text}" must be more than zero`);
  return perMinute;
}

export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Calls `worker` for every item with at most `concurrency` in flight, in order of
 * the items, and returns every outcome in the same order. `onSettled` is told as
 * each finishes (for progress bars and live reports).
 */
export async function runAll<T, R>(
  items: readonly T[],
  worker: (item: T, index: number) => Promise<R>,
  options: { concurrency: number; pacer?: Pacer; onSettled?: (index: number, outcome: Settled<R>) => void },
): Promise<Settled<R>[]> {
  const results: Settled<R>[] = new Array(items.length);
  let nextIndex = 0;
  const lanes = Math.max(1, Math.min(options.concurrency, items.length));
  const lane = async () => {
    for (;;) {
      const index = nextIndex++;
      if (index >= items.length) return;
      await options.pacer?.wait();
      let outcome: Settled<R>;
      try {
        outcome = { ok: true, value: await worker(items[index]!, index) };
      } catch (error) {
        outcome = { ok: false, error };
      }
      results[index] = outcome;
      options.onSettled?.(index, outcome);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return results;
}

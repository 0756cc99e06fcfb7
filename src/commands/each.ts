/**
 * The loop of the commands that act on a list of users or groups one by one: concurrent, a
 * progress bar on a terminal, and every item's outcome as a result line (a failure included,
 * with its error's message), in the order of the items.
 */
import { runAll } from '../api/executor.ts';
import { progressBar } from '../output/progress.ts';
import type { ItemResult } from '../output/results.ts';
import type { Factory } from './factory.ts';

export interface EachOptions<T> {
  /** The progress bar's label, e.g. "Deleting users". */
  label: string;
  concurrency: number;
  /** The result line of an item whose work threw `error`. */
  failed: (item: T, error: unknown) => ItemResult;
}

export async function forEachItem<T>(
  f: Factory,
  items: readonly T[],
  options: EachOptions<T>,
  work: (item: T) => Promise<ItemResult>,
): Promise<ItemResult[]> {
  const progress = progressBar(f.io, options.label);
  let done = 0;
  const outcomes = await runAll(items, work, {
    concurrency: options.concurrency,
    onSettled: () => progress.update(++done, items.length),
  });
  progress.finish();
  return outcomes.map((o, i) => (o.ok ? o.value : options.failed(items[i]!, o.error)));
}

/** An error's message for a result line. */
export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

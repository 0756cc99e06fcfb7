/** Deleting users or groups: resolve, show exactly what goes, confirm (or --yes), delete, report. */
import type { ResourceApi } from '../api/client.ts';
import { ResponseError } from '../api/errors.ts';
import { runAll } from '../api/executor.ts';
import { resolveMany } from '../api/resolve.ts';
import type { ScimResource } from '../api/types.ts';
import { progressBar } from '../output/progress.ts';
import { confirmTyped } from '../output/prompt.ts';
import { printResults, type ItemResult } from '../output/results.ts';
import { renderTable, renderTsvRow, type Column } from '../output/table.ts';
import { ExitCode, SilentExit } from './exit-codes.ts';
import type { Factory } from './factory.ts';

export interface DeleteManyOptions<T extends ScimResource> {
  /** "user" or "group", for messages. */
  noun: string;
  refs: string[];
  api: ResourceApi<T>;
  resolve: (ref: string) => Promise<T>;
  label: (r: T) => string;
  preview: Column<T>[];
  yes: boolean;
  concurrency: number;
  json: boolean;
}

export async function deleteMany<T extends ScimResource>(opts: DeleteManyOptions<T>, f: Factory): Promise<void> {
  const { found, missing } = await resolveMany(opts.refs, opts.resolve);
  const results: ItemResult[] = missing.map((ref) => ({ ref, status: 'already-gone', detail: `no such ${opts.noun}` }));
  if (found.length > 0) {
    const targets = found.map((x) => x.resource);
    const preview = f.io.isStderrTTY ? renderTable(targets, opts.preview, f.io.columns) : targets.map((r) => renderTsvRow(r, opts.preview));
    f.io.stderr.write(`scimctl: ${targets.length} ${opts.noun}(s) will be deleted:\n${preview.map((l) => `  ${l}`).join('\n')}\n`);
    if (!opts.yes) {
      const ok = await confirmTyped(f.io, `Delete ${targets.length} ${opts.noun}(s)? This cannot be undone.`, {
        flag: '--yes',
        what: `refusing to delete ${targets.length} ${opts.noun}(s)`,
      });
      if (!ok) {
        f.log('nothing deleted');
        throw new SilentExit(ExitCode.USAGE);
      }
    }
    const progress = progressBar(f.io, `Deleting ${opts.noun}s`);
    let done = 0;
    const outcomes = await runAll(
      found,
      async ({ ref, resource }): Promise<ItemResult> => {
        try {
          await opts.api.delete(resource.id);
          return { ref, id: resource.id, name: opts.label(resource), status: 'deleted' };
        } catch (e) {
          // Someone (or an earlier, interrupted run) deleted it already: the goal is met.
          if (e instanceof ResponseError && e.status === 404) return { ref, id: resource.id, name: opts.label(resource), status: 'already-gone' };
          throw e;
        }
      },
      { concurrency: opts.concurrency, onSettled: () => progress.update(++done, found.length) },
    );
    progress.finish();
    outcomes.forEach((o, i) => {
      const { ref, resource } = found[i]!;
      results.push(o.ok ? o.value : { ref, id: resource.id, name: opts.label(resource), status: 'failed', detail: o.error instanceof Error ? o.error.message : String(o.error) });
    });
  }
  await printResults(f.io, results, opts.json, ['deleted', 'already-gone', 'failed']);
  if (results.some((r) => r.status === 'failed')) throw new SilentExit(ExitCode.ERROR);
}

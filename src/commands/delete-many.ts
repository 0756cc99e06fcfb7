/** Deleting users or groups: resolve, show exactly what goes, confirm (or --yes), delete, report. */
import type { ResourceApi } from '../api/client.ts';
import { ResponseError } from '../api/errors.ts';
import { resolveMany } from '../api/resolve.ts';
import type { ScimResource } from '../api/types.ts';
import { confirmTyped } from '../output/prompt.ts';
import { printResults, type ItemResult } from '../output/results.ts';
import { renderTable, renderTsvRow, type Column } from '../output/table.ts';
import { errorText, forEachItem } from './each.ts';
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

/**
 * Shows exactly which objects a destructive command is about to change and asks for a typed
 * "yes" (or --yes); without a terminal and without --yes it refuses, naming the flag (exit 2).
 */
export async function confirmTargets<T extends ScimResource>(
  f: Factory,
  o: { targets: T[]; preview: Column<T>[]; noun: string; verb: 'delete' | 'deactivate'; yes: boolean; warning: string },
): Promise<void> {
  const n = o.targets.length;
  const past = `${o.verb}d`;
  const preview = f.io.isStderrTTY
    ? renderTable(o.targets, o.preview, f.io.columns)
    : o.targets.map((r) => renderTsvRow(r, o.preview));
  f.io.stderr.write(`scimctl: ${n} ${o.noun}(s) will be ${past}:\n${preview.map((l) => `  ${l}`).join('\n')}\n`);
  if (o.yes) return;
  const ok = await confirmTyped(f.io, `${o.verb[0]!.toUpperCase()}${o.verb.slice(1)} ${n} ${o.noun}(s)? ${o.warning}`, {
    flag: '--yes',
    what: `refusing to ${o.verb} ${n} ${o.noun}(s)`,
  });
  if (!ok) {
    f.log(`nothing ${past}`);
    throw new SilentExit(ExitCode.USAGE);
  }
}

export async function deleteMany<T extends ScimResource>(opts: DeleteManyOptions<T>, f: Factory): Promise<void> {
  const { found, missing } = await resolveMany(opts.refs, opts.resolve);
  const results: ItemResult[] = missing.map((ref) => ({ ref, status: 'already-gone', detail: `no such ${opts.noun}` }));
  if (found.length > 0) {
    await confirmTargets(f, {
      targets: found.map((x) => x.resource),
      preview: opts.preview,
      noun: opts.noun,
      verb: 'delete',
      yes: opts.yes,
      warning: 'This cannot be undone.',
    });
    const failed = ({ ref, resource }: (typeof found)[number], e: unknown): ItemResult => ({
      ref,
      id: resource.id,
      name: opts.label(resource),
      status: 'failed',
      detail: errorText(e),
    });
    const deleted = await forEachItem(
      f,
      found,
      { label: `Deleting ${opts.noun}s`, concurrency: opts.concurrency, failed },
      async ({ ref, resource }): Promise<ItemResult> => {
        try {
          await opts.api.delete(resource.id);
          return { ref, id: resource.id, name: opts.label(resource), status: 'deleted' };
        } catch (e) {
          // Someone (or an earlier, interrupted run) deleted it already: the goal is met.
          if (e instanceof ResponseError && e.status === 404)
            return { ref, id: resource.id, name: opts.label(resource), status: 'already-gone' };
          throw e;
        }
      },
    );
    results.push(...deleted);
  }
  await printResults(f.io, results, opts.json, ['deleted', 'already-gone', 'failed']);
  if (results.some((r) => r.status === 'failed')) throw new SilentExit(ExitCode.ERROR);
}

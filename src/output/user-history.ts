/**
 * One user's history across sync runs (sync/user-history.ts) for people and for scripts: `scimctl runs user` and the
 * explorer's history of a change show the same lines.
 */
import { SchemaRegistry } from '../api/schema.ts';
import { location } from '../sources/problem-groups.ts';
import { keptValue, type UserRunEntry } from '../sync/user-history.ts';
import { changeLines } from './plan.ts';
import { safeText } from './safe-text.ts';

const MARKS: Record<string, string> = { applied: '✓', failed: '✗', excluded: '-' };

/** What the source said, on one line: its attributes as JSON (long data: URIs already shortened by the history). */
function sourceLine(attributes: Record<string, unknown>): string {
  return safeText(JSON.stringify(attributes), { marks: true });
}

/** The history as text: a block per run, newest first. */
export function userHistoryLines(ref: string, entries: readonly UserRunEntry[]): string[] {
  const registry = new SchemaRegistry();
  const lines = [`history of ${safeText(ref, { marks: true })}: ${entries.length} run(s)`];
  for (const { run, received, changes } of entries) {
    lines.push(
      '',
      `run ${run.id}  ${run.startedAt}  ${run.status}  ${run.command}  profile ` +
        `${safeText(run.profile, { marks: true })}`,
    );
    if (received.length === 0) lines.push('  source: not in this run’s source');
    for (const r of received) {
      lines.push(`  source: ${safeText(location(r.origin), { marks: true })}  ${sourceLine(r.attributes)}`);
      if (r.identityOnly) lines.push('          (only its identity was kept: the target already had the rest as said)');
      if (r.problem !== undefined) lines.push(`  plan:   left out: ${safeText(r.problem, { marks: true })}`);
    }
    if (changes.length === 0 && !received.some((r) => r.problem !== undefined)) lines.push('  plan:   no change');
    for (const { change, result } of changes) {
      // A create's record is the source line above; an update shows its attribute diff.
      // An inline photo is shown as its type and size, as the source line shows it.
      const shown =
        change.kind === 'update-user' ? { ...change, diffs: keptValue(change.diffs) as typeof change.diffs } : change;
      const [head, ...diff] = changeLines(shown, registry, change.kind === 'update-user');
      lines.push(`  plan:   ${head}`, ...diff.map((l) => `          ${l}`));
      lines.push(
        result
          ? `  result: ${MARKS[result.status] ?? '?'} ` +
              `${result.status}` +
              `${result.detail ? `: ${safeText(result.detail, { marks: true })}` : ''}`
          : '  result: not applied',
      );
    }
  }
  return lines;
}

/** The history as JSON (`runs user --json`). */
export function userHistoryJson(ref: string, entries: readonly UserRunEntry[]): unknown {
  return {
    user: ref,
    runs: entries.map(({ run, received, changes }) => ({
      run: {
        id: run.id,
        profile: run.profile,
        command: run.command,
        status: run.status,
        startedAt: run.startedAt,
        ...(run.finishedAt ? { finishedAt: run.finishedAt } : {}),
      },
      source: received,
      changes: changes.map(({ change, result }) => ({ change, result: result ?? null })),
    })),
  };
}

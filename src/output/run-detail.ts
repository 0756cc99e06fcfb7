/**
 * One sync run for a person, as the explorer's runs view shows it (Enter on a run): its summary, every change of
 * its plan with ✓ applied, ✗ failed or - excluded, the failures with what the server said, and its log.
 */
import { SchemaRegistry } from '../api/schema.ts';
import type { ChangeResult } from '../sync/apply.ts';
import type { LogLine, RunHistory } from '../sync/history.ts';
import type { Change } from '../sync/model.ts';
import { changeLines } from './plan.ts';
import { safeText } from './safe-text.ts';

const MARKS: Record<string, string> = { applied: '✓', failed: '✗', excluded: '-' };

export function runLines(history: Pick<RunHistory, 'find' | 'outcome' | 'readText'>, id: string): string[] {
  return runDetail(history, id).lines;
}

/** A change's line in an opened run, and the user it is about (id when known, else userName): its history's key. */
export interface RunChangeUser {
  line: number;
  user: string;
}

/** The user a change is about, as `runs user` finds them: the target's id when known, else the userName. */
function changeUser(change: Change, result?: ChangeResult): string | undefined {
  switch (change.kind) {
    case 'create-user':
      return result?.createdId ?? change.userName;
    case 'update-user':
    case 'deactivate-user':
    case 'delete-user':
      return change.target;
    case 'add-member':
    case 'remove-member':
      return 'id' in change.user ? change.user.id : change.userName;
    default:
      return undefined;
  }
}

/** An opened run's lines, and which change line is about which user (the history key of the explorer). */
export function runDetail(
  history: Pick<RunHistory, 'find' | 'outcome' | 'readText'>,
  id: string,
): { lines: string[]; users: RunChangeUser[] } {
  const users: RunChangeUser[] = [];
  const run = history.find(id);
  if (!run) return { lines: [`run ${id} is not in the history`], users };
  const registry = new SchemaRegistry();
  const { changes, failures } = history.outcome(run.id);
  const lines = [
    `run ${run.id}  ${run.command}  ${run.status}${run.message ? ` (${safeText(run.message)})` : ''}`,
    `profile ${run.profile}  started ${run.startedAt}  finished ${run.finishedAt ?? '-'}`,
  ];
  if (run.results)
    lines.push(
      `results: ${Object.entries(run.results)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')}`,
    );
  lines.push('', `Changes (${changes.length})`);
  for (const { change, result } of changes) {
    const user = changeUser(change, result);
    if (user !== undefined) users.push({ line: lines.length, user });
    lines.push(`[${result ? (MARKS[result.status] ?? '?') : ' '}] ${changeLines(change, registry, false)[0]}`);
  }
  if (failures.length > 0) {
    lines.push('', `Failures (${failures.length})`);
    for (const { change, result } of failures)
      lines.push(
        `✗ ${changeLines(change, registry, false)[0]}`,
        `    ${safeText(result?.detail ?? 'failed', { marks: true })}`,
      );
  }
  const log = (history.readText(run.id, 'log.ndjson') ?? '')
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      try {
        const line = JSON.parse(l) as LogLine;
        return [`${line.time} ${String(line.level).toUpperCase().padEnd(5)} ${safeText(String(line.message))}`];
      } catch {
        return [];
      }
    });
  lines.push('', `Log (${log.length})`, ...log);
  return { lines, users };
}

/**
 * Plans for people: `+ ~ -` lines with attribute-level diffs, and the summary
 * line. Rendered from the plan's JSON form, so text, file and TUI agree.
 */
import { isAbsolute, relative } from 'node:path';
import { SchemaRegistry } from '../api/schema.ts';
import { SCHEMA, type ScimResource } from '../api/types.ts';
import type { AttributeDiff, Change, Plan, PlanSummary, RecordProblem } from '../sync/model.ts';
import { cellChanges, renderCellChanges } from './changes.ts';
import { kindFacts } from '../sync/change-kinds.ts';
import { deactivates } from '../sync/counts.ts';
import { groupLines, groupProblems, location } from '../sources/problem-groups.ts';
import { safeText } from './safe-text.ts';

/** Plans are reviewed before anything changes: control characters escaped, and invisible ones marked (safe-text.ts). */
const planSafe = (line: string) => safeText(line, { marks: true });

/**
 * A source file as plans show it: inside the working directory, relative to it (`people/hr.csv`); elsewhere as
 * given (an absolute path stays absolute, a relative one was relative to where the plan was made).
 */
export function shownPath(file: string, cwd = process.cwd()): string {
  if (!isAbsolute(file)) return file;
  const inside = relative(cwd, file);
  return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside) ? inside : file;
}

/** A record's FILE:LINE as plans show it (shownPath). */
const shownLocation = (origin: { file: string; line: number }) => location({ ...origin, file: shownPath(origin.file) });

export function summaryText(s: PlanSummary): string {
  const groups = [
    s.groupsCreated ? `${s.groupsCreated} group${s.groupsCreated === 1 ? '' : 's'} to create` : '',
    s.groupsDeleted ? `${s.groupsDeleted} group${s.groupsDeleted === 1 ? '' : 's'} to delete` : '',
  ].filter(Boolean);
  const bySource = s.deactivatedBySource ? ` (${s.deactivatedBySource} of the updates deactivate)` : '';
  return (
    `${s.create} to create, ${s.update} to update${bySource}, ${s.deactivate} to ` +
    `deactivate, ${s.delete} to delete, ${s.memberships} membership ` +
    `changes${groups.length ? `, ${groups.join(', ')}` : ''}.`
  );
}

/** Rebuilds the two sides of an update from its diffs, so they can be shown cell by cell. */
function sides(diffs: readonly AttributeDiff[], registry: SchemaRegistry): [ScimResource, ScimResource] {
  const before: Record<string, unknown> = { id: '' };
  const after: Record<string, unknown> = { id: '' };
  for (const d of diffs) {
    const { urn, attrPath } = /^urn:/i.test(d.path) ? registry.splitUrn(d.path) : { urn: undefined, attrPath: d.path };
    const put = (side: Record<string, unknown>, value: unknown) => {
      if (value === undefined || value === null) return;
      if (urn) side[urn] = { ...((side[urn] as Record<string, unknown>) ?? {}), [attrPath]: value };
      else side[attrPath] = value;
    };
    put(before, d.before);
    put(after, d.after);
  }
  return [before as ScimResource, after as ScimResource];
}

export function changeLines(change: Change, registry = new SchemaRegistry(), detail = true): string[] {
  return unsafeChangeLines(change, registry, detail).map(planSafe);
}

/** A change's lines, the first marked with its kind's symbol (change-kinds.ts). */
function unsafeChangeLines(change: Change, registry: SchemaRegistry, detail: boolean): string[] {
  const [head, ...rest] = unmarkedLines(change, registry, detail);
  return [`${kindFacts(change.kind).symbol} ${head}`, ...rest];
}

function unmarkedLines(change: Change, registry: SchemaRegistry, detail: boolean): string[] {
  switch (change.kind) {
    case 'create-user': {
      const lines = [`create user ${change.userName}  (${shownLocation(change.origin)})`];
      if (detail) {
        // Write-only values (an initial password) are never shown.
        const secret = (column: string) => {
          const def = registry.lookup(SCHEMA.USER, column.split(/[.[]/)[0]!);
          return def?.mutability === 'writeOnly' || def?.returned === 'never';
        };
        const cells = cellChanges(undefined, change.resource as ScimResource, SCHEMA.USER, registry).map((c) =>
          secret(c.column) ? { ...c, after: '***' } : c,
        );
        lines.push(...renderCellChanges(cells));
      }
      return lines;
    }
    case 'update-user': {
      const note = change.reactivate
        ? ' (reactivate)'
        : deactivates(change.diffs)
          ? ' (deactivate, as the source says)'
          : '';
      const lines = [`update user ${change.userName}${note}`];
      if (detail) {
        const [before, after] = sides(change.diffs, registry);
        lines.push(...renderCellChanges(cellChanges(before, after, SCHEMA.USER, registry)));
      }
      return lines;
    }
    case 'deactivate-user':
      return [`deactivate user ${change.userName}  (${change.target})`];
    case 'delete-user':
      return [`delete user ${change.userName}  (${change.target})`];
    case 'create-group':
      return [`create group ${change.displayName}`];
    case 'add-member':
      return [`add ${change.userName} to group ${change.groupName}`];
    case 'remove-member':
      return [`remove ${change.userName} from group ${change.groupName}`];
    case 'delete-group':
      return [`delete group ${change.displayName}  (${change.target})`];
  }
}

/** The problems of a plan by kind (problem-groups.ts): one list of lines per kind, each kind told once. */
export function problemGroups(problems: readonly RecordProblem[]): string[][] {
  return groupProblems(
    problems.map((p) => ({ file: shownPath(p.origin.file), line: p.origin.line, message: p.message })),
  ).map((g) => groupLines(g).map(planSafe));
}

/** The problems of a plan as the plan shows them: each kind once, with a count and the first few file:line examples. */
export function problemLines(problems: readonly RecordProblem[]): string[] {
  return problemGroups(problems).flatMap((lines) => lines.map((l) => `! ${l}`));
}

/** The whole plan as text: changes, problems, and the summary line. */
export function renderPlan(plan: Plan, registry = new SchemaRegistry()): string[] {
  const lines: string[] = [];
  for (const change of plan.changes) lines.push(...changeLines(change, registry));
  if (plan.problems.length > 0) {
    lines.push(
      '',
      `${plan.problems.length} source record(s) could not be planned (their users are left alone):`,
      ...problemLines(plan.problems),
    );
  }
  if (plan.changes.length === 0) lines.push('No changes: the target matches the source.');
  for (const note of plan.notes ?? []) lines.push(planSafe(`Note: ${note}`));
  lines.push('', `Plan: ${summaryText(plan.summary)}`);
  return lines;
}

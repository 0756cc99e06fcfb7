/**
 * Which changes of a plan need which others: a change that refers to an object the plan
 * creates (a membership of a user or group created by the same plan) needs that create
 * change. The kinds that may be needed come from the change-kind table (`dependsOn`), the
 * needed change from the change's references. The review and apply both close an
 * exclusion over this relation, so that a change is never sent to fail at the server
 * because what it needs was left out.
 */
import { kindFacts } from './change-kinds.ts';
import type { Change } from './model.ts';

/** The ids of the changes of the same plan this change refers to (and so needs). */
export function prerequisitesOf(change: Change): string[] {
  if (change.kind !== 'add-member' && change.kind !== 'remove-member') return [];
  const needs = kindFacts(change.kind).dependsOn;
  const out: string[] = [];
  for (const [ref, kind] of [
    [change.group, 'create-group'],
    [change.user, 'create-user'],
  ] as const) {
    if ('change' in ref && needs.includes(kind)) out.push(ref.change);
  }
  return out;
}

/** A change as the review names it in "needs …": `create user kim`, `create group Sales`. */
export function changeName(change: Change | undefined, id: string): string {
  if (change?.kind === 'create-user') return `create user ${change.userName}`;
  if (change?.kind === 'create-group') return `create group ${change.displayName}`;
  return id;
}

export interface Closure {
  /** The excluded changes: the given ones and every change that needs one of them (directly or not). */
  excluded: Set<string>;
  /** For a change excluded only because of what it needs: the id of the needed change that is excluded or missing. */
  because: Map<string, string>;
}

/**
 * Closes an exclusion over the dependencies: a change that needs an excluded change, or a
 * change that is not in the plan at all (a plan file edited by hand), is excluded too.
 */
export function closeOverDependencies(changes: readonly Change[], excluded: Iterable<string>): Closure {
  const ids = new Set(changes.map((c) => c.id));
  const out = new Set(excluded);
  const because = new Map<string, string>();
  // Prerequisites are create changes, which need nothing: one pass settles it, but loop in case the table grows.
  for (let grew = true; grew;) {
    grew = false;
    for (const c of changes) {
      if (out.has(c.id)) continue;
      const missing = prerequisitesOf(c).find((p) => out.has(p) || !ids.has(p));
      if (missing === undefined) continue;
      out.add(c.id);
      because.set(c.id, missing);
      grew = true;
    }
  }
  return { excluded: out, because };
}

/**
 * The exclusion after including one change: it and everything it needs, directly or not. The changes that need it
 * stay excluded (the admin includes them one by one): nothing is put back that was not asked for.
 */
export function includeWithPrerequisites(
  changes: readonly Change[],
  excluded: Iterable<string>,
  id: string,
): Set<string> {
  const byId = new Map(changes.map((c) => [c.id, c]));
  const out = new Set(excluded);
  const todo = [id];
  while (todo.length > 0) {
    const next = todo.pop()!;
    if (!out.delete(next) && next !== id) continue;
    const c = byId.get(next);
    if (c) todo.push(...prerequisitesOf(c));
  }
  return closeOverDependencies(changes, out).excluded;
}

/**
 * For each excluded change that needs an excluded (or missing) change: the id of what it needs. The review marks
 * such a change "excluded: needs create user X".
 */
export function neededBy(changes: readonly Change[], excluded: ReadonlySet<string>): Map<string, string> {
  const ids = new Set(changes.map((c) => c.id));
  const out = new Map<string, string>();
  for (const c of changes) {
    if (!excluded.has(c.id)) continue;
    const need = prerequisitesOf(c).find((p) => excluded.has(p) || !ids.has(p));
    if (need !== undefined) out.set(c.id, need);
  }
  return out;
}

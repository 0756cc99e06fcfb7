/**
 * The TUI's effect runner: carries out the reducer's requests with the same core
 * functions the subcommands use, and reports back with actions. No Ink here.
 */
import type { ScimClient } from '../api/client.ts';
import type { Capabilities } from '../api/discovery.ts';
import { applyEdits, newUserResource, parseEdits } from '../api/edit.ts';
import { changeMembers } from '../api/members.ts';
import { SchemaRegistry } from '../api/schema.ts';
import { searchUsersByName } from '../api/search.ts';
import { SCHEMA, type ScimGroup, type ScimUser } from '../api/types.ts';
import { updateResource } from '../api/update.ts';
import { cellChanges } from '../output/changes.ts';
import { validateUsers } from '../sources/resource-file.ts';
import type { ChangeResult } from '../sync/apply.ts';
import type { RunHistory } from '../sync/history.ts';
import type { Action, Request } from './state/app.ts';

export interface TuiDeps {
  client: ScimClient;
  caps: Capabilities;
  history?: RunHistory;
  /** Applies the plan under review (sync run / apply), reporting each change. */
  applyPlan?: (excluded: ReadonlySet<string>, onResult: (r: ChangeResult) => void) => Promise<string>;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

export async function runRequest(req: Request, deps: TuiDeps, dispatch: (a: Action) => void): Promise<void> {
  const { client, caps } = deps;
  try {
    switch (req.kind) {
      case 'load': {
        if (req.what === 'runs') {
          dispatch({ type: 'loaded', what: 'runs', rows: deps.history?.list() ?? [], gen: req.gen });
          return;
        }
        const api = req.what === 'users' ? client.users : client.groups;
        let batch: unknown[] = [];
        let total: number | undefined;
        for await (const r of api.list({ onPage: (p) => (total = p.total) })) {
          batch.push(r);
          if (batch.length >= 500) {
            dispatch({ type: 'rows', what: req.what, rows: batch, total, gen: req.gen });
            batch = [];
          }
        }
        if (batch.length) dispatch({ type: 'rows', what: req.what, rows: batch, total, gen: req.gen });
        dispatch({ type: 'loaded', what: req.what, gen: req.gen });
        return;
      }
      case 'search': {
        const found: ScimUser[] = [];
        for await (const u of searchUsersByName(client.users, req.query, () => undefined)) {
          found.push(u);
          if (found.length >= 200) break;
        }
        dispatch({ type: 'searchResults', query: req.query, rows: found });
        return;
      }
      case 'openUser':
        dispatch({ type: 'userLoaded', user: await client.users.get(req.id) });
        return;
      case 'openGroup':
        dispatch({ type: 'groupLoaded', group: await client.groups.get(req.id) });
        return;
      case 'setActive': {
        const before = await client.users.get(req.id);
        const { result, method } = await updateResource(client.users, caps, before, { ...before, active: req.active }, SCHEMA.USER);
        dispatch({ type: 'userChanged', user: result, message: method === 'none' ? `${before.userName} is already ${req.active ? 'active' : 'inactive'}` : `${before.userName} is now ${req.active ? 'active' : 'inactive'}` });
        return;
      }
      case 'delete': {
        await (req.what === 'user' ? client.users : client.groups).delete(req.id);
        dispatch({ type: 'deleted', what: req.what, id: req.id, message: `deleted ${req.what} ${req.id}` });
        return;
      }
      case 'edit': {
        const registry = new SchemaRegistry(caps.schemas);
        const edits = req.edit.includes('=') ? parseEdits([req.edit], [], registry, SCHEMA.USER, caps.schemasFromServer) : parseEdits([], [req.edit], registry, SCHEMA.USER, caps.schemasFromServer);
        const before = await client.users.get(req.id);
        const { result, method } = await updateResource(client.users, caps, before, applyEdits(before, edits), SCHEMA.USER);
        const changed = cellChanges(before, result, SCHEMA.USER, registry).map((c) => `${c.column}: ${c.before ?? '∅'} → ${c.after ?? '∅'}`);
        dispatch({ type: 'userChanged', user: result, message: method === 'none' ? 'nothing to change' : `saved (${method}): ${changed.join('; ')}` });
        return;
      }
      case 'create': {
        const registry = new SchemaRegistry(caps.schemas);
        const resource = newUserResource(req.fields);
        const problems = validateUsers([{ resource, file: 'form', line: 0 }], registry);
        if (problems.length) {
          dispatch({ type: 'status', text: problems.map((p) => `${p.field ?? ''} ${p.message}`.trim()).join('; '), level: 'error' });
          return;
        }
        const created = await client.users.create(resource as Omit<ScimUser, 'id'>);
        dispatch({ type: 'rows', what: 'users', rows: [created] });
        dispatch({ type: 'status', text: `created ${created.userName} (${created.id})`, level: 'info' });
        return;
      }
      case 'membership': {
        const outcome = await changeMembers(client.groups, caps, req.groupId, req.add ? { add: [req.userId] } : { remove: [req.userId] });
        const user = await client.users.get(req.userId);
        const group: ScimGroup = await client.groups.get(req.groupId);
        dispatch({ type: 'groupChanged', group, message: `${req.add ? 'added to' : 'removed from'} ${group.displayName}${outcome.method === 'none' ? ' (no change needed)' : ''}` });
        dispatch({ type: 'userChanged', user, message: `${req.add ? 'added to' : 'removed from'} ${group.displayName}` });
        return;
      }
      case 'apply': {
        if (!deps.applyPlan) throw new Error('no plan to apply');
        const summary = await deps.applyPlan(new Set(req.excluded), (result) => dispatch({ type: 'applyResult', result }));
        dispatch({ type: 'applyFinished', message: summary });
        return;
      }
    }
  } catch (e) {
    if (req.kind === 'load') dispatch({ type: 'loadFailed', what: req.what, message: `reading ${req.what} failed: ${message(e)}`, gen: req.gen });
    else if (req.kind === 'apply') dispatch({ type: 'applyFinished', message: `apply failed: ${message(e)}` });
    else dispatch({ type: 'status', text: message(e), level: 'error' });
  }
}

/**
 * The TUI's effect runner: carries out the reducer's requests with the same core
 * functions the subcommands use, and reports back with actions. No Ink here.
 */
import type { ScimClient } from '../api/client.ts';
import type { Capabilities } from '../api/discovery.ts';
import { applyEdits, newUserResource, parseEdits } from '../api/edit.ts';
import type { RetryInfo } from '../api/http.ts';
import { ResponseError } from '../api/errors.ts';
import { changeMembers } from '../api/members.ts';
import type { PageInfo } from '../api/paging.ts';
import { SchemaRegistry } from '../api/schema.ts';
import { searchUsersByName } from '../api/search.ts';
import { SCHEMA, type ScimGroup, type ScimUser } from '../api/types.ts';
import { updateResource } from '../api/update.ts';
import { cellChanges } from '../output/changes.ts';
import { validateUsers } from '../sources/resource-file.ts';
import type { ChangeResult } from '../sync/apply.ts';
import type { RunHistory } from '../sync/history.ts';
import { runDetail } from '../output/run-detail.ts';
import { userHistoryLines } from '../output/user-history.ts';
import { userHistory } from '../sync/user-history.ts';
import type { SyncHandle } from '../sync/session.ts';
import type { Action, Request } from './state/app.ts';

export interface TuiDeps {
  client: ScimClient;
  caps: Capabilities;
  history?: RunHistory;
  /** The profile the explorer shows: the runs view lists that profile's runs only (absent: every run). */
  profile?: string;
  /** Applies the plan under review (sync run / apply), reporting each change. */
  applyPlan?: (excluded: ReadonlySet<string>, onResult: (r: ChangeResult) => void) => Promise<string>;
  /**
   * Plans a sync from the profile's configured source (the runs view's "sync now"): a handle on the planned run, to
   * apply or close.
   */
  startSync?: () => Promise<SyncHandle>;
  /**
   * Tells `listener` of each retry of the client's requests (instead of the command line's status line); the
   * function returned stops it.
   */
  onRetry?: (listener: (info: RetryInfo) => void) => () => void;
}

/**
 * The effect runner's own state: the planned sync under review, per explorer (its deps). The
 * review applies it, or closes it (`closeSync`, asked by the reducer when the review is left for
 * the runs, before they are read again): a run not applied ends as such.
 */
const underReview = new WeakMap<TuiDeps, SyncHandle>();

function closeReview(deps: TuiDeps): void {
  const handle = underReview.get(deps);
  if (!handle) return;
  handle.close();
  if (handle.finished) underReview.delete(deps);
}

/**
 * What the users list keeps of each listed user: what its columns, search and sort read.
 * Opening a user reads it in full from the server. With 100,000 users this halves the
 * explorer's memory (the full resources, with meta, schemas and extensions, take twice as much).
 */
/** The attributes the users list shows, searches and sorts by. */
export const LIST_ATTRIBUTES = ['userName', 'displayName', 'active', 'name', 'emails', 'groups'];

export function listRow(u: ScimUser): ScimUser {
  // One literal: V8 keeps all the fields in the object itself (no separate property array).
  return {
    id: u.id,
    userName: u.userName,
    displayName: u.displayName,
    active: u.active,
    name:
      u.name && typeof u.name === 'object' ? { givenName: u.name.givenName, familyName: u.name.familyName } : u.name,
    emails: u.emails,
    groups: u.groups,
  };
}

/**
 * How often, at most, a listing hands its new rows to the list after the first page. Each
 * hand-over copies the whole list (the state is immutable) and repaints: with 100,000 users,
 * handing over every 500 rows meant 200 copies of up to 100,000 entries, and tens of MiB more RSS.
 */
const FLUSH_MS = 1000;

const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/** The new-user form's fields by the attribute paths the validation names. */
const CREATE_FIELDS: Record<string, string> = {
  'emails[work].value': 'email',
  'name.givenName': 'givenName',
  'name.familyName': 'familyName',
};

/**
 * A validation message as a form shows it beside the field: without the command line's wording ("--set PATH") and
 * without the attribute path the field's label already says.
 */
export function formMessage(text: string, path: string): string {
  let m = text.replace(/^--(?:set|unset) /u, '');
  if (path && m.startsWith(`${path} `)) m = m.slice(path.length + 1);
  return m.replace(/^is (?:not )?/u, (w) => (w === 'is not ' ? 'not ' : '')).trim();
}

/** The server's count of users or groups, from a one-item page; a server that does not say is left uncounted. */
async function count(what: 'users' | 'groups', client: ScimClient, dispatch: (a: Action) => void): Promise<void> {
  let total: number | undefined;
  try {
    const api = what === 'users' ? client.users : client.groups;
    // Ids only: a server that ignores `count` answers a full page, of ids rather than whole resources.
    // Not broken off: the page's total is told once the page is read.
    const ask = { limit: 1, pageSize: 1, attributes: ['id'], onPage: (p: PageInfo) => (total = p.total) };
    for await (const _ of api.list(ask)) void _;
  } catch {
    return; // The count is a nicety: the list says what went wrong when it is opened.
  }
  if (total !== undefined) dispatch({ type: 'counted', what, total });
}

/** Reads the users or groups list, handing rows over as pages arrive (the first at once, then about every FLUSH_MS). */
async function loadList(
  what: 'users' | 'groups',
  gen: number | undefined,
  client: ScimClient,
  dispatch: (a: Action) => void,
): Promise<void> {
  const req = { what, gen };
  const api = req.what === 'users' ? client.users : client.groups;
  let batch: unknown[] = [];
  let total: number | undefined;
  // The first page shows at once; later pages are handed over together, about every FLUSH_MS.
  let flushed = 0;
  const flush = () => {
    if (batch.length) dispatch({ type: 'rows', what: req.what, rows: batch, total, gen: req.gen });
    batch = [];
    flushed = Date.now();
  };
  const onPage = (p: { total: number | undefined }) => {
    total = p.total;
    if (flushed === 0 || Date.now() - flushed >= FLUSH_MS) flush();
  };
  try {
    if (req.what === 'users') {
      // Ask only for what the list shows; a server that refuses `attributes` gets the plain listing.
      let rows = 0;
      try {
        for await (const r of client.users.list({ onPage, attributes: LIST_ATTRIBUTES })) {
          rows++;
          batch.push(listRow(r));
        }
      } catch (e) {
        if (rows > 0 || !(e instanceof ResponseError && e.status === 400)) throw e;
        for await (const r of client.users.list({ onPage })) batch.push(listRow(r));
      }
    } else {
      for await (const r of api.list({ onPage })) batch.push(r);
    }
  } finally {
    // Also when a page fails: what arrived is shown, with the error.
    flush();
  }
}

export async function runRequest(req: Request, deps: TuiDeps, dispatch: (a: Action) => void): Promise<void> {
  const { client, caps } = deps;
  if (req.kind === 'count') return count(req.what, client, dispatch);
  try {
    switch (req.kind) {
      case 'load': {
        if (req.what === 'runs') {
          dispatch({
            type: 'loaded',
            what: 'runs',
            rows: (deps.history?.list() ?? []).filter((r) => deps.profile === undefined || r.profile === deps.profile),
            gen: req.gen,
          });
          return;
        }
        await loadList(req.what, req.gen, client, dispatch);
        dispatch({ type: 'loaded', what: req.what, gen: req.gen });
        return;
      }
      case 'search': {
        const found: ScimUser[] = [];
        // What is loaded is searched on this side anyway: an empty server answer needs no scan of its own here.
        for await (const u of searchUsersByName(client.users, req.query, () => undefined, undefined, false)) {
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
        const { result, method } = await updateResource(
          client.users,
          caps,
          before,
          { ...before, active: req.active },
          SCHEMA.USER,
        );
        dispatch({
          type: 'userChanged',
          user: result,
          message:
            method === 'none'
              ? `${before.userName} is already ${req.active ? 'active' : 'inactive'}`
              : `${before.userName} is now ${req.active ? 'active' : 'inactive'}`,
        });
        return;
      }
      case 'delete': {
        await (req.what === 'user' ? client.users : client.groups).delete(req.id);
        dispatch({ type: 'deleted', what: req.what, id: req.id, message: `deleted ${req.what} ${req.name ?? req.id}` });
        return;
      }
      case 'edit': {
        const registry = new SchemaRegistry(caps.schemas);
        // PATH=VALUE sets (an empty VALUE removes); a bare PATH removes. Validated like --set and --unset, each
        // field on its own so that every refused one is named next to it.
        const parse = (list: string[]) =>
          parseEdits(
            list.filter((e) => e.includes('=')),
            list.filter((e) => !e.includes('=')),
            registry,
            SCHEMA.USER,
            caps.schemasFromServer,
          );
        const errors: Record<string, string> = {};
        for (const e of req.edits) {
          try {
            parse([e]);
          } catch (err) {
            const name = e.includes('=') ? e.slice(0, e.indexOf('=')) : e;
            errors[req.fields?.includes(name) ? name : ''] = formMessage(message(err), name);
          }
        }
        if (Object.keys(errors).length) {
          dispatch({ type: 'formErrors', errors });
          return;
        }
        const edits = parse(req.edits);
        const before = await client.users.get(req.id);
        const { result, method } = await updateResource(
          client.users,
          caps,
          before,
          applyEdits(before, edits),
          SCHEMA.USER,
        );
        const changed = cellChanges(before, result, SCHEMA.USER, registry).map(
          (c) => `${c.column}: ${c.before ?? '∅'} → ${c.after ?? '∅'}`,
        );
        dispatch({ type: 'formDone' });
        dispatch({
          type: 'userChanged',
          user: result,
          message: method === 'none' ? 'nothing to change' : `saved (${method}): ${changed.join('; ')}`,
        });
        return;
      }
      case 'create': {
        const registry = new SchemaRegistry(caps.schemas);
        const resource = newUserResource(req.fields);
        const problems = validateUsers([{ resource, file: 'form', line: 0 }], registry);
        if (problems.length) {
          const errors: Record<string, string> = {};
          for (const p of problems) {
            const name = p.field === undefined ? '' : (CREATE_FIELDS[p.field] ?? p.field);
            const key = name in req.fields ? name : '';
            errors[key] = [errors[key], formMessage(p.message, p.field ?? '')].filter(Boolean).join('; ');
          }
          dispatch({ type: 'formErrors', errors });
          return;
        }
        const created = await client.users.create(resource as Omit<ScimUser, 'id'>);
        dispatch({ type: 'formDone' });
        dispatch({ type: 'rows', what: 'users', rows: [created] });
        dispatch({ type: 'status', text: `created ${created.userName} (${created.id})`, level: 'info' });
        return;
      }
      case 'membership': {
        const outcome = await changeMembers(
          client.groups,
          caps,
          req.groupId,
          req.add ? { add: [req.userId] } : { remove: [req.userId] },
        );
        const user = await client.users.get(req.userId);
        const group: ScimGroup = await client.groups.get(req.groupId);
        const unchanged = outcome.method === 'none' ? ' (no change needed)' : '';
        dispatch({
          type: 'groupChanged',
          group,
          message: `${req.add ? 'added to' : 'removed from'} ${group.displayName}${unchanged}`,
        });
        dispatch({
          type: 'userChanged',
          user,
          message: `${req.add ? 'added to' : 'removed from'} ${group.displayName}`,
        });
        return;
      }
      case 'startSync': {
        if (!deps.startSync)
          throw new Error(
            'this profile has no sync source: add one with scimctl profile add NAME --url URL --sync-source FILE',
          );
        closeReview(deps);
        const handle = await deps.startSync();
        underReview.set(deps, handle);
        dispatch({ type: 'reviewReady', plan: handle.plan });
        return;
      }
      case 'closeSync':
        closeReview(deps);
        return;
      case 'openRun': {
        const history = deps.history;
        if (!history) return;
        const { lines, users } = runDetail(history, req.id);
        dispatch({ type: 'runOpened', id: req.id, lines, users });
        return;
      }
      case 'userHistory': {
        const history = deps.history;
        if (!history) return;
        const entries = userHistory(history, req.user, deps.profile !== undefined ? { profile: deps.profile } : {});
        dispatch({
          type: 'userHistoryOpened',
          user: req.user,
          lines: entries.length > 0 ? userHistoryLines(req.user, entries) : [`no run in the history knows ${req.user}`],
        });
        return;
      }
      case 'apply': {
        const handle = underReview.get(deps);
        const apply = handle ? handle.apply : deps.applyPlan;
        if (!apply) throw new Error('no plan to apply');
        const summary = await apply(new Set(req.excluded), (result) => dispatch({ type: 'applyResult', result }));
        dispatch({ type: 'applyFinished', message: summary });
        return;
      }
    }
  } catch (e) {
    if (req.kind === 'load')
      dispatch({
        type: 'loadFailed',
        what: req.what,
        message: `reading ${req.what} failed: ${message(e)}`,
        gen: req.gen,
      });
    else if (req.kind === 'apply') dispatch({ type: 'applyFinished', message: `apply failed: ${message(e)}` });
    else dispatch({ type: 'status', text: message(e), level: 'error' });
  }
}

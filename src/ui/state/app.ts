/**
 * The explorer's state and its one reducer. Every keypress becomes a command
 * (src/ui/keys.ts) and goes through here, in order, so keys that arrive
 * together never see stale state. Side effects (requests) are asked for with
 * `request` and carried out by the app's effect runner, which reports back
 * with more actions.
 */
import { primaryEmail, SCHEMA, type MultiValue, type ScimGroup, type ScimUser } from '../../api/types.ts';
import type { RunRecord } from '../../sync/history.ts';
import { commandFor, keyLabel, typed, type Command, type ViewContext, type ViewName } from '../keys.ts';
import {
  appendRows,
  cycleSort,
  emptyList,
  move,
  removeRow,
  replaceRows,
  resize,
  selectedItem,
  setQuery,
  updateRow,
  type ListModel,
  type ListState,
} from './list.ts';
import { initialReview, reviewReducer, type ReviewPlan, type ReviewState } from './review.ts';
import type { RunChangeUser } from '../../output/run-detail.ts';

export type Tab = 'users' | 'groups' | 'runs';

/** Requests for the effect runner: each carries what it needs. */
export type Request =
  | { kind: 'load'; what: Tab; gen: number }
  | { kind: 'search'; query: string }
  | { kind: 'openUser'; id: string }
  | { kind: 'openGroup'; id: string }
  | { kind: 'setActive'; id: string; active: boolean }
  /** `name`: the userName or displayName the status line names it by. */
  | { kind: 'delete'; what: 'user' | 'group'; id: string; name?: string }
  /** `fields`: the form's field names (each edit's refusal is shown next to its field). */
  | { kind: 'edit'; id: string; edits: string[]; fields?: string[] }
  | { kind: 'create'; fields: Record<string, string> }
  | { kind: 'membership'; userId: string; groupId: string; add: boolean }
  | { kind: 'apply'; excluded: string[] }
  | { kind: 'startSync' }
  /** The sync under review is left unapplied: its run ends as such (before the runs are read again). */
  | { kind: 'closeSync' }
  | { kind: 'openRun'; id: string }
  /** The history of a user across runs (`user`: an id or userName), from a change of the opened run. */
  | { kind: 'userHistory'; user: string }
  /** How many users or groups the server has (a one-item page): the header counts before a list is opened. */
  | { kind: 'count'; what: 'users' | 'groups' };

export type Overlay =
  | { kind: 'help' }
  /** A confirmation typed before a request is made (or before quitting: `then: 'quit'`). */
  | {
      kind: 'confirm';
      title: string;
      lines: string[];
      expected: string;
      input: string;
      then: Request | 'quit';
      /** The status line while the request is carried out ("working…" unless given). */
      working?: string;
    }
  /** The search prompt: shown in the footer line, over the list it narrows. */
  | { kind: 'prompt'; input: string; then: 'search' }
  | {
      kind: 'form';
      purpose: 'create' | 'edit';
      title: string;
      /** `error`: why the value was refused, shown next to the field (the input is kept). */
      fields: Array<{ name: string; label: string; value: string; initial?: string; error?: string }>;
      focus: number;
    }
  | {
      kind: 'pickGroup';
      add: boolean;
      query: string;
      selected: number;
      groups: Array<{ id: string; displayName: string }>;
    };

/** A user's history across runs (runs user), opened from a change of an opened run. */
export interface OpenHistory {
  user: string;
  lines: string[];
  scroll: number;
}

export interface AppState {
  columns: number;
  rows: number;
  view: ViewName;
  tab: Tab;
  users: ListState<ScimUser>;
  groups: ListState<ScimGroup>;
  runs: ListState<RunRecord>;
  /** The user or group open in the detail view. */
  user?: { id: string; resource?: ScimUser; scroll: number };
  group?: { id: string; resource?: ScimGroup; scroll: number };
  /** Which pane of the users or groups view has the keys: the list, or the detail of the selected row. */
  pane: 'list' | 'detail';
  /** The full resource of the selected row, once read for the detail pane. */
  preview?: { id: string; resource: ScimUser | ScimGroup; scroll: number };
  overlay?: Overlay;
  status?: { text: string; level: 'info' | 'error' };
  /** Requests not yet taken by the effect runner. */
  requests: Request[];
  review?: ReviewState;
  /**
   * A run opened from the runs view (Enter): its lines (summary, changes, failures, log) and how far scrolled; which
   * change line is about which user (the marked one is the first shown), and the history of one of them (h) while
   * open.
   */
  run?: { id: string; lines: string[]; scroll: number; users?: RunChangeUser[]; history?: OpenHistory };
  /** The review was opened from the runs view ("sync now"): closing it goes back there. */
  reviewFromRuns?: boolean;
  /** Search as you type: the users list shows server results for this query. */
  serverQuery?: string;
  /**
   * Users added while the listing was under way (server search matches, users created here): the listing skips them.
   */
  added?: ReadonlySet<string>;
  /** The users and groups lists show an id column (last); by default they lead with names and leave ids out. */
  showIds?: boolean;
  /** The current listing of each pane: answers of an older listing (before a reload) are dropped. */
  loads: Record<Tab, number>;
  /** The first listing is retrying a server that does not answer: which attempt of how many is next. */
  connecting?: { attempt: number; attempts: number };
  quit: boolean;
}

export type Action =
  | { type: 'key'; key: string }
  | { type: 'resize'; columns: number; rows: number }
  | { type: 'taken'; count: number }
  /** Rows of a listing (gen: which one), or rows added outside it (no gen: a user created here). */
  | { type: 'rows'; what: Tab; rows: unknown[]; total?: number; gen?: number }
  | { type: 'loaded'; what: Tab; rows?: unknown[]; gen?: number }
  | { type: 'loadFailed'; what: Tab; message: string; gen?: number }
  | { type: 'searchResults'; query: string; rows: ScimUser[] }
  | { type: 'userLoaded'; user: ScimUser }
  | { type: 'groupLoaded'; group: ScimGroup }
  | { type: 'userChanged'; user: ScimUser; message: string }
  | { type: 'groupChanged'; group: ScimGroup; message: string }
  | { type: 'deleted'; what: 'user' | 'group'; id: string; message: string }
  | { type: 'status'; text: string; level: 'info' | 'error' }
  /** The open form was refused: messages per field name ('' for the form as a whole); the input stays. */
  | { type: 'formErrors'; errors: Record<string, string> }
  /** The open form's create or save went through: it closes. */
  | { type: 'formDone' }
  | { type: 'counted'; what: 'users' | 'groups'; total: number }
  | { type: 'groupsForPicker'; groups: Array<{ id: string; displayName: string }> }
  | { type: 'applyResult'; result: import('../../sync/apply.ts').ChangeResult }
  | { type: 'applyFinished'; message: string }
  | { type: 'reviewReady'; plan: ReviewPlan }
  | { type: 'runOpened'; id: string; lines: string[]; users?: RunChangeUser[] }
  | { type: 'userHistoryOpened'; user: string; lines: string[] }
  /** A request is being retried (the server did not answer): `attempt` of `attempts` comes next. */
  | { type: 'retrying'; attempt: number; attempts: number };

export const USER_MODEL: ListModel<ScimUser> = {
  haystack: (u) =>
    (
      `${u.userName ?? ''} ${u.displayName ?? ''} ${u.name?.givenName ?? ''} ` +
      `${u.name?.familyName ?? ''} ${primaryEmail(u) ?? ''}`
    ).toLowerCase(),
  sortKeys: [
    (u) => u.userName ?? '',
    (u) => u.displayName ?? '',
    (u) => (u.active === false ? '1' : '0'),
    (u) => primaryEmail(u) ?? '',
  ],
  sortHeaders: ['userName', 'displayName', 'active', 'email'],
};
export const GROUP_MODEL: ListModel<ScimGroup> = {
  haystack: (g) => (g.displayName ?? '').toLowerCase(),
  sortKeys: [
    (g) => g.displayName ?? '',
    (g) => String(Array.isArray(g.members) ? g.members.length : 0).padStart(9, '0'),
  ],
  sortHeaders: ['displayName', 'members'],
};
export const RUN_MODEL: ListModel<RunRecord> = {
  haystack: (r) => `${r.id} ${r.command} ${r.status}`.toLowerCase(),
  sortKeys: [],
};

/** The column a list is sorted by, and which way (undefined in the server's order). */
export function sortedBy(s: AppState, tab: Tab): { header: string; desc: boolean } | undefined {
  const list = listOf(s, tab);
  const header = modelOf(tab).sortHeaders?.[list.sortColumn];
  return header === undefined ? undefined : { header, desc: list.sortDesc };
}

/** Rows the list pane has for data (header, footer and the table header taken off). */
export const listHeight = (s: Pick<AppState, 'rows'>) => Math.max(3, s.rows - 5);

/** The explorer, or the review of `plan` when one is given. */
export function initialState(columns: number, rows: number, plan?: ReviewPlan): AppState {
  const base: AppState = {
    columns,
    rows,
    view: plan ? 'review' : 'users',
    tab: 'users',
    // The explorer asks for users at once: the list is loading from the start.
    users: plan ? emptyList() : { ...emptyList(), loading: true },
    groups: emptyList(),
    runs: emptyList(),
    requests: plan
      ? []
      : [
          { kind: 'load', what: 'users', gen: 1 },
          { kind: 'count', what: 'groups' },
        ],
    pane: 'list',
    loads: { users: plan ? 0 : 1, groups: 0, runs: 0 },
    quit: false,
  };
  return plan ? { ...base, review: initialReview(plan.changes, plan) } : base;
}

const listOf = (s: AppState, tab: Tab) => (tab === 'users' ? s.users : tab === 'groups' ? s.groups : s.runs);
const modelOf = (tab: Tab) =>
  (tab === 'users' ? USER_MODEL : tab === 'groups' ? GROUP_MODEL : RUN_MODEL) as ListModel<unknown>;
function withList(s: AppState, tab: Tab, list: ListState<unknown>): AppState {
  return tab === 'users'
    ? { ...s, users: list as ListState<ScimUser> }
    : tab === 'groups'
      ? { ...s, groups: list as ListState<ScimGroup> }
      : { ...s, runs: list as ListState<RunRecord> };
}
const ask = (s: AppState, ...r: Request[]): AppState => ({ ...s, requests: [...s.requests, ...r] });
/** Starts a new listing of a pane (the list given as it should look meanwhile). */
function load(s: AppState, tab: Tab, list: ListState<unknown>): AppState {
  const gen = s.loads[tab] + 1;
  const next = withList({ ...s, loads: { ...s.loads, [tab]: gen } }, tab, list);
  return ask(tab === 'users' ? { ...next, added: undefined } : next, { kind: 'load', what: tab, gen });
}

function showTab(s: AppState, tab: Tab): AppState {
  const next: AppState = { ...s, tab, view: tab as ViewName, status: undefined, pane: 'list' };
  const list = listOf(next, tab);
  return list.items.length === 0 && !list.loading ? load(next, tab, { ...list, loading: true }) : next;
}

/** A typing dialog's text after a key: a character erased or typed; undefined if the key does neither. */
function edited(text: string, cmd: Command | undefined, key: string): string | undefined {
  if (cmd === 'erase') return text.slice(0, -1);
  return cmd === undefined ? typed(text, key) : undefined;
}

/** Keys while a dialog is open: its own bindings (src/ui/keys.ts), and text typed into it. */
function overlayKey(s: AppState, o: Overlay, key: string): AppState {
  const cmd = commandFor(o.kind, key);
  if (cmd === 'quit') return command({ ...s, overlay: undefined }, 'quit');
  if (o.kind === 'help') return cmd === 'close' ? { ...s, overlay: undefined } : s;
  if (cmd === 'cancel') return { ...s, overlay: undefined, status: { text: 'cancelled', level: 'info' } };
  if (o.kind === 'confirm') {
    if (cmd === 'submit') {
      if (o.input !== o.expected)
        return { ...s, overlay: undefined, status: { text: `not confirmed (type "${o.expected}")`, level: 'info' } };
      if (o.then === 'quit') return { ...s, overlay: undefined, quit: true };
      return ask({ ...s, overlay: undefined, status: { text: o.working ?? 'working…', level: 'info' } }, o.then);
    }
    const input = edited(o.input, cmd, key);
    return input === undefined ? s : { ...s, overlay: { ...o, input } };
  }
  if (o.kind === 'prompt') {
    if (cmd === 'submit') return { ...s, overlay: undefined };
    const input = edited(o.input, cmd, key);
    if (input === undefined) return s;
    return search({ ...s, overlay: { ...o, input } }, input);
  }
  if (o.kind === 'form') {
    if (cmd === 'nextField') return { ...s, overlay: { ...o, focus: (o.focus + 1) % o.fields.length } };
    if (cmd === 'prevField')
      return { ...s, overlay: { ...o, focus: (o.focus - 1 + o.fields.length) % o.fields.length } };
    if (cmd === 'submit') {
      // The form stays open until the server has taken it: a refusal shows next to the fields, the input kept.
      const open = { ...o, fields: o.fields.map((f) => ({ ...f, error: undefined })) };
      if (o.purpose === 'create')
        return ask(
          { ...s, overlay: open, status: { text: 'creating…', level: 'info' } },
          { kind: 'create', fields: Object.fromEntries(o.fields.map((f) => [f.name, f.value])) },
        );
      if (!s.user) return { ...s, overlay: undefined };
      // Only the fields that changed become edits (an emptied field removes its attribute); the last field takes any
      // PATH=VALUE.
      const edits = o.fields
        .filter((f) => f.name !== '' && f.value !== (f.initial ?? ''))
        .map((f) => `${f.name}=${f.value}`);
      const extra = o.fields.find((f) => f.name === '')?.value.trim();
      if (extra) edits.push(extra);
      if (edits.length === 0) return { ...s, overlay: undefined, status: { text: 'nothing changed', level: 'info' } };
      return ask(
        { ...s, overlay: open, status: { text: 'saving…', level: 'info' } },
        { kind: 'edit', id: s.user.id, edits, fields: o.fields.map((f) => f.name).filter(Boolean) },
      );
    }
    if (cmd === 'clearField')
      return { ...s, overlay: { ...o, fields: o.fields.map((f, i) => (i === o.focus ? { ...f, value: '' } : f)) } };
    const value = edited(o.fields[o.focus]!.value, cmd, key);
    if (value === undefined) return s;
    return { ...s, overlay: { ...o, fields: o.fields.map((f, i) => (i === o.focus ? { ...f, value } : f)) } };
  }
  // pickGroup
  const matches = o.groups.filter((g) => g.displayName.toLowerCase().includes(o.query.toLowerCase()));
  if (cmd === 'up' || cmd === 'down')
    return {
      ...s,
      overlay: { ...o, selected: Math.max(0, Math.min(matches.length - 1, o.selected + (cmd === 'up' ? -1 : 1))) },
    };
  if (cmd === 'submit') {
    const g = matches[o.selected];
    if (!g || !s.user) return { ...s, overlay: undefined };
    return ask(
      {
        ...s,
        overlay: undefined,
        status: { text: `${o.add ? 'adding to' : 'removing from'} ${g.displayName}…`, level: 'info' },
      },
      { kind: 'membership', userId: s.user.id, groupId: g.id, add: o.add },
    );
  }
  const query = edited(o.query, cmd, key);
  return query === undefined ? s : { ...s, overlay: { ...o, query, selected: 0 } };
}

/** Search as you type: client-side over what is loaded; the server is asked too while loading goes on. */
function search(s: AppState, query: string): AppState {
  const tab = s.tab === 'runs' ? 'users' : s.tab;
  const list = setQuery(listOf(s, tab), query, modelOf(tab), listHeight(s));
  const next = withList(s, tab, list as ListState<unknown>);
  if (tab === 'users' && !s.users.done && query.trim().length >= 2)
    return ask({ ...next, serverQuery: query }, { kind: 'search', query });
  return next;
}

/**
 * The runs view's keys for a run: Enter opens the selected one, and while one is open the moves scroll it and
 * back closes it. Undefined: not a key of a run.
 */
function runCommand(s: AppState, cmd: Command): AppState | undefined {
  if (s.view !== 'runs') return undefined;
  if (!s.run) {
    const item = cmd === 'open' ? selectedItem(s.runs) : undefined;
    return item ? ask(s, { kind: 'openRun', id: item.id }) : undefined;
  }
  const { history } = s.run;
  if (cmd === 'back' || cmd === 'backOrQuit')
    return { ...s, run: history ? { ...s.run, history: undefined } : undefined };
  const h = listHeight(s);
  if (cmd === 'userHistory') {
    if (history) return s;
    // The body shows an opened run on the list's lines and one more (App.tsx): the same lines the mark is on.
    const marked = markedChange(s.run, h + 1);
    return marked
      ? ask({ ...s, status: undefined }, { kind: 'userHistory', user: marked.user })
      : { ...s, status: { text: 'no change about a user on screen: scroll to one first', level: 'info' } };
  }
  const moves: Partial<Record<Command, number | 'top' | 'bottom'>> = {
    up: -1,
    down: 1,
    pageUp: -h,
    pageDown: h,
    top: 'top',
    bottom: 'bottom',
  };
  const delta = moves[cmd];
  if (delta === undefined) return undefined;
  const shown = history ?? s.run;
  const last = Math.max(0, shown.lines.length - 1);
  const moved = typeof delta === 'number' ? shown.scroll + delta : delta === 'top' ? 0 : last;
  const scroll = Math.max(0, Math.min(moved, last));
  return { ...s, run: history ? { ...s.run, history: { ...history, scroll } } : { ...s.run, scroll } };
}

/** The change of an opened run that `h` opens the history of: the first change about a user on screen. */
export function markedChange(
  run: Pick<NonNullable<AppState['run']>, 'users' | 'scroll'>,
  height: number,
): RunChangeUser | undefined {
  return run.users?.find((u) => u.line >= run.scroll && u.line < run.scroll + height);
}

/**
 * q (backOrQuit), Esc (back) and Ctrl+C (quit): back out of the innermost pane; Esc never quits (it clears the search
 * at the top level), q quits at the top level (asking first when review changes are not applied), Ctrl+C quits.
 */
function goBack(s: AppState, cmd: 'quit' | 'back' | 'backOrQuit'): AppState {
  const back = cmd !== 'quit';
  if (back && (s.view === 'user' || s.view === 'group'))
    return { ...s, view: s.tab, user: undefined, group: undefined, status: undefined };
  if (back && s.pane === 'detail' && (s.view === 'users' || s.view === 'groups')) return { ...s, pane: 'list' };
  // The changes under way cannot be called back: leaving now would report "nothing applied"
  // while they go on being applied. The review closes once they are done.
  if (s.view === 'review' && s.review?.phase === 'applying')
    return {
      ...s,
      status: {
        text: `changes are being applied: ${keyLabel('review', 'backOrQuit')} quits when they are done`,
        level: 'info',
      },
    };
  if (back && s.view === 'review' && s.reviewFromRuns) {
    const done = s.review?.phase === 'done';
    return load(
      ask(
        {
          ...s,
          view: 'runs',
          tab: 'runs',
          review: undefined,
          reviewFromRuns: false,
          status: {
            text: done ? (s.status?.text ?? 'applied') : 'closed the review: nothing applied',
            level: 'info',
          },
        },
        { kind: 'closeSync' },
      ),
      'runs',
      { ...s.runs, loading: true },
    );
  }
  // Esc never quits: it clears the search in force, and at the top level does nothing.
  if (cmd === 'back') {
    if ((s.view === 'users' || s.view === 'groups') && listOf(s, s.tab).query)
      return { ...search(s, ''), serverQuery: undefined };
    return s;
  }
  // q with review changes not yet applied asks first.
  if (cmd === 'backOrQuit' && s.view === 'review' && s.review?.phase === 'review') {
    const pending = s.review.changes.filter((c) => !s.review!.excluded.has(c.id)).length;
    if (pending > 0)
      return {
        ...s,
        overlay: {
          kind: 'confirm',
          title: 'Quit without applying?',
          lines: [`${pending} change(s) of this review are not applied; quitting leaves the target as it is.`],
          expected: 'yes',
          input: '',
          then: 'quit',
        },
      };
  }
  return { ...s, quit: true };
}

function command(s: AppState, cmd: Command): AppState {
  const inRun = runCommand(s, cmd);
  if (inRun) return inRun;
  const h = listHeight(s);
  const inList = s.view === 'users' || s.view === 'groups' || s.view === 'runs';
  switch (cmd) {
    case 'quit':
    case 'back':
    case 'backOrQuit':
      return goBack(s, cmd);
    case 'help':
      return { ...s, overlay: { kind: 'help' } };
    case 'up':
    case 'down':
    case 'pageUp':
    case 'pageDown':
    case 'top':
    case 'bottom': {
      const delta = cmd === 'up' ? -1 : cmd === 'down' ? 1 : cmd === 'pageUp' ? -h : cmd === 'pageDown' ? h : cmd;
      if (s.view === 'review' && s.review) return { ...s, review: reviewReducer(s.review, { type: 'move', delta }) };
      if (s.view === 'user' && s.user)
        return {
          ...s,
          user: {
            ...s.user,
            scroll: Math.max(0, typeof delta === 'number' ? s.user.scroll + delta : delta === 'top' ? 0 : 1e6),
          },
        };
      if (s.view === 'group' && s.group)
        return {
          ...s,
          group: {
            ...s.group,
            scroll: Math.max(0, typeof delta === 'number' ? s.group.scroll + delta : delta === 'top' ? 0 : 1e6),
          },
        };
      if (!inList) return s;
      if (s.pane === 'detail' && s.view !== 'runs') {
        const scroll = s.preview?.scroll ?? 0;
        const next = Math.max(0, typeof delta === 'number' ? scroll + delta : delta === 'top' ? 0 : 1e6);
        return s.preview ? { ...s, preview: { ...s.preview, scroll: next } } : s;
      }
      return withList(s, s.tab, move(listOf(s, s.tab) as ListState<unknown>, delta, h));
    }
    case 'open': {
      const item = selectedItem(listOf(s, s.tab) as ListState<{ id: string }>);
      if (!item) return s;
      if (s.tab === 'users')
        return ask(
          { ...s, view: 'user', user: { id: item.id, resource: item as ScimUser, scroll: 0 } },
          { kind: 'openUser', id: item.id },
        );
      if (s.tab === 'groups')
        return ask(
          { ...s, view: 'group', group: { id: item.id, resource: item as ScimGroup, scroll: 0 } },
          { kind: 'openGroup', id: item.id },
        );
      return s;
    }
    case 'search':
      return { ...s, overlay: { kind: 'prompt', input: listOf(s, s.tab).query, then: 'search' } };
    case 'nextPane': {
      if (s.pane === 'detail') return { ...s, pane: 'list' };
      const item = selectedItem(listOf(s, s.tab) as ListState<{ id: string }>);
      if (!item || s.tab === 'runs') return s;
      // The detail pane shows the selected row at once, and all of it once read.
      const preview = { id: item.id, resource: item as ScimUser | ScimGroup, scroll: 0 };
      return ask(
        { ...s, pane: 'detail', preview },
        s.tab === 'users' ? { kind: 'openUser', id: item.id } : { kind: 'openGroup', id: item.id },
      );
    }
    case 'showUsers':
      return showTab(s, 'users');
    case 'showGroups':
      return showTab(s, 'groups');
    case 'showRuns':
      return showTab(s, 'runs');
    case 'sort':
      return withList(s, s.tab, cycleSort(listOf(s, s.tab) as ListState<unknown>, modelOf(s.tab), h));
    case 'toggleIds':
      return { ...s, showIds: !s.showIds };
    case 'refresh':
      return load(s, s.tab, { ...emptyList(), loading: true });
    case 'create':
      return {
        ...s,
        overlay: {
          kind: 'form',
          purpose: 'create',
          title: 'New user',
          focus: 0,
          fields: [
            { name: 'userName', label: 'userName', value: '' },
            { name: 'givenName', label: 'given name', value: '' },
            { name: 'familyName', label: 'family name', value: '' },
            { name: 'email', label: 'work e-mail', value: '' },
          ],
        },
      };
    case 'edit': {
      const u = s.user?.resource;
      if (!u) return s;
      const field = (name: string, label: string, value: unknown) => ({
        name,
        label,
        value: value === undefined || value === null ? '' : String(value),
        initial: value === undefined || value === null ? '' : String(value),
      });
      const work = (Array.isArray(u.emails) ? u.emails : []).find((e) => e?.type === 'work')?.value;
      const dept = (u[SCHEMA.ENTERPRISE_USER] as { department?: unknown } | undefined)?.department;
      return {
        ...s,
        overlay: {
          kind: 'form',
          purpose: 'edit',
          title: `Edit ${u.userName}`,
          focus: 0,
          fields: [
            field('userName', 'userName', u.userName),
            field('displayName', 'displayName', u.displayName),
            field('name.givenName', 'given name', u.name?.givenName),
            field('name.familyName', 'family name', u.name?.familyName),
            field('title', 'title', u.title),
            field('emails[work].value', 'work e-mail', work),
            field('active', 'active', u.active),
            field(`${SCHEMA.ENTERPRISE_USER}:department`, 'department', dept),
            { name: '', label: 'other', value: '', initial: '' },
          ],
        },
      };
    }
    case 'activate':
    case 'deactivate': {
      const u = s.user?.resource;
      if (!u) return s;
      // Deactivating locks the user out: it is confirmed like a deletion.
      if (cmd === 'deactivate' && u.active !== false)
        return {
          ...s,
          overlay: {
            kind: 'confirm',
            title: 'Deactivate user',
            lines: [
              `userName:    ${u.userName}`,
              `displayName: ${u.displayName ?? ''}`,
              '',
              `The user can no longer sign in; ${keyLabel('user', 'activate')} activates again.`,
            ],
            expected: 'yes',
            input: '',
            then: { kind: 'setActive', id: u.id, active: false },
            working: `deactivating ${u.userName}…`,
          },
        };
      return ask(
        {
          ...s,
          status: { text: `${cmd === 'activate' ? 'activating' : 'deactivating'} ${u.userName}…`, level: 'info' },
        },
        { kind: 'setActive', id: u.id, active: cmd === 'activate' },
      );
    }
    case 'delete': {
      if (s.view === 'user' && s.user?.resource) {
        const u = s.user.resource;
        return {
          ...s,
          overlay: {
            kind: 'confirm',
            title: 'Delete user',
            lines: [
              `userName:    ${u.userName}`,
              `displayName: ${u.displayName ?? ''}`,
              `id:          ${u.id}`,
              '',
              'This cannot be undone.',
            ],
            expected: 'yes',
            input: '',
            then: { kind: 'delete', what: 'user', id: u.id, name: u.userName },
          },
        };
      }
      if (s.view === 'group' && s.group?.resource) {
        const g = s.group.resource;
        return {
          ...s,
          overlay: {
            kind: 'confirm',
            title: 'Delete group',
            lines: [
              `displayName: ${g.displayName}`,
              `members:     ${g.members?.length ?? 0}`,
              `id:          ${g.id}`,
              '',
              'Its members are kept. This cannot be undone.',
            ],
            expected: 'yes',
            input: '',
            then: { kind: 'delete', what: 'group', id: g.id, name: g.displayName },
          },
        };
      }
      return s;
    }
    case 'addToGroup':
    case 'removeFromGroup': {
      if (!s.user?.resource) return s;
      const add = cmd === 'addToGroup';
      const mine = (s.user.resource.groups ?? []).map((g: MultiValue) => ({
        id: g.value ?? '',
        displayName: g.display ?? g.value ?? '',
      }));
      const groups = add
        ? s.groups.items
            .filter((g) => !mine.some((m) => m.id === g.id))
            .map((g) => ({ id: g.id, displayName: g.displayName }))
        : mine;
      const next: AppState = { ...s, overlay: { kind: 'pickGroup', add, query: '', selected: 0, groups } };
      return add && !s.groups.done && !s.groups.loading
        ? load(next, 'groups', { ...s.groups, loading: true } as ListState<unknown>)
        : next;
    }
    case 'toggle':
    case 'expand':
    case 'expandAll':
    case 'filter':
      return s.review ? { ...s, review: reviewReducer(s.review, { type: cmd }) } : s;
    case 'apply':
      return s.review ? { ...s, review: reviewReducer(s.review, { type: 'apply' }) } : s;
    case 'startSync':
      return ask(
        { ...s, status: { text: "planning from the profile's source: reading source and target…", level: 'info' } },
        { kind: 'startSync' },
      );
    // Bound only in an opened run (runCommand), and dialog commands only in dialogs (overlayKey).
    case 'userHistory':
    case 'close':
    case 'cancel':
    case 'submit':
    case 'erase':
    case 'nextField':
    case 'prevField':
    case 'clearField':
      return s;
  }
}

/** Users that join the list before the listing has reached them: the listing will not add them again. */
function addUsers(s: AppState, rows: ScimUser[]): AppState {
  return {
    ...s,
    users: appendRows(s.users, rows, USER_MODEL, s.users.total, listHeight(s)),
    added: new Set([...(s.added ?? []), ...rows.map((u) => u.id)]),
  };
}

/** The view the keys and hints are those of: the review after apply has its own (keys.ts). */
export function viewContext(s: Pick<AppState, 'view' | 'review' | 'run'>): ViewContext {
  if (s.view === 'runs' && s.run) return 'run';
  return s.view === 'review' && s.review?.phase === 'done' ? 'reviewDone' : s.view;
}

export function appReducer(s: AppState, a: Action): AppState {
  const h = listHeight(s);
  switch (a.type) {
    case 'key': {
      if (s.overlay) return overlayKey(s, s.overlay, a.key);
      if (s.view === 'review' && s.review?.phase === 'confirm') {
        if (commandFor('confirmApply', a.key) === 'quit') return { ...s, quit: true };
        const review = reviewReducer(s.review, { type: 'confirmKey', key: a.key });
        return review.phase === 'applying'
          ? ask({ ...s, review }, { kind: 'apply', excluded: [...review.excluded] })
          : { ...s, review };
      }
      const cmd = commandFor(viewContext(s), a.key);
      return cmd ? command(s, cmd) : s;
    }
    case 'resize': {
      const next = { ...s, columns: a.columns, rows: a.rows };
      const nh = listHeight(next);
      return { ...next, users: resize(s.users, nh), groups: resize(s.groups, nh), runs: resize(s.runs, nh) };
    }
    case 'taken':
      return { ...s, requests: s.requests.slice(a.count) };
    case 'retrying': {
      // Only while the list on show has nothing yet (the first load): later retries do not hide what is listed.
      const list = listOf(s, s.tab) as ListState<unknown>;
      if (!list.loading || list.items.length > 0) return s;
      return { ...s, connecting: { attempt: a.attempt, attempts: a.attempts } };
    }
    case 'rows': {
      if (s.connecting) return appReducer({ ...s, connecting: undefined }, a);
      if (a.gen !== undefined && a.gen !== s.loads[a.what]) return s;
      const list = listOf(s, a.what) as ListState<unknown>;
      if (a.what === 'users' && a.gen === undefined && !list.done) return addUsers(s, a.rows as ScimUser[]);
      const added = a.what === 'users' ? s.added : undefined;
      const rows = added ? a.rows.filter((r) => !added.has((r as ScimUser).id)) : a.rows;
      return withList(s, a.what, appendRows(list, rows, modelOf(a.what), a.total, h));
    }
    case 'loaded': {
      if (s.connecting) return appReducer({ ...s, connecting: undefined }, a);
      if (a.gen !== undefined && a.gen !== s.loads[a.what]) return s;
      const list = listOf(s, a.what) as ListState<unknown>;
      const done = a.rows ? replaceRows(list, a.rows, modelOf(a.what), h) : { ...list, loading: false, done: true };
      let next = withList(s, a.what, done);
      if (a.what === 'groups' && s.overlay?.kind === 'pickGroup' && s.overlay.add && s.user?.resource) {
        const mine = new Set((s.user.resource.groups ?? []).map((g) => g.value));
        next = {
          ...next,
          overlay: {
            ...s.overlay,
            groups: next.groups.items
              .filter((g) => !mine.has(g.id))
              .map((g) => ({ id: g.id, displayName: g.displayName })),
          },
        };
      }
      return next;
    }
    case 'loadFailed':
      if (s.connecting) return appReducer({ ...s, connecting: undefined }, a);
      if (a.gen !== undefined && a.gen !== s.loads[a.what]) return s;
      return withList({ ...s, status: { text: a.message, level: 'error' } }, a.what, {
        ...listOf(s, a.what),
        loading: false,
        error: a.message,
      } as ListState<unknown>);
    case 'searchResults': {
      if (a.query !== s.serverQuery || s.users.done) return s;
      // Merge server matches the client has not loaded yet.
      const have = new Set(s.users.items.map((u) => u.id));
      const fresh = a.rows.filter((u) => !have.has(u.id));
      return fresh.length ? addUsers(s, fresh) : s;
    }
    case 'userLoaded': {
      const next = s.preview?.id === a.user.id ? { ...s, preview: { ...s.preview, resource: a.user } } : s;
      return s.user?.id === a.user.id
        ? { ...next, user: { ...s.user, resource: a.user }, users: updateRow(s.users, a.user) }
        : next;
    }
    case 'groupLoaded': {
      const next = s.preview?.id === a.group.id ? { ...s, preview: { ...s.preview, resource: a.group } } : s;
      return s.group?.id === a.group.id
        ? { ...next, group: { ...s.group, resource: a.group }, groups: updateRow(s.groups, a.group) }
        : next;
    }
    case 'userChanged':
      return {
        ...s,
        users: updateRow(s.users, a.user),
        user: s.user?.id === a.user.id ? { ...s.user, resource: a.user } : s.user,
        status: { text: a.message, level: 'info' },
      };
    case 'groupChanged':
      return { ...s, groups: updateRow(s.groups, a.group), status: { text: a.message, level: 'info' } };
    case 'deleted': {
      const base = { ...s, status: { text: a.message, level: 'info' as const } };
      if (a.what === 'user')
        return {
          ...base,
          users: removeRow(s.users, a.id, h),
          view: s.view === 'user' ? 'users' : s.view,
          user: undefined,
        };
      return {
        ...base,
        groups: removeRow(s.groups, a.id, h),
        view: s.view === 'group' ? 'groups' : s.view,
        group: undefined,
      };
    }
    case 'status':
      return { ...s, status: { text: a.text, level: a.level } };
    case 'counted':
      return withList(s, a.what, { ...listOf(s, a.what), total: a.total } as ListState<unknown>);
    case 'formDone':
      return s.overlay?.kind === 'form' ? { ...s, overlay: undefined } : s;
    case 'formErrors': {
      const o = s.overlay;
      if (o?.kind !== 'form') return s;
      const fields = o.fields.map((f) => ({ ...f, error: f.name ? a.errors[f.name] : undefined }));
      const first = fields.findIndex((f) => f.error);
      // The status line names the fields by their labels; what belongs to no field is said as it is.
      const text = [...fields.filter((f) => f.error).map((f) => `${f.label}: ${f.error}`), a.errors[''] ?? '']
        .filter(Boolean)
        .join('; ');
      return {
        ...s,
        overlay: { ...o, fields, focus: first >= 0 ? first : o.focus },
        status: { text, level: 'error' },
      };
    }
    case 'groupsForPicker':
      return s.overlay?.kind === 'pickGroup' ? { ...s, overlay: { ...s.overlay, groups: a.groups } } : s;
    case 'applyResult':
      return s.review ? { ...s, review: reviewReducer(s.review, { type: 'result', result: a.result }) } : s;
    case 'runOpened':
      return s.view === 'runs'
        ? { ...s, run: { id: a.id, lines: a.lines, scroll: 0, ...(a.users ? { users: a.users } : {}) } }
        : s;
    case 'userHistoryOpened':
      return s.view === 'runs' && s.run
        ? { ...s, run: { ...s.run, history: { user: a.user, lines: a.lines, scroll: 0 } } }
        : s;
    case 'reviewReady': {
      const n = a.plan.changes.length;
      return {
        ...s,
        view: 'review',
        review: initialReview(a.plan.changes, a.plan),
        reviewFromRuns: true,
        status: { text: n ? `${n} change(s) to review` : 'no changes: the target matches the source', level: 'info' },
      };
    }
    case 'applyFinished':
      // The header's counts are asked again: the apply has changed them.
      return s.review
        ? ask(
            { ...s, review: reviewReducer(s.review, { type: 'finished' }), status: { text: a.message, level: 'info' } },
            { kind: 'count', what: 'users' },
            { kind: 'count', what: 'groups' },
          )
        : s;
  }
}

/**
 * The explorer: header, one pane, status and key hints. Views are fed by props
 * from the one reducer; one useInput routes every key through it.
 */
import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { useEffect, useReducer, useRef } from 'react';
import { SchemaRegistry } from '../api/schema.ts';
import { SCHEMA, type ScimGroup, type ScimUser } from '../api/types.ts';
import { flattenResource } from '../formats/scim-csv.ts';
import { changeLines, summaryText } from '../output/plan.ts';
import { USER_COLUMNS, GROUP_COLUMNS, MEMBER_COLUMNS } from '../output/resources.ts';
import { RUN_TAB_COLUMNS as RUN_COLUMNS } from '../output/runs.ts';
import { padEnd, truncate, type Column } from '../output/table.ts';
import { safeText } from '../output/safe-text.ts';
import { kindFacts } from '../sync/change-kinds.ts';
import type { Change } from '../sync/model.ts';
import { Table } from './components/Table.tsx';
import { runRequest, type TuiDeps } from './effects.ts';
import { BINDINGS, hintsFor, keyName, splitKeys, type InkKey } from './keys.ts';
import { appReducer, initialState, listHeight, type AppState, type Overlay } from './state/app.ts';
import type { ListState } from './state/list.ts';
import { includedSummary, progressOf, shownChanges, type ReviewState } from './state/review.ts';

/** How long typing must pause before the server is asked (search as you type). */
export const SEARCH_DEBOUNCE_MS = 250;

export interface AppProps {
  deps: TuiDeps;
  profile: string;
  url: string;
  /** Open the plan review with these changes instead of the explorer. */
  changes?: Change[];
  /** Colours allowed (false with NO_COLOR): errors are then marked by text, not red. */
  color?: boolean;
  /** Size to start with (tests); the terminal's otherwise. */
  columns?: number;
  rows?: number;
}

const ACTIVE_USER_COLUMNS: Column<ScimUser>[] = USER_COLUMNS.map((c) => (c.header === 'active' ? { ...c, value: (u: ScimUser) => (u.active === false ? '✗ no' : 'yes') } : c));

function Header({ state, profile, url }: { state: AppState; profile: string; url: string }) {
  const count = (l: ListState<unknown>) => `${l.items.length.toLocaleString('en-US')}${l.total !== undefined && l.total > l.items.length ? `/${l.total.toLocaleString('en-US')}` : ''}${l.loading ? '…' : ''}`;
  const tab = (name: string, key: string, active: boolean, n: string) => (active ? `[${key} ${name} ${n}]` : ` ${key} ${name} ${n} `);
  const left = `scimctl  ${profile}  ${url}`;
  const tabs = state.view === 'review' ? 'plan review' : `${tab('users', '1', state.tab === 'users', count(state.users))}${tab('groups', '2', state.tab === 'groups', count(state.groups))}${tab('runs', '3', state.tab === 'runs', count(state.runs))}`;
  return (
    <Box>
      <Text bold wrap="truncate">
        {/* The URL gives way first: the tabs carry the counts. */}
        {truncate(`${padEnd(truncate(left, Math.max(1, state.columns - tabs.length - 1)), Math.max(0, state.columns - tabs.length - 1))} ${tabs}`, state.columns)}
      </Text>
    </Box>
  );
}

function Footer({ state, color }: { state: AppState; color: boolean }) {
  const status = state.status;
  const o = state.overlay;
  const list = state.tab === 'users' ? state.users : state.groups;
  const line =
    o?.kind === 'prompt' && o.then === 'search'
      ? `/${o.input}▏  (${list.visible.length.toLocaleString('en-US')} match${list.loading ? ', still loading: the server is asked too' : ''}; Enter keeps, Esc closes)`
      : status
        ? `${!color && status.level === 'error' ? 'error: ' : ''}${status.text}`
        : (state.view === 'users' || state.view === 'groups') && list.query
          ? `filter: ${list.query} (${list.visible.length} shown; / to change)`
          : '';
  return (
    <Box flexDirection="column">
      <Text color={color && status?.level === 'error' && !(o?.kind === 'prompt') ? 'red' : undefined} wrap="truncate">
        {truncate(line, state.columns)}
      </Text>
      <Text dimColor wrap="truncate">
        {truncate(hintsFor(state.view), state.columns)}
      </Text>
    </Box>
  );
}

function ListPane({ state, width, color }: { state: AppState; width: number; color: boolean }) {
  const height = listHeight(state) + 1;
  const list = state.tab === 'users' ? state.users : state.tab === 'groups' ? state.groups : state.runs;
  const columns = (state.tab === 'users' ? ACTIVE_USER_COLUMNS : state.tab === 'groups' ? GROUP_COLUMNS : RUN_COLUMNS) as Column<unknown>[];
  if (list.error && list.items.length === 0) return <Text color={color ? 'red' : undefined}>{safeText(list.error)}</Text>;
  if (list.items.length === 0) return <Text dimColor>{list.loading ? `loading ${state.tab}…` : `no ${state.tab}`}</Text>;
  const rows = list.visible.slice(list.offset, list.offset + height - 1).map((i) => list.items[i]);
  return <Table rows={rows} columns={columns} width={width} height={height} offset={0} selected={list.selected - list.offset} />;
}

/** Terminals at least this wide show the list and the detail pane side by side. */
const SPLIT_MIN_COLUMNS = 110;

/** The detail pane: the selected row at once, every attribute once read. */
function PreviewPane({ state, width }: { state: AppState; width: number }) {
  const list = state.tab === 'users' ? state.users : state.groups;
  const row = list.visible[list.selected] === undefined ? undefined : (list.items[list.visible[list.selected]!] as ScimUser | ScimGroup);
  if (!row) return <Text dimColor>nothing selected</Text>;
  const resource = state.preview?.id === row.id ? state.preview.resource : row;
  const lines =
    state.tab === 'users'
      ? [...detailLines(resource as ScimUser, SCHEMA.USER).filter((l) => !/^(schemas|meta\.)/.test(l)).map((l) => l.replace(/^(\S+)\s+/, '$1  ')), '', `groups: ${((resource as ScimUser).groups ?? []).map((g) => g.display ?? g.value).join(', ') || '(none listed)'}`]
      : [`displayName  ${(resource as ScimGroup).displayName}`, `members      ${(resource as ScimGroup).members?.length ?? 0}`, ...((resource as ScimGroup).members ?? []).map((m) => `  ${m.display ?? m.value}`)];
  const height = listHeight(state) + 1;
  const scroll = state.preview?.id === row.id ? Math.min(state.preview.scroll, Math.max(0, lines.length - height)) : 0;
  return (
    <Box flexDirection="column" width={width}>
      {lines.slice(scroll, scroll + height).map((l, i) => (
        <Text key={i} wrap="truncate">
          {truncate(l, width)}
        </Text>
      ))}
    </Box>
  );
}

function detailLines(resource: ScimUser | ScimGroup, core: string): string[] {
  const rows: string[] = [];
  for (const [column, cell] of flattenResource(resource, { registry: new SchemaRegistry(), coreSchema: core })) {
    if (column === 'members' || column.startsWith('groups')) continue;
    rows.push(`${padEnd(column, 28)} ${cell}`);
  }
  return rows;
}

function UserDetail({ state }: { state: AppState }) {
  const u = state.user?.resource;
  if (!u) return <Text dimColor>loading…</Text>;
  const groups = (u.groups ?? []).map((g) => `  ${g.display ?? g.value}${g.type && g.type !== 'direct' ? ` (${g.type})` : ''}`);
  const lines = [...detailLines(u, SCHEMA.USER), '', `groups (${groups.length}):`, ...(groups.length ? groups : ['  (none, or the server does not list them)'])];
  const height = listHeight(state) + 1;
  const scroll = Math.min(state.user!.scroll, Math.max(0, lines.length - height));
  return (
    <Box flexDirection="column">
      {lines.slice(scroll, scroll + height).map((l, i) => (
        <Text key={i} wrap="truncate">
          {truncate(l, state.columns)}
        </Text>
      ))}
    </Box>
  );
}

function GroupDetail({ state }: { state: AppState }) {
  const g = state.group?.resource;
  if (!g) return <Text dimColor>loading…</Text>;
  const members = g.members ?? [];
  const height = listHeight(state) + 1;
  const head = [`displayName  ${g.displayName}`, `id           ${g.id}`, `members      ${members.length}`];
  const scroll = Math.min(state.group!.scroll, Math.max(0, members.length - 1));
  return (
    <Box flexDirection="column">
      {head.map((l) => (
        <Text key={l} wrap="truncate">
          {truncate(l, state.columns)}
        </Text>
      ))}
      <Table rows={members} columns={MEMBER_COLUMNS} width={state.columns} height={Math.max(2, height - head.length)} offset={scroll} />
    </Box>
  );
}

function ReviewPane({ state, review, color }: { state: AppState; review: ReviewState; color: boolean }) {
  const registry = new SchemaRegistry();
  const shown = shownChanges(review);
  const lines: Array<{ text: string; selected?: boolean; dim?: boolean; color?: string }> = [];
  let lastKind = '';
  shown.forEach((c, i) => {
    if (c.kind !== lastKind) {
      lastKind = c.kind;
      lines.push({ text: `${kindFacts(c.kind).title} (${shown.filter((x) => x.kind === c.kind).length})`, dim: true });
    }
    const result = review.results[c.id];
    const mark = result ? (result.status === 'applied' ? '✓' : result.status === 'failed' ? '✗' : '-') : review.excluded.has(c.id) ? ' ' : '✔';
    const [head, ...rest] = changeLines(c, registry, review.expanded.has(c.id));
    lines.push({ text: `[${mark}] ${head}${result?.status === 'failed' ? `  — ${result.detail ?? 'failed'}` : ''}`, selected: i === review.selected, dim: review.excluded.has(c.id), color: result?.status === 'failed' ? 'red' : undefined });
    for (const r of rest) lines.push({ text: `      ${r.trim()}`, dim: review.excluded.has(c.id) });
  });
  const height = listHeight(state);
  const selectedLine = lines.findIndex((l) => l.selected);
  const start = Math.max(0, Math.min(selectedLine - Math.floor(height / 2), lines.length - height));
  const s = includedSummary(review);
  const p = progressOf(review);
  const footer =
    review.phase === 'confirm'
      ? `Apply ${review.changes.length - s.excluded} change(s)? Type "yes" and Enter: ${review.confirmInput}`
      : review.phase === 'applying'
        ? `Applying… ${p.done}/${p.total}${p.failed ? `, ${p.failed} failed` : ''}  ${'█'.repeat(Math.round((p.done / Math.max(1, p.total)) * 20)).padEnd(20, '░')}`
        : review.phase === 'done'
          ? `Done: ${p.applied} applied, ${p.failed} failed, ${p.excluded} excluded. q to quit.`
          : summaryText(s);
  // On a line of its own: after the summary it would be cut off on a terminal 80 or 100 columns wide.
  const filterLine = review.phase === 'review' ? `filter: ${review.filter}${s.excluded ? `  ·  ${s.excluded} excluded` : ''}` : '';
  return (
    <Box flexDirection="column">
      {shown.length === 0 ? <Text dimColor>No changes{review.filter !== 'all' ? ' of this kind' : ''}: the target matches the source.</Text> : null}
      {lines.slice(Math.max(0, start), Math.max(0, start) + height).map((l, i) => (
        <Text key={i} inverse={l.selected} dimColor={l.dim} color={color ? l.color : undefined} wrap="truncate">
          {truncate(l.text, state.columns)}
        </Text>
      ))}
      <Text bold wrap="truncate">
        {truncate(footer, state.columns)}
      </Text>
      <Text wrap="truncate">{truncate(filterLine, state.columns)}</Text>
    </Box>
  );
}

function OverlayPane({ overlay, state }: { overlay: Overlay; state: AppState }) {
  const w = state.columns;
  if (overlay.kind === 'help') {
    // The keys of the view help was opened in: the whole table does not fit a terminal 24 or 30
    // rows high, and lines that do not fit are silently dropped. Two columns when even these do not fit.
    const here = BINDINGS.filter((b) => !b.views || b.views.includes(state.view));
    const room = Math.max(1, state.rows - 4);
    const split = here.length > room ? Math.ceil(here.length / 2) : here.length;
    const columns = split < here.length ? [here.slice(0, split), here.slice(split)] : [here];
    const width = Math.floor(w / columns.length);
    return (
      <Box flexDirection="column">
        <Text bold>{`Keys (${state.view})`}</Text>
        <Box>
          {columns.map((bindings, c) => (
            <Box key={c} flexDirection="column" width={width}>
              {bindings.map((b) => (
                <Text key={`${b.command}-${b.keys.join()}`} wrap="truncate">
                  {truncate(`${padEnd(b.keys.map((k) => (k === ' ' ? 'space' : k)).join(', '), 24)} ${b.label}`, width - 1)}
                </Text>
              ))}
            </Box>
          ))}
        </Box>
      </Box>
    );
  }
  if (overlay.kind === 'confirm') {
    return (
      <Box flexDirection="column" borderStyle="round" paddingX={1}>
        <Text bold>{safeText(overlay.title)}</Text>
        {overlay.lines.map((l, i) => (
          <Text key={i}>{truncate(l, w - 4)}</Text>
        ))}
        <Text>{`Type "${overlay.expected}" and Enter to go ahead, Esc to cancel: ${overlay.input}`}</Text>
      </Box>
    );
  }
  if (overlay.kind === 'prompt') {
    return (
      <Box flexDirection="column" borderStyle="round" paddingX={1}>
        <Text bold>{safeText(overlay.title)}</Text>
        <Text dimColor>{truncate(overlay.hint, w - 4)}</Text>
        <Text>{`> ${overlay.input}`}</Text>
      </Box>
    );
  }
  if (overlay.kind === 'form') {
    return (
      <Box flexDirection="column" borderStyle="round" paddingX={1}>
        <Text bold>{`${safeText(overlay.title)} (Tab: next field, Ctrl+U: clear it, Enter: ${overlay.purpose === 'create' ? 'create' : 'save'}, Esc: cancel)`}</Text>
        {overlay.fields.map((f, i) => (
          <Text key={`${f.label}`} inverse={i === overlay.focus} wrap="truncate">
            {truncate(`${padEnd(f.label, 14)} ${f.value}`, w - 4)}
          </Text>
        ))}
        {overlay.purpose === 'edit' ? <Text dimColor>{truncate('An emptied field removes the attribute; "other" takes any PATH=VALUE (checked against the server schema).', w - 4)}</Text> : null}
      </Box>
    );
  }
  const matches = overlay.groups.filter((g) => g.displayName.toLowerCase().includes(overlay.query.toLowerCase()));
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold>{overlay.add ? 'Add to group' : 'Remove from group'} (type to filter, Enter: choose, Esc: cancel)</Text>
      <Text>{`> ${overlay.query}`}</Text>
      {matches.slice(0, Math.max(3, listHeight(state) - 4)).map((g, i) => (
        <Text key={g.id} inverse={i === overlay.selected}>
          {truncate(g.displayName, w - 4)}
        </Text>
      ))}
      {matches.length === 0 ? <Text dimColor>{overlay.groups.length === 0 ? 'loading groups…' : 'no group matches'}</Text> : null}
    </Box>
  );
}

export function App({ deps, profile, url, changes, columns, rows, color = true }: AppProps) {
  const { stdout } = useStdout();
  const { exit } = useApp();
  const [state, dispatch] = useReducer(appReducer, undefined, () => initialState(columns ?? stdout.columns ?? 80, (rows ?? stdout.rows ?? 24) - 1, changes));

  useEffect(() => {
    if (columns !== undefined) return undefined;
    const onResize = () => dispatch({ type: 'resize', columns: stdout.columns, rows: stdout.rows - 1 });
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout, columns]);

  // Requests go to the effect runner once each. Server searches wait for a pause in typing
  // (SEARCH_DEBOUNCE_MS): only the last query of a burst reaches the server.
  const searchTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => {
    if (state.requests.length === 0) return;
    const taken = state.requests;
    dispatch({ type: 'taken', count: taken.length });
    for (const req of taken) {
      if (req.kind === 'search') {
        clearTimeout(searchTimer.current);
        searchTimer.current = setTimeout(() => void runRequest(req, deps, dispatch), SEARCH_DEBOUNCE_MS);
      } else void runRequest(req, deps, dispatch);
    }
  }, [state.requests, deps]);
  useEffect(() => () => clearTimeout(searchTimer.current), []);

  const quitting = useRef(false);
  useEffect(() => {
    if (state.quit && !quitting.current) {
      quitting.current = true;
      exit();
    }
  }, [state.quit, exit]);

  useInput((input, key) => {
    const name = keyName(input, key as InkKey);
    // A terminal may deliver several keys in one chunk: replay them one by one.
    if (name === input && input.length > 1) for (const k of splitKeys(input)) dispatch({ type: 'key', key: k });
    else dispatch({ type: 'key', key: name });
  });

  const searching = state.overlay?.kind === 'prompt' && state.overlay.then === 'search';
  const body = state.overlay && !searching ? (
    <OverlayPane overlay={state.overlay} state={state} />
  ) : state.view === 'review' && state.review ? (
    <ReviewPane state={state} review={state.review} color={color} />
  ) : state.view === 'user' ? (
    <UserDetail state={state} />
  ) : state.view === 'group' ? (
    <GroupDetail state={state} />
  ) : state.view === 'runs' ? (
    <ListPane state={state} width={state.columns} color={color} />
  ) : state.columns >= SPLIT_MIN_COLUMNS ? (
    <Box flexDirection="row">
      <ListPane state={state} width={Math.floor(state.columns * 0.6)} color={color} />
      <Text> </Text>
      <Box borderStyle="single" borderTop={false} borderBottom={false} borderRight={false} borderDimColor={state.pane !== 'detail'} paddingLeft={1}>
        <PreviewPane state={state} width={state.columns - Math.floor(state.columns * 0.6) - 3} />
      </Box>
    </Box>
  ) : state.pane === 'detail' ? (
    <PreviewPane state={state} width={state.columns} />
  ) : (
    <ListPane state={state} width={state.columns} color={color} />
  );
  return (
    <Box flexDirection="column" height={state.rows} width={state.columns}>
      <Header state={state} profile={profile} url={url} />
      <Box flexDirection="column" flexGrow={1}>
        {body}
      </Box>
      <Footer state={state} color={color} />
    </Box>
  );
}

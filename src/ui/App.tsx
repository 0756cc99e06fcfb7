/**
 * The explorer: header, one pane, status and key hints. The panes
 * (src/ui/components) are fed narrow props from the one reducer; one useInput
 * routes every key through it.
 */
import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { useEffect, useReducer, useRef } from 'react';
import type { ScimGroup, ScimUser } from '../api/types.ts';
import { ConfirmDialog } from './components/ConfirmDialog.tsx';
import { Footer } from './components/Footer.tsx';
import { FormDialog } from './components/FormDialog.tsx';
import { GroupDetail } from './components/GroupDetail.tsx';
import { GroupPicker } from './components/GroupPicker.tsx';
import { Header } from './components/Header.tsx';
import { HelpOverlay } from './components/HelpOverlay.tsx';
import { ListPane } from './components/ListPane.tsx';
import { PreviewPane } from './components/PreviewPane.tsx';
import { truncate } from '../output/table.ts';
import { ReviewPane } from './components/ReviewPane.tsx';
import { UserDetail } from './components/UserDetail.tsx';
import { runRequest, type TuiDeps } from './effects.ts';
import { hintsFor, keyName, splitKeys, type InkKey } from './keys.ts';
import {
  appReducer,
  initialState,
  listHeight,
  markedChange,
  sortedBy,
  viewContext,
  type AppState,
} from './state/app.ts';
import type { ListState } from './state/list.ts';
import { removalCount, type ReviewPlan } from './state/review.ts';

/** How long typing must pause before the server is asked (search as you type). */
export const SEARCH_DEBOUNCE_MS = 250;

/** Runs `fn` after `ms` milliseconds; the function returned cancels it. */
export type Schedule = (fn: () => void, ms: number) => () => void;

const schedule: Schedule = (fn, ms) => {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
};

export interface AppProps {
  deps: TuiDeps;
  profile: string;
  url: string;
  /** Open the review of this plan (its changes, problems and notes) instead of the explorer. */
  plan?: ReviewPlan;
  /** Colours allowed (false with NO_COLOR): errors are then marked by text, not red. */
  color?: boolean;
  /** Size to start with (tests); the terminal's otherwise. */
  columns?: number;
  rows?: number;
  /** The timer behind the search debounce (tests drive it by hand); setTimeout otherwise. */
  schedule?: Schedule;
}

/** Terminals at least this wide show the list and the detail pane side by side. */
const SPLIT_MIN_COLUMNS = 110;

/** The body under the header: a dialog, the review, an open user or group, or the list (with its detail pane). */
function Body({ state, color }: { state: AppState; color: boolean }) {
  const { columns, rows, overlay: o } = state;
  const height = listHeight(state) + 1;
  if (o?.kind === 'help') return <HelpOverlay view={viewContext(state)} columns={columns} rows={rows} />;
  if (o?.kind === 'confirm')
    return <ConfirmDialog title={o.title} lines={o.lines} expected={o.expected} input={o.input} width={columns} />;
  if (o?.kind === 'form')
    return (
      <FormDialog purpose={o.purpose} title={o.title} fields={o.fields} focus={o.focus} width={columns} color={color} />
    );
  if (o?.kind === 'pickGroup')
    return (
      <GroupPicker
        add={o.add}
        query={o.query}
        selected={o.selected}
        groups={o.groups}
        width={columns}
        height={Math.max(3, listHeight(state) - 4)}
      />
    );
  // The search prompt is the footer's line: the list narrows above it as you type.
  if (state.view === 'review' && state.review)
    return (
      <ReviewPane
        review={state.review}
        width={columns}
        height={listHeight(state)}
        color={color}
        split={columns >= SPLIT_MIN_COLUMNS}
      />
    );
  if (state.view === 'user')
    return <UserDetail user={state.user?.resource} scroll={state.user?.scroll ?? 0} width={columns} height={height} />;
  if (state.view === 'group')
    return (
      <GroupDetail group={state.group?.resource} scroll={state.group?.scroll ?? 0} width={columns} height={height} />
    );
  const list = (
    state.tab === 'users' ? state.users : state.tab === 'groups' ? state.groups : state.runs
  ) as ListState<unknown>;
  if (state.view === 'runs' && state.run?.history) {
    const { history } = state.run;
    return (
      <Box flexDirection="column">
        {history.lines.slice(history.scroll, history.scroll + height).map((l, i) => (
          <Text key={i} wrap="truncate" color={color && l.includes('result: ✗') ? 'red' : undefined}>
            {truncate(l, columns)}
          </Text>
        ))}
      </Box>
    );
  }
  if (state.view === 'runs' && state.run) {
    // The change `h` opens the history of is marked (inverse).
    const marked = markedChange(state.run, height)?.line;
    return (
      <Box flexDirection="column">
        {state.run.lines.slice(state.run.scroll, state.run.scroll + height).map((l, i) => (
          <Text
            key={i}
            wrap="truncate"
            inverse={state.run!.scroll + i === marked}
            color={color ? (l.startsWith('✗') ? 'red' : l.startsWith('[✓]') ? 'green' : undefined) : undefined}
          >
            {truncate(l, columns)}
          </Text>
        ))}
      </Box>
    );
  }
  if (state.view === 'runs') return <ListPane what="runs" list={list} width={columns} height={height} color={color} />;
  const what = state.tab === 'groups' ? 'groups' : 'users';
  const row =
    list.visible[list.selected] === undefined
      ? undefined
      : (list.items[list.visible[list.selected]!] as ScimUser | ScimGroup);
  const read = row && state.preview?.id === row.id ? state.preview : undefined;
  const preview = (width: number) => (
    <PreviewPane
      what={what}
      resource={read?.resource ?? row}
      scroll={read?.scroll ?? 0}
      width={width}
      height={height}
    />
  );
  if (columns >= SPLIT_MIN_COLUMNS) {
    const listWidth = Math.floor(columns * 0.6);
    return (
      <Box flexDirection="row">
        <ListPane
          what={what}
          list={list}
          width={listWidth}
          height={height}
          color={color}
          showIds={state.showIds}
          sort={sortedBy(state, what)}
          connecting={state.connecting}
        />
        <Text> </Text>
        <Box
          // The pane with the keys: a heavy line (seen without colour too), dimmed when the list has them.
          borderStyle={state.pane === 'detail' ? 'bold' : 'single'}
          borderTop={false}
          borderBottom={false}
          borderRight={false}
          borderDimColor={state.pane !== 'detail'}
          paddingLeft={1}
        >
          {preview(columns - listWidth - 3)}
        </Box>
      </Box>
    );
  }
  return state.pane === 'detail' ? (
    preview(columns)
  ) : (
    <ListPane
      what={what}
      list={list}
      width={columns}
      height={height}
      color={color}
      showIds={state.showIds}
      sort={sortedBy(state, what)}
      connecting={state.connecting}
    />
  );
}

export function App({ deps, profile, url, plan, columns, rows, color = true, schedule: later = schedule }: AppProps) {
  const { stdout } = useStdout();
  const { exit } = useApp();
  const [state, dispatch] = useReducer(appReducer, undefined, () =>
    initialState(columns ?? stdout.columns ?? 80, (rows ?? stdout.rows ?? 24) - 1, plan),
  );

  useEffect(() => {
    if (columns !== undefined) return undefined;
    const onResize = () => dispatch({ type: 'resize', columns: stdout.columns, rows: stdout.rows - 1 });
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout, columns]);

  // Requests go to the effect runner once each. Server searches wait for a pause in typing
  // (SEARCH_DEBOUNCE_MS): only the last query of a burst reaches the server.
  const cancelSearch = useRef<(() => void) | undefined>(undefined);
  useEffect(() => {
    if (state.requests.length === 0) return;
    const taken = state.requests;
    dispatch({ type: 'taken', count: taken.length });
    for (const req of taken) {
      if (req.kind === 'search') {
        cancelSearch.current?.();
        cancelSearch.current = later(() => void runRequest(req, deps, dispatch), SEARCH_DEBOUNCE_MS);
      } else void runRequest(req, deps, dispatch);
    }
  }, [state.requests, deps, later]);
  useEffect(() => () => cancelSearch.current?.(), []);

  // Retries of a server that does not answer: a "connecting… attempt N/M" state while the first load waits.
  useEffect(() => {
    if (!deps.onRetry) return undefined;
    return deps.onRetry((info) => dispatch({ type: 'retrying', attempt: info.attempt + 1, attempts: info.attempts }));
  }, [deps]);

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

  const o = state.overlay;
  const list = state.tab === 'users' ? state.users : state.groups;
  const review = state.view === 'review' ? (state.review ?? { problems: [], notes: [] }) : undefined;
  return (
    <Box flexDirection="column" height={state.rows} width={state.columns}>
      <Header
        columns={state.columns}
        profile={profile}
        url={url}
        tab={state.tab}
        lists={{ users: state.users, groups: state.groups, runs: state.runs }}
        connecting={state.connecting}
        review={
          review && {
            problems: review.problems.length,
            notes: review.notes.length,
            removals: state.review ? removalCount(state.review) : 0,
          }
        }
      />
      <Box flexDirection="column" flexGrow={1}>
        <Body state={state} color={color} />
      </Box>
      <Footer
        columns={state.columns}
        color={color}
        status={state.status}
        hints={hintsFor(viewContext(state), state.columns)}
        search={
          o?.kind === 'prompt' ? { input: o.input, matches: list.visible.length, loading: list.loading } : undefined
        }
        filter={
          (state.view === 'users' || state.view === 'groups') && list.query
            ? { query: list.query, shown: list.visible.length }
            : undefined
        }
      />
    </Box>
  );
}

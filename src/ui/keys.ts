/**
 * Key bindings as data: one table says which key does what in which view or
 * dialog. The app routes every keypress through `commandFor`, the help overlay
 * lists the table, the footer shows the hints for the current view, and each
 * dialog names its keys from the table (`keyLabel`).
 */

export type ViewName = 'users' | 'groups' | 'user' | 'group' | 'runs' | 'review';

/**
 * Dialogs: while one is open only its own bindings apply, and a printable key it
 * does not bind is typed into it (`typed`). `confirmApply` is the review's "type yes" line.
 */
export type DialogName = 'help' | 'confirm' | 'prompt' | 'form' | 'pickGroup' | 'confirmApply';

/**
 * A view in a phase whose keys differ: `reviewDone` is the review after apply, where only reading is left
 * (moving, the failures, their detail); `run` is a run opened in the runs view, which has the runs view's keys and
 * its own (the history of a change's user).
 */
export type ViewContext = ViewName | 'reviewDone' | 'run';

/** Where a key is pressed: a view, or a dialog open over it. */
export type Context = ViewContext | DialogName;

export type Command =
  | 'quit'
  | 'back'
  | 'backOrQuit'
  | 'help'
  | 'up'
  | 'down'
  | 'pageUp'
  | 'pageDown'
  | 'top'
  | 'bottom'
  | 'open'
  | 'search'
  | 'nextPane'
  | 'showUsers'
  | 'showGroups'
  | 'showRuns'
  | 'sort'
  | 'toggleIds'
  | 'refresh'
  | 'edit'
  | 'create'
  | 'activate'
  | 'deactivate'
  | 'delete'
  | 'addToGroup'
  | 'removeFromGroup'
  | 'toggle'
  | 'expand'
  | 'expandAll'
  | 'filter'
  | 'apply'
  | 'startSync'
  | 'userHistory'
  // Dialogs
  | 'close'
  | 'cancel'
  | 'submit'
  | 'erase'
  | 'nextField'
  | 'prevField'
  | 'clearField';

export interface Binding {
  keys: string[];
  command: Command;
  /** Views or dialogs where it applies; absent means every view (never a dialog: there keys are typed). */
  views?: Context[];
  label: string;
  /** Shown in the footer of those views. */
  hint?: boolean;
  /**
   * How much the hint matters when the footer is narrow: 1 essential (never dropped while it fits), 2 useful,
   * 3 (the default) the first to go.
   */
  priority?: 1 | 2 | 3;
}

const LISTS: ViewName[] = ['users', 'groups', 'runs', 'review', 'user', 'group'];
const DIALOGS: DialogName[] = ['help', 'confirm', 'prompt', 'form', 'pickGroup', 'confirmApply'];
/** The dialogs that take typed text. */
const TYPING: DialogName[] = ['confirm', 'prompt', 'form', 'pickGroup', 'confirmApply'];

export const BINDINGS: Binding[] = [
  { keys: ['ctrl+c'], command: 'quit', label: 'quit' },
  // q goes back, and quits at the top level (asking first when review changes are unapplied); Esc never quits.
  { keys: ['q'], command: 'backOrQuit', label: 'back / quit', hint: true, priority: 1 },
  { keys: ['escape'], command: 'back', label: 'back / clear search' },
  { keys: ['?'], command: 'help', label: 'help', hint: true, priority: 1 },
  { keys: ['up', 'k'], command: 'up', views: LISTS, label: 'move up' },
  { keys: ['down', 'j'], command: 'down', views: LISTS, label: 'move down' },
  { keys: ['pageup', 'ctrl+b'], command: 'pageUp', views: LISTS, label: 'page up' },
  {
    keys: ['pagedown', 'ctrl+f', ' '],
    command: 'pageDown',
    views: ['users', 'groups', 'runs', 'user', 'group'],
    label: 'page down',
  },
  { keys: ['g', 'home'], command: 'top', views: LISTS, label: 'first' },
  { keys: ['G', 'end'], command: 'bottom', views: LISTS, label: 'last' },
  { keys: ['return'], command: 'open', views: ['users', 'groups', 'runs'], label: 'open', hint: true, priority: 1 },
  // In an opened run: the change marked (the first on screen) names the user.
  {
    keys: ['h'],
    command: 'userHistory',
    views: ['run'],
    label: "marked change's user: history",
    hint: true,
    priority: 1,
  },
  { keys: ['/'], command: 'search', views: ['users', 'groups'], label: 'search', hint: true, priority: 2 },
  { keys: ['tab'], command: 'nextPane', views: ['users', 'groups'], label: 'list / detail pane', hint: true },
  {
    keys: ['1'],
    command: 'showUsers',
    views: ['users', 'groups', 'runs'],
    label: 'users (2 groups, 3 runs)',
    hint: true,
    priority: 2,
  },
  { keys: ['2'], command: 'showGroups', views: ['users', 'groups', 'runs'], label: 'groups' },
  { keys: ['3'], command: 'showRuns', views: ['users', 'groups', 'runs'], label: 'sync runs' },
  { keys: ['s'], command: 'sort', views: ['users', 'groups'], label: 'sort by next column', hint: true },
  { keys: ['I'], command: 'toggleIds', views: ['users', 'groups'], label: 'show / hide ids' },
  { keys: ['r'], command: 'refresh', views: ['users', 'groups', 'runs'], label: 'reload' },
  {
    keys: ['p'],
    command: 'startSync',
    views: ['runs'],
    label: "sync now: plan from the profile's source, review, apply",
    hint: true,
    priority: 1,
  },
  { keys: ['n'], command: 'create', views: ['users'], label: 'new user', hint: true, priority: 2 },
  { keys: ['e'], command: 'edit', views: ['user'], label: 'edit attributes', hint: true, priority: 2 },
  { keys: ['a'], command: 'activate', views: ['user'], label: 'activate', hint: true },
  { keys: ['d'], command: 'deactivate', views: ['user'], label: 'deactivate', hint: true, priority: 2 },
  // Not the Delete key too: Ink reports Backspace (0x7f) as "delete", and Backspace must not start a deletion.
  { keys: ['D'], command: 'delete', views: ['user', 'group'], label: 'delete…', hint: true, priority: 2 },
  { keys: ['+'], command: 'addToGroup', views: ['user'], label: 'add to group', hint: true },
  { keys: ['-'], command: 'removeFromGroup', views: ['user'], label: 'remove from group', hint: true },
  { keys: [' '], command: 'toggle', views: ['review'], label: 'include / exclude', hint: true, priority: 1 },
  { keys: ['return', 'right', 'l'], command: 'expand', views: ['review'], label: 'expand', hint: true, priority: 2 },
  { keys: ['f'], command: 'filter', views: ['review'], label: 'filter by kind', hint: true },
  { keys: ['a'], command: 'apply', views: ['review'], label: 'apply', hint: true, priority: 1 },
  // PgDn pages the review too (space there includes or excludes).
  { keys: ['pagedown', 'ctrl+f'], command: 'pageDown', views: ['review', 'reviewDone'], label: 'page down' },
  // The review after apply: read the outcome by moving, the failures only, the server's word on one.
  { keys: ['up', 'k'], command: 'up', views: ['reviewDone'], label: 'move up' },
  { keys: ['down', 'j'], command: 'down', views: ['reviewDone'], label: 'move down' },
  { keys: ['pageup', 'ctrl+b'], command: 'pageUp', views: ['reviewDone'], label: 'page up' },
  { keys: ['g', 'home'], command: 'top', views: ['reviewDone'], label: 'first' },
  { keys: ['G', 'end'], command: 'bottom', views: ['reviewDone'], label: 'last' },
  {
    keys: ['return', 'right', 'l'],
    command: 'expand',
    views: ['reviewDone'],
    label: "the server's detail",
    hint: true,
  },
  { keys: ['f'], command: 'filter', views: ['reviewDone'], label: 'failures / all', hint: true },
  { keys: ['e'], command: 'expandAll', views: ['review', 'reviewDone'], label: 'expand / collapse all', hint: true },
  // Dialogs
  { keys: ['ctrl+c'], command: 'quit', views: DIALOGS, label: 'quit' },
  { keys: ['escape', 'q', '?', 'return'], command: 'close', views: ['help'], label: 'close' },
  { keys: ['escape'], command: 'cancel', views: TYPING, label: 'cancel' },
  { keys: ['return'], command: 'submit', views: TYPING, label: 'go ahead' },
  // Ink reports Backspace as "delete": both take back the last character.
  { keys: ['backspace', 'delete'], command: 'erase', views: TYPING, label: 'erase a character' },
  { keys: ['tab', 'down'], command: 'nextField', views: ['form'], label: 'next field' },
  { keys: ['shift+tab', 'up'], command: 'prevField', views: ['form'], label: 'previous field' },
  { keys: ['ctrl+u'], command: 'clearField', views: ['form'], label: 'clear it' },
  { keys: ['up'], command: 'up', views: ['pickGroup'], label: 'move up' },
  { keys: ['down'], command: 'down', views: ['pickGroup'], label: 'move down' },
];

const VIEWS: readonly Context[] = ['users', 'groups', 'user', 'group', 'runs', 'review', 'reviewDone', 'run'];
/** An opened run has the keys of the runs view, and its own. */
const appliesIn = (b: Binding, context: Context) =>
  b.views ? b.views.includes(context) || (context === 'run' && b.views.includes('runs')) : VIEWS.includes(context);

export function commandFor(context: Context, key: string): Command | undefined {
  return BINDINGS.find((b) => b.keys.includes(key) && appliesIn(b, context))?.command;
}

/** The bindings of a view or dialog, in table order (the help overlay lists them). */
export function bindingsFor(context: Context): Binding[] {
  return BINDINGS.filter((b) => appliesIn(b, context));
}

const KEY_LABELS: Record<string, string> = {
  return: 'Enter',
  escape: 'Esc',
  tab: 'Tab',
  'shift+tab': 'Shift+Tab',
  ' ': 'space',
};

/** The key a dialog names for a command ("Enter", "Esc", "Ctrl+U"): the first one the table binds there. */
export function keyLabel(context: Context, command: Command): string {
  const key = bindingsFor(context).find((b) => b.command === command)?.keys[0];
  if (key === undefined) throw new Error(`no key for ${command} in ${context}`);
  return KEY_LABELS[key] ?? key.replace(/^ctrl\+(.)$/u, (_, c: string) => `Ctrl+${c.toUpperCase()}`);
}

/** What the table says a command does in a view or dialog. */
export function commandLabel(context: Context, command: Command): string {
  const binding = bindingsFor(context).find((b) => b.command === command);
  if (!binding) throw new Error(`no key for ${command} in ${context}`);
  return binding.label;
}

/** "Key: what it does" for a dialog's line of keys, the label the table's unless given. */
export function keyHint(context: Context, command: Command, label?: string): string {
  return `${keyLabel(context, command)}: ${label ?? commandLabel(context, command)}`;
}

/**
 * What a key unbound in a typing dialog does to its text: a printable character is added
 * (control characters never end up in a value); anything else leaves it (undefined).
 */
export function typed(text: string, key: string): string | undefined {
  return key.length === 1 && key >= ' ' && key !== '\u007f' ? text + key : undefined;
}

/**
 * The footer's key hints of a view, in table order. Given a width, the hints that do not fit are dropped, the
 * least important first (`priority`), so the essential keys stay visible on a narrow terminal.
 */
export function hintsFor(view: ViewContext, width?: number): string {
  const hints = bindingsFor(view)
    .filter((b) => b.hint)
    .map((b) => ({
      text: `${b.keys[0] === ' ' ? 'space' : b.keys[0] === 'return' ? 'enter' : b.keys[0]} ${b.label}`,
      priority: b.priority ?? 3,
    }));
  const join = (hs: typeof hints) => hs.map((h) => h.text).join('  ');
  let kept = hints;
  for (let p = 3; width !== undefined && p > 1 && join(kept).length > width; p--) {
    // Drop this priority's hints from the end until the line fits.
    for (let i = kept.length - 1; i >= 0 && join(kept).length > width; i--)
      if (kept[i]!.priority === p) kept = kept.filter((_, j) => j !== i);
  }
  return join(kept);
}

/** Ink's (input, key) pair as one name: "up", "ctrl+c", "return", "G", "/". */
export interface InkKey {
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  return?: boolean;
  escape?: boolean;
  tab?: boolean;
  shift?: boolean;
  backspace?: boolean;
  delete?: boolean;
  ctrl?: boolean;
  home?: boolean;
  end?: boolean;
}

export function keyName(input: string, key: InkKey): string {
  if (key.upArrow) return 'up';
  if (key.downArrow) return 'down';
  if (key.leftArrow) return 'left';
  if (key.rightArrow) return 'right';
  if (key.pageUp) return 'pageup';
  if (key.pageDown) return 'pagedown';
  if (key.home) return 'home';
  if (key.end) return 'end';
  if (key.return) return 'return';
  if (key.escape) return 'escape';
  if (key.tab) return key.shift ? 'shift+tab' : 'tab';
  if (key.backspace) return 'backspace';
  if (key.delete) return 'delete';
  if (key.ctrl && input) return `ctrl+${input.toLowerCase()}`;
  // A lone control character Ink did not name (Ctrl+U arrives as "\u0015"): name it as ctrl+letter.
  if (input.length === 1 && input.charCodeAt(0) < 32) return splitKeys(input)[0]!;
  return input;
}

const SEQUENCES: Record<string, string> = {
  '\r': 'return',
  '\n': 'return',
  '\t': 'tab',
  '\u001b[Z': 'shift+tab',
  '\u007f': 'backspace',
  '\b': 'backspace',
  '\u001b': 'escape',
  '\u001b[A': 'up',
  '\u001b[B': 'down',
  '\u001b[C': 'right',
  '\u001b[D': 'left',
  '\u001bOA': 'up',
  '\u001bOB': 'down',
  '\u001b[5~': 'pageup',
  '\u001b[6~': 'pagedown',
  '\u001b[H': 'home',
  '\u001b[F': 'end',
  '\u001b[1~': 'home',
  '\u001b[4~': 'end',
  '\u001b[3~': 'delete',
  '\u0003': 'ctrl+c',
};

/**
 * A terminal may deliver several keys in one chunk ("jjj", "\r\r", two arrow
 * sequences), which Ink passes on as one input: split it into key names.
 */
export function splitKeys(chunk: string): string[] {
  const tokens = chunk.match(/\u001b\[[0-9;]*[A-Za-z~]|\u001bO[A-Za-z]|[\s\S]/gu) ?? [];
  return tokens.map(
    (t) =>
      SEQUENCES[t] ??
      (t.length === 1 && t.charCodeAt(0) < 32 ? `ctrl+${String.fromCharCode(t.charCodeAt(0) + 96)}` : t),
  );
}

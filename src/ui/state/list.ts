/**
 * A scrollable, searchable, sortable list of loaded rows, as pure functions.
 * Only the window in view is ever rendered; the list itself may hold 100,000 rows.
 */

export interface ListState<T> {
  items: T[];
  /** Indexes into items in display order (filtered and sorted). */
  visible: number[];
  /** The server's count, if it said. */
  total?: number;
  loading: boolean;
  done: boolean;
  error?: string;
  selected: number;
  offset: number;
  query: string;
  /** Column to sort by (-1: server order), and direction. */
  sortColumn: number;
  sortDesc: boolean;
}

export function emptyList<T>(): ListState<T> {
  return {
    items: [],
    visible: [],
    loading: false,
    done: false,
    selected: 0,
    offset: 0,
    query: '',
    sortColumn: -1,
    sortDesc: false,
  };
}

export interface ListModel<T> {
  /** Text searched by the query (lower-cased by the caller's function). */
  haystack(item: T): string;
  /** Sort keys per sortable column. */
  sortKeys: Array<(item: T) => string>;
  /** The header of the column each sort key sorts by (the list marks it ▲ or ▼). */
  sortHeaders?: string[];
}

function compute<T>(state: ListState<T>, model: ListModel<T>): number[] {
  const q = state.query.trim().toLowerCase();
  let idx: number[] = [];
  for (let i = 0; i < state.items.length; i++) if (!q || model.haystack(state.items[i]!).includes(q)) idx.push(i);
  const key = model.sortKeys[state.sortColumn];
  if (key) {
    const keys = new Map(idx.map((i) => [i, key(state.items[i]!).toLowerCase()]));
    idx = idx.sort((a, b) => {
      const x = keys.get(a)!;
      const y = keys.get(b)!;
      return (x < y ? -1 : x > y ? 1 : a - b) * (state.sortDesc ? -1 : 1);
    });
  }
  return idx;
}

function clampSelection<T>(state: ListState<T>, height: number): ListState<T> {
  const count = state.visible.length;
  const selected = Math.max(0, Math.min(state.selected, count - 1));
  let offset = state.offset;
  if (selected < offset) offset = selected;
  if (selected >= offset + height) offset = selected - height + 1;
  offset = Math.max(0, Math.min(offset, Math.max(0, count - height)));
  return { ...state, selected: Math.max(0, selected), offset };
}

/**
 * Adds a page of rows. Appending keeps the order cheap: only the new rows are tested against the query.
 * Whether the list is still loading is the listing's to say (a row added to a loaded list leaves it loaded).
 */
export function appendRows<T>(
  state: ListState<T>,
  rows: readonly T[],
  model: ListModel<T>,
  total: number | undefined,
  height: number,
): ListState<T> {
  const start = state.items.length;
  const items = state.items.concat(rows);
  const next: ListState<T> = { ...state, items, total: total ?? state.total };
  if (state.sortColumn >= 0) return clampSelection({ ...next, visible: compute(next, model) }, height);
  const q = state.query.trim().toLowerCase();
  const visible = state.visible.slice();
  for (let i = start; i < items.length; i++) if (!q || model.haystack(items[i]!).includes(q)) visible.push(i);
  return clampSelection({ ...next, visible }, height);
}

export function replaceRows<T>(
  state: ListState<T>,
  rows: readonly T[],
  model: ListModel<T>,
  height: number,
): ListState<T> {
  const next = { ...state, items: rows.slice(), total: rows.length, loading: false, done: true, error: undefined };
  return clampSelection({ ...next, visible: compute(next, model) }, height);
}

export function setQuery<T>(state: ListState<T>, query: string, model: ListModel<T>, height: number): ListState<T> {
  const next = { ...state, query, selected: 0, offset: 0 };
  return clampSelection({ ...next, visible: compute(next, model) }, height);
}

/** Cycles the sort: next column ascending, then descending, then server order. */
export function cycleSort<T>(state: ListState<T>, model: ListModel<T>, height: number): ListState<T> {
  let { sortColumn, sortDesc } = state;
  if (sortColumn >= 0 && !sortDesc) sortDesc = true;
  else {
    sortColumn = sortColumn + 1 >= model.sortKeys.length ? -1 : sortColumn + 1;
    sortDesc = false;
  }
  const next = { ...state, sortColumn, sortDesc };
  return clampSelection({ ...next, visible: compute(next, model) }, height);
}

export function move<T>(state: ListState<T>, delta: number | 'top' | 'bottom', height: number): ListState<T> {
  const selected = delta === 'top' ? 0 : delta === 'bottom' ? state.visible.length - 1 : state.selected + delta;
  return clampSelection({ ...state, selected }, height);
}

export function resize<T>(state: ListState<T>, height: number): ListState<T> {
  return clampSelection(state, height);
}

export function selectedItem<T>(state: ListState<T>): T | undefined {
  const i = state.visible[state.selected];
  return i === undefined ? undefined : state.items[i];
}

/** Replaces one row in place (after an edit), keeping the view where it is. */
export function updateRow<T extends { id: string }>(state: ListState<T>, row: T): ListState<T> {
  const at = state.items.findIndex((x) => x.id === row.id);
  if (at < 0) return state;
  const items = state.items.slice();
  items[at] = row;
  return { ...state, items };
}

export function removeRow<T extends { id: string }>(state: ListState<T>, id: string, height: number): ListState<T> {
  const at = state.items.findIndex((x) => x.id === id);
  if (at < 0) return state;
  const items = state.items.filter((_, i) => i !== at);
  const visible = state.visible.filter((i) => i !== at).map((i) => (i > at ? i - 1 : i));
  return clampSelection(
    { ...state, items, visible, total: state.total !== undefined ? state.total - 1 : undefined },
    height,
  );
}

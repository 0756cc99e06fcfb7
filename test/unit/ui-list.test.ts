/** The TUI's list state (src/ui/state/list.ts): pure functions over loaded rows. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
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
} from '../../src/ui/state/list.ts';

interface Row {
  id: string;
  name: string;
  n: number;
}

const row = (i: number, name = `name${i}`): Row => ({ id: `r${i}`, name, n: i });
const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => row(from + k));

/** A model whose haystack counts how often it is asked (how many rows a query was tested against). */
function model(): ListModel<Row> & { tested: string[] } {
  const tested: string[] = [];
  return {
    tested,
    haystack: (r) => {
      tested.push(r.id);
      return r.name.toLowerCase();
    },
    sortKeys: [(r) => r.name, (r) => String(r.n).padStart(6, '0')],
  };
}

const ids = (s: ListState<Row>) => s.visible.map((i) => s.items[i]!.id);
const H = 5;

describe('appendRows', () => {
  test('appends in server order; total from the server', () => {
    const m = model();
    let s = appendRows({ ...emptyList<Row>(), loading: true }, rows(0, 3), m, 10, H);
    assert.deepEqual(ids(s), ['r0', 'r1', 'r2']);
    assert.equal(s.loading, true);
    assert.equal(s.total, 10);
    s = appendRows(s, rows(3, 5), m, undefined, H);
    assert.deepEqual(ids(s), ['r0', 'r1', 'r2', 'r3', 'r4']);
    assert.equal(s.total, 10, 'a page without a total keeps the known one');
  });

  test('a row added to a loaded list leaves it loaded (no endless "loading" mark)', () => {
    const m = model();
    const done = replaceRows(emptyList<Row>(), rows(0, 3), m, H);
    const s = appendRows(done, [row(9)], m, undefined, H);
    assert.equal(s.loading, false);
    assert.equal(s.done, true);
    assert.deepEqual(ids(s), ['r0', 'r1', 'r2', 'r9']);
  });

  test('with a query, only the new rows are tested, and only matches are shown', () => {
    const m = model();
    const base = setQuery(
      replaceRows(emptyList<Row>(), [row(0, 'Ann'), row(1, 'Bob'), row(2, 'Annika')], m, H),
      'ann',
      m,
      H,
    );
    assert.deepEqual(ids(base), ['r0', 'r2']);
    m.tested.length = 0;
    const next = appendRows(base, [row(3, 'Joanna'), row(4, 'Carl'), row(5, 'ANNE')], m, undefined, H);
    assert.deepEqual(m.tested, ['r3', 'r4', 'r5'], 'old rows are not tested again');
    assert.deepEqual(ids(next), ['r0', 'r2', 'r3', 'r5']);
    assert.equal(next.items.length, 6);
  });

  test('while sorted, new rows are placed in sort order', () => {
    const m = model();
    let s = cycleSort(replaceRows(emptyList<Row>(), [row(0, 'delta'), row(1, 'alpha')], m, H), m, H);
    s = appendRows(s, [row(2, 'charlie'), row(3, 'bravo')], m, undefined, H);
    assert.deepEqual(
      s.visible.map((i) => s.items[i]!.name),
      ['alpha', 'bravo', 'charlie', 'delta'],
    );
  });
});

describe('cycleSort', () => {
  test('each column ascending, then descending, then back to server order', () => {
    const m = model();
    const names = ['carol', 'alice', 'bob', 'dave'];
    const start = replaceRows(
      emptyList<Row>(),
      names.map((name, i) => row(10 - i, name)),
      m,
      H,
    );
    const order = (s: ListState<Row>) => s.visible.map((i) => s.items[i]!.name);
    assert.deepEqual(order(start), names);

    const seen: Array<[number, boolean, string[]]> = [];
    let s = start;
    for (let i = 0; i < 5; i++) {
      s = cycleSort(s, m, H);
      seen.push([s.sortColumn, s.sortDesc, order(s)]);
    }
    assert.deepEqual(seen, [
      [0, false, ['alice', 'bob', 'carol', 'dave']],
      [0, true, ['dave', 'carol', 'bob', 'alice']],
      // column 1 sorts by n: carol 10, alice 9, bob 8, dave 7
      [1, false, ['dave', 'bob', 'alice', 'carol']],
      [1, true, ['carol', 'alice', 'bob', 'dave']],
      [-1, false, names],
    ]);
  });

  test('sorting keeps the query', () => {
    const m = model();
    let s = replaceRows(emptyList<Row>(), [row(0, 'bx'), row(1, 'ay'), row(2, 'ax')], m, H);
    s = setQuery(s, 'a', m, H);
    s = cycleSort(s, m, H);
    assert.deepEqual(
      s.visible.map((i) => s.items[i]!.name),
      ['ax', 'ay'],
    );
  });
});

describe('move', () => {
  const m = model();
  const twenty = replaceRows(emptyList<Row>(), rows(0, 20), m, H);

  test('moves down and scrolls the window only when the selection leaves it', () => {
    let s = move(twenty, 4, H);
    assert.deepEqual([s.selected, s.offset], [4, 0]);
    s = move(s, 1, H);
    assert.deepEqual([s.selected, s.offset], [5, 1]);
    s = move(s, 7, H);
    assert.deepEqual([s.selected, s.offset], [12, 8]);
    s = move(s, -1, H);
    assert.deepEqual([s.selected, s.offset], [11, 8], 'moving up inside the window does not scroll');
    s = move(s, -5, H);
    assert.deepEqual([s.selected, s.offset], [6, 6]);
  });

  test('clamps at both ends; top and bottom', () => {
    assert.deepEqual(pick(move(twenty, -3, H)), [0, 0]);
    assert.deepEqual(pick(move(twenty, 1000, H)), [19, 15]);
    assert.deepEqual(pick(move(twenty, 'bottom', H)), [19, 15]);
    assert.deepEqual(pick(move(move(twenty, 'bottom', H), 'top', H)), [0, 0]);
    assert.equal(selectedItem(move(twenty, 'bottom', H))?.id, 'r19');
  });

  test('an empty list stays at 0 with nothing selected', () => {
    const s = move(emptyList<Row>(), 3, H);
    assert.deepEqual(pick(s), [0, 0]);
    assert.equal(selectedItem(s), undefined);
  });

  function pick(s: ListState<Row>): [number, number] {
    return [s.selected, s.offset];
  }
});

describe('setQuery', () => {
  test('filters case-insensitively, trims, and resets the selection to the first match', () => {
    const m = model();
    let s = move(replaceRows(emptyList<Row>(), [row(0, 'Zed'), row(1, 'Anna'), row(2, 'hANNah')], m, H), 2, H);
    s = setQuery(s, '  ANN ', m, H);
    assert.deepEqual(ids(s), ['r1', 'r2']);
    assert.equal(s.selected, 0);
    s = setQuery(s, '', m, H);
    assert.deepEqual(ids(s), ['r0', 'r1', 'r2']);
  });
});

describe('removeRow', () => {
  const m = model();

  test('removing the selected last row selects the new last row', () => {
    const s = move(replaceRows(emptyList<Row>(), rows(0, 8), m, H), 'bottom', H);
    const after = removeRow(s, 'r7', H);
    assert.equal(after.items.length, 7);
    assert.equal(after.total, 7);
    assert.equal(after.selected, 6);
    assert.equal(selectedItem(after)?.id, 'r6');
    assert.ok(after.offset <= after.selected && after.selected < after.offset + H);
    assert.deepEqual(ids(after), ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
  });

  test('removing the selected row in the middle selects the row that followed it', () => {
    const s = move(replaceRows(emptyList<Row>(), rows(0, 8), m, H), 3, H);
    const after = removeRow(s, 'r3', H);
    assert.equal(selectedItem(after)?.id, 'r4');
  });

  test('with a filter and a sort, the other rows keep their places and the indexes stay right', () => {
    let s = replaceRows(emptyList<Row>(), [row(0, 'b1'), row(1, 'x'), row(2, 'a1'), row(3, 'c1'), row(4, 'y')], m, H);
    s = setQuery(s, '1', m, H);
    s = cycleSort(s, m, H);
    assert.deepEqual(ids(s), ['r2', 'r0', 'r3']);
    const gone = removeRow(s, 'r1', H); // not shown (filtered out)
    assert.deepEqual(ids(gone), ['r2', 'r0', 'r3']);
    const gone2 = removeRow(gone, 'r0', H);
    assert.deepEqual(ids(gone2), ['r2', 'r3']);
    assert.ok(gone2.visible.every((i) => i < gone2.items.length));
  });

  test('removing the only row leaves an empty, valid list; an unknown id changes nothing', () => {
    const one = replaceRows(emptyList<Row>(), [row(0)], m, H);
    const none = removeRow(one, 'r0', H);
    assert.deepEqual([none.items.length, none.visible.length, none.selected, none.offset], [0, 0, 0, 0]);
    assert.equal(selectedItem(none), undefined);
    assert.equal(removeRow(one, 'nope', H), one);
  });
});

describe('resize', () => {
  test('keeps the selection in view when the window shrinks, and uses the room when it grows', () => {
    const m = model();
    let s = move(replaceRows(emptyList<Row>(), rows(0, 20), m, H), 15, H);
    assert.deepEqual([s.selected, s.offset], [15, 11]);
    s = resize(s, 3);
    assert.deepEqual([s.selected, s.offset], [15, 13]);
    s = resize(s, 30);
    assert.deepEqual([s.selected, s.offset], [15, 0]);
    s = resize(move(s, 'top', 30), 10);
    assert.deepEqual([s.selected, s.offset], [0, 0]);
  });
});

describe('updateRow', () => {
  test('replaces the row in place, other rows and the view untouched', () => {
    const m = model();
    const s = move(replaceRows(emptyList<Row>(), rows(0, 6), m, H), 5, H);
    const next = updateRow(s, { id: 'r2', name: 'renamed', n: 2 });
    assert.equal(next.items[2]!.name, 'renamed');
    assert.deepEqual([next.selected, next.offset], [s.selected, s.offset]);
    assert.equal(updateRow(s, { id: 'ghost', name: '', n: 0 }), s);
  });
});

/** The explorer's one reducer (src/ui/state/app.ts): every command of the key table, in the view it belongs to. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SCHEMA, type ScimGroup, type ScimUser } from '../../src/api/types.ts';
import type { Change } from '../../src/sync/model.ts';
import {
  appReducer,
  initialState,
  listHeight,
  type Action,
  type AppState,
  type Request,
} from '../../src/ui/state/app.ts';
import { selectedItem } from '../../src/ui/state/list.ts';

const NAMES = ['ann', 'bob', 'cat', 'dan', 'eve', 'fay', 'gus', 'hal', 'ivy', 'joe'];
function user(i: number, extra: Partial<ScimUser> = {}): ScimUser {
  const first = NAMES[i % NAMES.length]!;
  return {
    schemas: [SCHEMA.USER],
    id: `u${i}`,
    userName: `${first}${i}@example.com`,
    displayName: `${first[0]!.toUpperCase()}${first.slice(1)} Number${i}`,
    active: true,
    emails: [{ value: `${first}${i}@example.com`, type: 'work', primary: true }],
    ...extra,
  };
}
const users = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => user(from + k));
const group = (i: number, name: string, members: string[] = []): ScimGroup => ({
  schemas: [SCHEMA.GROUP],
  id: `g${i}`,
  displayName: name,
  members: members.map((value) => ({ value })),
});
const GROUPS = [group(1, 'Engineering'), group(2, 'Sales'), group(3, 'Support'), group(4, 'Finance')];

const apply = (s: AppState, ...actions: Action[]) => actions.reduce(appReducer, s);
/** Presses keys in order, each through the reducer (as the app does for a burst). */
const press = (s: AppState, ...keys: string[]) => apply(s, ...keys.map((key): Action => ({ type: 'key', key })));
const typeText = (s: AppState, text: string) => press(s, ...[...text]);
/** Takes the pending requests, as the effect runner does. */
function take(s: AppState): [AppState, Request[]] {
  return [appReducer(s, { type: 'taken', count: s.requests.length }), s.requests];
}
const userIds = (s: AppState) => s.users.visible.map((i) => s.users.items[i]!.id);

/** An explorer at 100×30 whose users are loaded (and the first request taken). */
function loadedExplorer(n = 40): AppState {
  const [s] = take(initialState(100, 29));
  return apply(
    s,
    { type: 'rows', what: 'users', rows: users(0, n), total: n, gen: 1 },
    { type: 'loaded', what: 'users', gen: 1 },
  );
}
/** The detail view of user i (its resource as the server sent it). */
function detailOf(i: number, extra: Partial<ScimUser> = {}): AppState {
  let [s] = take(press(loadedExplorer(), ...Array<string>(i).fill('j'), 'return'));
  s = apply(s, { type: 'userLoaded', user: user(i, extra) });
  assert.equal(s.view, 'user');
  return s;
}

describe('start', () => {
  test('the explorer starts on users and asks for them; the review starts on the plan and asks for nothing', () => {
    const s = initialState(100, 29);
    assert.equal(s.view, 'users');
    // The groups are counted at once, for the header, without being listed.
    assert.deepEqual(s.requests, [
      { kind: 'load', what: 'users', gen: 1 },
      { kind: 'count', what: 'groups' },
    ]);
    const counted = appReducer(s, { type: 'counted', what: 'groups', total: 12 });
    assert.equal(counted.groups.total, 12);
    assert.equal(counted.groups.items.length, 0);
    const r = initialState(100, 29, { changes: [], problems: [] });
    assert.equal(r.view, 'review');
    assert.deepEqual(r.requests, []);
    assert.ok(r.review);
  });

  test('while the first page is on its way the users list counts as loading: no second load, no "no users"', () => {
    const [s] = take(initialState(100, 29));
    assert.equal(s.users.loading, true);
    // Switching to users (1, or Tab round the panes) must not start a second listing that would duplicate every row.
    const again = press(s, '1', '2', '3', '1');
    assert.deepEqual(
      again.requests.filter((r) => r.kind === 'load' && r.what === 'users'),
      [],
    );
  });
});

describe('panes', () => {
  test('1, 2, 3 show users, groups and runs, and ask for each list once', () => {
    let s = loadedExplorer();
    const seen: Array<[string, Request[]]> = [];
    for (const key of ['2', '3', '1', '2', '3', '1']) {
      let reqs: Request[];
      [s, reqs] = take(press(s, key));
      seen.push([s.view, reqs]);
    }
    assert.deepEqual(seen, [
      ['groups', [{ kind: 'load', what: 'groups', gen: 1 }]],
      ['runs', [{ kind: 'load', what: 'runs', gen: 1 }]],
      ['users', []],
      ['groups', []], // still loading: not asked again
      ['runs', []],
      ['users', []],
    ]);
    assert.equal(s.tab, 'users');
  });

  test('Tab moves the keys between the list and the detail pane of the selected row', () => {
    let s = press(loadedExplorer(), 'j', 'j');
    const selected = s.users.items[s.users.visible[s.users.selected]!]!;
    let reqs: Request[];
    [s, reqs] = take(press(s, 'tab'));
    assert.equal(s.pane, 'detail');
    assert.equal(s.preview?.id, selected.id);
    assert.deepEqual(reqs, [{ kind: 'openUser', id: selected.id }]);
    // In the detail pane the arrows scroll it; the list keeps its selection.
    s = press(s, 'j', 'j', 'j');
    assert.equal(s.preview?.scroll, 3);
    assert.equal(s.users.selected, 2);
    // The full resource, once read, fills the pane.
    s = apply(s, { type: 'userLoaded', user: { ...selected, title: 'Chief' } });
    assert.equal((s.preview?.resource as { title?: string }).title, 'Chief');
    // Tab or Esc back to the list; the view stays.
    assert.equal(press(s, 'tab').pane, 'list');
    const back = press(s, 'escape');
    assert.equal(back.pane, 'list');
    assert.equal(back.quit, false);
    // Switching lists starts in the list pane.
    assert.equal(press(s, '2').pane, 'list');
  });

  test('1, 2 and 3 jump to a pane; a loaded pane is not asked for again', () => {
    let [s, reqs] = take(press(loadedExplorer(), '2'));
    assert.equal(s.view, 'groups');
    assert.deepEqual(reqs, [{ kind: 'load', what: 'groups', gen: 1 }]);
    s = apply(s, { type: 'rows', what: 'groups', rows: GROUPS, gen: 1 }, { type: 'loaded', what: 'groups', gen: 1 });
    [s, reqs] = take(press(s, '3', '2', '1'));
    assert.equal(s.view, 'users');
    assert.deepEqual(reqs, [{ kind: 'load', what: 'runs', gen: 1 }]);
  });

  test('r reloads the current pane from scratch', () => {
    const [s, reqs] = take(press(loadedExplorer(), 'j', 'r'));
    assert.deepEqual(reqs, [{ kind: 'load', what: 'users', gen: 2 }]);
    assert.equal(s.users.items.length, 0);
    assert.equal(s.users.loading, true);
    assert.equal(s.users.selected, 0);
  });

  test('r during a listing: pages of the old listing are dropped, so no row is listed twice', () => {
    const [s0] = take(initialState(100, 29));
    let s = apply(s0, { type: 'rows', what: 'users', rows: users(0, 10), total: 20, gen: 1 });
    let reqs: Request[];
    [s, reqs] = take(press(s, 'r'));
    assert.deepEqual(reqs, [{ kind: 'load', what: 'users', gen: 2 }]);
    // The old listing goes on delivering (its effect cannot be recalled) …
    s = apply(
      s,
      { type: 'rows', what: 'users', rows: users(10, 20), total: 20, gen: 1 },
      { type: 'loaded', what: 'users', gen: 1 },
      { type: 'loadFailed', what: 'users', message: 'late', gen: 1 },
    );
    assert.equal(s.users.items.length, 0);
    assert.equal(s.users.loading, true, 'the old listing ending does not end the new one');
    assert.equal(s.status, undefined);
    // … and only the new one counts.
    s = apply(
      s,
      { type: 'rows', what: 'users', rows: users(0, 20), total: 20, gen: 2 },
      { type: 'loaded', what: 'users', gen: 2 },
    );
    assert.deepEqual(
      userIds(s),
      users(0, 20).map((u) => u.id),
    );
    assert.equal(s.users.done, true);
  });

  test('a failed load says why and keeps the view', () => {
    const s = apply(loadedExplorer(), {
      type: 'loadFailed',
      what: 'groups',
      message: 'reading groups failed: HTTP 500',
    });
    assert.deepEqual(s.status, { text: 'reading groups failed: HTTP 500', level: 'error' });
    assert.equal(s.groups.error, 'reading groups failed: HTTP 500');
    assert.equal(s.groups.loading, false);
    assert.equal(s.view, 'users');
  });
});

describe('moving', () => {
  test('keys of one burst are applied in order: j×7 k×2 selects row 5', () => {
    const s = press(loadedExplorer(), ...'jjjjjjjkk');
    assert.equal(s.users.selected, 5);
    assert.equal(selectedItem(s.users)?.id, 'u5');
  });

  test('page down/up by the list height, G/g to the ends, the window follows', () => {
    const h = listHeight(loadedExplorer());
    assert.equal(h, 24);
    let s = press(loadedExplorer(), 'pagedown');
    assert.equal(s.users.selected, 24);
    assert.equal(s.users.offset, 1);
    s = press(s, 'pageup');
    assert.equal(s.users.selected, 0);
    s = press(s, 'G');
    assert.deepEqual([s.users.selected, s.users.offset], [39, 16]);
    s = press(s, 'g');
    assert.deepEqual([s.users.selected, s.users.offset], [0, 0]);
    s = press(s, ' ', ' ');
    assert.equal(s.users.selected, 39, 'space pages down in a list');
  });

  test('s cycles the sort of the users list', () => {
    const s0 = apply(
      take(initialState(100, 29))[0],
      { type: 'rows', what: 'users', rows: [user(2), user(0), user(1)], gen: 1 },
      { type: 'loaded', what: 'users', gen: 1 },
    );
    const s1 = press(s0, 's');
    assert.deepEqual([s1.users.sortColumn, s1.users.sortDesc], [0, false]);
    assert.deepEqual(userIds(s1), ['u0', 'u1', 'u2']);
    const s2 = press(s1, 's');
    assert.deepEqual(userIds(s2), ['u2', 'u1', 'u0']);
  });
});

describe('detail', () => {
  test('Enter opens the selected user and asks for it; the list row shows until it arrives', () => {
    const [s, reqs] = take(press(loadedExplorer(), 'j', 'j', 'return'));
    assert.equal(s.view, 'user');
    assert.equal(s.user?.id, 'u2');
    assert.equal(s.user?.resource?.userName, 'cat2@example.com');
    assert.deepEqual(reqs, [{ kind: 'openUser', id: 'u2' }]);
    const fresh = apply(s, { type: 'userLoaded', user: user(2, { title: 'Boss' }) });
    assert.equal(fresh.user?.resource?.title, 'Boss');
    assert.equal(fresh.users.items[2]!.title, 'Boss', 'the list row is refreshed too');
    // A late answer for another user does not replace the one open.
    assert.equal(apply(fresh, { type: 'userLoaded', user: user(3) }).user?.id, 'u2');
  });

  test('Enter on a group opens it', () => {
    let s = take(press(loadedExplorer(), '2'))[0];
    s = apply(s, { type: 'rows', what: 'groups', rows: GROUPS, gen: 1 }, { type: 'loaded', what: 'groups', gen: 1 });
    const [open, reqs] = take(press(s, 'j', 'return'));
    assert.equal(open.view, 'group');
    assert.equal(open.group?.id, 'g2');
    assert.deepEqual(reqs, [{ kind: 'openGroup', id: 'g2' }]);
    assert.equal(press(open, 'escape').view, 'groups');
  });

  test('q and Escape go back from the detail to the list, keeping the selection; q in a list quits', () => {
    for (const key of ['q', 'escape']) {
      const s = press(detailOf(3), key);
      assert.equal(s.view, 'users');
      assert.equal(s.user, undefined);
      assert.equal(s.quit, false);
      assert.equal(s.users.selected, 3);
      assert.equal(press(s, 'q').quit, true);
    }
  });

  test('Esc never quits: it clears the search, closes the innermost pane, and does nothing at the top level', () => {
    const filtered = press(typeText(press(loadedExplorer(), '/'), 'eve'), 'return');
    assert.equal(filtered.users.query, 'eve');
    assert.ok(filtered.users.visible.length < filtered.users.items.length);
    const cleared = press(filtered, 'escape');
    assert.equal(cleared.quit, false);
    assert.equal(cleared.users.query, '');
    assert.equal(cleared.users.visible.length, cleared.users.items.length);
    const top = press(cleared, 'escape', 'escape');
    assert.equal(top.quit, false);
    assert.equal(top.view, 'users');
    // From a detail: back to the list, then nothing.
    assert.equal(press(detailOf(1), 'escape', 'escape', 'escape').quit, false);
    assert.equal(press(take(press(loadedExplorer(), '2'))[0], 'escape').quit, false);
    // q quits at the top level, also with a filter in force.
    assert.equal(press(filtered, 'q').quit, true);
  });

  test('Ctrl+C quits from anywhere: a list, a detail, an overlay', () => {
    assert.equal(press(loadedExplorer(), 'ctrl+c').quit, true);
    assert.equal(press(detailOf(1), 'ctrl+c').quit, true);
    assert.equal(press(loadedExplorer(), '/', 'ctrl+c').quit, true);
    assert.equal(press(detailOf(1), 'D', 'ctrl+c').quit, true);
    assert.equal(press(loadedExplorer(), '?', 'ctrl+c').quit, true);
  });

  test('j and k scroll the detail, never below 0', () => {
    const s = press(detailOf(1), 'j', 'j', 'j', 'k');
    assert.equal(s.user?.scroll, 2);
    assert.equal(press(s, 'k', 'k', 'k').user?.scroll, 0);
  });

  test('list-only keys do nothing in the detail', () => {
    const s = detailOf(1);
    for (const key of ['/', 'tab', 's', 'n', 'return', '2']) {
      const after = press(s, key);
      assert.equal(after.view, 'user', key);
      assert.equal(after.overlay, undefined, key);
      assert.deepEqual(after.requests, s.requests, key);
    }
  });
});

describe('search as you type', () => {
  test('/ opens the prompt; each key filters the loaded users; Enter keeps the filter', () => {
    let s = press(loadedExplorer(), '/');
    assert.equal(s.overlay?.kind, 'prompt');
    s = typeText(s, 'an');
    // ann0, dan3, ann10, dan13, …: userName or displayName contains "an", in server order
    assert.deepEqual(userIds(s), ['u0', 'u3', 'u10', 'u13', 'u20', 'u23', 'u30', 'u33']);
    assert.equal(s.users.selected, 0);
    const narrower = typeText(s, 'n1');
    assert.deepEqual(userIds(narrower), ['u10']);
    const back = press(narrower, 'backspace', 'backspace');
    assert.deepEqual(userIds(back), userIds(s));
    const kept = press(narrower, 'return');
    assert.equal(kept.overlay, undefined);
    assert.equal(kept.users.query, 'ann1');
    assert.deepEqual(userIds(kept), ['u10']);
    // Reopening the prompt starts from the current query.
    const reopened = press(kept, '/');
    assert.equal(reopened.overlay?.kind === 'prompt' ? reopened.overlay.input : '', 'ann1');
  });

  test('typed keys go into the prompt, not to commands (q, j, D, ?)', () => {
    const s = typeText(press(loadedExplorer(), '/'), 'qjD?');
    assert.equal(s.quit, false);
    assert.equal(s.overlay?.kind === 'prompt' ? s.overlay.input : undefined, 'qjD?');
    assert.equal(s.users.selected, 0);
  });

  test('while users are still loading, queries of 2+ characters also ask the server', () => {
    const [s0] = take(initialState(100, 29));
    const loading = apply(s0, { type: 'rows', what: 'users', rows: users(0, 10), total: 1000, gen: 1 });
    let s = press(loading, '/', 'z');
    assert.deepEqual(s.requests, [], 'one character is not sent');
    s = press(s, 'e');
    assert.deepEqual(s.requests, [{ kind: 'search', query: 'ze' }]);
    assert.equal(s.serverQuery, 'ze');
    s = press(s, 'd');
    assert.deepEqual(s.requests, [
      { kind: 'search', query: 'ze' },
      { kind: 'search', query: 'zed' },
    ]);
    // The server's matches that are not loaded yet join the list; a stale answer is ignored.
    const zed = user(500, { userName: 'zed500@example.com', displayName: 'Zed' });
    const stale = apply(s, {
      type: 'searchResults',
      query: 'ze',
      rows: [user(600, { userName: 'zebra@example.com' })],
    });
    assert.deepEqual(userIds(stale), []);
    const merged = apply(s, { type: 'searchResults', query: 'zed', rows: [zed] });
    assert.deepEqual(userIds(merged), ['u500']);
  });

  test('once every user is loaded, the search stays on the client', () => {
    const s = typeText(press(loadedExplorer(), '/'), 'ann');
    assert.deepEqual(s.requests, []);
    assert.equal(s.serverQuery, undefined);
  });

  test('a user found by the server search is not listed twice when its page arrives later', () => {
    const [s0] = take(initialState(100, 29));
    let s = apply(s0, { type: 'rows', what: 'users', rows: users(0, 10), total: 30, gen: 1 });
    s = take(typeText(press(s, '/'), 'ivy2'))[0];
    s = apply(s, { type: 'searchResults', query: 'ivy2', rows: [user(28)] });
    assert.deepEqual(userIds(s), ['u28']);
    s = press(s, 'return');
    s = apply(
      s,
      { type: 'rows', what: 'users', rows: users(10, 30), total: 30, gen: 1 },
      { type: 'loaded', what: 'users', gen: 1 },
    );
    const all = s.users.items.map((u) => u.id);
    assert.equal(
      new Set(all).size,
      all.length,
      `duplicate users: ${all.filter((id, i) => all.indexOf(id) !== i).join(', ')}`,
    );
    assert.equal(all.length, 30);
    assert.deepEqual(userIds(s), ['u28']);
    // A reload lists that user again like any other.
    let reqs: Request[];
    [s, reqs] = take(press(s, 'r'));
    const gen = reqs[0]?.kind === 'load' ? reqs[0].gen : -1;
    s = apply(
      s,
      { type: 'rows', what: 'users', rows: users(0, 30), total: 30, gen },
      { type: 'loaded', what: 'users', gen },
    );
    assert.equal(s.users.items.length, 30);
    assert.ok(s.users.items.some((u) => u.id === 'u28'));
  });

  test('a user created while the listing is under way is listed once; after it, the list stays loaded', () => {
    const [s0] = take(initialState(100, 29));
    let s = apply(s0, { type: 'rows', what: 'users', rows: users(0, 10), total: 10, gen: 1 });
    const zoe = user(99, { userName: 'zoe@example.com' });
    s = apply(s, { type: 'rows', what: 'users', rows: [zoe] });
    assert.equal(s.users.items.length, 11);
    // The listing reaches the new user at its end.
    s = apply(
      s,
      { type: 'rows', what: 'users', rows: [zoe], total: 11, gen: 1 },
      { type: 'loaded', what: 'users', gen: 1 },
    );
    assert.deepEqual(s.users.items.filter((u) => u.id === 'u99').length, 1);
    assert.equal(s.users.loading, false);
    s = apply(s, { type: 'rows', what: 'users', rows: [user(100)] });
    assert.equal(s.users.items.length, 12);
    assert.equal(s.users.loading, false, 'a user created after the listing does not mark the list as loading');
    assert.equal(s.users.done, true);
  });

  test('Escape closes the prompt and says so', () => {
    const s = press(typeText(press(loadedExplorer(), '/'), 'a'), 'escape');
    assert.equal(s.overlay, undefined);
    assert.equal(s.status?.text, 'cancelled');
  });
});

describe('changing a user', () => {
  test('d deactivates (once confirmed) and a activates the open user (requests carry its id)', () => {
    const asked = press(detailOf(4), 'd');
    assert.equal(asked.overlay?.kind, 'confirm');
    assert.deepEqual(asked.requests, [], 'nothing before the confirmation');
    assert.deepEqual(press(asked, 'escape').requests, []);
    const [s, reqs] = take(press(typeText(asked, 'yes'), 'return'));
    assert.deepEqual(reqs, [{ kind: 'setActive', id: 'u4', active: false }]);
    assert.match(s.status?.text ?? '', /deactivating eve4@example\.com/);
    const [, reqs2] = take(press(detailOf(4, { active: false }), 'a'));
    assert.deepEqual(reqs2, [{ kind: 'setActive', id: 'u4', active: true }]);
    // The result replaces the user in the detail and the list, and the status says so.
    const done = apply(s, {
      type: 'userChanged',
      user: user(4, { active: false }),
      message: 'eve4@example.com is now inactive',
    });
    assert.equal(done.user?.resource?.active, false);
    assert.equal(done.users.items[4]!.active, false);
    assert.equal(done.status?.text, 'eve4@example.com is now inactive');
  });

  test('d and a do nothing in the list', () => {
    const s = press(loadedExplorer(), 'd', 'a');
    assert.deepEqual(s.requests, []);
    assert.equal(s.view, 'users');
  });

  test('D asks to type yes: exactly "yes" + Enter sends the delete', () => {
    let s = press(detailOf(2), 'D');
    assert.equal(s.overlay?.kind, 'confirm');
    const o = s.overlay?.kind === 'confirm' ? s.overlay : undefined;
    assert.equal(o?.expected, 'yes');
    assert.ok(o?.lines.some((l) => l.includes('cat2@example.com')));
    s = typeText(s, 'yes');
    assert.deepEqual(s.requests, [], 'nothing before Enter');
    const [sent, reqs] = take(press(s, 'return'));
    assert.deepEqual(reqs, [{ kind: 'delete', what: 'user', id: 'u2', name: 'cat2@example.com' }]);
    assert.equal(sent.overlay, undefined);
    // The deletion removes the row and goes back to the list.
    const gone = apply(sent, { type: 'deleted', what: 'user', id: 'u2', message: 'deleted user u2' });
    assert.equal(gone.view, 'users');
    assert.equal(gone.users.items.length, 39);
    assert.ok(!gone.users.items.some((u) => u.id === 'u2'));
    assert.equal(selectedItem(gone.users)?.id, 'u3');
    assert.equal(gone.status?.text, 'deleted user u2');
  });

  test('D with any other answer, or Escape, deletes nothing', () => {
    for (const answer of ['', 'y', 'no', 'YES', 'yes ', 'yess']) {
      const s = press(typeText(press(detailOf(2), 'D'), answer), 'return');
      assert.deepEqual(s.requests, [], JSON.stringify(answer));
      assert.equal(s.overlay, undefined);
      assert.match(s.status?.text ?? '', /not confirmed/);
      assert.equal(s.view, 'user');
    }
    const esc = press(typeText(press(detailOf(2), 'D'), 'yes'), 'escape', 'return');
    assert.deepEqual(esc.requests, []);
    assert.equal(esc.view, 'user');
  });

  test('backspace corrects the typed answer (Ink names Backspace "delete")', () => {
    const s = press(typeText(press(detailOf(2), 'D'), 'yex'), 'backspace', 's', 'return');
    assert.deepEqual(s.requests, [{ kind: 'delete', what: 'user', id: 'u2', name: 'cat2@example.com' }]);
    const d = press(typeText(press(detailOf(2), 'D'), 'yex'), 'delete', 's', 'return');
    assert.deepEqual(d.requests, [{ kind: 'delete', what: 'user', id: 'u2', name: 'cat2@example.com' }]);
  });

  test('Backspace in the detail starts no deletion', () => {
    const s = press(detailOf(2), 'delete', 'backspace');
    assert.equal(s.overlay, undefined);
    assert.equal(s.view, 'user');
  });

  test('D on a group asks too, and deletes the group', () => {
    let s = take(press(loadedExplorer(), '2'))[0];
    s = apply(s, { type: 'rows', what: 'groups', rows: GROUPS, gen: 1 }, { type: 'loaded', what: 'groups', gen: 1 });
    s = take(press(s, 'return'))[0];
    s = press(s, 'D');
    assert.equal(s.overlay?.kind === 'confirm' ? s.overlay.title : '', 'Delete group');
    const [sent, reqs] = take(press(typeText(s, 'yes'), 'return'));
    assert.deepEqual(reqs, [{ kind: 'delete', what: 'group', id: 'g1', name: 'Engineering' }]);
    const gone = apply(sent, { type: 'deleted', what: 'group', id: 'g1', message: 'deleted group g1' });
    assert.equal(gone.view, 'groups');
    assert.deepEqual(
      gone.groups.items.map((g) => g.id),
      ['g2', 'g3', 'g4'],
    );
  });

  test("e opens the edit form with the user's values; only changed fields are sent; Esc cancels", () => {
    let s = press(detailOf(5), 'e');
    assert.equal(s.overlay?.kind === 'form' ? s.overlay.purpose : '', 'edit');
    for (let i = 0; i < 4; i++) s = press(s, 'tab');
    assert.equal(s.overlay?.kind === 'form' ? s.overlay.fields[s.overlay.focus]!.name : '', 'title');
    s = typeText(press(s, 'ctrl+u'), 'CTO');
    const [done, reqs] = take(press(s, 'return'));
    assert.deepEqual(
      reqs.map((r) => (r.kind === 'edit' ? { ...r, fields: undefined } : r)),
      [{ kind: 'edit', id: 'u5', edits: ['title=CTO'], fields: undefined }],
    );
    // The form stays open until the save went through.
    assert.equal(done.overlay?.kind, 'form');
    assert.equal(apply(done, { type: 'formDone' }).overlay, undefined);

    const cancelled = press(typeText(press(detailOf(5), 'e'), 'x'), 'escape');
    assert.deepEqual(cancelled.requests, []);
    const unchanged = press(press(detailOf(5), 'e'), 'return');
    assert.deepEqual(unchanged.requests, []);
    assert.equal(unchanged.status?.text, 'nothing changed');

    // The last field takes any PATH=VALUE; emptying a field removes that attribute.
    let other = press(detailOf(5), 'e');
    other = press(other, 'ctrl+u');
    for (let i = 0; i < 8; i++) other = press(other, 'tab');
    other = typeText(other, 'nickName=Bo');
    const [, otherReqs] = take(press(other, 'return'));
    const userName = (detailOf(5).user?.resource as { userName: string }).userName;
    assert.deepEqual(
      otherReqs.map((r) => (r.kind === 'edit' ? r.edits : r)),
      [userName ? ['userName=', 'nickName=Bo'] : ['nickName=Bo']],
    );
  });

  test('n opens the new-user form; Tab moves between fields; Enter creates', () => {
    let s = press(loadedExplorer(), 'n');
    assert.equal(s.overlay?.kind, 'form');
    s = typeText(s, 'new@example.com');
    s = typeText(press(s, 'tab'), 'New');
    s = typeText(press(s, 'tab'), 'Persn');
    s = typeText(press(s, 'backspace'), 'on');
    s = typeText(press(s, 'down'), 'new@example.com');
    s = typeText(press(s, 'up', 'up'), 'X');
    const [done, reqs] = take(press(s, 'return'));
    assert.deepEqual(reqs, [
      {
        kind: 'create',
        fields: { userName: 'new@example.com', givenName: 'NewX', familyName: 'Person', email: 'new@example.com' },
      },
    ]);
    assert.equal(done.overlay?.kind, 'form', 'the form stays until the user is created');
    assert.equal(apply(done, { type: 'formDone' }).overlay, undefined);
    assert.equal(done.status?.text, 'creating…');
    // The created user arrives as a row.
    const created = apply(done, { type: 'rows', what: 'users', rows: [user(99, { userName: 'new@example.com' })] });
    assert.equal(created.users.items.length, 41);
  });

  test(
    'a refused form stays open with its input, the errors beside the fields by ' + 'their labels; Shift+Tab goes back',
    () => {
      let s = press(loadedExplorer(), 'n');
      s = typeText(s, 'new@example.com');
      s = press(s, 'tab', 'tab', 'tab', 'shift+tab', 'shift+tab');
      assert.equal(s.overlay?.kind === 'form' ? s.overlay.focus : -1, 1);
      s = typeText(press(s, 'tab', 'tab'), 'not-mail');
      s = take(press(s, 'return'))[0];
      s = apply(s, { type: 'formErrors', errors: { email: 'not a valid e-mail address' } });
      const o = s.overlay?.kind === 'form' ? s.overlay : undefined;
      assert.equal(o?.fields[0]!.value, 'new@example.com', 'the input is kept');
      assert.equal(o?.fields[3]!.value, 'not-mail');
      assert.equal(o?.fields[3]!.error, 'not a valid e-mail address');
      assert.equal(o?.fields[0]!.error, undefined);
      assert.equal(o?.focus, 3);
      assert.equal(s.status?.text, 'work e-mail: not a valid e-mail address');
      assert.equal(s.status?.level, 'error');
      // Submitting again clears the old errors.
      const again = press(s, 'return');
      assert.equal(again.overlay?.kind === 'form' ? again.overlay.fields[3]!.error : 'x', undefined);
    },
  );

  test('+ picks a group to add the user to: loads groups, leaves out those it is in, filters as you type', () => {
    let [s, reqs] = take(press(detailOf(1, { groups: [{ value: 'g2', display: 'Sales' }] }), '+'));
    assert.deepEqual(reqs, [{ kind: 'load', what: 'groups', gen: 1 }]);
    assert.equal(s.overlay?.kind, 'pickGroup');
    s = apply(s, { type: 'rows', what: 'groups', rows: GROUPS, gen: 1 }, { type: 'loaded', what: 'groups', gen: 1 });
    const names = () => (s.overlay?.kind === 'pickGroup' ? s.overlay.groups.map((g) => g.displayName) : []);
    assert.deepEqual(names(), ['Engineering', 'Support', 'Finance']);
    s = typeText(s, 'n');
    // "n" matches Engineering, Finance (and not Support); the second one is picked with down.
    [s, reqs] = take(press(s, 'down', 'return'));
    assert.deepEqual(reqs, [{ kind: 'membership', userId: 'u1', groupId: 'g4', add: true }]);
    assert.equal(s.overlay, undefined);
    assert.match(s.status?.text ?? '', /adding to Finance/);
  });

  test('- picks one of the user’s own groups to remove it from', () => {
    const [s, reqs] = take(
      press(
        detailOf(1, {
          groups: [
            { value: 'g2', display: 'Sales' },
            { value: 'g3', display: 'Support' },
          ],
        }),
        '-',
        'u',
        'p',
        'return',
      ),
    );
    assert.deepEqual(reqs, [{ kind: 'membership', userId: 'u1', groupId: 'g3', add: false }]);
    assert.match(s.status?.text ?? '', /removing from Support/);
  });

  test('picking with no match sends nothing', () => {
    const s = press(detailOf(1, { groups: [{ value: 'g2', display: 'Sales' }] }), '-', 'z', 'return');
    assert.deepEqual(s.requests, []);
    assert.equal(s.overlay, undefined);
  });
});

describe('help', () => {
  test('? opens the key table; other keys are ignored; ?, q, Escape or Enter close it', () => {
    for (const close of ['?', 'q', 'escape', 'return']) {
      let s = press(loadedExplorer(), '?');
      assert.equal(s.overlay?.kind, 'help');
      s = press(s, 'j', 'D', 'tab');
      assert.equal(s.overlay?.kind, 'help');
      assert.equal(s.users.selected, 0);
      assert.equal(s.view, 'users');
      s = press(s, close);
      assert.equal(s.overlay, undefined, close);
      assert.equal(s.quit, false, close);
    }
  });
});

describe('resize', () => {
  test('a smaller terminal keeps the selection in view', () => {
    let s = press(loadedExplorer(), ...Array<string>(20).fill('j'));
    assert.deepEqual([s.users.selected, s.users.offset], [20, 0]);
    s = apply(s, { type: 'resize', columns: 80, rows: 13 });
    assert.equal(s.columns, 80);
    assert.equal(listHeight(s), 8);
    assert.deepEqual([s.users.selected, s.users.offset], [20, 13]);
  });
});

describe('the plan review', () => {
  const origin = { file: 'users.json', line: 1 };
  const CHANGES: Change[] = [
    { id: 'c1', kind: 'create-user', userName: 'new@example.com', resource: { userName: 'new@example.com' }, origin },
    {
      id: 'u1',
      kind: 'update-user',
      target: 't1',
      userName: 'ann@example.com',
      diffs: [{ path: 'title', before: 'A', after: 'B' }],
      reactivate: false,
      origin,
    },
    {
      id: 'u2',
      kind: 'update-user',
      target: 't2',
      userName: 'bob@example.com',
      diffs: [{ path: 'title', before: 'C', after: 'D' }],
      reactivate: false,
      origin,
    },
  ];

  test('space excludes, a → yes → Enter asks to apply with the excluded ids', () => {
    let s = press(initialState(100, 29, { changes: CHANGES, problems: [] }), 'j', ' ', 'j');
    assert.deepEqual([...(s.review?.excluded ?? [])], ['u1']);
    s = press(s, 'a');
    assert.equal(s.review?.phase, 'confirm');
    s = typeText(s, 'yes');
    assert.deepEqual(s.requests, []);
    const [applying, reqs] = take(press(s, 'return'));
    assert.deepEqual(reqs, [{ kind: 'apply', excluded: ['u1'] }]);
    assert.equal(applying.review?.phase, 'applying');
    // Neither q, Escape nor Ctrl+C (not even from the help) leaves while changes are being applied:
    // the applier cannot be called back, and leaving would report "nothing applied".
    for (const keys of [['q'], ['escape'], ['ctrl+c'], ['?', 'ctrl+c']]) {
      const stay = press(applying, ...keys);
      assert.equal(stay.quit, false, keys.join(' '));
      assert.equal(stay.status?.text, 'changes are being applied: q quits when they are done', keys.join(' '));
    }
    const results = apply(
      applying,
      { type: 'applyResult', result: { id: 'c1', kind: 'create-user', status: 'applied' } },
      { type: 'applyResult', result: { id: 'u1', kind: 'update-user', status: 'excluded' } },
      { type: 'applyResult', result: { id: 'u2', kind: 'update-user', status: 'failed', detail: 'HTTP 500' } },
      { type: 'applyFinished', message: 'applied 1 of 3' },
    );
    assert.equal(results.review?.phase, 'done');
    assert.equal(results.status?.text, 'applied 1 of 3');
    assert.equal(press(results, 'q').quit, true);
    assert.equal(press(results, 'ctrl+c').quit, true);
  });

  test('a wrong answer returns to the review without a request; q there asks, then closes it unapplied', () => {
    const s = press(typeText(press(initialState(100, 29, { changes: CHANGES, problems: [] }), 'a'), 'ok'), 'return');
    assert.equal(s.review?.phase, 'review');
    assert.deepEqual(s.requests, []);
    const asked = press(s, 'q');
    assert.equal(asked.quit, false);
    assert.equal(asked.overlay?.kind === 'confirm' ? asked.overlay.title : '', 'Quit without applying?');
    assert.equal(press(asked, 'escape').quit, false, 'Esc keeps the review');
    const closed = press(typeText(asked, 'yes'), 'return');
    assert.equal(closed.quit, true);
    assert.deepEqual(closed.requests, []);
  });

  test('q quits the review at once when every change is excluded; Esc never quits it', () => {
    const s = initialState(100, 29, { changes: CHANGES, problems: [] });
    assert.equal(press(s, 'escape').quit, false);
    assert.equal(press(s, 'escape').overlay, undefined);
    const none = { ...s, review: { ...s.review!, excluded: new Set(CHANGES.map((c) => c.id)) } };
    assert.equal(press(none, 'q').quit, true);
  });

  test('while confirming, keys are typed (q, j, space), Ctrl+C still quits', () => {
    const s = typeText(press(initialState(100, 29, { changes: CHANGES, problems: [] }), 'a'), 'qj ');
    assert.equal(s.quit, false);
    assert.equal(s.review?.confirmInput, 'qj ');
    assert.equal(s.review?.selected, 0);
    assert.deepEqual([...(s.review?.excluded ?? [])], []);
    assert.equal(press(s, 'ctrl+c').quit, true);
  });

  test('f and Enter (expand) act on the review', () => {
    let s = press(initialState(100, 29, { changes: CHANGES, problems: [] }), 'f');
    assert.equal(s.review?.filter, 'creates');
    s = press(s, 'f', 'return');
    assert.equal(s.review?.filter, 'updates');
    assert.deepEqual([...(s.review?.expanded ?? [])], ['u1']);
  });
});

describe('requests', () => {
  test('taken removes only the requests that were taken, oldest first', () => {
    const s = press(loadedExplorer(), '2', '3');
    assert.deepEqual(s.requests, [
      { kind: 'load', what: 'groups', gen: 1 },
      { kind: 'load', what: 'runs', gen: 1 },
    ]);
    const after = apply(s, { type: 'taken', count: 1 });
    assert.deepEqual(after.requests, [{ kind: 'load', what: 'runs', gen: 1 }]);
  });
});

describe('sync now from the runs view', () => {
  test('p asks for a plan from the profile source; the review opens; q goes back to the runs, reloaded', () => {
    let s = press(loadedExplorer(), '3');
    let reqs: Request[];
    [s, reqs] = take(press(take(s)[0], 'p'));
    assert.deepEqual(reqs, [{ kind: 'startSync' }]);
    s = apply(s, {
      type: 'reviewReady',
      plan: { changes: [{ id: 'c1', kind: 'deactivate-user', target: 'u1', userName: 'a@example.com' }], problems: [] },
    });
    assert.equal(s.view, 'review');
    assert.equal(s.review?.changes.length, 1);
    const [back, backReqs] = take(press(s, 'q'));
    assert.equal(back.quit, false);
    assert.equal(back.view, 'runs');
    assert.equal(back.review, undefined);
    assert.deepEqual(
      backReqs.map((r) => r.kind),
      ['closeSync', 'load'],
      'the sync is closed before the runs are read again',
    );
    assert.match(back.status?.text ?? '', /nothing applied/);
  });

  test("the review keeps the plan's problems and notes", () => {
    const problems = [{ origin: { file: 'users.csv', line: 4 }, message: 'no userName' }];
    const s = apply(press(loadedExplorer(), '3'), {
      type: 'reviewReady',
      plan: { changes: [], problems, notes: ['members are write-only'] },
    });
    assert.deepEqual(s.review?.problems, problems);
    assert.deepEqual(s.review?.notes, ['members are write-only']);
    assert.deepEqual(initialState(100, 29, { changes: [], problems }).review?.problems, problems);
  });

  test('p does nothing outside the runs view', () => {
    assert.deepEqual(take(press(loadedExplorer(), 'p'))[1], []);
  });
});

describe('connecting', () => {
  test('retries during the first load: a connecting state (attempt N/M) until rows, the end or a failure', () => {
    const s0 = initialState(100, 30);
    const s1 = apply(s0, { type: 'retrying', attempt: 2, attempts: 5 });
    assert.deepEqual(s1.connecting, { attempt: 2, attempts: 5 });
    assert.deepEqual(apply(s1, { type: 'retrying', attempt: 3, attempts: 5 }).connecting, { attempt: 3, attempts: 5 });
    const listed = apply(s1, { type: 'rows', what: 'users', rows: users(0, 3), total: 3, gen: 1 });
    assert.equal(listed.connecting, undefined);
    assert.equal(listed.users.items.length, 3, 'the rows still arrive');
    const failed = apply(s1, { type: 'loadFailed', what: 'users', message: 'cannot reach the server', gen: 1 });
    assert.equal(failed.connecting, undefined);
    assert.equal(failed.users.error, 'cannot reach the server');
    // Once something is listed, a later retry does not hide it behind a connecting state.
    assert.equal(apply(listed, { type: 'retrying', attempt: 2, attempts: 5 }).connecting, undefined);
  });
});

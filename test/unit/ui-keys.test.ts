/** The key table and key naming (src/ui/keys.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BINDINGS,
  bindingsFor,
  commandFor,
  hintsFor,
  keyHint,
  keyLabel,
  keyName,
  splitKeys,
  typed,
  type Context,
  type DialogName,
  type ViewName,
} from '../../src/ui/keys.ts';

const VIEWS: ViewName[] = ['users', 'groups', 'user', 'group', 'runs', 'review'];

describe('splitKeys', () => {
  test('plain characters one by one', () => {
    assert.deepEqual(splitKeys('jjj'), ['j', 'j', 'j']);
    assert.deepEqual(splitKeys('Dyes'), ['D', 'y', 'e', 's']);
    assert.deepEqual(splitKeys('a b'), ['a', ' ', 'b']);
  });

  test('Enter, Tab, Backspace and Escape by name', () => {
    assert.deepEqual(splitKeys('yes\r'), ['y', 'e', 's', 'return']);
    assert.deepEqual(splitKeys('\r\r'), ['return', 'return']);
    assert.deepEqual(splitKeys('x\n'), ['x', 'return']);
    assert.deepEqual(splitKeys('\t\t'), ['tab', 'tab']);
    assert.deepEqual(splitKeys('ab\u007f\u007fc'), ['a', 'b', 'backspace', 'backspace', 'c']);
    assert.deepEqual(splitKeys('\b'), ['backspace']);
    assert.deepEqual(splitKeys('\u001b'), ['escape']);
    assert.deepEqual(splitKeys('\u001bq'), ['escape', 'q']);
  });

  test('arrow, paging and editing sequences, in both CSI and SS3 forms', () => {
    assert.deepEqual(splitKeys('\u001b[A\u001b[B\u001b[C\u001b[D'), ['up', 'down', 'right', 'left']);
    assert.deepEqual(splitKeys('\u001bOA\u001bOB'), ['up', 'down']);
    assert.deepEqual(splitKeys('\u001b[5~\u001b[6~'), ['pageup', 'pagedown']);
    assert.deepEqual(splitKeys('\u001b[H\u001b[F\u001b[1~\u001b[4~'), ['home', 'end', 'home', 'end']);
    assert.deepEqual(splitKeys('j\u001b[3~k'), ['j', 'delete', 'k']);
    assert.deepEqual(splitKeys('\u001b[B\u001b[Bx\u001b[A'), ['down', 'down', 'x', 'up']);
  });

  test('control characters become ctrl+letter', () => {
    assert.deepEqual(splitKeys('\u0003'), ['ctrl+c']);
    assert.deepEqual(splitKeys('\u0002\u0006'), ['ctrl+b', 'ctrl+f']);
    assert.deepEqual(splitKeys('j\u0003j'), ['j', 'ctrl+c', 'j']);
  });

  test('characters outside the BMP and accents stay whole', () => {
    assert.deepEqual(splitKeys('é😀ß'), ['é', '😀', 'ß']);
  });

  test('an unknown sequence is one token, not a run of characters', () => {
    assert.deepEqual(splitKeys('\u001b[1;5Aj'), ['\u001b[1;5A', 'j']);
  });
});

describe('keyName', () => {
  test("Ink's key flags become names; plain input stays as typed", () => {
    assert.equal(keyName('', { upArrow: true }), 'up');
    assert.equal(keyName('', { downArrow: true }), 'down');
    assert.equal(keyName('', { leftArrow: true }), 'left');
    assert.equal(keyName('', { rightArrow: true }), 'right');
    assert.equal(keyName('', { pageUp: true }), 'pageup');
    assert.equal(keyName('', { pageDown: true }), 'pagedown');
    assert.equal(keyName('', { home: true }), 'home');
    assert.equal(keyName('', { end: true }), 'end');
    assert.equal(keyName('\r', { return: true }), 'return');
    assert.equal(keyName('', { escape: true }), 'escape');
    assert.equal(keyName('\t', { tab: true }), 'tab');
    assert.equal(keyName('', { backspace: true }), 'backspace');
    assert.equal(keyName('', { delete: true }), 'delete');
    assert.equal(keyName('c', { ctrl: true }), 'ctrl+c');
    assert.equal(keyName('C', { ctrl: true }), 'ctrl+c');
    assert.equal(keyName('G', {}), 'G');
    assert.equal(keyName('/', {}), '/');
    assert.equal(keyName('jjj', {}), 'jjj', 'a burst is passed on whole, for splitKeys');
  });
});

describe('commandFor', () => {
  const cases: Array<[ViewName, string, string | undefined]> = [
    ['users', 'ctrl+c', 'quit'],
    ['review', 'ctrl+c', 'quit'],
    ['users', 'q', 'backOrQuit'],
    ['users', 'escape', 'back'],
    ['user', 'escape', 'back'],
    ['group', '?', 'help'],
    ['users', 'j', 'down'],
    ['users', 'down', 'down'],
    ['review', 'k', 'up'],
    ['user', 'j', 'down'],
    ['users', ' ', 'pageDown'],
    ['review', ' ', 'toggle'],
    ['users', 'ctrl+f', 'pageDown'],
    ['runs', 'ctrl+b', 'pageUp'],
    ['users', 'G', 'bottom'],
    ['groups', 'g', 'top'],
    ['users', 'return', 'open'],
    ['groups', 'return', 'open'],
    ['review', 'return', 'expand'],
    ['review', 'l', 'expand'],
    ['user', 'return', undefined],
    ['users', '/', 'search'],
    ['groups', '/', 'search'],
    ['runs', '/', undefined],
    ['user', '/', undefined],
    ['users', 'tab', 'nextPane'],
    ['review', 'tab', undefined],
    ['runs', '1', 'showUsers'],
    ['users', '2', 'showGroups'],
    ['groups', '3', 'showRuns'],
    ['user', '2', undefined],
    ['users', 's', 'sort'],
    ['runs', 's', undefined],
    ['runs', 'r', 'refresh'],
    ['users', 'n', 'create'],
    ['groups', 'n', undefined],
    ['user', 'e', 'edit'],
    ['users', 'e', undefined],
    ['user', 'a', 'activate'],
    ['review', 'a', 'apply'],
    ['users', 'a', undefined],
    ['user', 'd', 'deactivate'],
    ['users', 'd', undefined],
    ['user', 'D', 'delete'],
    ['group', 'D', 'delete'],
    // Ink reports Backspace as "delete": it must not start a deletion.
    ['group', 'delete', undefined],
    ['user', 'delete', undefined],
    ['user', 'backspace', undefined],
    ['users', 'D', undefined],
    ['user', '+', 'addToGroup'],
    ['user', '-', 'removeFromGroup'],
    ['group', '+', undefined],
    ['review', 'f', 'filter'],
    ['users', 'f', undefined],
    ['users', 'x', undefined],
  ];
  for (const [view, key, command] of cases) {
    test(`${JSON.stringify(key)} in ${view} → ${command ?? 'nothing'}`, () => {
      assert.equal(commandFor(view, key), command);
    });
  }

  test('no key means two things in the same view', () => {
    for (const view of VIEWS) {
      const seen = new Map<string, string>();
      for (const b of BINDINGS) {
        if (b.views && !b.views.includes(view)) continue;
        for (const k of b.keys) {
          assert.ok(
            !seen.has(k) || seen.get(k) === b.command,
            `${view}: "${k}" is bound to ${seen.get(k)} and ${b.command}`,
          );
          seen.set(k, b.command);
        }
      }
    }
  });
});

describe('hintsFor', () => {
  test('each view lists its own hints, with space and enter spelled out', () => {
    const users = hintsFor('users');
    for (const h of [
      'q back / quit',
      '? help',
      'enter open',
      '/ search',
      'tab list / detail pane',
      '1 users (2 groups, 3 runs)',
      's sort by next column',
      'n new user',
    ])
      assert.ok(users.includes(h), `users: ${h}`);
    for (const h of ['space include', 'a apply', 'D delete', 'e edit'])
      assert.ok(!users.includes(h), `users must not hint ${h}`);

    const review = hintsFor('review');
    for (const h of ['q back / quit', 'space include / exclude', 'enter expand', 'f filter by kind', 'a apply'])
      assert.ok(review.includes(h), `review: ${h}`);
    for (const h of ['enter open', '/ search', 'n new user', 'return'])
      assert.ok(!review.includes(h), `review must not hint ${h}`);

    const user = hintsFor('user');
    for (const h of [
      'e edit attributes',
      'a activate',
      'd deactivate',
      'D delete…',
      '+ add to group',
      '- remove from group',
    ])
      assert.ok(user.includes(h), `user: ${h}`);
    assert.ok(!user.includes('enter open'));

    assert.ok(hintsFor('group').includes('D delete…'));
    assert.ok(!hintsFor('group').includes('e edit'));
  });
});

describe('hints on a narrow terminal', () => {
  test('at 80 columns the essential keys stay (apply in the review) and the least important go first', () => {
    assert.ok(hintsFor('review').length > 80, 'the full review hints do not fit in 80 columns');
    const review = hintsFor('review', 80);
    assert.ok(review.length <= 80, review);
    for (const h of ['q back / quit', '? help', 'space include / exclude', 'a apply'])
      assert.ok(review.includes(h), `review at 80: ${h}`);
    const users = hintsFor('users', 80);
    assert.ok(users.length <= 80, users);
    for (const h of ['q back / quit', '? help', 'enter open']) assert.ok(users.includes(h), `users at 80: ${h}`);
    // A low-priority hint goes before a useful one.
    assert.ok(!users.includes('s sort'));
    const user = hintsFor('user', 80);
    assert.ok(user.length <= 80, user);
    assert.ok(user.includes('d deactivate') && !user.includes('+ add to group'), user);
    // Wide enough, nothing is dropped.
    assert.equal(hintsFor('review', 200), hintsFor('review'));
  });
});

describe('Shift+Tab', () => {
  test('is named and moves back in a form', () => {
    assert.equal(keyName('', { tab: true, shift: true }), 'shift+tab');
    assert.deepEqual(splitKeys('\u001b[Z'), ['shift+tab']);
    assert.equal(commandFor('form', 'shift+tab'), 'prevField');
    assert.equal(keyLabel('form', 'prevField'), 'Shift+Tab');
  });
});

describe('lone control characters', () => {
  test('are named ctrl+letter, never typed into a value', () => {
    assert.equal(keyName('\u0015', {}), 'ctrl+u');
    assert.equal(keyName('\u0002', {}), 'ctrl+b');
  });
});

describe('dialog keys', () => {
  const DIALOGS: DialogName[] = ['help', 'confirm', 'prompt', 'form', 'pickGroup', 'confirmApply'];
  const cases: Array<[Context, string, string | undefined]> = [
    ['help', 'q', 'close'],
    ['help', '?', 'close'],
    ['help', 'escape', 'close'],
    ['help', 'return', 'close'],
    ['help', 'j', undefined],
    ['help', 'ctrl+c', 'quit'],
    ['confirm', 'return', 'submit'],
    ['confirm', 'escape', 'cancel'],
    ['confirm', 'backspace', 'erase'],
    ['confirm', 'delete', 'erase'],
    ['confirm', 'ctrl+c', 'quit'],
    // Typed, not commands: the view's q, ?, D and space do not apply in a dialog.
    ['confirm', 'q', undefined],
    ['confirm', '?', undefined],
    ['confirm', 'D', undefined],
    ['prompt', ' ', undefined],
    ['prompt', 'return', 'submit'],
    ['prompt', 'tab', undefined],
    ['form', 'tab', 'nextField'],
    ['form', 'down', 'nextField'],
    ['form', 'up', 'prevField'],
    ['form', 'ctrl+u', 'clearField'],
    ['form', 'return', 'submit'],
    ['pickGroup', 'up', 'up'],
    ['pickGroup', 'down', 'down'],
    ['pickGroup', 'j', undefined],
    ['pickGroup', 'return', 'submit'],
    ['confirmApply', 'return', 'submit'],
    ['confirmApply', 'escape', 'cancel'],
    ['confirmApply', 'a', undefined],
    ['confirmApply', 'ctrl+c', 'quit'],
    // Dialog keys stay in dialogs.
    ['users', 'ctrl+u', undefined],
    ['user', 'backspace', undefined],
  ];
  for (const [context, key, command] of cases) {
    test(`${JSON.stringify(key)} in ${context} → ${command ?? 'typed / nothing'}`, () => {
      assert.equal(commandFor(context, key), command);
    });
  }

  test('no key means two things in the same dialog; every dialog quits on Ctrl+C', () => {
    for (const dialog of DIALOGS) {
      const seen = new Map<string, string>();
      for (const b of bindingsFor(dialog)) {
        for (const k of b.keys) {
          assert.ok(!seen.has(k), `${dialog}: "${k}" is bound to ${seen.get(k)} and ${b.command}`);
          seen.set(k, b.command);
        }
      }
      assert.equal(seen.get('ctrl+c'), 'quit', dialog);
    }
  });

  test('dialogs name their keys from the table', () => {
    assert.equal(keyLabel('confirm', 'submit'), 'Enter');
    assert.equal(keyLabel('prompt', 'cancel'), 'Esc');
    assert.equal(keyLabel('form', 'nextField'), 'Tab');
    assert.equal(keyLabel('form', 'clearField'), 'Ctrl+U');
    assert.equal(keyHint('form', 'clearField'), 'Ctrl+U: clear it');
    assert.equal(keyHint('pickGroup', 'submit', 'choose'), 'Enter: choose');
    assert.throws(() => keyLabel('help', 'submit'), /no key for submit in help/);
  });

  test('typed: printable characters only', () => {
    assert.equal(typed('ye', 's'), 'yes');
    assert.equal(typed('', ' '), ' ');
    assert.equal(typed('a', 'é'), 'aé');
    assert.equal(typed('a', 'return'), undefined);
    assert.equal(typed('a', '\u007f'), undefined);
    assert.equal(typed('a', '\u0001'), undefined);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { render } from 'ink-testing-library';
import type { ScimGroup, ScimUser } from '../../src/api/types.ts';
import { ListPane } from '../../src/ui/components/ListPane.tsx';
import { commandFor } from '../../src/ui/keys.ts';
import { appReducer as reduce, initialState } from '../../src/ui/state/app.ts';
import { emptyList, type ListState } from '../../src/ui/state/list.ts';

const ID = '3f1c2a9e-5b7d-4e11-9c0a-8d2f6b4e7a10';
const user = (userName: string, displayName: string, email: string, active = true): ScimUser => ({
  schemas: [],
  id: `${ID.slice(0, -2)}${userName.length}`,
  userName,
  displayName,
  active,
  emails: [{ value: email, primary: true }],
});

function listOf<T>(items: T[]): ListState<unknown> {
  return { ...emptyList<unknown>(), items, visible: items.map((_, i) => i), done: true };
}

function frame(what: 'users' | 'groups', items: unknown[], width: number, showIds = false): string[] {
  const { lastFrame, unmount } = render(
    <ListPane what={what} list={listOf(items)} width={width} height={10} color={false} showIds={showIds} />,
  );
  const lines = (lastFrame() ?? '').split('\n');
  unmount();
  return lines;
}

describe('ui ListPane: names first, ids on demand', () => {
  test('users: userName in full first, then displayName and active; no id; e-mail equal to userName left out', () => {
    const long = 'christopher.montgomery-smith@engineering.example.com';
    const lines = frame('users', [user(long, 'Chris MS', long), user('ann@example.com', 'Ann', 'ANN@example.com')], 72);
    assert.match(lines[0]!, /^USERNAME {2,}DISPLAYNA… {2}ACTIVE$/, 'the displayName gives way first');
    assert.ok(lines[1]!.startsWith(`${long}  Chris MS`), lines[1]);
    assert.doesNotMatch(lines.slice(1).join('\n'), /…|3f1c2a9e/);
    assert.doesNotMatch(lines[0]!, /\bID\b|EMAIL/);
  });

  test('users: the e-mail column appears when an e-mail differs from the userName; widths follow the content', () => {
    const lines = frame('users', [user('ann', 'Ann Lee', 'ann.lee@example.com', false), user('bo', 'Bo', '')], 72);
    assert.deepEqual(lines.slice(0, 3), [
      'USERNAME  DISPLAYNAME  EMAIL                ACTIVE',
      'ann       Ann Lee      ann.lee@example.com  ✗ no',
      'bo        Bo                                yes',
    ]);
  });

  test('users: very long cells are capped and cut with an ellipsis, the userName last of all', () => {
    const name = `${'x'.repeat(70)}@example.com`;
    const lines = frame('users', [user(name, 'D'.repeat(50), `${'e'.repeat(50)}@example.com`)], 100);
    const [userName, displayName, email] = lines[1]!.split(/ {2,}/);
    assert.equal(userName!.length, 64, 'capped at 64');
    assert.ok(userName!.endsWith('…'));
    assert.ok(displayName!.endsWith('…') && email!.endsWith('…'));
    assert.ok(lines.every((l) => l.length <= 100));
  });

  test('with ids shown (I), the id comes last, in full when it fits', () => {
    const lines = frame('users', [user('ann', 'Ann Lee', 'ann')], 100, true);
    assert.match(lines[0]!, /^USERNAME {2}DISPLAYNAME {2}ACTIVE {2}ID$/);
    assert.match(lines[1]!, /^ann {7}Ann Lee {6}yes {5}3f1c2a9e-5b7d-4e11-9c0a-8d2f6b4e7a3$/);
  });

  test('groups lead with displayName, the member count next; the id only on demand', () => {
    const g: ScimGroup = { schemas: [], id: ID, displayName: 'Engineering Platform Team', members: [{ value: 'a' }] };
    assert.deepEqual(frame('groups', [g], 80).slice(0, 2), [
      'DISPLAYNAME                MEMBERS',
      'Engineering Platform Team  1',
    ]);
    assert.match(frame('groups', [g], 80, true)[1]!, new RegExp(`^Engineering Platform Team {2}1 {8}${ID}$`));
  });

  test('I toggles the id column in the users and groups views', () => {
    assert.equal(commandFor('users', 'I'), 'toggleIds');
    assert.equal(commandFor('groups', 'I'), 'toggleIds');
    const s = reduce(initialState(120, 40), { type: 'key', key: 'I' });
    assert.equal(s.showIds, true);
    assert.equal(reduce(s, { type: 'key', key: 'I' }).showIds, false);
  });
});

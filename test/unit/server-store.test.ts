/** The journaled store of `scimctl serve`: what is answered survives, replay is exact, damage is named. */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Store, StoreError, type StoredResource } from '../../src/server/store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'scimctl-store-'));
  dirs.push(d);
  return d;
}

const T = '2026-11-21T00:00:00.000Z';
const STORE_MODULE = fileURLToPath(new URL('../../src/server/store.ts', import.meta.url));

/**
 * Runs `body` (with `store` open on `d`) in another process that then dies without closing the
 * store, as a crash or kill -9 would; returns what it printed.
 */
function inDyingProcess(d: string, body: string): string {
  const script = `import { Store } from ${JSON.stringify(STORE_MODULE)};
const T = ${JSON.stringify(T)};
const store = await Store.open({ dir: ${JSON.stringify(d)} });
const stamp = () => ({ version: store.nextVersion(), created: T, lastModified: T });
const user = (id, userName) =>
  ({ kind: 'User', id, ...stamp(), schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], attrs: { userName } });
const group = (id, displayName, members = []) => ({
  kind: 'Group', id, ...stamp(), schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
  attrs: { displayName }, members: new Map(members.map((m) => [m, 'User'])),
});
${body}
process.exit(0);
`;
  const file = join(d, '..', `${Date.now()}-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(file, script);
  try {
    return execFileSync(process.execPath, ['--import', 'tsx', file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } finally {
    rmSync(file, { force: true });
  }
}
function user(store: Store, id: string, userName: string): StoredResource {
  return {
    kind: 'User',
    id,
    version: store.nextVersion(),
    created: T,
    lastModified: T,
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    attrs: { userName },
  };
}
function group(store: Store, id: string, displayName: string, members: string[] = []): StoredResource {
  return {
    kind: 'Group',
    id,
    version: store.nextVersion(),
    created: T,
    lastModified: T,
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
    attrs: { displayName },
    members: new Map(members.map((m) => [m, 'User' as const])),
  };
}

/** Everything a client could see, in a comparable form. */
function state(store: Store) {
  const list = (m: Map<string, StoredResource>) =>
    [...m.values()].map((r) => ({
      id: r.id,
      version: r.version,
      attrs: r.attrs,
      ...(r.members ? { members: [...r.members] } : {}),
      groups: [...store.groupsOf(r.id)].sort(),
    }));
  return { users: list(store.users), groups: list(store.groups) };
}

test('changes answered before the process dies are all there after a restart, without a clean close', async () => {
  const d = dir();
  const printed = inDyingProcess(
    join(d, 's'),
    `await store.put(user('u1', 'ann@example.com'));
await store.put(user('u2', 'bob@example.com'));
const g = group('g1', 'Eng', ['u1']);
await store.put(g);
await store.changeMembers(g, [['u2', 'User']], [], store.nextVersion(), T);
await store.changeMembers(g, [], ['u1'], store.nextVersion(), T);
await store.put(user('u2', 'robert@example.com'));
await store.remove('User', 'u1');
const list = (m) => [...m.values()].map((r) => ({
  id: r.id, version: r.version, attrs: r.attrs,
  ...(r.members ? { members: [...r.members] } : {}), groups: [...store.groupsOf(r.id)].sort(),
}));
console.log(JSON.stringify({ users: list(store.users), groups: list(store.groups) }));`,
  );
  const expected = JSON.parse(printed) as ReturnType<typeof state>;
  assert.equal(expected.users.length, 1);
  const b = await Store.open({ dir: join(d, 's') });
  assert.deepEqual(state(b), expected);
  assert.equal(b.userIdByName('ROBERT@example.com'), 'u2');
  assert.equal(b.userIdByName('bob@example.com'), undefined);
  assert.deepEqual([...b.groupsOf('u2')], ['g1']);
  // Versions never go backwards after a restart.
  assert.ok(
    b.nextVersion() > Math.max(...expected.users.map((u) => u.version), ...expected.groups.map((x) => x.version)),
  );
  await b.close();
  assert.ok(!existsSync(join(d, 's', 'journal.jsonl')), 'a clean close folds the journal into the snapshot');
  const c = await Store.open({ dir: join(d, 's') });
  assert.deepEqual(state(c), expected);
  await c.close();
});

test("a member's version follows its group changes, and replays to the same value", async () => {
  const d = dir();
  const a = await Store.open({ dir: d });
  await a.put(user(a, 'u1', 'ann@example.com'));
  const before = a.users.get('u1')!.version;
  const g = group(a, 'g1', 'Eng');
  await a.put(g);
  const v = a.nextVersion();
  await a.changeMembers(g, [['u1', 'User']], [], v, T);
  assert.equal(a.users.get('u1')!.version, v);
  assert.ok(v > before);
  await a.put({ ...g, version: a.nextVersion(), attrs: { displayName: 'Engineering' }, members: new Map(g.members) });
  const renamed = a.users.get('u1')!.version;
  assert.ok(renamed > v, 'a rename of its group changes the member');
  await assert.rejects(Store.open({ dir: d }), StoreError, 'a second store on a directory in use is refused');
  await a.close();
  const c = await Store.open({ dir: d });
  assert.equal(c.users.get('u1')!.version, renamed);
  await c.close();
});

test(
  'a last line cut short by a crash is ignored; damage earlier in the file is ' + 'named with file and line',
  async () => {
    const d = join(dir(), 's');
    inDyingProcess(d, `await store.put(user('u1', 'ann@example.com'));`);
    appendFileSync(join(d, 'journal.jsonl'), '{"op":"put","r":{"kind":"User","id":"u2"');
    const b = await Store.open({ dir: d });
    assert.deepEqual([...b.users.keys()], ['u1']);
    await b.close();

    const journal = join(d, 'journal.jsonl');
    writeFileSync(journal, 'not json\n' + JSON.stringify({ op: 'del', kind: 'User', id: 'u1' }) + '\n');
    await assert.rejects(
      Store.open({ dir: d }),
      (e: unknown) => e instanceof StoreError && e.message.includes(`${journal}:1:`),
    );
    assert.ok(!existsSync(join(d, 'lock')), 'a failed open releases the directory');
    assert.match(readFileSync(join(d, 'snapshot.jsonl'), 'utf8'), /ann@example\.com/, 'the snapshot is untouched');
  },
);

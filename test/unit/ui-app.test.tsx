/**
 * The TUI as a component (ink-testing-library): <App> with a ScimClient on a fake
 * fetch serving a few hundred users and some groups. Keys go in through stdin one
 * at a time (or as one burst where that is the point); every wait polls the last
 * frame against a deadline.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { ScimClient } from '../../src/api/client.ts';
import type { RetryInfo } from '../../src/api/http.ts';
import { SCHEMA, type MultiValue, type ScimGroup, type ScimUser } from '../../src/api/types.ts';
import type { ChangeResult } from '../../src/sync/apply.ts';
import { RunHistory } from '../../src/sync/history.ts';
import type { Change, RecordProblem } from '../../src/sync/model.ts';
import { App, SEARCH_DEBOUNCE_MS, type Schedule } from '../../src/ui/App.tsx';
import { findingLines } from '../../src/ui/components/ReviewPane.tsx';
import type { TuiDeps } from '../../src/ui/effects.ts';
import { BINDINGS } from '../../src/ui/keys.ts';
import {
  BASE,
  caps,
  fakeFetch,
  recordingSleep,
  scimError,
  scimJson,
  listResponse,
  type FakeFetch,
  type FakeRequest,
} from './helpers.ts';
import { applyPatchOp, type PatchOp } from './sync-helpers.ts';

// ---------------------------------------------------------------------------
// A small SCIM server behind fakeFetch: paged listing, `co` filters, get, PATCH, DELETE, POST.

const FIRST = ['Ann', 'Bob', 'Cleo', 'Dmitri', 'Eva', 'Farid', 'Greta', 'Hiro', 'Ines', 'Jonas', 'Kofi', 'Lena'];
const LAST = ['Smith', 'Okafor', 'Tanaka', 'Ivanova', 'Rossi', 'Dubois', 'Chen', 'Garcia', 'Novak'];

function seedUsers(n: number): ScimUser[] {
  return Array.from({ length: n }, (_, i) => {
    const given = FIRST[i % FIRST.length]!;
    const family = LAST[Math.floor(i / FIRST.length) % LAST.length]!;
    const userName = `${given}.${family}${i}@example.com`.toLowerCase();
    return {
      schemas: [SCHEMA.USER],
      id: `u${String(i).padStart(4, '0')}`,
      userName,
      displayName: `${given} ${family}`,
      name: { givenName: given, familyName: family },
      title: i % 5 === 0 ? 'Manager' : 'Engineer',
      active: true,
      emails: [{ value: userName, type: 'work', primary: true }],
    };
  });
}

interface Gate {
  promise: Promise<void>;
  open: () => void;
}
function gate(): Gate {
  let open = () => undefined as void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

interface FakeScim {
  f: FakeFetch;
  users: Map<string, ScimUser>;
  groups: Map<string, ScimGroup>;
  /** Requests other than GET, as "METHOD /path". */
  writes: () => FakeRequest[];
}

function fakeScim(n = 300, options: { holdListingFrom?: { startIndex: number; gate: Gate } } = {}): FakeScim {
  const users = new Map(seedUsers(n).map((u) => [u.id, u] as const));
  const ids = [...users.keys()];
  const groups = new Map<string, ScimGroup>(
    ['Engineering', 'Sales', 'Support', 'Finance', 'Leads'].map((name, g) => [
      `g${g + 1}`,
      {
        schemas: [SCHEMA.GROUP],
        id: `g${g + 1}`,
        displayName: name,
        members: ids
          .filter((_, i) => i % 5 === g)
          .slice(0, 20)
          .map((value) => ({ value, type: 'User' })),
      },
    ]),
  );
  let seq = 0;
  const withGroups = (u: ScimUser): ScimUser => {
    const mine: MultiValue[] = [...groups.values()]
      .filter((g) => g.members?.some((m) => m.value === u.id))
      .map((g) => ({ value: g.id, display: g.displayName, type: 'direct' }));
    return mine.length ? { ...u, groups: mine } : u;
  };
  const read = (obj: unknown, path: string): unknown =>
    path
      .split('.')
      .reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);

  const f = fakeFetch(async (req) => {
    const m = /^\/scim\/v2\/(Users|Groups)(?:\/([^/]+))?$/.exec(req.url.pathname);
    if (!m) return scimError(404, `no route ${req.url.pathname}`);
    const isUsers = m[1] === 'Users';
    const id = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    const body = req.body === undefined ? undefined : (JSON.parse(req.body) as Record<string, unknown>);
    if (id === undefined && req.method === 'GET') {
      let all: Array<ScimUser | ScimGroup> = isUsers ? [...users.values()] : [...groups.values()];
      const filter = req.url.searchParams.get('filter');
      if (filter) {
        const co = /^([\w.]+) co "(.*)"$/.exec(filter);
        if (!co) return scimError(400, `unsupported filter ${filter}`, 'invalidFilter');
        const needle = co[2]!.toLowerCase();
        all = all.filter((r) =>
          String(read(r, co[1]!) ?? '')
            .toLowerCase()
            .includes(needle),
        );
      }
      const start = Number(req.url.searchParams.get('startIndex') ?? '1');
      const count = Number(req.url.searchParams.get('count') ?? '100');
      const hold = options.holdListingFrom;
      if (isUsers && !filter && hold && start >= hold.startIndex) await hold.gate.promise;
      const page = all.slice(start - 1, start - 1 + count).map((r) => (isUsers ? withGroups(r as ScimUser) : r));
      return scimJson(listResponse(page, { totalResults: all.length, startIndex: start, itemsPerPage: page.length }));
    }
    if (id === undefined) {
      if (req.method !== 'POST' || !body || !isUsers) return scimError(405, 'not here');
      const created = { ...body, id: `new${++seq}` } as ScimUser;
      users.set(created.id, created);
      return scimJson(created, 201);
    }
    const store = (isUsers ? users : groups) as Map<string, ScimUser | ScimGroup>;
    const current = store.get(id);
    if (!current) return scimError(404, `${id} not found`);
    switch (req.method) {
      case 'GET':
        return scimJson(isUsers ? withGroups(current as ScimUser) : current);
      case 'PATCH': {
        const next = structuredClone(current) as unknown as Record<string, unknown>;
        for (const op of (body?.Operations ?? []) as PatchOp[]) applyPatchOp(next, op);
        store.set(id, next as unknown as ScimUser);
        return scimJson(isUsers ? withGroups(next as unknown as ScimUser) : next);
      }
      case 'DELETE':
        store.delete(id);
        for (const g of groups.values()) g.members = (g.members ?? []).filter((mv) => mv.value !== id);
        return new Response(null, { status: 204 });
      default:
        return scimError(405, `${req.method} not allowed`);
    }
  });
  return { f, users, groups, writes: () => f.calls.filter((c) => c.method !== 'GET') };
}

function depsFor(server: FakeScim, extra: Partial<TuiDeps> = {}): TuiDeps {
  const capabilities = caps((c) => {
    c.patch = true;
  });
  const client = new ScimClient({
    baseUrl: BASE,
    fetch: server.f.fetch,
    sleep: recordingSleep().sleep,
    capabilities,
    retries: 0,
  });
  return { client, caps: capabilities, ...extra };
}

// ---------------------------------------------------------------------------
// Driving the app

async function waitFor(predicate: () => boolean, timeoutMs = 5000, describe: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms\n${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

let unmounts: Array<() => void> = [];
afterEach(() => {
  for (const u of unmounts) u();
  unmounts = [];
});

/** A clock the test moves by hand: what is scheduled runs only once the test moves time past it. */
function manualClock() {
  let now = 0;
  let timers: Array<{ at: number; fn: () => void }> = [];
  let scheduled = 0;
  const schedule: Schedule = (fn, ms) => {
    scheduled++;
    const timer = { at: now + ms, fn };
    timers.push(timer);
    return () => void (timers = timers.filter((t) => t !== timer));
  };
  return {
    schedule,
    /** Timers waiting to run. */
    pending: () => timers.length,
    /** Timers ever set. */
    scheduled: () => scheduled,
    advance(ms: number) {
      now += ms;
      const due = timers.filter((t) => t.at <= now).sort((a, b) => a.at - b.at);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.fn();
    },
  };
}

function start(
  deps: TuiDeps,
  changes?: Change[],
  columns = 100,
  more: { problems?: RecordProblem[]; notes?: string[]; schedule?: Schedule } = {},
) {
  const plan = changes && { changes, problems: more.problems ?? [], notes: more.notes };
  const r = render(
    <App deps={deps} profile="acme-test" url={BASE} columns={columns} rows={30} plan={plan} schedule={more.schedule} />,
  );
  unmounts.push(r.unmount);
  const frame = () => r.lastFrame() ?? '';
  const lines = () => frame().split('\n');
  const until = (pattern: RegExp | ((f: string) => boolean), timeoutMs = 5000) =>
    waitFor(
      () => (typeof pattern === 'function' ? pattern(frame()) : pattern.test(frame())),
      timeoutMs,
      () => `--- last frame ---\n${frame()}\n---`,
    );
  /** Writes one key and waits until the frame shows what it should. */
  const key = async (k: string, after: RegExp | ((f: string) => boolean)) => {
    r.stdin.write(k);
    await until(after);
  };
  /** Types text one character at a time, waiting for each to show in the frame. */
  const type = async (text: string, shown: (typed: string) => RegExp) => {
    for (let i = 1; i <= text.length; i++) await key(text[i - 1]!, shown(text.slice(0, i)));
  };
  return { ...r, frame, lines, until, key, type };
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const ENTER = '\r';

// ---------------------------------------------------------------------------

describe('explorer', () => {
  test('paints the header with counts, the users table and the key hints', async () => {
    const server = fakeScim(300);
    const app = start(depsFor(server));
    await app.until(/\[1 users 300\]/);
    const lines = app.lines();
    assert.match(
      lines[0]!,
      /^scimctl {2}acme-test {2}https:\/\/scim\.example\.test\/scim\/v2 .*\[1 users 300\] 2 groups \d+ {2}3 runs 0/,
    );
    // Names first; the e-mail (equal to the userName here) and the id left out.
    assert.match(lines[1]!, /^USERNAME\s+DISPLAYNAME\s+ACTIVE$/);
    assert.match(lines[2]!, /^ann\.smith0@example\.com\s+Ann Smith\s+yes$/);
    assert.match(lines[3]!, /bob\.smith1@example\.com/);
    assert.equal(lines.length, 29, 'one row shorter than the terminal');
    assert.ok(
      lines.every((l) => l.length <= 100),
      'nothing is wider than the terminal',
    );
    assert.match(lines.at(-1)!, /q back \/ quit {2}\? help {2}enter open {2}\/ search/);
    // 24 data rows fit: rows 0..23, and not row 24.
    assert.match(lines[25]!, /lena\.okafor23@/);
    assert.doesNotMatch(app.frame(), /ann\.tanaka24@/);
  });

  test('shows that users are loading until the first page arrives', async () => {
    const hold = gate();
    const server = fakeScim(700, { holdListingFrom: { startIndex: 1, gate: hold } });
    const app = start(depsFor(server));
    await app.until(/loading users…/);
    assert.doesNotMatch(app.frame(), /no users/);
    assert.match(app.lines()[0]!, /\[1 users 0…\]/);
    hold.open();
    await app.until(/\[1 users 700\]/);
  });

  test('typing after / narrows the list as you type; Enter keeps the filter', async () => {
    const server = fakeScim(300);
    const app = start(depsFor(server));
    await app.until(/\[1 users 300\]/);
    await app.key('/', /\/▏ {2}\(300 match; Enter keeps, Esc closes\)/);
    await app.key('g', /\/g▏ {2}\(\d+ match/);
    const gCount = Number(/\/g▏ {2}\((\d+) match/.exec(app.frame())![1]);
    assert.ok(gCount < 300 && gCount > 5, `"g" matches ${gCount}`);
    await app.type('reta.chen', (t) => new RegExp(`/g${esc(t)}▏`));
    // Greta Chen is users 78, 186 and 294 (12 first names × 9 family names repeat every 108).
    await app.until(/\(3 match;/);
    assert.deepEqual(
      app
        .lines()
        .slice(2, 5)
        .map((l) => /(\S+@example\.com)/.exec(l)?.[1]),
      ['greta.chen78@example.com', 'greta.chen186@example.com', 'greta.chen294@example.com'],
    );
    await app.type('18', (t) => new RegExp(`/greta\\.chen${t}▏`));
    await app.until(/\(1 match;/);
    assert.match(app.frame(), /greta\.chen186@example\.com/);
    assert.doesNotMatch(app.frame(), /ann\.smith0@|greta\.chen78@/);
    await app.key(ENTER, /filter: greta\.chen18 \(1 shown; \/ to change\)/);
    assert.match(app.frame(), /greta\.chen186@example\.com/);
  });

  test('Enter opens the selected user: attributes and groups; q goes back', async () => {
    const server = fakeScim(300);
    const app = start(depsFor(server));
    await app.until(/\[1 users 300\]/);
    await app.key('j', () => true);
    await app.key('j', () => true);
    app.stdin.write(ENTER);
    // The list keeps only what its columns need; the detail reads the user in full.
    await app.until(/title\s+Engineer/);
    assert.ok(server.f.calls.some((c) => c.method === 'GET' && c.url.pathname.endsWith('/Users/u0002')));
    const frame = app.frame();
    assert.match(frame, /userName\s+cleo\.smith2@example\.com/);
    assert.match(frame, /displayName\s+Cleo Smith/);
    assert.match(frame, /name\.familyName\s+Smith/);
    assert.match(frame, /groups \(1\):\n\s+Support/);
    assert.match(app.lines().at(-1)!, /e edit attributes .*d deactivate .*D delete…/);
    await app.key('q', /USERNAME/);
    assert.match(app.lines()[4]!, /cleo\.smith2@example\.com/, 'the list is where it was');
    assert.doesNotMatch(app.frame(), /groups \(1\):/);
  });

  test('a burst of keys in one chunk is applied in order (jjj then Enter opens the 4th user)', async () => {
    const server = fakeScim(300);
    const app = start(depsFor(server));
    await app.until(/\[1 users 300\]/);
    app.stdin.write('jjjjk');
    app.stdin.write('j\r');
    await app.until(/userName\s+/);
    await app.until(/groups \(/);
    assert.match(app.frame(), /userName\s+eva\.smith4@example\.com/);
  });

  test('d deactivates the open user (PATCH active=false) and the status says so', async () => {
    const server = fakeScim(300);
    const app = start(depsFor(server));
    await app.until(/\[1 users 300\]/);
    app.stdin.write('j');
    await app.key(ENTER, /groups \(\d+\):/);
    await app.key('d', /Deactivate user/);
    assert.deepEqual(server.writes(), [], 'nothing is sent before the confirmation');
    await app.type('yes', (t) => new RegExp(`Esc to cancel: ${t} +│`));
    await app.key(ENTER, /bob\.smith1@example\.com is now inactive/);
    const patches = server.writes();
    assert.equal(patches.length, 1);
    assert.equal(patches[0]!.method, 'PATCH');
    assert.equal(patches[0]!.url.pathname, '/scim/v2/Users/u0001');
    const ops = (JSON.parse(patches[0]!.body!) as { Operations: PatchOp[] }).Operations;
    assert.deepEqual(
      ops.map((o) => [o.op, o.path, o.value]),
      [['replace', 'active', false]],
    );
    assert.equal(server.users.get('u0001')!.active, false);
    assert.match(app.frame(), /active\s+false/);
    // Back in the list, the row says so too.
    await app.key('q', /USERNAME/);
    assert.match(app.frame(), /bob\.smith1@example\.com\s+Bob Smith\s+✗ no/);
  });

  test('s marks the sorted column and its direction in the header', async () => {
    const app = start(depsFor(fakeScim(30)));
    await app.until(/\[1 users 30\]/);
    assert.doesNotMatch(app.lines()[1]!, /[▲▼]/, 'server order: no mark');
    await app.key('s', /USERNAME ▲/);
    await app.key('s', /USERNAME ▼/);
    await app.key('s', /DISPLAYNAME ▲/);
    assert.doesNotMatch(app.lines()[1]!, /USERNAME [▲▼]/);
  });

  test('D then "yes" and Enter deletes the user (DELETE sent), and the list loses the row', async () => {
    const server = fakeScim(300);
    const app = start(depsFor(server));
    await app.until(/\[1 users 300\]/);
    await app.key(ENTER, /groups \(\d+\):/);
    await app.key('D', /Delete user/);
    assert.match(app.frame(), /userName: {4}ann\.smith0@example\.com/);
    assert.match(app.frame(), /Type "yes" and Enter to go ahead, Esc to cancel: +│/);
    await app.type('yes', (t) => new RegExp(`Esc to cancel: ${t} +│`));
    assert.deepEqual(server.writes(), [], 'nothing is sent before Enter');
    await app.key(ENTER, /deleted user ann\.smith0@example\.com/);
    assert.deepEqual(
      server.writes().map((c) => `${c.method} ${c.url.pathname}`),
      ['DELETE /scim/v2/Users/u0000'],
    );
    assert.ok(!server.users.has('u0000'));
    await app.until(/\[1 users 299\]/);
    // Only the status line names the deleted user: the list has lost the row.
    assert.deepEqual(
      app.lines().filter((l) => /ann\.smith0@/.test(l)),
      ['deleted user ann.smith0@example.com'],
    );
    assert.match(app.lines()[2]!, /bob\.smith1@example\.com/);
  });

  test('D then anything but "yes" deletes nothing', async () => {
    const server = fakeScim(300);
    const app = start(depsFor(server));
    await app.until(/\[1 users 300\]/);
    await app.key(ENTER, /groups \(\d+\):/);
    await app.key('D', /Delete user/);
    await app.type('y', (t) => new RegExp(`Esc to cancel: ${t} +│`));
    await app.key(ENTER, /not confirmed \(type "yes"\)/);
    await app.key('D', /Delete user/);
    await app.type('yes', (t) => new RegExp(`Esc to cancel: ${t} +│`));
    await app.key('\u001b', /cancelled/);
    assert.deepEqual(server.writes(), []);
    assert.ok(server.users.has('u0000'));
    assert.match(app.frame(), /userName\s+ann\.smith0@example\.com/, 'still on the user');
  });

  test('e edits the open user in a form: the changed field is sent as a PATCH and the change is shown', async () => {
    const server = fakeScim(300);
    const app = start(depsFor(server));
    await app.until(/\[1 users 300\]/);
    await app.key(ENTER, /groups \(\d+\):/);
    await app.key('e', /Edit ann\.smith0@example\.com/);
    for (let i = 0; i < 4; i++) await app.key('\t', () => true);
    await app.key('\u0015', /title +│/);
    await app.type('CTO', (t) => new RegExp(`title +${esc(t)} +│`));
    await app.key(ENTER, /saved \(PATCH\): title: Manager → CTO/);
    assert.equal(server.users.get('u0000')!.title, 'CTO');
    assert.match(app.frame(), /title\s+CTO/);
  });

  test('the form\'s "other" field takes the enterprise shorthands: manager=ID sets manager.value', async () => {
    const server = fakeScim(300);
    const app = start(depsFor(server));
    await app.until(/\[1 users 300\]/);
    await app.key(ENTER, /groups \(\d+\):/);
    await app.key('e', /Edit ann\.smith0@example\.com/);
    for (let i = 0; i < 8; i++) await app.key('\t', () => true);
    await app.type('manager=u0001', (t) => new RegExp(`other +${esc(t)} +│`));
    await app.key(ENTER, /saved \(PATCH\)/);
    const stored = server.users.get('u0000')! as Record<string, any>;
    assert.equal(stored[SCHEMA.ENTERPRISE_USER]?.manager?.value, 'u0001');
  });

  test(
    'a server that does not answer yet: "connecting… attempt N/M" in the header ' + 'and the list, then the users',
    async () => {
      const server = fakeScim(30);
      let refusals = 2;
      const fetch: typeof globalThis.fetch = async (input, init) => {
        const url = input instanceof Request ? input.url : String(input);
        if (refusals > 0 && url.includes('/Users')) {
          refusals--;
          throw new TypeError('fetch failed', { cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) });
        }
        return server.f.fetch(input, init);
      };
      // Each pause before a retry waits for the test to let it go.
      const pauses: Array<() => void> = [];
      const sleep = () => new Promise<void>((resolve) => pauses.push(resolve));
      let listener: ((info: RetryInfo) => void) | undefined;
      const capabilities = caps((c) => {
        c.patch = true;
      });
      const client = new ScimClient({
        baseUrl: BASE,
        fetch,
        sleep,
        capabilities,
        retries: 3,
        onRetry: (info) => listener?.(info),
      });
      const onRetry = (l: (info: RetryInfo) => void) => {
        listener = l;
        return () => (listener = undefined);
      };
      const app = start({ client, caps: capabilities, onRetry });
      await app.until(/connecting… attempt 2\/4 \(the server does not answer yet\)/);
      assert.match(app.lines()[0]!, /acme-test .*connecting… attempt 2\/4$/);
      pauses.shift()!();
      await app.until(/connecting… attempt 3\/4/);
      pauses.shift()!();
      await app.until(/\[1 users 30\]/);
      assert.doesNotMatch(app.frame(), /connecting…/);
      assert.match(app.frame(), /ann\.smith0@example\.com/);
    },
  );

  test('n creates a user from the form (POST) and lists it', async () => {
    const server = fakeScim(300);
    const app = start(depsFor(server));
    await app.until(/\[1 users 300\]/);
    await app.key('n', /New user \(Tab: next field/);
    await app.type('zoe@example.com', (t) => new RegExp(`userName +${esc(t)} +│`));
    await app.key('\t', () => true);
    await app.type('Zoe', (t) => new RegExp(`given name +${t} +│`));
    await app.key('\t', () => true);
    await app.type('Quinn', (t) => new RegExp(`family name +${t} +│`));
    await app.key(ENTER, /created zoe@example\.com \(new1\)/);
    const post = server.writes().find((c) => c.method === 'POST')!;
    const body = JSON.parse(post.body!) as ScimUser;
    assert.equal(body.userName, 'zoe@example.com');
    assert.deepEqual(body.name, { givenName: 'Zoe', familyName: 'Quinn' });
    await app.until(/\[1 users 301\]/);
  });

  test('a refused new user keeps the form and its input, the error beside the field by its label', async () => {
    const server = fakeScim(300);
    const app = start(depsFor(server));
    await app.until(/\[1 users 300\]/);
    await app.key('n', /New user \(Tab: next field, Shift\+Tab: back/);
    await app.type('zoe@example.com', (t) => new RegExp(`userName +${esc(t)} +│`));
    await app.key('\t\t\t', () => true);
    await app.type('nomail', (t) => new RegExp(`work e-mail +${t} +.*│`));
    await app.key(ENTER, /work e-mail: .*not a valid e-mail address/);
    assert.match(app.frame(), /work e-mail +nomail +✗ .*not a valid e-mail address/);
    assert.match(app.frame(), /userName +zoe@example\.com/);
    assert.deepEqual(server.writes(), [], 'nothing is sent');
    // Corrected, it goes through and the form closes.
    await app.key('\u0015', () => true);
    await app.type('zoe@example.com', (t) => new RegExp(`work e-mail +${esc(t)}`));
    await app.key(ENTER, /created zoe@example\.com/);
    assert.doesNotMatch(app.frame(), /New user/);
  });

  test('+ adds the open user to a group picked by typing (PATCH of the group)', async () => {
    const server = fakeScim(300);
    const app = start(depsFor(server));
    await app.until(/\[1 users 300\]/);
    await app.key(ENTER, /groups \(1\):\n\s+Engineering/);
    await app.key('+', /Add to group/);
    await app.until(/Finance/);
    assert.doesNotMatch(app.frame(), /^\W*Engineering/m, 'groups the user is in are not offered');
    await app.type('fin', (t) => new RegExp(`> ${t} +│`));
    assert.doesNotMatch(app.frame(), /Sales/);
    await app.key(ENTER, /added to Finance/);
    const patch = server.writes().find((c) => c.method === 'PATCH')!;
    assert.equal(patch.url.pathname, '/scim/v2/Groups/g4');
    assert.ok(server.groups.get('g4')!.members!.some((m) => m.value === 'u0000'));
    await app.until(/groups \(2\):/);
  });

  test('a wide terminal shows the list and the detail pane side by side; Tab moves into the detail', async () => {
    const server = fakeScim(300);
    const app = start(depsFor(server), undefined, 140);
    await app.until(/\[1 users 300\]/);
    // The pane follows the selection, from the listed row.
    await app.key('j', (f) => f.includes(`userName  ${server.users.get('u0001')!.userName}`));
    // Tab reads the user in full: attributes the list does not keep appear.
    await app.key('\t', (f) => f.includes(`title  ${server.users.get('u0001')!.title}`));
    assert.ok(server.f.calls.some((c) => c.method === 'GET' && c.url.pathname.endsWith('/Users/u0001')));
    // The pane with the keys has the heavy line (focus shows without colour too).
    const row = app.lines().find((l) => l.includes(server.users.get('u0001')!.userName) && l.includes('┃'));
    assert.ok(row, 'list and detail share the screen');
    await app.key('\t', (f) => !f.includes('┃') && f.includes('│'));
  });

  test('a group opens with its members', async () => {
    const server = fakeScim(300);
    const app = start(depsFor(server));
    await app.until(/\[1 users 300\]/);
    await app.key('2', /\[2 groups 5\]/);
    await app.key(ENTER, /members\s+\d+/);
    const group = [...server.groups.values()][0]!;
    assert.match(app.frame(), new RegExp(`displayName\\s+${group.displayName}`));
    const members = (group.members ?? []) as Array<{ value: string; display?: string }>;
    assert.ok(members.length > 0);
    assert.match(app.frame(), new RegExp(`members\\s+${members.length}`));
    assert.ok(app.frame().includes(members[0]!.value.slice(0, 6)), 'the first member is listed');
  });

  test('2 shows the groups; 3 the runs', async () => {
    const server = fakeScim(300);
    const app = start(depsFor(server, { history: undefined }));
    await app.until(/\[1 users 300\]/);
    // The header counts the groups before they are listed.
    await app.until((f) => / 2 groups 5 /.test(f.split('\n')[0]!));
    await app.key('2', /\[2 groups 5\]/);
    assert.match(app.frame(), /DISPLAYNAME/);
    for (const name of ['Engineering', 'Sales', 'Support', 'Finance', 'Leads'])
      assert.match(app.frame(), new RegExp(name));
    assert.match(app.lines()[0]!, / 1 users 300 /);
    await app.key('3', /\[3 runs 0\]/);
    assert.match(app.frame(), /no runs/);
    const listings = server.f.calls.filter(
      (c) =>
        c.url.pathname.endsWith('/Groups') &&
        c.url.searchParams.get('startIndex') === '1' &&
        c.url.searchParams.get('count') !== '1',
    );
    assert.equal(listings.length, 1, 'groups are listed once (besides the one-item count)');
  });

  test('? shows every key of the view, from the key table; ? closes it', async () => {
    const server = fakeScim(300);
    const app = start(depsFor(server));
    await app.until(/\[1 users 300\]/);
    await app.key('?', /^Keys \(users\)$/m);
    const frame = app.frame();
    for (const b of BINDINGS.filter((x) => !x.views || x.views.includes('users'))) {
      const keys = b.keys.map((k) => (k === ' ' ? 'space' : k)).join(', ');
      assert.match(frame, new RegExp(`^${esc(keys)} +${esc(b.label)}$`, 'm'), `${keys} ${b.label}`);
    }
    assert.doesNotMatch(frame, /include \/ exclude|deactivate/, 'keys of other views are left out');
    await app.key('?', /USERNAME/);
    assert.doesNotMatch(app.frame(), /^Keys/m);
    // In the detail it lists the detail's keys.
    await app.key(ENTER, /groups \(\d+\):/);
    await app.key('?', /^Keys \(user\)$/m);
    assert.match(app.frame(), /^D +delete…$/m);
    assert.match(app.frame(), /^\+ +add to group$/m);
    assert.doesNotMatch(app.frame(), /new user/);
  });

  test('at 80 columns the header shortens the URL, never the pane counts', async () => {
    const server = fakeScim(300);
    const r = render(<App deps={depsFor(server)} profile="acme-test" url={BASE} columns={80} rows={24} />);
    unmounts.push(r.unmount);
    const frame = () => r.lastFrame() ?? '';
    await waitFor(() => /users 300\]/.test(frame()), 5000, frame);
    const header = frame().split('\n')[0]!;
    assert.match(
      header,
      /^scimctl {2}acme-test {2}https:\/\/scim\.example.*… \[1 users 300\] 2 groups \d+ {2}3 runs 0$/,
    );
    assert.ok(header.length <= 80);
  });

  test('at 80×24 the help still shows every key of the view', async () => {
    const server = fakeScim(300);
    const r = render(<App deps={depsFor(server)} profile="acme-test" url={BASE} columns={80} rows={24} />);
    unmounts.push(r.unmount);
    const frame = () => r.lastFrame() ?? '';
    await waitFor(() => /users 300\]/.test(frame()), 5000, frame);
    r.stdin.write('?');
    await waitFor(() => /^Keys \(users\)$/m.test(frame()), 5000, frame);
    const bindings = BINDINGS.filter((x) => !x.views || x.views.includes('users'));
    for (const b of bindings) assert.match(frame(), new RegExp(`${esc(b.label)}`), b.label);
    assert.ok(frame().split('\n').length <= 23);
  });
});

describe('search while users are still loading', () => {
  test('asks the server for 2+ characters and lists its matches; the later pages add no duplicates', async () => {
    const hold = gate();
    // 700 users: the first 500 arrive, the rest wait.
    const server = fakeScim(700, { holdListingFrom: { startIndex: 501, gate: hold } });
    const app = start(depsFor(server));
    await app.until(/\[1 users \d+\/700…\]/);
    await app.key('/', /still loading: the server is asked too/);
    // Lena Novak is users 107, 215, 323, 431, 539 and 647: the last two are not loaded yet.
    await app.type('lena.nov', (t) => new RegExp(`/${esc(t)}▏`));
    await app.until(/lena\.novak647@example\.com/);
    assert.match(app.frame(), /lena\.novak539@example\.com/);
    const searches = () =>
      server.f.calls
        .map((c) => c.url.searchParams.get('filter'))
        .filter((f): f is string => f?.includes(' co ') === true);
    // The last query reaches the server (that the ones before it do not: "the search debounce" below).
    await waitFor(
      () => searches().includes('userName co "lena.nov"'),
      5000,
      () => searches().join(', '),
    );
    assert.ok(!searches().some((f) => f.endsWith(' co "l"')), 'one character is not sent');
    await app.key(ENTER, /filter: lena\.nov/);
    hold.open();
    await app.until(/\[1 users 700\]/);
    // Every Lena Novak once.
    const shown = app.lines().filter((l) => /lena\.novak\d+@/.test(l));
    const expected = seedUsers(700)
      .filter((u) => u.userName.includes('lena.nov'))
      .map((u) => u.userName);
    assert.deepEqual(shown.map((l) => /(lena\.novak\d+@example\.com)/.exec(l)![1]).sort(), expected.sort());
  });
});

describe('the search debounce', () => {
  test('typing quickly asks the server once, for the last query, once typing has paused', async () => {
    const hold = gate();
    // 700 users: the first 500 arrive, the rest wait (while the list loads, the server is asked too).
    const server = fakeScim(700, { holdListingFrom: { startIndex: 501, gate: hold } });
    const clock = manualClock();
    try {
      const app = start(depsFor(server), undefined, 100, { schedule: clock.schedule });
      await app.until(/\[1 users \d+\/700…\]/);
      await app.key('/', /still loading: the server is asked too/);
      // Lena Novak 647 is not loaded yet: only the server's answer brings her. "k6", "k64" and
      // "k647" are each long enough to be sent; typed quickly, only the last may be.
      await app.type('k647', (t) => new RegExp(`/${esc(t)}▏`));
      const needles = () =>
        server.f.calls
          .map((c) => c.url.searchParams.get('filter'))
          .flatMap((f) => (f?.includes(' co ') ? [/ co "(.*)"$/.exec(f)![1]!] : []));
      // The frame shows a key before the app has handed its search on: wait until all three are.
      await waitFor(
        () => clock.scheduled() === 3,
        5000,
        () => `scheduled ${clock.scheduled()}; sent ${needles().join(', ')}`,
      );
      assert.equal(clock.pending(), 1, 'one search waits for the pause: the last');
      assert.deepEqual(needles(), [], 'nothing is sent while typing');
      clock.advance(SEARCH_DEBOUNCE_MS - 1);
      assert.equal(clock.pending(), 1);
      assert.deepEqual(needles(), [], 'nor before the pause is long enough');
      clock.advance(1);
      assert.equal(clock.pending(), 0);
      await app.until(/lena\.novak647@example\.com/);
      assert.deepEqual([...new Set(needles())], ['k647'], 'exactly one query reached the server');
    } finally {
      hold.open();
    }
  });
});

describe('plan review', () => {
  const origin = { file: 'users.json', line: 1 };
  const CHANGES: Change[] = [
    {
      id: 'upd-ann',
      kind: 'update-user',
      target: 't1',
      userName: 'ann@example.com',
      diffs: [{ path: 'title', before: 'Engineer', after: 'Lead' }],
      reactivate: false,
      origin,
    },
    {
      id: 'new-zoe',
      kind: 'create-user',
      userName: 'zoe@example.com',
      resource: { userName: 'zoe@example.com' },
      origin,
    },
    {
      id: 'upd-bob',
      kind: 'update-user',
      target: 't2',
      userName: 'bob@example.com',
      diffs: [{ path: 'title', before: 'Engineer', after: 'CTO' }],
      reactivate: false,
      origin,
    },
    { id: 'off-cat', kind: 'deactivate-user', target: 't3', userName: 'cat@example.com' },
  ];

  function reviewDeps(fail: string[] = []) {
    const calls: Array<ReadonlySet<string>> = [];
    const steps: Gate[] = [];
    const deps = depsFor(fakeScim(0), {
      applyPlan: async (excluded, onResult) => {
        calls.push(excluded);
        for (const c of CHANGES) {
          const g = gate();
          steps.push(g);
          await g.promise;
          const result: ChangeResult = excluded.has(c.id)
            ? { id: c.id, kind: c.kind, status: 'excluded' }
            : fail.includes(c.id)
              ? { id: c.id, kind: c.kind, status: 'failed', detail: 'HTTP 409 conflict' }
              : { id: c.id, kind: c.kind, status: 'applied' };
          onResult(result);
        }
        return 'applied it all (run 1)';
      },
    });
    /** Lets the fake applier report its next result. */
    const step = async () => {
      await waitFor(() => steps.length > 0 && steps.some((s) => s !== undefined));
      const next = steps.shift()!;
      next.open();
    };
    return { deps, calls, step, pending: () => steps.length };
  }

  test('shows the changes grouped by kind with counts and the summary', async () => {
    const app = start(reviewDeps().deps, CHANGES);
    await app.until(/plan review/);
    const lines = app.lines();
    assert.match(lines[0]!, /scimctl {2}acme-test .* plan review · ⚠ 1 removal$/);
    assert.deepEqual(
      lines.slice(1, 8).map((l) => l.trimEnd()),
      [
        'Create users (1)',
        '[✔] + create user zoe@example.com  (users.json:1)',
        'Update users (2)',
        '[✔] ~ update user ann@example.com',
        '[✔] ~ update user bob@example.com',
        'Deactivate users (1)  ⚠ removes',
        '[✔] - deactivate user cat@example.com  (t3)',
      ],
    );
    assert.match(
      app.frame(),
      /^1 to create, 2 to update, 1 to deactivate, 0 to delete, 0 membership changes\.\nfilter: all$/m,
    );
    assert.match(app.lines().at(-1)!, /space include \/ exclude {2}enter expand {2}f filter by kind {2}a apply/);
  });

  test('space excludes the selected change and the summary follows; Enter expands; f filters', async () => {
    const app = start(reviewDeps().deps, CHANGES);
    await app.until(/plan review/);
    await app.key('j', () => true);
    await app.key(' ', /\[ \] ~ update user ann@example\.com/);
    assert.match(
      app.frame(),
      new RegExp(
        /^1 to create, 1 to update, 1 to deactivate, 0 to delete, 0 membership /.source +
          /changes\.\nfilter: all {2}· {2}1 excluded$/.source,
        'm',
      ),
    );
    await app.key(ENTER, /~ title: "Engineer" → "Lead"/);
    await app.key('f', /filter: creates/);
    assert.match(app.frame(), /Create users \(1\)/);
    assert.doesNotMatch(app.frame(), /update user|deactivate user/);
    await app.key('f', /filter: updates/);
    assert.doesNotMatch(app.frame(), /create user/);
    await app.key('f', /filter: removals/);
    assert.match(app.frame(), /deactivate user cat/);
    await app.key('f', /filter: groups/);
    assert.match(app.frame(), /No changes of this kind/);
    await app.key('f', /filter: all/);
    await app.key(' ', /\[ \] \+ create user zoe/);
    await app.key(' ', /\[✔\] \+ create user zoe/);
  });

  test('a, "yes", Enter applies with the excluded ids and shows live results and the Done line', async () => {
    const r = reviewDeps(['off-cat']);
    const app = start(r.deps, CHANGES);
    await app.until(/plan review/);
    await app.key('j', () => true);
    await app.key('j', () => true);
    await app.key(' ', /\[ \] ~ update user bob@example\.com/);
    await app.key('a', /Apply 3 change\(s\)\? Type "yes" and Enter: ?$/m);
    await app.type('yes', (t) => new RegExp(`and Enter: ${t}$`, 'm'));
    assert.equal(r.calls.length, 0, 'not before Enter');
    await app.key(ENTER, /Applying… 0\/4/);
    // The frame may show "Applying" before the effect runner has called the applier.
    await waitFor(() => r.calls.length > 0);
    assert.equal(r.calls.length, 1);
    assert.deepEqual([...r.calls[0]!], ['upd-bob']);
    // Results arrive one by one (in the applier's order: ann, zoe, bob, cat).
    await r.step();
    await app.until(/\[✓\] ~ update user ann@example\.com/);
    assert.match(app.frame(), /Applying… 1\/4/);
    assert.match(app.frame(), /\[✔\] \+ create user zoe/, 'not yet applied');
    await r.step();
    await app.until(/\[✓\] \+ create user zoe/);
    await r.step();
    await app.until(/\[-\] ~ update user bob@example\.com/);
    await r.step();
    await app.until(/\[✗\] - deactivate user cat@example\.com .*— HTTP 409 conflict/);
    await app.until(/Done: 2 applied, 1 failed, 1 excluded\. q to quit\./);
    assert.match(app.frame(), /applied it all \(run 1\)/);
  });

  test(
    'after apply the review is read by moving: j/G move, f the failures, Enter the ' + 'detail, the footer says so',
    async () => {
      const r = reviewDeps(['new-zoe', 'off-cat']);
      const app = start(r.deps, CHANGES);
      await app.until(/plan review/);
      await app.key('a', /Type "yes" and Enter: ?$/m);
      await app.type('yes', (t) => new RegExp(`and Enter: ${t}$`, 'm'));
      await app.key(ENTER, /Applying… 0\/4/);
      for (let i = 0; i < CHANGES.length; i++) await r.step();
      await app.until(/Done: 2 applied, 2 failed, 0 excluded\./);
      const footer = app.lines().at(-1)!;
      assert.match(footer, /enter the server's detail {2}f failures \/ all/);
      assert.doesNotMatch(footer, /include \/ exclude|a apply/);
      await app.key('G', () => true);
      await app.key('f', /filter: failures/);
      assert.doesNotMatch(app.frame(), /update user ann/);
      assert.match(app.frame(), /\[✗\] \+ create user zoe/);
      // j moves to the second failure (a deactivation: no attribute lines), Enter shows the server's word under it.
      await app.key('j', () => true);
      await app.key(ENTER, /deactivate user cat@example\.com .*\n {6}HTTP 409 conflict *$/m);
      await app.key('f', /filter: all/);
      assert.match(app.frame(), /update user ann/);
    },
  );

  test('a wide terminal shows the selected change whole beside the list, moving shows the next', async () => {
    const app = start(reviewDeps().deps, CHANGES, 130);
    await app.until(/plan review/);
    // zoe's create first: its source location, dimmed, in the list; in the pane what it creates.
    await app.until(/│ \+ create user zoe@example\.com/);
    assert.match(app.frame(), /\[✔\] \+ create user zoe@example\.com {2}\(users\.json:1\)/);
    assert.match(app.frame(), /│ from users\.json:1/);
    assert.match(app.frame(), /│ \+ userName: "zoe@example\.com"/);
    assert.doesNotMatch(app.frame(), /title: "Engineer"/, "ann's diff is not shown before she is selected");
    await app.key('j', /│ ~ title: "Engineer" → "Lead"/);
    await app.key('G', /│ - deactivate user cat@example\.com .*\n.*│ removes: cannot be undone by another sync/);
  });

  test('e expands every change and collapses them again', async () => {
    const app = start(reviewDeps().deps, CHANGES);
    await app.until(/plan review/);
    assert.doesNotMatch(app.frame(), /title: "Engineer" → "Lead"|title: "Engineer" → "CTO"/);
    await app.key('e', (f) => /title: "Engineer" → "Lead"/.test(f) && /title: "Engineer" → "CTO"/.test(f));
    await app.key('e', (f) => !/title: "Engineer"/.test(f));
  });

  test(
    'excluding "create user" excludes the membership that needs it, marked with ' + 'why; Space on it brings both back',
    async () => {
      const changes: Change[] = [
        {
          id: 'new-zoe',
          kind: 'create-user',
          userName: 'zoe@example.com',
          resource: { userName: 'zoe@example.com' },
          origin,
        },
        {
          id: 'zoe-sales',
          kind: 'add-member',
          group: { id: 'g1' },
          groupName: 'Sales',
          user: { change: 'new-zoe' },
          userName: 'zoe@example.com',
        },
      ];
      const app = start(reviewDeps().deps, changes);
      await app.until(/plan review/);
      await app.key(
        ' ',
        /\[ \] \+ add zoe@example\.com to group Sales {2}\(excluded: needs create user zoe@example\.com\)/,
      );
      assert.match(app.frame(), /\[ \] \+ create user zoe/);
      assert.match(app.frame(), /filter: all {2}· {2}2 excluded/);
      await app.key('j', () => true);
      await app.key(
        ' ',
        (f) => /\[✔\] \+ add zoe@example\.com to group Sales$/m.test(f) && /\[✔\] \+ create user zoe/.test(f),
      );
    },
  );

  test('a, then anything but "yes", applies nothing; Escape too', async () => {
    const r = reviewDeps();
    const app = start(r.deps, CHANGES);
    await app.until(/plan review/);
    await app.key('a', /Type "yes" and Enter: ?$/m);
    await app.type('ye', (t) => new RegExp(`and Enter: ${t}$`, 'm'));
    await app.key(ENTER, /filter: all/);
    await app.key('a', /Type "yes" and Enter: ?$/m);
    await app.type('yes', (t) => new RegExp(`and Enter: ${t}$`, 'm'));
    await app.key('\u001b', /filter: all/);
    await app.key(ENTER, /title: "Engineer"|userName: "zoe@example\.com"/);
    assert.equal(r.calls.length, 0);
    assert.doesNotMatch(app.frame(), /Applying/);
  });
});

describe("the plan's problems and notes in the review", () => {
  const origin = { file: 'users.csv', line: 2 };
  const CHANGES: Change[] = [
    {
      id: 'new-zoe',
      kind: 'create-user',
      userName: 'zoe@example.com',
      resource: { userName: 'zoe@example.com' },
      origin,
    },
    { id: 'off-cat', kind: 'deactivate-user', target: 't3', userName: 'cat@example.com' },
  ];
  const PROBLEMS: RecordProblem[] = [{ origin: { file: 'users.csv', line: 7 }, message: 'userName is missing' }];
  const NOTES = ['the target does not keep "title": it is left out of the comparison'];

  test('show above the changes, counted in the header', async () => {
    const app = start(depsFor(fakeScim(0)), CHANGES, 100, { problems: PROBLEMS, notes: NOTES });
    await app.until(/plan review/);
    const lines = app.lines().map((l) => l.trimEnd());
    assert.match(lines[0]!, /plan review · 1 problem · 1 note · ⚠ 1 removal$/);
    assert.deepEqual(lines.slice(1, 4), [
      '1 source record(s) could not be planned (their users are left alone):',
      '! users.csv:7: userName is missing',
      'Note: the target does not keep "title": it is left out of the comparison',
    ]);
    // The changes follow, and the keys still act on them.
    assert.deepEqual(lines.slice(4, 8), [
      'Create users (1)',
      '[✔] + create user zoe@example.com  (users.csv:2)',
      'Deactivate users (1)  ⚠ removes',
      '[✔] - deactivate user cat@example.com  (t3)',
    ]);
    await app.key(' ', /\[ \] \+ create user zoe/);
    assert.match(app.frame(), /! users\.csv:7: userName is missing/);
  });

  test('many findings take at most a third of the pane, and say how many more there are', async () => {
    const notes = Array.from({ length: 20 }, (_, i) => `note ${i + 1}`);
    assert.deepEqual(findingLines({ problems: [], notes }, 3), [
      'Note: note 1',
      'Note: note 2',
      '… 18 more line(s): scimctl sync plan shows them all',
    ]);
    const app = start(depsFor(fakeScim(0)), CHANGES, 100, { notes });
    await app.until(/plan review · 20 notes · ⚠ 1 removal$/m);
    // 30 rows: 24 for the findings and changes, a third of them findings.
    assert.deepEqual(
      app
        .lines()
        .slice(1, 10)
        .map((l) => l.trimEnd()),
      [
        ...notes.slice(0, 7).map((n) => `Note: ${n}`),
        '… 13 more line(s): scimctl sync plan shows them all',
        'Create users (1)',
      ],
    );
  });

  test('a plan without problems or notes shows neither block nor count', async () => {
    const app = start(depsFor(fakeScim(0)), CHANGES);
    await app.until(/plan review/);
    assert.match(app.lines()[0]!, /plan review · ⚠ 1 removal$/);
    assert.doesNotMatch(app.frame(), /could not be planned|Note:/);
  });

  test('sync now (runs view, p) reviews the whole plan its source gave', async () => {
    const deps = depsFor(fakeScim(3), {
      startSync: async () => ({
        run: {
          id: 'r1',
          command: 'tui sync',
          profile: 'acme-test',
          url: BASE,
          startedAt: new Date(0).toISOString(),
          status: 'planned',
        },
        plan: { changes: CHANGES, problems: PROBLEMS },
        changes: CHANGES,
        apply: async () => 'applied',
        close: () => undefined,
        finished: false,
      }),
    });
    const app = start(deps);
    await app.until(/\[1 users 3\]/);
    await app.key('3', /\[3 runs 0\]/);
    await app.key('p', /plan review · 1 problem · ⚠ 1 removal$/m);
    assert.match(app.frame(), /^! users\.csv:7: userName is missing/m);
    assert.match(app.frame(), /\+ create user zoe@example\.com/);
  });
});

describe('NO_COLOR', () => {
  test('without colours an error in the status line is marked in words', async () => {
    const server = fakeScim(5);
    const deps = depsFor(server);
    deps.client.users.get = async () => {
      throw new Error('the server is having a bad day');
    };
    const r = render(<App deps={deps} profile="acme-test" url={BASE} columns={100} rows={30} color={false} />);
    unmounts.push(r.unmount);
    await waitFor(() => /\[1 users 5\]/.test(r.lastFrame() ?? ''), 5000);
    r.stdin.write('\r');
    await waitFor(
      () => (r.lastFrame() ?? '').includes('error: the server is having a bad day'),
      5000,
      () => r.lastFrame() ?? '',
    );
  });
});

describe('runs view: a run opened', () => {
  test('Enter opens the run: summary, changes with ✓/✗/-, failures with detail, the log; Esc goes back', async () => {
    const history = new RunHistory(mkdtempSync(join(tmpdir(), 'scimctl-runs-')));
    const run = history.start({
      command: 'sync apply',
      profile: 'acme-test',
      url: BASE,
      startedAt: new Date(0).toISOString(),
    });
    const origin = { file: 'users.csv', line: 2 };
    const changes: Change[] = [
      { id: 'create-user:zoe', kind: 'create-user', userName: 'zoe', resource: { userName: 'zoe' }, origin },
      { id: 'create-user:yan', kind: 'create-user', userName: 'yan', resource: { userName: 'yan' }, origin },
      { id: 'deactivate-user:t3', kind: 'deactivate-user', target: 't3', userName: 'cat' },
    ];
    history.writeJson(run.id, 'plan.json', { changes });
    history.writeJson(run.id, 'results.json', [
      { id: 'create-user:zoe', kind: 'create-user', status: 'applied', createdId: 'n1' },
      { id: 'create-user:yan', kind: 'create-user', status: 'failed', detail: 'HTTP 409: userName taken' },
      { id: 'deactivate-user:t3', kind: 'deactivate-user', status: 'excluded' },
    ]);
    history.log(run.id, { time: '2026-01-01T00:00:00Z', level: 'info', message: 'source: 2 users' });
    history.save({ ...run, status: 'partial', results: { applied: 1, failed: 1, excluded: 1 } });
    // A run of another profile is not this explorer's.
    const other = history.start({
      command: 'sync plan',
      profile: 'other',
      url: BASE,
      startedAt: new Date(1).toISOString(),
    });
    history.save({ ...other, status: 'planned' });
    const app = start(depsFor(fakeScim(0), { history, profile: 'acme-test' }));
    await app.key('3', /\[3 runs 1\]/);
    await app.key(ENTER, /Failures \(1\)/);
    const frame = app.frame();
    assert.match(frame, /results: 1 applied, 1 failed, 1 excluded/);
    assert.match(frame, /^\[✓\] \+ create user zoe/m);
    assert.match(frame, /^\[✗\] \+ create user yan/m);
    assert.match(frame, /^\[-\] - deactivate user cat/m);
    assert.match(frame, /^✗ \+ create user yan.*\n {4}HTTP 409: userName taken/m);
    assert.match(frame, /INFO {2}source: 2 users/);
    await app.key('\u001b', (f) => !/Failures \(1\)/.test(f));
    assert.match(app.frame(), /\[3 runs 1\]/, 'still in the runs view');
  });

  test(
    "h on an opened run's marked change opens that user's history across runs; Esc " + 'goes back to the run',
    async () => {
      const history = new RunHistory(mkdtempSync(join(tmpdir(), 'scimctl-runs-')));
      const origin = { file: 'users.csv', line: 2 };
      const first = history.start(
        { command: 'sync run', profile: 'acme-test', url: BASE, startedAt: new Date(0).toISOString() },
        new Date(Date.UTC(2026, 0, 1, 10, 0)),
      );
      const create: Change = {
        id: 'create-user:zoe',
        kind: 'create-user',
        userName: 'zoe',
        resource: { userName: 'zoe', displayName: 'Zoe Early' },
        origin,
      };
      history.writeJson(first.id, 'plan.json', { changes: [create] });
      history.writeJson(first.id, 'results.json', [
        { id: 'create-user:zoe', kind: 'create-user', status: 'applied', createdId: 'n1' },
      ]);
      history.writeReceived(first.id, [{ origin, attributes: { userName: 'zoe', displayName: 'Zoe Early' } }]);
      history.save({ ...first, status: 'applied' });
      const second = history.start(
        { command: 'sync run', profile: 'acme-test', url: BASE, startedAt: new Date(1).toISOString() },
        new Date(Date.UTC(2026, 0, 1, 11, 0)),
      );
      const update: Change = {
        id: 'update-user:zoe',
        kind: 'update-user',
        target: 'n1',
        userName: 'zoe',
        diffs: [{ path: 'displayName', before: 'Zoe Early', after: 'Zoe Later' }],
        reactivate: false,
        origin,
      };
      history.writeJson(second.id, 'plan.json', { changes: [update] });
      history.writeJson(second.id, 'results.json', [
        { id: 'update-user:zoe', kind: 'update-user', status: 'failed', detail: 'HTTP 400: displayName refused' },
      ]);
      history.save({ ...second, status: 'partial' });
      const app = start(depsFor(fakeScim(0), { history, profile: 'acme-test' }));
      await app.key('3', /\[3 runs 2\]/);
      await app.key(ENTER, /Changes \(1\)/);
      assert.match(app.frame(), /h marked change's user: history/, 'the key is in the footer');
      await app.key('h', /history of n1: 2 run\(s\)/);
      const frame = app.frame();
      assert.match(frame, new RegExp(`run ${second.id}.*partial`));
      assert.match(frame, /plan: {3}~ update user zoe\n.*displayName: "Zoe Early" → "Zoe Later"/);
      assert.match(frame, /result: ✗ failed: HTTP 400: displayName refused/);
      assert.match(frame, new RegExp(`run ${first.id}.*applied`));
      assert.match(frame, /source: users\.csv:2 {2}\{"userName":"zoe","displayName":"Zoe Early"\}/);
      assert.match(frame, /plan: {3}\+ create user zoe/);
      await app.key('\u001b', (f) => /Changes \(1\)/.test(f) && !/history of n1/.test(f));
      await app.key('\u001b', (f) => !/Changes \(1\)/.test(f));
      assert.match(app.frame(), /\[3 runs 2\]/, 'back in the runs list');
    },
  );
});

/** The journal of an apply, folded into the state after a killed run; runs whose process is gone marked interrupted. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import type { ChangeResult } from '../../src/sync/apply.ts';
import { RunHistory, type RunRecord } from '../../src/sync/history.ts';
import { foldJournal, JournalWriter, readJournal, type JournalHeader } from '../../src/sync/journal.ts';
import type { Change } from '../../src/sync/model.ts';
import { foldInterruptedRuns } from '../../src/sync/recover.ts';
import { loadState, saveState } from '../../src/sync/state.ts';
import { processStart } from '../../src/util/process-identity.ts';

const PROFILE = 'hr';
const URL_ = 'https://scim.example.com/v2';

const changes: Change[] = [
  {
    id: 'create-user:a',
    kind: 'create-user',
    userName: 'a',
    resource: { userName: 'a' },
    origin: { file: 'u.csv', line: 2 },
  },
  {
    id: 'create-user:b',
    kind: 'create-user',
    userName: 'b',
    resource: { userName: 'b' },
    origin: { file: 'u.csv', line: 3 },
  },
  {
    id: 'create-user:c',
    kind: 'create-user',
    userName: 'c',
    resource: { userName: 'c' },
    origin: { file: 'u.csv', line: 4 },
  },
  {
    id: 'create-group:Sales',
    kind: 'create-group',
    displayName: 'Sales',
    resource: { displayName: 'Sales' },
    origin: { file: 'u.csv', line: 2 },
  },
  {
    id: 'add:a',
    kind: 'add-member',
    group: { change: 'create-group:Sales' },
    groupName: 'Sales',
    user: { change: 'create-user:a' },
    userName: 'a',
  },
  {
    id: 'add:old',
    kind: 'add-member',
    group: { id: 'g-old' },
    groupName: 'Old',
    user: { change: 'create-user:a' },
    userName: 'a',
  },
  {
    id: 'remove:t1',
    kind: 'remove-member',
    group: { id: 'g-old' },
    groupName: 'Old',
    user: { id: 't1' },
    userName: 't1',
  },
  { id: 'delete-user:t9', kind: 'delete-user', target: 't9', userName: 't9' },
];
const ok = (id: string, createdId?: string): ChangeResult => ({
  id,
  kind: changes.find((c) => c.id === id)!.kind,
  status: 'applied',
  ...(createdId ? { createdId } : {}),
});

const header = (over: Partial<JournalHeader> = {}): JournalHeader => ({
  journal: 1,
  profile: PROFILE,
  url: URL_,
  changes: changes.length,
  recordCount: 3,
  matched: ['t5'],
  matchedGroups: [],
  ledger: true,
  ...over,
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scimctl-journal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A pid that was a process a moment ago and is none now. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

const sleepers: ChildProcess[] = [];
after(() => {
  for (const s of sleepers) s.kill('SIGKILL');
});
/** A live process that is not scimctl. */
async function otherProgram(): Promise<number> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  sleepers.push(child);
  await new Promise((resolve) => child.on('spawn', resolve));
  return child.pid!;
}

/** A run that was applying (its journal written up to `applied` results) when its process went. */
function killedRun(
  history: RunHistory,
  results: ChangeResult[],
  pid: number,
  over: Partial<RunRecord> = {},
): RunRecord {
  const run = history.start({ command: 'sync run', profile: PROFILE, url: URL_, startedAt: new Date().toISOString() });
  Object.assign(run, { pid, pidStart: undefined, ...over });
  history.save(run);
  const journal = new JournalWriter(history.journalFile(run.id), header({ profile: run.profile }));
  for (const r of results)
    journal.add(
      changes.find((c) => c.id === r.id)!,
      r,
    );
  journal.close();
  return run;
}

describe('the journal of a killed run, folded into the state', () => {
  test(
    'users and groups it created are owned, those it deleted are not, and the ' + 'ledger has its memberships',
    async () => {
      saveState(dir, {
        profile: PROFILE,
        url: URL_,
        owned: ['t1', 't9'],
        ownedGroups: ['g-old'],
        members: { 'g-old': ['t1', 't2'] },
      });
      const history = new RunHistory(dir);
      // Killed after these: c was never created, nor b's membership.
      const results = [
        ok('create-user:a', 'u-a'),
        ok('create-user:b', 'u-b'),
        ok('create-group:Sales', 'g-sales'),
        ok('add:a'),
        ok('add:old'),
        ok('remove:t1'),
        ok('delete-user:t9'),
      ];
      const run = killedRun(history, results, await deadPid());
      // A crash mid-line leaves half a line: ignored.
      appendFileSync(history.journalFile(run.id), '{"change":"create-user:c","kind":"crea');

      const folded = foldInterruptedRuns(dir, PROFILE, URL_);
      assert.deepEqual(
        folded.map((r) => r.id),
        [run.id],
      );
      const state = loadState(dir, PROFILE, URL_);
      assert.deepEqual(new Set(state.owned), new Set(['t1', 't5', 'u-a', 'u-b']));
      assert.deepEqual(new Set(state.ownedGroups), new Set(['g-old', 'g-sales']));
      assert.deepEqual(state.members, { 'g-old': ['t2', 'u-a'], 'g-sales': ['u-a'] });
      assert.equal(state.lastRecordCount, 3);
      const after = history.get(run.id)!;
      assert.equal(after.status, 'interrupted');
      assert.equal(after.journalFolded, true);

      // Folded once: a later run finds nothing to fold, and the state stays.
      saveState(dir, { ...state, owned: [...state.owned, 'later'] });
      assert.deepEqual(foldInterruptedRuns(dir, PROFILE, URL_), []);
      assert.ok(loadState(dir, PROFILE, URL_).owned.includes('later'));
    },
  );

  test("another profile's run is left for that profile; a run that applied nothing adopts nothing", async () => {
    const history = new RunHistory(dir);
    const other = killedRun(history, [ok('create-user:a', 'u-a')], await deadPid(), { profile: 'other' });
    const failedOnly = killedRun(
      history,
      [{ id: 'create-user:b', kind: 'create-user', status: 'failed', detail: 'HTTP 500' }],
      await deadPid(),
    );
    foldInterruptedRuns(dir, PROFILE, URL_);
    assert.deepEqual(loadState(dir, PROFILE, URL_).owned, []);
    assert.equal(history.get(other.id)!.journalFolded, false);
    assert.equal(history.get(failedOnly.id)!.journalFolded, true);
    foldInterruptedRuns(dir, 'other', URL_);
    assert.deepEqual(loadState(dir, 'other', URL_).owned, ['t5', 'u-a']);
  });

  test('folding the same facts twice gives the same state', () => {
    const facts = readJournalOf([ok('create-user:a', 'u-a'), ok('delete-user:t9')]);
    const once = foldJournal({ profile: PROFILE, url: URL_, owned: ['t9'], ownedGroups: [] }, header(), facts);
    const twice = foldJournal(once, header(), facts);
    assert.deepEqual({ ...twice, lastRunAt: '' }, { ...once, lastRunAt: '' });
    assert.deepEqual(new Set(once.owned), new Set(['t5', 'u-a']));
  });

  function readJournalOf(results: ChangeResult[]) {
    const file = join(dir, 'j.ndjson');
    const w = new JournalWriter(file, header());
    for (const r of results)
      w.add(
        changes.find((c) => c.id === r.id)!,
        r,
      );
    w.close();
    return readJournal(file)!.facts;
  }
});

describe('runs whose process is gone are marked interrupted', () => {
  test('a dead pid: interrupted, with what its journal says it applied, the pid and host kept', async () => {
    const history = new RunHistory(dir);
    const pid = await deadPid();
    const run = killedRun(
      history,
      [
        ok('create-user:a', 'u-a'),
        ok('create-user:b', 'u-b'),
        { id: 'create-user:c', kind: 'create-user', status: 'failed' },
      ],
      pid,
    );
    const marked = history.markInterrupted();
    assert.deepEqual(
      marked.map((r) => r.id),
      [run.id],
    );
    const got = history.get(run.id)!;
    assert.equal(got.status, 'interrupted');
    assert.deepEqual(got.results, { applied: 2, failed: 1, excluded: 0, unfinished: changes.length - 3 });
    assert.equal(got.pid, pid);
    assert.equal(got.host, hostname());
    assert.match(got.message!, new RegExp(`pid ${pid} on .*2 of ${changes.length} change\\(s\\) applied`));
    assert.equal(got.journalFolded, false);
  });

  test('a live pid of another program counts as gone: by its start time, or by its command line', async () => {
    const history = new RunHistory(dir);
    const pid = await otherProgram();
    const byStart = killedRun(history, [], pid, { pidStart: '1' });
    const byCmdline = killedRun(history, [], pid);
    history.markInterrupted();
    assert.equal(history.get(byStart.id)!.status, 'interrupted');
    assert.equal(history.get(byCmdline.id)!.status, 'interrupted');
  });

  test(
    'a run whose process is alive stays running; so does a run of another host; a ' + 'finished run is left',
    async () => {
      const history = new RunHistory(dir);
      const mine = history.start({
        command: 'sync run',
        profile: PROFILE,
        url: URL_,
        startedAt: new Date().toISOString(),
      });
      assert.equal(mine.pid, process.pid);
      assert.equal(mine.pidStart, processStart(process.pid));
      const elsewhere = killedRun(history, [], await deadPid(), { host: `not-${hostname()}` });
      const done = killedRun(history, [], await deadPid(), { status: 'applied' });
      assert.deepEqual(history.markInterrupted(), []);
      assert.equal(history.get(mine.id)!.status, 'running');
      assert.equal(history.get(elsewhere.id)!.status, 'running');
      assert.equal(history.get(done.id)!.status, 'applied');
    },
  );
});

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { flagsOf, parseSyncConfig, SyncConfigError } from '../../src/sync/config-file.ts';
import { RunHistory, type RunRecord } from '../../src/sync/history.ts';
import { parseSize } from '../../src/util/size.ts';
import type { DesiredUser } from '../../src/sync/model.ts';
import { receivedRecord, userHistory } from '../../src/sync/user-history.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function history(): RunHistory {
  const dir = mkdtempSync(join(tmpdir(), 'scimctl-user-history-'));
  dirs.push(dir);
  return new RunHistory(dir);
}

/** A finished run of `profile`, started `minute` minutes into the hour. */
function run(h: RunHistory, profile: string, minute: number, status: RunRecord['status'] = 'applied'): RunRecord {
  const r = h.start(
    { command: 'sync run', profile, url: 'http://127.0.0.1/scim', startedAt: '' },
    new Date(Date.UTC(2026, 0, 1, 10, minute)),
  );
  r.status = status;
  h.save(r);
  return r;
}

describe('RunHistory.prune', () => {
  test(
    'keeps the newest N of the profile; never a running run, an unfolded one, the ' + 'current one, another profile',
    () => {
      const h = history();
      const oldRunning = run(h, 'a', 1, 'running');
      const unfolded = run(h, 'a', 1, 'interrupted');
      h.save({ ...unfolded, journalFolded: false });
      const old = run(h, 'a', 2);
      const other = run(h, 'b', 3);
      const mid = run(h, 'a', 4);
      const current = run(h, 'a', 5);
      const newest = run(h, 'a', 6);
      // The current run is not among the newest 1, and is kept all the same.
      assert.deepEqual(h.prune('a', 1, current.id).sort(), [mid.id, old.id].sort());
      assert.deepEqual(
        h.list().map((r) => r.id),
        [newest.id, current.id, other.id, unfolded.id, oldRunning.id].sort().reverse(),
      );
      assert.ok(!existsSync(join(h.dir, 'runs', old.id)));
    },
  );
});

describe('userHistory', () => {
  const user = (attributes: Record<string, unknown>, line = 2): DesiredUser => ({
    attributes,
    onlyOnCreate: { password: 'initial-Secret-1' },
    origin: { file: 'users.csv', line },
  });

  test('keeps no secret and shortens inline photos', () => {
    const r = receivedRecord(
      user({
        userName: 'a@x.test',
        password: 'also-Secret-2',
        photos: [{ value: `data:image/png;base64,${'A'.repeat(500)}`, type: 'photo' }],
      }),
    );
    const text = JSON.stringify(r);
    assert.ok(!text.includes('Secret'), text);
    assert.match(text, /data:image\/png;base64,… \(522 characters\)/);
  });

  test('links the names of a renamed user across runs, and nobody else', () => {
    const h = history();
    const first = run(h, 'a', 1);
    h.writeJson(first.id, 'plan.json', {
      changes: [
        { id: 'c1', kind: 'create-user', userName: 'old@x.test', resource: { userName: 'old@x.test' }, origin: {} },
        { id: 'c2', kind: 'create-user', userName: 'else@x.test', resource: { userName: 'else@x.test' }, origin: {} },
      ],
    });
    h.writeJson(first.id, 'results.json', [
      { id: 'c1', kind: 'create-user', status: 'applied', createdId: 'U1' },
      { id: 'c2', kind: 'create-user', status: 'applied', createdId: 'U2' },
    ]);
    h.writeReceived(first.id, [
      receivedRecord(user({ userName: 'old@x.test' })),
      receivedRecord(user({ userName: 'else@x.test' }, 3)),
    ]);
    const second = run(h, 'a', 2);
    h.writeJson(second.id, 'plan.json', {
      changes: [
        {
          id: 'u1',
          kind: 'update-user',
          target: 'U1',
          userName: 'old@x.test',
          diffs: [{ path: 'userName', before: 'old@x.test', after: 'new@x.test' }],
          reactivate: false,
          origin: {},
        },
      ],
    });
    const third = run(h, 'a', 3);
    h.writeReceived(third.id, [receivedRecord(user({ userName: 'NEW@x.test' }))]);
    for (const ref of ['old@x.test', 'new@x.test', 'U1']) {
      const entries = userHistory(h, ref);
      assert.deepEqual(
        entries.map((e) => e.run.id),
        [third.id, second.id, first.id],
        ref,
      );
      assert.equal(entries[2]!.changes.length, 1);
      assert.equal(entries[2]!.received.length, 1);
      assert.equal(entries[0]!.changes.length, 0);
    }
    assert.deepEqual(userHistory(h, 'new@x.test', { profile: 'b' }), []);
    // By externalId: what the source said links it to the userName the change names.
    const fourth = run(h, 'a', 4);
    h.writeReceived(fourth.id, [
      receivedRecord(user({ userName: 'else@x.test' }, 3)),
      receivedRecord(user({ userName: 'ext@x.test', externalId: 'E9' }, 4)),
    ]);
    h.writeJson(fourth.id, 'plan.json', {
      changes: [{ id: 'd', kind: 'deactivate-user', target: 'T9', userName: 'ext@x.test' }],
    });
    const [found] = userHistory(h, 'E9');
    assert.equal(found!.run.id, fourth.id);
    assert.deepEqual(
      found!.received.map((r) => r.origin.line),
      [4],
    );
    assert.deepEqual(
      found!.changes.map((c) => c.change.id),
      ['d'],
    );
    assert.equal(userHistory(h, 'else@x.test').length, 2, 'the first run and the fourth');
  });
});

describe('the config file', () => {
  test('takes keep-runs, avatars and avatar-max as options', () => {
    const config = parseSyncConfig(
      '/etc/scimctl/sync.yaml',
      'source:\n  file: users.csv\n  preset: pleio\noptions:\n  keep-runs: 30\n  avatars: inline\n  avatar-max: 1MB\n',
    );
    const flags = flagsOf(config);
    assert.equal(flags['keep-runs'], 30);
    assert.equal(flags.avatars, 'inline');
    assert.equal(flags['avatar-max'], '1MB');
    assert.throws(
      () => parseSyncConfig('/etc/scimctl/sync.yaml', 'options:\n  avatars: embed\n'),
      (e: unknown) => e instanceof SyncConfigError && /avatars/.test(e.problems.join('\n')),
    );
  });
});

describe('parseSize (--avatar-max)', () => {
  test('bytes, KB and MB (1024-based); anything else is refused', () => {
    assert.equal(parseSize('256KB'), 256 * 1024);
    assert.equal(parseSize('1 MB'), 1024 * 1024);
    assert.equal(parseSize('1.5kib'), 1536);
    assert.equal(parseSize('300'), 300);
    for (const bad of ['', 'KB', '256K', '-1KB', '0', '1e3', '256KB!', '12 GB'])
      assert.throws(() => parseSize(bad), /is not a size/, bad);
  });
});

/**
 * The run history keeps the source the plan was computed from: the bytes as they were read,
 * not whatever the file holds when the run gets to record it. Each test replaces the source
 * file mid-run (once source and target are read, before the plan is recorded), the way an
 * export job rewriting the file would.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { SCHEMA } from '../../src/api/types.ts';
import { createFactory } from '../../src/commands/factory.ts';
import { prepare, recordPlan, RunLog, type PlanFlags } from '../../src/commands/sync/shared.ts';
import type { IOStreams } from '../../src/output/iostreams.ts';
import { RunHistory, type LogLine } from '../../src/sync/history.ts';
import { startScimmyServer, type ScimmyServer } from '../support/scimmy-server.ts';

const TOKEN = 'history-source-token-1234';
let server: ScimmyServer;
let dir: string;

before(async () => {
  server = await startScimmyServer({ token: TOKEN, users: 0, groups: 0 });
  dir = mkdtempSync(join(tmpdir(), 'scimctl-history-source-'));
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function io(): IOStreams {
  return {
    stdin: new PassThrough(),
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    isStdoutTTY: false,
    isStderrTTY: false,
    color: false,
    columns: 80,
    canPrompt: false,
  };
}

/** A history whose log replaces the source file when the run logs that the target was read. */
class SwappingHistory extends RunHistory {
  swapped = false;
  constructor(
    dir: string,
    private readonly swap: () => void,
  ) {
    super(dir);
  }
  override log(id: string, line: LogLine): void {
    super.log(id, line);
    if (!this.swapped && line.message.startsWith('target:')) {
      this.swap();
      this.swapped = true;
    }
  }
}

/**
 * Plans a run of `source` as `sync plan` does, the file replaced by `replacement` mid-run; returns what the history
 * kept.
 */
async function planWithSwap(
  name: string,
  source: string,
  original: string,
  replacement: string,
  extra: Partial<PlanFlags> = {},
) {
  writeFileSync(source, original);
  const data = join(dir, `data-${name}`);
  const env = {
    SCIMCTL_URL: server.url,
    SCIMCTL_TOKEN: TOKEN,
    SCIMCTL_DATA_DIR: data,
    SCIMCTL_CONFIG_DIR: join(dir, 'config'),
    SCIMCTL_CACHE_DIR: join(dir, `cache-${name}`),
  };
  const f = createFactory(io(), env, { allowInsecureHttp: true });
  // Replaced as export jobs do: a new file renamed over the old one.
  const history = new SwappingHistory(data, () => {
    writeFileSync(`${source}.new`, replacement);
    renameSync(`${source}.new`, source);
  });
  const log = new RunLog(f, history, {}, false);
  const run = history.start({
    command: 'sync plan',
    profile: 'environment',
    url: server.url,
    startedAt: new Date().toISOString(),
  });
  log.attach(run);
  const flags: PlanFlags = {
    source,
    mode: 'full',
    missing: 'deactivate',
    deleteGroups: false,
    manageAll: false,
    matchKeys: 'externalId,userName,email',
    ...extra,
  };
  const p = await prepare(flags, f, log, history.sourceKeeper(run.id));
  const planFile = recordPlan(history, run, p);
  p.source.records?.close();
  assert.ok(history.swapped, 'the file was replaced during the run');
  assert.equal(readFileSync(source, 'utf8'), replacement);
  const kept = history.keptSource(run.id);
  return { planFile, kept, copy: (i: number) => readFileSync(join(history.sourceDir(run.id), kept[i]!.copy), 'utf8') };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('the run history keeps the source as it was read', () => {
  test('a CSV replaced while the target is read: the history holds the planned file', async () => {
    const mapping = join(dir, 'map.yaml');
    writeFileSync(
      mapping,
      'attributes:\n  externalId: { column: id }\n  userName: { column: email }\n  title: { column: title }\n',
    );
    const original = 'id,email,title\nE1,ann@example.com,Engineer\nE2,bob@example.com,Sales\n';
    const replacement = 'id,email,title\nE9,zed@example.com,Intern\n';
    const { planFile, kept, copy } = await planWithSwap('csv', join(dir, 'hr.csv'), original, replacement, { mapping });
    assert.deepEqual(
      planFile.changes.filter((c) => c.kind === 'create-user').map((c) => (c as { userName: string }).userName),
      ['ann@example.com', 'bob@example.com'],
    );
    assert.deepEqual(
      kept.map((k) => [k.role, k.copy]),
      [
        ['users', '1-hr.csv'],
        ['mapping', '2-map.yaml'],
      ],
    );
    assert.equal(copy(0), original);
    assert.equal(kept[0]!.sha256, sha256(original));
    assert.equal(kept[0]!.bytes, Buffer.byteLength(original));
  });

  test(
    'a SCIM JSON source read lazily (records read again from the open file) and ' + 'replaced before the copy',
    async () => {
      // The target has both users, so their records are read again while the target is read (the file is open by then).
      for (const [userName, title] of [
        ['ann@example.com', 'Engineer'],
        ['bob@example.com', 'Sales'],
      ]) {
        const r = await fetch(`${server.url}/Users`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' },
          body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, title }),
        });
        assert.equal(r.status, 201);
      }
      const list = (users: Array<[string, string]>) => {
        const Resources = users.map(([userName, title]) => ({ schemas: [SCHEMA.USER], userName, title }));
        return `${JSON.stringify({ Resources }, null, 1)}\n`;
      };
      const original = list([
        ['ann@example.com', 'Director'],
        ['bob@example.com', 'Sales'],
      ]);
      const replacement = list([
        ['ann@example.com', 'Engineer'],
        ['bob@example.com', 'Chief'],
      ]);
      const { planFile, kept, copy } = await planWithSwap('json', join(dir, 'users.json'), original, replacement);
      const updates = planFile.changes.filter((c) => c.kind === 'update-user') as Array<{
        userName: string;
        diffs: Array<{ path: string; after: unknown }>;
      }>;
      assert.deepEqual(
        updates.map((u) => [u.userName, u.diffs.map((d) => `${d.path}=${String(d.after)}`)]),
        [['ann@example.com', ['title=Director']]],
      );
      assert.deepEqual(
        kept.map((k) => k.copy),
        ['1-users.json'],
      );
      assert.equal(copy(0), original);
      assert.equal(kept[0]!.sha256, sha256(original));
      // The plan's fingerprint covers the same bytes the history kept.
      assert.equal(
        planFile.source.fingerprint,
        createHash('sha256')
          .update(`users\n${Buffer.byteLength(original)}\n`)
          .update(original)
          .digest('hex'),
      );
    },
  );
});

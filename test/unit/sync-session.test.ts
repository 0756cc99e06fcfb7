/**
 * The sync session (src/sync/session.ts): one run from start to end against a fake SCIM
 * server (sync-helpers' scimServer behind a fake fetch, listings answered here). Its phases
 * come in their one order, and every way a run can go ends it with a status and a finish
 * time in the run history.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import yargs from 'yargs';
import { ScimClient } from '../../src/api/client.ts';
import type { Capabilities } from '../../src/api/discovery.ts';
import { applyOptions, safetyOptions, sourceOptions } from '../../src/commands/sync/shared.ts';
import type { ChangeResult } from '../../src/sync/apply.ts';
import { RunHistory, type LogLine, type RunRecord } from '../../src/sync/history.ts';
import type { DesiredUser, SourceSnapshot } from '../../src/sync/model.ts';
import type { PlanFile } from '../../src/sync/plan-file.ts';
import { MATCH_KEYS, parseMatchKeys, SYNC_DEFAULTS } from '../../src/sync/defaults.ts';
import { planOptions, type SyncPhase } from '../../src/sync/prepare.ts';
import { reviewHandle, SyncSession, type SessionDeps } from '../../src/sync/session.ts';
import { loadState } from '../../src/sync/state.ts';
import { runRequest, type TuiDeps } from '../../src/ui/effects.ts';
import type { Action } from '../../src/ui/state/app.ts';
import { BASE, caps, listResponse, recordingSleep, scimError, scimJson, type FakeRequest } from './helpers.ts';
import { grp, rec, scimServer, source, target, tuser, type FakeServer } from './sync-helpers.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A SCIM server holding ann (title Dev); `fault` answers a request before the server does. */
function setup(fault: (req: FakeRequest) => Response | undefined = () => undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'scimctl-session-'));
  dirs.push(dir);
  const srv: FakeServer | undefined = scimServer(target([tuser('t1', { userName: 'ann@example.com', title: 'Dev' })]), {
    patch: true,
    etag: false,
    intercept: (req) => {
      const hit = fault(req);
      if (hit) return hit;
      const m = /^\/scim\/v2\/(Users|Groups)$/.exec(req.url.pathname);
      if (req.method !== 'GET' || !m) return undefined;
      const all = [...(m[1] === 'Users' ? srv!.users : srv!.groups).values()];
      const start = Number(req.url.searchParams.get('startIndex') ?? '1');
      const count = Number(req.url.searchParams.get('count') ?? String(all.length));
      const page = all.slice(start - 1, start - 1 + count);
      return scimJson(listResponse(page, { startIndex: start, itemsPerPage: page.length }));
    },
  });
  const capabilities: Capabilities = caps((c) => {
    c.patch = true;
  });
  const client = new ScimClient({
    baseUrl: BASE,
    fetch: srv.f.fetch,
    sleep: recordingSleep().sleep,
    capabilities,
    retries: 0,
  });
  const history = new RunHistory(dir);
  const phases: SyncPhase[] = [];
  const progress: string[] = [];
  const logged: Array<[LogLine['level'], string, boolean]> = [];
  const deps: SessionDeps = {
    client,
    caps: capabilities,
    connection: { name: 'test', url: BASE },
    dataDir: dir,
    history,
    command: 'sync run',
    log: (level, message, _fields, echo) => logged.push([level, message, echo]),
    progress: (phase) => {
      progress.push(`${phase} start`);
      return { update: () => undefined, finish: () => progress.push(`${phase} end`) };
    },
    onPhase: (phase) => phases.push(phase),
  };
  const writes = () => srv!.log().filter((l) => !l.startsWith('GET'));
  return { srv, client, capabilities, dir, history, deps, phases, progress, logged, writes };
}

/** A source reader (the pluggable kind): ann is now a Lead, and new joins. */
const twoChanges = async (): Promise<SourceSnapshot> =>
  source([rec(2, { userName: 'ann@example.com', title: 'Lead' }), rec(3, { userName: 'new@example.com' })]);
const from = (users: DesiredUser[]) => async (): Promise<SourceSnapshot> => source(users);

/** The run as the history has it on disk, which must have ended. */
function ended(history: RunHistory, run: RunRecord): RunRecord {
  const saved = history.get(run.id);
  assert.ok(saved, 'the run is in the history');
  assert.notEqual(saved.status, 'running', 'the run ended');
  assert.ok(
    saved.finishedAt && !Number.isNaN(Date.parse(saved.finishedAt)),
    `the run has a finish time: ${JSON.stringify(saved)}`,
  );
  assert.ok(saved.finishedAt >= saved.startedAt);
  return saved;
}

const safe = { allowEmpty: false, acceptSourceChange: false };

describe('sync session: phases in their one order', () => {
  test(
    'plan then apply: source, target, release, plan, recorded, safety, apply, ' +
      'finish; progress for the target read, then the apply',
    async () => {
      const { deps, phases, progress, history, writes } = setup();
      const session = SyncSession.start(deps);
      assert.equal(history.get(session.run.id)?.status, 'running', 'the run record is there from the start');
      await session.guard(async (s) => {
        const { plan } = await s.plan({ source: twoChanges });
        assert.deepEqual(plan.changes.map((c) => c.kind).sort(), ['create-user', 'update-user']);
        assert.deepEqual(s.safety(safe, true), []);
        await s.apply();
      });
      assert.deepEqual(phases, [
        'start',
        'source',
        'target',
        'release',
        'plan',
        'recorded',
        'safety',
        'apply',
        'finish',
      ]);
      assert.deepEqual(progress, ['target start', 'target end', 'apply start', 'apply end']);
      assert.equal(writes().length, 2);
    },
  );

  test(
    'nothing can be done out of order: no apply or safety check before a plan, no ' +
      'second plan, nothing after the end',
    async () => {
      const { deps, history } = setup();
      const session = SyncSession.start(deps);
      await assert.rejects(session.apply(), /apply before a plan/);
      assert.throws(() => session.safety(safe, true), /before a plan/);
      await session.plan({ source: twoChanges });
      await assert.rejects(session.plan({ source: twoChanges }), /plan while planned/);
      assert.throws(
        () => session.adopt(JSON.parse(history.readText(session.run.id, 'plan.json')!) as PlanFile),
        /adopt a plan while planned/,
      );
      session.finish('planned');
      await assert.rejects(session.apply(), /apply after the run finished/);
      assert.equal(session.finish('applied'), false, 'a run ends once');
      assert.equal(ended(history, session.run).status, 'planned');
    },
  );

  test(
    'the target is read only once the source is: a source that fails ends the run ' +
      'before the target is planned against',
    async () => {
      const { deps, phases, history } = setup();
      const session = SyncSession.start(deps);
      await assert.rejects(
        session.guard((s) => s.plan({ source: async () => Promise.reject(new Error('the export is unreadable')) })),
        /the export is unreadable/,
      );
      assert.deepEqual(phases, ['start', 'finish']);
      const run = ended(history, session.run);
      assert.equal(run.status, 'failed');
      assert.equal(run.message, 'the export is unreadable');
    },
  );
});

describe('sync session: every run ends with a status and a finish time', () => {
  test('planned only (a dry run): planned, the plan and the source kept', async () => {
    const { deps, history, writes } = setup();
    const session = SyncSession.start(deps);
    await session.guard((s) => s.plan({ source: twoChanges }));
    const run = ended(history, session.run);
    assert.equal(run.status, 'planned');
    assert.deepEqual(run.summary, session.planned!.plan.summary);
    assert.ok(history.readText(run.id, 'plan.json'));
    assert.deepEqual(writes(), []);
  });

  test(
    'refused by a safety check: refused, with the check, each reason logged as an ' + 'error; nothing written',
    async () => {
      const { deps, history, writes } = setup();
      const session = SyncSession.start(deps);
      await session.guard(async (s) => {
        await s.plan({ source: from([]) });
        const findings = s.safety(safe, true);
        assert.deepEqual(
          findings.map((f) => f.check),
          ['empty-source'],
        );
        s.refuse(findings);
      });
      const run = ended(history, session.run);
      assert.equal(run.status, 'refused');
      assert.equal(run.message, 'empty-source');
      const log = history
        .readText(run.id, 'log.ndjson')!
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as LogLine);
      assert.ok(log.some((l) => l.level === 'error' && l.check === 'empty-source'));
      assert.deepEqual(writes(), []);
    },
  );

  test('not confirmed: planned, "not confirmed"; nothing written', async () => {
    const { deps, history, writes, logged } = setup();
    const session = SyncSession.start(deps);
    await session.guard(async (s) => {
      await s.plan({ source: twoChanges });
      s.decline('not confirmed', 'not applied: the admin did not confirm');
    });
    const run = ended(history, session.run);
    assert.equal(run.status, 'planned');
    assert.equal(run.message, 'not confirmed');
    assert.ok(
      logged.some(([level, message]) => level === 'info' && message === 'not applied: the admin did not confirm'),
    );
    assert.deepEqual(writes(), []);
  });

  test('applied: applied, with the counts, the results and what is owned now', async () => {
    const { deps, history, dir } = setup();
    const session = SyncSession.start(deps);
    const seen: string[] = [];
    const outcome = await session.guard(async (s) => {
      await s.plan({ source: twoChanges });
      return s.apply({ onResult: (r) => seen.push(r.status) });
    });
    const run = ended(history, session.run);
    assert.equal(run.status, 'applied');
    assert.deepEqual(run.results, { applied: 2, failed: 0, excluded: 0 });
    assert.deepEqual(seen, ['applied', 'applied']);
    assert.match(outcome.message, new RegExp(`^applied 2 of 2 change\\(s\\) \\(run ${run.id}\\)$`));
    assert.equal((JSON.parse(history.readText(run.id, 'results.json')!) as ChangeResult[]).length, 2);
    const state = loadState(dir, 'test', BASE);
    assert.equal(state.owned.length, 2, 'ann (matched) and the new user (created) are owned');
    assert.equal(state.lastRecordCount, 2);
  });

  test('a plan with no changes applied: applied, and the matched users adopted', async () => {
    const { deps, history, dir, writes } = setup();
    const session = SyncSession.start(deps);
    await session.guard(async (s) => {
      await s.plan({ source: from([rec(2, { userName: 'ann@example.com', title: 'Dev' })]) });
      await s.apply();
    });
    const run = ended(history, session.run);
    assert.equal(run.status, 'applied');
    assert.deepEqual(run.results, { applied: 0, failed: 0, excluded: 0 });
    assert.deepEqual(loadState(dir, 'test', BASE).owned, ['t1']);
    assert.deepEqual(writes(), []);
  });

  test('partial: some changes failed', async () => {
    const { deps, history } = setup((req) =>
      req.method === 'POST' && req.url.pathname.endsWith('/Users')
        ? scimError(400, 'userName is not allowed here', 'invalidValue')
        : undefined,
    );
    const session = SyncSession.start(deps);
    const outcome = await session.guard(async (s) => {
      await s.plan({ source: twoChanges });
      return s.apply();
    });
    const run = ended(history, session.run);
    assert.equal(run.status, 'partial');
    assert.deepEqual(run.results, { applied: 1, failed: 1, excluded: 0 });
    assert.match(outcome.message, /applied 1 of 2 change\(s\), 1 failed/);
  });

  test('an error thrown mid-apply: failed, with the error; what was applied before it is owned', async () => {
    // The new user cannot be created, so its membership of the new group fails without a request;
    // reporting that failure throws (as a journal on a full disk would).
    const { deps, history, dir } = setup((req) =>
      req.method === 'POST' && req.url.pathname.endsWith('/Users') ? scimError(400, 'no', 'invalidValue') : undefined,
    );
    const session = SyncSession.start(deps);
    await assert.rejects(
      session.guard(async (s) => {
        const { plan } = await s.plan({
          source: async () =>
            source(
              [
                rec(2, { userName: 'ann@example.com', title: 'Lead' }),
                rec(3, { userName: 'new@example.com' }, { groups: ['Eng'] }),
              ],
              [grp(2, 'Eng')],
            ),
        });
        assert.deepEqual(plan.changes.map((c) => c.kind).sort(), [
          'add-member',
          'create-group',
          'create-user',
          'update-user',
        ]);
        await s.apply({
          concurrency: 1,
          onResult: (r) => {
            if (r.kind === 'add-member') throw new Error('no space left on device');
          },
        });
      }),
      /no space left on device/,
    );
    const run = ended(history, session.run);
    assert.equal(run.status, 'failed');
    assert.equal(run.message, 'no space left on device');
    const log = history
      .readText(run.id, 'log.ndjson')!
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LogLine);
    assert.equal(log.at(-1)?.level, 'error');
    assert.equal(log.at(-1)?.message, 'no space left on device');
    // ann was updated before the error: she is owned (a later run can deactivate her), and so is the group created.
    const state = loadState(dir, 'test', BASE);
    assert.deepEqual(state.owned, ['t1']);
    assert.equal(state.ownedGroups.length, 1);
  });

  test('an error while reading the target: failed, with the error', async () => {
    const { deps, history } = setup((req) =>
      req.method === 'GET' && req.url.pathname.endsWith('/Groups')
        ? scimError(500, 'the directory is down')
        : undefined,
    );
    const session = SyncSession.start(deps);
    await assert.rejects(session.guard((s) => s.plan({ source: twoChanges })));
    const run = ended(history, session.run);
    assert.equal(run.status, 'failed');
    assert.match(run.message ?? '', /500|directory is down/);
  });

  test('an error the caller counts as a refusal (no terminal to confirm on): refused', async () => {
    const { deps, history } = setup();
    class NoTerminal extends Error {}
    const session = SyncSession.start({
      ...deps,
      errorStatus: (e) => (e instanceof NoTerminal ? 'refused' : 'failed'),
    });
    await assert.rejects(
      session.guard(async (s) => {
        await s.plan({ source: twoChanges });
        throw new NoTerminal('there is no terminal to ask for confirmation on');
      }),
    );
    assert.equal(ended(history, session.run).status, 'refused');
  });

  test('a review closed without applying: planned, "not applied"; applying afterwards is refused', async () => {
    const { deps, history, writes } = setup();
    const session = SyncSession.start(deps);
    await session.plan({ source: twoChanges });
    const handle = reviewHandle(session);
    assert.equal(handle.changes.length, 2);
    handle.close();
    const run = ended(history, session.run);
    assert.equal(run.status, 'planned');
    assert.equal(run.message, 'not applied');
    await assert.rejects(
      handle.apply(new Set(), () => undefined),
      /after the run finished/,
    );
    assert.equal(ended(history, session.run).status, 'planned', 'the closed run stays as it ended');
    assert.deepEqual(writes(), []);
  });
});

describe("the explorer's sync now: a handle, not a change to its deps", () => {
  async function startSync(deps: SessionDeps) {
    const session = SyncSession.start({ ...deps, command: 'tui sync' });
    await session.plan({ source: twoChanges });
    return reviewHandle(session);
  }

  test('apply: the handle applies (deps untouched), and the run ends applied', async () => {
    const { deps, history, client, capabilities } = setup();
    const tui: TuiDeps = { client, caps: capabilities, history, startSync: () => startSync(deps) };
    const actions: Action[] = [];
    await runRequest({ kind: 'startSync' }, tui, (a) => actions.push(a));
    assert.equal(actions[0]?.type, 'reviewReady');
    assert.deepEqual(Object.keys(tui).sort(), ['caps', 'client', 'history', 'startSync'], 'deps are not written to');
    await runRequest({ kind: 'apply', excluded: [] }, tui, (a) => actions.push(a));
    const finished = actions.find((a) => a.type === 'applyFinished') as Extract<Action, { type: 'applyFinished' }>;
    assert.match(finished.message, /^applied 2 of 2 change\(s\)/);
    const [run] = history.list();
    assert.equal(ended(history, run!).status, 'applied');
    assert.equal(run!.command, 'tui sync');
  });

  test('closed (back to the runs): the run ends planned, not applied, before the runs are listed again', async () => {
    const { deps, history, client, capabilities, writes } = setup();
    const tui: TuiDeps = { client, caps: capabilities, history, startSync: () => startSync(deps) };
    const actions: Action[] = [];
    await runRequest({ kind: 'startSync' }, tui, (a) => actions.push(a));
    assert.equal(history.list()[0]?.status, 'running', 'under review, the run is still going');
    await runRequest({ kind: 'load', what: 'runs', gen: 1 }, tui, (a) => actions.push(a));
    assert.equal(history.list()[0]?.status, 'running', 'reading the runs does not close it');
    await runRequest({ kind: 'closeSync' }, tui, (a) => actions.push(a));
    await runRequest({ kind: 'load', what: 'runs', gen: 2 }, tui, (a) => actions.push(a));
    const loaded = actions.findLast((a) => a.type === 'loaded') as Extract<Action, { type: 'loaded' }>;
    const [listed] = loaded.rows as RunRecord[];
    assert.equal(listed?.status, 'planned');
    assert.equal(listed?.message, 'not applied');
    assert.ok(listed?.finishedAt);
    // An apply request now has no plan: the closed one is gone.
    await runRequest({ kind: 'apply', excluded: [] }, tui, (a) => actions.push(a));
    assert.match((actions.at(-1) as Extract<Action, { type: 'applyFinished' }>).message, /no plan to apply/);
    assert.deepEqual(writes(), []);
  });
});

describe('sync defaults come from one place', () => {
  test('the flags of sync plan, run and apply default to SYNC_DEFAULTS', async () => {
    const argv = (await applyOptions(safetyOptions(sourceOptions(yargs([])))).parse([
      '--source',
      'users.csv',
    ])) as Record<string, unknown>;
    for (const key of [
      'mode',
      'missing',
      'deleteGroups',
      'manageAll',
      'matchKeys',
      'strictSchema',
      'allowUnusualNames',
      'allowEmpty',
      'allowEmptyGroups',
      'acceptSourceChange',
      'concurrency',
      'bulk',
      'logFormat',
    ] as const) {
      assert.deepEqual(argv[key], SYNC_DEFAULTS[key], key);
    }
  });

  test('a request that says nothing plans with SYNC_DEFAULTS, as its plan file records', async () => {
    assert.deepEqual(parseMatchKeys(SYNC_DEFAULTS.matchKeys), [...MATCH_KEYS]);
    const options = planOptions({}, { profile: 'p', url: BASE, owned: ['t1'], ownedGroups: [] });
    assert.deepEqual(
      { ...options, owned: [...options.owned], ownedGroups: [...options.ownedGroups] },
      {
        mode: SYNC_DEFAULTS.mode,
        missing: SYNC_DEFAULTS.missing,
        deleteGroups: SYNC_DEFAULTS.deleteGroups,
        manageAll: SYNC_DEFAULTS.manageAll,
        owned: ['t1'],
        ownedGroups: [],
        matchKeys: MATCH_KEYS,
      },
    );
    const { deps, history } = setup();
    const session = SyncSession.start(deps);
    await session.guard((s) => s.plan({ source: twoChanges }));
    const file = JSON.parse(history.readText(session.run.id, 'plan.json')!) as PlanFile;
    assert.equal(file.mode, SYNC_DEFAULTS.mode);
    assert.deepEqual(file.options, {
      missing: SYNC_DEFAULTS.missing,
      deleteGroups: SYNC_DEFAULTS.deleteGroups,
      manageAll: SYNC_DEFAULTS.manageAll,
      matchKeys: [...MATCH_KEYS],
    });
  });

  test('the explorer and the demo take their settings from SYNC_DEFAULTS, not literals of their own', () => {
    for (const file of ['src/commands/tui.ts', 'src/commands/demo.ts']) {
      const text = readFileSync(join(import.meta.dirname, '../..', file), 'utf8');
      assert.match(text, /SYNC_DEFAULTS/, file);
      assert.doesNotMatch(text, /'externalId,userName,email'|missing: 'deactivate'|mode: 'full'|concurrency: 4/, file);
    }
  });
});

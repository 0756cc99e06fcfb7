import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScimClient } from '../../src/api/client.ts';
import { changeLines, problemLines, renderPlan, summaryText } from '../../src/output/plan.ts';
import type { Plan, PlanSummary } from '../../src/sync/model.ts';
import {
  PLAN_FORMAT,
  PlanFileError,
  fromPlanFile,
  readPlanFile,
  toPlanFile,
  writePlanFile,
  type PlanFile,
} from '../../src/sync/plan-file.ts';
import { planSync } from '../../src/sync/planner.ts';
import { readTarget } from '../../src/sync/target.ts';
import { BASE, caps, fakeFetch, listResponse, recordingSleep, rejection, scimJson } from './helpers.ts';
import { ENT, grp, opts, rec, source, target, tgroup, tuser } from './sync-helpers.ts';

const TOKEN = 'tok-3f9a1c77e2b54d0d9b1e-very-secret';

function samplePlan(): Plan {
  return planSync(
    source(
      [
        rec(
          2,
          { userName: 'new@example.com', [ENT]: { department: 'R&D' } },
          { groups: ['Sales'], onlyOnCreate: { active: true } },
        ),
        rec(3, { userName: 'ann@example.com', title: 'Lead' }),
        rec(4, { userName: 'dup@example.com' }),
        rec(5, { userName: 'DUP@example.com' }),
      ],
      [grp(2, 'Sales')],
    ),
    target(
      [tuser('t1', { userName: 'ann@example.com', title: 'Dev' }), tuser('t2', { userName: 'gone@example.com' })],
      [tgroup('g1', 'Sales', ['t1']), tgroup('g2', 'Old')],
    ),
    opts({ owned: new Set(['t1', 't2']), ownedGroups: new Set(['g2']), deleteGroups: true }),
  );
}

const meta = (): Parameters<typeof toPlanFile>[1] => ({
  createdAt: '2026-01-02T03:04:05.000Z',
  profile: 'prod',
  url: BASE,
  mode: 'full',
  options: {
    missing: 'deactivate',
    deleteGroups: true,
    manageAll: false,
    matchKeys: ['externalId', 'userName', 'email'],
  },
  source: { fingerprint: 'abc123', files: ['users.csv'], records: 4 },
});

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'scimctl-plan-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('plan files', () => {
  test('toPlanFile → fromPlanFile gives the plan back; the file carries its kind, format and metadata', () => {
    const plan = samplePlan();
    assert.ok(plan.changes.length >= 5 && plan.problems.length === 2, 'a plan with changes and problems');
    const file = toPlanFile(plan, meta());
    assert.equal(file.kind, 'scimctl-plan');
    assert.equal(file.formatVersion, PLAN_FORMAT);
    assert.equal(file.profile, 'prod');
    assert.equal(file.url, BASE);
    assert.deepEqual(file.source, meta().source);
    assert.deepEqual(file.versions, plan.versions);
    assert.deepEqual(fromPlanFile(file), plan);
    // Through JSON, as it will be stored.
    assert.deepEqual(fromPlanFile(JSON.parse(JSON.stringify(file)) as PlanFile), plan);
  });

  test('fromPlanFile of an older file without matched lists gives empty lists', () => {
    const file = toPlanFile(samplePlan(), meta()) as Partial<PlanFile>;
    delete file.matched;
    delete file.matchedGroups;
    const plan = fromPlanFile(file as PlanFile);
    assert.deepEqual(plan.matched, []);
    assert.deepEqual(plan.matchedGroups, []);
  });

  test('writePlanFile then readPlanFile gives an equal file, mode 0600, no temporary left behind', () =>
    withDir(async (dir) => {
      const path = join(dir, 'plan.json');
      // An existing, world-readable file is replaced by a private one.
      await writeFile(path, 'old', { mode: 0o644 });
      const file = toPlanFile(samplePlan(), meta());
      await writePlanFile(path, file);
      assert.deepEqual(await readPlanFile(path), file);
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      assert.deepEqual(await readdir(dir), ['plan.json']);
      assert.deepEqual(fromPlanFile(await readPlanFile(path)), samplePlan());
    }));

  test('a plan file never contains the token, even when the target was read with it', () =>
    withDir(async (dir) => {
      const users = [
        tuser('t1', { userName: 'ann@example.com', title: 'Dev' }),
        tuser('t2', { userName: 'gone@example.com' }),
      ];
      const f = fakeFetch((req) => {
        assert.equal(req.headers.get('authorization'), `Bearer ${TOKEN}`);
        if (req.url.pathname.endsWith('/Users')) return scimJson(listResponse(users));
        return scimJson(listResponse([tgroup('g1', 'Sales', ['t1'])]));
      });
      const client = new ScimClient({
        baseUrl: BASE,
        auth: { type: 'bearer', token: TOKEN },
        fetch: f.fetch,
        sleep: recordingSleep().sleep,
        capabilities: caps(),
      });
      const tgt = await readTarget(client);
      assert.ok(f.calls.length >= 2, 'the target was read over the authenticated transport');
      const plan = planSync(
        source([rec(2, { userName: 'ann@example.com', title: 'Lead' }, { groups: ['Sales', 'New'] })]),
        tgt,
        opts({ owned: new Set(['t2']) }),
      );
      assert.ok(plan.changes.length >= 3);
      const path = join(dir, 'plan.json');
      await writePlanFile(path, toPlanFile(plan, meta()));
      const text = await readFile(path, 'utf8');
      assert.ok(!text.includes(TOKEN), 'no token');
      assert.doesNotMatch(text, /authorization/i);
      assert.doesNotMatch(text, /bearer/i);
      assert.ok(text.includes('ann@example.com'), 'the file is the plan');
    }));
});

describe('readPlanFile refuses what is not a plan, naming the file', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['invalid JSON', '{"kind": "scimctl-plan", ', /not a plan file \(invalid JSON/],
    ['JSON null', 'null', /not a scimctl plan file/],
    ['a JSON array', '[]', /not a scimctl plan file/],
    [
      'wrong kind',
      JSON.stringify({ ...toPlanFile(samplePlan(), meta()), kind: 'terraform-plan' }),
      /not a scimctl plan file/,
    ],
    [
      'a newer format',
      JSON.stringify({ ...toPlanFile(samplePlan(), meta()), formatVersion: PLAN_FORMAT + 1 }),
      new RegExp(`plan format ${PLAN_FORMAT + 1} is not supported`),
    ],
    [
      'no format',
      JSON.stringify({ ...toPlanFile(samplePlan(), meta()), formatVersion: undefined }),
      /plan format undefined is not supported/,
    ],
  ];
  for (const field of ['changes', 'versions', 'url', 'summary'] as const) {
    const missing: Record<string, unknown> = { ...toPlanFile(samplePlan(), meta()) };
    delete missing[field];
    cases.push([`no ${field}`, JSON.stringify(missing), /incomplete/]);
    cases.push([
      `${field}: null`,
      JSON.stringify({ ...toPlanFile(samplePlan(), meta()), [field]: null }),
      /incomplete/,
    ]);
  }
  cases.push([
    'changes not a list',
    JSON.stringify({ ...toPlanFile(samplePlan(), meta()), changes: {} }),
    /incomplete/,
  ]);
  cases.push(['versions a list', JSON.stringify({ ...toPlanFile(samplePlan(), meta()), versions: [] }), /incomplete/]);

  for (const [name, text, message] of cases) {
    test(name, () =>
      withDir(async (dir) => {
        const path = join(dir, `${name.replace(/\W+/g, '-')}.json`);
        await writeFile(path, text);
        const e = await rejection(readPlanFile(path));
        assert.ok(e instanceof PlanFileError, `${String(e)}`);
        assert.ok(e.message.startsWith(`${path}: `), e.message);
        assert.match(e.message, message);
      }),
    );
  }

  test('a missing file', () =>
    withDir(async (dir) => {
      const path = join(dir, 'nope.json');
      const e = await rejection(readPlanFile(path));
      assert.ok(e instanceof PlanFileError);
      assert.match(e.message, new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read`));
    }));
});

// ---------------------------------------------------------------------------
// Rendering

describe('summaryText', () => {
  const s = (change: Partial<PlanSummary>): PlanSummary => ({
    create: 0,
    update: 0,
    deactivate: 0,
    delete: 0,
    memberships: 0,
    groupsCreated: 0,
    groupsDeleted: 0,
    managed: 0,
    ...change,
  });

  test('the exact summary line', () => {
    assert.equal(
      summaryText(s({ create: 1, update: 2, deactivate: 3, delete: 4, memberships: 5, managed: 99 })),
      '1 to create, 2 to update, 3 to deactivate, 4 to delete, 5 membership changes.',
    );
    assert.equal(summaryText(s({})), '0 to create, 0 to update, 0 to deactivate, 0 to delete, 0 membership changes.');
  });

  test('group creates and deletes are added only when there are some, singular or plural', () => {
    assert.equal(
      summaryText(s({ groupsCreated: 1 })),
      '0 to create, 0 to update, 0 to deactivate, 0 to delete, 0 membership changes, 1 group to create.',
    );
    assert.equal(
      summaryText(s({ groupsCreated: 2, groupsDeleted: 1 })),
      '0 to create, 0 to update, 0 to deactivate, 0 to delete, 0 membership changes, ' +
        '2 groups to create, 1 group to delete.',
    );
    assert.equal(
      summaryText(s({ groupsDeleted: 3 })),
      '0 to create, 0 to update, 0 to deactivate, 0 to delete, 0 membership changes, 3 groups to delete.',
    );
  });
});

describe('renderPlan', () => {
  const rendered = () => {
    const plan = planSync(
      source(
        [
          rec(
            2,
            {
              userName: 'new@example.com',
              name: { givenName: 'Nu' },
              emails: [{ type: 'work', value: 'new@example.com' }],
              [ENT]: { department: 'R&D' },
            },
            { onlyOnCreate: { password: 'Initial-1' } },
          ),
          rec(3, { userName: 'ann@example.com', title: 'B', [ENT]: { department: 'Eng' }, nickName: null }),
          rec(4, { userName: 'back@example.com' }),
          rec(5, { userName: 'x@example.com' }),
          rec(6, { userName: 'X@example.com' }),
        ],
        [grp(2, 'Sales', ['new@example.com', 'ann@example.com']), grp(3, 'Fresh', ['ann@example.com'])],
      ),
      target(
        [
          tuser('t1', {
            userName: 'ann@example.com',
            title: 'A',
            nickName: 'Annie',
            phoneNumbers: [{ type: 'work', value: '+1 555' }],
            [ENT]: { department: 'Sales' },
          }),
          tuser('t2', { userName: 'gone@example.com' }),
          tuser('t3', { userName: 'back@example.com', active: false }),
          tuser('t4', { userName: 'del@example.com' }),
        ],
        [tgroup('g1', 'Sales', ['t3']), tgroup('g2', 'Old')],
      ),
      opts({ owned: new Set(['t1', 't2', 't3']), ownedGroups: new Set(['g2']), deleteGroups: true }),
    );
    return { plan, lines: renderPlan(plan) };
  };

  test(
    'one block per change: + create (with its attributes), ~ update (attribute by ' +
      'attribute), - deactivate, memberships, group deletes',
    () => {
      const { lines } = rendered();
      const at = (line: string) => {
        const i = lines.indexOf(line);
        assert.ok(i >= 0, `missing line ${JSON.stringify(line)} in:\n${lines.join('\n')}`);
        return i;
      };
      const create = at('+ create user new@example.com  (users.csv:2)');
      assert.deepEqual(lines.slice(create + 1, create + 6).sort(), [
        '    + emails[work].value: "new@example.com"',
        '    + name.givenName: "Nu"',
        // The initial password (onlyOnCreate, write-only) is written but never shown.
        '    + password: "***"',
        `    + ${ENT}:department: "R&D"`,
        '    + userName: "new@example.com"',
      ]);
      assert.ok(!lines.some((l) => l.includes('Initial-1')));
      const update = at('~ update user ann@example.com');
      assert.deepEqual(
        lines.slice(update + 1, update + 4).sort(),
        ['    - nickName: "Annie"', '    ~ title: "A" → "B"', `    ~ ${ENT}:department: "Sales" → "Eng"`].sort(),
      );
      at('~ update user back@example.com (reactivate)');
      at('- deactivate user gone@example.com  (t2)');
      at('+ create group Fresh');
      at('+ add new@example.com to group Sales');
      at('+ add ann@example.com to group Sales');
      at('+ add ann@example.com to group Fresh');
      at('- remove back@example.com from group Sales');
      at('- delete group Old  (g2)');
      // An unmanaged user and an untouched attribute are not mentioned anywhere.
      assert.ok(!lines.some((l) => l.includes('del@example.com')));
      assert.ok(!lines.some((l) => l.includes('phoneNumbers')));
      assert.ok(!lines.some((l) => l.includes('No changes')));
    },
  );

  test('problems are listed with file and line, then the summary line last', () => {
    const { plan, lines } = rendered();
    const header = lines.indexOf('2 source record(s) could not be planned (their users are left alone):');
    assert.ok(header > 0);
    assert.equal(lines[header - 1], '');
    assert.deepEqual(
      lines.slice(header + 1, header + 3).sort(),
      [
        '! users.csv:5: userName "X@example.com" is also on users.csv:6',
        '! users.csv:6: userName "X@example.com" is also on users.csv:5',
      ].sort(),
    );
    assert.deepEqual(problemLines(plan.problems).sort(), lines.slice(header + 1, header + 3).sort());
    assert.equal(lines.at(-2), '');
    assert.equal(lines.at(-1), `Plan: ${summaryText(plan.summary)}`);
    assert.equal(
      lines.at(-1),
      'Plan: 1 to create, 2 to update, 1 to deactivate, 0 to delete, 4 membership ' +
        'changes, 1 group to create, 1 group to delete.',
    );
  });

  test('an empty plan says there are no changes', () => {
    const lines = renderPlan(
      planSync(
        source([rec(2, { userName: 'a@example.com' })]),
        target([tuser('t1', { userName: 'a@example.com' })]),
        opts(),
      ),
    );
    assert.deepEqual(lines, [
      'No changes: the target matches the source.',
      '',
      'Plan: 0 to create, 0 to update, 0 to deactivate, 0 to delete, 0 membership changes.',
    ]);
  });

  test('a plan with only problems lists them and says no changes', () => {
    const lines = renderPlan(planSync(source([rec(7, { title: 'no key' })]), target([]), opts()));
    assert.deepEqual(lines, [
      '',
      '1 source record(s) could not be planned (their users are left alone):',
      '! users.csv:7: no externalId, userName, email to match it by',
      'No changes: the target matches the source.',
      '',
      'Plan: 0 to create, 0 to update, 0 to deactivate, 0 to delete, 0 membership changes.',
    ]);
  });

  test('changeLines without detail is the headline only; delete-user shows the id', () => {
    const { plan } = rendered();
    for (const c of plan.changes) assert.equal(changeLines(c, undefined, false).length, 1, c.id);
    const del = planSync(
      source([]),
      target([tuser('t9', { userName: 'z@example.com' })]),
      opts({ owned: new Set(['t9']), missing: 'delete' }),
    );
    assert.deepEqual(
      del.changes.flatMap((c) => changeLines(c)),
      ['- delete user z@example.com  (t9)'],
    );
  });

  test('the rendering is the same from the plan file (JSON) as from the plan', () => {
    const { plan, lines } = rendered();
    assert.deepEqual(renderPlan(fromPlanFile(JSON.parse(JSON.stringify(toPlanFile(plan, meta()))) as PlanFile)), lines);
  });
});

describe('secrets in plan files', () => {
  test('an initial password is never written to a plan file, and never sent as its placeholder', async () => {
    const { toPlanFile, fromPlanFile, REDACTED } = await import('../../src/sync/plan-file.ts');
    const plan = {
      changes: [
        {
          id: 'create-user:a',
          kind: 'create-user' as const,
          userName: 'a',
          resource: { userName: 'a', password: 'Sup3r-Secret!' },
          origin: { file: 'f', line: 2 },
        },
      ],
      problems: [],
      summary: {
        create: 1,
        update: 0,
        deactivate: 0,
        delete: 0,
        memberships: 0,
        groupsCreated: 0,
        groupsDeleted: 0,
        managed: 0,
      },
      versions: {},
      matched: [],
      matchedGroups: [],
    };
    const file = toPlanFile(plan, {
      createdAt: 'now',
      profile: 'p',
      url: 'https://x',
      mode: 'full',
      options: { missing: 'deactivate', deleteGroups: false, manageAll: false, matchKeys: ['userName'] },
      source: { fingerprint: 'f', files: [], records: 1 },
    });
    const text = JSON.stringify(file);
    assert.ok(!text.includes('Sup3r-Secret!'));
    assert.ok(text.includes(REDACTED));
    const back = fromPlanFile(JSON.parse(text));
    const change = back.changes[0]!;
    assert.equal(change.kind, 'create-user');
    const { withoutPlaceholders } = await import('../../src/sync/plan-file.ts');
    assert.deepEqual(change.kind === 'create-user' ? withoutPlaceholders(change.resource) : undefined, {
      userName: 'a',
    });
    // The in-memory plan (sync run) keeps the password for the create itself.
    assert.equal((plan.changes[0]!.resource as { password: string }).password, 'Sup3r-Secret!');
  });
});

describe('plan text: values and source paths', () => {
  const summary: PlanSummary = {
    create: 1,
    update: 1,
    deactivate: 0,
    delete: 0,
    memberships: 0,
    groupsCreated: 0,
    groupsDeleted: 0,
    managed: 1,
  };
  const plan = (file: string): Plan => ({
    changes: [
      {
        id: 'create-user:new',
        kind: 'create-user',
        userName: 'new@example.com',
        resource: { userName: 'new@example.com', active: false, nickName: 'true', [ENT]: { costCenter: 42 } },
        origin: { file, line: 2 },
      },
      {
        id: 'update-user:t1',
        kind: 'update-user',
        target: 't1',
        userName: 'ann@example.com',
        diffs: [
          { path: 'active', before: true, after: false },
          { path: 'title', before: 'false', after: '7' },
          { path: `${ENT}:employeeNumber`, before: 7, after: 8 },
        ],
        reactivate: false,
        origin: { file, line: 3 },
      },
    ],
    problems: [{ origin: { file, line: 4 }, message: 'no userName to match it by' }],
    summary,
    versions: {},
    matched: [],
    matchedGroups: [],
  });

  test('booleans and numbers are shown bare, strings (even "true" or "7") in quotes', () => {
    const lines = renderPlan(plan('users.csv'));
    for (const line of [
      '    + active: false',
      '    + nickName: "true"',
      `    + ${ENT}:costCenter: 42`,
      '    ~ active: true → false',
      '    ~ title: "false" → "7"',
      `    ~ ${ENT}:employeeNumber: 7 → 8`,
    ])
      assert.ok(lines.includes(line), `missing ${JSON.stringify(line)} in:\n${lines.join('\n')}`);
  });

  test('a source file inside the working directory is shown relative to it; one outside it as given', () => {
    const inside = renderPlan(plan(join(process.cwd(), 'people', 'hr.csv')));
    assert.ok(inside.includes(`+ create user new@example.com  (${join('people', 'hr.csv')}:2)`), inside.join('\n'));
    assert.ok(inside.includes(`! ${join('people', 'hr.csv')}:4: no userName to match it by`), inside.join('\n'));
    const outside = join(tmpdir(), 'elsewhere', 'hr.csv');
    assert.ok(renderPlan(plan(outside)).includes(`+ create user new@example.com  (${outside}:2)`));
    assert.ok(renderPlan(plan('hr.csv')).includes('+ create user new@example.com  (hr.csv:2)'));
  });
});

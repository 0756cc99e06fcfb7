import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change } from '../../src/sync/model.ts';
import { PlanFileError, planDigest, toPlanFile, type PlanFile } from '../../src/sync/plan-file.ts';
import { validatePlanFile } from '../../src/sync/plan-validate.ts';
import { planSync } from '../../src/sync/planner.ts';
import { BASE } from './helpers.ts';
import { grp, opts, rec, source, target, tgroup, tuser } from './sync-helpers.ts';

const PATH = '/plans/weekly.json';

/** A plan with one of every kind of change but delete-user (the plan deactivates). */
function base(): PlanFile {
  const plan = planSync(
    source(
      [
        rec(2, { userName: 'new@example.com' }, { groups: ['Sales', 'Fresh'] }),
        rec(3, { userName: 'ann@example.com', title: 'Lead' }, { groups: [] }),
        rec(4, { userName: 'bob@example.com' }, { groups: ['Sales'] }),
      ],
      [grp(2, 'Sales')],
    ),
    target(
      [
        tuser('t1', { userName: 'ann@example.com', title: 'Dev' }),
        tuser('t2', { userName: 'gone@example.com' }),
        tuser('t3', { userName: 'bob@example.com' }),
      ],
      [tgroup('g1', 'Sales', ['t1', 't3']), tgroup('g3', 'Old')],
    ),
    opts({ owned: new Set(['t1', 't2', 't3']), ownedGroups: new Set(['g3']), deleteGroups: true }),
  );
  return JSON.parse(
    JSON.stringify(
      toPlanFile(plan, {
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
        source: { fingerprint: 'abc', files: ['users.csv'], records: 3 },
      }),
    ),
  ) as PlanFile;
}

/** The file as someone would edit it and then fix up the digest (so that only the check under test can refuse it). */
function edited(change: (f: PlanFile) => void, { redigest = true } = {}): PlanFile {
  const f = base();
  change(f);
  if (redigest) f.digest = planDigest(f);
  return f;
}

function refusal(data: unknown, options = {}): string {
  try {
    validatePlanFile(PATH, data, options);
  } catch (e) {
    assert.ok(e instanceof PlanFileError, String(e));
    for (const line of e.message.split('\n'))
      assert.ok(line.startsWith(`${PATH}: `), `every line names the file: ${line}`);
    return e.message;
  }
  assert.fail('the plan file was accepted');
}

const deactivation = (id: string): Change => ({
  id: `deactivate-user:${id}`,
  kind: 'deactivate-user',
  target: id,
  userName: `${id}@example.com`,
});

describe('validatePlanFile accepts what sync plan writes', () => {
  test('a plan of every kind of change passes, not edited; through JSON too', () => {
    const f = base();
    assert.deepEqual([...new Set(f.changes.map((c) => c.kind))].sort(), [
      'add-member',
      'create-group',
      'create-user',
      'deactivate-user',
      'delete-group',
      'remove-member',
      'update-user',
    ]);
    assert.match(f.digest!, /^sha256:[0-9a-f]{64}$/);
    const v = validatePlanFile(PATH, f);
    assert.equal(v.edited, false);
    assert.deepEqual(v.file, f);
  });

  test('the digest does not depend on key order', () => {
    const f = base();
    const reordered = Object.fromEntries(Object.entries(f).reverse()) as unknown as PlanFile;
    assert.equal(planDigest(reordered), f.digest);
    assert.equal(validatePlanFile(PATH, reordered).edited, false);
  });
});

describe('validatePlanFile refuses a plan file that lies about itself', () => {
  test('40 deactivations appended, summary untouched: the objects they touch are not in versions', () => {
    const message = refusal(
      edited((f) => f.changes.push(...Array.from({ length: 40 }, (_, i) => deactivation(`x${i}`)))),
    );
    assert.match(message, /change 8 \(id "deactivate-user:x0"\): field "target": User\/x0 is not in "versions"/);
    assert.match(message, /and 35 more problem\(s\)/);
  });

  test('40 deactivations appended with their versions: the summary disagrees with the changes', () => {
    const message = refusal(
      edited((f) => {
        for (let i = 0; i < 40; i++) {
          f.changes.push(deactivation(`x${i}`));
          f.versions[`User/x${i}`] = `W/"x${i}"`;
        }
      }),
    );
    assert.match(message, /field "summary.deactivate": the summary says 1, the changes hold 41/);
  });

  test('versions emptied: every touched object is named', () => {
    const message = refusal(edited((f) => (f.versions = {})));
    for (const key of ['User/t1', 'User/t2', 'Group/g1', 'Group/g3'])
      assert.match(message, new RegExp(`${key} is not in "versions"`));
  });

  test('an unknown kind names the change by index and id, and the known kinds', () => {
    const message = refusal(
      edited((f) =>
        f.changes.splice(1, 0, { id: 'purge-user:t1', kind: 'purge-user', target: 't1' } as unknown as Change),
      ),
    );
    assert.match(
      message,
      /change 1 \(id "purge-user:t1"\): field "kind": unknown kind "purge-user" \(known: create-user, update-user/,
    );
    assert.doesNotMatch(message, /is not iterable/);
  });

  test('a change without a kind, or not an object', () => {
    assert.match(
      refusal(edited((f) => f.changes.push({ id: 'x' } as unknown as Change))),
      /change 8 \(id "x"\): field "kind": missing/,
    );
    assert.match(refusal(edited((f) => f.changes.push(42 as unknown as Change))), /change 8 \(no id\): not an object/);
  });

  test('a field of the wrong type, a missing field, an unknown field', () => {
    const at = (f: PlanFile, kind: string) => f.changes.findIndex((c) => c.kind === kind);
    let i = -1;
    const wrong = refusal(
      edited((f) => ((f.changes[(i = at(f, 'deactivate-user'))] as unknown as Record<string, unknown>).target = 7)),
    );
    assert.match(
      wrong,
      new RegExp(`change ${i} \\(id "deactivate-user:t2"\\): field "target": expected string, received number`),
    );
    const missing = refusal(
      edited((f) => delete (f.changes[(i = at(f, 'update-user'))] as unknown as Record<string, unknown>).diffs),
    );
    assert.match(missing, new RegExp(`change ${i} \\(id "update-user:t1"\\): field "diffs": expected array`));
    const diffPath = refusal(
      edited(
        (f) =>
          ((f.changes[(i = at(f, 'update-user'))] as Extract<Change, { kind: 'update-user' }>).diffs[0]!.path = ''),
      ),
    );
    assert.match(diffPath, new RegExp(`change ${i} \\(id "update-user:t1"\\): field "diffs\\[0\\].path"`));
    const extra = refusal(
      edited((f) => ((f.changes[(i = at(f, 'delete-group'))] as unknown as Record<string, unknown>).ifMatch = '*')),
    );
    assert.match(extra, new RegExp(`change ${i} \\(id "delete-group:g3"\\): field "ifMatch": not a field`));
  });

  test('duplicates: the same id twice, one user changed twice, one membership twice', () => {
    assert.match(
      refusal(edited((f) => f.changes.push({ ...f.changes.find((c) => c.kind === 'update-user')! }))),
      /change 8 \(id "update-user:t1"\): field "id": the same id as change \d/,
    );
    assert.match(
      refusal(edited((f) => f.changes.push({ ...deactivation('t1'), id: 'deactivate-user:t1' }))),
      /change 8 \(id "deactivate-user:t1"\): user t1 is already changed by change \d \(id "update-user:t1"\)/,
    );
    const member = refusal(
      edited((f) => {
        const add = f.changes.find((c) => c.kind === 'add-member')!;
        f.changes.push({ ...add, id: `${add.id}:again` });
      }),
    );
    assert.match(member, /change 8 \(id "add-member:.*:again"\): the membership of .* is already changed by change \d/);
  });

  test('references between changes: a member change names a create that is not in the plan', () => {
    const message = refusal(
      edited((f) => {
        const add = f.changes.find(
          (c): c is Extract<Change, { kind: 'add-member' }> => c.kind === 'add-member' && 'change' in c.group,
        )!;
        add.group = { change: 'create-group:Nope' };
      }),
    );
    assert.match(
      message,
      /field "group.change": "create-group:Nope" is not the id of a create-group change of this plan/,
    );
    const user = refusal(
      edited((f) => {
        const add = f.changes.find(
          (c): c is Extract<Change, { kind: 'add-member' }> => c.kind === 'add-member' && 'change' in c.user,
        )!;
        add.user = { change: 'update-user:t1' };
      }),
    );
    assert.match(user, /field "user.change": "update-user:t1" is not the id of a create-user change of this plan/);
    assert.doesNotMatch(user, /was removed/, 'a reference to a change of the wrong kind is not a removed prerequisite');
  });

  test('a create removed by hand: the membership that needs it is refused, saying so, and nothing is sent', () => {
    const message = refusal(
      edited((f) => {
        const add = f.changes.find(
          (c): c is Extract<Change, { kind: 'add-member' }> => c.kind === 'add-member' && 'change' in c.user,
        )!;
        const ref = add.user as { change: string };
        f.changes = f.changes.filter((c) => c.id !== ref.change);
        f.summary.create -= 1;
      }),
    );
    assert.match(
      message,
      new RegExp(
        /field "user.change": ".*" is not the id of a create-user change of /.source +
          /this plan \(the change it needs was removed: remove this change too, /.source +
          /or it would fail at the server\)/.source,
      ),
    );
  });

  test('an id that does not start with its kind', () => {
    assert.match(
      refusal(edited((f) => (f.changes.find((c) => c.kind === 'deactivate-user')!.id = 'update-user:t2'))),
      /field "id": a deactivate-user change's id starts with "deactivate-user:"/,
    );
  });

  test("changes the plan's own options do not allow", () => {
    assert.match(
      refusal(edited((f) => (f.options.deleteGroups = false))),
      /delete-group change in a plan made without --delete-groups/,
    );
    assert.match(
      refusal(edited((f) => (f.options.missing = 'leave'))),
      /deactivate-user change in a plan made with --missing leave/,
    );
    assert.match(refusal(edited((f) => (f.mode = 'attributes'))), /add-member change in a plan of mode "attributes"/);
  });

  test('a summary that disagrees with the changes, counted either way', () => {
    assert.match(
      refusal(edited((f) => (f.summary.deactivate = 0))),
      /field "summary.deactivate": the summary says 0, the changes hold 1/,
    );
    assert.match(
      refusal(edited((f) => (f.summary.memberships = 99))),
      /field "summary.memberships": the summary says 99, the changes hold \d+/,
    );
    assert.match(
      refusal(edited((f) => (f.summary.deactivatedBySource = 3))),
      /field "summary.deactivatedBySource": the summary says 3, the changes hold 0/,
    );
  });

  test('top level: a missing or mistyped field, an unknown one', () => {
    assert.match(refusal(edited((f) => delete (f as Partial<PlanFile>).versions)), /field "versions": expected record/);
    assert.match(
      refusal(edited((f) => ((f as unknown as Record<string, unknown>).changes = {}))),
      /field "changes": expected array/,
    );
    assert.match(
      refusal(edited((f) => ((f.summary as unknown as Record<string, unknown>).create = -1))),
      /field "summary.create"/,
    );
    assert.match(
      refusal(edited((f) => ((f as unknown as Record<string, unknown>).autoApprove = true))),
      /field "autoApprove": not a field/,
    );
    assert.match(refusal(null), /not a scimctl plan file/);
    assert.match(refusal({ ...base(), formatVersion: 9 }), /plan format 9 is not supported/);
  });
});

describe('the digest: a plan edited by hand', () => {
  test('refused, unless allowEdited; then reported as edited', () => {
    const f = edited(
      (x) =>
        ((x.changes.find((c) => c.kind === 'update-user') as Extract<Change, { kind: 'update-user' }>).diffs[0]!.after =
          'CEO'),
      { redigest: false },
    );
    assert.match(
      refusal(f),
      new RegExp(
        /field "digest": does not match the content: the plan was edited after /.source +
          /"scimctl sync plan" wrote it\. Make a new plan, or pass /.source +
          /--allow-edited-plan/.source,
      ),
    );
    assert.equal(validatePlanFile(PATH, f, { allowEdited: true }).edited, true);
  });

  test('no digest at all is an edited plan too', () => {
    const f = base();
    delete f.digest;
    assert.match(refusal(f), /has no digest/);
    assert.equal(validatePlanFile(PATH, f, { allowEdited: true }).edited, true);
  });

  test('allowEdited still checks everything else', () => {
    const f = edited((x) => x.changes.push(deactivation('x1')), { redigest: false });
    assert.match(refusal(f, { allowEdited: true }), /User\/x1 is not in "versions"/);
    const g = edited(
      (x) => {
        x.changes.push(deactivation('x1'));
        x.versions['User/x1'] = 'W/"1"';
      },
      { redigest: false },
    );
    assert.match(refusal(g, { allowEdited: true }), /summary.deactivate/);
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMA, type ScimGroup, type ScimUser } from '../../src/api/types.ts';
import { changesToPatch } from '../../src/api/update.ts';
import type { DesiredUser, Plan, PlanOptions } from '../../src/sync/model.ts';
import { planSync, resourceVersion, versionKey } from '../../src/sync/planner.ts';
import { prng } from './helpers.ts';
import {
  CUSTOM,
  ENT,
  GROUPS_FILE,
  USERS_FILE,
  changeIds,
  grp,
  ofKind,
  opts,
  rec,
  shuffle,
  simulate,
  source,
  target,
  tgroup,
  tuser,
} from './sync-helpers.ts';

const plan = (
  users: DesiredUser[],
  targetUsers: ScimUser[],
  o: Partial<PlanOptions> = {},
  groups: Parameters<typeof source>[1] = [],
  targetGroups: ScimGroup[] = [],
): Plan => planSync(source(users, groups), target(targetUsers, targetGroups), opts(o));

const byPath = <T extends { path: string }>(diffs: T[]) => [...diffs].sort((a, b) => a.path.localeCompare(b.path));
const problemLines = (p: Plan) => p.problems.map((x) => `${x.origin.file}:${x.origin.line}`).sort();

describe('planSync: creates', () => {
  test(
    'an unmatched record becomes a create with the core and extension schemas and ' + 'its onlyOnCreate attributes',
    () => {
      const p = plan(
        [
          rec(
            2,
            {
              userName: 'new@example.com',
              externalId: 'E9',
              name: { givenName: 'Nia', familyName: 'New' },
              emails: [{ type: 'work', value: 'new@example.com', primary: true }],
              [ENT]: { department: 'R&D' },
              [CUSTOM]: { badge: '42' },
            },
            { onlyOnCreate: { password: 'initial-Secret-1', active: false } },
          ),
        ],
        [tuser('t1', { userName: 'old@example.com' })],
      );
      assert.deepEqual(p.changes, [
        {
          id: 'create-user:new@example.com',
          kind: 'create-user',
          userName: 'new@example.com',
          origin: { file: USERS_FILE, line: 2 },
          resource: {
            schemas: [SCHEMA.USER, ENT, CUSTOM],
            password: 'initial-Secret-1',
            active: false,
            userName: 'new@example.com',
            externalId: 'E9',
            name: { givenName: 'Nia', familyName: 'New' },
            emails: [{ type: 'work', value: 'new@example.com', primary: true }],
            [ENT]: { department: 'R&D' },
            [CUSTOM]: { badge: '42' },
          },
        },
      ]);
      // A new user has no version to guard; t1 is not owned, so not touched.
      assert.deepEqual(p.versions, {});
      assert.deepEqual(p.summary, {
        create: 1,
        update: 0,
        deactivate: 0,
        delete: 0,
        memberships: 0,
        groupsCreated: 0,
        groupsDeleted: 0,
        managed: 0,
        managedMemberships: 0,
        managedGroups: 0,
      });
      assert.deepEqual(p.problems, []);
    },
  );

  test('source attributes win over onlyOnCreate ones of the same name', () => {
    const [c] = ofKind(
      plan(
        [rec(2, { userName: 'n@example.com', active: true }, { onlyOnCreate: { active: false, password: 'p' } })],
        [],
      ),
      'create-user',
    );
    assert.equal(c!.resource.active, true);
    assert.equal(c!.resource.password, 'p');
  });

  test('onlyOnCreate attributes are never compared with, or written to, an existing user', () => {
    const p = plan(
      [
        rec(
          2,
          { userName: 'a@example.com', title: 'Dev' },
          { onlyOnCreate: { password: 'reset-me', title: 'Ignored' } },
        ),
      ],
      [tuser('t1', { userName: 'a@example.com', title: 'Dev' })],
    );
    assert.deepEqual(p.changes, []);
    assert.deepEqual(p.matched, ['t1']);
  });

  test(
    'a create without extensions names only the core schema; a record with schemas ' +
      'of its own gets the computed list',
    () => {
      const [c] = ofKind(plan([rec(2, { userName: 'n@example.com', schemas: ['urn:bogus'] })], []), 'create-user');
      assert.deepEqual(c!.resource.schemas, [SCHEMA.USER]);
    },
  );
});

describe('planSync: updates touch only what the source provides', () => {
  const existing = () =>
    tuser('t1', {
      userName: 'ann@example.com',
      externalId: 'E1',
      title: 'Engineer',
      nickName: 'Annie',
      phoneNumbers: [{ type: 'mobile', value: '+1 555 0100' }],
      name: { givenName: 'Ann', familyName: 'Lee', middleName: 'Q' },
      emails: [
        { type: 'work', value: 'ann@example.com', primary: true },
        { type: 'home', value: 'ann@home.example' },
      ],
      [ENT]: { department: 'Sales', costCenter: 'CC-7', manager: { value: 'boss' } },
    });

  test(
    'changed attributes become diffs; unmentioned ones (phoneNumbers, nickName, ' +
      'extension attributes) are never in them',
    () => {
      const p = plan(
        [
          rec(2, {
            externalId: 'E1',
            userName: 'ann@example.com',
            title: 'Lead',
            name: { givenName: 'Anne' },
            [ENT]: { department: 'Engineering' },
          }),
        ],
        [existing()],
      );
      const [u] = ofKind(p, 'update-user');
      assert.equal(p.changes.length, 1);
      assert.equal(u!.id, 'update-user:t1');
      assert.equal(u!.target, 't1');
      assert.equal(u!.userName, 'ann@example.com');
      assert.equal(u!.reactivate, false);
      assert.deepEqual(u!.origin, { file: USERS_FILE, line: 2 });
      assert.deepEqual(byPath(u!.diffs), [
        // Complex values merge by sub-attribute: familyName and middleName stay.
        {
          path: 'name',
          before: { givenName: 'Ann', familyName: 'Lee', middleName: 'Q' },
          after: { givenName: 'Anne', familyName: 'Lee', middleName: 'Q' },
        },
        { path: 'title', before: 'Engineer', after: 'Lead' },
        { path: `${ENT}:department`, before: 'Sales', after: 'Engineering' },
      ]);
      const paths = u!.diffs.map((d) => d.path.toLowerCase());
      for (const never of [
        'phonenumbers',
        'nickname',
        'emails',
        `${ENT}:costcenter`.toLowerCase(),
        `${ENT}:manager`.toLowerCase(),
      ])
        assert.ok(!paths.includes(never), never);
      // What PATCH would send removes nothing.
      assert.ok(changesToPatch(u!.diffs).Operations.every((o) => o.op !== 'remove'));
      assert.deepEqual(p.versions, { 'User/t1': 'W/"t1-1"' });
    },
  );

  test('a source equal to the target on the attributes it provides plans nothing', () => {
    const p = plan(
      [
        rec(2, {
          userName: 'ann@example.com',
          title: 'Engineer',
          [ENT]: { department: 'Sales' },
          emails: [{ type: 'work', value: 'ann@example.com', primary: true }],
        }),
      ],
      [existing()],
      { owned: new Set(['t1']) },
    );
    assert.deepEqual(p.changes, []);
    assert.deepEqual(p.versions, {});
    assert.deepEqual(p.matched, ['t1']);
  });

  test('an explicit null in the source removes that attribute (and only it)', () => {
    const p = plan([rec(2, { userName: 'ann@example.com', nickName: null })], [existing()]);
    const [u] = ofKind(p, 'update-user');
    assert.deepEqual(u!.diffs, [{ path: 'nickName', before: 'Annie', after: undefined }]);
  });

  test('multi-valued: the source gives emails[work] only; the home e-mail is kept, never removed', () => {
    const p = plan(
      [
        rec(2, {
          userName: 'ann@example.com',
          emails: [{ type: 'work', value: 'ann.lee@example.com', primary: true }],
        }),
      ],
      [existing()],
    );
    const [u] = ofKind(p, 'update-user');
    assert.equal(u!.diffs.length, 1);
    assert.equal(u!.diffs[0]!.path, 'emails');
    assert.deepEqual(u!.diffs[0]!.after, [
      { type: 'work', value: 'ann.lee@example.com', primary: true },
      { type: 'home', value: 'ann@home.example' },
    ]);
    const ops = changesToPatch(u!.diffs).Operations;
    assert.deepEqual(
      ops.map((o) => o.op),
      ['replace'],
    );
    assert.ok(JSON.stringify(ops).includes('ann@home.example'));
  });

  test('case-only differences in userName and e-mail are not changes', () => {
    const t = tuser('t1', {
      userName: 'Ann.Lee@Example.COM',
      emails: [{ type: 'work', value: 'Ann.Lee@Example.COM', primary: true }],
    });
    const p = plan(
      [
        rec(2, {
          userName: 'ann.lee@example.com',
          emails: [{ type: 'work', value: 'ANN.LEE@example.com', primary: true }],
        }),
      ],
      [t],
      { owned: new Set(['t1']) },
    );
    assert.deepEqual(p.changes, []);
    assert.deepEqual(p.matched, ['t1']);
  });

  test('a case-only change of another attribute is a change (only identity attributes are case-insensitive)', () => {
    const p = plan([rec(2, { userName: 'ann@example.com', title: 'engineer' })], [existing()]);
    assert.deepEqual(ofKind(p, 'update-user')[0]!.diffs, [{ path: 'title', before: 'Engineer', after: 'engineer' }]);
  });

  test('when another attribute changes, the diffs carry the real (not lower-cased) values', () => {
    const t = tuser('t1', { userName: 'Ann@Example.com', emails: [{ type: 'work', value: 'Ann@Example.com' }] });
    const p = plan(
      [
        rec(2, {
          userName: 'ann@example.com',
          emails: [
            { type: 'work', value: 'ann@example.com' },
            { type: 'home', value: 'Ann@Home.example' },
          ],
        }),
      ],
      [t],
    );
    const [u] = ofKind(p, 'update-user');
    assert.deepEqual(u!.diffs, [
      {
        path: 'emails',
        before: [{ type: 'work', value: 'Ann@Example.com' }],
        after: [
          { type: 'work', value: 'ann@example.com' },
          { type: 'home', value: 'Ann@Home.example' },
        ],
      },
    ]);
  });
});

describe('planSync: matching', () => {
  test('externalId compares exactly: a case-only different externalId is another key', () => {
    const t = tuser('t1', { userName: 'one@example.com', externalId: 'ABC' });
    // Only externalId to match by: "abc" is not "ABC", so the record is new and t1 (managed) is missing.
    const p = plan([rec(2, { externalId: 'abc', userName: 'one@example.com' })], [t], {
      matchKeys: ['externalId'],
      owned: new Set(['t1']),
    });
    assert.deepEqual(changeIds(p), ['create-user:one@example.com', 'deactivate-user:t1']);
    // Ranked keys: externalId finds nothing, userName finds t1, whose externalId is then corrected.
    const q = plan([rec(2, { externalId: 'abc', userName: 'one@example.com' })], [t], { owned: new Set(['t1']) });
    assert.deepEqual(changeIds(q), ['update-user:t1']);
    assert.deepEqual(ofKind(q, 'update-user')[0]!.diffs, [{ path: 'externalId', before: 'ABC', after: 'abc' }]);
  });

  test('ranked keys: externalId before userName before e-mail; a record without externalId matches by userName', () => {
    const users = [
      tuser('t1', { userName: 'a@example.com', externalId: 'E1' }),
      tuser('t2', { userName: 'b@example.com' }),
      tuser('t3', {
        userName: 'c-login',
        emails: [
          { type: 'work', value: 'C@Example.com' },
          { type: 'home', value: 'c@home.example' },
        ],
      }),
    ];
    // externalId wins over a userName that names another user; renaming t1 onto t2's userName
    // would collide, so it is a problem for that record and both users are left alone.
    const first = plan([rec(2, { externalId: 'E1', userName: 'b@example.com' })], users);
    assert.deepEqual(first.matched, ['t1']);
    assert.deepEqual(changeIds(first), []);
    assert.equal(first.problems.length, 1);
    assert.match(
      first.problems[0]!.message,
      /would rename a@example\.com to "b@example\.com", which is the userName of another user \(t2\)/,
    );
    // A rename to a free userName is an ordinary update.
    const free = plan([rec(2, { externalId: 'E1', userName: 'new@example.com' })], users);
    assert.deepEqual(ofKind(free, 'update-user')[0]!.diffs, [
      { path: 'userName', before: 'a@example.com', after: 'new@example.com' },
    ]);
    const p = plan(
      [
        // No externalId (the column is empty): matched by userName, case-insensitively.
        rec(3, { externalId: '', userName: 'B@EXAMPLE.COM', title: 'T2' }),
        // Neither externalId nor userName given: e-mail, against any of the user's addresses.
        rec(4, { emails: [{ type: 'work', value: 'c@home.example' }], title: 'T3' }),
        // userName beats e-mail: this one's e-mail is t3's, its userName is t1's.
        rec(5, { userName: 'A@example.com', emails: [{ type: 'work', value: 'C@example.com' }], title: 'T1' }),
      ],
      users,
    );
    assert.deepEqual(p.problems, []);
    assert.deepEqual(ofKind(p, 'create-user'), []);
    assert.deepEqual([...p.matched].sort(), ['t1', 't2', 't3']);
    const byTarget = new Map(ofKind(p, 'update-user').map((u) => [u.target, u]));
    assert.deepEqual(byTarget.get('t2')!.diffs, [{ path: 'title', before: undefined, after: 'T2' }]);
    assert.equal(byTarget.get('t3')!.diffs.find((d) => d.path === 'title')!.after, 'T3');
    assert.equal(byTarget.get('t1')!.diffs.find((d) => d.path === 'title')!.after, 'T1');
  });

  test('an externalId unknown to the target falls through to userName', () => {
    const p = plan(
      [rec(2, { externalId: 'NEW-1', userName: 'b@example.com' })],
      [tuser('t2', { userName: 'b@example.com' })],
    );
    assert.deepEqual(changeIds(p), ['update-user:t2']);
    assert.deepEqual(ofKind(p, 'update-user')[0]!.diffs, [{ path: 'externalId', before: undefined, after: 'NEW-1' }]);
  });

  test('the e-mail key is the primary e-mail of the record (not the first)', () => {
    const t = tuser('t1', { userName: 'x', emails: [{ value: 'p@example.com' }] });
    const p = plan(
      [
        rec(2, {
          emails: [
            { type: 'home', value: 'other@example.com' },
            { type: 'work', value: 'p@example.com', primary: true },
          ],
        }),
      ],
      [t],
      { matchKeys: ['email'] },
    );
    assert.deepEqual(p.matched, ['t1']);
    assert.deepEqual(ofKind(p, 'create-user'), []);
  });
});

describe('planSync: records that cannot be matched unambiguously are problems and protect their users', () => {
  const owned = new Set(['t1', 't2', 't3']);

  for (const missing of ['deactivate', 'delete'] as const) {
    test(
      `two records with the same userName (in another case): both are problems; the ` +
        `user they name is not ${missing}d`,
      () => {
        const p = plan(
          [
            rec(2, { userName: 'a@example.com', title: 'One' }),
            rec(3, { userName: 'A@Example.com', title: 'Two' }),
            rec(4, { userName: 'c@example.com' }),
          ],
          [tuser('t1', { userName: 'a@example.com' }), tuser('t3', { userName: 'c@example.com' })],
          { owned, missing },
        );
        assert.deepEqual(problemLines(p), [`${USERS_FILE}:2`, `${USERS_FILE}:3`]);
        assert.match(
          p.problems.find((x) => x.origin.line === 2)!.message,
          /^userName "A@Example.com" is also on users\.csv:3$/,
        );
        assert.match(p.problems.find((x) => x.origin.line === 3)!.message, /is also on users\.csv:2/);
        assert.deepEqual(p.changes, []);
        assert.deepEqual(p.matched, ['t3']);
      },
    );
  }

  test('three records on one externalId: each is a problem once; every user any of them names is protected', () => {
    const p = plan(
      [
        rec(2, { externalId: 'X', userName: 'p@example.com' }),
        rec(3, { externalId: 'X', userName: 'q@example.com' }),
        rec(4, { externalId: 'X', userName: 'r@example.com' }),
      ],
      [
        tuser('t1', { userName: 'p@example.com' }),
        tuser('t2', { userName: 'q@example.com', externalId: 'X' }),
        tuser('t3', { userName: 'r@example.com' }),
      ],
      { owned, missing: 'delete' },
    );
    assert.deepEqual(problemLines(p), [`${USERS_FILE}:2`, `${USERS_FILE}:3`, `${USERS_FILE}:4`]);
    assert.deepEqual(p.changes, []);
  });

  test(
    'one record matching two target users by e-mail: a problem, no create, neither ' + 'user is deactivated or deleted',
    () => {
      const users = [
        tuser('t1', { userName: 'x1', emails: [{ type: 'work', value: 'shared@example.com' }] }),
        tuser('t2', { userName: 'x2', emails: [{ type: 'home', value: 'Shared@Example.com' }] }),
      ];
      for (const missing of ['deactivate', 'delete'] as const) {
        const p = plan([rec(5, { emails: [{ type: 'work', value: 'shared@example.com' }], title: 'X' })], users, {
          owned,
          missing,
        });
        assert.equal(p.problems.length, 1);
        assert.deepEqual(p.problems[0]!.origin, { file: USERS_FILE, line: 5 });
        assert.match(p.problems[0]!.message, /email "shared@example.com" matches 2 users: x1 \(t1\), x2 \(t2\)/);
        assert.deepEqual(p.changes, [], `missing: ${missing}`);
        assert.deepEqual(p.matched, []);
      }
    },
  );

  test('an ambiguous record protects every user it might mean, by any of its keys', () => {
    // A case-sensitive target with two userNames differing in case; the record's e-mail is a third user's.
    const users = [
      tuser('t1', { userName: 'sam@example.com' }),
      tuser('t2', { userName: 'SAM@example.com' }),
      tuser('t3', { userName: 'other', emails: [{ type: 'work', value: 'sam.w@example.com' }] }),
    ];
    const p = plan(
      [rec(2, { userName: 'Sam@example.com', emails: [{ type: 'work', value: 'sam.w@example.com' }] })],
      users,
      { owned: new Set(['t1', 't2', 't3']) },
    );
    assert.match(p.problems[0]!.message, /userName "Sam@example.com" matches 2 users/);
    assert.deepEqual(p.changes, []);
  });

  test(
    'two records claiming the same user by different keys: both are problems, the ' +
      'user is protected, nothing is created',
    () => {
      const users = [
        tuser('t1', { userName: 'a@example.com', externalId: 'E1' }),
        tuser('t2', { userName: 'b@example.com' }),
      ];
      for (const missing of ['deactivate', 'delete'] as const) {
        const p = plan(
          [
            rec(2, { externalId: 'E1', userName: 'renamed@example.com' }),
            rec(3, { userName: 'a@example.com', title: 'X' }),
            rec(4, { userName: 'b@example.com' }),
          ],
          users,
          { owned, missing },
        );
        assert.deepEqual(problemLines(p), [`${USERS_FILE}:2`, `${USERS_FILE}:3`], JSON.stringify(p.problems));
        assert.match(
          p.problems.find((x) => x.origin.line === 3)!.message,
          /matches the same user a@example.com \(t1\) as users\.csv:2/,
        );
        assert.match(p.problems.find((x) => x.origin.line === 2)!.message, /users\.csv:3/);
        assert.deepEqual(p.changes, [], `missing: ${missing}`);
        assert.deepEqual(p.matched, ['t2']);
      }
      // The users the claiming records name by their other keys are protected too.
      const withThird = [
        ...users,
        tuser('t3', { userName: 'third', emails: [{ type: 'work', value: 'a.work@example.com' }] }),
      ];
      const q = plan(
        [
          rec(2, { externalId: 'E1', userName: 'x@example.com' }),
          rec(3, { userName: 'a@example.com', emails: [{ type: 'work', value: 'a.work@example.com' }] }),
        ],
        withThird,
        { owned: new Set(['t1', 't3']) },
      );
      assert.equal(q.problems.length, 2);
      assert.deepEqual(q.changes, []);
      // t1 is not owned: claimed twice, it is matched by neither record, so not managed (the threshold base).
      assert.equal(
        plan([rec(2, { externalId: 'E1', userName: 'x@example.com' }), rec(3, { userName: 'a@example.com' })], users)
          .summary.managed,
        0,
      );
    },
  );

  test(
    'a record with none of the match keys is a problem; with externalId as the ' +
      'only key, one without externalId is too',
    () => {
      const p = plan([rec(2, { displayName: 'Nobody', title: 'Ghost' }), rec(3, { userName: 'ok@example.com' })], []);
      assert.deepEqual(problemLines(p), [`${USERS_FILE}:2`]);
      assert.match(p.problems[0]!.message, /no externalId, userName, email to match it by/);
      assert.deepEqual(changeIds(p), ['create-user:ok@example.com']);
      const q = plan([rec(2, { userName: 'ok@example.com' })], [], { matchKeys: ['externalId'] });
      assert.deepEqual(q.changes, []);
      assert.match(q.problems[0]!.message, /no externalId to match it by/);
    },
  );

  test(
    'a problem record is not made a group member, and its protected user is not ' + 'removed from a managed group',
    () => {
      const p = plan(
        [
          rec(2, { userName: 'a@example.com' }, { groups: ['Sales'] }),
          rec(3, { userName: 'A@example.com' }, { groups: ['Sales'] }),
          rec(4, { userName: 'b@example.com' }, { groups: ['Sales'] }),
        ],
        [tuser('t1', { userName: 'a@example.com' }), tuser('t2', { userName: 'b@example.com' })],
        { owned: new Set(['t1', 't2']) },
        [],
        [tgroup('g1', 'Sales', ['t1'])],
      );
      assert.deepEqual(changeIds(p), ['add-member:g1:t2']);
    },
  );

  test('change ids are unique even when two new records have the same label under different keys', () => {
    // Matching by externalId only: two people with one userName are two creates (the server will refuse one).
    const p = plan(
      [
        rec(2, { externalId: 'E1', userName: 'same@example.com' }),
        rec(3, { externalId: 'E2', userName: 'same@example.com' }),
      ],
      [],
      { matchKeys: ['externalId'] },
    );
    assert.equal(ofKind(p, 'create-user').length, 2);
    const ids = p.changes.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length, ids.join(', '));
  });
});

describe('planSync: users missing from the source', () => {
  const users = () => [
    tuser('t1', { userName: 'keep@example.com', active: true }),
    tuser('t2', { userName: 'gone@example.com', active: true }),
    tuser('t3', { userName: 'already-off@example.com', active: false }),
    tuser('t4', { userName: 'not-ours@example.com' }),
    tuser('t5', { userName: 'no-active-attr@example.com' }, null),
  ];
  const owned = new Set(['t1', 't2', 't3', 't5']);
  const src = [rec(2, { userName: 'keep@example.com' })];

  test(
    'default: managed, active users not in the source are deactivated; inactive ' + 'ones are not deactivated again',
    () => {
      const p = plan(src, users(), { owned });
      assert.deepEqual(changeIds(p), ['deactivate-user:t2', 'deactivate-user:t5']);
      assert.deepEqual(ofKind(p, 'deactivate-user')[0], {
        id: 'deactivate-user:t2',
        kind: 'deactivate-user',
        target: 't2',
        userName: 'gone@example.com',
      });
      assert.deepEqual(Object.keys(p.versions).sort(), ['User/t2', 'User/t5']);
      assert.match(p.versions['User/t5']!, /^hash:/);
      assert.equal(p.summary.deactivate, 2);
      assert.equal(p.summary.managed, 4);
    },
  );

  test("missing: 'delete' deletes every managed user not in the source, inactive ones included", () => {
    const p = plan(src, users(), { owned, missing: 'delete' });
    assert.deepEqual(changeIds(p), ['delete-user:t2', 'delete-user:t3', 'delete-user:t5']);
    assert.deepEqual(ofKind(p, 'delete-user')[1], {
      id: 'delete-user:t3',
      kind: 'delete-user',
      target: 't3',
      userName: 'already-off@example.com',
    });
    assert.deepEqual(Object.keys(p.versions).sort(), ['User/t2', 'User/t3', 'User/t5']);
    assert.equal(p.summary.delete, 3);
    assert.equal(p.summary.deactivate, 0);
  });

  test("missing: 'leave' changes nobody", () => {
    const p = plan(src, users(), { owned, missing: 'leave' });
    assert.deepEqual(p.changes, []);
    assert.deepEqual(p.versions, {});
  });

  test('unmanaged users (not owned, not matched) are never deactivated or deleted', () => {
    for (const missing of ['deactivate', 'delete'] as const) {
      const p = plan(src, users(), { owned: new Set(), missing });
      assert.deepEqual(p.changes, [], missing);
      assert.equal(p.summary.managed, 1); // t1, matched this run
    }
  });

  test('manageAll adopts every target user', () => {
    const p = plan(src, users(), { manageAll: true });
    assert.deepEqual(changeIds(p), ['deactivate-user:t2', 'deactivate-user:t4', 'deactivate-user:t5']);
    assert.equal(p.summary.managed, 5);
    const q = plan(src, users(), { manageAll: true, missing: 'delete' });
    assert.deepEqual(changeIds(q), ['delete-user:t2', 'delete-user:t3', 'delete-user:t4', 'delete-user:t5']);
  });

  test('an empty source deactivates every managed user (the planner plans it; the safety checks refuse it)', () => {
    const p = plan([], users(), { owned });
    assert.deepEqual(changeIds(p), ['deactivate-user:t1', 'deactivate-user:t2', 'deactivate-user:t5']);
  });
});

describe('planSync: reactivation', () => {
  const off = () => tuser('t1', { userName: 'back@example.com', active: false, title: 'Dev' });

  test('an inactive matched user without `active` in the source is reactivated', () => {
    const p = plan([rec(2, { userName: 'back@example.com' })], [off()], { owned: new Set(['t1']) });
    const [u] = ofKind(p, 'update-user');
    assert.equal(p.changes.length, 1);
    assert.equal(u!.reactivate, true);
    assert.deepEqual(u!.diffs, [{ path: 'active', before: false, after: true }]);
    assert.deepEqual(p.versions, { 'User/t1': 'W/"t1-1"' });
  });

  test('with active=false in the source it stays inactive (other changes still apply)', () => {
    assert.deepEqual(plan([rec(2, { userName: 'back@example.com', active: false })], [off()]).changes, []);
    const p = plan([rec(2, { userName: 'back@example.com', active: false, title: 'Lead' })], [off()]);
    const [u] = ofKind(p, 'update-user');
    assert.equal(u!.reactivate, false);
    assert.deepEqual(u!.diffs, [{ path: 'title', before: 'Dev', after: 'Lead' }]);
  });

  test('an active user the source marks active=false is updated (not counted as a deactivation)', () => {
    const p = plan(
      [rec(2, { userName: 'on@example.com', active: false })],
      [tuser('t1', { userName: 'on@example.com', active: true })],
    );
    assert.deepEqual(ofKind(p, 'update-user')[0]!.diffs, [{ path: 'active', before: true, after: false }]);
    assert.equal(p.summary.deactivate, 0);
  });
});

describe('planSync: groups', () => {
  const users = () => [
    tuser('t1', { userName: 'ann@example.com', externalId: 'E1' }),
    tuser('t2', { userName: 'bob@example.com', externalId: 'E2' }),
    tuser('t3', { userName: 'cy@example.com' }),
    tuser('t4', { userName: 'svc-unmanaged@example.com' }),
    tuser('t5', { userName: 'leaver@example.com' }),
  ];
  const owned = new Set(['t1', 't2', 't3', 't5']);

  test('a missing group is created and gets existing users (by id) and new users (by create change) as members', () => {
    const p = plan(
      [
        rec(2, { userName: 'ann@example.com' }, { groups: ['Sales'] }),
        rec(3, { userName: 'new@example.com' }, { groups: ['Sales', 'sales'] }),
      ],
      users(),
      { owned: new Set(['t1']) },
      [grp(2, 'Sales', undefined, 'G-SALES')],
    );
    const [cg] = ofKind(p, 'create-group');
    assert.deepEqual(cg, {
      id: 'create-group:Sales',
      kind: 'create-group',
      displayName: 'Sales',
      resource: { schemas: [SCHEMA.GROUP], displayName: 'Sales', externalId: 'G-SALES' },
      origin: { file: GROUPS_FILE, line: 2 },
    });
    const adds = ofKind(p, 'add-member');
    assert.deepEqual(
      adds.map((a) => ({ id: a.id, group: a.group, user: a.user, userName: a.userName, groupName: a.groupName })),
      [
        {
          id: 'add-member:create-group:Sales:t1',
          group: { change: 'create-group:Sales' },
          user: { id: 't1' },
          userName: 'ann@example.com',
          groupName: 'Sales',
        },
        {
          id: 'add-member:create-group:Sales:create-user:new@example.com',
          group: { change: 'create-group:Sales' },
          user: { change: 'create-user:new@example.com' },
          userName: 'new@example.com',
          groupName: 'Sales',
        },
      ],
    );
    assert.equal(p.summary.groupsCreated, 1);
    assert.equal(p.summary.memberships, 2);
    // Creates come before the memberships that refer to them.
    const order = p.changes.map((c) => c.id);
    assert.ok(
      order.indexOf('create-user:new@example.com') <
        order.indexOf('add-member:create-group:Sales:create-user:new@example.com'),
    );
    assert.ok(order.indexOf('create-group:Sales') < order.indexOf('add-member:create-group:Sales:t1'));
    // No existing group was touched.
    assert.deepEqual(Object.keys(p.versions), []);
  });

  test(
    "memberships from users' group lists: add the missing, remove managed users " +
      'only; unmanaged members, non-users and leavers stay',
    () => {
      const p = plan(
        [
          rec(2, { userName: 'ann@example.com' }, { groups: ['Sales'] }),
          rec(3, { userName: 'bob@example.com' }, { groups: ['sales'] }),
          rec(4, { userName: 'cy@example.com' }),
        ],
        users(),
        { owned },
        [],
        [tgroup('g1', 'Sales', ['t2', 't3', 't4', 't5', 'svc-group-9'])],
      );
      assert.deepEqual(changeIds(p), ['add-member:g1:t1', 'deactivate-user:t5', 'remove-member:g1:t3']);
      assert.deepEqual(ofKind(p, 'remove-member')[0], {
        id: 'remove-member:g1:t3',
        kind: 'remove-member',
        group: { id: 'g1' },
        groupName: 'Sales',
        user: { id: 't3' },
        userName: 'cy@example.com',
      });
      assert.deepEqual(p.matchedGroups, ['g1']);
      assert.equal(p.versions['Group/g1'], 'W/"g1-1"');
      assert.equal(p.summary.memberships, 2);
    },
  );

  test('a leaver keeps its memberships: when deactivated, and in every later run (the plan converges)', () => {
    const src = [rec(2, { userName: 'ann@example.com' }, { groups: ['Sales'] })];
    const start = target(users(), [tgroup('g1', 'Sales', ['t1', 't5'])]);
    const first = planSync(source(src), start, opts({ owned }));
    assert.deepEqual(changeIds(first), ['deactivate-user:t2', 'deactivate-user:t3', 'deactivate-user:t5']);
    const { result } = simulate(start, first);
    assert.equal(result.users.find((u) => u.id === 't5')!.active, false);
    const second = planSync(source(src), result, opts({ owned }));
    assert.deepEqual(second.changes, []);
  });

  test('groups the source does not name are unmanaged: their members are never removed, even with manageAll', () => {
    const p = plan(
      [rec(2, { userName: 'ann@example.com' }), rec(3, { userName: 'cy@example.com' }, { groups: ['Sales'] })],
      users(),
      { manageAll: true },
      [],
      [tgroup('g1', 'Other', ['t1', 't3']), tgroup('g2', 'Sales', ['t3'])],
    );
    assert.deepEqual(ofKind(p, 'remove-member'), []);
    assert.deepEqual(ofKind(p, 'add-member'), []);
    assert.equal(p.versions['Group/g1'], undefined);
    assert.equal(p.versions['Group/g2'], undefined);
  });

  test('deleteGroups deletes only owned (or, with manageAll, all) groups the source does not name', () => {
    const groups = [
      tgroup('g1', 'Sales'),
      tgroup('g2', 'Old Owned'),
      tgroup('g3', 'Foreign'),
      tgroup('g4', 'Named Owned'),
    ];
    const srcGroups = [grp(2, 'Sales'), grp(3, 'named owned')];
    const src = [rec(2, { userName: 'ann@example.com' })];
    const ownedGroups = new Set(['g1', 'g2', 'g4']);
    assert.deepEqual(changeIds(plan(src, users(), { ownedGroups }, srcGroups, groups)), []);
    const p = plan(src, users(), { ownedGroups, deleteGroups: true }, srcGroups, groups);
    assert.deepEqual(changeIds(p), ['delete-group:g2']);
    assert.deepEqual(ofKind(p, 'delete-group')[0], {
      id: 'delete-group:g2',
      kind: 'delete-group',
      target: 'g2',
      displayName: 'Old Owned',
    });
    assert.deepEqual(p.versions, { 'Group/g2': 'W/"g2-1"' });
    assert.equal(p.summary.groupsDeleted, 1);
    const q = plan(src, users(), { manageAll: true, deleteGroups: true }, srcGroups, groups);
    assert.deepEqual(
      changeIds(q).filter((id) => id.startsWith('delete-group')),
      ['delete-group:g2', 'delete-group:g3'],
    );
  });

  test(
    "users' group lists: an owned group no user names any more loses the users the " +
      'source lists; with deleteGroups it is deleted',
    () => {
      const src = [
        rec(2, { userName: 'ann@example.com' }, { groups: ['Sales'] }),
        rec(3, { userName: 'bob@example.com' }, { groups: [] }),
      ];
      const groups = [
        tgroup('g1', 'Sales', ['t1']),
        tgroup('g2', 'Old', ['t1', 't2', 't4']),
        tgroup('g3', 'Foreign', ['t1', 't2']),
      ];
      const keep = plan(src, users(), { ownedGroups: new Set(['g2']) }, [], groups);
      assert.deepEqual(changeIds(keep), ['remove-member:g2:t1', 'remove-member:g2:t2']);
      const del = plan(src, users(), { ownedGroups: new Set(['g2']), deleteGroups: true }, [], groups);
      assert.deepEqual(changeIds(del), ['delete-group:g2']);
      assert.equal(del.summary.groupsDeleted, 1);
    },
  );

  test(
    "DesiredGroup.members by key (externalId, userName): they decide, users' lists " +
      'for that group are ignored; unknown keys are problems',
    () => {
      const p = plan(
        [
          rec(2, { externalId: 'E1', userName: 'ann@example.com' }),
          rec(3, { userName: 'BOB@example.com' }),
          rec(4, { userName: 'cy@example.com' }, { groups: ['Eng'] }),
          rec(5, { userName: 'dee@example.com' }),
        ],
        users(),
        { owned },
        [grp(7, 'Eng', ['E1', 'bob@example.com', 'dee@example.com', 'ghost@example.com'])],
        [tgroup('g1', 'Eng', ['t3', 't4'])],
      );
      assert.deepEqual(changeIds(p), [
        'add-member:g1:create-user:dee@example.com',
        'add-member:g1:t1',
        'add-member:g1:t2',
        'create-user:dee@example.com',
        'deactivate-user:t5',
        'remove-member:g1:t3',
      ]);
      assert.deepEqual(p.problems, [
        {
          origin: { file: GROUPS_FILE, line: 7 },
          message: 'member "ghost@example.com" of group "Eng" is not a user of the source',
        },
      ]);
    },
  );

  test('a member key resolves by the ranked keys: externalId first, whatever the order of the source', () => {
    // Record A's externalId is "shared"; record B's userName is "shared". The reference means A.
    const a = rec(2, { externalId: 'shared', userName: 'a@example.com' });
    const b = rec(3, { userName: 'shared' });
    const t = [tuser('ta', { userName: 'a@example.com', externalId: 'shared' }), tuser('tb', { userName: 'shared' })];
    for (const users of [
      [a, b],
      [b, a],
    ]) {
      const p = plan(users, t, {}, [grp(2, 'Eng', ['shared'])], [tgroup('g1', 'Eng')]);
      assert.deepEqual(changeIds(p), ['add-member:g1:ta'], `source order ${users.map((u) => u.origin.line).join(',')}`);
    }
  });

  test("a DesiredGroup without members takes them from users' lists; named by no user, it changes nobody", () => {
    const p = plan(
      [rec(2, { userName: 'ann@example.com' }, { groups: ['Sales'] }), rec(3, { userName: 'cy@example.com' })],
      users(),
      { owned },
      [grp(2, 'Sales')],
      [tgroup('g1', 'Sales', ['t3'])],
    );
    assert.deepEqual(
      changeIds(p).filter((id) => !id.startsWith('deactivate')),
      ['add-member:g1:t1', 'remove-member:g1:t3'],
    );
    const q = plan(
      [rec(2, { userName: 'ann@example.com' }), rec(3, { userName: 'cy@example.com' })],
      users(),
      { owned },
      [grp(2, 'Sales')],
      [tgroup('g1', 'Sales', ['t3'])],
    );
    assert.deepEqual(
      changeIds(q).filter((id) => !id.startsWith('deactivate')),
      [],
    );
    assert.deepEqual(q.matchedGroups, ['g1']);
  });

  test(
    'a source group matches a target group by externalId even when renamed; two ' +
      'target groups of one name are a problem',
    () => {
      const p = plan(
        [rec(2, { userName: 'ann@example.com' })],
        users(),
        {},
        [grp(4, 'Sales EMEA', ['ann@example.com'], 'G1')],
        [tgroup('g1', 'Sales', [], { externalId: 'G1' })],
      );
      assert.deepEqual(changeIds(p), ['add-member:g1:t1']);
      const q = plan(
        [rec(2, { userName: 'ann@example.com' }, { groups: ['Dup'] })],
        users(),
        { ownedGroups: new Set(['g1', 'g2']), deleteGroups: true },
        [],
        [tgroup('g1', 'Dup', ['t2']), tgroup('g2', 'dup', ['t2'])],
      );
      assert.deepEqual(q.changes, []);
      assert.match(q.problems[0]!.message, /group "Dup" matches 2 groups: g1, g2/);
    },
  );

  test("mode 'attributes': no group changes at all", () => {
    const p = plan(
      [
        rec(2, { userName: 'ann@example.com', title: 'X' }, { groups: ['Sales', 'New'] }),
        rec(3, { userName: 'n@example.com' }, { groups: ['New'] }),
      ],
      users(),
      { mode: 'attributes', owned, deleteGroups: true, ownedGroups: new Set(['g2']) },
      [],
      [tgroup('g1', 'Sales', ['t3']), tgroup('g2', 'Old')],
    );
    assert.deepEqual(changeIds(p), [
      'create-user:n@example.com',
      'deactivate-user:t2',
      'deactivate-user:t3',
      'deactivate-user:t5',
      'update-user:t1',
    ]);
    assert.deepEqual(p.matchedGroups, []);
  });

  test(
    "mode 'groups': no user creates, updates or deactivations; memberships and " +
      'group creates; no reference to a user that will not be created',
    () => {
      const p = plan(
        [
          rec(2, { userName: 'ann@example.com', title: 'Changed' }, { groups: ['Sales', 'New'] }),
          rec(3, { userName: 'newcomer@example.com' }, { groups: ['New', 'Sales'] }),
          rec(4, { userName: 'bob@example.com' }),
        ],
        users(),
        { mode: 'groups', owned, missing: 'delete' },
        [],
        [tgroup('g1', 'Sales', ['t2'])],
      );
      assert.deepEqual(changeIds(p), [
        'add-member:create-group:New:t1',
        'add-member:g1:t1',
        'create-group:New',
        'remove-member:g1:t2',
      ]);
      // Every reference resolves within the plan.
      assert.doesNotThrow(() => simulate(target(users(), [tgroup('g1', 'Sales', ['t2'])]), p));
      assert.equal(p.summary.create + p.summary.update + p.summary.deactivate + p.summary.delete, 0);
    },
  );
});

describe('planSync: versions, summary, determinism', () => {
  test(
    'versions are recorded for exactly the target objects a change touches; ETag, ' +
      'else lastModified, else a content hash',
    () => {
      const users = [
        tuser('t1', { userName: 'upd@example.com', title: 'A' }),
        {
          schemas: [SCHEMA.USER],
          id: 't2',
          userName: 'off@example.com',
          meta: { lastModified: '2025-01-02T03:04:05Z' },
        },
        tuser('t3', { userName: 'same@example.com' }),
        tuser('t4', { userName: 'del@example.com' }, null),
      ];
      const groups = [tgroup('g1', 'Sales', ['t3']), tgroup('g2', 'Untouched', ['t1']), tgroup('g3', 'Old')];
      const p = plan(
        [
          rec(2, { userName: 'upd@example.com', title: 'B' }),
          rec(3, { userName: 'same@example.com' }),
          rec(4, { userName: 'new@example.com' }, { groups: ['Sales', 'Fresh'] }),
        ],
        users,
        { owned: new Set(['t1', 't2', 't3']), ownedGroups: new Set(['g3']), deleteGroups: true },
        [grp(2, 'Untouched')],
        groups,
      );
      assert.deepEqual(changeIds(p), [
        'add-member:create-group:Fresh:create-user:new@example.com',
        'add-member:g1:create-user:new@example.com',
        'create-group:Fresh',
        'create-user:new@example.com',
        'deactivate-user:t2',
        'delete-group:g3',
        'remove-member:g1:t3',
        'update-user:t1',
      ]);
      assert.deepEqual(p.versions, {
        'User/t1': 'W/"t1-1"',
        'User/t2': 'lastModified:2025-01-02T03:04:05Z',
        'Group/g1': 'W/"g1-1"',
        'Group/g3': 'W/"g3-1"',
      });
      // Bases of the thresholds: t3's membership of Sales (the one managed group a listed user is in), and Sales,
      // Untouched and Old.
      assert.deepEqual(p.summary, {
        create: 1,
        update: 1,
        deactivate: 1,
        delete: 0,
        memberships: 3,
        groupsCreated: 1,
        groupsDeleted: 1,
        managed: 3,
        managedMemberships: 1,
        managedGroups: 3,
      });
      assert.equal(versionKey('User', 'x'), 'User/x');
    },
  );

  test('the content hash ignores key order and meta, and changes with the content', () => {
    const a = resourceVersion({ id: 'u', userName: 'a', name: { givenName: 'A', familyName: 'B' } });
    const b = resourceVersion({
      name: { familyName: 'B', givenName: 'A' },
      userName: 'a',
      id: 'u',
      meta: { created: 'x' },
    });
    const c = resourceVersion({ id: 'u', userName: 'a', name: { givenName: 'A', familyName: 'C' } });
    assert.match(a, /^hash:[0-9a-f]{13}$/);
    assert.equal(a, b);
    assert.notEqual(a, c);
  });

  const world = () => {
    const users = Array.from({ length: 12 }, (_, i) =>
      tuser(`t${i}`, {
        userName: `u${i}@example.com`,
        externalId: i % 3 === 0 ? `E${i}` : undefined,
        title: `T${i}`,
        active: i % 5 !== 4,
      }),
    );
    const groups = [
      tgroup('g1', 'Sales', ['t1', 't2', 't3']),
      tgroup('g2', 'Eng', ['t4', 't5']),
      tgroup('g3', 'Old', ['t6']),
    ];
    const src = source(
      [
        ...[1, 2, 4, 6, 8, 9].map((i, k) =>
          rec(
            k + 2,
            {
              userName: `U${i}@example.com`,
              ...(i % 3 === 0 ? { externalId: `E${i}` } : {}),
              title: `T${i}${i % 2 ? '' : '!'}`,
            },
            { groups: i < 5 ? ['Sales'] : ['Eng', 'New'] },
          ),
        ),
        rec(20, { userName: 'fresh@example.com' }, { groups: ['New'] }),
        rec(21, { userName: 'u8@example.com' }),
      ],
      [grp(2, 'Eng', ['E6', 'u9@example.com', 'fresh@example.com'])],
    );
    return { src, tgt: target(users, groups) };
  };
  const o = opts({
    owned: new Set(['t1', 't2', 't3', 't5', 't7', 't10', 't11']),
    ownedGroups: new Set(['g3']),
    deleteGroups: true,
  });

  test('the same inputs give a deep-equal plan, and the inputs are not modified', () => {
    const { src, tgt } = world();
    const before = structuredClone({ src, tgt });
    const p1 = planSync(src, tgt, o);
    assert.deepEqual({ src, tgt }, before);
    const p2 = planSync(world().src, world().tgt, o);
    assert.deepEqual(p1, p2);
    assert.ok(p1.changes.length >= 8, `a plan with substance (${p1.changes.length} changes)`);
  });

  test('a shuffled target gives the same set of changes, versions and summary', () => {
    const { src, tgt } = world();
    const base = planSync(src, tgt, o);
    const random = prng(7);
    for (let i = 0; i < 20; i++) {
      const shuffled = target(
        shuffle(tgt.users, random),
        shuffle(tgt.groups, random).map((g) => ({ ...g, members: shuffle(g.members ?? [], random) })),
      );
      const p = planSync(src, shuffled, o);
      const sortById = (pl: Plan) => [...pl.changes].sort((a, b) => a.id.localeCompare(b.id));
      assert.deepEqual(sortById(p), sortById(base));
      assert.deepEqual(p.versions, base.versions);
      assert.deepEqual(p.summary, base.summary);
      assert.deepEqual([...p.matched].sort(), [...base.matched].sort());
      assert.deepEqual(problemLines(p), problemLines(base));
    }
  });
});

describe('planSync: edge cases of creates, reactivation and problem records', () => {
  test('a create leaves out null and empty values, and extensions left empty', () => {
    const p = plan(
      [rec(2, { userName: 'n@example.com', title: null, nickName: '', emails: [], [ENT]: { department: null } })],
      [],
    );
    const create = p.changes.find((c) => c.kind === 'create-user');
    assert.ok(create && create.kind === 'create-user');
    assert.deepEqual(create.resource, {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'n@example.com',
    });
  });

  test('an inactive user the source lists as active: true is reactivated, and the plan says so', () => {
    const p = plan(
      [rec(2, { userName: 'x@example.com', active: true })],
      [tuser('t1', { userName: 'x@example.com', active: false })],
    );
    const update = p.changes.find((c) => c.kind === 'update-user');
    assert.ok(update && update.kind === 'update-user');
    assert.equal(update.reactivate, true);
    assert.deepEqual(update.diffs, [{ path: 'active', before: false, after: true }]);
  });

  test('a record that cannot be planned does not create the groups it names', () => {
    const p = plan(
      [
        rec(2, { userName: 'dup@example.com' }, { groups: ['Only Here'] }),
        rec(3, { userName: 'DUP@example.com' }, { groups: ['Only Here'] }),
      ],
      [],
    );
    assert.equal(p.problems.length, 2);
    assert.deepEqual(
      p.changes.filter((c) => c.kind === 'create-group'),
      [],
    );
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ScimClient } from '../../src/api/client.ts';
import {
  BUILTIN_SCHEMAS,
  ENTERPRISE_USER_SCHEMA,
  GROUP_SCHEMA,
  SchemaRegistry,
  USER_SCHEMA,
  type AttributeDef,
  type SchemaDef,
} from '../../src/api/schema.ts';
import { SCHEMA, type ScimGroup, type ScimUser } from '../../src/api/types.ts';
import { formatError } from '../../src/commands/format-error.ts';
import { problemLines, renderPlan } from '../../src/output/plan.ts';
import { groupedLines, problemKind } from '../../src/sources/problem-groups.ts';
import { InputError, type InputProblem } from '../../src/sources/resource-file.ts';
import { readSource } from '../../src/sources/source.ts';
import type { Plan, RecordProblem } from '../../src/sync/model.ts';
import { leaveOut, leftOutWarning, ObservedPaths, strictProblems } from '../../src/sync/schema-fit.ts';
import { completeSchemas as fitSchemas } from '../../src/api/schema.ts';
import { readTarget } from '../../src/sync/target.ts';
import { rec } from './sync-helpers.ts';
import { tempFiles } from './sync-source-helpers.ts';

const ENT = SCHEMA.ENTERPRISE_USER;
const file = tempFiles('scimctl-schema-fit-');
const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** A User schema as real servers publish it: no groups, photos or x509Certificates; addresses without primary. */
function partialUser(): SchemaDef {
  const user = copy(USER_SCHEMA);
  user.attributes = user.attributes
    .filter((a) => !['groups', 'photos', 'x509Certificates'].includes(a.name))
    .map((a): AttributeDef =>
      a.name === 'addresses' ? { ...a, subAttributes: a.subAttributes!.filter((s) => s.name !== 'primary') } : a,
    );
  return user;
}

/** What discovery gives for such a server: its schemas, and the built-in ones it does not describe. */
function partialSchemas(): SchemaDef[] {
  const enterprise = copy(ENTERPRISE_USER_SCHEMA);
  enterprise.attributes = enterprise.attributes.filter((a) => a.name !== 'manager');
  return [partialUser(), copy(GROUP_SCHEMA), enterprise];
}

const fitted = () => fitSchemas(partialSchemas());
const fittedRegistry = () => new SchemaRegistry(fitted().schemas);

describe('fitSchemas', () => {
  test('completes the target schemas with RFC 7643; what only RFC 7643 defines is undeclared', () => {
    const fit = fitted();
    assert.deepEqual([...fit.undeclared].sort(), [
      ['addresses.primary', 'addresses.primary'],
      ['groups', 'groups'],
      ['photos', 'photos'],
      [`${ENT.toLowerCase()}:manager`, `${ENT}:manager`],
      ['x509certificates', 'x509Certificates'],
    ]);
    const registry = new SchemaRegistry(fit.schemas);
    for (const path of [
      'photos',
      'photos.value',
      'addresses.primary',
      'addresses.locality',
      'groups',
      'x509Certificates',
    ])
      assert.ok(registry.lookup(SCHEMA.USER, path), path);
    assert.ok(registry.lookup(ENT, 'manager.value'));
    assert.equal(registry.lookup(SCHEMA.USER, 'titel'), undefined);
    // Nothing shared is changed.
    assert.ok(
      USER_SCHEMA.attributes.find((a) => a.name === 'addresses')!.subAttributes!.some((s) => s.name === 'primary'),
    );
    assert.ok(!partialSchemas()[0]!.attributes.some((a) => a.name === 'photos'));
  });

  test(
    "the target's own definitions win; an attribute declared without " +
      'sub-attributes takes any; built-in schemas and a whole /Schemas add nothing',
    () => {
      const user = partialUser();
      user.attributes = user.attributes.map((a) =>
        a.name === 'userName'
          ? { ...a, caseExact: true }
          : a.name === 'name'
            ? { name: 'name', type: 'complex', multiValued: false }
            : a,
      );
      const fit = fitSchemas([user, ...BUILTIN_SCHEMAS.slice(1)]);
      assert.deepEqual([...fit.undeclared.keys()].sort(), [
        'addresses.primary',
        'groups',
        'photos',
        'x509certificates',
      ]);
      const registry = new SchemaRegistry(fit.schemas);
      assert.equal(registry.lookup(SCHEMA.USER, 'userName')?.caseExact, true);
      assert.deepEqual(registry.lookup(SCHEMA.USER, 'name')?.subAttributes, undefined);
      assert.equal(fitSchemas(BUILTIN_SCHEMAS).undeclared.size, 0);
      assert.equal(fitSchemas(copy(BUILTIN_SCHEMAS)).undeclared.size, 0, 'a cached copy of the built-in schemas');
    },
  );
});

describe('source records against a partial /Schemas', () => {
  const user = (i: number, extra: Record<string, unknown> = {}) => ({
    schemas: [SCHEMA.USER],
    userName: `u${i}@example.com`,
    externalId: `E${i}`,
    ...extra,
  });

  test('"groups" is a membership statement, whatever the target\'s User schema says', async () => {
    const path = await file(
      'groups.json',
      JSON.stringify(
        [
          user(1, { groups: [{ display: 'Sales' }] }),
          user(2, { groups: [{ value: 'g1', display: 'Ops' }, { display: 'Sales' }] }),
        ],
        null,
        2,
      ),
    );
    // Even with the target's partial schemas alone (no built-ins added).
    for (const registry of [new SchemaRegistry(partialSchemas()), fittedRegistry()]) {
      const snapshot = await readSource({ path }, registry);
      assert.deepEqual(
        snapshot.users.map((u) => u.groups),
        [['Sales'], ['Ops', 'Sales']],
      );
      assert.ok(snapshot.users.every((u) => !('groups' in u.attributes)));
      assert.deepEqual(
        snapshot.groups.map((g) => g.displayName),
        ['Sales', 'Ops'],
      );
    }
    const csv = await file('groups.csv', 'userName,groups\nu1@example.com,"[{""display"":""Sales""}]"\n');
    assert.deepEqual((await readSource({ path: csv }, fittedRegistry())).users[0]!.groups, ['Sales']);
  });

  test(
    'what only RFC 7643 defines is valid input; a name neither knows is still an ' + 'error, with suggestions',
    async () => {
      const ok = await file(
        'ok.json',
        JSON.stringify([
          user(1, {
            photos: [{ value: 'https://example.com/1.png', type: 'photo' }],
            addresses: [{ type: 'work', locality: 'Utrecht', primary: true }],
          }),
        ]),
      );
      const snapshot = await readSource({ path: ok }, fittedRegistry());
      assert.deepEqual(snapshot.users[0]!.attributes.photos, [{ value: 'https://example.com/1.png', type: 'photo' }]);
      const typo = await file('typo.csv', 'userName,titel\nu1@example.com,Lead\n');
      await assert.rejects(readSource({ path: typo }, fittedRegistry()), (e: unknown) => {
        assert.ok(e instanceof InputError);
        assert.equal(e.problems.length, 1);
        assert.equal(e.problems[0]!.field, 'titel');
        assert.match(e.problems[0]!.message, /^unknown attribute; valid: title, /);
        return true;
      });
      const typos = await file(
        'typos.json',
        JSON.stringify([user(1, { titel: 'a' }), user(2, { titel: 'b' }), user(3, { photoz: [] })], null, 2),
      );
      await assert.rejects(readSource({ path: typos }, fittedRegistry()), (e: unknown) => {
        assert.ok(e instanceof InputError);
        assert.deepEqual(
          e.problems.map((p) => p.field),
          ['titel', 'titel', 'photoz'],
        );
        assert.match(e.problems[2]!.message, /valid: photos, /);
        return true;
      });
    },
  );

  test('pleio: avatar (photos) and profile fields of the enterprise schema are valid input', async () => {
    const path = await file(
      'pleio.csv',
      'external_id,name,email,avatar,profile.department\n1,Ann,ann@example.com,https://example.com/a.png,Sales\n',
    );
    const snapshot = await readSource({ path, preset: 'pleio' }, fittedRegistry());
    assert.deepEqual(snapshot.users[0]!.attributes.photos, [{ value: 'https://example.com/a.png', type: 'photo' }]);
    assert.deepEqual(snapshot.users[0]!.attributes[ENT], { department: 'Sales' });
    // With the target's schemas alone, photos was refused on every row.
    await assert.rejects(readSource({ path, preset: 'pleio' }, new SchemaRegistry(partialSchemas())), /photos/);
  });
});

describe('leaveOut', () => {
  const photos = (n: number) => ({ photos: [{ value: `https://example.com/${n}.png`, type: 'photo' }] });

  test('an undeclared attribute no target user has is left out, with one warning and its count', () => {
    const users = [
      rec(2, { userName: 'a@example.com', ...photos(2) }),
      rec(3, { userName: 'b@example.com', ...photos(3), title: 'Lead' }),
      rec(4, { userName: 'c@example.com' }),
      rec(5, { userName: 'd@example.com', photos: [] }),
      rec(6, { userName: 'e@example.com', PHOTOS: photos(6).photos }),
    ];
    const before = users[1]!.attributes;
    const left = leaveOut(users, fitted(), new Set(['username', 'title']));
    assert.deepEqual(
      left.map((l) => [l.path, l.origins.map((o) => o.line)]),
      [['photos', [2, 3, 6]]],
      'an empty value gives nothing: it is no record giving photos',
    );
    assert.deepEqual(
      users.map((u) => u.attributes),
      [
        { userName: 'a@example.com' },
        { userName: 'b@example.com', title: 'Lead' },
        { userName: 'c@example.com' },
        { userName: 'd@example.com' },
        { userName: 'e@example.com' },
      ],
    );
    assert.deepEqual(
      before,
      { userName: 'b@example.com', ...photos(3), title: 'Lead' },
      'attributes are replaced, not changed in place',
    );
    assert.equal(
      leftOutWarning(left[0]!),
      "photos: the target's /Schemas does not declare it; 3 records; left out — --strict-schema makes this an error",
    );
    assert.equal(
      leftOutWarning({ path: 'photos', origins: [users[0]!.origin] }),
      "photos: the target's /Schemas does not declare it; 1 record; left out — --strict-schema makes this an error",
    );
  });

  test("an undeclared attribute the target's users carry is kept: addresses.primary, photos", () => {
    const addresses = () => ({
      addresses: [
        { type: 'work', locality: 'Utrecht', primary: true },
        { type: 'home', primary: false },
      ],
    });
    const kept = [rec(2, { userName: 'a@example.com', ...addresses(), ...photos(2) })];
    assert.deepEqual(
      leaveOut(kept, fitted(), new Set(['addresses', 'addresses.primary', 'addresses.locality', 'photos'])),
      [],
    );
    assert.deepEqual(kept[0]!.attributes, { userName: 'a@example.com', ...addresses(), ...photos(2) });

    // Not carried: the sub-attribute goes, an item left with nothing goes, the rest stays.
    const left = [
      rec(2, { userName: 'a@example.com', ...addresses() }),
      rec(3, { userName: 'b@example.com', addresses: [{ type: 'work', locality: 'Delft' }] }),
    ];
    const out = leaveOut(left, fitted(), new Set(['photos']));
    assert.deepEqual(
      out.map((l) => [l.path, l.origins.length]),
      [['addresses.primary', 1]],
    );
    assert.deepEqual(left[0]!.attributes, {
      userName: 'a@example.com',
      addresses: [{ type: 'work', locality: 'Utrecht' }, { type: 'home' }],
    });
    assert.deepEqual(left[1]!.attributes, {
      userName: 'b@example.com',
      addresses: [{ type: 'work', locality: 'Delft' }],
    });
  });

  test('extension attributes: left out by their URN path; an extension left with nothing goes', () => {
    const users = [
      rec(2, { userName: 'a@example.com', [ENT]: { manager: { value: 'm1' }, department: 'Sales' } }),
      rec(3, { userName: 'b@example.com', [ENT.toLowerCase()]: { Manager: { value: 'm2' } } }),
    ];
    const left = leaveOut(users, fitted());
    assert.deepEqual(
      left.map((l) => [l.path, l.origins.length]),
      [[`${ENT}:manager`, 2]],
    );
    assert.deepEqual(
      users.map((u) => u.attributes),
      [{ userName: 'a@example.com', [ENT]: { department: 'Sales' } }, { userName: 'b@example.com' }],
    );
    const observed = [rec(2, { userName: 'a@example.com', [ENT]: { manager: { value: 'm1' } } })];
    assert.deepEqual(leaveOut(observed, fitted(), new Set([`${ENT.toLowerCase()}:manager`])), []);
  });

  test('--strict-schema: found, not left out, and an input error telling the attribute once with its count', () => {
    const users = [2, 3, 4, 5].map((line) => rec(line, { userName: `u${line}@example.com`, ...photos(line) }));
    const left = leaveOut(users, fitted(), new Set(), false);
    assert.ok(
      users.every((u) => Array.isArray(u.attributes.photos)),
      'nothing is taken out',
    );
    const error = new InputError(strictProblems(left));
    assert.equal(error.problems.length, 4);
    assert.equal(
      error.message,
      `column "photos": the target's /Schemas does not declare it, and no user of ` +
        `the target has it (--strict-schema): 4 records, e.g. users.csv:2, ` +
        `users.csv:3, users.csv:4`,
    );
    assert.equal(
      formatError(error, undefined),
      `error: 4 problems in the input; nothing was written:\n  ${error.message}`,
    );
  });

  test('nothing to do when every undeclared path is observed, or the target declares everything', () => {
    const users = [rec(2, { userName: 'a@example.com', ...photos(2) })];
    assert.deepEqual(leaveOut(users, fitSchemas(BUILTIN_SCHEMAS)), []);
    assert.deepEqual(leaveOut(users, fitted(), new Set(fitted().undeclared.keys())), []);
    assert.ok(users[0]!.attributes.photos);
  });
});

describe('observed paths', () => {
  async function* over<T>(items: T[]): AsyncGenerator<T, void, undefined> {
    for (const item of items) yield item;
  }

  test('readTarget notes the attribute paths its users carry, lower-cased', async () => {
    const users: ScimUser[] = [
      {
        schemas: [SCHEMA.USER],
        id: 'u1',
        userName: 'a@example.com',
        addresses: [{ type: 'work', locality: 'Utrecht', primary: true }],
        name: { givenName: 'A' },
      },
      {
        schemas: [SCHEMA.USER],
        id: 'u2',
        userName: 'b@example.com',
        x509Certificates: [{ value: 'MII' }],
        [ENT]: { manager: { value: 'u1' }, department: 'Ops', costCenter: null },
        nickName: null,
      } as unknown as ScimUser,
    ];
    const client = {
      users: { list: () => over(users) },
      groups: { list: () => over<ScimGroup>([]), get: async () => assert.fail() },
    } as unknown as ScimClient;
    const target = await readTarget(client);
    const observed = [...target.observed!].sort();
    for (const path of [
      'addresses',
      'addresses.primary',
      'addresses.locality',
      'name.givenname',
      'x509certificates',
      'x509certificates.value',
      `${ENT.toLowerCase()}:manager.value`,
      `${ENT.toLowerCase()}:department`,
      'username',
      'schemas',
      'id',
    ]) {
      assert.ok(observed.includes(path), `${path} in ${observed.join(', ')}`);
    }
    assert.ok(
      !observed.includes('nickname') && !observed.includes(`${ENT.toLowerCase()}:costcenter`),
      'null is no value',
    );
    assert.ok(!observed.includes('photos'));
  });

  test('ObservedPaths keeps each name once, however many users carry it', () => {
    const o = new ObservedPaths();
    for (let i = 0; i < 1000; i++)
      o.observe({ userName: `u${i}`, Emails: [{ value: `u${i}@example.com`, Type: 'work' }] });
    assert.deepEqual([...o.paths()].sort(), ['emails', 'emails.type', 'emails.value', 'username']);
  });
});

describe('problems, each kind told once', () => {
  const at = (line: number, field: string | undefined, message: string): InputProblem => ({
    file: 'users.csv',
    line,
    ...(field ? { field } : {}),
    message,
  });

  test('the same problem on many records: one line, its count and the first three file:line', () => {
    const problems = Array.from({ length: 120 }, (_, i) => at(i + 2, 'titel', 'unknown attribute; valid: title, …'));
    const error = new InputError([...problems, at(200, 'userName', 'userName is required')]);
    assert.deepEqual(error.message.split('\n'), [
      'column "titel": unknown attribute; valid: title, …: 120 records, e.g. users.csv:2, users.csv:3, users.csv:4',
      'users.csv:200: column "userName": userName is required',
    ]);
    assert.equal(error.problems.length, 121, 'every problem is kept');
    assert.equal(
      new InputError(problems.slice(0, 2)).message,
      'column "titel": unknown attribute; valid: title, …: 2 records: users.csv:2, users.csv:3',
    );
  });

  test(
    'problems that differ in what names a record: listed when few, else a heading, ' + 'the count and three of them',
    () => {
      const dupes = (n: number) =>
        Array.from({ length: n }, (_, i) =>
          at(i + 2, 'userName', `userName "u${i}@example.com" already on line ${i + 1}`),
        );
      assert.deepEqual(new InputError(dupes(2)).message.split('\n'), [
        'users.csv:2: column "userName": userName "u0@example.com" already on line 1',
        'users.csv:3: column "userName": userName "u1@example.com" already on line 2',
      ]);
      assert.deepEqual(new InputError(dupes(50)).message.split('\n'), [
        'column "userName": userName "…" already on line …: 50 records, e.g.',
        '  users.csv:2: column "userName": userName "u0@example.com" already on line 1',
        '  users.csv:3: column "userName": userName "u1@example.com" already on line 2',
        '  users.csv:4: column "userName": userName "u2@example.com" already on line 3',
      ]);
    },
  );

  test(
    'kinds: quoted values, file:line, numbers, e-mail addresses and parentheses ' +
      'left out of the message; the field kept',
    () => {
      assert.equal(
        problemKind('matches the same user ann@example.com (u1) as users.csv:7'),
        'matches the same user … (…) as …',
      );
      assert.equal(problemKind('"Gone" is not a boolean (true or false)'), '"…" is not a boolean (…)');
      assert.notEqual(problemKind('m1'), problemKind('m2'));
      assert.deepEqual(
        groupedLines(
          [
            { file: 'a', line: 1, message: 'm1' },
            { file: 'a', line: 2, message: 'm2' },
          ],
          1,
        ),
        ['a:1: m1', '… and 1 more'],
      );
      // Different fields are different kinds, the same message or not.
      assert.deepEqual(
        new InputError([at(2, 'titel', 'unknown attribute'), at(3, 'nmae', 'unknown attribute')]).message.split('\n'),
        ['users.csv:2: column "titel": unknown attribute', 'users.csv:3: column "nmae": unknown attribute'],
      );
    },
  );

  test('a plan tells its problems the same way, once', () => {
    const problems: RecordProblem[] = Array.from({ length: 5 }, (_, i) => ({
      origin: { file: 'users.csv', line: i + 2 },
      message: 'no externalId, userName, email to match it by',
    }));
    assert.deepEqual(problemLines(problems), [
      '! no externalId, userName, email to match it by: 5 records, e.g. users.csv:2, users.csv:3, users.csv:4',
    ]);
    const plan: Plan = {
      changes: [],
      problems,
      summary: {
        create: 0,
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
    const lines = renderPlan(plan);
    assert.equal(lines.filter((l) => l.includes('no externalId')).length, 1);
    assert.ok(lines.includes('5 source record(s) could not be planned (their users are left alone):'));
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SCHEMA } from '../../src/api/types.ts';
import { formatProblem } from '../../src/sources/resource-file.ts';
import { problemsOf, registry, tempFiles } from './sync-source-helpers.ts';
import { readSource } from '../../src/sources/source.ts';

const ENT = SCHEMA.ENTERPRISE_USER;
const file = tempFiles('scimctl-sync-mapping-');

const HR_CSV = [
  'EmployeeID,First,Last,Email,Job Title,Status,Dept,InitialPassword,Groups,Tags,Level',
  'E1,Alice,Smith, Alice@Example.COM ,,Active,Sales,pw1,Admins; Sales ;admins,a|b,3',
  '',
  'E2,Bob,,bob@example.com,Engineer,terminated,,,,,',
  'E3,,,carol@example.com,"Chief',
  'Officer",On Leave,Ops,,Sales,,',
].join('\n');

const FULL_MAPPING = `# an HR export
format: csv
delimiter: ","
attributes:
  userName: { column: Email, transform: [trim, lowercase] }
  name.givenName: { column: First }
  name.familyName: { column: Last }
  displayName: { template: "{First} {Last}", default: "{unnamed}" }
  emails[work].value: { column: Email, transform: [trim, lowercase] }
  emails[work].primary: { constant: true }
  title: { column: Job Title, default: "Staff" }
  active: { column: Status, map: { Active: true, Terminated: false, On Leave: true }, default: true }
  urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department: { column: Dept }
  userType: { constant: "Employee" }
  password: { column: InitialPassword, onlyOnCreate: true }
  externalId: { column: EmployeeID }
  roles: { column: Tags, transform: [{ split: "|" }, uppercase] }
  nickName: { column: Tags, transform: [split, join], separator: "|" }
  preferredLanguage: { column: Level, map: { "3": nl-NL } }
groups:
  column: Groups
  split: ";"
`;

describe('readSource with a mapping file', () => {
  test(
    'every option: column, template, constant, transforms, map, default, ' + 'onlyOnCreate, split/join, groups column',
    async () => {
      const users = await file('hr.csv', HR_CSV);
      const mapping = await file('map.yaml', FULL_MAPPING);
      const snap = await readSource({ path: users, mappingFile: mapping }, registry);
      assert.deepEqual(
        snap.users.map((u) => u.origin),
        [
          { file: users, line: 2 },
          { file: users, line: 4 },
          { file: users, line: 5 },
        ],
      );
      const [alice, bob, carol] = snap.users;
      assert.deepEqual(alice!.attributes, {
        userName: 'alice@example.com',
        name: { givenName: 'Alice', familyName: 'Smith' },
        displayName: 'Alice Smith',
        emails: [{ type: 'work', value: 'alice@example.com', primary: true }],
        title: 'Staff',
        active: true,
        [ENT]: { department: 'Sales' },
        userType: 'Employee',
        externalId: 'E1',
        roles: [{ value: 'A' }, { value: 'B' }],
        nickName: 'a|b',
        preferredLanguage: 'nl-NL',
      });
      assert.deepEqual(alice!.onlyOnCreate, { password: 'pw1' });
      assert.deepEqual(alice!.groups, ['Admins', 'Sales']);

      // map ignores case ("terminated"), a template with a blank placeholder drops it, no password: no onlyOnCreate
      assert.deepEqual(bob!.attributes, {
        userName: 'bob@example.com',
        name: { givenName: 'Bob' },
        displayName: 'Bob',
        emails: [{ type: 'work', value: 'bob@example.com', primary: true }],
        title: 'Engineer',
        active: false,
        userType: 'Employee',
        externalId: 'E2',
      });
      assert.equal(bob!.onlyOnCreate, undefined);
      assert.deepEqual(bob!.groups, []);

      // a template whose placeholders are all blank takes the default; a quoted line break stays
      assert.equal(carol!.attributes.displayName, '{unnamed}');
      assert.equal(carol!.attributes.title, 'Chief\nOfficer');
      assert.equal(carol!.attributes.active, true);
      assert.deepEqual(carol!.groups, ['Sales']);

      assert.deepEqual(snap.groups, [
        { displayName: 'Admins', origin: { file: users, line: 2 } },
        { displayName: 'Sales', origin: { file: users, line: 2 } },
      ]);
      assert.deepEqual(snap.files, [users, mapping]);
    },
  );

  test('a JSON mapping file, the column shorthand, a TSV source, typed values', async () => {
    const users = await file(
      'people.tsv',
      'Login\tAge\tAdmin\tManager\tName JSON\nann\t42\tyes\tm-1\t{"givenName": "Ann"}\n',
    );
    const mapping = await file(
      'map.json',
      JSON.stringify(
        {
          attributes: {
            userName: 'Login',
            nickName: { column: 'Age' },
            active: { column: 'Admin', map: { yes: 'true', no: 'false' } },
            [`${ENT}:manager`]: { column: 'Manager' },
            name: { column: 'Name JSON' },
          },
        },
        null,
        2,
      ),
    );
    const [user] = (await readSource({ path: users, mappingFile: mapping }, registry)).users;
    assert.deepEqual(user!.attributes, {
      userName: 'ann',
      nickName: '42',
      active: true,
      [ENT]: { manager: { value: 'm-1' } },
      name: { givenName: 'Ann' },
    });
  });

  test(
    'a delimiter other than the comma; braces in templates; constants typed; ' +
      'filter paths; names as the schema spells them',
    async () => {
      const users = await file('semi.csv', 'login;full name\nann;Ann Lee\n');
      const mapping = await file(
        'm.yml',
        [
          'delimiter: ";"',
          'attributes:',
          '  USERNAME: login',
          '  displayName: { column: full name }',
          '  nickName: { template: "{{{login}}}" }',
          `  ${ENT}:costCenter: { constant: 4711 }`,
          '  emails[type eq "work"].value: { template: "{login}@corp.example" }',
          '  Emails[work].Display: { constant: Work }',
        ].join('\n'),
      );
      const [user] = (await readSource({ path: users, mappingFile: mapping }, registry)).users;
      assert.deepEqual(user!.attributes, {
        userName: 'ann',
        displayName: 'Ann Lee',
        nickName: '{ann}',
        [ENT]: { costCenter: '4711' },
        emails: [{ type: 'work', value: 'ann@corp.example', display: 'Work' }],
      });
    },
  );

  test('a blank e-mail leaves out the whole typed item (no address-less e-mail with primary: true)', async () => {
    const users = await file('u.csv', 'Login,Mail\nann,\n');
    const mapping = await file(
      'm.yaml',
      'attributes:\n  userName: Login\n  emails[work].value: Mail\n  emails[work].primary: { constant: true }\n',
    );
    const [user] = (await readSource({ path: users, mappingFile: mapping }, registry)).users;
    assert.deepEqual(user!.attributes, { userName: 'ann' });
  });

  test("groups from a groups file next to the mapping: members by userName become the users' externalId", async () => {
    const sub = dirname(await file('anchor', ''));
    await mkdir(sub, { recursive: true });
    const users = await file('u.csv', 'ID,Login\nE1,ann\nE2,bob\n,carol\n');
    await writeFile(join(sub, 'teams.csv'), 'team,code,people\nAdmins,T1,ann|E2\nNobody,,\nOutsiders,,ghost|CAROL\n');
    const mapping = join(sub, 'map.yaml');
    await writeFile(
      mapping,
      'attributes:\n  userName: Login\n  externalId: ID\ngroups:\n  file: ' +
        'teams.csv\n  nameColumn: team\n  externalIdColumn: code\n  membersColumn: ' +
        'people\n  split: "|"\n',
    );
    const snap = await readSource({ path: users, mappingFile: mapping }, registry);
    const groupsFile = join(sub, 'teams.csv');
    assert.deepEqual(snap.groups, [
      { displayName: 'Admins', externalId: 'T1', members: ['E1', 'E2'], origin: { file: groupsFile, line: 2 } },
      { displayName: 'Nobody', members: [], origin: { file: groupsFile, line: 3 } },
      // a key no source user has is kept as given; carol has no externalId, so her userName is her key
      { displayName: 'Outsiders', members: ['ghost', 'carol'], origin: { file: groupsFile, line: 4 } },
    ]);
    assert.ok(snap.users.every((u) => u.groups === undefined));
    assert.deepEqual(snap.files, [users, groupsFile, mapping]);
  });

  test('a groups file given on the side: name, id and members columns when it has them', async () => {
    const users = await file('u.csv', 'Login\nann\n');
    const groups = await file('g.csv', 'name,members\nAdmins,ann\n');
    const mapping = await file('m.yaml', 'attributes:\n  userName: Login\n');
    const snap = await readSource({ path: users, mappingFile: mapping, groupsFile: groups }, registry);
    assert.deepEqual(snap.groups, [{ displayName: 'Admins', members: ['ann'], origin: { file: groups, line: 2 } }]);
  });
});

describe('mapping problems', () => {
  test('unknown target attributes, on the line of their key, with the valid ones', async () => {
    const users = await file('u.csv', 'Login,T\nann,x\n');
    const mapping = await file(
      'm.yaml',
      ['attributes:', '  userName: Login', '  titel: T', `  ${ENT}:dept: T`, '  urn:example:unknown:User:x: T'].join(
        '\n',
      ),
    );
    const problems = await problemsOf({ path: users, mappingFile: mapping });
    assert.deepEqual(
      problems.map((p) => [p.file, p.line, p.field]),
      [
        [mapping, 3, 'titel'],
        [mapping, 4, `${ENT}:dept`],
        [mapping, 5, 'urn:example:unknown:User:x'],
      ],
    );
    assert.equal(formatProblem(problems[0]!).split('; valid: ')[0], `${mapping}:3: key "titel": unknown attribute`);
    assert.match(problems[0]!.message, /valid: title, /);
    assert.match(problems[1]!.message, new RegExp(`valid: .*${ENT}:department`));
    assert.match(problems[2]!.message, /unknown schema URN/);
  });

  test('enterprise shorthands as targets: department, manager (its value), costCenter', async () => {
    const users = await file('u.csv', 'Login,Dept,Boss,CC\nann,Sales,E7,C1\n');
    const mapping = await file(
      'm.yaml',
      ['attributes:', '  userName: Login', '  department: Dept', '  manager: Boss', '  costCenter: CC'].join('\n'),
    );
    const snap = await readSource({ path: users, mappingFile: mapping }, registry);
    assert.deepEqual(snap.users[0]!.attributes[ENT], {
      department: 'Sales',
      manager: { value: 'E7' },
      costCenter: 'C1',
    });
    const typo = await file('t.yaml', ['attributes:', '  userName: Login', '  departmnt: Dept'].join('\n'));
    const problems = await problemsOf({ path: users, mappingFile: typo });
    assert.match(problems[0]!.message, new RegExp(`unknown attribute; valid: ${ENT}:department`));
  });

  test('a missing column is reported once, where the mapping first uses it', async () => {
    const users = await file('u.csv', 'Login,First\nann,Ann\nbob,Bob\n');
    const mapping = await file(
      'm.yaml',
      [
        'attributes:',
        '  userName: Login',
        '  name.familyName: Last',
        '  displayName: { template: "{First} {Last}" }',
        '  externalId: { column: Employee ID }',
        'groups: { column: Teams }',
      ].join('\n'),
    );
    const problems = await problemsOf({ path: users, mappingFile: mapping });
    assert.deepEqual(
      problems.map((p) => [p.line, p.field]),
      [
        [3, 'name.familyName'],
        [5, 'externalId'],
        [6, 'groups.column'],
      ],
    );
    assert.equal(
      problems[0]!.message,
      `column "Last" is not in ${users} (header on line 1); its columns: "Login", "First"`,
    );
  });

  test('bad YAML is a problem on its line; so is an empty or non-object file', async () => {
    const users = await file('u.csv', 'Login\nann\n');
    const broken = await file('broken.yaml', 'attributes:\n  userName: Login\n  title: [unclosed\n');
    const problems = await problemsOf({ path: users, mappingFile: broken });
    assert.ok(problems.every((p) => p.file === broken && /^invalid YAML: /.test(p.message)));
    assert.ok(
      problems.some((p) => p.line >= 3),
      JSON.stringify(problems),
    );
    const dup = await file('dup.yaml', 'attributes:\n  userName: Login\n  userName: Other\n');
    const [d] = await problemsOf({ path: users, mappingFile: dup });
    assert.equal(d!.line, 3);
    assert.match(d!.message, /unique/);
    const badJson = await file('m.json', '{\n  "attributes": {\n    "userName": "Login",\n  }\n}\n');
    const [j] = await problemsOf({ path: users, mappingFile: badJson });
    assert.equal(j!.line, 4);
    assert.match(j!.message, /^invalid JSON at column /);
    const empty = await file('empty.yaml', '# nothing\n');
    assert.match(
      (await problemsOf({ path: users, mappingFile: empty }))[0]!.message,
      /the file is empty: a mapping file is an object with "attributes"/,
    );
    const list = await file('list.yaml', '- userName\n');
    assert.match((await problemsOf({ path: users, mappingFile: list }))[0]!.message, /not a list/);
  });

  test('rule problems: options, transforms, templates, read-only and write-only targets, no userName', async () => {
    const users = await file('u.csv', 'Login,P\nann,x\n');
    const mapping = await file(
      'm.yaml',
      [
        'format: xlsx', //                                                     2.. lines below
        'attributes:',
        '  nickName: { column: Login, template: "{Login}" }',
        '  title: { colum: Login }',
        '  displayName: { column: Login, transform: [trim, reverse] }',
        '  profileUrl: { template: "no placeholder" }',
        '  locale: { template: "{Login" }',
        '  password: { column: P }',
        '  groups: { column: Login }',
        '  id: { column: Login }',
        '  timezone: { column: Login, separator: "|" }',
        '  userType: { column: Login, onlyOnCreate: "yes" }',
        'groupz: {}',
      ].join('\n'),
    );
    const problems = await problemsOf({ path: users, mappingFile: mapping });
    const byLine = problems.map((p) => `${p.line} ${p.field ?? ''}: ${p.message}`);
    const expect = (line: number, re: RegExp) =>
      assert.ok(
        byLine.some((s) => s.startsWith(`${line} `) && re.test(s)),
        `line ${line} ${re}\n${byLine.join('\n')}`,
      );
    expect(1, /format must be csv or tsv/);
    expect(2, /userName is not mapped/);
    expect(3, /give only one of column, template or constant/);
    expect(4, /unknown attribute rule key "colum": did you mean|unknown attribute rule key "colum"; valid: column/);
    expect(4, /give one of column, template or constant/);
    expect(5, /unknown transform "reverse"; valid: trim, lowercase, uppercase, split, join/);
    expect(6, /has no \{Column\} placeholder/);
    expect(7, /unmatched "\{"/);
    expect(8, /never returns password.*add onlyOnCreate: true/);
    expect(9, /groups is read-only: put users in groups with the mapping's "groups" section/);
    expect(10, /id is set by the server/);
    expect(11, /separator is for the split and join transforms/);
    expect(12, /onlyOnCreate must be true or false/);
    expect(13, /unknown mapping key "groupz"/);
    assert.ok(problems.every((p) => p.file === mapping));
  });

  test('values the schema cannot take are problems on the row, naming the column', async () => {
    const users = await file('u.csv', 'Login,Status,Tags\nann,Active,a\nbob,Gone,a;b\n');
    const mapping = await file(
      'm.yaml',
      'attributes:\n  userName: Login\n  active: { column: Status, map: { Active: ' +
        'true } }\n  title: { column: Tags, transform: [{ split: ";" }] }\n',
    );
    const problems = await problemsOf({ path: users, mappingFile: mapping });
    assert.deepEqual(
      problems.map((p) => [p.file, p.line, p.field]),
      [
        [users, 3, 'Status'],
        [users, 3, 'Tags'],
      ],
    );
    assert.match(problems[0]!.message, /"Gone" is not a boolean \(true or false\); a map can translate it/);
    assert.match(problems[1]!.message, /gives 2 values, but title takes one: add "join" after "split"/);
  });

  test('record checks name the source column: duplicate userName after lowercase', async () => {
    const users = await file('u.csv', 'Mail\nAnn@example.com\nann@EXAMPLE.com\n');
    const mapping = await file('m.yaml', 'attributes:\n  userName: { column: Mail, transform: [lowercase] }\n');
    const [p] = await problemsOf({ path: users, mappingFile: mapping });
    assert.deepEqual([p!.file, p!.line, p!.field], [users, 3, 'Mail']);
    assert.match(p!.message, /userName "ann@example.com" already on line 2/);
  });

  test('a mapping and a preset at once, a JSON users file, and groups configured twice are problems', async () => {
    const users = await file('u.csv', 'Login\nann\n');
    const mapping = await file('m.yaml', 'attributes:\n  userName: Login\n');
    assert.match(
      (await problemsOf({ path: users, mappingFile: mapping, preset: 'pleio' }))[0]!.message,
      /a mapping file takes the place of a preset/,
    );
    const json = await file('u.json', '[{"Login": "ann"}]');
    assert.match(
      (await problemsOf({ path: json, mappingFile: mapping }))[0]!.message,
      /maps the columns of a CSV or TSV file/,
    );
    const twice = await file(
      'twice.yaml',
      'attributes:\n  userName: Login\ngroups:\n  column: G\n  file: g.csv\n  membersColumn: m\n',
    );
    assert.match((await problemsOf({ path: users, mappingFile: twice }))[0]!.message, /membership is given twice/);
  });

  test('a groups file column the mapping names but the file lacks is reported at the mapping', async () => {
    const users = await file('u.csv', 'Login\nann\n');
    const groups = await file('g.csv', 'name,members\nA,ann\n');
    const mapping = await file(
      'm.yaml',
      `attributes:\n  userName: Login\ngroups:\n  file: ${groups}\n  membersColumn: people\n`,
    );
    const [p] = await problemsOf({ path: users, mappingFile: mapping });
    assert.deepEqual([p!.file, p!.line, p!.field], [mapping, 3, 'groups.membersColumn']);
    assert.match(p!.message, /the members column "people" is not in/);
  });
});

describe('a mapping column given as a list', () => {
  test('takes the first of the columns that is not blank', async () => {
    const users = await file('fallback.csv', 'Email,Login,Name\nann@example.com,ann,Ann\n,ben,\n');
    const mapping = await file(
      'fallback.yaml',
      'attributes:\n  userName: { column: [Email, Login] }\n  displayName: { column: ' +
        '[Name, Login], transform: [uppercase] }\n',
    );
    const snap = await readSource({ path: users, mappingFile: mapping }, registry);
    assert.deepEqual(
      snap.users.map((u) => u.attributes),
      [
        { userName: 'ann@example.com', displayName: 'ANN' },
        { userName: 'ben', displayName: 'BEN' },
      ],
    );
  });

  test('every column of the list must be in the file, and the list must not be empty', async () => {
    const users = await file('fallback2.csv', 'Email\nann@example.com\n');
    const missing = await problemsOf({
      path: users,
      mappingFile: await file('fallback2.yaml', 'attributes:\n  userName: { column: [Email, Login] }\n'),
    });
    assert.equal(missing.length, 1);
    assert.match(missing[0]!.message, /column "Login" is not in/);
    const empty = await problemsOf({
      path: users,
      mappingFile: await file('fallback3.yaml', 'attributes:\n  userName: { column: [] }\n'),
    });
    assert.ok(
      empty.some((p) => /empty list/.test(p.message)),
      empty.map((p) => p.message).join('\n'),
    );
  });
});

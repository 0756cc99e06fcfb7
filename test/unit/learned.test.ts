import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  describeUnkept,
  emptyLearned,
  filterFeatures,
  filterOnClient,
  filterTrusted,
  fitToKept,
  suspectFeatures,
  unkeptIn,
  type FilterVerdict,
  type UnkeptHow,
} from '../../src/api/learned.ts';
import { SCHEMA } from '../../src/api/types.ts';

const ENT = SCHEMA.ENTERPRISE_USER;
const ent = ENT.toLowerCase();
const lowerKeys = <V>(o: Record<string, V>): Record<string, V> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k.toLowerCase(), v]));

describe('filterFeatures', () => {
  const cases: Array<[string, string[]]> = [
    ['userName eq "ann"', ['eq']],
    ['title pr', ['pr']],
    ['userName sw "a" and title co "Dev"', ['and', 'co', 'sw']],
    ['title ew "x" or title ne "y"', ['ew', 'ne', 'or']],
    ['meta.lastModified gt "2024-01-01T00:00:00Z"', ['gt', 'meta']],
    ['Meta.Created le "2024-01-01T00:00:00Z"', ['le', 'meta']],
    [`${ENT}:department eq "Sales"`, ['eq', 'extension']],
    [`${ENT}:manager.value eq "u1"`, ['eq', 'extension']],
    ['active eq true', ['boolean', 'eq']],
    ['active eq false', ['boolean', 'eq']],
    // A string that reads "true" is a string, not a boolean.
    ['active eq "true"', ['eq']],
    ['emails[type eq "work" and value ew "@example.com"]', ['and', 'eq', 'ew', 'valuePath']],
    ['emails[value ge "a"]', ['ge', 'valuePath']],
    ['(userName eq "a" or userName eq "b") and active eq true', ['and', 'boolean', 'eq', 'or', 'parentheses']],
    ['not (title co "x")', ['co', 'not', 'parentheses']],
    ['x lt 5', ['lt']],
    // Operators and logic words are not case-sensitive.
    ['userName EQ "a" AND title PR', ['and', 'eq', 'pr']],
    // A "(" or ")" inside a quoted value is not a parenthesis.
    ['userName eq "a(b)"', ['eq']],
    ['displayName co "(contractor)" and title sw ")"', ['and', 'co', 'sw']],
    // An escaped quote does not end the string: the "(" after it is still inside it.
    ['userName eq "a\\"(b"', ['eq']],
    ['userName eq "a\\"(b" or (title pr)', ['eq', 'or', 'parentheses', 'pr']],
  ];
  for (const [filter, features] of cases) {
    test(filter, () => assert.deepEqual(filterFeatures(filter), features));
  }

  test('the features come back sorted and without repeats', () => {
    const f = filterFeatures('userName eq "a" or userName eq "b" or userName eq "c"');
    assert.deepEqual(f, ['eq', 'or']);
  });

  for (const bad of [
    '',
    '   ',
    'userName eq',
    'userName is "a"',
    'userName eq "a" and (',
    'userName eq "unterminated',
    '(userName eq "a"',
    'emails[type eq "work"',
    'not title pr',
  ]) {
    test(`unparsable: ${JSON.stringify(bad)} → ['unparsed']`, () =>
      assert.deepEqual(filterFeatures(bad), ['unparsed']));
  }
});

describe('suspectFeatures', () => {
  const rows: Array<[string[], Record<string, FilterVerdict> | undefined, string[], string]> = [
    [['eq'], undefined, ['eq'], 'eq alone, nothing known: eq'],
    [['and', 'eq'], undefined, ['and'], 'eq with something else unknown: the other part'],
    [['and', 'eq', 'sw'], {}, ['and', 'sw'], 'every unknown part except eq'],
    [['eq', 'sw'], { eq: 'works' }, ['sw'], 'what is not known to work'],
    [['eq', 'sw'], { sw: 'rejected' }, ['sw'], 'a part known to fail counts as not working'],
    [['eq', 'or'], { eq: 'rejected' }, ['or'], 'eq failing before still gives way to the other unknown part'],
    [['eq'], { eq: 'wrong' }, ['eq'], 'eq alone, known to fail: eq'],
    [['and', 'eq'], { and: 'works', eq: 'works' }, ['and'], 'all worked before: the rarest (not eq)'],
    [
      ['co', 'eq', 'or'],
      { co: 'works', eq: 'works', or: 'works' },
      ['co', 'or'],
      'all worked before: everything but eq',
    ],
    [['eq'], { eq: 'works' }, ['eq'], 'eq alone that worked before: eq'],
    [['pr'], { eq: 'works' }, ['pr'], 'other verdicts do not matter'],
  ];
  for (const [features, known, expected, why] of rows) {
    test(why, () => assert.deepEqual(suspectFeatures(features, known), expected));
  }
});

describe('filterOnClient', () => {
  const rows: Array<[string[], Record<string, FilterVerdict> | undefined, boolean, boolean, string]> = [
    [['eq'], undefined, true, false, 'advertised, nothing known: the server filters'],
    [['eq'], { eq: 'works' }, true, false, 'advertised and known to work'],
    [['eq', 'sw'], { sw: 'rejected' }, true, true, 'a part was rejected before'],
    [['eq', 'sw'], { sw: 'wrong' }, true, true, 'a part was answered wrongly before'],
    [['eq'], { sw: 'rejected' }, true, false, 'only the failed parts of other filters: still the server'],
    [['eq'], undefined, false, true, 'not advertised, nothing known: here'],
    [['eq', 'and'], { eq: 'works' }, false, true, 'not advertised, one part not known to work: here'],
    [
      ['eq', 'and'],
      { eq: 'works', and: 'works' },
      false,
      false,
      'not advertised, but every part seen working: the server',
    ],
    [['eq'], { eq: 'wrong' }, false, true, 'not advertised and known wrong'],
  ];
  for (const [features, known, advertised, expected, why] of rows) {
    test(why, () => assert.equal(filterOnClient(features, known, advertised), expected));
  }
});

describe('filterTrusted', () => {
  const rows: Array<[string[], Record<string, FilterVerdict> | undefined, boolean, string]> = [
    [['eq'], { eq: 'works' }, true, 'every part works'],
    [['and', 'eq'], { eq: 'works', and: 'works' }, true, 'every part works (two)'],
    [['and', 'eq'], { eq: 'works' }, false, 'one part unknown'],
    [['eq'], { eq: 'wrong' }, false, 'known wrong'],
    [['eq'], { eq: 'rejected' }, false, 'known rejected'],
    [['eq'], undefined, false, 'nothing known'],
    [[], { eq: 'works' }, false, 'no features at all is not trust'],
  ];
  for (const [features, known, expected, why] of rows) {
    test(why, () => assert.equal(filterTrusted(features, known), expected));
  }
});

describe('unkeptIn', () => {
  // Paths come back in the case they were sent in (any case is fine for fitToKept): compared lower-cased here.
  const judged = (sent: Record<string, unknown>, returned: unknown) => lowerKeys(unkeptIn(sent, returned));
  const back = (extra: Record<string, unknown>) => ({ schemas: [SCHEMA.USER], id: 'u1', userName: 'ann', ...extra });

  test('a top-level attribute missing from the answer is dropped; one kept is not reported', () => {
    assert.deepEqual(judged({ userName: 'ann', title: 'Dev', nickName: 'A' }, back({ nickName: 'A' })), {
      title: 'dropped',
    });
  });

  test('attribute names are judged without regard to case', () => {
    assert.deepEqual(judged({ userName: 'ann', NickName: 'A', ProfileUrl: 'https://x' }, back({ nickname: 'A' })), {
      profileurl: 'dropped',
    });
  });

  test('an extension attribute not kept is reported under its URN', () => {
    const out = judged(
      { userName: 'ann', [ENT]: { department: 'Sales', costCenter: 'CC1' } },
      back({ [ENT]: { costCenter: 'CC1' } }),
    );
    assert.deepEqual(out, { [`${ent}:department`]: 'dropped' });
  });

  test('an extension missing altogether drops each of its attributes sent', () => {
    const out = judged({ userName: 'ann', [ENT]: { department: 'Sales', costCenter: 'CC1' } }, back({}));
    assert.deepEqual(out, { [`${ent}:department`]: 'dropped', [`${ent}:costcenter`]: 'dropped' });
  });

  test('several e-mails sent, one kept: single', () => {
    const emails = [{ value: 'a@x.com', primary: true }, { value: 'b@x.com' }];
    assert.deepEqual(judged({ userName: 'ann', emails }, back({ emails: [{ value: 'a@x.com', primary: true }] })), {
      emails: 'single',
    });
  });

  test('every e-mail sent with a type and none back with one: emails.type dropped', () => {
    const emails = [
      { value: 'a@x.com', type: 'work' },
      { value: 'b@x.com', type: 'home' },
    ];
    assert.deepEqual(
      judged({ userName: 'ann', emails }, back({ emails: [{ value: 'a@x.com' }, { value: 'b@x.com' }] })),
      { 'emails.type': 'dropped' },
    );
  });

  test('one e-mail kept, without its type: both single and emails.type', () => {
    const emails = [
      { value: 'a@x.com', type: 'work' },
      { value: 'b@x.com', type: 'home' },
    ];
    assert.deepEqual(judged({ userName: 'ann', emails }, back({ emails: [{ value: 'a@x.com' }] })), {
      emails: 'single',
      'emails.type': 'dropped',
    });
  });

  test('a sub-attribute only some items had is not judged; one kept on any item is not dropped', () => {
    const emails = [{ value: 'a@x.com', type: 'work' }, { value: 'b@x.com' }];
    assert.deepEqual(
      judged({ userName: 'ann', emails }, back({ emails: [{ value: 'a@x.com' }, { value: 'b@x.com' }] })),
      {},
    );
    const typed = [
      { value: 'a@x.com', type: 'work' },
      { value: 'b@x.com', type: 'home' },
    ];
    assert.deepEqual(
      judged(
        { userName: 'ann', emails: typed },
        back({ emails: [{ value: 'a@x.com', type: 'work' }, { value: 'b@x.com' }] }),
      ),
      {},
    );
  });

  test('all e-mails kept as sent: nothing', () => {
    const emails = [
      { value: 'a@x.com', type: 'work' },
      { value: 'b@x.com', type: 'home' },
    ];
    assert.deepEqual(judged({ userName: 'ann', emails }, back({ emails: structuredClone(emails) })), {});
  });

  test('a string the server puts its own value in is computed; a difference of case only is not', () => {
    assert.deepEqual(judged({ userName: 'ann', displayName: 'Ann Example' }, back({ displayName: 'Example, Ann' })), {
      displayname: 'computed',
    });
    assert.deepEqual(judged({ userName: 'ann', displayName: 'Ann Example' }, back({ displayName: 'ANN EXAMPLE' })), {});
  });

  test('sub-attributes of a complex attribute are judged one by one', () => {
    const out = judged(
      { userName: 'ann', name: { givenName: 'Ann', familyName: 'Example', formatted: 'Ann Example' } },
      back({ name: { givenName: 'Ann', formatted: 'Example, Ann' } }),
    );
    assert.deepEqual(out, { 'name.familyname': 'dropped', 'name.formatted': 'computed' });
  });

  test('paths keep the case the attributes were sent in', () => {
    const out = unkeptIn(
      { userName: 'ann', displayName: 'Ann', [ENT]: { costCenter: 'CC1' } },
      back({ displayName: 'Other' }),
    );
    assert.deepEqual(
      Object.keys(out)
        .map((k) => k.toLowerCase())
        .sort(),
      ['displayname', `${ent}:costcenter`],
    );
  });

  test('a bare {id} answer (or none, or not an object) says nothing', () => {
    const sent = { userName: 'ann', title: 'Dev', displayName: 'Ann' };
    assert.deepEqual(judged(sent, { id: 'u1' }), {});
    assert.deepEqual(judged(sent, undefined), {});
    assert.deepEqual(judged(sent, null), {});
    assert.deepEqual(judged(sent, [back({})]), {});
    assert.deepEqual(judged(sent, 'created'), {});
  });

  test('userName, password, id, meta, schemas and groups are never judged', () => {
    const sent = {
      userName: 'Ann',
      password: 'secret',
      id: 'x',
      meta: { version: 'v' },
      schemas: [SCHEMA.USER],
      groups: [{ value: 'g1' }],
    };
    assert.deepEqual(judged(sent, { id: 'u1', userName: 'ann@other' }), {});
    assert.deepEqual(judged({ UserName: 'Ann', Password: 'x' }, { id: 'u1', username: 'someone-else' }), {});
  });

  test('attributes sent empty are not judged; attributes not sent are not judged', () => {
    assert.deepEqual(judged({ userName: 'ann', title: '', nickName: null, emails: [] }, back({})), {});
    assert.deepEqual(judged({ userName: 'ann' }, back({ title: 'Server default' })), {});
  });

  test('a kept value returned with an empty value counts as dropped', () => {
    assert.deepEqual(
      judged({ userName: 'ann', title: 'Dev', emails: [{ value: 'a@x.com' }] }, back({ title: '', emails: [] })),
      { title: 'dropped', emails: 'dropped' },
    );
  });
});

describe('fitToKept', () => {
  const attrs = () => ({
    userName: 'ann',
    displayName: 'Ann Example',
    title: 'Dev',
    nickName: 'A',
    emails: [
      { value: 'b@x.com', type: 'home' },
      { value: 'a@x.com', type: 'work', primary: true },
    ],
    name: { givenName: 'Ann', familyName: 'Example' },
    [ENT]: { department: 'Sales', costCenter: 'CC1' },
  });

  test('nothing unkept: the same object back', () => {
    const a = attrs();
    assert.equal(fitToKept(a, {}), a);
    assert.equal(fitToKept(a, emptyLearned().unkept), a);
  });

  test('dropped and computed attributes are left out; the rest is untouched', () => {
    const a = attrs();
    const fitted = fitToKept(a, { title: 'dropped', displayname: 'computed' });
    const { title: _t, displayName: _d, ...rest } = attrs();
    assert.deepEqual(fitted, rest);
    assert.notEqual(fitted, a);
    assert.deepEqual(a, attrs(), 'the input is not changed');
  });

  test('learned paths in any case apply (as unkeptIn reports them, in the case sent)', () => {
    const fitted = fitToKept(attrs(), {
      displayName: 'computed',
      'Emails.Type': 'dropped',
      [`${ENT}:department`]: 'dropped',
      Name: 'dropped',
    });
    assert.ok(!('displayName' in fitted) && !('name' in fitted), JSON.stringify(fitted));
    assert.deepEqual(fitted.emails, [{ value: 'b@x.com' }, { value: 'a@x.com', primary: true }]);
    assert.deepEqual(fitted[ENT], { costCenter: 'CC1' });
  });

  test('attributes named in another case are matched', () => {
    const fitted = fitToKept({ userName: 'ann', NickName: 'A', Title: 'Dev' }, { nickname: 'dropped' });
    assert.deepEqual(fitted, { userName: 'ann', Title: 'Dev' });
  });

  test('a "single" attribute keeps its primary value', () => {
    const fitted = fitToKept(attrs(), { emails: 'single' });
    assert.deepEqual(fitted.emails, [{ value: 'a@x.com', type: 'work', primary: true }]);
  });

  test('a "single" attribute without a primary keeps its first value; one value stays as it is', () => {
    assert.deepEqual(fitToKept({ emails: [{ value: 'b@x.com' }, { value: 'a@x.com' }] }, { emails: 'single' }).emails, [
      { value: 'b@x.com' },
    ]);
    assert.deepEqual(fitToKept({ emails: [{ value: 'b@x.com' }] }, { emails: 'single' }).emails, [
      { value: 'b@x.com' },
    ]);
  });

  test('dropped sub-attributes are stripped from every item (and from a complex value)', () => {
    const fitted = fitToKept(attrs(), { 'emails.type': 'dropped', 'name.familyname': 'dropped' });
    assert.deepEqual(fitted.emails, [{ value: 'b@x.com' }, { value: 'a@x.com', primary: true }]);
    assert.deepEqual(fitted.name, { givenName: 'Ann' });
  });

  test('single and a dropped sub-attribute together: the primary, without it', () => {
    const fitted = fitToKept(attrs(), { emails: 'single', 'emails.type': 'dropped' });
    assert.deepEqual(fitted.emails, [{ value: 'a@x.com', primary: true }]);
  });

  test('an extension attribute is left out; an extension with nothing left goes', () => {
    assert.deepEqual(fitToKept(attrs(), { [`${ent}:department`]: 'dropped' })[ENT], { costCenter: 'CC1' });
    const none = fitToKept(attrs(), { [`${ent}:department`]: 'dropped', [`${ent}:costcenter`]: 'dropped' });
    assert.ok(!(ENT in none), JSON.stringify(none));
  });

  test('userName (and the others never judged) is kept even when listed', () => {
    const fitted = fitToKept(
      { userName: 'ann', password: 'x', title: 'Dev' },
      { username: 'dropped', password: 'dropped', title: 'dropped' },
    );
    assert.deepEqual(fitted, { userName: 'ann', password: 'x' });
  });

  test('paths the attributes do not have change nothing', () => {
    const fitted = fitToKept(attrs(), {
      phonenumbers: 'dropped',
      'addresses.type': 'dropped',
      'urn:example:other:x': 'dropped',
      photos: 'single',
    });
    assert.deepEqual(fitted, attrs());
  });

  test('what unkeptIn finds, fitToKept leaves out: a second comparison sees no difference', () => {
    const sent = attrs();
    const answer = {
      id: 'u1',
      userName: 'ann',
      displayName: 'Example, Ann',
      nickName: 'A',
      emails: [{ value: 'a@x.com', primary: true }],
      name: { givenName: 'Ann' },
      [ENT]: { costCenter: 'CC1' },
    };
    const unkept = unkeptIn(sent, answer);
    assert.deepEqual(lowerKeys(unkept), {
      displayname: 'computed',
      title: 'dropped',
      emails: 'single',
      'emails.type': 'dropped',
      'name.familyname': 'dropped',
      [`${ent}:department`]: 'dropped',
    });
    const { id: _id, displayName: _dn, ...kept } = answer;
    assert.deepEqual(fitToKept(sent, unkept), kept);
  });
});

describe('describeUnkept', () => {
  test('says how each attribute is not kept', () => {
    const how: Array<[UnkeptHow, RegExp]> = [
      ['dropped', /^title \(not kept\)$/],
      ['single', /^title \(only one value kept\)$/],
      ['computed', /^title \(the server sets its own value\)$/],
    ];
    for (const [h, re] of how) assert.match(describeUnkept('title', h), re);
  });
});

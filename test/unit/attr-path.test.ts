import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatPath,
  getPath,
  matchesValueFilter,
  parsePath,
  parseValueFilter,
  removePath,
  setPath,
} from '../../src/api/attr-path.ts';
import { ClientUsageError } from '../../src/api/errors.ts';
import { SchemaRegistry } from '../../src/api/schema.ts';
import { SCHEMA } from '../../src/api/types.ts';

const registry = new SchemaRegistry();
const p = (text: string) => parsePath(text, registry);
const ENT = SCHEMA.ENTERPRISE_USER;

describe('parsePath', () => {
  test('a simple attribute', () => {
    assert.deepEqual(p('title'), { urn: undefined, attr: 'title', filter: undefined, sub: undefined, text: 'title' });
  });

  test('a sub-attribute', () => {
    const path = p('name.givenName');
    assert.equal(path.attr, 'name');
    assert.equal(path.sub, 'givenName');
    assert.equal(path.filter, undefined);
    assert.equal(path.urn, undefined);
  });

  test('a value filter and a sub-attribute', () => {
    const path = p('emails[type eq "work"].value');
    assert.equal(path.attr, 'emails');
    assert.equal(path.sub, 'value');
    assert.deepEqual(path.filter, { kind: 'compare', attr: 'type', op: 'eq', value: 'work' });
    assert.equal(formatPath(path), 'emails[type eq "work"].value');
  });

  test('the CSV shorthand emails[work].value means type eq "work"', () => {
    const path = p('emails[work].value');
    assert.deepEqual(path.filter, { kind: 'compare', attr: 'type', op: 'eq', value: 'work' });
    assert.equal(path.sub, 'value');
    assert.equal(formatPath(path), 'emails[type eq "work"].value');
  });

  test('the shorthand without a sub-attribute', () => {
    const path = p('phoneNumbers[mobile]');
    assert.equal(path.attr, 'phoneNumbers');
    assert.deepEqual(path.filter, { kind: 'compare', attr: 'type', op: 'eq', value: 'mobile' });
    assert.equal(path.sub, undefined);
  });

  test('an enterprise extension path splits off the URN', () => {
    const path = p(`${ENT}:manager.value`);
    assert.equal(path.urn, ENT);
    assert.equal(path.attr, 'manager');
    assert.equal(path.sub, 'value');
    assert.equal(formatPath(path), `${ENT}:manager.value`);
    const dept = p(`${ENT}:department`);
    assert.equal(dept.urn, ENT);
    assert.equal(dept.attr, 'department');
    assert.equal(dept.sub, undefined);
  });

  test('the URN is matched case-insensitively and normalised to the schema id', () => {
    const path = p(`${ENT.toLowerCase()}:department`);
    assert.equal(path.urn, ENT);
    assert.equal(path.attr, 'department');
  });

  test('surrounding whitespace is ignored', () => {
    const path = p('  title  ');
    assert.equal(path.attr, 'title');
    assert.equal(path.text, 'title');
  });

  test('filters with and, or, parentheses and pr', () => {
    const path = p('emails[(type eq "work" or type eq "home") and value pr].value');
    assert.deepEqual(path.filter, {
      kind: 'and',
      left: {
        kind: 'or',
        left: { kind: 'compare', attr: 'type', op: 'eq', value: 'work' },
        right: { kind: 'compare', attr: 'type', op: 'eq', value: 'home' },
      },
      right: { kind: 'present', attr: 'value' },
    });
    assert.equal(formatPath(path), 'emails[(type eq "work" or type eq "home") and value pr].value');
  });

  test('and binds tighter than or', () => {
    const f = parseValueFilter('type eq "a" or type eq "b" and primary eq true');
    assert.equal(f.kind, 'or');
    assert.ok(f.kind === 'or' && f.right.kind === 'and');
  });

  test('operators and keywords are case-insensitive; literals typed', () => {
    const f = parseValueFilter('primary EQ true AND value Pr');
    assert.deepEqual(f, {
      kind: 'and',
      left: { kind: 'compare', attr: 'primary', op: 'eq', value: true },
      right: { kind: 'present', attr: 'value' },
    });
    assert.deepEqual(parseValueFilter('level ge 3'), { kind: 'compare', attr: 'level', op: 'ge', value: 3 });
    assert.deepEqual(parseValueFilter('display eq null'), { kind: 'compare', attr: 'display', op: 'eq', value: null });
    assert.deepEqual(parseValueFilter('value eq "a \\"quoted\\" b"'), {
      kind: 'compare',
      attr: 'value',
      op: 'eq',
      value: 'a "quoted" b',
    });
  });

  for (const bad of [
    '',
    '1title',
    'name.given.name',
    'emails[type eq work].value',
    'emails[type xx "work"]',
    'emails[type eq]',
    'emails[(type eq "work"]',
    'emails[type eq "work" extra]',
    'emails[]',
    'emails[type eq "a"] .value',
    'emails[type eq "a"]value',
    'title!',
  ]) {
    test(`rejects ${JSON.stringify(bad)} with ClientUsageError`, () => {
      assert.throws(() => p(bad), ClientUsageError);
    });
  }
});

describe('getPath', () => {
  const user = () => ({
    userName: 'ann',
    name: { givenName: 'Ann', familyName: 'Example' },
    emails: [
      { type: 'work', value: 'ann@work.example' },
      { type: 'home', value: 'ann@home.example' },
    ],
    [ENT]: { department: 'Sales', manager: { value: 'm1' } },
  });

  test('reads simple, sub, filtered and extension values', () => {
    const u = user();
    assert.equal(getPath(u, p('userName')), 'ann');
    assert.equal(getPath(u, p('name.givenName')), 'Ann');
    assert.deepEqual(getPath(u, p('emails[type eq "home"].value')), ['ann@home.example']);
    assert.deepEqual(getPath(u, p('emails[work].value')), ['ann@work.example']);
    assert.deepEqual(getPath(u, p('emails.value')), ['ann@work.example', 'ann@home.example']);
    assert.equal(getPath(u, p(`${ENT}:manager.value`)), 'm1');
    assert.equal(getPath(u, p(`${ENT}:department`)), 'Sales');
    assert.equal(getPath(u, p('title')), undefined);
    assert.equal(getPath({ userName: 'x' }, p(`${ENT}:department`)), undefined);
  });

  test('attribute names are case-insensitive', () => {
    const u = user();
    assert.equal(getPath(u, p('USERNAME')), 'ann');
    assert.equal(getPath(u, p('Name.GivenName')), 'Ann');
    assert.deepEqual(getPath(u, p('EMAILS[TYPE eq "Work"].VALUE')), ['ann@work.example']);
  });
});

describe('setPath', () => {
  test('sets a simple attribute and a sub-attribute, creating the complex value', () => {
    const u: Record<string, unknown> = { userName: 'ann' };
    setPath(u, p('title'), 'Engineer');
    setPath(u, p('name.givenName'), 'Ann');
    assert.deepEqual(u, { userName: 'ann', title: 'Engineer', name: { givenName: 'Ann' } });
  });

  test('a sub-attribute keeps the other sub-attributes', () => {
    const u: Record<string, unknown> = { name: { givenName: 'Ann', familyName: 'Example' } };
    setPath(u, p('name.givenName'), 'Anna');
    assert.deepEqual(u, { name: { givenName: 'Anna', familyName: 'Example' } });
  });

  test('creates the missing typed item from the filter', () => {
    const u: Record<string, unknown> = { emails: [{ type: 'work', value: 'w@example.com' }] };
    setPath(u, p('emails[type eq "home"].value'), 'h@example.com');
    assert.deepEqual(u.emails, [
      { type: 'work', value: 'w@example.com' },
      { type: 'home', value: 'h@example.com' },
    ]);
  });

  test('creates the attribute itself when absent (shorthand)', () => {
    const u: Record<string, unknown> = { userName: 'ann' };
    setPath(u, p('phoneNumbers[mobile].value'), '+1 555');
    assert.deepEqual(u.phoneNumbers, [{ type: 'mobile', value: '+1 555' }]);
  });

  test('an and of eq comparisons pins the new item down', () => {
    const u: Record<string, unknown> = {};
    setPath(u, p('emails[type eq "work" and primary eq true].value'), 'w@example.com');
    assert.deepEqual(u.emails, [{ type: 'work', primary: true, value: 'w@example.com' }]);
  });

  test('updates every matching item and only those', () => {
    const u: Record<string, unknown> = {
      emails: [
        { type: 'work', value: 'a' },
        { type: 'home', value: 'b' },
        { type: 'work', value: 'c' },
      ],
    };
    setPath(u, p('emails[type eq "work"].display'), 'Work');
    assert.deepEqual(u.emails, [
      { type: 'work', value: 'a', display: 'Work' },
      { type: 'home', value: 'b' },
      { type: 'work', value: 'c', display: 'Work' },
    ]);
  });

  test('a filtered path without sub-attribute merges an object into the item', () => {
    const u: Record<string, unknown> = { emails: [{ type: 'work', value: 'a', primary: false }] };
    setPath(u, p('emails[type eq "work"]'), { value: 'b', primary: true });
    assert.deepEqual(u.emails, [{ type: 'work', value: 'b', primary: true }]);
    assert.throws(() => setPath(u, p('emails[type eq "work"]'), 'plain'), ClientUsageError);
  });

  for (const filter of ['value co "example"', 'type eq "work" or type eq "home"', 'value pr', 'type ne "work"']) {
    test(
      `fails when [${filter}] matches nothing and cannot say what a new item would ` + `be; the resource is untouched`,
      () => {
        const u: Record<string, unknown> = { userName: 'ann' };
        assert.throws(() => setPath(u, p(`emails[${filter}].value`), 'x'), ClientUsageError);
        assert.deepEqual(u, { userName: 'ann' });
      },
    );
  }

  test('an existing list is left as it was when nothing matches an unpinned filter', () => {
    const u: Record<string, unknown> = { emails: [{ type: 'other', value: 'z@z' }] };
    assert.throws(() => setPath(u, p('emails[value co "example"].value'), 'x'), /does not say what a new one would be/);
    assert.throws(() => setPath(u, p('emails[type eq "work" or type eq "home"].value'), 'x'), ClientUsageError);
    assert.deepEqual(u, { emails: [{ type: 'other', value: 'z@z' }] });
  });

  test('a non-eq filter that matches existing items updates them', () => {
    const u: Record<string, unknown> = {
      emails: [
        { type: 'work', value: 'ann@example.com' },
        { type: 'home', value: 'ann@home.test' },
      ],
    };
    setPath(u, p('emails[value co "example"].primary'), true);
    assert.deepEqual(u.emails, [
      { type: 'work', value: 'ann@example.com', primary: true },
      { type: 'home', value: 'ann@home.test' },
    ]);
  });

  test('attribute names are case-insensitive: the existing keys are reused', () => {
    const u: Record<string, unknown> = {
      userName: 'ann',
      name: { givenName: 'Ann' },
      emails: [{ type: 'work', value: 'a' }],
    };
    setPath(u, p('USERNAME'), 'bob');
    setPath(u, p('NAME.GIVENNAME'), 'Bob');
    setPath(u, p('Emails[Type eq "WORK"].Value'), 'b');
    assert.deepEqual(u, { userName: 'bob', name: { givenName: 'Bob' }, emails: [{ type: 'work', value: 'b' }] });
  });

  test('extension attributes: the extension object is created when missing, and reused', () => {
    const u: Record<string, unknown> = { userName: 'ann' };
    setPath(u, p(`${ENT}:department`), 'Sales');
    setPath(u, p(`${ENT}:manager.value`), 'm1');
    assert.deepEqual(u[ENT], { department: 'Sales', manager: { value: 'm1' } });
    assert.deepEqual(Object.keys(u), ['userName', ENT]);
  });

  test('an extension object keyed in other case is reused, not duplicated', () => {
    const key = ENT.toLowerCase();
    const u: Record<string, unknown> = { [key]: { department: 'Sales' } };
    setPath(u, p(`${ENT}:costCenter`), 'CC1');
    assert.deepEqual(u, { [key]: { department: 'Sales', costCenter: 'CC1' } });
  });

  test('members[value eq "ID"] matches the id case-exactly', () => {
    const g: Record<string, unknown> = {
      members: [
        { value: 'abc', display: 'lower' },
        { value: 'ABC', display: 'upper' },
      ],
    };
    setPath(g, p('members[value eq "ABC"].display'), 'hit');
    assert.deepEqual(g.members, [
      { value: 'abc', display: 'lower' },
      { value: 'ABC', display: 'hit' },
    ]);
  });
});

describe('matchesValueFilter', () => {
  test('"value" compares case-exactly whatever case the attribute name is written in', () => {
    for (const name of ['value', 'Value', 'VALUE']) {
      const f = parseValueFilter(`${name} eq "ABC"`);
      assert.equal(matchesValueFilter({ value: 'ABC' }, f), true, name);
      assert.equal(matchesValueFilter({ value: 'abc' }, f), false, name);
    }
  });

  test('other strings compare case-insensitively unless the schema says caseExact', () => {
    const f = parseValueFilter('type eq "WORK"');
    assert.equal(matchesValueFilter({ type: 'work' }, f), true);
    const def = {
      name: 'emails',
      type: 'complex' as const,
      multiValued: true,
      subAttributes: [{ name: 'type', type: 'string' as const, multiValued: false, caseExact: true }],
    };
    assert.equal(matchesValueFilter({ type: 'work' }, f, def), false);
    assert.equal(matchesValueFilter({ type: 'WORK' }, f, def), true);
  });

  test('co, sw, ew, ne, gt and pr', () => {
    const item = { value: 'ann@example.com', type: 'Work', n: 5, display: '' };
    const m = (f: string) => matchesValueFilter(item, parseValueFilter(f));
    assert.equal(m('type co "OR"'), true);
    assert.equal(m('type sw "wo"'), true);
    assert.equal(m('type ew "rk"'), true);
    assert.equal(m('type ne "work"'), false);
    assert.equal(m('n gt 4'), true);
    assert.equal(m('n gt 5'), false);
    assert.equal(m('n le 5'), true);
    assert.equal(m('value pr'), true);
    assert.equal(m('display pr'), false);
    assert.equal(m('missing pr'), false);
    assert.equal(m('type eq "home" or n lt 6'), true);
    assert.equal(m('type eq "home" and n lt 6'), false);
  });
});

describe('removePath', () => {
  test('removes a simple attribute and reports whether anything was there', () => {
    const u: Record<string, unknown> = { userName: 'ann', title: 'x' };
    assert.equal(removePath(u, p('Title')), true);
    assert.deepEqual(u, { userName: 'ann' });
    assert.equal(removePath(u, p('title')), false);
    assert.equal(removePath(u, p('emails[type eq "work"]')), false);
    assert.equal(removePath(u, p(`${ENT}:department`)), false);
  });

  test('removes a sub-attribute; the complex value goes when it is empty', () => {
    const u: Record<string, unknown> = { name: { givenName: 'Ann', familyName: 'E' } };
    assert.equal(removePath(u, p('name.givenName')), true);
    assert.deepEqual(u, { name: { familyName: 'E' } });
    assert.equal(removePath(u, p('name.givenName')), false);
    assert.equal(removePath(u, p('NAME.FAMILYNAME')), true);
    assert.deepEqual(u, {});
  });

  test('removes matching items; removing the last item deletes the attribute', () => {
    const u: Record<string, unknown> = {
      emails: [
        { type: 'work', value: 'a' },
        { type: 'home', value: 'b' },
      ],
    };
    assert.equal(removePath(u, p('emails[type eq "work"]')), true);
    assert.deepEqual(u, { emails: [{ type: 'home', value: 'b' }] });
    assert.equal(removePath(u, p('emails[type eq "work"]')), false);
    assert.equal(removePath(u, p('emails[home]')), true);
    assert.deepEqual(u, {});
  });

  test('a filtered sub-attribute removes the sub-attribute of matching items only', () => {
    const u: Record<string, unknown> = {
      emails: [
        { type: 'work', value: 'a', display: 'A' },
        { type: 'home', value: 'b', display: 'B' },
      ],
    };
    assert.equal(removePath(u, p('emails[type eq "home"].display')), true);
    assert.deepEqual(u.emails, [
      { type: 'work', value: 'a', display: 'A' },
      { type: 'home', value: 'b' },
    ]);
    assert.equal(removePath(u, p('emails[type eq "home"].display')), false);
  });

  test('removing the last extension attribute deletes the extension object', () => {
    const u: Record<string, unknown> = { userName: 'ann', [ENT]: { department: 'Sales', costCenter: 'CC' } };
    assert.equal(removePath(u, p(`${ENT}:department`)), true);
    assert.deepEqual(u[ENT], { costCenter: 'CC' });
    assert.equal(removePath(u, p(`${ENT}:costCenter`)), true);
    assert.deepEqual(u, { userName: 'ann' });
  });

  test('removing the last sub-attribute of the last extension attribute deletes the extension object', () => {
    const u: Record<string, unknown> = { userName: 'ann', [ENT]: { manager: { value: 'm1' } } };
    assert.equal(removePath(u, p(`${ENT}:manager.value`)), true);
    assert.deepEqual(u, { userName: 'ann' });
  });

  test('an extension object keyed in other case is found and deleted', () => {
    const u: Record<string, unknown> = { userName: 'ann', [ENT.toLowerCase()]: { department: 'Sales' } };
    assert.equal(removePath(u, p(`${ENT}:DEPARTMENT`)), true);
    assert.deepEqual(u, { userName: 'ann' });
  });

  test('members[value eq "ID"] removes only the member with exactly that id', () => {
    const g: Record<string, unknown> = { members: [{ value: 'abc' }, { value: 'ABC' }, { value: 'abcd' }] };
    assert.equal(removePath(g, p('members[value eq "ABC"]')), true);
    assert.deepEqual(g.members, [{ value: 'abc' }, { value: 'abcd' }]);
    assert.equal(removePath(g, p('members[value eq "ABC"]')), false);
    assert.equal(removePath(g, p('members[Value eq "ABCD"]')), false);
    assert.deepEqual(g.members, [{ value: 'abc' }, { value: 'abcd' }]);
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientUsageError } from '../../src/api/errors.ts';
import {
  and,
  assertAttributePath,
  co,
  eq,
  ew,
  ge,
  gt,
  le,
  literal,
  lt,
  ne,
  not,
  or,
  patchPath,
  pr,
  sw,
  valuePath,
} from '../../src/api/filter.ts';
import { parseFilter, type FilterNode } from '../../src/api/filter-eval.ts';
import { SCHEMA } from '../../src/api/types.ts';

/** The value a server's parser reads back from the single comparison `f`. */
function parsedValue(filter: string): unknown {
  const node = parseFilter(filter);
  assert.equal(node.kind, 'cmp');
  return (node as Extract<FilterNode, { kind: 'cmp' }>).value;
}

describe('filter literals', () => {
  test('quotes and backslashes are escaped so a server reads back the exact value', () => {
    const nasty = 'ann "the admin" \\ o\'brien';
    const f = eq('userName', nasty).toString();
    assert.equal(f, 'userName eq "ann \\"the admin\\" \\\\ o\'brien"');
    assert.equal(parsedValue(f), nasty);
  });

  test('a value cannot break out of its literal and add a clause', () => {
    const injection = 'x" or userName pr or userName eq "y';
    const f = eq('userName', injection).toString();
    const node = parseFilter(f);
    assert.equal(node.kind, 'cmp', 'still one comparison, not an "or"');
    assert.equal(parsedValue(f), injection);
  });

  test('unicode, control characters and newlines survive', () => {
    for (const value of [
      'Zoë Ångström',
      '日本語ユーザー',
      'emoji 🙂 ok',
      'tab\there',
      'line\nbreak',
      'nul\u0000byte',
      'bracket ] and ) paren',
    ]) {
      const f = co('displayName', value).toString();
      assert.ok(!f.includes('\n'), 'a filter stays on one line');
      assert.equal(parsedValue(f), value, `round trip of ${JSON.stringify(value)}`);
    }
  });

  test('numbers, booleans and null are bare literals', () => {
    assert.equal(eq('active', true).toString(), 'active eq true');
    assert.equal(eq('active', false).toString(), 'active eq false');
    assert.equal(eq('title', null).toString(), 'title eq null');
    assert.equal(gt('urn:example:ext:1.0:level', 3).toString(), 'urn:example:ext:1.0:level gt 3');
    assert.equal(le('score', -1.5).toString(), 'score le -1.5');
    assert.equal(parsedValue(eq('active', true).toString()), true);
    assert.equal(parsedValue(eq('title', null).toString()), null);
    assert.equal(parsedValue(ge('score', 42).toString()), 42);
    // A numeric string stays a string.
    assert.equal(eq('employeeNumber', '007').toString(), 'employeeNumber eq "007"');
    assert.equal(parsedValue(eq('employeeNumber', '007').toString()), '007');
  });

  test('non-finite numbers are rejected when the filter is rendered', () => {
    assert.throws(() => literal(Number.NaN), ClientUsageError);
    assert.throws(() => eq('score', Number.POSITIVE_INFINITY).toString(), ClientUsageError);
    assert.throws(() => and(pr('a'), gt('score', Number.NEGATIVE_INFINITY)).toString(), /not a finite number/);
  });

  test('every comparison operator renders with its name', () => {
    const cases: Array<[string, string]> = [
      [eq('a', 'x').toString(), 'a eq "x"'],
      [ne('a', 'x').toString(), 'a ne "x"'],
      [co('a', 'x').toString(), 'a co "x"'],
      [sw('a', 'x').toString(), 'a sw "x"'],
      [ew('a', 'x').toString(), 'a ew "x"'],
      [gt('a', 1).toString(), 'a gt 1'],
      [ge('a', 1).toString(), 'a ge 1'],
      [lt('a', 1).toString(), 'a lt 1'],
      [le('a', 1).toString(), 'a le 1'],
      [pr('a').toString(), 'a pr'],
    ];
    for (const [actual, expected] of cases) assert.equal(actual, expected);
  });
});

describe('filter logic', () => {
  test('and/or nesting is parenthesised so precedence is explicit', () => {
    const f = and(or(eq('a', 1), eq('b', 2)), eq('c', 3)).toString();
    assert.equal(f, '(a eq 1 or b eq 2) and c eq 3');
    const node = parseFilter(f);
    assert.equal(node.kind, 'and');
    assert.equal((node as { left: FilterNode }).left.kind, 'or');

    const g = or(and(eq('a', 1), eq('b', 2)), and(eq('c', 3), pr('d'))).toString();
    assert.equal(g, '(a eq 1 and b eq 2) or (c eq 3 and d pr)');
    const gNode = parseFilter(g);
    assert.equal(gNode.kind, 'or');
  });

  test('a flat and/or of several operands needs no parentheses', () => {
    assert.equal(and(eq('a', 1), eq('b', 2), pr('c')).toString(), 'a eq 1 and b eq 2 and c pr');
    assert.equal(or(eq('a', 1)).toString(), 'a eq 1');
  });

  test('an empty and/or is a usage error', () => {
    assert.throws(() => and(), ClientUsageError);
    assert.throws(() => or(), ClientUsageError);
  });

  test('not wraps its operand in parentheses', () => {
    const f = not(or(eq('a', 1), eq('b', 2))).toString();
    assert.equal(f, 'not (a eq 1 or b eq 2)');
    const node = parseFilter(f);
    assert.equal(node.kind, 'not');
    assert.equal((node as { expr: FilterNode }).expr.kind, 'or');
    assert.equal(and(not(pr('title')), eq('active', true)).toString(), 'not (title pr) and active eq true');
  });

  test('valuePath filters a multi-valued attribute', () => {
    const f = valuePath('emails', and(eq('type', 'work'), co('value', '@example.com'))).toString();
    assert.equal(f, 'emails[type eq "work" and value co "@example.com"]');
    const node = parseFilter(f);
    assert.equal(node.kind, 'valuePath');
    assert.equal((node as { path: string }).path, 'emails');
    assert.equal(
      or(valuePath('emails', eq('type', 'work')), eq('userName', 'x')).toString(),
      'emails[type eq "work"] or userName eq "x"',
    );
  });
});

describe('attribute paths', () => {
  test('invalid paths are rejected before any request', () => {
    for (const bad of [
      '',
      ' userName',
      'user name',
      'userName eq "x" or id',
      'userName)',
      'emails[type eq "work"]',
      'a.b.c',
      '1abc',
      'name..givenName',
      'urn:',
      'emails.value"',
    ]) {
      assert.throws(() => eq(bad, 'x'), ClientUsageError, `eq(${JSON.stringify(bad)})`);
      assert.throws(() => pr(bad), ClientUsageError, `pr(${JSON.stringify(bad)})`);
    }
    assert.throws(() => valuePath('emails]', eq('type', 'work')), ClientUsageError);
    assert.throws(() => assertAttributePath('a b'), /not a valid SCIM attribute path/);
  });

  test('simple, dotted, $ref and URN-qualified paths are accepted', () => {
    for (const good of [
      'userName',
      'name.givenName',
      'emails.value',
      'members.$ref',
      'meta.lastModified',
      `${SCHEMA.ENTERPRISE_USER}:employeeNumber`,
      `${SCHEMA.ENTERPRISE_USER}:manager.value`,
      `${SCHEMA.USER}:userName`,
    ]) {
      assert.equal(assertAttributePath(good), good);
      assert.equal(eq(good, 'v').toString(), `${good} eq "v"`);
    }
    const f = eq(`${SCHEMA.ENTERPRISE_USER}:department`, 'Sales').toString();
    assert.equal(parseFilter(f).kind, 'cmp');
  });
});

describe('patchPath', () => {
  test('plain, filtered and filtered with sub-attribute', () => {
    assert.equal(patchPath('displayName'), 'displayName');
    assert.equal(patchPath('members', eq('value', 'abc"def')), 'members[value eq "abc\\"def"]');
    assert.equal(patchPath('emails', eq('type', 'work'), 'value'), 'emails[type eq "work"].value');
    assert.equal(
      patchPath(`${SCHEMA.ENTERPRISE_USER}:manager`, undefined, 'value'),
      `${SCHEMA.ENTERPRISE_USER}:manager.value`,
    );
  });

  test('invalid attribute or sub-attribute is rejected', () => {
    assert.throws(() => patchPath('members]'), ClientUsageError);
    assert.throws(() => patchPath('emails', eq('type', 'work'), 'value.x'), ClientUsageError);
    assert.throws(() => patchPath('emails', eq('type', 'work'), ''), ClientUsageError);
    assert.throws(() => patchPath('emails', undefined, 'a b'), ClientUsageError);
  });
});

/**
 * The scimmy test host's filter (test/support/scimmy-filter.ts): scimmy's own Filter, with each of its
 * known departures from RFC 7644 handled, so that end-to-end tests face a fair, independent server.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidFilter, compileFilter, compileSort } from '../support/scimmy-filter.ts';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const users = [
  {
    id: 'a',
    userName: 'Ann@Example.com',
    externalId: 'E1',
    name: { givenName: 'Ann' },
    emails: [{ value: 'ANN@example.com', type: 'work' }],
    active: true,
    title: 'Analyst',
  },
  { id: 'b', userName: 'bob@example.com', externalId: 'e2', active: false, [ENTERPRISE]: { department: 'Research' } },
  {
    id: 'c',
    userName: 'cy@example.com',
    externalId: 'E3',
    active: true,
    title: 'Boss',
    [ENTERPRISE]: { department: 'Research' },
    meta: { lastModified: '2024-05-01T00:00:00Z' },
  },
];
const matching = (filter: string) => {
  const compiled = compileFilter(filter, 'User');
  return users.filter((u) => compiled.test(u)).map((u) => u.id);
};

describe('scimmy-filter', () => {
  test(
    'not (a or b) excludes both, not (a and b) excludes only where both hold ' + '(scimmy alone reads them wrong)',
    () => {
      assert.deepEqual(matching('not (userName eq "ann@example.com" or userName eq "bob@example.com")'), ['c']);
      assert.deepEqual(matching('not (userName eq "ann@example.com" and active eq true)'), ['b', 'c']);
      assert.deepEqual(matching('active eq true and not (title eq "Boss" or title eq "Chief")'), ['a']);
      assert.deepEqual(matching('not (title eq "Analyst")'), ['b', 'c']);
      // Quoted words are values, not operators
      assert.deepEqual(matching('not (title eq "x or y" or userName eq "cy@example.com")'), ['a', 'b']);
    },
  );

  test('a negated group it cannot rewrite is refused as a 400 invalidFilter would be', () => {
    for (const filter of [
      'not (not (active eq true))',
      'not ((active eq true))',
      'not (active eq true and title pr or userName pr)',
      'not (emails[type eq "work"])',
    ]) {
      assert.throws(() => compileFilter(filter, 'User'), InvalidFilter, filter);
    }
  });

  test('caseExact: userName and emails.value compare case-insensitively, externalId and id exactly', () => {
    assert.deepEqual(matching('userName eq "ANN@EXAMPLE.COM"'), ['a']);
    assert.deepEqual(matching('userName sw "ANN"'), ['a']);
    assert.deepEqual(matching('emails[type eq "work" and value eq "ann@EXAMPLE.com"]'), ['a']);
    assert.deepEqual(matching('emails.value co "Ann@"'), ['a']);
    assert.deepEqual(matching('externalId eq "E2"'), []);
    assert.deepEqual(matching('externalId eq "e2"'), ['b']);
    // A value that reads like an operator is still a value
    assert.deepEqual(matching('userName eq "NOT"'), []);
  });

  test('URN-qualified paths, attributes some users lack, dates and booleans', () => {
    assert.deepEqual(matching(`${ENTERPRISE}:department eq "research"`), ['b', 'c']);
    assert.deepEqual(matching('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bob@example.com"'), ['b']);
    assert.deepEqual(matching('name.givenName eq "ann"'), ['a']);
    assert.deepEqual(matching('title np'), ['b']);
    assert.deepEqual(matching('meta.lastModified gt "2024-01-01T00:00:00Z"'), ['c']);
    assert.deepEqual(matching('active eq false'), ['b']);
  });

  test('malformed filters are InvalidFilter; the attributes a filter reads are named', () => {
    for (const filter of ['userName eq', 'userName eq "x" and', '(userName eq "x"'])
      assert.throws(() => compileFilter(filter, 'User'), InvalidFilter, filter);
    assert.deepEqual([...compileFilter('groups.value eq "g" and userName pr', 'User').attributes].sort(), [
      'groups',
      'username',
    ]);
    assert.deepEqual([...compileFilter('members[value eq "u"]', 'Group').attributes], ['members']);
  });

  test('sort keys: folded per caseExact, a complex attribute by its primary value, missing values last', () => {
    const byUserName = compileSort('userName', 'User');
    assert.equal(byUserName.key(users[0]!), 'ann@example.com');
    const byEmail = compileSort('emails', 'User');
    assert.equal(byEmail.key({ emails: [{ value: 'B@x' }, { value: 'A@x', primary: true }] }), 'a@x');
    const byTitle = compileSort('title', 'User');
    const sorted = [...users].sort((x, y) => byTitle.compare(byTitle.key(x), byTitle.key(y))).map((u) => u.id);
    assert.deepEqual(sorted, ['a', 'c', 'b']);
    assert.throws(() => compileSort('title desc', 'User'), InvalidFilter);
  });
});

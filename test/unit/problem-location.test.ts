/** Where a problem is (sources/problem-groups.ts location): FILE:LINE, a directory entry by its DN alone. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupLines, groupProblems, isDn, location } from '../../src/sources/problem-groups.ts';

test('a file keeps its line, also line 0 (the file as a whole)', () => {
  assert.equal(location({ file: 'users.csv', line: 12 }), 'users.csv:12');
  assert.equal(location({ file: 'empty.csv', line: 0 }), 'empty.csv:0');
  assert.equal(location({ file: '/data/hr export.json', line: 0 }), '/data/hr export.json:0');
});

test('a directory entry is its DN, without :0', () => {
  assert.ok(isDn('uid=ann,ou=people,dc=example,dc=org'));
  assert.ok(isDn('CN=Smith\\, Ann,OU=Staff,DC=corp,DC=example,DC=com'), 'an escaped comma');
  assert.ok(!isDn('users.csv') && !isDn('./a=b.csv') && !isDn('a=b.csv'), 'a file name with = is not a DN');
  assert.equal(
    location({ file: 'cn=no address,ou=sales,dc=example,dc=org', line: 0 }),
    'cn=no address,ou=sales,dc=example,dc=org',
  );
  assert.equal(
    location({ file: 'CN=Ann,OU=Staff,DC=corp,DC=com', line: 0, record: '#2' }),
    'CN=Ann,OU=Staff,DC=corp,DC=com: #2',
  );
  const lines = groupProblems([{ file: 'uid=a,dc=example,dc=org', line: 0, message: 'no userName' }]).flatMap(
    groupLines,
  );
  assert.deepEqual(lines, ['uid=a,dc=example,dc=org: no userName']);
});

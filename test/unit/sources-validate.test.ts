import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry, USER_SCHEMA } from '../../src/api/schema.ts';
import { SCHEMA } from '../../src/api/types.ts';
import { readResourceFile, validateGroups, validateUsers, type SourceRecord } from '../../src/sources/resource-file.ts';

const registry = new SchemaRegistry();
const records = (...resources: Array<Record<string, unknown>>): SourceRecord[] =>
  resources.map((resource, i) => ({ resource, file: 'u.json', line: i + 2 }));
const summary = (problems: ReturnType<typeof validateUsers>) =>
  problems.map((p) => `${p.line} ${p.field ?? '-'}: ${p.message}`);

describe('validateUsers', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scimctl-validate-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a duplicate userName, compared ignoring case, names both lines (from a CSV file)', async () => {
    const path = join(dir, 'dupes.csv');
    await writeFile(path, 'userName,displayName\nalice,A\nBob,B\n\ncarol,C\nbob,b again\nALICE,A again\n');
    const read = await readResourceFile(path, { registry, coreSchema: SCHEMA.USER });
    const problems = validateUsers(read, registry);
    assert.deepEqual(
      problems.map((p) => [p.file, p.line, p.field, p.message]),
      [
        [path, 6, 'userName', 'userName "bob" already on line 3'],
        [path, 7, 'userName', 'userName "ALICE" already on line 2'],
      ],
    );
  });

  test('a schema saying userName is caseExact makes case count', () => {
    const exact = new SchemaRegistry([
      {
        ...USER_SCHEMA,
        attributes: USER_SCHEMA.attributes.map((a) => (a.name === 'userName' ? { ...a, caseExact: true } : a)),
      },
    ]);
    assert.deepEqual(validateUsers(records({ userName: 'a' }, { userName: 'A' }), exact), []);
    assert.equal(validateUsers(records({ userName: 'a' }, { userName: 'A' }), registry).length, 1);
  });

  test('duplicate externalId (case counts) and id', () => {
    const problems = validateUsers(
      records(
        { userName: 'a', externalId: 'E1', id: 'x' },
        { userName: 'b', externalId: 'e1', id: 'y' },
        { userName: 'c', externalId: 'E1', id: 'x' },
      ),
      registry,
    );
    assert.deepEqual(summary(problems), [
      '4 externalId: externalId "E1" already on line 2',
      '4 id: id "x" already on line 2',
    ]);
  });

  test('userName required, a string, not empty; optional when not required', () => {
    const rs = records({ displayName: 'x' }, { userName: '  ' }, { userName: 42 }, { userName: 'ok' });
    assert.deepEqual(summary(validateUsers(rs, registry)), [
      '2 userName: userName is required',
      '3 userName: userName is empty',
      '4 userName: userName must be a string, not a number',
    ]);
    assert.deepEqual(summary(validateUsers(rs, registry, { requireUserName: false })), [
      '3 userName: userName is empty',
      '4 userName: userName must be a string, not a number',
    ]);
  });

  test('attribute names are matched ignoring case', () => {
    assert.deepEqual(summary(validateUsers(records({ USERNAME: 'x' }, { username: 'X', Active: 'yes' }), registry)), [
      '3 userName: userName "X" already on line 2',
      '3 active: active must be true or false, not "yes"',
    ]);
  });

  test('an implausible e-mail address is named by field, as its CSV column would be', () => {
    const rs = records(
      {
        userName: 'a',
        emails: [
          { value: 'a@example.com', type: 'work' },
          { value: 'a at example.com', type: 'home' },
        ],
      },
      {
        userName: 'b',
        emails: [
          { value: 'b@localhost' },
          { value: '@example.com' },
          { value: 'b@@example.com' },
          { value: 'b@example..com', type: 'other' },
        ],
      },
      { userName: 'c', emails: [{ type: 'work', primary: true }, 'c@example.com'] },
      { userName: 'd', emails: 'd@example.com' },
    );
    assert.deepEqual(summary(validateUsers(rs, registry)), [
      '2 emails[home].value: "a at example.com" is not a valid e-mail address: it contains a space',
      '3 emails: "b@localhost" is not a valid e-mail address: the domain "localhost" ' +
        'needs a dot between non-empty parts',
      '3 emails: "@example.com" is not a valid e-mail address: nothing before the @',
      '3 emails: "b@@example.com" is not a valid e-mail address: it has more than one @',
      '3 emails[other].value: "b@example..com" is not a valid e-mail address: the ' +
        'domain "example..com" needs a dot between non-empty parts',
      '4 emails[work].value: the work e-mail has no address (value)',
      '4 emails: e-mail 2 is a string, not an object with a "value"',
      '5 emails: emails must be a list such as [{"value": "a@example.com", "type": "work"}], not a string',
    ]);
  });

  test('active given as the string "True" says to write true or false', () => {
    const problems = validateUsers(
      records({ userName: 'a', active: 'True' }, { userName: 'b', active: false }, { userName: 'c', active: 1 }),
      registry,
    );
    assert.deepEqual(summary(problems), [
      '2 active: "True" is a string: write true or false, without quotes',
      '4 active: active must be true or false, not 1',
    ]);
  });

  test('read-only attributes are not problems, and every problem is collected', () => {
    const clean = records({
      userName: 'a',
      id: 'u1',
      meta: { resourceType: 'User' },
      groups: [{ value: 'g1' }],
      active: true,
    });
    assert.deepEqual(validateUsers(clean, registry), []);
    const messy = records({ active: 'false', emails: [{ value: 'x' }] }, { userName: 'a' }, { userName: 'A' });
    assert.deepEqual(
      validateUsers(messy, registry).map((p) => [p.line, p.field]),
      [
        [2, 'userName'],
        [2, 'emails'],
        [2, 'active'],
        [4, 'userName'],
      ],
    );
  });
});

describe('validateGroups', () => {
  test('displayName required and unique ignoring case; members a list of objects with a string value', () => {
    const rs = records(
      { displayName: 'Ops', members: [{ value: 'u1' }, { value: 'u2', display: 'Bob' }] },
      { members: [] },
      { displayName: 'OPS' },
      { displayName: 'Sales', members: [{ display: 'x' }, 'u3', { value: 7 }] },
      { displayName: 'Dev', members: { value: 'u1' } },
    );
    assert.deepEqual(summary(validateGroups(rs, registry)), [
      '3 displayName: displayName is required',
      '4 displayName: displayName "OPS" already on line 2',
      `5 members: member 1 has no "value" (the member's id)`,
      '5 members: member 2 is a string, not an object with a "value"',
      `5 members: member 3 has no "value" (the member's id): got 7`,
      '6 members: members must be a list such as [{"value": "<user id>"}], not an object',
    ]);
  });

  test('valid groups have no problems', () => {
    assert.deepEqual(
      validateGroups(
        records({ displayName: 'Ops', members: [{ value: 'u1', type: 'User' }] }, { displayName: 'Dev' }),
        registry,
      ),
      [],
    );
  });
});

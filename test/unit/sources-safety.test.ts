/** Input that cannot smuggle (issue 11): header case, JSON values, unusual names, sizes, formula cells. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry } from '../../src/api/schema.ts';
import { SCHEMA } from '../../src/api/types.ts';
import { InputError, readResourceFile, type InputProblem, type SourceRecord } from '../../src/sources/resource-file.ts';

const registry = new SchemaRegistry();
let dir = '';
let n = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scimctl-safety-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, `${n++}-${name}`);
  await writeFile(path, content);
  return path;
}

const read = (path: string, coreSchema: string = SCHEMA.USER): Promise<SourceRecord[]> => readResourceFile(path, { registry, coreSchema });

async function problems(path: string, coreSchema: string = SCHEMA.USER): Promise<InputProblem[]> {
  try {
    await read(path, coreSchema);
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    return e.problems;
  }
  assert.fail('expected an InputError');
}

describe('CSV headers', () => {
  test('match attribute names ignoring case, and give the schema its own spelling', async () => {
    const path = await file('upper.csv', 'EXTERNALID,USERNAME,DISPLAYNAME,EMAILS[WORK].VALUE,NAME.GIVENNAME,URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:DEPARTMENT\ne1,ann@example.com,Ann,ann@example.com,Ann,Sales\n');
    const [r] = await read(path);
    assert.deepEqual(r!.resource, {
      externalId: 'e1',
      userName: 'ann@example.com',
      displayName: 'Ann',
      emails: [{ type: 'work', value: 'ann@example.com' }],
      name: { givenName: 'Ann' },
      [SCHEMA.ENTERPRISE_USER]: { department: 'Sales' },
    });
  });

  test('a users header with no key column is one problem on the header line', async () => {
    const path = await file('nokey.csv', 'displayName,title\nAnn,Boss\nBob,Clerk\n');
    const found = await problems(path);
    assert.equal(found.length, 1);
    assert.equal(found[0]!.line, 1);
    assert.match(found[0]!.message, /no key column: a users file needs externalId, userName or an e-mail column/);
  });

  test('unknown upper-case columns are each reported with the valid names', async () => {
    const path = await file('foreign.csv', 'EXT_ID,LOGIN\n1,ann\n');
    const found = await problems(path);
    assert.deepEqual(found.map((p) => p.field), ['EXT_ID', 'LOGIN', undefined]);
    assert.match(found[0]!.message, /unknown attribute; valid: .*userName/);
  });

  test('a groups file needs no user key column', async () => {
    const path = await file('groups.csv', 'displayName\nStaff\n');
    assert.equal((await read(path, SCHEMA.GROUP)).length, 1);
  });
});

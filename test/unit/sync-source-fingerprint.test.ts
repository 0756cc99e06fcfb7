import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry } from '../../src/api/schema.ts';
import { readSource, type SourceSpec } from '../../src/sources/source.ts';

const registry = new SchemaRegistry();
let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scimctl-sync-fingerprint-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const USERS = 'ID,Login,Teams\nE1,ann,Admins\nE2,bob,\n';
const GROUPS = 'name,id\nAdmins,G1\n';
const MAPPING = 'attributes:\n  userName: Login\n  externalId: ID\ngroups: { column: Teams }\n';

async function setUp(name: string, users = USERS, groups = GROUPS, mapping = MAPPING): Promise<SourceSpec> {
  const spec = {
    path: join(dir, `${name}-users.csv`),
    groupsFile: join(dir, `${name}-groups.csv`),
    mappingFile: join(dir, `${name}-map.yaml`),
  };
  await writeFile(spec.path, users);
  await writeFile(spec.groupsFile, groups);
  await writeFile(spec.mappingFile, mapping);
  return spec;
}

const fingerprint = async (spec: SourceSpec) => (await readSource(spec, registry)).fingerprint;

describe('readSource: fingerprint', () => {
  test('stable for the same bytes, wherever the files are; files listed users, groups, mapping', async () => {
    const a = await setUp('a');
    const b = await setUp('b');
    const snap = await readSource(a, registry);
    assert.match(snap.fingerprint, /^[0-9a-f]{64}$/);
    assert.equal(await fingerprint(a), snap.fingerprint);
    assert.equal(await fingerprint(b), snap.fingerprint);
    assert.deepEqual(snap.files, [a.path, a.groupsFile, a.mappingFile]);
  });

  test('it is the sha256 of each file in order, framed by its role and length', async () => {
    const spec = await setUp('frame');
    const h = createHash('sha256');
    for (const [role, text] of [
      ['users', USERS],
      ['groups', GROUPS],
      ['mapping', MAPPING],
    ]) {
      const bytes = Buffer.from(text!, 'utf8');
      h.update(`${role}\n${bytes.length}\n`);
      h.update(bytes);
    }
    assert.equal(await fingerprint(spec), h.digest('hex'));
  });

  test('changes when any byte of any file changes, even one that changes no value', async () => {
    const base = await fingerprint(await setUp('base'));
    const variants = [
      await setUp('u', USERS.replace('bob', 'bOb')),
      await setUp('u2', `${USERS}\n`), // a trailing empty line: same users, different bytes
      await setUp('g', USERS, GROUPS.replace('G1', 'G2')),
      await setUp('m', USERS, GROUPS, `${MAPPING}# a comment\n`),
    ];
    const seen = new Set([base]);
    for (const spec of variants) {
      const f = await fingerprint(spec);
      assert.ok(!seen.has(f), spec.path);
      seen.add(f);
    }
  });

  test('moving bytes from one file to another changes it', async () => {
    const one = await setUp('one', 'userName\nann\n', 'displayName\nA\n');
    const two = await setUp('two', 'userName\nann\n', 'displayName\nA\n');
    const withoutMapping = (s: SourceSpec): SourceSpec => ({ path: s.path, groupsFile: s.groupsFile });
    const a = await fingerprint(withoutMapping(one));
    assert.equal(await fingerprint(withoutMapping(two)), a);
    // the same bytes as users only, no groups file: a different source
    assert.notEqual(await fingerprint({ path: one.path }), a);
  });
});

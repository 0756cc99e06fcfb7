import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientUsageError } from '../../src/api/errors.ts';
import { eq, patchPath } from '../../src/api/filter.ts';
import { PATCH_OP_SCHEMA, patch, PatchBuilder } from '../../src/api/patch.ts';
import { SCHEMA } from '../../src/api/types.ts';

describe('patch builder', () => {
  test('add, replace and remove operations have RFC 7644 §3.5.2 shapes', () => {
    const body = patch()
      .add('emails', [{ value: 'a@example.com', type: 'work' }])
      .add(undefined, { title: 'Boss' })
      .replace('active', false)
      .replace(undefined, { displayName: 'Ann' })
      .remove(patchPath('members', eq('value', 'u1')))
      .remove('members', [{ value: 'u2' }])
      .build();
    assert.deepEqual(body, {
      schemas: [PATCH_OP_SCHEMA],
      Operations: [
        { op: 'add', path: 'emails', value: [{ value: 'a@example.com', type: 'work' }] },
        { op: 'add', value: { title: 'Boss' } },
        { op: 'replace', path: 'active', value: false },
        { op: 'replace', value: { displayName: 'Ann' } },
        { op: 'remove', path: 'members[value eq "u1"]' },
        { op: 'remove', path: 'members', value: [{ value: 'u2' }] },
      ],
    });
    assert.equal(PATCH_OP_SCHEMA, SCHEMA.PATCH_OP);
    // Operations without a path carry no "path" key at all (some servers reject "path": undefined/null).
    assert.ok(!('path' in body.Operations[1]!));
    assert.ok(!('value' in body.Operations[4]!));
  });

  test('falsy but defined values are kept', () => {
    const body = patch().replace('active', false).add('nickName', '').replace('title', null).build();
    assert.deepEqual(
      body.Operations.map((o) => o.value),
      [false, '', null],
    );
  });

  test('remove without a path is rejected', () => {
    assert.throws(() => patch().remove(''), ClientUsageError);
    assert.throws(() => patch().remove(undefined as unknown as string), ClientUsageError);
  });

  test('add and replace without a value are rejected', () => {
    assert.throws(() => patch().add('title', undefined), ClientUsageError);
    assert.throws(() => patch().replace('title', undefined), ClientUsageError);
  });

  test('an empty request is rejected', () => {
    assert.throws(() => new PatchBuilder().build(), /at least one operation/);
    assert.throws(() => patch().build(), ClientUsageError);
  });

  test('size counts operations', () => {
    const b = patch();
    assert.equal(b.size, 0);
    b.add('a', 1).remove('b');
    assert.equal(b.size, 2);
  });

  test('build() returns copies: changing one result changes neither the builder nor later results', () => {
    const b = patch().replace('displayName', 'Ann');
    const first = b.build();
    first.Operations[0]!.path = 'hacked';
    first.Operations.push({ op: 'remove', path: 'x' });
    const second = b.build();
    assert.deepEqual(second.Operations, [{ op: 'replace', path: 'displayName', value: 'Ann' }]);
    assert.notEqual(first.Operations, second.Operations);
    b.remove('title');
    assert.equal(second.Operations.length, 1, 'an earlier result does not grow with the builder');
    assert.equal(b.build().Operations.length, 2);
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { SCHEMA } from '../../src/api/types.ts';
import { InputError } from '../../src/sources/resource-file.ts';
import { readSource } from '../../src/sources/source.ts';
import { identityPart, textDigest, userParts } from '../../src/sources/stored-records.ts';
import { planSync } from '../../src/sync/planner.ts';
import { identityOf, Settler } from '../../src/sync/settle.ts';
import { compactUser } from '../../src/sync/target.ts';
import { opts, tuser } from './sync-helpers.ts';
import { registry, tempFiles } from './sync-source-helpers.ts';

const file = tempFiles('scimctl-stored-');

const records = [
  {
    schemas: [SCHEMA.USER],
    id: 'a',
    externalId: 'E1',
    userName: 'ann@example.com',
    name: { givenName: 'Ann', familyName: 'Zoë 𝄞' },
    title: 'Lead',
    emails: [{ value: 'ann@example.com', type: 'work', primary: true }],
    active: true,
    groups: [{ display: 'Sales' }],
  },
  {
    schemas: [SCHEMA.USER],
    id: 'b',
    externalId: 'E2',
    UserName: 'bob@example.com',
    title: 'Boss €',
    password: 'secret-1',
    groups: [],
  },
  { schemas: [SCHEMA.USER], externalId: 'E3', userName: 'cy@example.com', title: 'New', Active: false },
];
const listText =
  `\uFEFF{"schemas": ["${SCHEMA.LIST_RESPONSE}"], "note": "ç€",\n"Resources": ` +
  `[\n${records.map((r) => JSON.stringify(r)).join(',\n')}\n]}\n`;

describe('stored records', () => {
  test(
    'userParts: what the server owns left out, write-only attributes apart; ' +
      'identityPart: externalId, userName, emails, active in any case; names as the ' +
      'schema spells them',
    () => {
      assert.deepEqual(userParts(records[1]!, registry), {
        attributes: { externalId: 'E2', userName: 'bob@example.com', title: 'Boss €' },
        onlyOnCreate: { password: 'secret-1' },
      });
      assert.deepEqual(identityPart(userParts(records[1]!, registry).attributes), {
        externalId: 'E2',
        userName: 'bob@example.com',
      });
      assert.deepEqual(identityPart(records[2]!), { externalId: 'E3', userName: 'cy@example.com', Active: false });
      assert.notEqual(textDigest('{"a": 1}'), textDigest('{"a": 2}'));
    },
  );

  test('a lazy read keeps identities and where the records are; whole() gives what a read in full gives', async () => {
    const path = await file('users.json', listText);
    const eager = await readSource({ path }, registry);
    const lazy = await readSource({ path }, registry, { lazy: true });
    assert.equal(eager.records, undefined);
    assert.ok(lazy.records);
    assert.equal(lazy.fingerprint, eager.fingerprint);
    assert.deepEqual(lazy.groups, eager.groups);
    assert.deepEqual(
      lazy.users.map((u) => u.stored),
      [0, 1, 2],
    );
    for (const [i, u] of lazy.users.entries()) {
      const full = eager.users[i]!;
      assert.deepEqual(u.attributes, identityPart(full.attributes));
      assert.deepEqual(u.origin, full.origin);
      assert.deepEqual(u.groups, full.groups);
      assert.equal(u.onlyOnCreate, undefined);
      assert.deepEqual(
        lazy.records.whole(u),
        full.onlyOnCreate
          ? { attributes: full.attributes, onlyOnCreate: full.onlyOnCreate }
          : { attributes: full.attributes },
      );
    }
    lazy.records.close();
    // Closed, it opens the file again when asked.
    assert.deepEqual(lazy.records.whole(lazy.users[0]!).attributes, eager.users[0]!.attributes);
    lazy.records.close();
  });

  test('a record whose text changed in the file since it was read is an error naming its line', async () => {
    const path = await file('users.json', listText);
    const lazy = await readSource({ path }, registry, { lazy: true });
    await writeFile(path, listText.replace('"Lead"', '"Head"'));
    assert.throws(
      () => lazy.records!.whole(lazy.users[0]!),
      (e: unknown) =>
        e instanceof InputError && e.problems[0]!.line === 3 && /changed while scimctl was reading it/.test(e.message),
    );
    // The other records are still as read.
    assert.equal(lazy.records!.whole(lazy.users[1]!).attributes.title, 'Boss €');
    // Bytes read ahead are used while they are those of the record (its digest); a file read again is checked again.
    await writeFile(path, '[]');
    assert.equal(lazy.records!.whole(lazy.users[2]!).attributes.title, 'New');
    lazy.records!.close();
    assert.throws(() => lazy.records!.whole(lazy.users[2]!), InputError);
    lazy.records!.close();
  });

  test('records of a file bigger than what is read at once, asked for in order and out of it', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => ({
      schemas: [SCHEMA.USER],
      id: `u${i}`,
      userName: `user${i}@example.com`,
      title: `Zoë ${'€'.repeat(i % 5)} 𝄞 ${'x'.repeat(i % 97)}`,
    }));
    const path = await file('many.json', JSON.stringify(many, null, 1));
    const eager = await readSource({ path }, registry);
    const lazy = await readSource({ path }, registry, { lazy: true });
    const order = lazy.users.map((_, i) => i);
    const shuffled = order.map((i) => (i * 1237) % order.length);
    for (const i of [...order, ...shuffled, ...order.reverse()])
      assert.deepEqual(lazy.records!.whole(lazy.users[i]!).attributes, eager.users[i]!.attributes);
    lazy.records!.close();
  });

  test('files not streamed (CSV) are read in full, as before', async () => {
    const path = await file('users.csv', 'userName,title\nann@example.com,Lead\n');
    const lazy = await readSource({ path }, registry, { lazy: true });
    assert.equal(lazy.records, undefined);
    assert.deepEqual(lazy.users[0]!.attributes, { userName: 'ann@example.com', title: 'Lead' });
    assert.equal(lazy.users[0]!.stored, undefined);
  });

  test(
    'settling compares lazy records whole; release loads the records a plan ' +
      'compares or creates, and the plan is the same',
    async () => {
      const path = await file('users.json', listText);
      const target = [
        tuser('t1', {
          externalId: 'E1',
          userName: 'ann@example.com',
          name: { givenName: 'Ann', familyName: 'Zoë 𝄞' },
          title: 'Lead',
          emails: [{ value: 'ann@example.com', type: 'work', primary: true }],
          active: true,
        }),
        tuser('t2', { externalId: 'E2', userName: 'bob@example.com', title: 'Intern', active: true }),
      ];
      const options = opts({ owned: new Set(['t1', 't2']) });
      const planned = async (lazy: boolean) => {
        const src = await readSource({ path }, registry, { lazy });
        const settler = new Settler(src, options.matchKeys);
        const settled = new Set<string>();
        const users = target.map(compactUser).map((u) => (settler.settle(u) ? (settled.add(u.id), identityOf(u)) : u));
        if (lazy) assert.throws(() => planSync(src, { users, groups: [], settled }, options), /not yet loaded/);
        settler.release();
        assert.equal(src.records, undefined);
        assert.ok(src.users.every((u) => u.stored === undefined));
        return { src, plan: planSync(src, { users, groups: [], settled }, options), settled };
      };
      const eager = await planned(false);
      const lazy = await planned(true);
      assert.deepEqual([...lazy.settled], ['t1']);
      assert.deepEqual(lazy.src.users, eager.src.users);
      assert.deepEqual(lazy.plan, eager.plan);
      // Bob's title changes; Cy is created (inactive), password and all; Ann joins Sales.
      assert.deepEqual(lazy.plan.changes.map((c) => c.id).sort(), [
        'add-member:create-group:Sales:t1',
        'create-group:Sales',
        'create-user:cy@example.com',
        'update-user:t2',
      ]);
      assert.deepEqual(lazy.src.users[1]!.onlyOnCreate, { password: 'secret-1' });
    },
  );
});

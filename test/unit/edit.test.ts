import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPath } from '../../src/api/attr-path.ts';
import { applyEdits, attributeNames, mergeAttributes, parseEdits, type Edit } from '../../src/api/edit.ts';
import { ClientUsageError } from '../../src/api/errors.ts';
import { SchemaRegistry, type SchemaDef } from '../../src/api/schema.ts';
import { SCHEMA } from '../../src/api/types.ts';

const ENT = SCHEMA.ENTERPRISE_USER;
const ACME = 'urn:example:params:scim:schemas:extension:acme:2.0:User';
const ACME_SCHEMA: SchemaDef = {
  id: ACME,
  attributes: [
    { name: 'level', type: 'integer', multiValued: false },
    { name: 'score', type: 'decimal', multiValued: false },
    { name: 'badge', type: 'string', multiValued: false, mutability: 'readOnly' },
    { name: 'vip', type: 'boolean', multiValued: false },
  ],
};
const registry = new SchemaRegistry([ACME_SCHEMA]);

const parse = (sets: string[], unsets: string[] = [], strict = true) =>
  parseEdits(sets, unsets, registry, SCHEMA.USER, strict);
/** The one edit parsed from one --set. */
const one = (set: string, strict = true): Edit => {
  const edits = parse([set], [], strict);
  assert.equal(edits.length, 1);
  return edits[0]!;
};
const valueOf = (set: string, strict = true): unknown => {
  const e = one(set, strict);
  assert.equal(e.kind, 'set', `${set} is a set`);
  return e.kind === 'set' ? e.value : undefined;
};

/** Throws and returns the ClientUsageError's message. */
function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ClientUsageError, `expected a ClientUsageError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('expected a ClientUsageError');
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

describe('parseEdits: typing by schema', () => {
  test('strings stay strings, whatever they look like', () => {
    assert.equal(valueOf('title=Engineer'), 'Engineer');
    assert.equal(valueOf('displayName=true'), 'true');
    assert.equal(valueOf('nickName=42'), '42');
    assert.equal(valueOf('title=a=b'), 'a=b', 'only the first = separates path and value');
  });

  test('booleans: true/false in any case; anything else rejected', () => {
    assert.equal(valueOf('active=false'), false);
    assert.equal(valueOf('active=TRUE'), true);
    assert.equal(valueOf('active= False '), false);
    assert.equal(valueOf('emails[type eq "work"].primary=true'), true);
    assert.equal(valueOf(`${ACME}:vip=true`), true);
    for (const bad of ['yes', '1', '0', 'no', 'truthy']) {
      assert.match(
        usageError(() => parse([`active=${bad}`])),
        /boolean/,
      );
    }
  });

  test('integers', () => {
    assert.equal(valueOf(`${ACME}:level=42`), 42);
    assert.equal(valueOf(`${ACME}:level=-3`), -3);
    for (const bad of ['4.5', 'x', '1e3', '']) {
      if (bad === '') continue; // an empty value means unset, tested below
      assert.match(
        usageError(() => parse([`${ACME}:level=${bad}`])),
        /integer/,
      );
    }
  });

  test('decimals', () => {
    assert.equal(valueOf(`${ACME}:score=4.25`), 4.25);
    assert.equal(valueOf(`${ACME}:score=-7`), -7);
    for (const bad of ['abc', 'Infinity', ' ', '1,5']) {
      assert.match(
        usageError(() => parse([`${ACME}:score=${bad}`])),
        /number/,
      );
    }
  });

  test('a complex attribute needs JSON', () => {
    assert.deepEqual(valueOf('name={"givenName":"Ann","familyName":"E"}'), { givenName: 'Ann', familyName: 'E' });
    assert.match(
      usageError(() => parse(['name=Ann'])),
      /JSON/,
    );
    assert.deepEqual(valueOf(`${ENT}:manager={"value":"m1"}`), { value: 'm1' });
    assert.match(
      usageError(() => parse([`${ENT}:manager=m1`])),
      /JSON/,
    );
  });

  test('a multi-valued attribute needs JSON; a filtered item needs a JSON object', () => {
    assert.deepEqual(valueOf('emails=[{"value":"a@x","type":"work"}]'), [{ value: 'a@x', type: 'work' }]);
    assert.match(
      usageError(() => parse(['emails=a@x'])),
      /JSON/,
    );
    assert.deepEqual(valueOf('emails[type eq "work"]={"value":"a@x"}'), { value: 'a@x' });
    assert.match(
      usageError(() => parse(['emails[work]=a@x'])),
      /JSON/,
    );
  });

  test('sub-attributes are typed by their own definition', () => {
    assert.equal(valueOf('name.givenName=Ann'), 'Ann');
    assert.equal(valueOf('emails[work].value=a@x'), 'a@x');
    assert.equal(valueOf(`${ENT}:manager.value=m1`), 'm1');
  });

  test('the parsed path is the one given', () => {
    const e = one('emails[work].value=a@x');
    assert.equal(formatPath(e.path), 'emails[type eq "work"].value');
  });

  test('an empty value means unset', () => {
    const e = one('title=');
    assert.equal(e.kind, 'unset');
    assert.equal(e.path.attr, 'title');
    assert.equal(one('name=').kind, 'unset');
    assert.equal(one(`${ACME}:level=`).kind, 'unset');
  });

  test('--unset paths become unset edits, after the sets', () => {
    const edits = parse(['title=x'], ['nickName', 'emails[type eq "home"]']);
    assert.deepEqual(
      edits.map((e) => [e.kind, formatPath(e.path)]),
      [
        ['set', 'title'],
        ['unset', 'nickName'],
        ['unset', 'emails[type eq "home"]'],
      ],
    );
  });

  test('a --set without PATH= is rejected', () => {
    assert.match(
      usageError(() => parse(['title'])),
      /PATH=VALUE/,
    );
    assert.match(
      usageError(() => parse(['=x'])),
      /PATH=VALUE/,
    );
  });

  test('attribute names are case-insensitive', () => {
    assert.equal(valueOf('ACTIVE=false'), false);
    assert.deepEqual(valueOf('Name={"givenName":"A"}'), { givenName: 'A' });
  });
});

describe('parseEdits: what may be written', () => {
  for (const set of [
    'id=x',
    'meta.created=2020-01-01T00:00:00Z',
    'meta={}',
    'groups=[{"value":"g1"}]',
    `${ENT}:manager.displayName=Boss`,
    `${ACME}:badge=gold`,
  ]) {
    test(`read-only: --set ${set} is rejected, strict or not`, () => {
      assert.match(
        usageError(() => parse([set])),
        /read-only/,
      );
      assert.match(
        usageError(() => parse([set], [], false)),
        /read-only/,
      );
    });
  }

  test('read-only: --unset id / meta / groups are rejected', () => {
    for (const u of ['id', 'meta', 'groups', 'meta.version']) {
      assert.match(
        usageError(() => parse([], [u])),
        /read-only/,
        u,
      );
    }
  });

  test('enterprise shorthands: department, employeeNumber, costCenter, organization, division, manager', () => {
    for (const name of ['department', 'employeeNumber', 'costCenter', 'organization', 'division']) {
      const e = one(`${name}=X1`);
      assert.equal(formatPath((e as { path: Parameters<typeof formatPath>[0] }).path), `${ENT}:${name}`);
    }
    assert.equal(formatPath(one('Manager=u1').path), `${ENT}:manager.value`);
    assert.equal(formatPath(one('manager.$ref=https://x/Users/u1').path), `${ENT}:manager.$ref`);
    const [unset] = parse([], ['costCenter']);
    assert.deepEqual([unset!.kind, formatPath(unset!.path)], ['unset', `${ENT}:costCenter`]);
    assert.deepEqual(applyEdits({ userName: 'a' }, parse(['department=Sales', 'manager=u9'])), {
      userName: 'a',
      [ENT]: { department: 'Sales', manager: { value: 'u9' } },
    });
  });

  test('a core attribute of the same name wins over the shorthand', () => {
    const own = new SchemaRegistry([
      { id: SCHEMA.USER, attributes: [{ name: 'department', type: 'string', multiValued: false }] },
    ]);
    const [e] = parseEdits(['department=Sales'], [], own, SCHEMA.USER, true);
    assert.equal(formatPath(e!.path), 'department');
    // Groups have no shorthands.
    assert.throws(() => parseEdits(['department=x'], [], registry, SCHEMA.GROUP, true), /no such attribute/);
  });

  test('a mistyped attribute suggests the closest valid ones', () => {
    assert.match(
      usageError(() => parse(['departmnt=Sales'])),
      /Did you mean department\b/,
    );
    assert.match(
      usageError(() => parse([], ['titel'])),
      /--unset titel: .*Did you mean title\b/,
    );
    assert.match(
      usageError(() => parse(['name.givnName=A'])),
      /Did you mean name\.givenName\b/,
    );
  });

  test('unknown attribute, strict: rejected with the list of valid ones', () => {
    const message = usageError(() => parse(['favouriteColour=blue']));
    assert.match(message, /favouriteColour/);
    const list = message.slice(message.indexOf('Valid attributes: ') + 'Valid attributes: '.length).split(', ');
    for (const name of [
      'userName',
      'name.givenName',
      'emails[type].value',
      'active',
      'externalId',
      `${ENT}:department`,
      `${ENT}:manager.value`,
      `${ACME}:level`,
    ]) {
      assert.ok(list.includes(name), `${name} is listed`);
    }
    for (const name of ['id', 'meta', 'groups[type].value', `${ENT}:manager.displayName`, `${ACME}:badge`]) {
      assert.ok(!list.includes(name), `${name} is not listed`);
    }
    assert.deepEqual(list, attributeNames(registry, SCHEMA.USER));
  });

  test('unknown sub-attribute and unknown extension attribute, strict: rejected', () => {
    assert.match(
      usageError(() => parse(['name.nick=x'])),
      /no such attribute/,
    );
    assert.match(
      usageError(() => parse([`${ENT}:shoeSize=44`])),
      /no such attribute/,
    );
    assert.match(
      usageError(() => parse([], ['favouriteColour'])),
      /no such attribute/,
    );
  });

  test('unknown attribute, not strict: accepted as a string', () => {
    const e = one('favouriteColour=blue', false);
    assert.equal(e.kind, 'set');
    assert.equal(e.kind === 'set' && e.value, 'blue');
    assert.equal(e.path.attr, 'favouriteColour');
    const ext = one('urn:example:custom:1.0:User:shoeSize=44', false);
    assert.equal(ext.path.urn, 'urn:example:custom:1.0:User');
    assert.equal(ext.kind === 'set' && ext.value, '44');
    assert.equal(parse([], ['favouriteColour'], false)[0]!.kind, 'unset');
  });

  test('a malformed path is rejected', () => {
    usageError(() => parse(['emails[type eq work].value=x']));
  });

  test('a Group: members are writable, the User attributes are unknown', () => {
    const edits = parseEdits(['displayName=Sales', 'members=[{"value":"u1"}]'], [], registry, SCHEMA.GROUP, true);
    assert.deepEqual(
      edits.map((e) => e.kind === 'set' && e.value),
      ['Sales', [{ value: 'u1' }]],
    );
    assert.match(
      usageError(() => parseEdits(['userName=x'], [], registry, SCHEMA.GROUP, true)),
      /no such attribute/,
    );
    const names = attributeNames(registry, SCHEMA.GROUP);
    assert.ok(names.includes('displayName') && names.includes('members[type].value'));
    assert.ok(!names.some((n) => n.startsWith(ENT)), 'no User extension for a Group');
  });
});

describe('applyEdits', () => {
  const user = () => ({
    schemas: [SCHEMA.USER, ENT],
    id: 'u1',
    userName: 'ann',
    title: 'Engineer',
    emails: [{ type: 'work', value: 'ann@work.example', primary: true }],
    [ENT]: { department: 'Sales' },
  });

  test('applies sets and unsets in order on a copy; the input is not mutated', () => {
    const input = deepFreeze(user());
    const edits = parse(
      ['title=Lead', 'emails[type eq "home"].value=ann@home.example', `${ENT}:costCenter=CC7`, 'active=false'],
      [`${ENT}:department`],
    );
    const out = applyEdits(input, edits);
    assert.deepEqual(input, user());
    assert.notEqual(out, input);
    assert.deepEqual(out, {
      schemas: [SCHEMA.USER, ENT],
      id: 'u1',
      userName: 'ann',
      title: 'Lead',
      emails: [
        { type: 'work', value: 'ann@work.example', primary: true },
        { type: 'home', value: 'ann@home.example' },
      ],
      [ENT]: { costCenter: 'CC7' },
      active: false,
    });
  });

  test('a set then an unset of the same path leaves it unset; the reverse leaves it set', () => {
    assert.equal(applyEdits(user(), parse(['title=x'], ['title'])).title, undefined);
    const setAfter = applyEdits(user(), [...parse([], ['title']), ...parse(['title=y'])]);
    assert.equal(setAfter.title, 'y');
  });

  test('unsetting the last extension attribute removes the extension object', () => {
    const out = applyEdits(user(), parse([`${ENT}:department=`]));
    assert.equal(ENT in out, false);
  });

  test('a failing edit throws and leaves the input alone', () => {
    const input = deepFreeze(user());
    assert.throws(() => applyEdits(input, parse(['emails[value co "nobody"].display=X'])), ClientUsageError);
    assert.deepEqual(input, user());
  });
});

describe('mergeAttributes', () => {
  const base = () => ({
    schemas: [SCHEMA.USER, ENT],
    id: 'u1',
    meta: { version: 'W/"1"', resourceType: 'User' },
    userName: 'ann',
    title: 'Engineer',
    name: { givenName: 'Ann', familyName: 'Example' },
    emails: [
      { type: 'work', value: 'ann@work.example', primary: true },
      { type: 'home', value: 'ann@home.example' },
    ],
    roles: [{ value: 'admin' }, { value: 'dev' }],
    groups: [{ value: 'g1' }],
    [ENT]: { department: 'Sales', costCenter: 'CC1', manager: { value: 'm1', displayName: 'Boss' } },
  });

  test('simple values replace; what changes does not name stays; the input is not mutated', () => {
    const input = deepFreeze(base());
    const out = mergeAttributes(input, { title: 'Lead', nickName: 'A' });
    assert.deepEqual(input, base());
    assert.deepEqual(out, { ...base(), title: 'Lead', nickName: 'A' });
  });

  test('attribute names match case-insensitively and keep the existing key', () => {
    const out = mergeAttributes(base(), { TITLE: 'Lead', NAME: { GIVENNAME: 'Anna' } });
    assert.equal(out.title, 'Lead');
    assert.equal('TITLE' in out, false);
    assert.deepEqual(out.name, { givenName: 'Anna', familyName: 'Example' });
  });

  test('complex values merge by sub-attribute; null removes a sub-attribute', () => {
    const out = mergeAttributes(base(), { name: { givenName: 'Anna', middleName: 'B', familyName: null } });
    assert.deepEqual(out.name, { givenName: 'Anna', middleName: 'B' });
  });

  test('typed multi-valued: same type merged in place, new type added', () => {
    const out = mergeAttributes(base(), {
      emails: [
        { type: 'WORK', value: 'ann@new.example' },
        { type: 'other', value: 'ann@other.example' },
      ],
    });
    assert.deepEqual(out.emails, [
      { type: 'WORK', value: 'ann@new.example', primary: true },
      { type: 'home', value: 'ann@home.example' },
      { type: 'other', value: 'ann@other.example' },
    ]);
  });

  test('primary moves to the new item', () => {
    const out = mergeAttributes(base(), { emails: [{ type: 'home', primary: true }] });
    assert.deepEqual(out.emails, [
      { type: 'work', value: 'ann@work.example', primary: false },
      { type: 'home', value: 'ann@home.example', primary: true },
    ]);
    const added = mergeAttributes(base(), { emails: [{ type: 'other', value: 'o@x', primary: true }] });
    assert.deepEqual(
      (added.emails as Array<{ type: string; primary?: boolean }>).map((e) => [e.type, e.primary === true]),
      [
        ['work', false],
        ['home', false],
        ['other', true],
      ],
    );
  });

  test('typed items onto an absent attribute become the attribute', () => {
    const out = mergeAttributes({ id: 'u2', userName: 'bob' }, { phoneNumbers: [{ type: 'mobile', value: '+1' }] });
    assert.deepEqual(out, { id: 'u2', userName: 'bob', phoneNumbers: [{ type: 'mobile', value: '+1' }] });
  });

  test('untyped arrays replace', () => {
    const out = mergeAttributes(base(), { roles: [{ value: 'auditor' }] });
    assert.deepEqual(out.roles, [{ value: 'auditor' }]);
    const mixed = mergeAttributes(base(), { emails: [{ type: 'work', value: 'a@x' }, { value: 'b@x' }] });
    assert.deepEqual(
      mixed.emails,
      [{ type: 'work', value: 'a@x' }, { value: 'b@x' }],
      'one untyped item: the list replaces',
    );
  });

  test('extensions merge per attribute; complex extension attributes merge by sub-attribute', () => {
    const out = mergeAttributes(base(), {
      [ENT]: { department: 'Support', manager: { value: 'm2' }, division: 'EMEA' },
    });
    assert.deepEqual(out[ENT], {
      department: 'Support',
      costCenter: 'CC1',
      manager: { value: 'm2', displayName: 'Boss' },
      division: 'EMEA',
    });
  });

  test('an extension is created when absent; its URN key matches case-insensitively', () => {
    const created: Record<string, unknown> = mergeAttributes(
      { id: 'u2', userName: 'bob' },
      { [ENT]: { department: 'Ops' } },
    );
    assert.deepEqual(created[ENT], { department: 'Ops' });
    const lowerKey = mergeAttributes(base(), { [ENT.toLowerCase()]: { department: 'Ops' } });
    assert.deepEqual(lowerKey[ENT], {
      department: 'Ops',
      costCenter: 'CC1',
      manager: { value: 'm1', displayName: 'Boss' },
    });
    assert.equal(ENT.toLowerCase() in lowerKey, false);
  });

  test('null removes: an attribute, an extension attribute, and the extension when it empties', () => {
    const out = mergeAttributes(base(), { title: null, [ENT]: { costCenter: null } });
    assert.equal('title' in out, false);
    assert.deepEqual(out[ENT], { department: 'Sales', manager: { value: 'm1', displayName: 'Boss' } });
    const emptied = mergeAttributes(base(), { [ENT]: { department: null, costCenter: null, manager: null } });
    assert.equal(ENT in emptied, false);
    const whole = mergeAttributes(base(), { [ENT]: null });
    assert.equal(ENT in whole, false);
  });

  test('id, meta, schemas and groups are skipped, in any case', () => {
    const changes = {
      id: 'other',
      meta: { version: 'W/"9"' },
      schemas: ['x'],
      groups: [{ value: 'g9' }],
      ID: 'x',
      Meta: null,
      SCHEMAS: ['y'],
      Groups: null,
    };
    assert.deepEqual(mergeAttributes(base(), changes), base());
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SchemaRegistry } from '../../src/api/schema.ts';
import { SCHEMA, type ScimResource } from '../../src/api/types.ts';
import {
  canonicalResource,
  CsvInputError,
  flattenResource,
  orderColumns,
  parseColumn,
  unflattenRow,
  type FlattenContext,
} from '../../src/formats/scim-csv.ts';
import { InputError, parseResourceBytes, type SourceRecord } from '../../src/sources/resource-file.ts';

const ctx: FlattenContext = { registry: new SchemaRegistry(), coreSchema: SCHEMA.USER };
const ENT = SCHEMA.ENTERPRISE_USER;
const ACME = 'urn:example:params:scim:schemas:extension:acme:1.0:User';

const RICH: ScimResource = {
  schemas: [SCHEMA.USER, ENT, ACME],
  id: '2819c223-7f76-453a-919d-413861904646',
  externalId: 'ext-001',
  userName: 'bjensen@example.com',
  name: { formatted: 'Ms. Barbara J Jensen, III', familyName: 'Jensen', givenName: 'Barbara', honorificSuffix: 'III' },
  displayName: 'Babs "BJ" Jensen, PhD',
  nickName: '007',
  title: 'true',
  active: true,
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@jensen.org', type: 'home', primary: false },
  ],
  phoneNumbers: [
    { value: '+1 555 555 5555', type: 'work' },
    { value: '555-555-4444', type: 'mobile', display: 'Mobile' },
  ],
  addresses: [
    {
      type: 'work',
      streetAddress: '100 Universal City Plaza\nBuilding 2',
      locality: 'Hollywood',
      postalCode: '91608',
      country: 'US',
      primary: true,
    },
  ],
  groups: [
    { value: 'g1', display: 'Sales', type: 'direct' },
    { value: 'g2', display: 'Ops', type: 'direct' },
  ],
  entitlements: [{ value: 'admin' }, { value: 'reader' }],
  [ENT]: {
    employeeNumber: '00701',
    costCenter: '4130',
    organization: 'Universal Studios',
    department: 'Tour Operations',
    manager: {
      value: '26118915-6090-4610-87e4-49d8ca9f808d',
      displayName: 'John Smith',
      $ref: '../Users/26118915-6090-4610-87e4-49d8ca9f808d',
    },
  },
  [ACME]: {
    level: 3,
    ratio: 0.75,
    vip: false,
    badge: '0042',
    code: 'null',
    quoted: '"hello"',
    motto: 'plain text, with comma',
    tags: ['a', 'b'],
    nested: { color: 'red', size: 2, active: true },
  },
  meta: {
    resourceType: 'User',
    created: '2010-01-23T04:56:22Z',
    lastModified: '2011-05-13T04:42:34Z',
    version: 'W/"3694e05e9dff591"',
    location: 'https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646',
  },
};

const row = (cells: Map<string, string>): Record<string, string> => Object.fromEntries(cells);
const roundTrip = (r: ScimResource) => unflattenRow(row(flattenResource(r, ctx)), ctx, 'users.csv', 2);

function csvError(fn: () => unknown): CsvInputError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CsvInputError, String(e));
    return e;
  }
  assert.fail('expected a CsvInputError');
}

/** A CSV file in the export scheme, read by the sources' reader (as `sync` and `users bulk-create` read it). */
const readAll = (text: string, file = 'users.csv'): Promise<SourceRecord[]> =>
  parseResourceBytes(file, Buffer.from(text, 'utf8'), ctx);

async function readError(text: string, file = 'users.csv'): Promise<InputError> {
  try {
    await readAll(text, file);
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    return e;
  }
  assert.fail('expected an InputError');
}

describe('flattenResource / unflattenRow', () => {
  test('a rich user round-trips losslessly (canonically)', () => {
    const back = roundTrip(RICH);
    assert.deepEqual(canonicalResource(back), canonicalResource(RICH));
  });

  test('the columns of a rich user', () => {
    const cells = flattenResource(RICH, ctx);
    assert.equal(cells.get('userName'), 'bjensen@example.com');
    assert.equal(cells.get('name.givenName'), 'Barbara');
    assert.equal(cells.get('active'), 'true');
    assert.equal(cells.get('nickName'), '007', 'a schema-typed string is written as is');
    assert.equal(cells.get('title'), 'true');
    assert.equal(cells.get('emails[work].value'), 'bjensen@example.com');
    assert.equal(cells.get('emails[work].primary'), 'true');
    assert.equal(cells.get('emails[home].primary'), 'false');
    assert.equal(cells.get('phoneNumbers[mobile].display'), 'Mobile');
    assert.equal(cells.get('addresses[work].streetAddress'), '100 Universal City Plaza\nBuilding 2');
    assert.ok(!cells.has('emails'), 'typed emails have no JSON column');
    assert.ok(!cells.has('emails[work].type'), 'the type is in the column name');
    assert.deepEqual(JSON.parse(cells.get('groups')!), RICH.groups, 'repeated types: the whole attribute as JSON');
    assert.deepEqual(JSON.parse(cells.get('entitlements')!), RICH.entitlements, 'untyped items: JSON');
    assert.deepEqual(JSON.parse(cells.get('schemas')!), RICH.schemas);
    assert.equal(cells.get(`${ENT}:employeeNumber`), '00701');
    assert.equal(cells.get(`${ENT}:manager.value`), '26118915-6090-4610-87e4-49d8ca9f808d');
    assert.equal(cells.get(`${ENT}:manager.$ref`), '../Users/26118915-6090-4610-87e4-49d8ca9f808d');
    assert.equal(cells.get(`${ACME}:level`), '3');
    assert.equal(cells.get(`${ACME}:ratio`), '0.75');
    assert.equal(cells.get(`${ACME}:vip`), 'false');
    assert.equal(cells.get(`${ACME}:badge`), '"0042"', 'an unknown string that looks like a number is written as JSON');
    assert.equal(cells.get(`${ACME}:code`), '"null"');
    assert.equal(cells.get(`${ACME}:motto`), 'plain text, with comma', 'a plain unknown string is written as is');
    assert.equal(cells.get(`${ACME}:nested.size`), '2');
    assert.deepEqual(JSON.parse(cells.get(`${ACME}:tags`)!), ['a', 'b']);
    assert.equal(cells.get('meta.version'), 'W/"3694e05e9dff591"');
    assert.equal(cells.get('meta.created'), '2010-01-23T04:56:22Z');
  });

  test('types survive: numbers, booleans and number-like strings of unknown attributes', () => {
    const back = roundTrip(RICH) as Record<string, Record<string, unknown>>;
    const acme = back[ACME]!;
    assert.equal(acme.level, 3);
    assert.equal(acme.ratio, 0.75);
    assert.equal(acme.vip, false);
    assert.equal(acme.badge, '0042');
    assert.equal(acme.code, 'null');
    assert.equal(acme.quoted, '"hello"');
    assert.deepEqual(acme.nested, { color: 'red', size: 2, active: true });
    assert.equal(back.active as unknown, true);
    assert.equal(back.nickName as unknown, '007');
    assert.equal(back.title as unknown, 'true');
    assert.equal((back[ENT] as Record<string, unknown>).employeeNumber, '00701');
    assert.equal(
      (back[ENT] as Record<string, Record<string, unknown>>).manager!.value,
      '26118915-6090-4610-87e4-49d8ca9f808d',
    );
    const emails = back.emails as unknown as Array<Record<string, unknown>>;
    assert.deepEqual(
      emails.find((e) => e.type === 'work'),
      { type: 'work', value: 'bjensen@example.com', primary: true },
    );
  });

  test('untyped e-mails and repeated types go to one JSON cell and come back', () => {
    const untyped: ScimResource = {
      id: 'u1',
      userName: 'a',
      emails: [{ value: 'a@x.test' }, { value: 'b@x.test', primary: true }],
    };
    const repeated: ScimResource = {
      id: 'u2',
      userName: 'b',
      emails: [
        { value: 'a@x.test', type: 'work' },
        { value: 'b@x.test', type: 'work' },
      ],
      phoneNumbers: [{ value: '1', type: 'work' }],
    };
    const bracket: ScimResource = { id: 'u3', userName: 'c', emails: [{ value: 'a@x.test', type: 'w[1]' }] };
    const strings: ScimResource = { id: 'u4', userName: 'd', emails: ['a@x.test'] as unknown as [] };
    for (const r of [untyped, repeated, bracket, strings]) {
      const cells = flattenResource(r, ctx);
      assert.ok(cells.has('emails'), `${r.id}: JSON cell`);
      assert.ok(![...cells.keys()].some((k) => k.startsWith('emails[')), `${r.id}: no typed columns`);
      assert.deepEqual(canonicalResource(roundTrip(r)), canonicalResource(r), r.id);
    }
    assert.equal(flattenResource(repeated, ctx).get('phoneNumbers[work].value'), '1');
  });

  test('empty arrays, empty objects and nulls are left out', () => {
    const cells = flattenResource(
      { id: 'u1', userName: 'a', emails: [], name: {}, title: null, [ENT]: {} } as ScimResource,
      ctx,
    );
    assert.deepEqual([...cells.keys()].sort(), ['id', 'userName']);
  });

  test('boolean cells accept any case', () => {
    const r = unflattenRow(
      { userName: 'a', active: 'TRUE', 'emails[work].primary': 'False', 'emails[work].value': 'a@x.test' },
      ctx,
      'f.csv',
      2,
    );
    assert.equal(r.active, true);
    assert.deepEqual(r.emails, [{ type: 'work', primary: false, value: 'a@x.test' }]);
  });
});

describe('unflattenRow errors name file, line and column', () => {
  test('a bad boolean', () => {
    const e = csvError(() => unflattenRow({ userName: 'ann', active: 'yes' }, ctx, 'people.csv', 7));
    assert.equal(e.file, 'people.csv');
    assert.equal(e.line, 7);
    assert.equal(e.field, 'active');
    assert.equal(e.message, 'people.csv:7: column "active": "yes" is not a boolean (true or false)');
  });

  test('a bad boolean in a typed column', () => {
    const e = csvError(() =>
      unflattenRow(
        { userName: 'ann', 'emails[work].value': 'a@x.test', 'emails[work].primary': 'maybe' },
        ctx,
        'people.csv',
        12,
      ),
    );
    assert.equal(e.line, 12);
    assert.equal(e.field, 'emails[work].primary');
    assert.match(e.message, /^people\.csv:12: column "emails\[work\]\.primary": "maybe" is not a boolean/);
  });

  test('invalid column names', () => {
    for (const column of ['foo bar', 'emails[work', 'name.given.name', '1st', 'emails[work]value', 'emails[]']) {
      const e = csvError(() => unflattenRow({ userName: 'ann', [column]: 'x' }, ctx, 'in.csv', 3));
      assert.equal(e.field, column);
      assert.equal(e.line, 3);
      assert.match(e.message, /not a valid attribute column/, column);
    }
    const noSub = csvError(() => unflattenRow({ 'emails[work]': 'x' }, ctx, 'in.csv', 4));
    assert.match(noSub.message, /needs a sub-attribute/);
  });

  test('the same attribute as JSON and per type is a conflict, in either column order', () => {
    const jsonFirst = csvError(() =>
      unflattenRow(
        { userName: 'a', emails: '[{"value":"a@x.test"}]', 'emails[work].value': 'b@x.test' },
        ctx,
        'c.csv',
        5,
      ),
    );
    assert.equal(jsonFirst.field, 'emails[work].value');
    assert.match(jsonFirst.message, /^c\.csv:5: column "emails\[work\]\.value": "emails" is also given as a whole/);
    const typedFirst = csvError(() =>
      unflattenRow(
        { userName: 'a', 'emails[work].value': 'b@x.test', emails: '[{"value":"a@x.test"}]' },
        ctx,
        'c.csv',
        6,
      ),
    );
    assert.equal(typedFirst.field, 'emails');
    assert.equal(typedFirst.line, 6);
    assert.match(typedFirst.message, /also given per type/);
  });

  test('a multi-valued or complex attribute that is not JSON', () => {
    const e = csvError(() => unflattenRow({ userName: 'a', emails: 'a@x.test' }, ctx, 'c.csv', 9));
    assert.equal(e.field, 'emails');
    assert.match(e.message, /multi-valued: give it as JSON/);
    const n = csvError(() => unflattenRow({ userName: 'a', name: 'Ann' }, ctx, 'c.csv', 9));
    assert.match(n.message, /complex: give it as JSON/);
  });

  test('empty cells mean absent', () => {
    assert.deepEqual(
      unflattenRow({ userName: 'a', active: '', 'emails[work].value': '', [`${ENT}:department`]: '' }, ctx, 'c.csv', 2),
      { userName: 'a' },
    );
  });
});

describe('parseColumn', () => {
  test('splits known and unknown URNs, typed columns and sub-attributes', () => {
    assert.deepEqual(parseColumn(`${ENT}:manager.value`, ctx.registry), {
      column: `${ENT}:manager.value`,
      urn: ENT,
      attr: 'manager',
      type: undefined,
      sub: 'value',
    });
    assert.deepEqual(parseColumn(`${ACME}:nested.color`, ctx.registry), {
      column: `${ACME}:nested.color`,
      urn: ACME,
      attr: 'nested',
      type: undefined,
      sub: 'color',
    });
    assert.deepEqual(parseColumn('emails[work].value', ctx.registry), {
      column: 'emails[work].value',
      urn: undefined,
      attr: 'emails',
      type: 'work',
      sub: 'value',
    });
    assert.equal(parseColumn('a b', ctx.registry), undefined);
  });
});

describe('orderColumns', () => {
  test('id, externalId, userName first; core in schema order; extensions; meta and schemas last', () => {
    const columns = [
      'schemas',
      'meta.created',
      `${ENT}:department`,
      'emails[work].value',
      'zzzCustom',
      'active',
      'userName',
      'name.givenName',
      'meta.version',
      `${ACME}:level`,
      'externalId',
      'displayName',
      'id',
      'name.familyName',
    ];
    assert.deepEqual(orderColumns(columns, ctx), [
      'id',
      'externalId',
      'userName',
      'displayName',
      'name.familyName',
      'name.givenName',
      'active',
      'emails[work].value',
      'zzzCustom',
      `${ACME}:level`,
      `${ENT}:department`,
      'meta.created',
      'meta.version',
      'schemas',
    ]);
  });

  test('is stable whatever the input order', () => {
    const cols = [...flattenResource(RICH, ctx).keys()];
    const a = orderColumns(cols, ctx);
    const b = orderColumns([...cols].reverse(), ctx);
    assert.deepEqual(a, b);
    assert.deepEqual(a.slice(0, 3), ['id', 'externalId', 'userName']);
    assert.equal(a.at(-1), 'schemas');
    assert.ok(a.at(-2)!.startsWith('meta.'));
  });
});

describe("reading the scheme back (the sources' CSV reader)", () => {
  test('a BOM, quoted commas, doubled quotes and quoted newlines', async () => {
    const text =
      '\uFEFFid,userName,displayName,active\n1,ann,"Ann\nSmith, Jr.",true\n2,bob,"Bob ""B"" Builder",false\n';
    const records = await readAll(text);
    assert.deepEqual(
      records.map((r) => r.resource),
      [
        { id: '1', userName: 'ann', displayName: 'Ann\nSmith, Jr.', active: true },
        { id: '2', userName: 'bob', displayName: 'Bob "B" Builder', active: false },
      ],
    );
    assert.deepEqual(
      records.map((r) => r.line),
      [2, 4],
      'the line where each record starts',
    );
  });

  test('header names are trimmed; empty lines are skipped', async () => {
    const records = await readAll(' id , userName \n1,ann\n\n2,bob\n');
    assert.deepEqual(
      records.map((r) => r.resource),
      [
        { id: '1', userName: 'ann' },
        { id: '2', userName: 'bob' },
      ],
    );
    assert.deepEqual(
      records.map((r) => r.line),
      [2, 4],
    );
  });

  test('an invalid closing quote is named at the line of its record', async () => {
    const error = await readError('id,userName\n1,ann\n2,"bob"x\n3,carl\n', 'in.csv');
    assert.deepEqual(
      error.problems.map((p) => [p.file, p.line]),
      [['in.csv', 3]],
    );
    assert.match(error.message, /^in\.csv:3: .*Invalid Closing Quote/);
  });

  test(
    'an unclosed quote is reported at the line where the broken record starts, not ' + 'at the end of the file',
    async () => {
      const error = await readError('id,userName\n1,ann\n\n2,"bob\n3,carl\n4,dan\n5,eve\n', 'in.csv');
      assert.equal(error.problems[0]!.line, 4);
      assert.match(error.message, /^in\.csv:4/);
    },
  );

  test('a record with too many cells', async () => {
    const error = await readError('id,userName\n1,ann\n2,bob,extra\n');
    assert.equal(error.problems[0]!.line, 3);
  });

  test('a bad value after a multi-line record names the line its own record starts on', async () => {
    const error = await readError(
      'id,userName,displayName,active\n1,ann,"two\nlines",true\n2,bob,"also\ntwo",yes\n',
      'in.csv',
    );
    assert.deepEqual(
      error.problems.map((p) => [p.line, p.field]),
      [[4, 'active']],
    );
    assert.equal(error.message, 'in.csv:4: column "active": "yes" is not a boolean (true or false)');
  });
});

describe('canonicalResource', () => {
  test('ignores the order of keys and of multi-valued items; drops empty values', () => {
    const a = {
      b: [
        { value: 2, type: 'x' },
        { type: 'y', value: 1 },
      ],
      a: 'x',
      c: '',
      d: null,
      e: [],
      f: {},
    };
    const b = {
      a: 'x',
      b: [
        { value: 1, type: 'y' },
        { type: 'x', value: 2 },
      ],
    };
    assert.deepEqual(canonicalResource(a), canonicalResource(b));
    assert.notDeepEqual(canonicalResource({ a: [1, 2] }), canonicalResource({ a: [1, 3] }));
    assert.notDeepEqual(canonicalResource({ a: 1 }), canonicalResource({ a: '1' }));
  });
});

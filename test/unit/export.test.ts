import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { SchemaRegistry } from '../../src/api/schema.ts';
import { SCHEMA, type ScimResource } from '../../src/api/types.ts';
import { runInterruptCleanups } from '../../src/util/interrupt.ts';
import { writeCsv, writeJsonListResponse } from '../../src/formats/export.ts';
import { canonicalResource, type FlattenContext } from '../../src/formats/scim-csv.ts';
import { readExportCsv } from '../support/read-export-csv.ts';
import { prng } from './helpers.ts';

const ctx: FlattenContext = { registry: new SchemaRegistry(), coreSchema: SCHEMA.USER };
const ENT = SCHEMA.ENTERPRISE_USER;
const ACME = 'urn:example:params:scim:schemas:extension:acme:1.0:User';

/** A writable that keeps what is written. */
function sink() {
  const chunks: string[] = [];
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _enc, cb) {
      chunks.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

async function* from<T>(items: T[], onEach?: (i: number) => void): AsyncGenerator<T> {
  for (const [i, item] of items.entries()) {
    onEach?.(i);
    yield item;
  }
}

const GIVEN = ['Ann', 'Björn', 'Zoë', 'José', '李', "O'Brien", 'Anne-Marie', 'Łukasz'];
const FAMILY = ['Smith', 'Åberg', 'Nguyễn', 'Müller', 'van der Berg', 'Doe, Jr.', '"Quoted"', 'Ng'];

/** 200 users mixing every column shape: typed, JSON, extensions, odd characters, missing attributes. */
function generateUsers(n: number): ScimResource[] {
  const rnd = prng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const users: ScimResource[] = [];
  for (let i = 0; i < n; i++) {
    const given = pick(GIVEN);
    const family = pick(FAMILY);
    const u: ScimResource = {
      schemas: [SCHEMA.USER],
      id: `id-${i}-${Math.floor(rnd() * 1e9).toString(36)}`,
      userName: `${given.toLowerCase().replace(/[^a-z]/g, '') || 'user'}.${i}@example.com`,
    };
    if (i % 3 !== 0) u.externalId = `EXT${String(i).padStart(5, '0')}`;
    if (i % 4 !== 1) u.name = { givenName: given, familyName: family, formatted: `${given} ${family}` };
    if (i % 6 === 2) u.displayName = `${given} "${family}"\nsecond line, with comma`;
    else if (i % 2 === 0) u.displayName = `${given} ${family}`;
    if (i % 5 !== 4) u.active = rnd() < 0.7;
    if (i % 10 === 0) u.title = 'true';
    if (i % 11 === 0) u.nickName = '0042';

    if (i % 5 === 0) {
      u.emails = [{ value: `${i}@untyped.example.com` }, { value: `${i}.b@untyped.example.com`, primary: true }];
    } else if (i % 7 === 0) {
      u.emails = [
        { value: `${i}@a.example.com`, type: 'work' },
        { value: `${i}@b.example.com`, type: 'work', primary: true },
      ];
    } else if (i % 13 !== 0) {
      const emails: Array<Record<string, unknown>> = [{ value: `${i}@work.example.com`, type: 'work', primary: true }];
      if (rnd() < 0.5) emails.push({ value: `${i}@home.example.org`, type: 'home', primary: false });
      u.emails = emails;
    }
    if (i % 3 === 1)
      u.phoneNumbers = [{ value: `+1 555 ${String(i).padStart(4, '0')}`, type: pick(['work', 'mobile']) }];
    if (i % 9 === 0)
      u.addresses = [
        {
          type: 'work',
          streetAddress: `${i} Main St\nSuite ${i}`,
          locality: 'Springfield',
          country: 'US',
          primary: true,
        },
      ];
    if (i % 8 === 3)
      u.groups = [
        { value: 'g1', display: 'Sales', type: 'direct' },
        { value: 'g2', display: 'Ops', type: 'direct' },
      ];

    if (i % 2 === 1) {
      u.schemas!.push(ENT);
      u[ENT] = { employeeNumber: String(i).padStart(6, '0'), department: pick(['Sales', 'R&D', 'Ops, EMEA']) };
      if (i % 4 === 3)
        (u[ENT] as Record<string, unknown>).manager = { value: `id-mgr-${i % 10}`, displayName: `Manager ${i % 10}` };
    }
    if (i % 3 === 2) {
      u.schemas!.push(ACME);
      u[ACME] = {
        level: i % 10,
        ratio: Math.round(rnd() * 100) / 100,
        vip: i % 2 === 0,
        badge: String(i).padStart(4, '0'),
        note: `note ${i}`,
        tags: i % 2 ? ['x', 'y'] : [],
      };
    }
    u.meta = {
      resourceType: 'User',
      created: new Date(Date.UTC(2024, 0, 1) + i * 3600_000).toISOString(),
      version: `W/"v${i}"`,
      location: `https://scim.example.test/v2/Users/${i}`,
    };
    users.push(u);
  }
  return users;
}

/**
 * Runs `fn` with os.tmpdir() pointing at a fresh private directory; returns the directory's entries seen during and
 * after.
 */
async function withPrivateTmp<T>(
  fn: (peek: () => string[]) => Promise<T>,
): Promise<{ result: T; leftovers: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'scimctl-unit-tmp-'));
  const saved = { TMPDIR: process.env.TMPDIR, TMP: process.env.TMP, TEMP: process.env.TEMP };
  process.env.TMPDIR = process.env.TMP = process.env.TEMP = dir;
  try {
    assert.equal(tmpdir(), dir, 'os.tmpdir() follows TMPDIR');
    const result = await fn(() => readdirSync(dir));
    return { result, leftovers: readdirSync(dir) };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('writeJsonListResponse', () => {
  test('is a ListResponse whose totalResults is the count and whose resources are identical', async () => {
    const users = generateUsers(200);
    const out = sink();
    const n = await writeJsonListResponse(from(users), out.stream);
    assert.equal(n, 200);
    const parsed = JSON.parse(out.text()) as Record<string, unknown>;
    assert.deepEqual(parsed.schemas, [SCHEMA.LIST_RESPONSE]);
    assert.equal(parsed.totalResults, 200);
    assert.equal(parsed.itemsPerPage, 200);
    assert.equal(parsed.startIndex, 1);
    assert.deepEqual(parsed.Resources, users);
  });

  test('an empty listing is a valid ListResponse', async () => {
    const out = sink();
    assert.equal(await writeJsonListResponse(from([]), out.stream), 0);
    assert.deepEqual(JSON.parse(out.text()), {
      schemas: [SCHEMA.LIST_RESPONSE],
      Resources: [],
      totalResults: 0,
      itemsPerPage: 0,
      startIndex: 1,
    });
  });
});

describe('writeCsv', () => {
  test('200 mixed users read back to canonically identical resources, and the spool directory is removed', async () => {
    const users = generateUsers(200);
    const out = sink();
    let spoolSeen: string[] = [];
    const { result: n, leftovers } = await withPrivateTmp((peek) =>
      writeCsv(
        from(users, (i) => {
          if (i === 100) spoolSeen = peek();
        }),
        out.stream,
        ctx,
      ),
    );
    assert.equal(n, 200);
    assert.equal(spoolSeen.length, 1, 'a spool directory existed while writing');
    assert.match(spoolSeen[0]!, /^scimctl-export-/);
    assert.deepEqual(leftovers, [], 'no scimctl-export-* directory is left behind');

    const text = out.text();
    const header = text.slice(0, text.indexOf('\n')).split(',');
    assert.deepEqual(header.slice(0, 3), ['id', 'externalId', 'userName']);
    assert.equal(header.at(-1), 'schemas');
    for (const column of [
      'emails',
      'emails[work].value',
      'emails[home].value',
      'groups',
      `${ENT}:manager.value`,
      `${ACME}:badge`,
    ]) {
      assert.ok(header.includes(column), `column ${column}`);
    }

    const back: ScimResource[] = [];
    for await (const r of readExportCsv(Readable.from([Buffer.from(text, 'utf8')]), 'export.csv', ctx))
      back.push(r.resource as ScimResource);
    assert.equal(back.length, 200);
    assert.deepEqual(
      back.map((r) => r.id),
      users.map((u) => u.id),
      'same order',
    );
    for (const [i, u] of users.entries()) {
      assert.deepEqual(canonicalResource(back[i]), canonicalResource(u), `user ${i} (${u.id})`);
    }
  });

  test('a failing source rejects and still removes the spool directory', async () => {
    const users = generateUsers(10);
    async function* failing(): AsyncGenerator<ScimResource> {
      yield* users.slice(0, 5);
      throw new Error('source broke');
    }
    const out = sink();
    const { leftovers } = await withPrivateTmp(async () => {
      await assert.rejects(writeCsv(failing(), out.stream, ctx), /source broke/);
    });
    assert.deepEqual(leftovers, []);
    assert.equal(out.text(), '', 'nothing is written when the source fails');
  });

  test('Ctrl+C while spooling removes the spool directory (it holds the exported users)', async () => {
    const users = generateUsers(5);
    let reached!: () => void;
    const atGate = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    async function* stuck(): AsyncGenerator<ScimResource> {
      yield* users;
      reached();
      await gate; // the next page never comes
    }
    const out = sink();
    const { leftovers } = await withPrivateTmp(async (peek) => {
      const writing = writeCsv(stuck(), out.stream, ctx).then(
        () => undefined,
        (e: unknown) => e,
      );
      await atGate;
      assert.equal(peek().filter((d) => d.startsWith('scimctl-export-')).length, 1, 'spooling');
      runInterruptCleanups(); // what src/cli.ts does on SIGINT, right before process.exit
      const afterInterrupt = peek();
      release();
      await writing;
      assert.deepEqual(afterInterrupt, [], 'removed by the interrupt clean-up, before the process exits');
    });
    assert.deepEqual(leftovers, []);
  });

  test('an empty listing writes an empty header and no rows', async () => {
    const out = sink();
    const { result: n, leftovers } = await withPrivateTmp(() => writeCsv(from([]), out.stream, ctx));
    assert.equal(n, 0);
    assert.deepEqual(leftovers, []);
    assert.ok(
      out
        .text()
        .split('\n')
        .filter((l) => l !== '').length <= 1,
    );
  });
});

describe('writeCsv: formula cells', () => {
  const TRICKY = [
    '=1+1',
    '+1 boss',
    '-2+3',
    '@SUM(A1)',
    '\tTab',
    '\rCR',
    "'=lit",
    "''-x",
    "'",
    "'t Hooft",
    '-5',
    '-1.5e3',
    'plain',
    '= spaced',
    "'@",
  ];
  const users: ScimResource[] = TRICKY.map((v, i) => ({
    schemas: [SCHEMA.USER],
    id: `id${i}`,
    userName: `u${i}@example.com`,
    displayName: v,
    [ACME]: { badge: v },
  }));

  test('cells a spreadsheet would run are written with a quote in front, and read back as they were', async () => {
    const out = sink();
    await writeCsv(from(users), out.stream, ctx);
    const text = out.text();
    const back: ScimResource[] = [];
    for await (const r of readExportCsv(Readable.from([Buffer.from(text, 'utf8')]), 'export.csv', ctx))
      back.push(r.resource as ScimResource);
    assert.deepEqual(
      back.map((r) => r.displayName),
      TRICKY,
    );
    assert.deepEqual(
      back.map((r) => (r[ACME] as { badge: string }).badge),
      TRICKY,
    );
    const { parse } = await import('csv-parse/sync');
    const rows = parse(text, { columns: true }) as Array<Record<string, string>>;
    for (const row of rows) {
      assert.doesNotMatch(
        row.displayName!,
        /^[=+@\t\r]|^-(?!\d+(\.\d+)?(e\d+)?$)/i,
        `escaped: ${JSON.stringify(row.displayName)}`,
      );
    }
    assert.equal(rows[0]!.displayName, "'=1+1");
    assert.equal(rows[6]!.displayName, "''=lit");
    assert.equal(rows[9]!.displayName, "'t Hooft");
    assert.equal(rows[10]!.displayName, '-5');
  });

  test('formulaEscape false writes the cells as they are', async () => {
    const out = sink();
    await writeCsv(from(users.slice(0, 1)), out.stream, ctx, { formulaEscape: false });
    assert.match(out.text(), /\n[^\n]*,=1\+1,/);
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BulkOperation } from '../../src/api/bulk.ts';
import { ScimClient } from '../../src/api/client.ts';
import type { Capabilities } from '../../src/api/discovery.ts';
import type { Pacer } from '../../src/api/executor.ts';
import { SCHEMA, type ScimUser } from '../../src/api/types.ts';
import {
  createManyUsers,
  type CreateManyOptions,
  type CreateRecord,
  type CreateResult,
} from '../../src/sync/create-many.ts';
import {
  BASE,
  caps,
  fakeFetch,
  listResponse,
  recordingSleep,
  scimError,
  scimJson,
  type FakeRequest,
} from './helpers.ts';

const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

const rec = (resource: Record<string, unknown>, line: number): CreateRecord => ({
  resource: { schemas: [SCHEMA.USER], ...resource },
  file: 'users.csv',
  line,
});
const newUsers = (n: number, prefix = 'new') =>
  Array.from({ length: n }, (_, i) => rec({ userName: `${prefix}${i}@example.com` }, i + 2));

interface ServerOptions {
  existing?: ScimUser[];
  /** userNames the server answers 409 (already there, but not seen in the listing). */
  conflict?: string[];
  /** userNames the server answers 400 with a detail. */
  invalid?: string[];
  /** How /Bulk answers (default: it works). */
  bulk?: 'ok' | 501 | 404 | 500 | '500-after-acting';
  /** Hold each POST /Users until this many are in flight (or a budget of microtask turns runs out). */
  holdUntil?: number;
}

/** A /Users endpoint that pages its users, creates on POST, and (optionally) takes /Bulk. */
function usersServer(opts: ServerOptions = {}) {
  const store: ScimUser[] = [...(opts.existing ?? [])];
  let nextId = 1;
  let inFlight = 0;
  let maxInFlight = 0;
  const bulkBatches: BulkOperation[][] = [];

  const createOne = (body: Record<string, unknown>): { status: number; body: unknown } => {
    const userName = String(body.userName);
    if (opts.conflict?.includes(userName))
      return {
        status: 409,
        body: {
          schemas: [SCHEMA.ERROR],
          status: '409',
          scimType: 'uniqueness',
          detail: `userName ${userName} is taken`,
        },
      };
    if (opts.invalid?.includes(userName))
      return {
        status: 400,
        body: {
          schemas: [SCHEMA.ERROR],
          status: '400',
          scimType: 'invalidValue',
          detail: `${userName}: emails must be set`,
        },
      };
    const user = { ...(body as ScimUser), id: `id-${nextId++}` };
    store.push(user);
    return { status: 201, body: user };
  };

  const f = fakeFetch(async (req: FakeRequest) => {
    const path = req.url.pathname.replace('/scim/v2', '');
    if (req.method === 'GET' && path === '/Users') {
      const start = Number(req.url.searchParams.get('startIndex') ?? '1');
      const count = Number(req.url.searchParams.get('count') ?? '100');
      const page = store
        .slice(start - 1, start - 1 + count)
        .map((u) => ({ id: u.id, userName: u.userName, externalId: u.externalId }));
      return scimJson(listResponse(page, { totalResults: store.length, startIndex: start, itemsPerPage: page.length }));
    }
    if (req.method === 'POST' && path === '/Users') {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (opts.holdUntil !== undefined) {
        for (let turns = 0; inFlight < opts.holdUntil && turns < 2000; turns++) await Promise.resolve();
      }
      inFlight--;
      const out = createOne(JSON.parse(req.body!) as Record<string, unknown>);
      return out.status === 201 ? scimJson(out.body, 201) : scimJson(out.body, out.status);
    }
    if (req.method === 'POST' && path === '/Bulk') {
      if (typeof opts.bulk === 'number') return scimError(opts.bulk, 'Bulk is not available');
      const body = JSON.parse(req.body!) as { schemas: string[]; Operations: BulkOperation[] };
      if (opts.bulk === '500-after-acting') {
        for (const op of body.Operations) createOne(op.data as Record<string, unknown>);
        return scimError(500, 'timeout writing the response');
      }
      assert.deepEqual(body.schemas, [SCHEMA.BULK_REQUEST]);
      bulkBatches.push(body.Operations);
      const results = body.Operations.map((op, k) => {
        assert.equal(op.method, 'POST');
        assert.equal(op.path, '/Users');
        const out = createOne(op.data as Record<string, unknown>);
        const id = out.status === 201 ? (out.body as ScimUser).id : undefined;
        // Vary the forms: status as a string or a number, location with or without a body.
        return {
          bulkId: op.bulkId,
          method: 'POST',
          status: k % 2 === 0 ? String(out.status) : out.status,
          ...(id ? { location: `${BASE}/Users/${id}` } : {}),
          ...(id && k % 3 === 0 ? {} : { response: out.body }),
        };
      });
      // Answer in reverse order: results must be matched by bulkId.
      return scimJson({ schemas: [BULK_RESPONSE], Operations: results.reverse() });
    }
    return scimError(404, `no route ${req.method} ${path}`);
  });

  return {
    f,
    store,
    bulkBatches,
    maxInFlight: () => maxInFlight,
    posts: () => f.calls.filter((c) => c.method === 'POST' && c.url.pathname.endsWith('/Users')),
    bulks: () => f.calls.filter((c) => c.url.pathname.endsWith('/Bulk')),
    gets: () => f.calls.filter((c) => c.method === 'GET'),
  };
}

function setup(opts: ServerOptions = {}, change: (c: Capabilities) => void = () => undefined) {
  const server = usersServer(opts);
  const capabilities = caps(change);
  const client = new ScimClient({ baseUrl: BASE, fetch: server.f.fetch, sleep: recordingSleep().sleep, capabilities });
  return { server, client, capabilities };
}

function countingPacer(): Pacer & { waits: number } {
  const p = {
    waits: 0,
    async wait() {
      p.waits++;
    },
  };
  return p;
}

const options = (extra: Partial<CreateManyOptions> = {}): CreateManyOptions => ({
  concurrency: 4,
  bulk: 'auto',
  ...extra,
});
const statuses = (results: CreateResult[]) => results.map((r) => r.status);
const postedUserNames = (calls: FakeRequest[]) =>
  calls.map((c) => (JSON.parse(c.body!) as { userName: string }).userName);

const bulkCaps =
  (maxOperations: number, maxPayloadSize = 0) =>
  (c: Capabilities) => {
    c.bulk = { supported: true, maxOperations, maxPayloadSize };
  };

describe('createManyUsers: single requests', () => {
  test(
    'existing users (userName case-insensitively, externalId exactly) are skipped ' +
      'without a POST, found by one listing',
    async () => {
      const existing: ScimUser[] = [
        ...Array.from({ length: 150 }, (_, i) => ({ id: `old-${i}`, userName: `old${i}@example.com` })),
        { id: 'ann-id', userName: 'Ann@Example.com' },
        { id: 'bob-id', userName: 'bob@example.com', externalId: 'EXT-2' },
      ];
      const { server, client, capabilities } = setup({ existing });
      const records = [
        rec({ userName: 'ann@example.com' }, 2),
        rec({ userName: 'robert@example.com', externalId: 'EXT-2' }, 3),
        rec({ userName: 'carol@example.com', externalId: 'ext-2' }, 4),
        rec({ userName: 'OLD7@EXAMPLE.COM' }, 5),
        rec({ userName: 'dave@example.com' }, 6),
      ];
      const results = await createManyUsers(client, capabilities, records, options());
      assert.deepEqual(statuses(results), ['skipped', 'skipped', 'created', 'skipped', 'created']);
      assert.deepEqual(
        results.map((r) => r.id),
        ['ann-id', 'bob-id', results[2]!.id, 'old-7', results[4]!.id],
      );
      assert.deepEqual(
        results.map((r) => r.detail),
        ['userName exists', 'externalId exists', undefined, 'userName exists', undefined],
      );
      assert.ok(results[2]!.id?.startsWith('id-') && results[4]!.id?.startsWith('id-'));
      assert.deepEqual(
        results.map((r) => r.record),
        records,
      );
      assert.deepEqual(postedUserNames(server.posts()).sort(), ['carol@example.com', 'dave@example.com']);
      // One listing, page by page: no lookup per record.
      const gets = server.gets();
      assert.ok(gets.every((g) => g.url.pathname === '/scim/v2/Users' && g.url.searchParams.get('filter') === null));
      assert.ok(gets.every((g) => g.url.searchParams.get('attributes') === 'userName,externalId'));
      assert.deepEqual(
        gets.map((g) => g.url.searchParams.get('startIndex')),
        ['1', '101', '153'],
      );
    },
  );

  test('409 on POST: skipped; 400: failed with the server detail; the others are still created', async () => {
    const { server, client, capabilities } = setup({ conflict: ['taken@example.com'], invalid: ['bad@example.com'] });
    const records = [
      rec({ userName: 'a@example.com' }, 2),
      rec({ userName: 'taken@example.com' }, 3),
      rec({ userName: 'bad@example.com' }, 4),
      rec({ userName: 'b@example.com' }, 5),
    ];
    const told: CreateResult[] = [];
    const results = await createManyUsers(client, capabilities, records, options({ onResult: (r) => told.push(r) }));
    assert.deepEqual(statuses(results), ['created', 'skipped', 'failed', 'created']);
    assert.match(results[1]!.detail!, /already exists/);
    assert.match(results[1]!.detail!, /userName taken@example.com is taken/);
    assert.equal(results[2]!.detail, 'bad@example.com: emails must be set');
    assert.equal(results[2]!.id, undefined);
    assert.equal(server.posts().length, 4, 'one POST each, none retried');
    assert.deepEqual(server.store.map((u) => u.userName).sort(), ['a@example.com', 'b@example.com']);
    assert.equal(told.length, 4);
    assert.deepEqual(new Set(told), new Set(results), 'onResult told of every result once');
  });

  test('server-owned attributes in a record are not sent', async () => {
    const { server, client, capabilities } = setup();
    await createManyUsers(
      client,
      capabilities,
      [rec({ id: 'x', meta: { version: '1' }, groups: [{ value: 'g' }], userName: 'a@example.com', title: 'T' }, 2)],
      options(),
    );
    assert.deepEqual(JSON.parse(server.posts()[0]!.body!), {
      schemas: [SCHEMA.USER],
      userName: 'a@example.com',
      title: 'T',
    });
  });

  for (const concurrency of [1, 3, 5]) {
    test(`concurrency ${concurrency} is respected and used`, async () => {
      const { server, client, capabilities } = setup({ holdUntil: concurrency });
      const results = await createManyUsers(client, capabilities, newUsers(12), options({ concurrency }));
      assert.ok(results.every((r) => r.status === 'created'));
      assert.equal(server.posts().length, 12);
      assert.equal(server.maxInFlight(), concurrency);
    });
  }

  test('the pacer is awaited once per request', async () => {
    const { server, client, capabilities } = setup({
      existing: [{ id: 'e', userName: 'new3@example.com' }],
      conflict: ['new4@example.com'],
    });
    const pacer = countingPacer();
    await createManyUsers(client, capabilities, newUsers(6), options({ pacer }));
    assert.equal(server.posts().length, 5);
    assert.equal(pacer.waits, 5);
  });

  test('nothing to create: only the listing', async () => {
    const { server, client, capabilities } = setup(
      { existing: [{ id: 'e', userName: 'new0@example.com' }] },
      bulkCaps(10),
    );
    const results = await createManyUsers(client, capabilities, newUsers(1), options());
    assert.deepEqual(statuses(results), ['skipped']);
    assert.ok(server.f.calls.every((c) => c.method === 'GET'));
  });
});

describe('createManyUsers: Bulk', () => {
  test(
    'creates go through /Bulk in batches of maxOperations; per-op 201/409/400 ' + 'become created/skipped/failed',
    async () => {
      const { server, client, capabilities } = setup(
        { conflict: ['new3@example.com'], invalid: ['new5@example.com'] },
        bulkCaps(3),
      );
      const pacer = countingPacer();
      const records = newUsers(7);
      const results = await createManyUsers(client, capabilities, records, options({ pacer }));
      assert.equal(server.posts().length, 0, 'no single POSTs');
      assert.deepEqual(
        server.bulkBatches.map((b) => b.length),
        [3, 3, 1],
      );
      assert.equal(pacer.waits, 3, 'one wait per Bulk request');
      assert.deepEqual(statuses(results), ['created', 'created', 'created', 'skipped', 'created', 'failed', 'created']);
      assert.match(results[3]!.detail!, /already exists \(HTTP 409 uniqueness: userName new3@example.com is taken\)/);
      assert.equal(results[5]!.detail, 'HTTP 400 invalidValue: new5@example.com: emails must be set');
      // Every created record has the id the server gave it (from the response, or else from the location).
      for (const [i, r] of results.entries()) {
        if (r.status !== 'created') continue;
        const stored = server.store.find((u) => u.userName === records[i]!.resource.userName);
        assert.equal(r.id, stored?.id, `record ${i}`);
      }
      assert.deepEqual(
        results.map((r) => r.record),
        records,
      );
      const sent = server.bulkBatches.flat();
      assert.deepEqual(
        sent.map((op) => (op.data as { userName: string }).userName),
        records.map((r) => r.resource.userName),
      );
      assert.equal(new Set(sent.map((op) => op.bulkId)).size, 7, 'distinct bulkIds');
    },
  );

  test('without a maxOperations, batches of 100', async () => {
    const { server, client, capabilities } = setup({ bulk: 'ok' }, bulkCaps(0));
    const results = await createManyUsers(client, capabilities, newUsers(230), options());
    assert.deepEqual(
      server.bulkBatches.map((b) => b.length).sort((a, b) => b - a),
      [100, 100, 30],
    );
    assert.ok(results.every((r) => r.status === 'created'));
    assert.equal(server.store.length, 230);
  });

  test('maxPayloadSize splits the batches too', async () => {
    const { server, client, capabilities } = setup({ bulk: 'ok' }, bulkCaps(100, 600));
    const results = await createManyUsers(client, capabilities, newUsers(10), options());
    assert.ok(server.bulkBatches.length > 1);
    for (const b of server.bulks()) assert.ok(Buffer.byteLength(b.body!) <= 600, `${Buffer.byteLength(b.body!)} bytes`);
    assert.ok(results.every((r) => r.status === 'created'));
  });

  for (const status of [501, 404] as const) {
    test(`/Bulk answering ${status}: single POSTs for all, and Bulk is off for the rest of the run`, async () => {
      const { server, client, capabilities } = setup({ bulk: status }, bulkCaps(3));
      const pacer = countingPacer();
      const records = newUsers(7);
      const results = await createManyUsers(client, capabilities, records, options({ pacer }));
      assert.equal(capabilities.bulk.supported, false);
      assert.ok(
        results.every((r) => r.status === 'created'),
        JSON.stringify(results.map((r) => r.detail)),
      );
      assert.deepEqual(postedUserNames(server.posts()).sort(), records.map((r) => String(r.resource.userName)).sort());
      assert.ok(server.bulks().length >= 1 && server.bulks().length <= 2, 'at most the batches already in flight');
      assert.equal(pacer.waits, server.bulks().length + 7, 'one wait per request');
      // A second run goes straight to single POSTs.
      const before = server.bulks().length;
      await createManyUsers(client, capabilities, newUsers(3, 'more'), options());
      assert.equal(server.bulks().length, before);
    });
  }

  test(
    '/Bulk failing otherwise (500): each user is looked up (it may have been ' + 'made), then created on its own',
    async () => {
      const { server, client, capabilities } = setup({ bulk: 500 }, bulkCaps(10));
      const results = await createManyUsers(client, capabilities, newUsers(3), options());
      assert.deepEqual(statuses(results), ['created', 'created', 'created']);
      assert.equal(server.posts().length, 3);
      assert.equal(server.bulks().length, 1);
      assert.equal(server.store.length, 3);
      assert.equal(capabilities.bulk.supported, true);
    },
  );

  test('/Bulk answering 500 after it made the users: found by the look-up, never made twice', async () => {
    const { server, client, capabilities } = setup({ bulk: '500-after-acting' }, bulkCaps(10));
    const results = await createManyUsers(client, capabilities, newUsers(3), options());
    assert.deepEqual(statuses(results), ['created', 'created', 'created']);
    assert.equal(server.posts().length, 0, 'no POST: each user was found');
    assert.equal(server.store.length, 3);
    assert.deepEqual(results.map((r) => r.id).sort(), server.store.map((u) => u.id).sort());
  });

  test("bulk: 'never' never calls /Bulk", async () => {
    const { server, client, capabilities } = setup({ bulk: 'ok' }, bulkCaps(3));
    const results = await createManyUsers(client, capabilities, newUsers(5), options({ bulk: 'never' }));
    assert.equal(server.bulks().length, 0);
    assert.equal(server.posts().length, 5);
    assert.ok(results.every((r) => r.status === 'created'));
  });

  test('a server that does not advertise Bulk is not sent /Bulk', async () => {
    const { server, client, capabilities } = setup({ bulk: 'ok' });
    await createManyUsers(client, capabilities, newUsers(5), options());
    assert.equal(server.bulks().length, 0);
    assert.equal(server.posts().length, 5);
  });

  test('existing users are left out of the Bulk request', async () => {
    const { server, client, capabilities } = setup(
      { bulk: 'ok', existing: [{ id: 'e1', userName: 'NEW1@example.com' }] },
      bulkCaps(10),
    );
    const results = await createManyUsers(client, capabilities, newUsers(4), options());
    assert.deepEqual(statuses(results), ['created', 'skipped', 'created', 'created']);
    assert.deepEqual(
      server.bulkBatches.flat().map((op) => (op.data as { userName: string }).userName),
      ['new0@example.com', 'new2@example.com', 'new3@example.com'],
    );
  });

  test('an operation the Bulk response leaves out is failed, not assumed created', async () => {
    const f = fakeFetch((req) => {
      if (req.method === 'GET') return scimJson(listResponse([]));
      const ops = (JSON.parse(req.body!) as { Operations: BulkOperation[] }).Operations;
      return scimJson({
        schemas: [BULK_RESPONSE],
        Operations: [{ bulkId: ops[1]!.bulkId, status: '201', response: { id: 'only' } }],
      });
    });
    const capabilities = caps(bulkCaps(10));
    const client = new ScimClient({ baseUrl: BASE, fetch: f.fetch, sleep: recordingSleep().sleep, capabilities });
    const results = await createManyUsers(client, capabilities, newUsers(3), options());
    assert.deepEqual(statuses(results), ['failed', 'created', 'failed']);
    assert.equal(results[1]!.id, 'only');
    assert.match(results[0]!.detail!, /HTTP \?/);
  });
});

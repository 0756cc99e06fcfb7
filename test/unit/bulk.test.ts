import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { batchOperations, sendBulk, type BulkOperation } from '../../src/api/bulk.ts';
import { ResponseError, ResponseValidationError, ScimError } from '../../src/api/errors.ts';
import { Transport } from '../../src/api/http.ts';
import { SCHEMA } from '../../src/api/types.ts';
import { BASE, fakeFetch, recordingSleep, rejection, scimError, scimJson, type Handler } from './helpers.ts';

const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

const post = (i: number, extra = ''): BulkOperation => ({
  method: 'POST',
  path: '/Users',
  bulkId: `b${i}`,
  data: { schemas: [SCHEMA.USER], userName: `user${i}@example.com${extra}` },
});

/** The bytes of a Bulk request carrying `ops`, as it is sent. */
const requestBytes = (ops: readonly BulkOperation[]) =>
  Buffer.byteLength(JSON.stringify({ schemas: [SCHEMA.BULK_REQUEST], Operations: ops }));

describe('batchOperations', () => {
  test('at most maxOperations per batch, in order', () => {
    const ops = Array.from({ length: 7 }, (_, i) => post(i));
    const batches = batchOperations(ops, 3, 0);
    assert.deepEqual(
      batches.map((b) => b.length),
      [3, 3, 1],
    );
    assert.deepEqual(batches.flat(), ops);
  });

  test('no limits: one batch; no operations: no batch', () => {
    const ops = Array.from({ length: 250 }, (_, i) => post(i));
    assert.deepEqual(batchOperations(ops, 0, 0), [ops]);
    assert.deepEqual(batchOperations([], 10, 1000), []);
  });

  test('every batch fits maxPayloadSize, and none is empty', () => {
    const ops = Array.from({ length: 40 }, (_, i) => post(i, 'x'.repeat(i * 7)));
    const max = 2000;
    const batches = batchOperations(ops, 0, max);
    assert.ok(batches.length > 3, `split into ${batches.length}`);
    for (const b of batches) {
      assert.ok(b.length > 0);
      assert.ok(requestBytes(b) <= max, `${requestBytes(b)} bytes`);
    }
    assert.deepEqual(batches.flat(), ops);
    // Batches are full: the first operation of the next batch would not have fitted.
    for (let k = 0; k + 1 < batches.length; k++) {
      // (>=: the size estimate may be a byte conservative, never more.)
      assert.ok(requestBytes([...batches[k]!, batches[k + 1]![0]!]) >= max, `batch ${k} could have taken more`);
    }
  });

  test('sizes are counted in bytes, not characters', () => {
    const wide = (i: number): BulkOperation => ({
      method: 'POST',
      path: '/Users',
      bulkId: `w${i}`,
      data: { userName: 'é'.repeat(100) },
    });
    const ops = [wide(0), wide(1)];
    const one = requestBytes([ops[0]!]);
    const chars = JSON.stringify({ schemas: [SCHEMA.BULK_REQUEST], Operations: ops }).length;
    // Both fit in characters, not in bytes.
    const max = Math.max(one + 10, chars + 5);
    assert.ok(requestBytes(ops) > max);
    assert.deepEqual(
      batchOperations(ops, 0, max).map((b) => b.length),
      [1, 1],
    );
  });

  test('an operation larger than maxPayloadSize still goes, alone', () => {
    const small1 = post(1);
    const huge = post(2, 'y'.repeat(5000));
    const small2 = post(3);
    const batches = batchOperations([small1, huge, small2], 0, 1000);
    assert.deepEqual(batches, [[small1], [huge], [small2]]);
    assert.deepEqual(batchOperations([huge], 0, 10), [[huge]]);
  });

  test('both limits together: whichever is reached first', () => {
    const ops = Array.from({ length: 10 }, (_, i) => post(i));
    const per = requestBytes([ops[0]!]);
    const bySize = batchOperations(ops, 5, per * 2);
    assert.ok(bySize.every((b) => b.length <= 2 && requestBytes(b) <= per * 2));
    const byCount = batchOperations(ops, 4, 1_000_000);
    assert.deepEqual(
      byCount.map((b) => b.length),
      [4, 4, 2],
    );
  });
});

function bulkServer(handler: Handler) {
  const f = fakeFetch(handler);
  const sleep = recordingSleep();
  const transport = new Transport({ baseUrl: BASE, fetch: f.fetch, sleep: sleep.sleep });
  return { transport, f, sleep };
}

const bulkResponse = (ops: unknown[]) => scimJson({ schemas: [BULK_RESPONSE], Operations: ops });

describe('sendBulk', () => {
  test('sends a BulkRequest to /Bulk, with bulkIds (kept, or given by position)', async () => {
    const { transport, f } = bulkServer(() => bulkResponse([]));
    const ops: BulkOperation[] = [
      post(0),
      { method: 'DELETE', path: '/Users/u9' },
      { method: 'PATCH', path: '/Groups/g1', data: { Operations: [] } },
    ];
    await sendBulk(transport, ops);
    assert.equal(f.calls.length, 1);
    assert.equal(f.calls[0]!.method, 'POST');
    assert.equal(f.calls[0]!.url.pathname, '/scim/v2/Bulk');
    assert.equal(f.calls[0]!.headers.get('content-type'), 'application/scim+json');
    assert.deepEqual(f.json(0), {
      schemas: [SCHEMA.BULK_REQUEST],
      Operations: [
        { ...post(0) },
        { method: 'DELETE', path: '/Users/u9', bulkId: 'op1' },
        { method: 'PATCH', path: '/Groups/g1', data: { Operations: [] }, bulkId: 'op2' },
      ],
    });
    assert.deepEqual(ops[1], { method: 'DELETE', path: '/Users/u9' }, 'the input is not mutated');
  });

  test('results are mapped by bulkId when the server reorders them', async () => {
    const { transport } = bulkServer(() =>
      bulkResponse([
        {
          bulkId: 'b2',
          method: 'POST',
          status: '400',
          response: { schemas: [SCHEMA.ERROR], status: '400', detail: 'bad', scimType: 'invalidValue' },
        },
        { bulkId: 'b0', method: 'POST', status: '201', location: `${BASE}/Users/id0`, response: { id: 'id0' } },
        { bulkId: 'b1', method: 'POST', status: '409' },
      ]),
    );
    const results = await sendBulk(transport, [post(0), post(1), post(2)]);
    assert.deepEqual(results, [
      { status: 201, bulkId: 'b0', location: `${BASE}/Users/id0`, response: { id: 'id0' } },
      { status: 409, bulkId: 'b1', location: undefined, response: undefined },
      {
        status: 400,
        bulkId: 'b2',
        location: undefined,
        response: { schemas: [SCHEMA.ERROR], status: '400', detail: 'bad', scimType: 'invalidValue' },
      },
    ]);
  });

  test('results without bulkIds are mapped by position', async () => {
    const { transport } = bulkServer(() => bulkResponse([{ status: '201', location: '/Users/x' }, { status: '409' }]));
    const results = await sendBulk(transport, [
      { method: 'DELETE', path: '/Users/a' },
      { method: 'DELETE', path: '/Users/b' },
    ]);
    assert.deepEqual(
      results.map((r) => [r.bulkId, r.status, r.location]),
      [
        ['op0', 201, '/Users/x'],
        ['op1', 409, undefined],
      ],
    );
  });

  test('status as "201", 201, { code: 201 } or { code: "204" }', async () => {
    const { transport } = bulkServer(() =>
      bulkResponse([
        { bulkId: 'b0', status: '201' },
        { bulkId: 'b1', status: 201 },
        { bulkId: 'b2', status: { code: 201 } },
        { bulkId: 'b3', status: { code: '204' } },
        { bulkId: 'b4', status: '412 Precondition Failed' },
      ]),
    );
    const results = await sendBulk(
      transport,
      [0, 1, 2, 3, 4].map((i) => post(i)),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      [201, 201, 201, 204, 412],
    );
  });

  test('an operation the server did not answer, or answered without a status, gets status 0', async () => {
    const { transport } = bulkServer(() => bulkResponse([{ bulkId: 'b0', status: '201' }, { bulkId: 'b1' }]));
    const results = await sendBulk(transport, [post(0), post(1), post(2)]);
    assert.deepEqual(
      results.map((r) => [r.bulkId, r.status]),
      [
        ['b0', 201],
        ['b1', 0],
        ['b2', 0],
      ],
    );
  });

  test("another operation's result is never taken by position", async () => {
    // The server answered b1 and b2 (reordered) and left b0 out: b0 must not get b2's 201.
    const { transport } = bulkServer(() =>
      bulkResponse([
        { bulkId: 'b2', status: '201', response: { id: 'id2' } },
        { bulkId: 'b1', status: '409' },
      ]),
    );
    const results = await sendBulk(transport, [post(0), post(1), post(2)]);
    assert.deepEqual(
      results.map((r) => [r.bulkId, r.status]),
      [
        ['b0', 0],
        ['b1', 409],
        ['b2', 201],
      ],
    );
    assert.equal(results[0]!.response, undefined);
  });

  test('a response without Operations is a ResponseValidationError', async () => {
    for (const body of [{ schemas: [BULK_RESPONSE] }, { schemas: [BULK_RESPONSE], Operations: 'none' }, []]) {
      const { transport } = bulkServer(() => scimJson(body));
      const e = await rejection(sendBulk(transport, [post(0)]));
      assert.ok(e instanceof ResponseValidationError, `${JSON.stringify(body)}: ${String(e)}`);
      assert.equal(e.status, 200);
      assert.match(e.message, /Operations/);
    }
    const empty = bulkServer(() => new Response(null, { status: 200 }));
    assert.ok((await rejection(sendBulk(empty.transport, [post(0)]))) instanceof ResponseValidationError);
  });

  test('a server without /Bulk: the status is reported, not hidden', async () => {
    for (const status of [404, 501]) {
      const { transport } = bulkServer(() => scimError(status, 'no bulk'));
      const e = await rejection(sendBulk(transport, [post(0)]));
      assert.ok(e instanceof ResponseError);
      assert.equal(e.status, status);
    }
  });

  test('a 500 on /Bulk is not resent (its operations may have been applied)', async () => {
    const { transport, f, sleep } = bulkServer(() => scimError(500, 'oops'));
    const e = await rejection(sendBulk(transport, [post(0)]));
    assert.ok(e instanceof ScimError);
    assert.equal(f.calls.length, 1);
    assert.deepEqual(sleep.delays, []);
  });
});

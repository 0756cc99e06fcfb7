import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Transport, WriteGate } from '../../src/api/http.ts';
import { ScimClient } from '../../src/api/client.ts';
import { BASE, caps, fakeFetch, recordingSleep, scimError, scimJson } from './helpers.ts';

/** Lets every pending promise callback run (no timer: one turn of the event loop). */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Acquires `n` slots at once; resolves when all of them were granted. */
async function fill(gate: WriteGate, n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, () => gate.acquire()));
}

/** Starts an acquire that records `name` in `order` when it is granted. */
function waiter(gate: WriteGate, name: string, order: string[]): Promise<void> {
  return gate.acquire().then(() => void order.push(name));
}

describe('WriteGate', () => {
  test('unlimited at first: many acquires are granted at once', async () => {
    const gate = new WriteGate();
    assert.equal(gate.limit, Infinity);
    await fill(gate, 50);
  });

  test('an overloaded release with 4 in flight halves to 2 and says so once', async () => {
    const lowered: Array<[number, string]> = [];
    const gate = new WriteGate(Infinity, (limit, reason) => lowered.push([limit, reason]));
    await fill(gate, 4);
    gate.release(true, 'HTTP 500');
    assert.equal(gate.limit, 2);
    assert.deepEqual(lowered, [[2, 'HTTP 500']]);
  });

  test('successes do not lower the limit, and an unlimited gate does not grow or call onLower', async () => {
    const lowered: number[] = [];
    const gate = new WriteGate(Infinity, (l) => lowered.push(l));
    await fill(gate, 3);
    for (let i = 0; i < 3; i++) gate.release(false);
    assert.equal(gate.limit, Infinity);
    assert.deepEqual(lowered, []);
  });

  test('an overloaded release does not raise a limit that is already lower than the concurrency', async () => {
    const lowered: number[] = [];
    const gate = new WriteGate(Infinity, (l) => lowered.push(l));
    await fill(gate, 8);
    gate.release(true); // 8 in flight → 4
    gate.release(true); // min(4, 7) / 2 → 2
    gate.release(true); // min(2, 6) / 2 → 1
    assert.equal(gate.limit, 1);
    assert.deepEqual(lowered, [4, 2, 1]);
  });

  test('the limit never goes below 1, and staying at 1 is not said again', async () => {
    const lowered: number[] = [];
    const gate = new WriteGate(1, (l) => lowered.push(l));
    await fill(gate, 1);
    gate.release(true, 'HTTP 503');
    assert.equal(gate.limit, 1);
    assert.deepEqual(lowered, []);
    // Still usable: the slot can be taken again at once.
    await gate.acquire();
    gate.release(true);
    assert.equal(gate.limit, 1);
  });

  test('waiters are let in, in order, as slots free up', async () => {
    const gate = new WriteGate(2);
    await fill(gate, 2);
    const order: string[] = [];
    const waiting = ['c', 'd', 'e'].map((n) => waiter(gate, n, order));
    await turn();
    assert.deepEqual(order, [], 'nobody gets in while both slots are taken');
    gate.release(false);
    await turn();
    assert.deepEqual(order, ['c']);
    gate.release(false);
    gate.release(false);
    await turn();
    assert.deepEqual(order, ['c', 'd', 'e']);
    await Promise.all(waiting);
  });

  test('after a lowering, waiters wait until the writes in flight fall below the new limit', async () => {
    const gate = new WriteGate(4);
    await fill(gate, 4);
    const order: string[] = [];
    const waiting = ['a', 'b'].map((n) => waiter(gate, n, order));
    gate.release(true); // 4 in flight → limit 2, 3 still in flight
    await turn();
    assert.equal(gate.limit, 2);
    assert.deepEqual(order, []);
    gate.release(false); // 2 in flight: still full
    await turn();
    assert.deepEqual(order, []);
    gate.release(false); // 1 in flight: one may go
    await turn();
    assert.deepEqual(order, ['a']);
    gate.release(false);
    await turn();
    assert.deepEqual(order, ['a', 'b']);
    await Promise.all(waiting);
  });

  test(`grows by one after ${WriteGate.GROW_AFTER} successes in a row, letting a waiter in`, async () => {
    const gate = new WriteGate(2);
    for (let i = 0; i < WriteGate.GROW_AFTER - 1; i++) {
      await gate.acquire();
      gate.release(false);
    }
    assert.equal(gate.limit, 2);
    await fill(gate, 2);
    const order: string[] = [];
    const third = waiter(gate, 'third', order);
    await turn();
    assert.deepEqual(order, []);
    gate.release(false); // the 20th success: limit 3, and two slots free
    await turn();
    assert.equal(gate.limit, 3);
    assert.deepEqual(order, ['third']);
    await third;
  });

  test('an overload resets the run of successes', async () => {
    const gate = new WriteGate(4);
    for (let i = 0; i < WriteGate.GROW_AFTER - 1; i++) {
      await gate.acquire();
      gate.release(false);
    }
    await gate.acquire();
    await gate.acquire();
    gate.release(true); // 2 in flight: limit max(1, floor(2/2)) = 1
    gate.release(true); // alone now: no lower, and still no success
    assert.equal(gate.limit, 1);
    for (let i = 0; i < WriteGate.GROW_AFTER - 1; i++) {
      await gate.acquire();
      gate.release(false);
    }
    assert.equal(gate.limit, 1, 'the successes before the overload do not count');
    await gate.acquire();
    gate.release(false);
    assert.equal(gate.limit, 2);
  });

  test('drain lets every waiter go', async () => {
    const gate = new WriteGate(1);
    await gate.acquire();
    const order: string[] = [];
    const waiting = ['a', 'b', 'c'].map((n) => waiter(gate, n, order));
    await turn();
    assert.deepEqual(order, []);
    gate.drain();
    await Promise.all(waiting);
    assert.deepEqual(order, ['a', 'b', 'c']);
  });

  // A single write that fails alone says nothing about concurrency: nothing else was in flight.
  // Today the gate still drops from unlimited to 1, ScimClient says "the server failed writes
  // sent at once" and records learned.writeLimit = 1 (kept for later runs, never raised again).
  test('one failing write with nothing else in flight does not lower an unlimited gate', async () => {
    const lowered: number[] = [];
    const gate = new WriteGate(Infinity, (l) => lowered.push(l));
    await gate.acquire();
    gate.release(true, 'HTTP 500');
    assert.equal(gate.limit, Infinity);
    assert.deepEqual(lowered, []);
  });
});

describe('Transport: writes in flight kept to what the server takes', () => {
  /** A server that answers a write 500 when another write is in flight at the same time. */
  function oneAtATime() {
    let active = 0;
    let failed = 0;
    const f = fakeFetch(async (req) => {
      active++;
      // Let the other requests of the batch arrive before answering.
      await turn();
      await turn();
      const crowded = active > 1;
      active--;
      if (crowded) {
        failed++;
        return scimError(500, 'database is locked');
      }
      return scimJson({ id: req.url.pathname.split('/').pop(), userName: 'x' });
    });
    return { f, failed: () => failed };
  }

  test('8 concurrent PUTs to a server that takes one at a time all succeed, with the limit lowered', async () => {
    const server = oneAtATime();
    const sleep = recordingSleep();
    const lowered: Array<[number, string]> = [];
    const transport = new Transport({
      baseUrl: BASE,
      fetch: server.f.fetch,
      sleep: sleep.sleep,
      retries: 10,
      onWriteLimit: (l, r) => lowered.push([l, r]),
    });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        transport.request('PUT', `/Users/u${i}`, { body: { userName: `u${i}` }, expect: [200] }),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      Array(8).fill(200),
    );
    assert.deepEqual(
      results.map((r) => (r.body as { id: string }).id).sort(),
      Array.from({ length: 8 }, (_, i) => `u${i}`),
    );
    assert.ok(server.failed() > 0, 'writes sent together failed');
    assert.equal(server.f.calls.length, 8 + server.failed(), 'each failed write was sent again, each success once');
    assert.ok(transport.writes.limit < 8, `limit ${transport.writes.limit}`);
    assert.ok(lowered.length > 0 && lowered.every(([, reason]) => reason === 'HTTP 500'), JSON.stringify(lowered));
    assert.ok(sleep.delays.length > 0, 'the retries paused through the injected sleep');
  });

  test('reads are not held by the gate', async () => {
    const f = fakeFetch(() => scimJson({ id: 'u1', userName: 'x' }));
    const transport = new Transport({ baseUrl: BASE, fetch: f.fetch, sleep: recordingSleep().sleep, writeLimit: 1 });
    await transport.writes.acquire(); // the only write slot is taken
    const r = await transport.request('GET', '/Users/u1', { expect: [200] });
    assert.equal(r.status, 200);
  });

  test('a write waits for the slot a learned limit of 1 leaves, and goes once it is free', async () => {
    const f = fakeFetch(() => scimJson({ id: 'u1', userName: 'x' }));
    const transport = new Transport({ baseUrl: BASE, fetch: f.fetch, sleep: recordingSleep().sleep, writeLimit: 1 });
    assert.equal(transport.writes.limit, 1);
    await transport.writes.acquire();
    let done = false;
    const put = transport.request('PUT', '/Users/u1', { body: {}, expect: [200] }).then(() => (done = true));
    for (let i = 0; i < 5; i++) await turn();
    assert.equal(done, false);
    assert.equal(f.calls.length, 0, 'not sent while the slot is taken');
    transport.writes.release(false);
    await put;
    assert.equal(f.calls.length, 1);
  });

  // POST /.search is a read sent as POST (idempotent: true). It goes through the write gate, so
  // a search answered 500 (common for filters a server cannot evaluate) lowers the write limit and
  // ScimClient says "the server failed writes sent at once" and records learned.writeLimit.
  test('a POST /.search answered 500 does not lower the write limit', async () => {
    const lowered: number[] = [];
    const f = fakeFetch(() => scimError(500, 'cannot evaluate filter'));
    const transport = new Transport({
      baseUrl: BASE,
      fetch: f.fetch,
      sleep: recordingSleep().sleep,
      retries: 0,
      onWriteLimit: (l) => lowered.push(l),
    });
    await Promise.all(
      Array.from({ length: 4 }, () =>
        transport
          .request('POST', '/Users/.search', { body: {}, expect: [200], idempotent: true })
          .catch(() => undefined),
      ),
    );
    assert.equal(transport.writes.limit, Infinity);
    assert.deepEqual(lowered, []);
  });

  test('a 501 is not taken as overload', async () => {
    const lowered: number[] = [];
    const f = fakeFetch(() => scimError(501, 'not implemented'));
    const transport = new Transport({
      baseUrl: BASE,
      fetch: f.fetch,
      sleep: recordingSleep().sleep,
      retries: 0,
      onWriteLimit: (l) => lowered.push(l),
    });
    await Promise.all(
      Array.from({ length: 4 }, () =>
        transport.request('PATCH', '/Users/u1', { body: {}, expect: [200] }).catch(() => undefined),
      ),
    );
    assert.equal(transport.writes.limit, Infinity);
    assert.deepEqual(lowered, []);
  });

  test('through ScimClient: a lowered limit is said once and learned', async () => {
    const server = oneAtATime();
    const said: string[] = [];
    const lowered: number[] = [];
    const client = new ScimClient({
      baseUrl: BASE,
      fetch: server.f.fetch,
      sleep: recordingSleep().sleep,
      retries: 10,
      capabilities: caps(),
      onAdapt: (m) => said.push(m),
      onWriteLimit: (l) => lowered.push(l),
    });
    await Promise.all(Array.from({ length: 6 }, (_, i) => client.users.replace(`u${i}`, { userName: `u${i}` })));
    assert.ok(lowered.length > 0);
    const limitMessages = said.filter((m) => /sending fewer at a time/.test(m));
    assert.equal(limitMessages.length, 1, said.join('\n'));
    assert.equal(client.learnedNow()!.writeLimit, Math.min(...lowered), 'the lowest limit that held is learned');
  });

  test('a learned write limit is where a new client starts', () => {
    const c = caps((k) => (k.learned.writeLimit = 2));
    const client = new ScimClient({ baseUrl: BASE, fetch: fakeFetch(() => scimJson({})).fetch, capabilities: c });
    assert.equal(client.transport.writes.limit, 2);
    const cached = new ScimClient({
      baseUrl: BASE,
      fetch: fakeFetch(() => scimJson({})).fetch,
      capabilityCache: {
        load: () => undefined,
        save: () => undefined,
        loadLearned: () => ({ filters: {}, unkept: {}, writeLimit: 3 }),
      },
    });
    assert.equal(cached.transport.writes.limit, 3);
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mayHaveActed,
  NetworkError,
  ResponseError,
  ScimError,
  TimeoutError,
  UnexpectedStatusError,
} from '../../src/api/errors.ts';
import {
  defaultSleep,
  parseRetryAfter,
  snippet,
  Transport,
  type RetryInfo,
  type TransportOptions,
} from '../../src/api/http.ts';
import {
  BASE,
  fakeFetch,
  networkError,
  recordingSleep,
  rejection,
  scimError,
  scimJson,
  type FakeRequest,
  type Handler,
} from './helpers.ts';

function setup(handler: Handler, opts: Partial<TransportOptions> = {}) {
  const f = fakeFetch(handler);
  const s = recordingSleep();
  const retries: RetryInfo[] = [];
  const t = new Transport({
    baseUrl: BASE,
    auth: { type: 'bearer', token: 'tok_abcdefghijklmnop' },
    fetch: f.fetch,
    sleep: s.sleep,
    random: () => 0.5,
    onRetry: (i) => retries.push(i),
    ...opts,
  });
  return { t, f, s, retries };
}

/** Fails `failures` times with `fail`, then answers 200 with a user. */
function failThenOk(failures: number, fail: () => Response | never): Handler {
  return (_req, i) => (i < failures ? fail() : scimJson({ id: 'u1', userName: 'ann' }));
}

/** Waits for the request's AbortSignal and rejects when it fires (the way a real fetch does). */
const hangUntilAborted: Handler = (req: FakeRequest) =>
  new Promise<Response>((_resolve, reject) => {
    const abort = () => reject(req.signal.reason ?? new DOMException('aborted', 'AbortError'));
    if (req.signal.aborted) abort();
    else req.signal.addEventListener('abort', abort, { once: true });
  });

describe('Transport basics', () => {
  test('sends auth, accept and user-agent headers and resolves paths against the base URL', async () => {
    const { t, f } = setup(() => scimJson({ id: 'u1' }), {
      userAgent: 'scimctl-test/1',
      headers: { 'X-Tenant': 'acme' },
    });
    const res = await t.request('GET', '/Users/u1', {
      expect: [200],
      query: { attributes: 'userName', skip: undefined },
    });
    assert.deepEqual(res.body, { id: 'u1' });
    const req = f.calls[0]!;
    assert.equal(req.method, 'GET');
    assert.equal(req.url.toString(), `${BASE}/Users/u1?attributes=userName`);
    assert.equal(req.headers.get('authorization'), 'Bearer tok_abcdefghijklmnop');
    assert.match(req.headers.get('accept') ?? '', /application\/scim\+json/);
    assert.equal(req.headers.get('user-agent'), 'scimctl-test/1');
    assert.equal(req.headers.get('x-tenant'), 'acme');
  });

  test('a trailing slash on the base URL and a path without a leading slash still join cleanly', () => {
    const t = new Transport({ baseUrl: `${BASE}///` });
    assert.equal(t.url('Users'), `${BASE}/Users`);
    assert.equal(t.url('/Users', { filter: 'userName eq "a b"' }), `${BASE}/Users?filter=userName+eq+%22a+b%22`);
  });

  test('basic auth is base64 of user:password', async () => {
    const { t, f } = setup(() => scimJson({}), { auth: { type: 'basic', username: 'admin', password: 'pä55:word' } });
    await t.request('GET', '/ServiceProviderConfig', { expect: [200] });
    const header = f.calls[0]!.headers.get('authorization') ?? '';
    assert.match(header, /^Basic /);
    assert.equal(Buffer.from(header.slice(6), 'base64').toString(), 'admin:pä55:word');
  });

  test('a JSON body is sent with the SCIM content type', async () => {
    const { t, f } = setup(() => scimJson({ id: 'new' }, 201));
    const res = await t.request('POST', '/Users', { body: { userName: 'ann' }, expect: [201] });
    assert.equal(res.status, 201);
    assert.equal(f.calls[0]!.headers.get('content-type'), 'application/scim+json');
    assert.deepEqual(f.json(0), { userName: 'ann' });
  });

  test('an empty body (204, or 200 without content) reads as undefined', async () => {
    const { t } = setup((_r, i) => new Response(i === 0 ? null : '', { status: i === 0 ? 204 : 200 }));
    assert.equal((await t.request('DELETE', '/Users/u1', { expect: [204, 200] })).body, undefined);
    assert.equal((await t.request('DELETE', '/Users/u2', { expect: [204, 200] })).body, undefined);
  });
});

describe('Transport retries of idempotent requests', () => {
  for (const status of [500, 502, 503, 504, 429]) {
    test(`GET is retried on ${status}`, async () => {
      const { t, f, s } = setup(failThenOk(2, () => scimError(status, 'try later')));
      const res = await t.request('GET', '/Users/u1', { expect: [200] });
      assert.equal(res.status, 200);
      assert.equal(f.calls.length, 3);
      assert.equal(s.delays.length, 2);
    });
  }

  test('GET gives up after `retries` retries and throws the mapped error', async () => {
    const { t, f, s } = setup(() => scimError(503, 'maintenance'), { retries: 3 });
    const e = await rejection(t.request('GET', '/Users', { expect: [200] }));
    assert.ok(e instanceof ScimError);
    assert.equal(e.status, 503);
    assert.equal(e.detail, 'maintenance');
    assert.equal(f.calls.length, 4, 'one attempt plus three retries');
    assert.equal(s.delays.length, 3);
  });

  test('the default is four retries', async () => {
    const { t, f } = setup(() => scimError(500));
    await assert.rejects(t.request('GET', '/Users', { expect: [200] }), ResponseError);
    assert.equal(f.calls.length, 5);
  });

  test('GET is retried on network errors (connection reset) and succeeds', async () => {
    const { t, f, retries } = setup(
      failThenOk(2, () => {
        throw networkError('ECONNRESET', 'read ECONNRESET');
      }),
    );
    const res = await t.request('GET', '/Users/u1', { expect: [200] });
    assert.deepEqual(res.body, { id: 'u1', userName: 'ann' });
    assert.equal(f.calls.length, 3);
    assert.match(retries[0]!.reason, /ECONNRESET/);
  });

  test('GET network errors exhaust the retries, then a NetworkError with the code is thrown', async () => {
    const { t, f } = setup(
      () => {
        throw networkError('ECONNRESET', 'read ECONNRESET');
      },
      { retries: 2 },
    );
    const e = await rejection(t.request('GET', '/Users', { expect: [200] }));
    assert.ok(e instanceof NetworkError, String(e));
    assert.equal(e.code, 'ECONNRESET');
    assert.equal(e.kind, 'network');
    assert.match(e.message, /cannot reach the server: ECONNRESET/);
    assert.equal(f.calls.length, 3);
  });

  test('a fetch failure whose cause is a plain {code} object is also retried and mapped', async () => {
    const { t, f } = setup(
      () => {
        throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      },
      { retries: 1 },
    );
    const e = await rejection(t.request('GET', '/Users', { expect: [200] }));
    assert.ok(e instanceof NetworkError, String(e));
    assert.equal(f.calls.length, 2);
    assert.equal(e.code, 'ECONNRESET');
  });

  test('PUT and DELETE are retried on 500; POST /.search marked idempotent is retried on 500', async () => {
    for (const [method, path, idempotent] of [
      ['PUT', '/Users/u1', undefined],
      ['DELETE', '/Users/u1', undefined],
      ['POST', '/Users/.search', true],
    ] as const) {
      const { t, f } = setup(failThenOk(1, () => scimError(500)));
      await t.request(method, path, { expect: [200], body: method === 'DELETE' ? undefined : {}, idempotent });
      assert.equal(f.calls.length, 2, method);
    }
  });

  test('501 Not Implemented is not retried', async () => {
    const { t, f, s } = setup(() => scimError(501, 'no bulk'));
    const e = await rejection(t.request('GET', '/Bulk', { expect: [200] }));
    assert.ok(e instanceof ScimError);
    assert.equal(e.status, 501);
    assert.equal(f.calls.length, 1);
    assert.deepEqual(s.delays, []);
  });

  test('4xx other than 429 are not retried', async () => {
    for (const status of [400, 401, 403, 404, 409, 412]) {
      const { t, f } = setup(() => scimError(status));
      await assert.rejects(
        t.request('GET', '/Users/x', { expect: [200] }),
        (e: unknown) => e instanceof ResponseError && e.status === status,
      );
      assert.equal(f.calls.length, 1, String(status));
    }
  });
});

describe('Transport retries of non-idempotent requests (POST, PATCH)', () => {
  for (const method of ['POST', 'PATCH'] as const) {
    const path = method === 'POST' ? '/Users' : '/Users/u1';
    const body =
      method === 'POST'
        ? { userName: 'ann' }
        : {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            Operations: [{ op: 'replace', path: 'active', value: false }],
          };

    test(`${method} is not retried on 500 (the server may have acted)`, async () => {
      const { t, f, s } = setup(() => scimError(500, 'oops'));
      const e = await rejection(t.request(method, path, { body, expect: [200, 201] }));
      assert.ok(e instanceof ScimError);
      assert.equal(e.status, 500);
      assert.equal(f.calls.length, 1);
      assert.deepEqual(s.delays, []);
    });

    test(`${method} is not retried on a network error`, async () => {
      const { t, f } = setup(() => {
        throw networkError('ECONNRESET');
      });
      await assert.rejects(t.request(method, path, { body, expect: [200, 201] }), NetworkError);
      assert.equal(f.calls.length, 1);
    });

    test(`${method} is not retried on 503 without Retry-After`, async () => {
      const { t, f } = setup(() => scimError(503));
      await assert.rejects(
        t.request(method, path, { body, expect: [200, 201] }),
        (e: unknown) => e instanceof ResponseError && e.status === 503,
      );
      assert.equal(f.calls.length, 1);
    });

    test(`${method} is retried on 503 with Retry-After, waiting as asked`, async () => {
      const { t, f, s } = setup(failThenOk(1, () => scimError(503, undefined, undefined, { 'retry-after': '3' })));
      const res = await t.request(method, path, { body, expect: [200, 201] });
      assert.equal(res.status, 200);
      assert.equal(f.calls.length, 2);
      assert.deepEqual(s.delays, [3000]);
    });

    test(`${method} is retried on 429 and sends the same body again`, async () => {
      const { t, f, s } = setup(failThenOk(2, () => scimError(429, 'slow down')));
      await t.request(method, path, { body, expect: [200, 201] });
      assert.equal(f.calls.length, 3);
      assert.equal(s.delays.length, 2);
      assert.deepEqual(f.json(0), body);
      assert.deepEqual(f.json(2), body);
      assert.equal(f.calls[2]!.method, method);
    });
  }
});

describe('Retry-After', () => {
  test('delta-seconds are honoured exactly (no jitter)', async () => {
    const { t, s, retries } = setup(failThenOk(2, () => scimError(429, undefined, undefined, { 'retry-after': '7' })));
    await t.request('GET', '/Users', { expect: [200] });
    assert.deepEqual(s.delays, [7000, 7000]);
    assert.deepEqual(
      retries.map((r) => r.delayMs),
      [7000, 7000],
    );
  });

  test('an HTTP-date is honoured', async () => {
    const when = new Date(Date.now() + 30_000).toUTCString();
    const { t, s } = setup(failThenOk(1, () => scimError(503, undefined, undefined, { 'retry-after': when })));
    await t.request('GET', '/Users', { expect: [200] });
    assert.equal(s.delays.length, 1);
    // The date has one-second resolution and some milliseconds pass before it is read.
    assert.ok(s.delays[0]! > 27_000 && s.delays[0]! <= 30_000, `delay ${s.delays[0]}`);
  });

  test('a Retry-After beyond maxRetryAfterMs fails at once instead of waiting', async () => {
    const { t, f, s } = setup(() => scimError(429, 'quota', undefined, { 'retry-after': '3600' }), {
      maxRetryAfterMs: 60_000,
    });
    const e = await rejection(t.request('GET', '/Users', { expect: [200] }));
    assert.ok(e instanceof ScimError);
    assert.equal(e.status, 429);
    assert.match(e.message, /retry after 3600 s/);
    assert.equal(f.calls.length, 1);
    assert.deepEqual(s.delays, []);
  });

  test('the default limit is 120 s', async () => {
    const ok = setup(failThenOk(1, () => scimError(429, undefined, undefined, { 'retry-after': '120' })));
    await ok.t.request('GET', '/Users', { expect: [200] });
    assert.deepEqual(ok.s.delays, [120_000]);
    const tooLong = setup(() => scimError(429, undefined, undefined, { 'retry-after': '121' }));
    await assert.rejects(tooLong.t.request('GET', '/Users', { expect: [200] }), /retry after 121 s/);
    assert.deepEqual(tooLong.s.delays, []);
  });

  test('parseRetryAfter', () => {
    const now = Date.UTC(2025, 0, 1, 12, 0, 0);
    assert.equal(parseRetryAfter('5', now), 5000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
    assert.equal(parseRetryAfter('1.5', now), 1500);
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 12:00:10 GMT', now), 10_000);
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 11:00:00 GMT', now), 0, 'a date in the past means now');
    assert.equal(parseRetryAfter(null, now), undefined);
    assert.equal(parseRetryAfter('', now), undefined);
    assert.equal(parseRetryAfter('soon', now), undefined);
  });
});

describe('backoff', () => {
  async function delaysWith(random: number, retries: number): Promise<number[]> {
    const { t, s } = setup(() => scimError(500), {
      retries,
      random: () => random,
      backoffBaseMs: 100,
      backoffMaxMs: 1000,
    });
    await assert.rejects(t.request('GET', '/Users', { expect: [200] }));
    return s.delays;
  }

  test('grows exponentially up to the cap; random 0 gives half the ceiling, random 1 the full ceiling', async () => {
    assert.deepEqual(await delaysWith(0, 6), [50, 100, 200, 400, 500, 500]);
    assert.deepEqual(await delaysWith(1, 6), [100, 200, 400, 800, 1000, 1000]);
  });

  test('jitter spreads the delay within [ceiling/2, ceiling]', async () => {
    const mid = await delaysWith(0.5, 6);
    const ceilings = [100, 200, 400, 800, 1000, 1000];
    mid.forEach((d, i) => {
      assert.ok(d >= ceilings[i]! / 2 && d <= ceilings[i]!, `delay ${i} = ${d}`);
    });
    assert.deepEqual(mid, [75, 150, 300, 600, 750, 750]);
    assert.notDeepEqual(await delaysWith(0, 3), await delaysWith(1, 3));
  });

  test('defaults: 500 ms base, 30 s cap', async () => {
    const { t, s } = setup(() => scimError(502), { retries: 8, random: () => 1 });
    await assert.rejects(t.request('GET', '/Users', { expect: [200] }));
    assert.deepEqual(s.delays, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  test('network errors back off too', async () => {
    const { t, s } = setup(
      () => {
        throw networkError('ECONNRESET');
      },
      { retries: 3, random: () => 0, backoffBaseMs: 200 },
    );
    await assert.rejects(t.request('GET', '/Users', { expect: [200] }), NetworkError);
    assert.deepEqual(s.delays, [100, 200, 400]);
  });
});

describe('onRetry', () => {
  test('is told method, redacted URL, attempt, delay and reason before each retry', async () => {
    const token = 'tok_abcdefghijklmnop';
    const { t, retries, s } = setup(
      failThenOk(2, () => scimError(503, undefined, undefined, { 'retry-after': '2' })),
      { auth: { type: 'bearer', token } },
    );
    await t.request('GET', '/Users', {
      expect: [200],
      query: { filter: `note eq "${token}"`, access_token: 'some-other-credential' },
    });
    assert.equal(retries.length, 2);
    assert.deepEqual(
      retries.map((r) => [r.method, r.attempt, r.delayMs, r.reason]),
      [
        ['GET', 1, 2000, 'HTTP 503'],
        ['GET', 2, 2000, 'HTTP 503'],
      ],
    );
    assert.deepEqual(s.delays, [2000, 2000]);
    for (const r of retries) {
      assert.ok(r.url.startsWith(`${BASE}/Users?`), r.url);
      assert.ok(!r.url.includes(token), r.url);
      assert.ok(!r.url.includes('some-other-credential'), r.url);
      assert.match(r.url, /access_token=\*\*\*/);
    }
  });
});

describe('timeouts', () => {
  test('a request with no answer within timeoutMs fails with TimeoutError', async () => {
    const { t, f } = setup(hangUntilAborted, { timeoutMs: 50, retries: 0 });
    const e = await rejection(t.request('GET', '/Users', { expect: [200] }));
    assert.ok(e instanceof TimeoutError, String(e));
    assert.equal(e.kind, 'timeout');
    assert.equal(e.timeoutMs, 50);
    assert.deepEqual(e.request, { method: 'GET', url: `${BASE}/Users` });
    assert.equal(f.calls.length, 1);
    assert.ok(f.calls[0]!.signal.aborted, 'the request was aborted, not left running');
  });

  test('a timed-out GET is retried; a timed-out POST is not', async () => {
    const get = setup(hangUntilAborted, { timeoutMs: 50, retries: 1 });
    await assert.rejects(get.t.request('GET', '/Users', { expect: [200] }), TimeoutError);
    assert.equal(get.f.calls.length, 2);
    assert.equal(get.s.delays.length, 1);
    assert.match(get.retries[0]!.reason, /no response within/);

    const post = setup(hangUntilAborted, { timeoutMs: 50, retries: 3 });
    await assert.rejects(post.t.request('POST', '/Users', { body: { userName: 'x' }, expect: [201] }), TimeoutError);
    assert.equal(post.f.calls.length, 1);
  });

  test('a timed-out GET that then answers succeeds', async () => {
    const { t, f } = setup((req, i) => (i === 0 ? hangUntilAborted(req, i) : scimJson({ id: 'u1' })), {
      timeoutMs: 50,
      retries: 2,
    });
    const res = await t.request('GET', '/Users/u1', { expect: [200] });
    assert.deepEqual(res.body, { id: 'u1' });
    assert.equal(f.calls.length, 2);
  });
});

describe('snippet', () => {
  test('takes the <title> of an HTML page, or its text without tags, on one line and at most 300 characters', () => {
    assert.equal(
      snippet('<html><head><title>\n  502 Bad Gateway\n</title></head><body>long</body></html>'),
      '502 Bad Gateway',
    );
    assert.equal(snippet('<p>Hello\n<b>world</b></p>'), 'Hello world');
    const long = snippet(`<div>${'x'.repeat(1000)}</div>`);
    assert.equal(long.length, 301);
    assert.ok(long.endsWith('…'));
  });

  test('an unexpected status without a SCIM body maps to UnexpectedStatusError', async () => {
    const { t } = setup(() => new Response('', { status: 418 }));
    const e = await rejection(t.request('GET', '/Users', { expect: [200] }));
    assert.ok(e instanceof UnexpectedStatusError);
    assert.equal(e.status, 418);
  });
});

describe('Transport.close', () => {
  test('aborts a request in flight and refuses later ones, naming the closed client', async () => {
    const { t, f } = setup(hangUntilAborted);
    const pending = t.request('GET', '/Users', { expect: [200] });
    // The request reached fetch before the transport was closed.
    await new Promise((r) => setImmediate(r));
    assert.equal(f.calls.length, 1);
    t.close();
    await assert.rejects(pending, /the SCIM client was closed/);
    await assert.rejects(t.request('GET', '/Users', { expect: [200] }), /the SCIM client was closed/);
    assert.equal(f.calls.length, 1, 'nothing is sent after close');
  });

  test('cuts a retry pause short: no further attempt is made', async () => {
    const { t, f, retries } = setup(
      () => {
        throw networkError('ECONNRESET');
      },
      {
        // A pause that only ends when the transport closes (the real one also ends then).
        sleep: (_ms, signal) =>
          new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true })),
      },
    );
    const pending = t.request('GET', '/Users', { expect: [200] });
    while (retries.length === 0) await new Promise((r) => setImmediate(r));
    t.close();
    await assert.rejects(pending, /the SCIM client was closed/);
    assert.equal(f.calls.length, 1);
  });
});

describe('redirects', () => {
  const redirect = (status: number, location: string) => new Response(null, { status, headers: { location } });
  const OTHER = 'https://other.example.test:8443/scim/v2/Users';

  test('a redirect to another origin is refused: nothing is sent there, and the error says why', async () => {
    const { t, f } = setup(
      (req) => (req.url.host === 'scim.example.test' ? redirect(302, OTHER) : scimJson({ leaked: true })),
      {
        headers: { 'X-Gateway-Key': 'gw-key-0123456789abcdef' },
      },
    );
    const error = await rejection(t.request('GET', '/Users', { expect: [200] }));
    assert.ok(error instanceof UnexpectedStatusError);
    assert.equal(error.status, 302);
    assert.match(
      error.message,
      /redirected \(HTTP 302\) to another origin, https:\/\/other\.example\.test:8443: not followed/,
    );
    assert.doesNotMatch(error.message, /gw-key/);
    assert.equal(f.calls.length, 1, 'the other origin got nothing, no header and no retry');
    assert.equal(f.calls[0]!.headers.get('x-gateway-key'), 'gw-key-0123456789abcdef');
  });

  test('another port or scheme on the same host is another origin too', async () => {
    for (const location of ['https://scim.example.test:444/scim/v2/Users', 'http://scim.example.test/scim/v2/Users']) {
      const { t, f } = setup(() => redirect(307, location));
      await assert.rejects(t.request('GET', '/Users', { expect: [200] }), /to another origin/);
      assert.equal(f.calls.length, 1);
    }
  });

  test('a same-origin redirect (relative Location) is followed with every header', async () => {
    const { t, f } = setup(
      (req) => (req.url.pathname.endsWith('/Old') ? redirect(301, '/scim/v2/Users?x=1') : scimJson({ ok: true })),
      {
        headers: { 'X-Gateway-Key': 'gw-key-0123456789abcdef' },
      },
    );
    const res = await t.request('GET', '/Old', { expect: [200] });
    assert.deepEqual(res.body, { ok: true });
    assert.deepEqual(
      f.calls.map((c) => `${c.method} ${c.url.pathname}${c.url.search}`),
      ['GET /scim/v2/Old', 'GET /scim/v2/Users?x=1'],
    );
    assert.equal(f.calls[1]!.headers.get('x-gateway-key'), 'gw-key-0123456789abcdef');
    assert.equal(f.calls[1]!.headers.get('authorization'), 'Bearer tok_abcdefghijklmnop');
  });

  test('307/308 keep method and body; 303 becomes a GET; 301/302 turn a POST into a GET but keep a PATCH', async () => {
    const cases: Array<[number, string, string, boolean]> = [
      [307, 'POST', 'POST', true],
      [308, 'PATCH', 'PATCH', true],
      [303, 'PUT', 'GET', false],
      [302, 'POST', 'GET', false],
      [301, 'POST', 'GET', false],
      [301, 'PATCH', 'PATCH', true],
    ];
    for (const [status, method, followed, keepsBody] of cases) {
      const { t, f } = setup((req) =>
        req.url.pathname.endsWith('/A') ? redirect(status, `${BASE}/B`) : scimJson({ ok: true }, 200),
      );
      await t.request(method, '/A', { body: { n: 1 }, expect: [200] });
      assert.equal(f.calls.length, 2, `${status} ${method}`);
      assert.equal(f.calls[1]!.method, followed, `${status} ${method}`);
      assert.equal(f.calls[1]!.url.pathname, '/scim/v2/B');
      assert.equal(f.calls[1]!.body, keepsBody ? '{"n":1}' : undefined, `${status} ${method} body`);
      assert.equal(f.calls[1]!.headers.get('content-type'), keepsBody ? 'application/scim+json' : null);
    }
  });

  test('a redirect loop ends after 5 redirects with an error, not for ever', async () => {
    const { t, f } = setup((req) => redirect(302, req.url.pathname.endsWith('/A') ? `${BASE}/B` : `${BASE}/A`));
    await assert.rejects(t.request('GET', '/A', { expect: [200] }), /redirected more than 5 times/);
    assert.equal(f.calls.length, 6);
  });

  test('fetch is asked not to follow redirects itself', async () => {
    const seen: string[] = [];
    const t = new Transport({
      baseUrl: BASE,
      fetch: (async (input: Request) => {
        seen.push(input.redirect);
        return scimJson({});
      }) as typeof globalThis.fetch,
    });
    await t.request('GET', '/Users', { expect: [200] });
    assert.deepEqual(seen, ['manual']);
  });
});

describe('answers cut short', () => {
  test('a GET whose JSON body stops early is asked for again, like after a 5xx', async () => {
    const { t, f, retries } = setup((_req, i) =>
      i === 0
        ? new Response('{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"Resources":[{"id":"u1"', {
            status: 200,
            headers: { 'content-type': 'application/scim+json' },
          })
        : scimJson({ id: 'u1' }),
    );
    const res = await t.request('GET', '/Users/u1', { expect: [200] });
    assert.deepEqual(res.body, { id: 'u1' });
    assert.equal(f.calls.length, 2);
    assert.match(retries[0]!.reason, /malformed JSON/);
  });

  test('a GET whose body breaks off (the connection dies mid-body) is asked for again', async () => {
    const broken = () =>
      new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"id":"u'));
            controller.error(
              Object.assign(new TypeError('terminated'), {
                cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
              }),
            );
          },
        }),
        { status: 200, headers: { 'content-type': 'application/scim+json' } },
      );
    const { t, f, retries } = setup((_req, i) => (i === 0 ? broken() : scimJson({ id: 'u1' })));
    const res = await t.request('GET', '/Users/u1', { expect: [200] });
    assert.deepEqual(res.body, { id: 'u1' });
    assert.equal(f.calls.length, 2);
    assert.match(retries[0]!.reason, /the answer was cut off/);
  });

  test('a truncated GET that stays truncated fails after the retries with the malformed-JSON error', async () => {
    const { t, f } = setup(
      () => new Response('{"id":', { status: 200, headers: { 'content-type': 'application/scim+json' } }),
      { retries: 2 },
    );
    await assert.rejects(t.request('GET', '/Users/u1', { expect: [200] }), /malformed JSON/);
    assert.equal(f.calls.length, 3);
  });

  test('a POST whose answer is cut short is not sent again, and counts as possibly carried out', async () => {
    const { t, f } = setup(
      () =>
        new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode('{"id":"u'));
              controller.error(new TypeError('terminated'));
            },
          }),
          { status: 201, headers: { 'content-type': 'application/scim+json' } },
        ),
    );
    const error = await rejection(t.request('POST', '/Users', { body: { userName: 'a' }, expect: [201] }));
    assert.equal(f.calls.length, 1);
    assert.ok(error instanceof NetworkError);
    assert.ok(mayHaveActed(error), 'a create whose answer broke off is looked up, not repeated blindly');
  });

  test('an HTML page with status 200 is still not retried (it is not JSON cut short)', async () => {
    const { t, f } = setup(
      () =>
        new Response('<html><title>Login</title></html>', { status: 200, headers: { 'content-type': 'text/html' } }),
    );
    await assert.rejects(t.request('GET', '/Users', { expect: [200] }), /expected a JSON response/);
    assert.equal(f.calls.length, 1);
  });
});

describe('TLS verification failures', () => {
  for (const code of [
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'CERT_HAS_EXPIRED',
    'ERR_TLS_CERT_ALTNAME_INVALID',
  ]) {
    test(`${code} is not retried and says what to do`, async () => {
      const { t, f, s } = setup(() => {
        throw networkError(code, 'certificate problem');
      });
      const error = await rejection(t.request('GET', '/Users', { expect: [200] }));
      assert.ok(error instanceof NetworkError);
      assert.equal(error.code, code);
      assert.equal(f.calls.length, 1, 'one attempt only');
      assert.deepEqual(s.delays, []);
      assert.match(error.message, /TLS certificate of scim\.example\.test could not be verified/);
      assert.match(error.message, /NODE_EXTRA_CA_CERTS/);
      assert.equal(mayHaveActed(error), false, 'a write refused at the handshake never reached the server');
    });
  }
});

describe('many requests at once leave no listeners behind', () => {
  test('50 concurrent GETs, each retried with the real sleep, raise no MaxListenersExceededWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const t = new Transport({
        baseUrl: BASE,
        backoffBaseMs: 2,
        backoffMaxMs: 4,
        fetch: fakeFetch((req) => {
          const n = Number(req.url.searchParams.get('n'));
          const tries = (attempts.get(n) ?? 0) + 1;
          attempts.set(n, tries);
          return tries < 3 ? scimError(503, 'busy', undefined, { 'retry-after': '0' }) : scimJson({ n });
        }).fetch,
      });
      const attempts = new Map<number, number>();
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, n) => t.request('GET', '/Users', { query: { n }, expect: [200] })),
      );
      assert.equal(results.length, 50);
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(
        warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message),
        [],
      );
    } finally {
      process.off('warning', onWarning);
    }
  });

  test('defaultSleep removes its abort listener when the time is up', async () => {
    const controller = new AbortController();
    const counted = { added: 0, removed: 0 };
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
      counted.added++;
      add(...args);
    }) as AbortSignal['addEventListener'];
    signal.removeEventListener = ((...args: Parameters<AbortSignal['removeEventListener']>) => {
      counted.removed++;
      remove(...args);
    }) as AbortSignal['removeEventListener'];
    for (let i = 0; i < 20; i++) await defaultSleep(1, signal);
    assert.deepEqual(counted, { added: 20, removed: 20 });
  });
});

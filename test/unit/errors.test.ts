import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import {
  AmbiguousError,
  hasStatus,
  IncompleteListingError,
  isFilterRejection,
  isScimClientError,
  NetworkError,
  ResponseError,
  ScimClientError,
  ScimError,
  UnexpectedContentTypeError,
  UnexpectedStatusError,
} from '../../src/api/errors.ts';
import { Transport, type RetryInfo, type TransportOptions } from '../../src/api/http.ts';
import {
  BASE,
  fakeFetch,
  htmlResponse,
  networkError,
  recordingSleep,
  rejection,
  scimJson,
  type Handler,
} from './helpers.ts';

function setup(handler: Handler, opts: Partial<TransportOptions> = {}) {
  const f = fakeFetch(handler);
  const s = recordingSleep();
  const retries: RetryInfo[] = [];
  const t = new Transport({
    baseUrl: BASE,
    fetch: f.fetch,
    sleep: s.sleep,
    random: () => 0,
    onRetry: (i) => retries.push(i),
    ...opts,
  });
  return { t, f, s, retries };
}

const BAD_GATEWAY_PAGE = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>502 Bad Gateway</title>
<style>body { font-family: sans-serif; } .x { color: red; }</style></head>
<body><h1>Bad Gateway</h1><p>The proxy server received an invalid response from an upstream server.</p>
<script>var trackingId = "internal-cluster-7f3a";</script>
${'<p>padding paragraph</p>\n'.repeat(200)}
<hr><address>nginx/1.25.3 at gateway.internal port 443</address></body></html>`;

describe('error mapping', () => {
  test('a SCIM error body becomes ScimError with status, scimType and detail', async () => {
    const { t } = setup(() =>
      scimJson(
        {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
          status: '409',
          scimType: 'uniqueness',
          detail: 'userName "ann" is taken',
        },
        409,
      ),
    );
    const e = await rejection(t.request('POST', '/Users', { body: { userName: 'ann' }, expect: [201] }));
    assert.ok(e instanceof ScimError);
    assert.equal(e.kind, 'scim');
    assert.equal(e.status, 409);
    assert.equal(e.scimType, 'uniqueness');
    assert.equal(e.detail, 'userName "ann" is taken');
    assert.equal(e.message, '409 uniqueness: userName "ann" is taken');
    assert.deepEqual(e.request, { method: 'POST', url: `${BASE}/Users` });
    assert.ok(isScimClientError(e));
    assert.ok(hasStatus(e, 400, 409));
    assert.ok(!hasStatus(e, 400));
  });

  test('the HTTP status wins when the body has no status or a different one', async () => {
    const noStatus = setup(() => scimJson({ scimType: 'invalidValue', detail: 'bad' }, 400));
    const e1 = await rejection(noStatus.t.request('GET', '/Users', { expect: [200] }));
    assert.ok(e1 instanceof ScimError);
    assert.equal(e1.status, 400);
    assert.equal(e1.scimType, 'invalidValue');

    const stale = setup(() => scimJson({ status: '500', detail: 'said 500' }, 404));
    const e2 = await rejection(stale.t.request('GET', '/Users/x', { expect: [200] }));
    assert.ok(e2 instanceof ScimError);
    assert.equal(e2.status, 404);
    assert.equal(stale.f.calls.length, 1, 'a 404 is not retried because its body says 500');

    const numeric = setup(() => scimJson({ status: 412, detail: 'etag mismatch' }, 412));
    const e3 = await rejection(numeric.t.request('PUT', '/Users/x', { body: {}, expect: [200] }));
    assert.ok(e3 instanceof ScimError);
    assert.equal(e3.status, 412);
    assert.equal(e3.scimType, undefined);
  });

  test('non-SCIM JSON error bodies still give a detail (message / error keys)', async () => {
    const { t } = setup((_r, i) =>
      scimJson(i === 0 ? { message: 'Forbidden for this app' } : { error: 'invalid_token' }, 403),
    );
    const e1 = await rejection(t.request('GET', '/Users', { expect: [200] }));
    assert.ok(e1 instanceof ScimError);
    assert.equal(e1.detail, 'Forbidden for this app');
    const e2 = await rejection(t.request('GET', '/Users', { expect: [200] }));
    assert.ok(e2 instanceof ScimError);
    assert.equal(e2.detail, 'invalid_token');
  });

  test('an HTML 502 page becomes UnexpectedContentTypeError with the <title>, not the page', async () => {
    const { t, f } = setup(() => htmlResponse(BAD_GATEWAY_PAGE, 502), { retries: 2 });
    const e = await rejection(t.request('GET', '/Users', { expect: [200] }));
    assert.equal(f.calls.length, 3, 'a 502 on GET was retried first');
    assert.ok(e instanceof UnexpectedContentTypeError, String(e));
    assert.equal(e.kind, 'unexpected-content-type');
    assert.equal(e.status, 502);
    assert.match(e.contentType, /text\/html/);
    assert.match(e.message, /502 Bad Gateway/);
    assert.match(e.message, /HTTP 502/);
    for (const part of [
      '<html',
      '<title',
      'padding paragraph',
      'internal-cluster-7f3a',
      'nginx/1.25.3',
      'font-family',
    ]) {
      assert.ok(!e.message.includes(part), `message must not contain ${part}`);
    }
    assert.ok(!e.message.includes('\n'), 'one line');
    assert.ok(e.message.length < 200, `short message: ${e.message.length}`);
  });

  test('an HTML page without a title is reduced to a short excerpt of its text', async () => {
    const { t } = setup(() =>
      htmlResponse(`<html><body><h1>Access denied</h1><p>${'blah '.repeat(500)}</p></body></html>`, 403),
    );
    const e = await rejection(t.request('GET', '/Users', { expect: [200] }));
    assert.ok(e instanceof UnexpectedContentTypeError);
    assert.match(e.message, /Access denied blah/);
    assert.ok(!e.message.includes('<'));
    assert.ok(e.bodySnippet.length <= 301);
  });

  test('a 2xx with an HTML body (a login portal) is UnexpectedContentTypeError', async () => {
    const { t } = setup(() =>
      htmlResponse('<html><head><title>Sign in - Corp SSO</title></head><body><form>...</form></body></html>', 200),
    );
    const e = await rejection(t.request('GET', '/Users', { expect: [200] }));
    assert.ok(e instanceof UnexpectedContentTypeError, String(e));
    assert.equal(e.status, 200);
    assert.match(e.message, /Sign in - Corp SSO/);
    assert.deepEqual(e.request, { method: 'GET', url: `${BASE}/Users` });
  });

  test('malformed JSON under a JSON content type is reported as such', async () => {
    // A GET whose JSON stops early is asked for again (four retries by default); it stays malformed.
    const { t, f } = setup(
      (_r, i) =>
        new Response(i < 5 ? '{"id": "u1", "userName": ' : '{"detail": "half', {
          status: i < 5 ? 200 : 400,
          headers: { 'content-type': 'application/scim+json;charset=utf-8' },
        }),
    );
    const ok = await rejection(t.request('GET', '/Users/u1', { expect: [200] }));
    assert.equal(f.calls.length, 5);
    assert.ok(ok instanceof UnexpectedStatusError, String(ok));
    assert.ok(!(ok instanceof UnexpectedContentTypeError));
    assert.equal(ok.status, 200);
    assert.match(ok.message, /malformed JSON \(HTTP 200\)/);

    const bad = await rejection(t.request('GET', '/Users/u1', { expect: [200] }));
    assert.ok(bad instanceof UnexpectedStatusError, String(bad));
    assert.equal(bad.status, 400);
    assert.match(bad.message, /unexpected HTTP status 400/);
  });

  test('JSON under a non-JSON content type is still read', async () => {
    const { t } = setup(
      () => new Response(JSON.stringify({ id: 'u1' }), { status: 200, headers: { 'content-type': 'text/plain' } }),
    );
    assert.deepEqual((await t.request('GET', '/Users/u1', { expect: [200] })).body, { id: 'u1' });
  });

  test('connection refused becomes NetworkError naming the host', async () => {
    const { t, f } = setup(
      () => {
        throw networkError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:8443');
      },
      { baseUrl: 'https://scim.example.test:8443/v2', retries: 1 },
    );
    const e = await rejection(t.request('GET', '/Users', { expect: [200] }));
    assert.ok(e instanceof NetworkError, String(e));
    assert.equal(e.code, 'ECONNREFUSED');
    assert.match(e.message, /connection refused by scim\.example\.test:8443/);
    assert.deepEqual(e.request, { method: 'GET', url: 'https://scim.example.test:8443/v2/Users' });
    assert.equal(f.calls.length, 2);
  });

  test('connection refused reported by a fetch whose cause is a plain {code} object', async () => {
    const { t } = setup(
      () => {
        throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
      },
      { retries: 0 },
    );
    const e = await rejection(t.request('POST', '/Users', { body: {}, expect: [201] }));
    assert.ok(e instanceof NetworkError, String(e));
    assert.equal(e.code, 'ECONNREFUSED');
    assert.match(e.message, /connection refused by scim\.example\.test/);
  });

  test('an unknown host becomes NetworkError naming the host name', async () => {
    const { t } = setup(
      () => {
        throw networkError('ENOTFOUND', 'getaddrinfo ENOTFOUND scim.example.test');
      },
      { retries: 0 },
    );
    const e = await rejection(t.request('GET', '/Users', { expect: [200] }));
    assert.ok(e instanceof NetworkError);
    assert.match(e.message, /host scim\.example\.test not found/);
  });
});

describe('secrets never leak through errors', () => {
  const TOKEN = 'tok_Sup3rSecretBearerValue_9f8e7d6c';
  const PASSWORD = 'Pa55-word_Very_Secret!';

  function leaks(text: string, secrets: string[]): string[] {
    return secrets.filter((s) => text.includes(s) || text.includes(encodeURIComponent(s)));
  }

  function assertClean(e: unknown, secrets: string[], what: string) {
    assert.ok(e instanceof ScimClientError, `${what}: ${String(e)}`);
    assert.deepEqual(leaks(e.message, secrets), [], `${what}: message ${e.message}`);
    assert.ok(e.request, `${what}: error.request is set`);
    assert.deepEqual(leaks(e.request.url, secrets), [], `${what}: request.url ${e.request.url}`);
    assert.deepEqual(leaks(String(e.stack), secrets), [], `${what}: stack`);
    assert.deepEqual(leaks(inspect(e, { depth: 5 }), secrets), [], `${what}: util.inspect (what console.error prints)`);
  }

  test('bearer token echoed by the server in the error detail and present in the URL query', async () => {
    const { t, retries } = setup(
      (_r, i) =>
        i < 2
          ? scimJson({ status: '503', detail: `upstream rejected token ${TOKEN}` }, 503)
          : scimJson({ status: '401', detail: `invalid token: Bearer ${TOKEN}` }, 401),
      { auth: { type: 'bearer', token: TOKEN } },
    );
    const e = await rejection(
      t.request('GET', '/Users', { expect: [200], query: { filter: `externalId eq "${TOKEN}"` } }),
    );
    assert.ok(e instanceof ScimError);
    assert.equal(e.status, 401);
    assertClean(e, [TOKEN], 'bearer');
    assert.match(e.message, /\*\*\*/, 'the masked place is visible');
    assert.match(e.request!.url, /^https:\/\/scim\.example\.test\/scim\/v2\/Users\?filter=/);
    assert.equal(e.request!.method, 'GET');
    assert.equal(retries.length, 2);
    for (const r of retries) {
      assert.deepEqual(leaks(JSON.stringify(r), [TOKEN]), [], `onRetry ${JSON.stringify(r)}`);
    }
  });

  test('basic password (and its base64 form) in detail, URL, HTML pages and network errors', async () => {
    const encoded = Buffer.from(`admin:${PASSWORD}`).toString('base64');
    const secrets = [PASSWORD, encoded];
    const bodies: Array<() => Response> = [
      () => scimJson({ detail: `password ${PASSWORD} expired; header was Basic ${encoded}` }, 401),
      () => htmlResponse(`<html><head><title>Denied for ${PASSWORD}</title></head></html>`, 403),
      () => new Response(`{"detail": "${PASSWORD}`, { status: 400, headers: { 'content-type': 'application/json' } }),
      () => {
        throw networkError('ECONNRESET', `socket hang up while sending ${PASSWORD}`);
      },
    ];
    for (const [i, body] of bodies.entries()) {
      const { t, retries } = setup(body, {
        auth: { type: 'basic', username: 'admin', password: PASSWORD },
        retries: 1,
      });
      const e = await rejection(
        t.request('GET', `/Users?note=${encodeURIComponent(PASSWORD)}`, {
          expect: [200],
          query: { password: PASSWORD, q: PASSWORD },
        }),
      );
      assertClean(e, secrets, `case ${i}`);
      for (const r of retries) assert.deepEqual(leaks(JSON.stringify(r), secrets), [], `onRetry case ${i}`);
    }
  });

  test('a token with URL-unsafe characters is masked in its percent-encoded form too', async () => {
    const token = 'aB3+dE/fG7=hIjK+lM/nO9==';
    const { t } = setup(() => scimJson({ detail: 'nope' }, 400), { auth: { type: 'bearer', token } });
    const e = await rejection(
      t.request('GET', '/Users', { expect: [200], query: { filter: `externalId eq "${token}"` } }),
    );
    assertClean(e, [token, new URLSearchParams({ x: token }).toString().slice(2)], 'url-unsafe token');
  });

  test('a secret cut by the 300-character excerpt does not leak its first half', async () => {
    const text = `${'x'.repeat(290)} ${TOKEN} trailing`;
    const { t } = setup(() => new Response(text, { status: 500, headers: { 'content-type': 'text/plain' } }), {
      auth: { type: 'bearer', token: TOKEN },
      retries: 0,
    });
    const e = await rejection(t.request('GET', '/Users', { expect: [200] }));
    assert.ok(e instanceof ResponseError);
    assert.ok(!e.message.includes(TOKEN.slice(0, 8)), e.message.slice(-40));
  });

  test('a token echoed lower-cased, base64-encoded or URL-encoded in the detail is masked', async () => {
    const echoes = [
      TOKEN.toLowerCase(),
      Buffer.from(TOKEN).toString('base64'),
      encodeURIComponent(`${TOKEN}/x`),
      `Bearer%20${TOKEN}`,
    ];
    for (const echo of echoes) {
      const { t } = setup(() => scimJson({ status: '401', detail: `rejected credential ${echo}` }, 401), {
        auth: { type: 'bearer', token: TOKEN },
        retries: 0,
      });
      const e = await rejection(t.request('GET', '/Users', { expect: [200] }));
      assert.ok(e instanceof ScimError);
      assert.ok(!e.message.toLowerCase().includes(TOKEN.toLowerCase().slice(4, 20)), e.message);
      assert.ok(!e.message.includes(Buffer.from(TOKEN).toString('base64').slice(0, 20)), e.message);
      assert.match(e.message, /\*\*\*/);
    }
  });

  test('extra header values are secrets too', async () => {
    const apiKey = 'key-0123456789abcdef';
    const { t } = setup(() => scimJson({ detail: `bad api key ${apiKey}` }, 403), { headers: { 'X-Api-Key': apiKey } });
    const e = await rejection(t.request('GET', '/Users', { expect: [200] }));
    assertClean(e, [apiKey], 'header');
  });
});

describe('error helpers', () => {
  test('isFilterRejection: 400 invalidFilter, plain 400, 500 and 501; not 401/404 or non-response errors', () => {
    assert.ok(isFilterRejection(new ScimError(400, 'invalidFilter', 'x')));
    assert.ok(isFilterRejection(new ScimError(400, undefined, 'x')));
    assert.ok(isFilterRejection(new UnexpectedStatusError(500, '')));
    assert.ok(isFilterRejection(new ScimError(501, undefined, undefined)));
    assert.ok(!isFilterRejection(new ScimError(401, undefined, undefined)));
    assert.ok(!isFilterRejection(new ScimError(404, undefined, undefined)));
    assert.ok(!isFilterRejection(new NetworkError('x')));
    assert.ok(!isFilterRejection(new Error('x')));
  });

  test('AmbiguousError lists every candidate; IncompleteListingError keeps received and cause', () => {
    const a = new AmbiguousError('user', 'ann', [
      { id: 'u1', label: 'ann  Ann One' },
      { id: 'u2', label: 'Ann  Ann Two' },
    ]);
    assert.match(a.message, /matches 2 users/);
    assert.match(a.message, /u1 {2}ann {2}Ann One/);
    assert.match(a.message, /u2 {2}Ann {2}Ann Two/);
    const cause = new ScimError(500, undefined, 'boom');
    const inc = new IncompleteListingError('stopped', 42, cause);
    assert.equal(inc.received, 42);
    assert.equal(inc.cause, cause);
    assert.equal(inc.kind, 'incomplete-listing');
  });
});

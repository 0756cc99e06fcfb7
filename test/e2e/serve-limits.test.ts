/**
 * `scimctl serve` under requests built to exhaust it (issue 11, item 7): attribute values and
 * bodies over their limits are refused (400 invalidValue, 413), and a filter that would take
 * the server's CPU for minutes is stopped at its deadline (400 tooMany) while the server keeps
 * answering. The built binary over HTTP, as in serve-compliance*.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { URN, startServe, type Json, type Requester, type ScimResponse, type ServeProcess } from './serve-helpers.ts';

const TOKEN = 'serve-limits-token-2b7d0e91c4a6';
const LIMIT = 65_536;

let server: ServeProcess;
let req: Requester;

before(async () => {
  server = await startServe({ token: TOKEN, args: ['--no-fsync'] });
  req = server.request;
});

after(async () => {
  if (!server) return;
  await server.stop();
  server.cleanup();
});

function assertError(res: ScimResponse, status: number, scimType?: string): void {
  assert.equal(res.status, status, `expected HTTP ${status}, got ${res.status}: ${res.text.slice(0, 300)}`);
  assert.ok(res.body?.schemas?.includes(URN.error), res.text.slice(0, 300));
  if (scimType !== undefined) assert.equal(res.body.scimType, scimType, res.text.slice(0, 300));
}

const user = (userName: string, extra: Json = {}) => ({ schemas: [URN.user], userName, ...extra });

describe('attribute value size', () => {
  test('a 15 MiB title → 400 invalidValue naming the attribute and the limit; nothing is stored', async () => {
    const res = await req('POST', '/Users', {
      body: user('huge.title@limits.test', { title: 'T'.repeat(15 * 1024 * 1024) }),
    });
    assertError(res, 400, 'invalidValue');
    assert.match(res.body.detail, /"title" is 15728640 characters long/);
    assert.match(res.body.detail, /65536/);
    const found = await req('GET', `/Users?filter=${encodeURIComponent('userName eq "huge.title@limits.test"')}`);
    assert.equal(found.body.totalResults, 0);
  });

  test(
    'a value of exactly the limit is kept; one character more is refused on POST, ' +
      'PUT, PATCH, in sub-attributes, extensions and Bulk',
    async () => {
      const ok = await req('POST', '/Users', { body: user('at.limit@limits.test', { title: 'a'.repeat(LIMIT) }) });
      assert.equal(ok.status, 201, ok.text.slice(0, 300));
      assert.equal(ok.body.title.length, LIMIT);
      const id = ok.body.id as string;
      const over = 'b'.repeat(LIMIT + 1);
      assertError(
        await req('PUT', `/Users/${id}`, { body: user('at.limit@limits.test', { title: over }) }),
        400,
        'invalidValue',
      );
      assertError(
        await req('PATCH', `/Users/${id}`, {
          body: { schemas: [URN.patch], Operations: [{ op: 'replace', path: 'nickName', value: over }] },
        }),
        400,
        'invalidValue',
      );
      assertError(
        await req('POST', '/Users', { body: user('sub@limits.test', { name: { givenName: over } }) }),
        400,
        'invalidValue',
      );
      assertError(
        await req('POST', '/Users', { body: user('multi@limits.test', { emails: [{ value: over }] }) }),
        400,
        'invalidValue',
      );
      assertError(
        await req('POST', '/Users', {
          body: user('ext@limits.test', {
            schemas: [URN.user, URN.enterprise],
            [URN.enterprise]: { department: over },
          }),
        }),
        400,
        'invalidValue',
      );
      assertError(
        await req('POST', '/Groups', { body: { schemas: [URN.group], displayName: over } }),
        400,
        'invalidValue',
      );
      const bulk = await req('POST', '/Bulk', {
        body: {
          schemas: [URN.bulkRequest],
          Operations: [
            {
              method: 'POST',
              bulkId: 'b1',
              path: '/Users',
              data: user('bulk@limits.test', { title: 'c'.repeat(LIMIT + 1) }),
            },
          ],
        },
      });
      assert.equal(bulk.status, 200, bulk.text.slice(0, 300));
      assert.equal(bulk.body.Operations[0].status, '400');
      assert.equal(bulk.body.Operations[0].response.scimType, 'invalidValue');
      const kept = await req('GET', `/Users/${id}`);
      assert.equal(kept.body.title, 'a'.repeat(LIMIT), 'the refused writes changed nothing');
      assert.equal(kept.body.nickName, undefined);
    },
  );
});

describe('filter deadline', () => {
  test(
    'a 1,000-comparison filter over users with many large values is stopped at 2 s ' +
      '(400 tooMany), and the server answers the next request at once',
    async () => {
      // Two users, each with 200 e-mail values just under the limit (about 12 MB a body): without a
      // deadline, the filter below reads 2 × 200 × 1,000 values of 60,000 characters (several seconds
      // of CPU per user, during which the server answers nobody).
      for (const n of [1, 2]) {
        const emails = Array.from({ length: 200 }, (_, i) => ({
          value: `${String(i).padStart(3, '0')}${'m'.repeat(60_000)}@limits.test`,
        }));
        const res = await req('POST', '/Users', { body: user(`many.values.${n}@limits.test`, { emails }) });
        assert.equal(res.status, 201, res.text.slice(0, 300));
      }
      const filter = Array.from({ length: 1000 }, (_, i) => `emails.value co "zz${i}"`).join(' or ');
      const started = performance.now();
      const res = await req('POST', '/Users/.search', { body: { schemas: [URN.search], filter } });
      const took = performance.now() - started;
      assertError(res, 400, 'tooMany');
      assert.match(res.body.detail, /took more than 2000 ms/);
      assert.ok(took < 4000, `answered after ${Math.round(took)} ms`);
      const next = performance.now();
      assert.equal((await req('GET', '/ServiceProviderConfig')).status, 200);
      assert.ok(performance.now() - next < 1000, 'the next request is not kept waiting');
      // A cheap filter on the same users still works.
      const cheap = await req(
        'GET',
        `/Users?filter=${encodeURIComponent('userName sw "many.values."')}&attributes=userName`,
      );
      assert.equal(cheap.body.totalResults, 2);
    },
  );
});

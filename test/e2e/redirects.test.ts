/**
 * Redirects over real HTTP, through the built binary: a profile with an extra header
 * (`--header "X-Gateway-Key: …"`) meets a 302 to another port (another origin) and must refuse
 * it, sending nothing there; a redirect on the same origin is followed with every header.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { runCli, tempHome } from './helpers.ts';

const KEY = 'gk-redirect-secret-4b7e21';
const TOKEN = 'redirect-e2e-token-90ac3f';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

async function listen(
  handler: (url: string, res: import('node:http').ServerResponse) => void,
  seen: Seen[],
): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => handler(req.url ?? '/', res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const json = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/scim+json' });
  res.end(JSON.stringify(body));
};

describe('redirects from the SCIM server', () => {
  const gatewaySeen: Seen[] = [];
  const otherSeen: Seen[] = [];
  let gateway: { server: Server; origin: string };
  let other: { server: Server; origin: string };
  let home: ReturnType<typeof tempHome>;

  before(async () => {
    other = await listen(
      (_url, res) =>
        json(res, 200, {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
          totalResults: 1,
          Resources: [{ id: 'x', userName: 'stranger@other.example' }],
        }),
      otherSeen,
    );
    gateway = await listen((url, res) => {
      if (url.startsWith('/scim/v2/Users')) {
        res.writeHead(302, { location: `${other.origin}${url}` });
        return res.end();
      }
      if (url.startsWith('/moved/v2/Users')) {
        // Same origin: the real list lives under another path.
        res.writeHead(301, { location: url.replace('/moved/v2/', '/real/v2/') });
        return res.end();
      }
      if (url.startsWith('/real/v2/Users'))
        return json(res, 200, {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
          totalResults: 1,
          Resources: [{ id: 'u1', userName: 'ann@example.com' }],
        });
      json(res, 404, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404' });
    }, gatewaySeen);
    home = tempHome();
  });
  after(async () => {
    for (const s of [gateway?.server, other?.server]) {
      s?.closeAllConnections();
      await new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()));
    }
    home?.cleanup();
  });

  test(
    'a 302 to another port is refused: the command fails, and the other server ' + 'gets no request and no header',
    async () => {
      const env = { ...home.env, GW_TOKEN: TOKEN };
      const add = await runCli(
        [
          'profile',
          'add',
          'gw',
          '--url',
          `${gateway.origin}/scim/v2`,
          '--token-env',
          'GW_TOKEN',
          '--header',
          `X-Gateway-Key: ${KEY}`,
        ],
        { env },
      );
      assert.equal(add.code, 0, add.stderr);
      const list = await runCli(['users', 'list', '--profile', 'gw'], { env, timeoutMs: 60_000 });
      assert.notEqual(list.code, 0, `the listing must fail\n${list.stdout}`);
      assert.match(list.stderr, /redirected \(HTTP 302\) to another origin, http:\/\/127\.0\.0\.1:\d+: not followed/);
      assert.doesNotMatch(list.stdout, /stranger/);
      assert.doesNotMatch(list.stderr + list.stdout, new RegExp(KEY));
      assert.deepEqual(otherSeen, [], 'nothing reached the other origin');
      assert.ok(gatewaySeen.some((s) => s.url.startsWith('/scim/v2/Users') && s.headers['x-gateway-key'] === KEY));
    },
  );

  test('a 301 on the same origin is followed, headers and token included', async () => {
    const env = { ...home.env, GW_TOKEN: TOKEN };
    const add = await runCli(
      [
        'profile',
        'add',
        'moved',
        '--url',
        `${gateway.origin}/moved/v2`,
        '--token-env',
        'GW_TOKEN',
        '--header',
        `X-Gateway-Key: ${KEY}`,
      ],
      { env },
    );
    assert.equal(add.code, 0, add.stderr);
    const list = await runCli(['users', 'list', '--profile', 'moved', '--json'], { env, timeoutMs: 60_000 });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /ann@example\.com/);
    const followed = gatewaySeen.filter((s) => s.url.startsWith('/real/v2/Users'));
    assert.ok(followed.length > 0);
    assert.ok(
      followed.every((s) => s.headers['x-gateway-key'] === KEY && s.headers.authorization === `Bearer ${TOKEN}`),
    );
    assert.deepEqual(otherSeen, []);
  });
});

/**
 * Issue 11 (safety): what scimctl prints never carries a secret or a terminal control sequence
 * it was handed, and a .env file cannot quietly point it somewhere else. The built binary, on
 * pipes and on a real pseudo-terminal.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from './helpers.ts';
import { startServe, type ServeProcess } from './serve-helpers.ts';

const TOKEN = 'safety-e2e-token-7c1f93ab52d04e68';

describe('serve --log-requests masks credentials', () => {
  let server: ServeProcess;
  before(async () => {
    server = await startServe({ token: TOKEN, args: ['--log-requests', '--no-fsync'] });
  });
  after(async () => {
    await server?.stop();
    server?.cleanup();
  });

  test('access_token, other credential-looking parameters and the token itself never reach the log', async () => {
    const secret = 'cl1ent-s3cret-value-42';
    await server.request('GET', `/Users?count=1&access_token=${TOKEN}`);
    await server.request('GET', `/Users?client_secret=${secret}&startIndex=1`);
    await server.request('GET', `/Users?filter=${encodeURIComponent(`userName eq "${TOKEN}"`)}`);
    await server.request('GET', `/Users?api_key=${encodeURIComponent(TOKEN.toUpperCase())}`, { auth: 'Bearer wrong-token-value' });
    await waitFor(() => server.stderr().split('\n').filter((l) => /^scimctl: GET /.test(l)).length >= 4);
    const log = server.stderr();
    assert.ok(!log.includes(TOKEN) && !log.toLowerCase().includes(TOKEN.toLowerCase()), log);
    assert.ok(!log.includes(secret), log);
    assert.match(log, /GET \/scim\/v2\/Users\?count=1&access_token=\*\*\* 200/);
    assert.match(log, /GET \/scim\/v2\/Users\?client_secret=\*\*\*&startIndex=1 200/);
    assert.match(log, /GET \/scim\/v2\/Users\?filter=userName%20eq%20%22\*\*\*%22 200/);
    assert.match(log, /GET \/scim\/v2\/Users\?api_key=\*\*\* 401/);
  });
});

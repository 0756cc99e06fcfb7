import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { maskToken, redact, redactHeaders, secretForms } from '../../src/api/redact.ts';

describe('redact', () => {
  test('masks every occurrence of a known secret', () => {
    const secret = 's3cr3t-value';
    assert.equal(redact(`a ${secret} b ${secret}c`, [secret]), 'a *** b ***c');
    assert.equal(redact('nothing here', [secret]), 'nothing here');
  });

  test('ignores secrets shorter than four characters (they would mask innocent text)', () => {
    assert.equal(redact('abc and ab', ['abc', 'ab', '']), 'abc and ab');
    assert.equal(redact('abcd and x', ['abcd']), '*** and x');
  });

  test('masks credential-shaped text even when the value is not known', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    assert.equal(redact(`Authorization: Bearer ${jwt}`), 'Authorization: Bearer ***');
    assert.equal(redact('header SSWS 00abcdefghijklmnopqrstuvwxyz'), 'header SSWS ***');
    assert.equal(redact('https://x.test/a?access_token=abc123&b=2'), 'https://x.test/a?access_token=***&b=2');
    assert.equal(redact('https://x.test/a?b=1&api_key=k#frag'), 'https://x.test/a?b=1&api_key=***#frag');
    assert.equal(redact('GET /Users?password=hunter22 HTTP/1.1'), 'GET /Users?password=*** HTTP/1.1');
  });

  test('masks a known secret echoed in another case, base64, base64url or percent-encoded', () => {
    const token = 'Tok3n+With/Odd=Chars_0123';
    const echoes = [
      token.toLowerCase(),
      token.toUpperCase(),
      Buffer.from(token).toString('base64'),
      Buffer.from(token).toString('base64').replace(/=+$/, ''),
      Buffer.from(token).toString('base64url'),
      encodeURIComponent(token),
      encodeURIComponent(token).toLowerCase(),
      new URLSearchParams({ t: token }).toString().slice(2),
    ];
    for (const echo of echoes) {
      const out = redact(`the server said: bad token "${echo}" (ends)`, [token]);
      assert.equal(out, 'the server said: bad token "***" (ends)', echo);
    }
    assert.ok(secretForms(token).length >= 4);
  });

  test('masks any credential-looking query parameter, whatever the case of its name', () => {
    for (const name of [
      'access_token',
      'ACCESS_TOKEN',
      'id_token',
      'refresh_token',
      'client_secret',
      'apiKey',
      'api-key',
      'X-Amz-Signature',
      'sig',
      'code',
      'session',
      'auth',
      'Authorization',
      'passwd',
      'pwd',
      'key',
    ]) {
      assert.equal(
        redact(`GET /scim/v2/Users?count=5&${name}=abc123def&startIndex=1 200`),
        `GET /scim/v2/Users?count=5&${name}=***&startIndex=1 200`,
        name,
      );
    }
    assert.equal(
      redact('GET /Users?filter=userName%20eq%20%22ann%22&attributes=userName&sortBy=userName&cursor=abc'),
      'GET /Users?filter=userName%20eq%20%22ann%22&attributes=userName&sortBy=userName&cursor=abc',
      'SCIM parameters stay',
    );
  });

  test('leaves prose about schemes alone', () => {
    assert.equal(redact('the Bearer scheme is required'), 'the Bearer scheme is required');
  });
});

describe('redactHeaders', () => {
  test('always masks authorization, cookies and API keys; redacts secrets in the rest', () => {
    const out = redactHeaders(
      {
        Authorization: 'Bearer abc',
        Cookie: 'sid=1',
        'X-Api-Key': 'k',
        'x-tenant': 'acme-TENANTSECRET',
        accept: 'application/scim+json',
      },
      ['TENANTSECRET'],
    );
    assert.deepEqual(out, {
      Authorization: '***',
      Cookie: '***',
      'X-Api-Key': '***',
      'x-tenant': 'acme-***',
      accept: 'application/scim+json',
    });
  });
});

describe('maskToken', () => {
  test('shows only the last four characters of long tokens', () => {
    assert.equal(maskToken(undefined), '(none)');
    assert.equal(maskToken(''), '(none)');
    assert.equal(maskToken('short'), '***');
    assert.equal(maskToken('abcdefghijk'), '***', 'under 12 characters shows nothing');
    assert.equal(maskToken('abcdefghijkl'), '***ijkl');
  });
});

/** Active Directory's ways (ad.ts) with recorded values, and range retrieval with a fake client. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  accountExpired,
  accountExpiry,
  escapeFilterValue,
  guidBytes,
  guidText,
  parseRange,
  readRanged,
  uacDisabled,
} from '../../src/sources/ldap/ad.ts';
import { LdapReadError } from '../../src/sources/ldap/errors.ts';
import { entry, fakeClient } from './ldap-helpers.ts';

/** Ticks of accountExpires (100 ns since 1601-01-01 UTC) for a date. */
const ticks = (iso: string) => String((BigInt(Date.parse(iso)) + 11_644_473_600_000n) * 10_000n);

describe('userAccountControl', () => {
  test('bit 2 (ACCOUNTDISABLE) is disabled, whatever the other bits', () => {
    assert.equal(uacDisabled(['512']), false, 'NORMAL_ACCOUNT');
    assert.equal(uacDisabled(['514']), true, 'NORMAL_ACCOUNT | ACCOUNTDISABLE');
    assert.equal(uacDisabled(['66050']), true, 'DONT_EXPIRE_PASSWORD | NORMAL_ACCOUNT | ACCOUNTDISABLE');
    assert.equal(uacDisabled(['66048']), false, 'DONT_EXPIRE_PASSWORD | NORMAL_ACCOUNT');
    assert.equal(uacDisabled([Buffer.from('546')]), true, 'as bytes');
  });
  test('missing or not a number says nothing', () => {
    assert.equal(uacDisabled(undefined), undefined);
    assert.equal(uacDisabled(['']), undefined);
    assert.equal(uacDisabled(['disabled']), undefined);
  });
});

describe('accountExpires', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  test('0 and 2^63-1 are never', () => {
    assert.equal(accountExpiry(['0']), undefined);
    assert.equal(accountExpiry(['9223372036854775807']), undefined);
    assert.equal(accountExpired(['0'], now), false);
    assert.equal(accountExpired(['9223372036854775807'], now), false);
  });
  test('a date in the past has expired, one in the future has not', () => {
    assert.equal(accountExpiry([ticks('2020-03-15T12:00:00Z')])!.toISOString(), '2020-03-15T12:00:00.000Z');
    // 132000000000000000 is 13,200,000,000 s after 1601: 2019-04-17T18:40:00Z.
    assert.equal(accountExpiry(['132000000000000000'])!.toISOString(), '2019-04-17T18:40:00.000Z');
    assert.equal(accountExpired(['132000000000000000'], now), true);
    assert.equal(accountExpired([ticks('2026-05-31T23:59:59Z')], now), true);
    assert.equal(accountExpired([ticks('2026-06-01T00:00:01Z')], now), false);
    assert.equal(accountExpired(undefined, now), false);
  });
});

describe('objectGUID', () => {
  // The bytes as AD stores them: the first three fields little-endian.
  const bytes = Buffer.from('33221100554477668899aabbccddeeff', 'hex');
  test('as the GUID string', () => {
    assert.equal(guidText(bytes, 'guid'), '00112233-4455-6677-8899-aabbccddeeff');
  });
  test('as base64 of the bytes (immutableId)', () => {
    assert.equal(guidText(bytes, 'base64'), 'MyIRAFVEd2aImaq7zN3u/w==');
  });
  test('anything but 16 bytes is not a GUID', () => {
    assert.equal(guidText(Buffer.alloc(15), 'guid'), undefined);
    assert.equal(guidText('00112233-4455-6677-8899-aabbccddeeff', 'guid'), undefined);
  });
  test('guidBytes is the inverse', () => {
    assert.deepEqual(guidBytes('00112233-4455-6677-8899-aabbccddeeff'), bytes);
  });
});

describe('range retrieval', () => {
  const dn = 'CN=Big,OU=Groups,DC=corp,DC=example';
  const members = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => `CN=U${from + i},OU=Users,DC=corp,DC=example`);

  test('reads member;range=N-* until a range ends in *', async () => {
    const client = fakeClient((req) => {
      assert.equal(req.base, dn);
      assert.equal(req.scope, 'base');
      const start = Number(/^member;range=(\d+)-\*$/.exec(req.attributes[0]!)![1]);
      if (start === 1500) return [[entry(dn, { 'member;range=1500-2999': members(1500, 2999) })]];
      if (start === 3000) return [[entry(dn, { 'member;range=3000-*': members(3000, 3200) })]];
      throw new Error(`unexpected range ${start}`);
    });
    const first = entry(dn, { 'member;range=0-1499': members(0, 1499), member: [] });
    const values = await readRanged(client, first, 'member');
    assert.equal(values.length, 3201);
    assert.deepEqual(values, members(0, 3200));
    assert.deepEqual(
      client.requests.map((r) => r.attributes),
      [['member;range=1500-*'], ['member;range=3000-*']],
    );
  });

  test('an attribute sent whole needs no more reads', async () => {
    const client = fakeClient(() => assert.fail('no search'));
    assert.deepEqual(await readRanged(client, entry(dn, { member: members(0, 2) }), 'member'), members(0, 2));
    assert.deepEqual(await readRanged(client, entry(dn, {}), 'member'), []);
  });

  test('a range that does not come back, or does not go on, throws rather than cutting the list short', async () => {
    const first = entry(dn, { 'member;range=0-1499': members(0, 1499) });
    await assert.rejects(
      readRanged(
        fakeClient(() => [[entry(dn, {})]]),
        first,
        'member',
      ),
      LdapReadError,
    );
    await assert.rejects(
      readRanged(
        fakeClient(() => [[entry(dn, { 'member;range=1600-*': members(1600, 1700) })]]),
        first,
        'member',
      ),
      /did not give the next range/,
    );
  });

  test('parseRange', () => {
    assert.deepEqual(parseRange('member;range=0-1499'), { attr: 'member', start: 0, end: 1499 });
    assert.deepEqual(parseRange('Member;Range=1500-*'), { attr: 'member', start: 1500, end: undefined });
    assert.equal(parseRange('member'), undefined);
  });
});

test('escapeFilterValue escapes what RFC 4515 says', () => {
  assert.equal(escapeFilterValue('CN=A (B)\\*,DC=x'), 'CN=A \\28B\\29\\5c\\2a,DC=x');
});

/** The LDAP connection's settings: URLs, when StartTLS is on, and settings refused before anything is sent. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connectDirectory, isLoopback, parseLdapUrl, usesStartTls } from '../../src/sources/ldap/client.ts';
import { LdapSettingsError } from '../../src/sources/ldap/errors.ts';
import { readLdapSource } from '../../src/sources/ldap/read.ts';
import { SchemaRegistry } from '../../src/api/schema.ts';
import { InputError } from '../../src/sources/resource-file.ts';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('LDAP URLs', () => {
  test('host, port (default 389 / 636) and the base DN of the path', () => {
    assert.deepEqual(parseLdapUrl('ldap://dir.example.org/dc=example,dc=org'), {
      secure: false,
      host: 'dir.example.org',
      port: 389,
      baseDn: 'dc=example,dc=org',
      address: 'ldap://dir.example.org:389',
    });
    assert.deepEqual(parseLdapUrl('ldaps://dc1.corp.example:3269'), {
      secure: true,
      host: 'dc1.corp.example',
      port: 3269,
      address: 'ldaps://dc1.corp.example:3269',
    });
    assert.equal(parseLdapUrl('ldap://127.0.0.1:3389/ou=People%20Here,dc=x').baseDn, 'ou=People Here,dc=x');
    assert.equal(parseLdapUrl('ldap://[::1]:3389').address, 'ldap://[::1]:3389');
  });
  test('anything else is a settings error', () => {
    for (const url of ['dir.example.org', 'http://dir.example.org', 'ldap://', 'ldap://user:pw@dir.example.org'])
      assert.throws(() => parseLdapUrl(url), LdapSettingsError, url);
    assert.throws(
      () => parseLdapUrl('ldap://u:secret-pw@h'),
      (e: Error) => !e.message.includes('secret-pw'),
    );
  });
});

describe('StartTLS', () => {
  test('required by default for ldap:// to a host other than the loopback', () => {
    assert.equal(usesStartTls(parseLdapUrl('ldap://dir.example.org'), undefined), true);
    assert.equal(usesStartTls(parseLdapUrl('ldap://10.1.2.3'), undefined), true);
    assert.equal(usesStartTls(parseLdapUrl('ldap://127.0.0.1:3389'), undefined), false);
    assert.equal(usesStartTls(parseLdapUrl('ldap://localhost'), undefined), false);
    assert.equal(usesStartTls(parseLdapUrl('ldap://[::1]'), undefined), false);
    assert.equal(usesStartTls(parseLdapUrl('ldap://127.0.0.1'), true), true, 'asked for');
    assert.equal(usesStartTls(parseLdapUrl('ldap://dir.example.org'), false), false, 'turned off explicitly');
    assert.equal(usesStartTls(parseLdapUrl('ldaps://dir.example.org'), undefined), false, 'ldaps is TLS already');
  });
  test('isLoopback', () => {
    assert.ok(isLoopback('127.5.6.7') && isLoopback('LOCALHOST') && isLoopback('::1'));
    assert.ok(!isLoopback('128.0.0.1') && !isLoopback('localhost.example.org') && !isLoopback('127.0.0.1.example.org'));
  });
});

describe('settings refused before connecting', () => {
  const refused = async (settings: Parameters<typeof connectDirectory>[0], pattern: RegExp) =>
    assert.rejects(
      connectDirectory(settings),
      (e: unknown) => e instanceof LdapSettingsError && pattern.test(e.message),
    );
  test('bind DN, password, anonymous', async () => {
    await refused({ url: 'ldap://127.0.0.1:1' }, /no bind DN/);
    await refused({ url: 'ldap://127.0.0.1:1', bindDn: 'cn=a' }, /no password for cn=a/);
    await refused({ url: 'ldap://127.0.0.1:1', bindDn: 'cn=a', password: '' }, /no password/);
    await refused({ url: 'ldap://127.0.0.1:1', anonymous: true, bindDn: 'cn=a' }, /anonymous bind takes no bind DN/);
  });
  test('StartTLS on ldaps, a CA file that is not there or holds no certificate', async () => {
    await refused(
      { url: 'ldaps://127.0.0.1:1', bindDn: 'cn=a', password: 'p', startTls: true },
      /StartTLS is for ldap/,
    );
    await refused(
      { url: 'ldap://127.0.0.1:1', bindDn: 'cn=a', password: 'p', caFile: '/nonexistent/ca.pem' },
      /cannot read the CA file \/nonexistent\/ca.pem/,
    );
    await refused(
      { url: 'ldap://127.0.0.1:1', bindDn: 'cn=a', password: 'p', caFile: import.meta.filename },
      /holds no PEM certificate/,
    );
  });
  test('filters that do not parse, a page size below 1, no base DN', async () => {
    const registry = new SchemaRegistry();
    const connect = async () => assert.fail('nothing is sent');
    const base = { url: 'ldap://127.0.0.1:1/dc=x', bindDn: 'cn=a', password: 'p' };
    await assert.rejects(
      readLdapSource({ ...base, userFilter: '(uid=a' }, { registry, connect }),
      /the user filter "\(uid=a" is not an LDAP filter/,
    );
    await assert.rejects(readLdapSource({ ...base, groupFilter: 'cn=x)(' }, { registry, connect }), /the group filter/);
    await assert.rejects(readLdapSource({ ...base, pageSize: 0 }, { registry, connect }), /page size/);
    await assert.rejects(readLdapSource({ ...base, url: 'ldap://127.0.0.1:1' }, { registry, connect }), /no base DN/);
  });
  test('a mapping file with problems, or with a groups section, before anything is sent', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scimctl-ldap-map-'));
    try {
      const registry = new SchemaRegistry();
      const connect = async () => assert.fail('nothing is sent');
      const base = { url: 'ldap://127.0.0.1:1/dc=x', bindDn: 'cn=a', password: 'p' };
      const bad = join(dir, 'bad.yaml');
      await writeFile(bad, 'attributes:\n  userName: uid\n  titel: title\n');
      await assert.rejects(
        readLdapSource({ ...base, mappingFile: bad }, { registry, connect }),
        (e: unknown) => e instanceof InputError && e.problems.some((p) => p.file === bad && p.line === 3),
      );
      const groups = join(dir, 'groups.yaml');
      await writeFile(groups, 'attributes:\n  userName: uid\ngroups:\n  column: memberOf\n');
      await assert.rejects(
        readLdapSource({ ...base, mappingFile: groups }, { registry, connect }),
        (e: unknown) => e instanceof InputError && /come from its group filter/.test(e.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

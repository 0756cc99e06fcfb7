/**
 * The LDAP source against a real OpenLDAP slapd (test/support/slapd.ts): a directory of a few
 * thousand users in several OUs, groups of each kind (nested, a cycle, one outside the group
 * filter), disabled accounts, a server size limit below the user count, StartTLS and ldaps://
 * with a CA made here, a wrong password, a server that is not there, and a connection dropped
 * in the middle of the read.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Attribute, Change, Client } from 'ldapts';
import { SchemaRegistry } from '../../src/api/schema.ts';
import { SCHEMA } from '../../src/api/types.ts';
import { LdapBindError, LdapConnectionError, LdapReadError, LdapTlsError } from '../../src/sources/ldap/errors.ts';
import {
  groupFilterFor,
  readLdapSource,
  type LdapProgress,
  type LdapSourceSettings,
} from '../../src/sources/ldap/read.ts';
import type { DesiredUser } from '../../src/sync/model.ts';
import { freePort, startCuttingProxy, startSlapd, type Slapd } from '../support/slapd.ts';

const registry = new SchemaRegistry();
const SUFFIX = 'dc=example,dc=org';
const OUS = ['engineering', 'sales', 'operations', 'support'];
const PER_OU = 800;
const USERS = OUS.length * PER_OU;
const SIZE_LIMIT = 500;

const userDn = (ou: string, i: number) => `uid=${ou}${i},ou=${ou},ou=people,${SUFFIX}`;

/** The directory's LDIF: users in four OUs, groups of each kind, nested, a cycle, disabled accounts. */
function directoryLdif(): string {
  const out: string[] = [];
  const entry = (...lines: string[]) => out.push(lines.join('\n'), '');
  entry(`dn: ou=people,${SUFFIX}`, 'objectClass: organizationalUnit', 'ou: people');
  entry(`dn: ou=groups,${SUFFIX}`, 'objectClass: organizationalUnit', 'ou: groups');
  entry(`dn: ou=other,${SUFFIX}`, 'objectClass: organizationalUnit', 'ou: other');
  for (const ou of OUS) {
    entry(`dn: ou=${ou},ou=people,${SUFFIX}`, 'objectClass: organizationalUnit', `ou: ${ou}`);
    for (let i = 0; i < PER_OU; i++) {
      const lines = [
        `dn: ${userDn(ou, i)}`,
        'objectClass: inetOrgPerson',
        `uid: ${ou}${i}`,
        `cn: ${ou} person ${i}`,
        `givenName: Given${i}`,
        `sn: ${ou}-${i}`,
        `mail: ${ou}${i}@example.org`,
        `title: ${ou === 'engineering' ? 'Engineer' : 'Staff'}`,
        `employeeNumber: ${ou.slice(0, 2)}${i}`,
        `departmentNumber: ${ou}`,
      ];
      if (i === 1) lines.push(`manager: ${userDn(ou, 0)}`);
      if (i === 0) lines.push(`displayName: Head of ${ou}`);
      // Disabled: a locked account (ppolicy), and one marked by a configured attribute.
      if (ou === 'sales' && i === 7) lines.push('pwdAccountLockedTime: 000001010000Z');
      if (ou === 'support' && i === 9) lines.push('employeeType: disabled');
      entry(...lines);
    }
  }
  // An entry without mail or uid: no userName, reported with its DN and left out.
  entry(
    `dn: cn=no address,ou=support,ou=people,${SUFFIX}`,
    'objectClass: inetOrgPerson',
    'cn: no address',
    'sn: nobody',
  );
  // groupOfNames, groupOfUniqueNames, posixGroup.
  entry(
    `dn: cn=eng-core,ou=groups,${SUFFIX}`,
    'objectClass: groupOfNames',
    'cn: eng-core',
    ...[0, 1, 2].map((i) => `member: ${userDn('engineering', i)}`),
  );
  entry(
    `dn: cn=sales-team,ou=groups,${SUFFIX}`,
    'objectClass: groupOfUniqueNames',
    'cn: sales-team',
    `uniqueMember: ${userDn('sales', 0)}`,
    `uniqueMember: ${userDn('sales', 1)}#'0101'B`,
  );
  entry(
    `dn: cn=ops-posix,ou=groups,${SUFFIX}`,
    'objectClass: posixGroup',
    'cn: ops-posix',
    'gidNumber: 5000',
    'memberUid: operations0',
    'memberUid: operations1',
    'memberUid: nobody-here',
  );
  // A group outside the group base (so outside the filter's reach), nested in all-staff.
  entry(
    `dn: cn=contractors,ou=other,${SUFFIX}`,
    'objectClass: groupOfNames',
    'cn: contractors',
    `member: ${userDn('support', 5)}`,
  );
  entry(
    `dn: cn=all-staff,ou=groups,${SUFFIX}`,
    'objectClass: groupOfNames',
    'cn: all-staff',
    `member: cn=eng-core,ou=groups,${SUFFIX}`,
    `member: cn=sales-team,ou=groups,${SUFFIX}`,
    `member: cn=contractors,ou=other,${SUFFIX}`,
    `member: ${userDn('support', 0)}`,
  );
  // A cycle: cycle-a in cycle-b in cycle-a.
  entry(
    `dn: cn=cycle-a,ou=groups,${SUFFIX}`,
    'objectClass: groupOfNames',
    'cn: cycle-a',
    `member: cn=cycle-b,ou=groups,${SUFFIX}`,
    `member: ${userDn('support', 1)}`,
  );
  entry(
    `dn: cn=cycle-b,ou=groups,${SUFFIX}`,
    'objectClass: groupOfNames',
    'cn: cycle-b',
    `member: cn=cycle-a,ou=groups,${SUFFIX}`,
    `member: ${userDn('support', 2)}`,
  );
  return out.join('\n');
}

const byUserName = (users: DesiredUser[]) => new Map(users.map((u) => [String(u.attributes.userName), u]));
const groupNamed = <G extends { displayName: string }>(groups: G[], name: string): G => {
  const g = groups.find((x) => x.displayName === name);
  assert.ok(g, `group ${name} is in the snapshot`);
  return g;
};

describe('LDAP source against slapd', { timeout: 300_000 }, () => {
  let slapd: Slapd;
  let settings: LdapSourceSettings;

  before(async () => {
    slapd = await startSlapd({ sizeLimit: SIZE_LIMIT, tls: true, ldif: directoryLdif() });
    settings = {
      url: `${slapd.url}/${SUFFIX}`,
      bindDn: slapd.readerDn,
      password: slapd.readerPassword,
      groupBaseDn: `ou=groups,${SUFFIX}`,
      groupFilter: groupFilterFor('openldap'),
      pageSize: 200,
      disabled: { attribute: 'employeeType', value: 'disabled' },
    };
  });
  after(async () => {
    await slapd?.dispose();
  });

  test('the server limits an unpaged search below the user count (the premise of the paging tests)', async () => {
    const client = new Client({ url: slapd.url });
    await client.bind(slapd.readerDn, slapd.readerPassword);
    await assert.rejects(
      client.search(SUFFIX, { scope: 'sub', filter: '(objectClass=inetOrgPerson)', attributes: ['uid'] }),
      (e: Error) => e.name === 'SizeLimitExceededError',
    );
    await client.unbind();
  });

  test('reads every user through paging, with the default OpenLDAP mapping', async () => {
    const phases: LdapProgress[] = [];
    const snapshot = await readLdapSource(settings, { registry, onProgress: (p) => phases.push(p) });
    assert.equal(snapshot.kind, 'openldap');
    assert.equal(snapshot.users.length, USERS, 'every user with a userName, past the size limit of 500');
    assert.ok(
      phases.some((p) => p.phase === 'users' && p.done === 200),
      'progress by page',
    );
    assert.equal(Math.max(...phases.filter((p) => p.phase === 'users').map((p) => p.done)), USERS + 1);

    const users = byUserName(snapshot.users);
    const head = users.get('engineering0@example.org')!;
    assert.ok(head, 'userName is mail');
    assert.match(
      String(head.attributes.externalId),
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      'externalId is entryUUID',
    );
    assert.deepEqual(head.attributes.name, { givenName: 'Given0', familyName: 'engineering-0' });
    assert.equal(head.attributes.displayName, 'Head of engineering', 'displayName first');
    assert.equal(users.get('engineering2@example.org')!.attributes.displayName, 'engineering person 2', 'else cn');
    assert.deepEqual(head.attributes.emails, [{ value: 'engineering0@example.org', type: 'work', primary: true }]);
    assert.equal(head.attributes.title, 'Engineer');
    assert.deepEqual(head.attributes[SCHEMA.ENTERPRISE_USER], { employeeNumber: 'en0', department: 'engineering' });
    assert.equal(head.origin.file, userDn('engineering', 0), 'the origin is the DN');
    const report = users.get('engineering1@example.org')!;
    assert.deepEqual(
      (report.attributes[SCHEMA.ENTERPRISE_USER] as Record<string, unknown>).manager,
      { value: head.attributes.externalId },
      "manager DN → the manager's externalId",
    );

    // Disabled accounts.
    assert.equal(users.get('sales7@example.org')!.attributes.active, false, 'pwdAccountLockedTime');
    assert.equal(users.get('support9@example.org')!.attributes.active, false, 'the configured attribute');
    assert.equal(users.get('sales8@example.org')!.attributes.active, true);
    assert.equal(snapshot.users.filter((u) => u.attributes.active === false).length, 2);

    // The entry without mail or uid is reported with its DN, and left out.
    assert.equal(snapshot.problems.length, 1);
    assert.equal(snapshot.problems[0]!.origin.file, `cn=no address,ou=support,ou=people,${SUFFIX}`);
    assert.match(snapshot.problems[0]!.message, /no userName: the entry has no mail, uid/);

    // Groups of each kind; nested groups flattened; the cycle ends; only the group filter's groups.
    const key = (uid: string) => String(users.get(`${uid}@example.org`)!.attributes.externalId);
    const members = (name: string) => [...(groupNamed(snapshot.groups, name).members ?? [])].sort();
    assert.deepEqual(snapshot.groups.map((g) => g.displayName).sort(), [
      'all-staff',
      'cycle-a',
      'cycle-b',
      'eng-core',
      'ops-posix',
      'sales-team',
    ]);
    assert.deepEqual(members('eng-core'), ['engineering0', 'engineering1', 'engineering2'].map(key).sort());
    assert.deepEqual(
      members('sales-team'),
      ['sales0', 'sales1'].map(key).sort(),
      'uniqueMember, with and without its #uid',
    );
    assert.deepEqual(
      members('ops-posix'),
      ['operations0', 'operations1'].map(key).sort(),
      'memberUid; an unknown uid is skipped',
    );
    assert.deepEqual(
      members('all-staff'),
      ['engineering0', 'engineering1', 'engineering2', 'sales0', 'sales1', 'support5', 'support0'].map(key).sort(),
      'nested, including a group outside the filter',
    );
    assert.deepEqual(members('cycle-a'), ['support1', 'support2'].map(key).sort());
    assert.deepEqual(members('cycle-b'), ['support1', 'support2'].map(key).sort());
    assert.match(String(groupNamed(snapshot.groups, 'eng-core').externalId), /^[0-9a-f-]{36}$/);

    // The same directory gives the same fingerprint.
    const again = await readLdapSource(settings, { registry });
    assert.equal(again.fingerprint, snapshot.fingerprint);
    assert.match(snapshot.fingerprint, /^[0-9a-f]{64}$/);
  });

  test("nested 'direct' keeps only the members a group names itself", async () => {
    const snapshot = await readLdapSource({ ...settings, nested: 'direct' }, { registry });
    const users = byUserName(snapshot.users);
    assert.deepEqual(groupNamed(snapshot.groups, 'all-staff').members, [
      String(users.get('support0@example.org')!.attributes.externalId),
    ]);
    assert.deepEqual(groupNamed(snapshot.groups, 'cycle-a').members, [
      String(users.get('support1@example.org')!.attributes.externalId),
    ]);
  });

  test('no group filter: no groups', async () => {
    const { groupFilter: _, ...noGroups } = settings;
    const snapshot = await readLdapSource(noGroups, { registry });
    assert.deepEqual(snapshot.groups, []);
    assert.equal(snapshot.users.length, USERS);
  });

  test('a filter that matches nothing gives an empty snapshot (the sync refuses an empty source)', async () => {
    const snapshot = await readLdapSource(
      { ...settings, userFilter: '(uid=nobody-by-this-name)', groupFilter: '(cn=nothing-by-this-name)' },
      { registry },
    );
    assert.deepEqual([snapshot.users, snapshot.groups, snapshot.problems], [[], [], []]);
    assert.match(snapshot.fingerprint, /^[0-9a-f]{64}$/);
  });

  test('without paging, the size limit throws instead of giving 500 users', async () => {
    await assert.rejects(readLdapSource({ ...settings, paging: false }, { registry }), (e: unknown) => {
      assert.ok(e instanceof LdapReadError, String(e));
      assert.equal(e.resultCode, 4);
      assert.match(e.message, /size limit.*paging is off/);
      return true;
    });
  });

  test('a rename and a move to another OU keep the externalId; the fingerprint changes', async () => {
    const before = await readLdapSource(settings, { registry });
    const id = byUserName(before.users).get('operations5@example.org')!.attributes.externalId;
    const admin = new Client({ url: slapd.url });
    await admin.bind(slapd.adminDn, slapd.adminPassword);
    try {
      await admin.modify(userDn('operations', 5), [
        new Change({
          operation: 'replace',
          modification: new Attribute({ type: 'mail', values: ['ops.five@example.org'] }),
        }),
      ]);
      await admin.modifyDN(userDn('operations', 5), `uid=operations5,ou=support,ou=people,${SUFFIX}`);
    } finally {
      await admin.unbind();
    }
    const after = await readLdapSource(settings, { registry });
    const moved = byUserName(after.users).get('ops.five@example.org');
    assert.ok(moved, 'the renamed user is read');
    assert.equal(moved.attributes.externalId, id);
    assert.equal(moved.origin.file, `uid=operations5,ou=support,ou=people,${SUFFIX}`);
    assert.notEqual(after.fingerprint, before.fingerprint);
  });

  test('StartTLS with the CA works; without it the error names the CA', async () => {
    const tlsSettings = {
      ...settings,
      url: `ldap://localhost:${slapd.port}/${SUFFIX}`,
      startTls: true,
      groupFilter: '(cn=eng-core)',
    };
    const snapshot = await readLdapSource({ ...tlsSettings, caFile: slapd.caFile! }, { registry });
    assert.equal(snapshot.users.length, USERS);
    await assert.rejects(readLdapSource(tlsSettings, { registry }), (e: unknown) => {
      assert.ok(e instanceof LdapTlsError, String(e));
      assert.match(e.message, /CA/);
      assert.match(e.message, /--ldap-ca/);
      return true;
    });
  });

  test('ldaps:// with the CA works; without it the error names the CA', async () => {
    const secure = { ...settings, url: `ldaps://127.0.0.1:${slapd.ldapsPort}/${SUFFIX}`, groupFilter: '(cn=eng-core)' };
    const snapshot = await readLdapSource({ ...secure, caFile: slapd.caFile! }, { registry });
    assert.equal(snapshot.users.length, USERS);
    await assert.rejects(
      readLdapSource(secure, { registry }),
      (e: unknown) => e instanceof LdapTlsError && /CA/.test(e.message),
    );
  });

  test('a wrong password: the error names the bind DN and the password, never the password given', async () => {
    await assert.rejects(readLdapSource({ ...settings, password: 'not-the-Pa55word' }, { registry }), (e: unknown) => {
      assert.ok(e instanceof LdapBindError, String(e));
      assert.equal(e.resultCode, 49);
      assert.ok(e.message.includes(slapd.readerDn), e.message);
      assert.match(e.message, /bind DN and the password/);
      assert.ok(!e.message.includes('not-the-Pa55word'));
      return true;
    });
  });

  test(
    'an anonymous bind only when asked; this server shows anonymous binds nothing, ' +
      'and that throws rather than reading as empty',
    async () => {
      const { bindDn: _, password: __, ...anonymous } = settings;
      await assert.rejects(readLdapSource(anonymous, { registry }), /no bind DN/);
      await assert.rejects(readLdapSource({ ...anonymous, anonymous: true }, { registry }), (e: unknown) => {
        assert.ok(e instanceof LdapReadError, String(e));
        assert.equal(e.resultCode, 32);
        assert.match(e.message, /not there, or this bind may not see it/);
        return true;
      });
    },
  );

  test('nothing on the port: the error names the host and port', async () => {
    const port = await freePort();
    await assert.rejects(
      readLdapSource({ ...settings, url: `ldap://127.0.0.1:${port}/${SUFFIX}` }, { registry }),
      (e: unknown) => {
        assert.ok(e instanceof LdapConnectionError, String(e));
        assert.ok(!(e instanceof LdapTlsError));
        assert.ok(e.message.includes(`127.0.0.1 port ${port}`), e.message);
        return true;
      },
    );
  });

  test('a connection dropped in the middle of the read throws, never a partial snapshot', async () => {
    // The proxy passes about a third of the users' bytes, then cuts.
    const proxy = await startCuttingProxy(slapd.port, 150_000);
    try {
      await assert.rejects(
        readLdapSource({ ...settings, url: `${proxy.url}/${SUFFIX}` }, { registry }),
        (e: unknown) => {
          assert.ok(e instanceof LdapReadError, String(e));
          assert.ok(e.received > 0 && e.received < USERS, `read ${e.received} before the cut`);
          assert.match(e.message, /connection .* was lost/);
          return true;
        },
      );
      assert.equal(proxy.cuts, 1);
    } finally {
      await proxy.close();
    }
  });
});

describe('LDAP source: a server without TLS', { timeout: 60_000 }, () => {
  test('StartTLS asked for and refused: the error says so', async () => {
    const slapd = await startSlapd({ ldif: `dn: ou=people,${SUFFIX}\nobjectClass: organizationalUnit\nou: people\n` });
    try {
      const settings: LdapSourceSettings = {
        url: `${slapd.url}/${SUFFIX}`,
        bindDn: slapd.readerDn,
        password: slapd.readerPassword,
        startTls: true,
      };
      await assert.rejects(
        readLdapSource(settings, { registry }),
        (e: unknown) => e instanceof LdapTlsError && /refused StartTLS/.test(e.message),
      );
      // Without StartTLS (allowed on the loopback) the same server reads, and has no users.
      assert.deepEqual((await readLdapSource({ ...settings, startTls: undefined }, { registry })).users, []);
    } finally {
      await slapd.dispose();
    }
  });
});

describe('LDAP source: the server stops in the middle of the read', { timeout: 120_000 }, () => {
  test('slapd killed while paging: throws', async () => {
    const slapd = await startSlapd({ sizeLimit: 100, ldif: directoryLdif() });
    try {
      const settings: LdapSourceSettings = {
        url: `${slapd.url}/${SUFFIX}`,
        bindDn: slapd.readerDn,
        password: slapd.readerPassword,
        pageSize: 100,
      };
      let killed: Promise<void> | undefined;
      await assert.rejects(
        readLdapSource(settings, {
          registry,
          onProgress: (p) => {
            if (p.phase === 'users' && p.done >= 300 && !killed) killed = slapd.kill();
          },
        }),
        (e: unknown) => e instanceof LdapReadError && e.received >= 300 && e.received < USERS,
      );
      assert.ok(killed, 'the server was killed mid-read');
      await killed;
    } finally {
      await slapd.dispose();
    }
  });
});

/**
 * readLdapSource with recorded entries and a fake client: AD (objectGUID, userPrincipalName /
 * sAMAccountName, userAccountControl, accountExpires), in-chain matching vs the walk (nested
 * groups outside the filter, a cycle, range retrieval), memberOf, a mapping file, entries left out.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SchemaRegistry } from '../../src/api/schema.ts';
import { SCHEMA } from '../../src/api/types.ts';
import { guidBytes } from '../../src/sources/ldap/ad.ts';
import type { RawEntry, SearchRequest } from '../../src/sources/ldap/client.ts';
import { LdapReadError } from '../../src/sources/ldap/errors.ts';
import { dnKey, membersFromGroups, membersFromMemberOf, uniqueMemberDn } from '../../src/sources/ldap/groups.ts';
import { readLdapSource, type LdapSourceSettings } from '../../src/sources/ldap/read.ts';
import { entry, fakeClient } from './ldap-helpers.ts';

const registry = new SchemaRegistry();
const BASE = 'DC=corp,DC=example';
const NOW = new Date('2026-06-01T00:00:00Z');
const ticks = (iso: string) => String((BigInt(Date.parse(iso)) + 11_644_473_600_000n) * 10_000n);
const dn = (cn: string, ou = 'Users') => `CN=${cn},OU=${ou},${BASE}`;
const GUIDS = {
  alice: '6f9619ff-8b86-d011-b42d-00c04fc964ff',
  bob: '11111111-2222-3333-4444-555555555555',
  carol: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  dave: '01234567-89ab-cdef-0123-456789abcdef',
  staff: 'fedcba98-7654-3210-fedc-ba9876543210',
};

const AD_USERS: RawEntry[] = [
  entry(dn('Alice'), {
    objectGUID: [guidBytes(GUIDS.alice)],
    userPrincipalName: ['alice@corp.example'],
    sAMAccountName: ['alice'],
    givenName: ['Alice'],
    sn: ['Smith'],
    displayName: ['Alice Smith'],
    mail: ['alice@corp.example'],
    department: ['Sales'],
    userAccountControl: ['512'],
    accountExpires: ['0'],
    manager: [dn('Dave')],
  }),
  // No userPrincipalName: sAMAccountName. Disabled by userAccountControl.
  entry(dn('Bob'), {
    objectGUID: [guidBytes(GUIDS.bob)],
    sAMAccountName: ['bob'],
    cn: ['Bob'],
    userAccountControl: ['514'],
    accountExpires: ['9223372036854775807'],
  }),
  // Expired.
  entry(dn('Carol'), {
    objectGUID: [guidBytes(GUIDS.carol)],
    userPrincipalName: ['carol@corp.example'],
    userAccountControl: ['512'],
    accountExpires: [ticks('2026-01-01T00:00:00Z')],
  }),
  // Expires later: active.
  entry(dn('Dave'), {
    objectGUID: [guidBytes(GUIDS.dave)],
    userPrincipalName: ['dave@corp.example'],
    userAccountControl: ['66048'],
    accountExpires: [ticks('2027-01-01T00:00:00Z')],
  }),
];

const AD_ROOT = entry('', { supportedCapabilities: ['1.2.840.113556.1.4.800', '1.2.840.113556.1.4.1670'] });

/** An AD server: the root DSE, users in two pages, the groups, base reads and in-chain searches. */
function adServer(groups: RawEntry[], extra: (req: SearchRequest) => RawEntry[][] | undefined = () => undefined) {
  return fakeClient((req) => {
    const answer = extra(req);
    if (answer) return answer;
    if (req.base === '' && req.scope === 'base') return [[AD_ROOT]];
    if (req.filter === '(&(objectCategory=person)(objectClass=user))') return [AD_USERS.slice(0, 2), AD_USERS.slice(2)];
    if (req.filter === '(objectClass=group)') return [groups];
    throw new Error(`unexpected search ${JSON.stringify(req)}`);
  });
}

const adSettings: LdapSourceSettings = {
  url: `ldaps://dc1.corp.example/${BASE}`,
  bindDn: 'CN=svc,DC=corp,DC=example',
  password: 'pw',
  groupFilter: '(objectClass=group)',
};

describe('Active Directory with recorded entries', () => {
  test(
    'the AD mapping: objectGUID, userPrincipalName else sAMAccountName, disabled ' + 'and expired accounts, manager',
    async () => {
      const client = adServer([]);
      const snap = await readLdapSource(adSettings, { registry, now: NOW, connect: async () => client });
      assert.equal(snap.kind, 'ad', 'told by the root DSE');
      assert.deepEqual(
        snap.users.map((u) => [u.attributes.userName, u.attributes.externalId, u.attributes.active]),
        [
          ['alice@corp.example', GUIDS.alice, true],
          ['bob', GUIDS.bob, false],
          ['carol@corp.example', GUIDS.carol, false],
          ['dave@corp.example', GUIDS.dave, true],
        ],
      );
      const alice = snap.users[0]!;
      assert.deepEqual(alice.attributes[SCHEMA.ENTERPRISE_USER], {
        department: 'Sales',
        manager: { value: GUIDS.dave },
      });
      assert.equal(alice.origin.file, dn('Alice'));
      assert.deepEqual(snap.problems, []);
      const users = client.requests.find((r) => r.filter.includes('objectCategory'))!;
      assert.ok(users.binary?.includes('objectGUID'), 'objectGUID is read as bytes');
      assert.ok(users.attributes.includes('userAccountControl') && users.attributes.includes('accountExpires'));
      assert.ok(!users.attributes.includes('*'), 'only the attributes needed');
    },
  );

  test('guidFormat base64 gives the immutableId form', async () => {
    const snap = await readLdapSource(
      { ...adSettings, guidFormat: 'base64' },
      { registry, now: NOW, connect: async () => adServer([]) },
    );
    assert.equal(snap.users[0]!.attributes.externalId, guidBytes(GUIDS.alice).toString('base64'));
  });

  test('in-chain matching: one search per group with the 1.2.840.113556.1.4.1941 rule', async () => {
    const staffDn = dn('Staff (all)', 'Groups');
    const client = adServer([entry(staffDn, { cn: ['Staff'], objectGUID: [guidBytes(GUIDS.staff)] })], (req) => {
      if (req.filter.includes('1.2.840.113556.1.4.1941'))
        return [[entry(dn('Alice'), {})], [entry(dn('Carol'), {}), entry(dn('Nobody'), {})]];
      return undefined;
    });
    const snap = await readLdapSource(adSettings, { registry, now: NOW, connect: async () => client });
    const chain = client.requests.filter((r) => r.filter.includes('1.2.840.113556.1.4.1941'));
    assert.equal(chain.length, 1);
    assert.equal(
      chain[0]!.filter,
      '(&(&(objectCategory=person)(objectClass=user))(memberOf:1.2.840.113556.1.4.1941:=CN=Staff ' +
        '\\28all\\29,OU=Groups,DC=corp,DC=example))',
    );
    assert.ok(chain[0]!.pageSize > 0, 'paged');
    const groupSearch = client.requests.find((r) => r.filter === '(objectClass=group)')!;
    assert.ok(!groupSearch.attributes.includes('member'), 'the member lists are not read');
    assert.deepEqual(snap.groups, [
      {
        displayName: 'Staff',
        externalId: GUIDS.staff,
        members: [GUIDS.alice, GUIDS.carol].sort(),
        origin: { file: staffDn, line: 0 },
      },
    ]);
  });

  test('the walk (no in-chain): ranges read, nested groups outside the filter looked up, a cycle ends', async () => {
    const staff = dn('Staff', 'Groups');
    const inner = dn('Inner', 'Hidden');
    const loop = dn('Loop', 'Hidden');
    const client = adServer([entry(staff, { cn: ['Staff'], 'member;range=0-1': [dn('Alice'), inner] })], (req) => {
      if (req.base === staff && req.attributes[0] === 'member;range=2-*')
        return [[entry(staff, { 'member;range=2-*': [loop, dn('Gone')] })]];
      if (req.base === inner) return [[entry(inner, { objectClass: ['top', 'group'], member: [dn('Dave'), staff] })]];
      if (req.base === loop) return [[entry(loop, { objectClass: ['top', 'group'], member: [inner, loop] })]];
      if (req.base === dn('Gone')) throw new LdapReadError('noSuchObject', 0, undefined, 32);
      return undefined;
    });
    const snap = await readLdapSource(
      { ...adSettings, inChain: false },
      { registry, now: NOW, connect: async () => client },
    );
    assert.deepEqual(snap.groups[0]!.members, [GUIDS.alice, GUIDS.dave].sort());
    assert.equal(client.requests.filter((r) => r.base === inner).length, 1, 'each group looked up once');
    assert.ok(!client.requests.some((r) => r.filter.includes('1.2.840.113556.1.4.1941')));

    const direct = await readLdapSource(
      { ...adSettings, nested: 'direct' },
      {
        registry,
        now: NOW,
        connect: async () => adServer([entry(staff, { cn: ['Staff'], member: [dn('Alice'), inner] })]),
      },
    );
    assert.deepEqual(direct.groups[0]!.members, [GUIDS.alice]);
  });

  test('a read that fails mid-way throws and closes the connection', async () => {
    let closed = false;
    const client = {
      async *search(req: SearchRequest): AsyncGenerator<RawEntry[]> {
        if (req.base === '') return yield [AD_ROOT];
        yield AD_USERS.slice(0, 2);
        throw new LdapReadError('the connection was lost', 2);
      },
      async close() {
        closed = true;
      },
    };
    await assert.rejects(
      readLdapSource(adSettings, { registry, now: NOW, connect: async () => client }),
      LdapReadError,
    );
    assert.ok(closed);
  });
});

describe('OpenLDAP with recorded entries', () => {
  const OL_BASE = 'dc=example,dc=org';
  const person = (uid: string, extra: Record<string, string[]> = {}) =>
    entry(`uid=${uid},ou=people,${OL_BASE}`, {
      uid: [uid],
      entryUUID: [`00000000-0000-0000-0000-${uid.padStart(12, '0')}`],
      cn: [uid],
      sn: [uid],
      ...extra,
    });
  const server = (users: RawEntry[], groups: RawEntry[] = []) =>
    fakeClient((req) => {
      if (req.base === '' && req.scope === 'base') return [[entry('', { supportedLDAPVersion: ['3'] })]];
      if (req.filter === '(objectClass=inetOrgPerson)') return [users];
      if (req.filter.includes('Group') || req.filter.includes('group')) return [groups];
      if (req.scope === 'base') return [[]];
      throw new Error(`unexpected search ${JSON.stringify(req)}`);
    });
  const settings: LdapSourceSettings = {
    url: `ldap://127.0.0.1:3389/${OL_BASE}`,
    bindDn: `cn=reader,${OL_BASE}`,
    password: 'pw',
  };
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scimctl-ldap-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('memberOf: users name their groups; flatten goes up through the groups memberOf, across a cycle', async () => {
    const g = (cn: string) => `cn=${cn},ou=groups,${OL_BASE}`;
    const users = [person('ann', { memberOf: [g('dev')] }), person('ben', { memberOf: [g('ops')] })];
    const groups = [
      entry(g('dev'), { cn: ['dev'], memberOf: [g('eng')] }),
      entry(g('eng'), { cn: ['eng'], memberOf: [g('all')] }),
      entry(g('all'), { cn: ['all'], memberOf: [g('eng')] }),
      entry(g('ops'), { cn: ['ops'] }),
    ];
    const snap = await readLdapSource(
      { ...settings, membership: 'memberOf', groupFilter: '(objectClass=groupOfNames)' },
      { registry, connect: async () => server(users, groups) },
    );
    const members = Object.fromEntries(snap.groups.map((x) => [x.displayName, x.members]));
    const id = (uid: string) => `00000000-0000-0000-0000-${uid.padStart(12, '0')}`;
    assert.deepEqual(members, { all: [id('ann')], dev: [id('ann')], eng: [id('ann')], ops: [id('ben')] });
    const direct = await readLdapSource(
      { ...settings, membership: 'memberOf', nested: 'direct', groupFilter: '(objectClass=groupOfNames)' },
      { registry, connect: async () => server(users, groups) },
    );
    assert.deepEqual(Object.fromEntries(direct.groups.map((x) => [x.displayName, x.members])), {
      all: [],
      dev: [id('ann')],
      eng: [],
      ops: [id('ben')],
    });
  });

  test(
    'entries the mapping or the checks refuse are reported with their DN and left ' + 'out; the rest proceeds',
    async () => {
      const users = [
        person('ok1', { mail: ['ok1@example.org'] }),
        person('twin1', { mail: ['same@example.org'] }),
        person('twin2', { mail: ['Same@example.org'] }),
        person('bad', { mail: ['not an address'] }),
        entry(`cn=nameless,ou=people,${OL_BASE}`, { cn: ['nameless'], sn: ['x'] }),
      ];
      const snap = await readLdapSource(settings, { registry, connect: async () => server(users) });
      assert.deepEqual(
        snap.users.map((u) => u.attributes.userName),
        ['ok1@example.org'],
      );
      const problems = snap.problems.map((p) => `${p.origin.file}: ${p.message}`).sort();
      assert.equal(problems.length, 4, problems.join('\n'));
      assert.match(problems[0]!, /^cn=nameless,ou=people,dc=example,dc=org: no userName: the entry has no mail, uid$/);
      assert.ok(problems.some((p) => p.startsWith(`uid=bad,ou=people,${OL_BASE}`)));
      assert.ok(
        problems.some((p) =>
          p.startsWith(
            `uid=twin1,ou=people,${OL_BASE}: attribute "userName": userName "same@example.org" is also on uid=twin2`,
          ),
        ),
      );
      assert.ok(problems.some((p) => p.startsWith(`uid=twin2,ou=people,${OL_BASE}`)));
    },
  );

  test('a mapping file overrides the defaults: attribute names for columns, lists, transforms', async () => {
    const mapping = join(dir, 'ldap-mapping.yaml');
    await writeFile(
      mapping,
      [
        'attributes:',
        '  userName: { column: [employeeNumber, uid], transform: [uppercase] }',
        '  externalId: entryUUID',
        '  nickName: { template: "{givenName}-{sn}" }',
        '',
      ].join('\n'),
    );
    const users = [person('ann', { givenName: ['Ann'] }), person('ben', { employeeNumber: ['e7'] })];
    const client = server(users);
    const snap = await readLdapSource({ ...settings, mappingFile: mapping }, { registry, connect: async () => client });
    assert.deepEqual(
      snap.users.map((u) => u.attributes),
      [
        { userName: 'ANN', externalId: '00000000-0000-0000-0000-000000000ann', nickName: 'Ann-ann', active: true },
        { userName: 'E7', externalId: '00000000-0000-0000-0000-000000000ben', nickName: '-ben', active: true },
      ],
    );
    const read = client.requests.find((r) => r.filter === '(objectClass=inetOrgPerson)')!;
    for (const name of ['employeeNumber', 'uid', 'entryUUID', 'givenName', 'sn'])
      assert.ok(read.attributes.includes(name), name);
    assert.ok(!read.attributes.includes('mail'), 'the default mapping is not read');
    assert.ok(snap.files.includes(mapping));
  });

  test('the fingerprint follows the entries', async () => {
    const a = await readLdapSource(settings, {
      registry,
      connect: async () => server([person('ann', { mail: ['a@example.org'] })]),
    });
    const same = await readLdapSource(settings, {
      registry,
      connect: async () => server([person('ann', { mail: ['a@example.org'] })]),
    });
    const changed = await readLdapSource(settings, {
      registry,
      connect: async () => server([person('ann', { mail: ['b@example.org'] })]),
    });
    assert.equal(a.fingerprint, same.fingerprint);
    assert.notEqual(a.fingerprint, changed.fingerprint);
  });
});

describe('group membership helpers', () => {
  test('dnKey and uniqueMember', () => {
    assert.equal(dnKey(' CN=A B , OU = X,dc=Example '), 'cn=a b,ou=x,dc=example');
    assert.equal(uniqueMemberDn("uid=a,dc=x#'0101'B"), 'uid=a,dc=x');
  });
  test('a cycle of groups ends, each group gets the members of the whole cycle', async () => {
    const groups = [
      { dn: 'cn=a', memberDns: ['cn=b', 'uid=1'], memberUids: [], memberOf: [] },
      { dn: 'cn=b', memberDns: ['cn=c'], memberUids: ['two'], memberOf: [] },
      { dn: 'cn=c', memberDns: ['cn=a'], memberUids: [], memberOf: [] },
    ];
    const result = await membersFromGroups({
      groups,
      usersByDn: new Map([['uid=1', 1]]),
      usersByUid: new Map([['two', 2]]),
      nested: 'flatten',
    });
    for (const g of ['cn=a', 'cn=b', 'cn=c']) assert.deepEqual([...result.get(g)!].sort(), [1, 2], g);
  });
  test('memberOf with flatten stays in a cycle of parents', async () => {
    const groups = [
      { dn: 'cn=a', memberDns: [], memberUids: [], memberOf: ['cn=b'] },
      { dn: 'cn=b', memberDns: [], memberUids: [], memberOf: ['cn=a'] },
    ];
    const result = await membersFromMemberOf(groups, [{ user: 'u', memberOf: ['cn=a'] }], 'flatten');
    assert.deepEqual([...result.get('cn=b')!], ['u']);
  });
});

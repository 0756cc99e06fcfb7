/**
 * --ldap-membership memberOf and --ldap-kind, end to end: the built binary reads a real OpenLDAP
 * slapd with the memberof overlay (test/support/slapd.ts; the groups are added through the server,
 * so that the overlay writes the users' and the groups' memberOf) and syncs into `scimctl serve`.
 *
 * Groups: devs = u0, u1 and the group leads (= u2); ops = u3, u4; ring-a and ring-b name each
 * other (a cycle) and ring-b names u5. u5 is loaded with a memberOf of ops that ops' member does not
 * list: the one place where the two ways of reading membership differ, so each test can tell which
 * was used. A server size limit below the user count: paging is needed.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Attribute, Change, Client } from 'ldapts';
import { startSlapd, type Slapd } from '../support/slapd.ts';
import { runCli, serverEnv, tempHome, type RunResult } from './helpers.ts';
import { startServe, type Json, type ServeProcess } from './serve-helpers.ts';

const TOKEN = 'e2e-ldap-membership-token-7a2b';
const SUFFIX = 'dc=example,dc=org';
const USERS = 6;
const PASSWORD_VAR = 'E2E_LDAP_PASSWORD';

const userDn = (i: number) => `uid=u${i},ou=people,${SUFFIX}`;
const groupDn = (name: string) => `cn=${name},ou=groups,${SUFFIX}`;

function directoryLdif(): string {
  const out: string[] = [];
  const entry = (...lines: string[]) => out.push(lines.join('\n'), '');
  entry(`dn: ou=people,${SUFFIX}`, 'objectClass: organizationalUnit', 'ou: people');
  entry(`dn: ou=groups,${SUFFIX}`, 'objectClass: organizationalUnit', 'ou: groups');
  for (let i = 0; i < USERS; i++)
    entry(
      `dn: ${userDn(i)}`,
      'objectClass: inetOrgPerson',
      `uid: u${i}`,
      `cn: User ${i}`,
      `sn: Family${i}`,
      `mail: u${i}@example.org`,
      // slapadd writes this as given; the overlay adds the rest once the groups are added.
      ...(i === 5 ? [`memberOf: ${groupDn('ops')}`] : []),
    );
  return out.join('\n');
}

let slapd: Slapd;
let serve: ServeProcess;
let home: ReturnType<typeof tempHome>;
let env: Record<string, string>;

const ldapArgs = (...extra: string[]) => [
  '--source',
  `${slapd.url}/${SUFFIX}`,
  '--ldap-bind-dn',
  slapd.readerDn,
  '--ldap-password-env',
  PASSWORD_VAR,
  '--ldap-group-filter',
  '(objectClass=groupOfNames)',
  '--ldap-page-size',
  '2',
  ...extra,
];
const sync = (args: string[]): Promise<RunResult> =>
  runCli(['sync', ...args], { env: { ...env, [PASSWORD_VAR]: slapd.readerPassword }, timeoutMs: 120_000 });
interface PlanJson {
  changes: Array<{ kind: string; userName?: string; displayName?: string; [k: string]: unknown }>;
  problems: Array<{ origin: { file: string }; message: string }>;
}
const planJson = async (args: string[]): Promise<PlanJson> => {
  const r = await sync(['plan', ...args, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as PlanJson;
};

/** Each target group's members as sorted userNames, by displayName. */
async function targetMemberships(): Promise<Record<string, string[]>> {
  const users = (await serve.request('GET', '/Users?count=1000')).body.Resources as Json[];
  const names = new Map(users.map((u: Json) => [u.id as string, u.userName as string]));
  const groups = (await serve.request('GET', '/Groups?count=1000')).body.Resources as Json[];
  const out: Record<string, string[]> = {};
  for (const g of groups)
    out[g.displayName as string] = ((g.members ?? []) as Json[]).map((m: Json) => names.get(m.value) ?? m.value).sort();
  return out;
}

describe(
  'LDAP: --ldap-membership memberOf and --ldap-kind (slapd with memberof → scimctl serve)',
  { timeout: 300_000 },
  () => {
    before(async () => {
      slapd = await startSlapd({ sizeLimit: 4, memberOf: true, ldif: directoryLdif() });
      // Through the server, so that the memberof overlay writes memberOf (it does not for what slapadd loads).
      const admin = new Client({ url: slapd.url });
      await admin.bind(slapd.adminDn, slapd.adminPassword);
      try {
        const group = (name: string, members: string[]) =>
          admin.add(groupDn(name), { objectClass: 'groupOfNames', cn: name, member: members });
        await group('leads', [userDn(2)]);
        await group('devs', [userDn(0), userDn(1), groupDn('leads')]);
        await group('ops', [userDn(3), userDn(4)]);
        await group('ring-b', [userDn(5)]);
        await group('ring-a', [groupDn('ring-b')]);
        await admin.modify(
          groupDn('ring-b'),
          new Change({
            operation: 'add',
            modification: new Attribute({ type: 'member', values: [groupDn('ring-a')] }),
          }),
        );
      } finally {
        await admin.unbind();
      }
      serve = await startServe({ token: TOKEN });
      home = tempHome();
      env = { ...serverEnv(serve.url, TOKEN, home), SCIMCTL_DATA_DIR: join(home.dir, 'data') };
    });
    after(async () => {
      await serve?.stop();
      serve?.cleanup();
      await slapd?.dispose();
      home?.cleanup();
    });

    test('the premise: the overlay gave the users and the nested groups their memberOf', async () => {
      const reader = new Client({ url: slapd.url });
      await reader.bind(slapd.readerDn, slapd.readerPassword);
      try {
        const { searchEntries } = await reader.search(SUFFIX, {
          scope: 'sub',
          filter: '(|(uid=u2)(cn=leads))',
          attributes: ['memberOf'],
        });
        const memberOf = Object.fromEntries(searchEntries.map((e) => [e.dn, e.memberOf]));
        assert.deepEqual(memberOf, { [userDn(2)]: groupDn('leads'), [groupDn('leads')]: groupDn('devs') });
      } finally {
        await reader.unbind();
      }
    });

    test("memberOf, flattened: the users' memberOf and the groups' own memberOf (the cycle read once)", async () => {
      const run = await sync(['run', ...ldapArgs('--ldap-membership', 'memberOf'), '--yes']);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(await targetMemberships(), {
        devs: ['u0@example.org', 'u1@example.org', 'u2@example.org'],
        leads: ['u2@example.org'],
        ops: ['u3@example.org', 'u4@example.org', 'u5@example.org'],
        'ring-a': ['u5@example.org'],
        'ring-b': ['u5@example.org'],
      });
      assert.deepEqual((await planJson(ldapArgs('--ldap-membership', 'memberOf'))).changes, []);
      // The groups' member attributes say the same but for u5 in ops (its own memberOf only).
      const fromMember = await planJson(ldapArgs('--ldap-membership', 'member'));
      assert.deepEqual(
        fromMember.changes.map((c) => [c.kind, c.groupName, c.userName]),
        [['remove-member', 'ops', 'u5@example.org']],
      );
    });

    test('memberOf with --nested direct: only the groups a user names itself', async () => {
      const run = await sync(['run', ...ldapArgs('--ldap-membership', 'memberOf', '--nested', 'direct'), '--yes']);
      assert.equal(run.code, 0, run.stderr);
      const groups = await targetMemberships();
      assert.deepEqual(groups.devs, ['u0@example.org', 'u1@example.org'], 'u2 is in devs only through leads');
      assert.deepEqual(groups.leads, ['u2@example.org']);
      assert.deepEqual(groups['ring-a'], [], 'ring-a names no user itself');
      assert.deepEqual(groups['ring-b'], ['u5@example.org']);
      assert.deepEqual(groups.ops, ['u3@example.org', 'u4@example.org', 'u5@example.org'], "u5's own memberOf");
    });

    test(
      '--ldap-kind openldap reads as the root DSE would have it (plan = 0 after a ' + 'sync in the default kind)',
      async () => {
        const run = await sync(['run', ...ldapArgs(), '--yes']);
        assert.equal(run.code, 0, run.stderr);
        const groups = await targetMemberships();
        assert.deepEqual(groups.devs, ['u0@example.org', 'u1@example.org', 'u2@example.org'], 'from member, flattened');
        assert.deepEqual(groups.ops, ['u3@example.org', 'u4@example.org'], "from ops' member: u5 is not there");
        const plan = await planJson(ldapArgs('--ldap-kind', 'openldap'));
        assert.deepEqual(plan.changes, []);
        assert.deepEqual(plan.problems, []);
      },
    );

    test(
      "--ldap-kind ad against OpenLDAP: AD's user filter and AD's mapping are used, " + 'so nothing is read as a user',
      async () => {
        const before = await targetMemberships();
        // AD's default user filter, (&(objectCategory=person)(objectClass=user)), matches no OpenLDAP entry: the
        // empty-source refusal, never "every user is gone".
        const empty = await sync(['run', ...ldapArgs('--ldap-kind', 'ad'), '--yes']);
        assert.equal(empty.code, 7, empty.stderr);
        assert.match(empty.stderr, /no users|empty/i);
        // With OpenLDAP's filter, AD's mapping looks for userPrincipalName and sAMAccountName: each entry is named.
        const plan = await planJson(ldapArgs('--ldap-kind', 'ad', '--ldap-user-filter', '(objectClass=inetOrgPerson)'));
        assert.deepEqual(
          plan.problems.map((p) => p.origin.file).sort(),
          Array.from({ length: USERS }, (_, i) => userDn(i)).sort(),
        );
        for (const p of plan.problems)
          assert.match(p.message, /no userName: the entry has no userPrincipalName, sAMAccountName/);
        assert.ok(
          plan.changes.every((c) => c.kind !== 'create'),
          'no user is created from an entry left out',
        );
        assert.deepEqual(await targetMemberships(), before, 'nothing was applied');
      },
    );
  },
);

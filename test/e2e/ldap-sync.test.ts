/**
 * sync plan|run from a directory, end to end: the built binary reads a real OpenLDAP slapd
 * (test/support/slapd.ts, a size limit below the user count so paging is needed) and syncs
 * into `scimctl serve`. The command-line form (--source ldap://…) and the config-file form
 * (--config sync.yaml, exactly as the issue writes it) are driven the same way.
 *
 * The journeys run in order on one directory and one target: initial sync → plan again is 0
 * changes; a rename and an OU move are updates (never create + delete); a disabled account and a
 * removed entry are deactivated; a wrong bind password exits 4 and changes nothing.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Attribute, Change, Client } from 'ldapts';
import { startSlapd, type Slapd } from '../support/slapd.ts';
import { runCli, runCliInTerminal, serverEnv, tempHome, type RunResult } from './helpers.ts';
import { startServe, type Json, type ServeProcess } from './serve-helpers.ts';

const TOKEN = 'e2e-ldap-sync-token-4c1d9e';
const SUFFIX = 'dc=example,dc=org';
const OUS = ['engineering', 'sales'];
const PER_OU = 30;
const PASSWORD_VAR = 'E2E_LDAP_PASSWORD';

const userDn = (ou: string, i: number) => `uid=${ou}${i},ou=${ou},ou=people,${SUFFIX}`;

function directoryLdif(): string {
  const out: string[] = [];
  const entry = (...lines: string[]) => out.push(lines.join('\n'), '');
  entry(`dn: ou=people,${SUFFIX}`, 'objectClass: organizationalUnit', 'ou: people');
  entry(`dn: ou=groups,${SUFFIX}`, 'objectClass: organizationalUnit', 'ou: groups');
  for (const ou of OUS) {
    entry(`dn: ou=${ou},ou=people,${SUFFIX}`, 'objectClass: organizationalUnit', `ou: ${ou}`);
    for (let i = 0; i < PER_OU; i++) {
      entry(
        `dn: ${userDn(ou, i)}`,
        'objectClass: inetOrgPerson',
        `uid: ${ou}${i}`,
        `cn: ${ou} person ${i}`,
        `givenName: Given${i}`,
        `sn: ${ou}-${i}`,
        `mail: ${ou}${i}@example.org`,
        `title: Staff`,
      );
    }
  }
  // No mail and no uid: no userName; left out, named by its DN, the rest proceeds.
  entry(`dn: cn=no address,ou=sales,ou=people,${SUFFIX}`, 'objectClass: inetOrgPerson', 'cn: no address', 'sn: nobody');
  entry(
    `dn: cn=eng-core,ou=groups,${SUFFIX}`,
    'objectClass: groupOfNames',
    'cn: eng-core',
    ...[0, 1, 2].map((i) => `member: ${userDn('engineering', i)}`),
  );
  return out.join('\n');
}

let slapd: Slapd;
let serve: ServeProcess;
let home: ReturnType<typeof tempHome>;
let env: Record<string, string>;

const ldapArgs = () => [
  '--source',
  `${slapd.url}/${SUFFIX}`,
  '--ldap-bind-dn',
  slapd.readerDn,
  '--ldap-password-env',
  PASSWORD_VAR,
  '--ldap-user-filter',
  '(objectClass=inetOrgPerson)',
  '--ldap-group-filter',
  '(objectClass=groupOfNames)',
  '--ldap-page-size',
  '7',
];
const sync = (args: string[], extra: Record<string, string> = {}): Promise<RunResult> =>
  runCli(['sync', ...args], { env: { ...env, [PASSWORD_VAR]: slapd.readerPassword, ...extra }, timeoutMs: 120_000 });
const planJson = async (args: string[], extra?: Record<string, string>) => {
  const r = await sync(['plan', ...args, '--json'], extra);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as {
    summary: Record<string, number>;
    changes: Array<{ kind: string; userName?: string }>;
    problems: Array<{ origin: { file: string } }>;
  };
};
const targetUsers = async (): Promise<Json[]> => {
  const r = await serve.request('GET', '/Users?count=1000');
  assert.equal(r.status, 200);
  return r.body.Resources as Json[];
};
const userNamed = async (userName: string): Promise<Json | undefined> =>
  (await targetUsers()).find((u: Json) => u.userName === userName);

async function admin<T>(work: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ url: slapd.url });
  await client.bind(slapd.adminDn, slapd.adminPassword);
  try {
    return await work(client);
  } finally {
    await client.unbind();
  }
}

describe('sync from LDAP, end to end (slapd → scimctl serve)', { timeout: 600_000 }, () => {
  before(async () => {
    slapd = await startSlapd({ sizeLimit: 20, ldif: directoryLdif() });
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

  test(
    'initial sync on the command line; the entry without a userName is named by ' + 'its DN; plan again = 0',
    async () => {
      const run = await sync(['run', ...ldapArgs(), '--yes']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /cn=no address,ou=sales,ou=people,dc=example,dc=org: /, 'the left-out entry by its DN');
      assert.doesNotMatch(run.stdout, /dc=org:0/, 'a DN has no line number');
      const users = await targetUsers();
      assert.equal(users.length, OUS.length * PER_OU, 'every user past the size limit of 20 (paging)');
      const head = users.find((u: Json) => u.userName === 'engineering0@example.org');
      assert.match(head.externalId, /^[0-9a-f-]{36}$/, 'externalId is the entryUUID');
      const groups = (await serve.request('GET', '/Groups')).body.Resources as Json[];
      assert.equal(groups.find((g: Json) => g.displayName === 'eng-core')?.members?.length, 3);

      const again = await planJson(ldapArgs());
      assert.equal(again.changes.length, 0, JSON.stringify(again.changes));
      assert.equal(again.problems.length, 1);
      assert.equal(again.problems[0]!.origin.file, `cn=no address,ou=sales,ou=people,${SUFFIX}`);
    },
  );

  test('the run history keeps no password', async () => {
    const dir = join(home.dir, 'data');
    const seen: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else seen.push(readFileSync(p, 'latin1'));
      }
    };
    walk(dir);
    assert.ok(seen.length > 0, 'the history has files');
    assert.ok(
      seen.some((t) => t.includes(slapd.url)),
      'the history names the directory',
    );
    assert.ok(!seen.some((t) => t.includes(slapd.readerPassword)), 'the password is nowhere in the history');
  });

  test('a rename and an OU move are updates, never create + delete', async () => {
    const before = await userNamed('sales3@example.org');
    await admin(async (c) => {
      // Rename: a new uid (the RDN) and a new address.
      await c.modifyDN(userDn('sales', 3), `uid=sales3-renamed`);
      await c.modify(`uid=sales3-renamed,ou=sales,ou=people,${SUFFIX}`, [
        new Change({
          operation: 'replace',
          modification: new Attribute({ type: 'mail', values: ['sales3-renamed@example.org'] }),
        }),
      ]);
      // Move: another OU, same person.
      await c.modifyDN(userDn('engineering', 5), `uid=engineering5,ou=sales,ou=people,${SUFFIX}`);
    });
    const plan = await planJson(ldapArgs());
    assert.equal(plan.summary.create, 0, JSON.stringify(plan.changes));
    assert.equal(plan.summary.deactivate, 0);
    assert.equal(plan.summary.delete, 0);
    assert.deepEqual(
      plan.changes.map((c) => c.kind),
      ['update-user'],
    );
    const run = await sync(['run', ...ldapArgs(), '--yes']);
    assert.equal(run.code, 0, run.stderr);
    const after = await userNamed('sales3-renamed@example.org');
    assert.equal(after?.id, before.id, 'the same target user, renamed');
    assert.equal(await userNamed('sales3@example.org'), undefined);
    assert.equal((await planJson(ldapArgs())).changes.length, 0);
  });

  test('a disabled account and a removed entry are deactivated', async () => {
    await admin(async (c) => {
      await c.modify(userDn('sales', 7), [
        new Change({
          operation: 'add',
          modification: new Attribute({ type: 'pwdAccountLockedTime', values: ['000001010000Z'] }),
        }),
      ]);
      await c.del(userDn('sales', 8));
    });
    const run = await sync(['run', ...ldapArgs(), '--yes']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((await userNamed('sales7@example.org'))?.active, false, 'locked → active false');
    assert.equal((await userNamed('sales8@example.org'))?.active, false, 'removed → deactivated (missing: deactivate)');
    assert.equal((await userNamed('sales9@example.org'))?.active, true);
  });

  test(
    'the safety checks as for a file: an empty directory read is refused, so is a ' +
      'deletion over the threshold (exit 7)',
    async () => {
      const before = JSON.stringify(await targetUsers());
      // The password from a file this time (its first line).
      const file = join(home.dir, 'ldap-password');
      writeFileSync(file, `${slapd.readerPassword}\n`, { mode: 0o600 });
      const args = (filter: string) => [
        '--source',
        `${slapd.url}/${SUFFIX}`,
        '--ldap-bind-dn',
        slapd.readerDn,
        '--ldap-password-file',
        file,
        '--ldap-user-filter',
        filter,
        '--yes',
      ];
      const empty = await sync(['run', ...args('(uid=nobody-at-all)')], { [PASSWORD_VAR]: '' });
      assert.equal(empty.code, 7, empty.stderr);
      assert.match(empty.stderr, /no users|empty/i);
      const narrowed = await sync(['run', ...args('(&(objectClass=inetOrgPerson)(mail=engineering*))')]);
      assert.equal(narrowed.code, 7, narrowed.stderr);
      assert.match(narrowed.stderr, /--max-deletes/);
      assert.equal(JSON.stringify(await targetUsers()), before, 'nothing was applied');
    },
  );

  test(
    'a wrong bind password: exit 4, the bind DN and the variable named, the ' + 'password never; the target unchanged',
    async () => {
      const before = JSON.stringify(await targetUsers());
      const wrong = 'not-the-Password-9f8e';
      const r = await sync(['run', ...ldapArgs(), '--yes'], { [PASSWORD_VAR]: wrong });
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, new RegExp(`refused the bind as ${slapd.readerDn}`));
      assert.match(r.stderr, new RegExp(PASSWORD_VAR));
      assert.ok(!r.stderr.includes(wrong) && !r.stdout.includes(wrong), 'the password is never shown');
      assert.equal(JSON.stringify(await targetUsers()), before);
    },
  );

  test(
    'the password from standard input (--ldap-password-stdin, passwordStdin: ' +
      'true): its first line; a wrong one exits 4 naming standard input; none, or a ' +
      'terminal, exit 2',
    async () => {
      const stdinArgs = ldapArgs().map((a) => (a === '--ldap-password-env' ? '--ldap-password-stdin' : a));
      stdinArgs.splice(stdinArgs.indexOf(PASSWORD_VAR), 1);
      // No password in the environment: only standard input can give it.
      const piped = (args: string[], input: string) =>
        runCli(['sync', 'plan', ...args, '--json'], { env: { ...env, [PASSWORD_VAR]: '' }, input, timeoutMs: 120_000 });
      const right = await piped(stdinArgs, `${slapd.readerPassword}\nsecond line, not read\n`);
      assert.equal(right.code, 0, right.stderr);
      assert.equal(JSON.parse(right.stdout).changes.length, 0, 'the directory was read: the target matches');

      const config = join(home.dir, 'stdin.yaml');
      writeFileSync(
        config,
        [
          'source:',
          '  ldap:',
          `    url: ${slapd.url}`,
          `    bindDn: ${slapd.readerDn}`,
          '    passwordStdin: true',
          `    baseDn: ${SUFFIX}`,
          '    groupFilter: (objectClass=groupOfNames)',
          '',
        ].join('\n'),
      );
      const fromConfig = await piped(['--config', config], `${slapd.readerPassword}\n`);
      assert.equal(fromConfig.code, 0, fromConfig.stderr);
      assert.equal(JSON.parse(fromConfig.stdout).changes.length, 0);

      const wrong = 'not-the-Password-stdin-7a6b';
      const refused = await piped(stdinArgs, `${wrong}\n`);
      assert.equal(refused.code, 4, refused.stderr);
      assert.match(refused.stderr, /the password from standard input/);
      assert.ok(!refused.stderr.includes(wrong) && !refused.stdout.includes(wrong), 'the password is never shown');

      const none = await piped(stdinArgs, '');
      assert.equal(none.code, 2, none.stderr);
      assert.match(none.stderr, /--ldap-password-stdin: no password on standard input/);

      const terminal = await runCliInTerminal(['sync', 'plan', ...stdinArgs], 120, { env, timeoutMs: 60_000 });
      assert.equal(terminal.code, 2, terminal.stdout);
      assert.match(terminal.stdout, /standard input is a terminal; pipe the password in .* or use --ldap-password-env/);
    },
  );

  test(
    '--ldap-user-base and --ldap-scope: one OU, one level; the people OU itself at ' + 'one level holds no users',
    async () => {
      const narrowed = await planJson([
        ...ldapArgs(),
        '--ldap-user-base',
        `ou=engineering,ou=people,${SUFFIX}`,
        '--ldap-scope',
        'one',
        '--max-deletes',
        '100%',
      ]);
      const gone = narrowed.changes.filter((c) => c.kind === 'deactivate-user');
      assert.ok(gone.length > 0, JSON.stringify(narrowed.summary));
      // engineering5 was moved to the sales OU (above): it is outside the engineering OU now.
      const names = gone.map((c) => c.userName ?? '');
      assert.ok(names.includes('engineering5@example.org'), names.join(' '));
      assert.ok(
        names.every((n) => n.startsWith('sales') || n === 'engineering5@example.org'),
        `only the users outside the engineering OU are missing: ${names.join(' ')}`,
      );
      const empty = await sync([
        'plan',
        ...ldapArgs(),
        '--ldap-user-base',
        `ou=people,${SUFFIX}`,
        '--ldap-scope',
        'one',
      ]);
      assert.match(empty.stderr, /the source has no users/);
    },
  );

  test('a password on the command line is refused (exit 2)', async () => {
    const r = await sync(['plan', ...ldapArgs(), '--ldap-password', 'hunter2']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--ldap-password: a password is never taken on the command line/);
    assert.ok(!r.stderr.includes('hunter2'));
  });

  test('the directory down: exit 6', async () => {
    const r = await sync([
      'plan',
      '--source',
      `ldap://127.0.0.1:1/${SUFFIX}`,
      '--ldap-bind-dn',
      slapd.readerDn,
      '--ldap-password-env',
      PASSWORD_VAR,
    ]);
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, /cannot reach the directory at ldap:\/\/127\.0\.0\.1:1/);
  });

  test('the same sync through --config sync.yaml (the issue’s form); flags override the file', async () => {
    const config = join(home.dir, 'sync.yaml');
    writeFileSync(
      config,
      [
        'source:',
        '  ldap:',
        `    url: ${slapd.url}`,
        `    bindDn: ${slapd.readerDn}`,
        `    passwordEnv: ${PASSWORD_VAR}`,
        `    baseDn: ${SUFFIX}`,
        '    userFilter: (objectClass=inetOrgPerson)',
        '    groupFilter: (objectClass=groupOfNames)',
        'options:',
        '  missing: deactivate        # every sync flag by its long name',
        '',
      ].join('\n'),
    );
    await admin((c) =>
      c.modify(userDn('engineering', 9), [
        new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: ['Lead'] }) }),
      ]),
    );
    const plan = await planJson(['--config', config]);
    assert.deepEqual(
      plan.changes.map((c) => c.kind),
      ['update-user'],
      JSON.stringify(plan.changes),
    );
    const run = await sync(['run', '--config', config, '--yes']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((await userNamed('engineering9@example.org'))?.title, 'Lead');
    assert.equal((await planJson(['--config', config])).changes.length, 0);
    // A flag beats the file: a user filter that leaves out the sales OU makes its users missing.
    const narrowed = await planJson([
      '--config',
      config,
      '--ldap-user-filter',
      '(&(objectClass=inetOrgPerson)(mail=engineering*))',
      '--max-deletes',
      '100%',
    ]);
    assert.ok((narrowed.summary.deactivate ?? 0) > 0, 'the command line filter was used');
  });

  test('a config with a password: key: exit 2 naming file:line:key, nothing read', async () => {
    const config = join(home.dir, 'secret.yaml');
    writeFileSync(
      config,
      [
        'source:',
        '  ldap:',
        `    url: ${slapd.url}`,
        `    bindDn: ${slapd.readerDn}`,
        '    password: hunter2',
        `    baseDn: ${SUFFIX}`,
        '',
      ].join('\n'),
    );
    const r = await sync(['plan', '--config', config]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5: source\\.ldap\\.password: ` +
          `a secret is never written in the config file`,
      ),
    );
    assert.ok(!r.stderr.includes('hunter2'));
  });
});

describe('sync from LDAP over TLS (StartTLS and ldaps://, a CA made by the test)', { timeout: 300_000 }, () => {
  let tlsSlapd: Slapd;
  let target: ServeProcess;
  let tlsHome: ReturnType<typeof tempHome>;
  let tlsEnv: Record<string, string>;
  before(async () => {
    tlsSlapd = await startSlapd({ tls: true, ldif: directoryLdif() });
    target = await startServe({ token: TOKEN });
    tlsHome = tempHome();
    tlsEnv = {
      ...serverEnv(target.url, TOKEN, tlsHome),
      SCIMCTL_DATA_DIR: join(tlsHome.dir, 'data'),
      [PASSWORD_VAR]: tlsSlapd.readerPassword,
    };
  });
  after(async () => {
    await target?.stop();
    target?.cleanup();
    await tlsSlapd?.dispose();
    tlsHome?.cleanup();
  });
  const bind = () => ['--ldap-bind-dn', tlsSlapd.readerDn, '--ldap-password-env', PASSWORD_VAR];

  test('StartTLS without the CA: the error names --ldap-ca, nothing is written', async () => {
    const r = await runCli(
      ['sync', 'run', '--source', `${tlsSlapd.url}/${SUFFIX}`, ...bind(), '--ldap-start-tls', '--yes'],
      { env: tlsEnv, timeoutMs: 120_000 },
    );
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, /TLS with ldap:\/\/127\.0\.0\.1:\d+ failed/);
    assert.match(r.stderr, /--ldap-ca/);
    const users = await target.request('GET', '/Users');
    assert.equal(users.body.totalResults, 0);
  });

  test('StartTLS and ldaps:// with --ldap-ca read the directory', async () => {
    const startTls = await runCli(
      [
        'sync',
        'plan',
        '--source',
        `${tlsSlapd.url}/${SUFFIX}`,
        ...bind(),
        '--ldap-start-tls',
        '--ldap-ca',
        tlsSlapd.caFile!,
        '--json',
      ],
      { env: tlsEnv, timeoutMs: 120_000 },
    );
    assert.equal(startTls.code, 0, startTls.stderr);
    assert.equal(JSON.parse(startTls.stdout).summary.create, OUS.length * PER_OU);
    const ldaps = await runCli(
      [
        'sync',
        'plan',
        '--source',
        `${tlsSlapd.ldapsUrl}/${encodeURIComponent(SUFFIX)}`,
        ...bind(),
        '--ldap-ca',
        tlsSlapd.caFile!,
        '--json',
      ],
      { env: tlsEnv, timeoutMs: 120_000 },
    );
    assert.equal(ldaps.code, 0, ldaps.stderr);
    assert.equal(
      JSON.parse(ldaps.stdout).summary.create,
      OUS.length * PER_OU,
      'the base DN percent-decoded from the URL',
    );
  });
});

/**
 * The sync config file (sync/config-file.ts): its forms, its checks (file:line: key), secrets by reference only, paths
 * from its folder.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { flagsOf, loadSyncConfig, parseSyncConfig, SyncConfigError } from '../../src/sync/config-file.ts';
import { ClientUsageError } from '../../src/api/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'scimctl-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const problemsOf = (text: string, path = '/etc/scimctl/sync.yaml'): string[] => {
  try {
    parseSyncConfig(path, text);
  } catch (e) {
    assert.ok(e instanceof SyncConfigError);
    assert.ok(e instanceof ClientUsageError, 'a usage error (exit 2)');
    return e.problems;
  }
  assert.fail('the config was taken');
};

describe('sync config file', () => {
  test("the issue's LDAP form, as flags", () => {
    const path = join(dir, 'sync.yaml');
    writeFileSync(
      path,
      [
        'target: prod',
        'source:',
        '  ldap:',
        '    url: ldap://127.0.0.1:3389',
        '    bindDn: cn=admin,dc=example,dc=org',
        '    passwordEnv: LDAP_PASSWORD',
        '    baseDn: dc=example,dc=org',
        '    userFilter: (objectClass=inetOrgPerson)',
        '    groupFilter: (objectClass=groupOfNames)',
        '    ca: certs/ca.pem',
        '    pageSize: 200',
        '    nested: direct',
        '    guidFormat: base64',
        '    disabled: { attribute: employeeType, value: disabled }',
        'options:',
        '  missing: deactivate',
        '  max-deletes: 5%',
        '  delete-groups: true',
        '  concurrency: 8',
        '  log-file: logs/sync.log',
        '',
      ].join('\n'),
    );
    const config = loadSyncConfig(path);
    assert.deepEqual(flagsOf(config), {
      profile: 'prod',
      source: 'ldap://127.0.0.1:3389',
      'ldap-base-dn': 'dc=example,dc=org',
      'ldap-bind-dn': 'cn=admin,dc=example,dc=org',
      'ldap-password-env': 'LDAP_PASSWORD',
      'ldap-user-filter': '(objectClass=inetOrgPerson)',
      'ldap-group-filter': '(objectClass=groupOfNames)',
      'ldap-ca': join(dir, 'certs/ca.pem'),
      'ldap-page-size': 200,
      nested: 'direct',
      'guid-format': 'base64',
      'ldap-disabled': 'employeeType=disabled',
      missing: 'deactivate',
      'max-deletes': '5%',
      'delete-groups': true,
      concurrency: 8,
      'log-file': join(dir, 'logs/sync.log'),
    });
  });

  test('a file source: paths from the config file’s folder; a number for a threshold is its text', () => {
    const config = parseSyncConfig(
      join(dir, 'a.yaml'),
      'source:\n  file: hr/users.csv\n  mapping: /abs/map.yaml\n  groupsFile: ' +
        'groups.csv\n  preset: omni\noptions:\n  max-deletes: 5\n',
    );
    assert.deepEqual(flagsOf(config), {
      source: join(dir, 'hr/users.csv'),
      preset: 'omni',
      mapping: '/abs/map.yaml',
      'groups-file': join(dir, 'groups.csv'),
      'max-deletes': '5',
    });
  });

  test('the report and metrics options: the metrics file from the config file’s folder, the timeout a number', () => {
    const config = parseSyncConfig(
      join(dir, 'r.yaml'),
      [
        'options:',
        '  report-url: https://hooks.example.com/scimctl',
        '  report-header: Authorization=env:HOOK_TOKEN',
        '  report-timeout: 5',
        '  metrics-file: metrics/scimctl.prom',
        '',
      ].join('\n'),
    );
    assert.deepEqual(flagsOf(config), {
      'report-url': 'https://hooks.example.com/scimctl',
      'report-header': 'Authorization=env:HOOK_TOKEN',
      'report-timeout': 5,
      'metrics-file': join(dir, 'metrics/scimctl.prom'),
    });
    assert.match(problemsOf('options:\n  report-timeout: soon\n')[0]!, /options\.report-timeout: must be a number/);
  });

  test('a password: key is refused naming the file, line and key (never its value)', () => {
    const problems = problemsOf('source:\n  ldap:\n    url: ldap://h\n    bindDn: cn=a\n    password: hunter2\n');
    assert.equal(problems.length, 1);
    assert.match(
      problems[0]!,
      /^\/etc\/scimctl\/sync\.yaml:5: source\.ldap\.password: a secret is never written in the config file/,
    );
    assert.ok(!problems[0]!.includes('hunter2'));
    assert.match(problemsOf('options:\n  ldap-password: x\n')[0]!, /sync\.yaml:2: options\.ldap-password: a secret/);
  });

  test('every problem at once, each with its line and key', () => {
    const problems = problemsOf(
      [
        'source:',
        '  ldap:',
        '    url: http://h',
        '    pageSize: 0',
        '    colour: red',
        'options:',
        '  missing: nope',
        '  allow-empty: yes please',
        '  bogus: 1',
        '',
      ].join('\n'),
    );
    assert.ok(
      problems.some((p) => /sync\.yaml:3: source\.ldap\.url: must be an ldap:\/\/ or ldaps:\/\/ URL/.test(p)),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => /sync\.yaml:4: source\.ldap\.pageSize: /.test(p)),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => /sync\.yaml:5: source\.ldap\.colour: not a setting here/.test(p)),
      problems.join('\n'),
    );
  });

  test('options: unknown names, wrong types and choices, by line', () => {
    const problems = problemsOf(
      ['options:', '  missing: nope', '  allow-empty: yes please', '  bogus: 1', '  concurrency: many', ''].join('\n'),
    );
    assert.deepEqual(
      problems.map((p) => p.split(': ').slice(0, 2).join(': ')),
      [
        '/etc/scimctl/sync.yaml:2: options.missing',
        '/etc/scimctl/sync.yaml:3: options.allow-empty',
        '/etc/scimctl/sync.yaml:4: options.bogus',
        '/etc/scimctl/sync.yaml:5: options.concurrency',
      ],
    );
    assert.match(problems[0]!, /must be one of deactivate, delete, leave, not "nope"/);
  });

  test('LDAP: scope, user and group base DNs, membership, kind and passwordStdin, as flags', () => {
    const config = parseSyncConfig(
      join(dir, 'ad.yaml'),
      [
        'source:',
        '  ldap:',
        '    url: ldaps://dc1.corp.example:636',
        '    bindDn: CN=svc-scim,OU=Service,DC=corp,DC=example',
        '    passwordStdin: true',
        '    baseDn: DC=corp,DC=example',
        '    userBaseDn: OU=Staff,DC=corp,DC=example',
        '    groupBaseDn: OU=Groups,DC=corp,DC=example',
        '    scope: one',
        '    membership: memberOf',
        '    kind: ad',
        '',
      ].join('\n'),
    );
    assert.deepEqual(flagsOf(config), {
      source: 'ldaps://dc1.corp.example:636',
      'ldap-base-dn': 'DC=corp,DC=example',
      'ldap-bind-dn': 'CN=svc-scim,OU=Service,DC=corp,DC=example',
      'ldap-password-stdin': true,
      'ldap-user-base': 'OU=Staff,DC=corp,DC=example',
      'ldap-group-base': 'OU=Groups,DC=corp,DC=example',
      'ldap-scope': 'one',
      'ldap-kind': 'ad',
      'ldap-membership': 'memberOf',
    });
  });

  test('LDAP: scope, membership and kind take only their values; passwordStdin is true or false', () => {
    const cases: Array<[string, RegExp]> = [
      ['scope: base', /sync\.yaml:4: source\.ldap\.scope: .*"sub".*"one"/],
      ['membership: uniqueMember', /sync\.yaml:4: source\.ldap\.membership: .*"member".*"memberOf"/],
      ['kind: 389ds', /sync\.yaml:4: source\.ldap\.kind: .*"openldap".*"ad"/],
      ['passwordStdin: yes please', /sync\.yaml:4: source\.ldap\.passwordStdin: .*boolean/],
      ['userBaseDn: ""', /sync\.yaml:4: source\.ldap\.userBaseDn: must not be empty/],
      ['groupBaseDn: ""', /sync\.yaml:4: source\.ldap\.groupBaseDn: must not be empty/],
    ];
    for (const [line, expected] of cases)
      assert.match(problemsOf(`source:\n  ldap:\n    url: ldap://h\n    ${line}\n`).join('\n'), expected);
  });

  test('LDAP binding: passwordStdin is one of the ways, and not with an anonymous bind', () => {
    assert.match(
      problemsOf(
        'source:\n  ldap:\n    url: ldap://h\n    bindDn: cn=a\n    passwordEnv: A\n    passwordStdin: true\n',
      )[0]!,
      /sync\.yaml:6: source\.ldap\.passwordStdin: give passwordEnv or passwordStdin, not both/,
    );
    assert.match(
      problemsOf('source:\n  ldap:\n    url: ldap://h\n    anonymous: true\n    passwordStdin: true\n')[0]!,
      /sync\.yaml:4: source\.ldap\.anonymous: an anonymous bind takes no bindDn or password/,
    );
    // passwordStdin: false is no way at all.
    assert.match(
      problemsOf('source:\n  ldap:\n    url: ldap://h\n    bindDn: cn=a\n    passwordStdin: false\n')[0]!,
      /sync\.yaml:4: source\.ldap: a bindDn needs passwordEnv or passwordFile \(or passwordStdin: true\)/,
    );
  });

  test('LDAP binding: passwordEnv or passwordFile, not both; a bindDn needs one', () => {
    assert.match(
      problemsOf('source:\n  ldap:\n    url: ldap://h\n    bindDn: cn=a\n')[0]!,
      /sync\.yaml:4: source\.ldap: a bindDn needs passwordEnv or passwordFile/,
    );
    assert.match(
      problemsOf(
        'source:\n  ldap:\n    url: ldap://h\n    bindDn: cn=a\n    passwordEnv: A\n    passwordFile: f\n',
      )[0]!,
      /sync\.yaml:6: source\.ldap\.passwordFile: give passwordEnv or passwordFile, not both/,
    );
    assert.match(
      problemsOf('source:\n  ldap:\n    url: ldap://h\n    passwordEnv: not a name\n')[0]!,
      /sync\.yaml:4: source\.ldap\.passwordEnv: must be the name of an environment variable/,
    );
  });

  test('YAML that does not parse, an unknown top-level key, a source that is neither form', () => {
    assert.match(problemsOf('source: [\n')[0]!, /^\/etc\/scimctl\/sync\.yaml:\d+: /);
    assert.match(
      problemsOf('target: a\nsorce:\n  file: x\n')[0]!,
      /sync\.yaml:2: sorce: not a setting here \(target, source, options\)/,
    );
    assert.match(problemsOf('source:\n  csv: x\n')[0]!, /sync\.yaml:1: source: must be either file: PATH/);
    assert.match(problemsOf('target: a\ntarget: b\n')[0]!, /sync\.yaml:2: /, 'a key twice');
  });

  test(
    'another SCIM server as the source: scim: PROFILE with its filter and nested, ' + 'as flags; its own problems',
    () => {
      const config = parseSyncConfig(
        '/etc/scimctl/sync.yaml',
        ['target: app', 'source:', '  scim: hr', '  filter: active eq true', '  nested: direct', ''].join('\n'),
      );
      assert.deepEqual(flagsOf(config), {
        profile: 'app',
        source: 'scim:hr',
        'source-filter': 'active eq true',
        nested: 'direct',
      });
      assert.deepEqual(flagsOf(parseSyncConfig('/x.yaml', 'source:\n  scim: hr\n')), { source: 'scim:hr' });
      assert.match(
        problemsOf('source:\n  scim: hr\n  nested: deep\n')[0]!,
        /sync\.yaml:3: source\.nested: /,
        'a scim source is told its own problems, not "neither form"',
      );
      assert.match(problemsOf('source:\n  scim: hr\n  url: x\n')[0]!, /sync\.yaml:3: source\.url: not a setting here/);
    },
  );

  test('a file that cannot be read names itself', () => {
    assert.throws(
      () => loadSyncConfig(join(dir, 'none.yaml')),
      (e: unknown) => e instanceof SyncConfigError && /none\.yaml: cannot read the config file: ENOENT/.test(e.message),
    );
  });
});

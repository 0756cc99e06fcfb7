/**
 * `scimctl sync plan --source ldap://…` against a target that already matches: a real slapd
 * (test/support/slapd.ts) with 50,000 users in 10 OUs and 500 groupOfNames (each user in one),
 * a server size limit of 500 (paging needed), and `scimctl serve` seeded by one initial sync.
 * The baseline, measured in the same run: a bare paged ldapts read of the same entries
 * (bench/bare-ldap.mjs) plus a bare SCIM listing of the target's users and groups
 * (bench/bare-list.mjs). Targets (issue 13): ratio <= 1.3x, peak RSS <= 300 MB.
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startSlapd } from '../test/support/slapd.ts';

export interface LdapBenchContext {
  root: string;
  bin: string;
  home: string;
  run(
    args: string[],
    env?: NodeJS.ProcessEnv,
  ): Promise<{ ms: number; stdout: string; stderr: string; code: number | null }>;
}

const SUFFIX = 'dc=example,dc=org';
const OUS = 10;
const TOKEN = 'bench-ldap-token-0123456789abcdef';
const PASSWORD_VAR = 'BENCH_LDAP_PASSWORD';

export function directoryLdif(users: number, groups: number): string {
  const out: string[] = [];
  out.push(`dn: ou=people,${SUFFIX}\nobjectClass: organizationalUnit\nou: people\n`);
  out.push(`dn: ou=groups,${SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n`);
  for (let o = 0; o < OUS; o++)
    out.push(`dn: ou=unit${o},ou=people,${SUFFIX}\nobjectClass: organizationalUnit\nou: unit${o}\n`);
  const dn = (i: number) => `uid=user${i},ou=unit${i % OUS},ou=people,${SUFFIX}`;
  for (let i = 0; i < users; i++)
    out.push(
      `dn: ${dn(i)}\nobjectClass: inetOrgPerson\nuid: user${i}\ncn: Person ` +
        `${i}\ngivenName: Given${i}\nsn: Family${i}\n` +
        `displayName: Given${i} Family${i}\nmail: user${i}@example.org\ntitle: Staff\nemployeeNumber: ${i}\n` +
        `telephoneNumber: +31 20 555 ${String(i).padStart(5, '0')}\n`,
    );
  for (let g = 0; g < groups; g++) {
    const members: string[] = [];
    for (let i = g; i < users; i += groups) members.push(`member: ${dn(i)}`);
    out.push(`dn: cn=team${g},ou=groups,${SUFFIX}\nobjectClass: groupOfNames\ncn: team${g}\n${members.join('\n')}\n`);
  }
  return out.join('\n');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

export async function benchLdap(ctx: LdapBenchContext): Promise<void> {
  const users = Number(process.env.BENCH_LDAP_USERS ?? 50_000);
  const groups = Number(process.env.BENCH_LDAP_GROUPS ?? 500);
  const pageSize = 500;
  let t = performance.now();
  const slapd = await startSlapd({ sizeLimit: 500, ldif: directoryLdif(users, groups) });
  const loadMs = performance.now() - t;
  const serve = spawn(
    process.execPath,
    [
      ctx.bin,
      'serve',
      '--port',
      '0',
      '--no-fsync',
      '--data',
      join(ctx.home, 'ldap-store'),
      '--token-env',
      'BENCH_TOKEN',
    ],
    { env: { ...process.env, BENCH_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: serve.stdout! }).once('line', (line) => resolve(line.trim()));
      serve.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    });
    const env = {
      ...process.env,
      SCIMCTL_CONFIG_DIR: join(ctx.home, 'ldap-config'),
      SCIMCTL_CACHE_DIR: join(ctx.home, 'ldap-cache'),
      SCIMCTL_DATA_DIR: join(ctx.home, 'ldap-data'),
      SCIMCTL_URL: url,
      SCIMCTL_TOKEN: TOKEN,
      [PASSWORD_VAR]: slapd.readerPassword,
    };
    const source = [
      '--source',
      `${slapd.url}/${SUFFIX}`,
      '--ldap-bind-dn',
      slapd.readerDn,
      '--ldap-password-env',
      PASSWORD_VAR,
      '--ldap-group-filter',
      '(objectClass=groupOfNames)',
      '--ldap-page-size',
      String(pageSize),
    ];
    t = performance.now();
    const seed = await ctx.run([ctx.bin, 'sync', 'run', ...source, '--yes', '--concurrency', '8'], env);
    if (seed.code !== 0) throw new Error(`initial sync exited ${seed.code}: ${seed.stderr.slice(-1000)}`);
    const seedMs = performance.now() - t;
    const bare: number[] = [];
    const bareLdap: number[] = [];
    const bareScim: number[] = [];
    const ours: number[] = [];
    const bareCpu: number[] = [];
    const oursCpu: number[] = [];
    const cpuMs = (stderr: string) => Number(/BENCH_CPU_USER_US=(\d+)/.exec(stderr)?.[1]) / 1000;
    const hook = ['--import', join(ctx.root, 'bench/rss-hook.mjs')];
    let rss = 0;
    for (let round = 0; round < 3; round++) {
      const l = await ctx.run(
        [
          ...hook,
          join(ctx.root, 'bench/bare-ldap.mjs'),
          slapd.url,
          slapd.readerDn,
          PASSWORD_VAR,
          SUFFIX,
          String(pageSize),
        ],
        env,
      );
      if (l.code !== 0 || l.stdout.trim() !== `${users} ${groups}`)
        throw new Error(`bare LDAP read: ${l.stdout.trim()} ${l.stderr.slice(-500)}`);
      const s = await ctx.run([...hook, join(ctx.root, 'bench/bare-list.mjs'), url, TOKEN, '1000', 'groups'], env);
      if (s.code !== 0 || s.stdout.trim() !== String(users))
        throw new Error(`bare SCIM listing: ${s.stdout} ${s.stderr}`);
      bareLdap.push(l.ms);
      bareScim.push(s.ms);
      bare.push(l.ms + s.ms);
      bareCpu.push(cpuMs(l.stderr) + cpuMs(s.stderr));
      const args = [...hook];
      if (process.env.BENCH_LDAP_PROFILE) args.push('--cpu-prof', '--cpu-prof-dir', process.env.BENCH_LDAP_PROFILE);
      const o = await ctx.run([...args, ctx.bin, 'sync', 'plan', ...source, '--detailed-exitcode'], env);
      if (o.code !== 0) throw new Error(`sync plan exited ${o.code} (0 = no changes): ${o.stderr.slice(-1000)}`);
      ours.push(o.ms);
      oursCpu.push(cpuMs(o.stderr));
      rss = Math.max(rss, Number(/BENCH_MAX_RSS_KB=(\d+)/.exec(o.stderr)?.[1]));
    }
    console.log(
      `LDAP source: sync plan of ${users.toLocaleString('en-US')} users + ${groups} ` +
        `groups from slapd against a matching target (median of 3)`,
    );
    console.log(`  setup: slapadd + start ${fmt(loadMs)}, initial sync ${fmt(seedMs)}`);
    console.log(`  bare paged ldapts read       ${fmt(median(bareLdap))}`);
    console.log(`  bare SCIM listing            ${fmt(median(bareScim))}`);
    console.log(`  baseline (read + listing)    ${fmt(median(bare))}`);
    console.log(
      `  scimctl sync plan            ${fmt(median(ours))}   ratio ` +
        `${(median(ours) / median(bare)).toFixed(2)}x   (target <= 1.3x)`,
    );
    console.log(`  CPU user time                bare ${fmt(median(bareCpu))}, sync plan ${fmt(median(oursCpu))}`);
    console.log(
      `  load average at the end      ${loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')}`,
    );
    console.log(`  peak RSS                     ${(rss / 1024).toFixed(0)} MiB   (target <= 300 MB)`);
  } finally {
    const exited = new Promise((r) => serve.once('exit', r));
    if (serve.exitCode === null) serve.kill('SIGTERM');
    await exited;
    await slapd.dispose();
  }
}

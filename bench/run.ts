/**
 * scimctl benchmarks. Prints figures as ratios against baselines measured in the
 * same run on the same machine; not a test (nothing here fails the build). The memory
 * entry checks figures that depend on the garbage collector against their limits, and
 * makes `npm run bench` exit non-zero when one is over.
 *
 *   npm run bench                 all
 *   npm run bench -- startup      one of: startup, list, export, bulk-create, initial-sync, noop-resync, tui, serve,
 * memory, ldap
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { benchTui } from './tui.ts';
import { benchServe } from './serve.ts';
import { benchMemory } from './memory.ts';
import { benchLdap } from './ldap.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'scimctl.js');
const TOKEN = 'bench-token-0123456789abcdef';
const home = mkdtempSync(join(tmpdir(), 'scimctl-bench-'));
const baseEnv = {
  ...process.env,
  SCIMCTL_CONFIG_DIR: join(home, 'config'),
  SCIMCTL_CACHE_DIR: join(home, 'cache'),
  SCIMCTL_TOKEN: TOKEN,
};

interface Result {
  ms: number;
  stdout: string;
  stderr: string;
  code: number | null;
}

function run(args: string[], env: NodeJS.ProcessEnv = baseEnv): Promise<Result> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      // Keep only the tail: listings are large.
      stdout = (stdout + d).slice(-4096);
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, stdout, stderr, code }));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

/** Starts the scimmy test server in its own process (so it never shares a CPU thread with a measured client). */
async function startServer(users: number, extra: string[] = []): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'test/support/scimmy-server.ts'),
      '--port',
      '0',
      '--users',
      String(users),
      '--token',
      TOKEN,
      ...extra,
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout! });
    rl.once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`test server exited with ${code}`)));
  });
  return { url: line.trim(), proc };
}

function stopServer(s: { proc: ChildProcess }): Promise<void> {
  return new Promise((resolve) => {
    s.proc.once('exit', () => resolve());
    s.proc.kill('SIGTERM');
  });
}

/** A reference point: a bundle that does nothing but print a yargs help (built the same way as ours). */
async function yargsOnlyBundle(): Promise<string> {
  const { build } = await import('esbuild');
  // @ts-expect-error: a build script in plain JavaScript, without type declarations.
  const { lazyStringWidth } = await import('../scripts/lazy-string-width.mjs');
  const entry = join(home, 'yargs-only.mjs');
  const out = join(home, 'yargs-only.bundle.mjs');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    entry,
    `import yargs from 'yargs';\nawait ` +
      `yargs(process.argv.slice(2)).scriptName('x').command('users', 'Read users', ` +
      `(y) => y.command('list', 'List', () => {}, () => ` +
      `{})).exitProcess(false).strict().parseAsync();\n`,
  );
  await build({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    // As scripts/build.mjs: without a target, string-width's /\p{RGI_Emoji}/v stays a literal that V8 checks while
    // parsing (~10 ms).
    target: 'node20.19',
    minifySyntax: true,
    nodePaths: [join(ROOT, 'node_modules')],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    plugins: [lazyStringWidth],
    logLevel: 'error',
  });
  return out;
}

async function benchStartup(): Promise<void> {
  const rounds = 21;
  const base: number[] = [];
  const help: number[] = [];
  const version: number[] = [];
  const floor: number[] = [];
  const yargsOnly = await yargsOnlyBundle();
  for (let i = 0; i < rounds; i++) {
    base.push((await run(['-e', '0'])).ms);
    help.push((await run([BIN, '--help'])).ms);
    version.push((await run([BIN, '--version'])).ms);
    floor.push((await run([yargsOnly, '--help'])).ms);
  }
  const b = median(base);
  console.log('startup (median of %d runs)', rounds);
  console.log(`  node -e 0            ${fmt(b)}`);
  console.log(
    `  yargs-only --help    ${fmt(median(floor))}   ratio ` +
      `${(median(floor) / b).toFixed(2)}x   (reference: bundled yargs alone)`,
  );
  console.log(
    `  scimctl --help       ${fmt(median(help))}   ratio ${(median(help) / b).toFixed(2)}x   (target <= 1.6x)`,
  );
  console.log(`  scimctl --version    ${fmt(median(version))}   ratio ${(median(version) / b).toFixed(2)}x`);
}

async function benchList(): Promise<void> {
  const users = 10_000;
  const server = await startServer(users);
  try {
    const env = { ...baseEnv, SCIMCTL_URL: server.url };
    // Warm both (and scimctl's discovery cache, as in everyday use).
    const check = await run([BIN, 'users', 'list', '--json', '--limit', '1'], env);
    if (check.code !== 0) throw new Error(check.stderr);
    await run([join(ROOT, 'bench/bare-list.mjs'), server.url, TOKEN, '200']);
    const bare: number[] = [];
    const ours: number[] = [];
    for (let i = 0; i < 5; i++) {
      const b = await run([join(ROOT, 'bench/bare-list.mjs'), server.url, TOKEN, '200']);
      if (b.stdout.trim() !== String(users)) throw new Error(`baseline read ${b.stdout.trim()} users`);
      bare.push(b.ms);
      const o = await run([BIN, 'users', 'list'], env);
      if (o.code !== 0) throw new Error(o.stderr);
      ours.push(o.ms);
    }
    console.log(`list ${users.toLocaleString('en-US')} users, page size 200 (median of 5, each a whole process)`);
    console.log(`  bare fetch loop      ${fmt(median(bare))}`);
    console.log(
      `  scimctl users list   ${fmt(median(ours))}   ratio ` +
        `${(median(ours) / median(bare)).toFixed(2)}x   (target <= 1.1x)`,
    );
  } finally {
    await stopServer(server);
  }
}

async function exportRss(users: number, format: 'json' | 'csv'): Promise<{ kb: number; ms: number }> {
  const server = await startServer(users);
  try {
    const env = { ...baseEnv, SCIMCTL_URL: server.url };
    const out = join(home, `export-${users}.${format}`);
    const r = await run(
      ['--import', join(ROOT, 'bench/rss-hook.mjs'), BIN, 'export', 'users', '--format', format, '-o', out],
      env,
    );
    if (r.code !== 0) throw new Error(r.stderr);
    const kb = Number(/BENCH_MAX_RSS_KB=(\d+)/.exec(r.stderr)?.[1]);
    rmSync(out, { force: true });
    return { kb, ms: r.ms };
  } finally {
    await stopServer(server);
  }
}

async function benchExport(): Promise<void> {
  console.log('export users: peak RSS of the scimctl process');
  for (const format of ['json', 'csv'] as const) {
    const small = await exportRss(10_000, format);
    const large = await exportRss(100_000, format);
    const growth = (large.kb - small.kb) / 1024;
    console.log(
      `  ${format}: 10,000 users ${(small.kb / 1024).toFixed(1)} MiB (${(small.ms / 1000).toFixed(1)} s), ` +
        `100,000 users ${(large.kb / 1024).toFixed(1)} MiB ` +
        `(${(large.ms / 1000).toFixed(1)} s); growth ${growth.toFixed(1)} MiB   ` +
        `(target < 50 MB)`,
    );
  }
}

/**
 * Three rounds of baseline then scimctl, each run on a fresh, empty server so every run does
 * the same work. `measure` returns the run's wall time in milliseconds.
 */
async function alternateOnFreshServers(
  measure: (who: 'bare' | 'ours', server: { url: string }, round: number) => Promise<number>,
): Promise<{ bare: number[]; ours: number[] }> {
  const bare: number[] = [];
  const ours: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (const who of ['bare', 'ours'] as const) {
      const server = await startServer(0);
      try {
        (who === 'bare' ? bare : ours).push(await measure(who, server, round));
      } finally {
        await stopServer(server);
      }
    }
  }
  return { bare, ours };
}

async function benchBulkCreate(): Promise<void> {
  const count = 5_000;
  const concurrency = 4;
  const { writeFileSync } = await import('node:fs');
  const users = Array.from({ length: count }, (_, i) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: `bench.user${i}@example.com`,
    name: { givenName: 'Bench', familyName: `User ${i}` },
    displayName: `Bench User ${i}`,
    emails: [{ value: `bench.user${i}@example.com`, type: 'work', primary: true }],
    active: true,
  }));
  const jsonFile = join(home, 'bulk-users.json');
  writeFileSync(jsonFile, JSON.stringify(users));
  const { bare, ours } = await alternateOnFreshServers(async (who, server) => {
    const r =
      who === 'bare'
        ? await run([join(ROOT, 'bench/bare-create.mjs'), server.url, TOKEN, jsonFile, String(concurrency)])
        : await run([BIN, 'users', 'bulk-create', jsonFile, '--concurrency', String(concurrency)], {
            ...baseEnv,
            SCIMCTL_URL: server.url,
          });
    if (r.code !== 0) throw new Error(r.stderr);
    if (who === 'bare' && r.stdout.trim() !== String(count)) throw new Error(`baseline created ${r.stdout.trim()}`);
    if (who === 'ours' && !new RegExp(`${count} created`).test(r.stderr)) throw new Error(`scimctl: ${r.stderr}`);
    return r.ms;
  });
  console.log(
    `bulk-create ${count.toLocaleString('en-US')} users, concurrency ` +
      `${concurrency} (median of 3, each a whole process, fresh server each)`,
  );
  console.log(`  bare POST loop       ${fmt(median(bare))}`);
  console.log(
    `  scimctl bulk-create  ${fmt(median(ours))}   ratio ` +
      `${(median(ours) / median(bare)).toFixed(2)}x   (target <= 1.2x)`,
  );
}

async function benchInitialSync(): Promise<void> {
  const count = 10_000;
  const groupCount = 200;
  const concurrency = 4;
  const { writeFileSync } = await import('node:fs');
  const users = Array.from({ length: count }, (_, i) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: `sync.user${i}@example.com`,
    externalId: `S${i}`,
    name: { givenName: 'Sync', familyName: `User ${i}` },
    displayName: `Sync User ${i}`,
    emails: [{ value: `sync.user${i}@example.com`, type: 'work', primary: true }],
    active: true,
  }));
  const groups = Array.from({ length: groupCount }, (_, g) => ({ displayName: `Team ${g}`, members: [] as string[] }));
  users.forEach((u, i) => groups[i % groupCount]!.members.push(u.userName));
  // The source scimctl reads: SCIM JSON with each user's groups.
  const source = users.map((u, i) => ({ ...u, groups: [{ display: `Team ${i % groupCount}` }] }));
  const sourceFile = join(home, 'sync-source.json');
  writeFileSync(
    sourceFile,
    JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], Resources: source }),
  );
  const usersFile = join(home, 'sync-users.json');
  const groupsFile = join(home, 'sync-groups.json');
  writeFileSync(usersFile, JSON.stringify(users));
  writeFileSync(groupsFile, JSON.stringify(groups));
  const { bare, ours } = await alternateOnFreshServers(async (who, server, round) => {
    const env = { ...baseEnv, SCIMCTL_URL: server.url, SCIMCTL_DATA_DIR: join(home, `data-${round}-${who}`) };
    const r =
      who === 'bare'
        ? await run([join(ROOT, 'bench/bare-sync.mjs'), server.url, TOKEN, usersFile, groupsFile, String(concurrency)])
        : await run([BIN, 'sync', 'run', '--source', sourceFile, '--yes', '--concurrency', String(concurrency)], env);
    if (r.code !== 0) throw new Error(`${who}: ${r.stderr.slice(-2000)}`);
    if (who === 'ours' && !/applied 20200 of 20200 change/.test(r.stderr))
      throw new Error(`scimctl: ${r.stderr.slice(-500)}`);
    return r.ms;
  });
  console.log(
    `initial sync ${count.toLocaleString('en-US')} users + ${groupCount} groups, ` +
      `concurrency ${concurrency} (median of 3, fresh server each)`,
  );
  console.log(`  bare loop, same ops  ${fmt(median(bare))}`);
  console.log(
    `  scimctl sync run     ${fmt(median(ours))}   ratio ` +
      `${(median(ours) / median(bare)).toFixed(2)}x   (target <= 1.3x)`,
  );
}

async function benchNoopResync(): Promise<void> {
  const count = Number(process.env.BENCH_RESYNC_USERS ?? 100_000);
  const server = await startServer(count, ['--groups', '50']);
  try {
    const env = { ...baseEnv, SCIMCTL_URL: server.url, SCIMCTL_DATA_DIR: join(home, 'data-noop') };
    const exportFile = join(home, 'noop-source.json');
    const exp = await run([BIN, 'export', 'users', '-o', exportFile], env);
    if (exp.code !== 0) throw new Error(exp.stderr);
    const bare: number[] = [];
    const ours: number[] = [];
    let rss = 0;
    for (let round = 0; round < 3; round++) {
      // The baseline reads the same data a plan needs: every user and every group.
      const b = await run([join(ROOT, 'bench/bare-list.mjs'), server.url, TOKEN, '200', 'groups']);
      if (b.code !== 0) throw new Error(b.stderr);
      bare.push(b.ms);
      const o = await run(
        [
          '--import',
          join(ROOT, 'bench/rss-hook.mjs'),
          BIN,
          'sync',
          'plan',
          '--source',
          exportFile,
          '--detailed-exitcode',
        ],
        env,
      );
      if (o.code !== 0) throw new Error(`sync plan exited ${o.code}: ${o.stderr.slice(-1000)}`);
      ours.push(o.ms);
      rss = Math.max(rss, Number(/BENCH_MAX_RSS_KB=(\d+)/.exec(o.stderr)?.[1]));
    }
    console.log(
      `no-op re-sync of ${count.toLocaleString('en-US')} users (sync plan of an export of the target; median of 3)`,
    );
    console.log(`  bare paging loop (users + groups)  ${fmt(median(bare))}`);
    console.log(
      `  scimctl sync plan    ${fmt(median(ours))}   ratio ` +
        `${(median(ours) / median(bare)).toFixed(2)}x   (target <= 1.2x)`,
    );
    console.log(`  peak RSS             ${(rss / 1024).toFixed(0)} MiB   (target <= 300 MB)`);
  } finally {
    await stopServer(server);
  }
  // The planner alone, on the same scale, in this process: CPU time, not wall time.
  const { planSync } = await import('../src/sync/planner.ts');
  const target = Array.from({ length: count }, (_, i) => ({
    id: `id-${i}`,
    userName: `user${i}@example.com`,
    externalId: `X${i}`,
    name: { givenName: 'Given', familyName: `Family ${i}` },
    displayName: `Given Family ${i}`,
    emails: [{ value: `user${i}@example.com`, type: 'work', primary: true }],
    active: true,
    meta: { version: `W/"${i}"` },
  }));
  const desired = target.map((u, i) => {
    const { id: _id, meta: _meta, ...attributes } = u;
    return { attributes, origin: { file: 'bench', line: i + 2 } };
  });
  const before = process.cpuUsage();
  const plan = planSync(
    { users: desired, groups: [], fingerprint: '', files: [] },
    { users: target, groups: [] },
    {
      mode: 'full',
      missing: 'deactivate',
      deleteGroups: false,
      manageAll: false,
      owned: new Set(target.map((u) => u.id)),
      ownedGroups: new Set(),
      matchKeys: ['externalId', 'userName', 'email'],
    },
  );
  const cpu = process.cpuUsage(before);
  if (plan.changes.length !== 0) throw new Error(`the planner found ${plan.changes.length} changes in identical data`);
  console.log(
    `  planner CPU          ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms for ` +
      `${count.toLocaleString('en-US')} users   (target <= 1000 ms)`,
  );
}

const only = process.argv[2];
try {
  if (!only || only === 'startup') await benchStartup();
  if (!only || only === 'list') await benchList();
  if (!only || only === 'export') await benchExport();
  if (!only || only === 'bulk-create') await benchBulkCreate();
  if (!only || only === 'initial-sync') await benchInitialSync();
  if (!only || only === 'noop-resync') await benchNoopResync();
  if (!only || only === 'tui') await benchTui({ startServer, stopServer, baseEnv, home });
  if (!only || only === 'serve') await benchServe(BIN);
  if (!only || only === 'ldap') await benchLdap({ root: ROOT, bin: BIN, home, run });
  if ((!only || only === 'memory') && !benchMemory()) process.exitCode = 1;
} finally {
  rmSync(home, { recursive: true, force: true });
}

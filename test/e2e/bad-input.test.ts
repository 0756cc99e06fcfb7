/**
 * The bad-input corpus (test/fixtures/bad-input/, every folder below it): each case is an input
 * file NAME.<ext> and NAME.expect.json = {"args": [...], "exit": 2, "message": "<regex>"}, where
 * "{file}" in args is the fixture's path and "{dir}" its folder. Every case runs the built binary
 * against one `scimctl serve` seeded with users and groups through the CLI, and must exit as
 * expected, say what its message says (file, line or record, field) exactly once, repeat no line,
 * and write nothing: the full listing of users and groups (meta included) is the same after
 * every case as before the first.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, runCli, serverEnv, tempHome } from './helpers.ts';
import { startServe, type ServeProcess } from './serve-helpers.ts';

const CORPUS = join(ROOT, 'test', 'fixtures', 'bad-input');
const TOKEN = 'e2e-bad-input-token-5f1c2a9e7d';
const CONCURRENCY = 4;

interface Expect {
  args: string[];
  exit: number;
  message: string;
}

interface Case {
  name: string;
  /** The folder under the corpus (its first part): sources-csv, mappings, plans … */
  kind: string;
  file: string;
  expect: Expect;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const files = walk(CORPUS).sort();
const cases: Case[] = files
  .filter((f) => f.endsWith('.expect.json'))
  .map((expectFile) => {
    const stem = expectFile.slice(0, -'.expect.json'.length);
    const inputs = files.filter(
      (f) =>
        f !== expectFile &&
        f.startsWith(`${stem}.`) &&
        !f.endsWith('.expect.json') &&
        !f.slice(stem.length + 1).includes('.'),
    );
    assert.equal(
      inputs.length,
      1,
      `${relative(CORPUS, expectFile)}: exactly one input file ${relative(CORPUS, stem)}.<ext>`,
    );
    const rel = relative(CORPUS, stem);
    return {
      name: rel,
      kind: rel.split(sep)[0]!,
      file: inputs[0]!,
      expect: JSON.parse(readFileSync(expectFile, 'utf8')) as Expect,
    };
  });

let server: ServeProcess;
let home: ReturnType<typeof tempHome>;
let env: Record<string, string>;
let baseline = '';

/** Every user and group with everything the server says about them (meta too), in a stable order. */
async function listing(): Promise<string> {
  const all = async (path: string) => {
    const res = await server.request('GET', `${path}?count=10000&startIndex=1`);
    assert.equal(res.status, 200, `${path}: ${res.text}`);
    return (res.body.Resources as Array<{ id: string }>).sort((a, b) => a.id.localeCompare(b.id));
  };
  return JSON.stringify({ users: await all('/Users'), groups: await all('/Groups') });
}

before(async () => {
  server = await startServe({ token: TOKEN });
  home = tempHome();
  env = serverEnv(server.url, TOKEN, home);
  // The seed: users the corpus names (user1@ex.com …, ann@ex.com), others, and groups with members, all through the
  // CLI.
  const seed = [
    ...Array.from({ length: 30 }, (_, i) => ({
      externalId: `e${i + 1}`,
      userName: `user${i + 1}@ex.com`,
      displayName: `User ${i + 1}`,
      emails: [{ value: `user${i + 1}@ex.com`, type: 'work' }],
      active: true,
      groups: [{ display: i % 2 ? 'Staff' : 'Admins' }],
    })),
    { externalId: '1', userName: 'ann@ex.com', displayName: 'Ann', groups: [{ display: 'Staff' }] },
    { externalId: '2', userName: 'bob@ex.com', displayName: 'Bob', groups: [] },
  ];
  const seedFile = join(home.dir, 'seed.json');
  writeFileSync(seedFile, JSON.stringify(seed, null, 1));
  const r = await runCli(['sync', 'run', '--yes', '--source', seedFile], { env, timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  baseline = await listing();
  const parsed = JSON.parse(baseline) as { users: unknown[]; groups: unknown[] };
  assert.equal(parsed.users.length, 32);
  assert.equal(parsed.groups.length, 2);
});

after(async () => {
  await server?.stop('SIGKILL');
  server?.cleanup();
  home?.cleanup();
});

const count = (text: string, re: RegExp) =>
  [...text.matchAll(new RegExp(re.source, `${re.flags.replace('g', '')}g`))].length;

const timings: Array<[string, number]> = [];

async function runCase(c: Case): Promise<string[]> {
  const failures: string[] = [];
  const started = Date.now();
  // Each case has its own configuration and run history: cases run side by side.
  const own = tempHome();
  try {
    const args = c.expect.args.map((a) => a.replaceAll('{file}', c.file).replaceAll('{dir}', dirname(c.file)));
    const r = await runCli(args, {
      env: { ...env, ...own.env, SCIMCTL_DATA_DIR: join(own.dir, 'data') },
      timeoutMs: 60_000,
    });
    const message = new RegExp(c.expect.message);
    if (r.code !== c.expect.exit) failures.push(`exit ${r.code}, expected ${c.expect.exit}`);
    const times = count(r.stderr, message);
    if (times !== 1)
      failures.push(times === 0 ? `stderr does not match /${c.expect.message}/` : `the message is told ${times} times`);
    const lines = r.stderr
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    const repeated = lines.filter((l, i) => lines.indexOf(l) !== i);
    if (repeated.length > 0) failures.push(`repeated lines: ${JSON.stringify(repeated)}`);
    if ((await listing()) !== baseline) failures.push('the target changed');
    if (failures.length > 0) failures.push(`stderr:\n${r.stderr}`);
  } finally {
    own.cleanup();
    timings.push([c.name, Date.now() - started]);
  }
  return failures.map((f) => `${c.name}: ${f}`);
}

describe('bad-input corpus', () => {
  test('the corpus has cases of every kind', (t) => {
    const byKind = new Map<string, number>();
    for (const c of cases) byKind.set(c.kind, (byKind.get(c.kind) ?? 0) + 1);
    t.diagnostic(`files: ${files.length}, cases: ${cases.length}`);
    t.diagnostic(`by kind: ${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    assert.ok(files.length >= 80, `${files.length} files`);
    for (const kind of [
      'sources-csv',
      'sources-tsv',
      'sources-json',
      'sources-json-oneline',
      'mappings',
      'groups',
      'bulk-create',
    ])
      assert.ok(byKind.has(kind), kind);
  });

  test('every case is refused as expected, told once, and writes nothing', async (t) => {
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < cases.length) failures.push(...(await runCase(cases[next++]!)));
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    t.diagnostic(
      `${cases.length} cases in ${((Date.now() - started) / 1000).toFixed(1)} s, ` +
        `${failures.length === 0 ? 'all as expected' : 'failures below'}`,
    );
    const slowest = [...timings].sort((a, b) => b[1] - a[1]).slice(0, 3);
    t.diagnostic(`slowest: ${slowest.map(([n, ms]) => `${n} ${ms} ms`).join(', ')}`);
    assert.equal(await listing(), baseline, 'the target is unchanged after all cases');
    assert.deepEqual(failures, []);
  });
});

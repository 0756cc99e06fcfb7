/**
 * `scimctl serve` under load: a page of 1,000 users from 100,000 stored, and creates per
 * second at concurrency 8, each next to a baseline measured in the same run: a bare
 * node:http server answering the same bytes (a page serialised once; a 201 echo), driven by
 * the same client loop. Targets (issue 6): a page in <= 50 ms; >= 1,000 creates/s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const TOKEN = 'bench-serve-token-0123456789';

interface Serve {
  url: string;
  proc: ChildProcess;
  startMs: number;
}

async function startServe(bin: string, args: string[]): Promise<Serve> {
  const started = performance.now();
  const proc = spawn(process.execPath, [bin, 'serve', '--port', '0', '--token-env', 'BENCH_SERVE_TOKEN', ...args], {
    env: { ...process.env, BENCH_SERVE_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout! });
    rl.once('line', (line) => resolve(line.trim()));
    proc.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  return { url, proc, startMs: performance.now() - started };
}

async function stop(s: Serve): Promise<void> {
  const exited = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGTERM');
  await exited;
}

const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' };

async function timeGet(url: string): Promise<{ ms: number; bytes: number; count: number }> {
  const t = performance.now();
  const res = await fetch(url, { headers });
  const text = await res.text();
  const ms = performance.now() - t;
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${text.slice(0, 200)}`);
  const body = JSON.parse(text) as { Resources?: unknown[] };
  return { ms, bytes: text.length, count: body.Resources?.length ?? 0 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Fires `total` POSTs with `concurrency` in flight over keep-alive node:http connections; returns requests per second.
 */
async function createLoop(url: string, total: number, concurrency: number, prefix: string): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(url);
  const post = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const body = JSON.stringify({
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
          userName: `${prefix}${i}@bench.example.com`,
          name: { givenName: 'Bench', familyName: `User${i}` },
          emails: [{ value: `${prefix}${i}@bench.example.com`, type: 'work', primary: true }],
          active: true,
        });
        const status = await post(body);
        if (status !== 201) throw new Error(`POST ${url}: ${status}`);
      }
    }),
  );
  const rate = total / ((performance.now() - t) / 1000);
  agent.destroy();
  return rate;
}

/** The floor: a node:http server that answers with bytes it already has. */
async function bareServer(page: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST') {
        const body = Buffer.concat(chunks);
        res.writeHead(201, { 'content-type': 'application/scim+json', 'content-length': body.length }).end(body);
      } else {
        res
          .writeHead(200, { 'content-type': 'application/scim+json', 'content-length': Buffer.byteLength(page) })
          .end(page);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/scim/v2`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after "pid (comm) ".
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Runs the scimctl binary and counts the lines it prints. */
function runScimctl(bin: string, args: string[], env: Record<string, string>): Promise<{ lines: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let lines = 0;
    child.stdout.on('data', (d: Buffer) => {
      for (const byte of d) if (byte === 10) lines++;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve({ lines }) : reject(new Error(`scimctl ${args.join(' ')} exited ${code}`)),
    );
  });
}

export async function benchServe(bin: string): Promise<void> {
  const users = 100_000;
  const dir = mkdtempSync(join(tmpdir(), 'scimctl-bench-serve-'));
  try {
    console.log(`\nserve: ${users.toLocaleString('en-US')} users stored`);
    const seeded = await startServe(bin, [
      '--data',
      join(dir, 'store'),
      '--seed-users',
      String(users),
      '--seed-groups',
      '20',
    ]);
    console.log(`  start + generate + store 100k users   ${(seeded.startMs / 1000).toFixed(1)} s`);
    await stop(seeded);
    const s = await startServe(bin, ['--data', join(dir, 'store')]);
    console.log(`  restart (replay the store)            ${(s.startMs / 1000).toFixed(1)} s`);
    try {
      const pageUrl = (start: number) => `${s.url}/Users?startIndex=${start}&count=1000`;
      await timeGet(pageUrl(1)); // warm up (JIT, first listing)
      const rounds = 15;
      const sample = async (make: (i: number) => string) => {
        const runs: Array<{ ms: number; bytes: number; count: number }> = [];
        for (let i = 0; i < rounds; i++) runs.push(await timeGet(make(i)));
        if (runs.some((r) => r.count !== 1000)) throw new Error('a page did not hold 1000 users');
        return { ms: median(runs.map((r) => r.ms)), bytes: runs[0]!.bytes };
      };
      const first = await sample(() => pageUrl(1));
      const middle = await sample(() => pageUrl(50_001));
      const last = await sample(() => pageUrl(99_001));
      // A new filter each round: nothing comes from the server's query cache.
      const filtered = await sample(
        (i) =>
          `${s.url}/Users?count=1000&filter=` +
          `${encodeURIComponent(`userName ne "nobody${i}@example.com" and active eq true`)}`,
      );
      const sorted = await sample((i) => `${s.url}/Users?count=1000&startIndex=${1 + i * 1000}&sortBy=name.familyName`);
      let cursor = '';
      const cursorRuns: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const t = performance.now();
        const res = await fetch(`${s.url}/Users?count=1000&cursor=${encodeURIComponent(cursor)}`, { headers });
        const body = (await res.json()) as { nextCursor?: string; Resources: unknown[] };
        cursorRuns.push(performance.now() - t);
        cursor = body.nextCursor ?? '';
      }
      const bare = await bareServer(
        JSON.stringify(JSON.parse(await (await fetch(pageUrl(50_001), { headers })).text())),
      );
      const floor = await (async () => {
        const runs: number[] = [];
        for (let i = 0; i < rounds; i++) runs.push((await timeGet(`${bare.url}/Users`)).ms);
        return median(runs);
      })();
      const line = (label: string, ms: number) =>
        console.log(
          `  ${label.padEnd(38)}${ms.toFixed(1).padStart(6)} ms   ` +
            `${(ms / floor).toFixed(1)}× the bare server   (target <= 50 ms)`,
        );
      console.log(`  page of 1,000 users (${(middle.bytes / 1024).toFixed(0)} KiB), median of ${rounds}:`);
      console.log(`  ${'bare node:http, same bytes'.padEnd(38)}${floor.toFixed(1).padStart(6)} ms`);
      line('startIndex=1', first.ms);
      line('startIndex=50,001', middle.ms);
      line('startIndex=99,001', last.ms);
      line('filter (new each time, full scan)', filtered.ms);
      line('sortBy=name.familyName', sorted.ms);
      line('cursor paging', median(cursorRuns));

      // Is the server ever the slow side? Its CPU time while scimctl lists all 100,000 users.
      const cpuBefore = cpuSeconds(s.proc.pid!);
      const listStart = performance.now();
      const listing = await runScimctl(bin, ['users', 'list'], { SCIMCTL_URL: s.url, SCIMCTL_TOKEN: TOKEN });
      const listWall = (performance.now() - listStart) / 1000;
      const serverCpu = cpuSeconds(s.proc.pid!) - cpuBefore;
      if (listing.lines !== users) throw new Error(`scimctl users list printed ${listing.lines} rows, not ${users}`);
      console.log(
        `  scimctl users list, all 100,000: ${listWall.toFixed(1)} s wall; serve busy ` +
          `${serverCpu.toFixed(1)} s of it ` +
          `(${((serverCpu / listWall) * 100).toFixed(0)}%): the client is the slower side`,
      );

      const total = 5000;
      await createLoop(`${bare.url}/Users`, 500, 8, 'warm'); // the client's own warm-up
      const floorRate = await createLoop(`${bare.url}/Users`, total, 8, 'bare');
      await bare.close();
      const rate = await createLoop(`${s.url}/Users`, total, 8, 'fsync');
      console.log(`  creates at concurrency 8 (${total.toLocaleString('en-US')} POSTs):`);
      console.log(`  ${'bare node:http echo'.padEnd(38)}${floorRate.toFixed(0).padStart(6)} /s`);
      console.log(
        `  ${'serve (each change synced to disk)'.padEnd(38)}${rate.toFixed(0).padStart(6)} ` +
          `/s   ${(rate / floorRate).toFixed(2)}× the bare server   (target >= 1000/s)`,
      );
    } finally {
      await stop(s);
    }
    const noSync = await startServe(bin, ['--data', join(dir, 'store2'), '--no-fsync']);
    try {
      const rate = await createLoop(`${noSync.url}/Users`, 5000, 8, 'nofsync');
      console.log(`  ${'serve --no-fsync'.padEnd(38)}${rate.toFixed(0).padStart(6)} /s`);
    } finally {
      await stop(noSync);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** export users|groups as JSON and CSV, and the lossless round trip through CSV. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SchemaRegistry } from '../../src/api/schema.ts';
import { SCHEMA, type ListResponse, type ScimResource } from '../../src/api/types.ts';
import { canonicalResource } from '../../src/formats/scim-csv.ts';
import { parseResourceBytes } from '../../src/sources/resource-file.ts';
import { startScimmyServer, type ScimmyServer } from '../support/scimmy-server.ts';
import { spawn } from 'node:child_process';
import { BIN, runCli, serverEnv, tempHome, waitFor } from './helpers.ts';

const TOKEN = 'e2e-export-token-abcdef';
let server: ScimmyServer;
let home: ReturnType<typeof tempHome>;
let env: Record<string, string>;

before(async () => {
  server = await startScimmyServer({ token: TOKEN, users: 260, groups: 8, maxPageSize: 100 });
  home = tempHome();
  env = serverEnv(server.url, TOKEN, home);
  // Make the data awkward: commas, quotes, newlines and non-ASCII in values; a user
  // with two e-mails of the same type (forces the JSON cell) and one with none.
  const users = [...server.users.values()] as Array<Record<string, unknown>>;
  users[0]!.title = 'Head of "R&D", Zürich\nand Lyon';
  users[1]!.emails = [
    { value: 'a@example.com', type: 'work', primary: true },
    { value: 'b@example.com', type: 'work' },
  ];
  delete users[2]!.emails;
  for (const u of users.slice(0, 3)) server.users.set(u.id as string, u);
});

after(async () => {
  await server.close();
  home.cleanup();
});

async function readCsv(file: string, coreSchema: string): Promise<Array<Record<string, unknown>>> {
  const ctx = { registry: new SchemaRegistry(), coreSchema };
  return (await parseResourceBytes(file, readFileSync(file), ctx)).map((r) => r.resource);
}

const byId = (rs: Array<Record<string, unknown>>) => new Map(rs.map((r) => [r.id as string, r]));

describe('export', () => {
  test('users as JSON: a ListResponse holding every user as received', async () => {
    const file = join(home.dir, 'users.json');
    const r = await runCli(['export', 'users', '--format', 'json', '-o', file], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /exported 260 users/);
    const list = JSON.parse(readFileSync(file, 'utf8')) as ListResponse;
    assert.deepEqual(list.schemas, [SCHEMA.LIST_RESPONSE]);
    assert.equal(list.totalResults, 260);
    assert.equal(list.Resources.length, 260);
    assert.deepEqual(new Set(list.Resources.map((u) => u.id)), new Set(server.users.keys()));
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  test('users to stdout when no file is named', async () => {
    const r = await runCli(['export', 'users'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as ListResponse).Resources.length, 260);
  });

  test('users: CSV export parses back to resources identical to the JSON export', async () => {
    const json = join(home.dir, 'rt.json');
    const csv = join(home.dir, 'rt.csv');
    assert.equal((await runCli(['export', 'users', '-o', json], { env })).code, 0);
    const r = await runCli(['export', 'users', '--format', 'csv', '-o', csv], { env });
    assert.equal(r.code, 0, r.stderr);
    const fromJson = byId(
      (JSON.parse(readFileSync(json, 'utf8')) as ListResponse).Resources as Array<Record<string, unknown>>,
    );
    const fromCsv = byId(await readCsv(csv, SCHEMA.USER));
    assert.equal(fromCsv.size, 260);
    for (const [id, resource] of fromJson) {
      assert.deepEqual(
        canonicalResource(fromCsv.get(id)),
        canonicalResource(resource),
        `user ${id} changed in the round trip`,
      );
    }
    const header = readFileSync(csv, 'utf8').split('\n', 1)[0]!;
    assert.match(header, /^id,externalId,userName,/);
    assert.match(header, /emails\[work\]\.value/);
    assert.match(header, /urn:ietf:params:scim:schemas:extension:enterprise:2\.0:User:department/);
  });

  test('groups include their members, in JSON and in CSV', async () => {
    const json = join(home.dir, 'groups.json');
    const csv = join(home.dir, 'groups.csv');
    assert.equal((await runCli(['export', 'groups', '-o', json], { env })).code, 0);
    assert.equal((await runCli(['export', 'groups', '--format', 'csv', '-o', csv], { env })).code, 0);
    const groups = (
      JSON.parse(readFileSync(json, 'utf8')) as ListResponse<ScimResource & { members?: Array<{ value: string }> }>
    ).Resources;
    assert.equal(groups.length, 8);
    for (const g of groups) {
      const stored = server.groups.get(g.id) as { members: Array<{ value: string }> };
      assert.deepEqual(new Set(g.members?.map((m) => m.value)), new Set(stored.members.map((m) => m.value)));
    }
    const fromCsv = byId(await readCsv(csv, SCHEMA.GROUP));
    for (const g of groups) assert.deepEqual(canonicalResource(fromCsv.get(g.id)), canonicalResource(g));
  });

  test('a listing that fails half-way leaves no file behind and exits non-zero', async () => {
    const file = join(home.dir, 'broken.json');
    // The third page fails on every attempt, retries included.
    server.addFault({ method: 'GET', path: /\/Users\?.*startIndex=201/, status: 500, times: Infinity });
    try {
      const r = await runCli(['export', 'users', '-o', file, '--retries', '1'], { env });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /stopped after 200 resources/);
      assert.match(r.stderr, /never used as if complete/);
      assert.equal(existsSync(file), false);
      assert.deepEqual(
        readdirSync(home.dir).filter((f) => f.startsWith('broken.json')),
        [],
      );
    } finally {
      server.clearFaults();
    }
  });

  test('Ctrl+C during an export removes the partial file and exits 130', async () => {
    const file = join(home.dir, 'interrupted.json');
    // The second page never answers: the export is stuck half-way, file open.
    server.addFault({ method: 'GET', path: /\/Users\?.*startIndex=101/, status: 200, hang: true, times: Infinity });
    try {
      const child = spawn(process.execPath, [BIN, 'export', 'users', '-o', file], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      const partial = () => readdirSync(home.dir).find((f) => f.startsWith('interrupted.json.partial-'));
      await waitFor(() => partial() !== undefined && server.requests.some((q) => q.faulted), 10_000);
      child.kill('SIGINT');
      assert.equal(await exited, 130);
      assert.match(stderr, /interrupted/);
      assert.equal(partial(), undefined);
      assert.equal(existsSync(file), false);
    } finally {
      server.clearFaults();
    }
  });
});

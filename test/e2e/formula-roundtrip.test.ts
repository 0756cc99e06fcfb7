/** CSV export escapes formula cells, and the escaped export is still a source that plans nothing. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, serverEnv, tempHome } from './helpers.ts';
import { startServe, type ServeProcess } from './serve-helpers.ts';

const TOKEN = 'e2e-formula-token-3b8e61d0c4';
let server: ServeProcess;
let home: ReturnType<typeof tempHome>;
let env: Record<string, string>;

const VALUES = [
  '=HYPERLINK("http://evil.example","x")',
  '+1 boss',
  '-2+3',
  '@SUM(A1)',
  '\tTab',
  "'=lit",
  "''-x",
  "'t Hooft",
  '-5',
];

before(async () => {
  server = await startServe({ token: TOKEN });
  home = tempHome();
  env = serverEnv(server.url, TOKEN, home);
  const users = VALUES.map((v, i) => ({
    externalId: `f${i}`,
    userName: `f${i}@example.com`,
    displayName: v,
    title: v,
  }));
  const file = join(home.dir, 'formula.json');
  writeFileSync(file, JSON.stringify(users, null, 1));
  const r = await runCli(['users', 'bulk-create', file], { env });
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await server?.stop('SIGKILL');
  server?.cleanup();
  home?.cleanup();
});

test('formula cells are exported with a quote in front; the export syncs back with no changes', async () => {
  const out = join(home.dir, 'users.csv');
  const exported = await runCli(['export', 'users', '--format', 'csv', '-o', out], { env });
  assert.equal(exported.code, 0, exported.stderr);
  const text = readFileSync(out, 'utf8');
  assert.match(text, /,"'=HYPERLINK\(""http:\/\/evil\.example"",""x""\)",/);
  assert.match(text, /,'\+1 boss,/);
  assert.match(text, /,''=lit,/);
  assert.match(text, /,'''-x,/);
  assert.match(text, /,'t Hooft,/);
  assert.match(text, /,-5,/);
  assert.doesNotMatch(text, /,[=+@]|,-\D/);
  const plan = await runCli(['sync', 'plan', '--detailed-exitcode', '--source', out], {
    env: { ...env, SCIMCTL_DATA_DIR: join(home.dir, 'data') },
  });
  assert.equal(plan.code, 0, plan.stdout + plan.stderr);
  assert.match(plan.stdout, /Plan: 0 to create, 0 to update, 0 to deactivate/);
});

test('--no-formula-escape writes the cells as they are', async () => {
  const raw = await runCli(['export', 'users', '--format', 'csv', '--no-formula-escape'], { env });
  assert.equal(raw.code, 0, raw.stderr);
  assert.match(raw.stdout, /,"=HYPERLINK\(/);
  assert.match(raw.stdout, /,\+1 boss,/);
});

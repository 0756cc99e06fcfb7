/**
 * `npm run try`: a tour of scimctl with no account anywhere. Starts the SCIM
 * server the test suite uses (scimmy-based, in memory, on 127.0.0.1) with a
 * sample organisation, runs a few commands against it, and, on a terminal,
 * keeps the server up so you can try more.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startScimmyServer } from '../test/support/scimmy-server.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'scimctl.js');
const token = `try-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
const home = mkdtempSync(join(tmpdir(), 'scimctl-try-'));

const server = await startScimmyServer({ token, users: 500, groups: 20 });
const env = { ...process.env, SCIMCTL_URL: server.url, SCIMCTL_TOKEN: token, SCIMCTL_CONFIG_DIR: join(home, 'config'), SCIMCTL_CACHE_DIR: join(home, 'cache') };
const out = join(home, 'users.csv');

/** Runs scimctl as a child process (asynchronously: the server lives in this process). */
async function run(args: string[]): Promise<void> {
  process.stdout.write(`\n$ scimctl ${args.map((a) => (/[\s"]/.test(a) ? `'${a}'` : a)).join(' ')}\n`);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) process.stdout.write(`(exit code ${code})\n`);
}

process.stdout.write(`A SCIM 2.0 server with 500 users and 20 groups is running at ${server.url}\n`);
await run(['profile', 'test']);
await run(['users', 'list', '--limit', '10']);
await run(['users', 'search', '--name', 'garcia']);
await run(['users', 'list', '--filter', 'active eq false']);
await run(['groups', 'list']);
await run(['export', 'users', '--format', 'csv', '-o', out]);
const first = [...server.users.values()][0] as { userName: string };
await run(['users', 'get', first.userName]);

// The main job: make the target match a source of truth. The source here is an export of the
// server, edited the way an HR feed changes: a new hire, a changed title, two leavers.
const exported = join(home, 'users.json');
await run(['export', 'users', '-o', exported]);
const list = JSON.parse(readFileSync(exported, 'utf8')) as { Resources: Array<Record<string, unknown>> };
list.Resources[0]!.title = 'Head of Provisioning';
list.Resources.splice(1, 2);
list.Resources.push({
  userName: 'new.hire@example.com',
  name: { givenName: 'New', familyName: 'Hire' },
  displayName: 'New Hire',
  emails: [{ value: 'new.hire@example.com', type: 'work', primary: true }],
  groups: [{ display: 'Engineering' }],
});
const source = join(home, 'hr-feed.json');
writeFileSync(source, JSON.stringify(list));
await run(['sync', 'plan', '--source', source, '--manage-all']);

const stop = async () => {
  await server.close();
  rmSync(home, { recursive: true, force: true });
};

if (process.stdin.isTTY && !process.env.CI) {
  process.stdout.write(
    `\nThe server stays up until you press Ctrl+C. In another shell:\n` +
      `  export SCIMCTL_URL=${server.url} SCIMCTL_TOKEN=${token}\n` +
      `  node ${bin}                  # the full-screen explorer\n` +
      `  node ${bin} sync run --source ${source} --manage-all\n`,
  );
  process.on('SIGINT', () => {
    void stop().then(() => process.exit(0));
  });
} else {
  await stop();
}

/**
 * `scimctl demo`: the whole job on this machine, no account anywhere. Starts the embedded
 * SCIM server on a free loopback port with a generated organisation, writes an "HR export"
 * that differs from it, points a `demo` profile at both, and opens the explorer (on a
 * terminal) or prints the sync plan with what to try next (elsewhere).
 *
 * The organisation is regenerated on every start, so the demo always begins the same way.
 * It is as if scimctl had synced this organisation before: the state of the `demo` profile
 * says it manages these users and groups, so the plan shows leavers being deactivated.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SCHEMA } from '../api/types.ts';
import { DEMO_PROFILE } from '../config/profiles.ts';
import { dataDir, saveState } from '../sync/state.ts';
import { untilStopped } from '../util/interrupt.ts';
import { defineCommand, globalArgs, type FlagsOf, type GlobalArgv } from './context.ts';
import { UsageError } from './exit-codes.ts';
import type { Factory } from './factory.ts';
import { startServing } from './serve.ts';

const PROFILE = DEMO_PROFILE;

/** Where the demo server keeps its data; its lock there says whether a demo is running. */
export function demoStoreDir(env: Record<string, string | undefined>): string {
  return join(dataDir(env), 'demo', 'store');
}

/** `f` is built for the demo profile (the command's `globals`); `flags.profile` is as given. */
async function runDemo(flags: FlagsOf<ReturnType<typeof demoOptions>>, f: Factory): Promise<void> {
  if (flags.profile !== undefined && flags.profile !== PROFILE)
    throw new UsageError(`the demo always uses the "${PROFILE}" profile; leave out --profile`);
  if (!Number.isInteger(flags.users) || flags.users < 20 || flags.users > 100_000)
    throw new UsageError('--users must be a whole number from 20 to 100000');
  const { sampleOrganisation, laterExport, scimUser, lockHolder } = await import('../server/index.ts');
  const storeDir = demoStoreDir(f.env);
  const home = dirname(storeDir);
  const running = lockHolder(storeDir);
  if (running !== undefined) {
    throw new UsageError(
      `a demo is already running (process ${running}); use it (scimctl --profile ` +
        `${PROFILE} users list) or stop it first`,
    );
  }
  rmSync(storeDir, { recursive: true, force: true });
  mkdirSync(home, { recursive: true, mode: 0o700 });

  const org = sampleOrganisation(flags.users, 20);
  const token = randomBytes(24).toString('hex');
  const stop = untilStopped();
  const server = await startServing(
    { host: '127.0.0.1', port: flags.port, data: storeDir, token, seed: org, fsync: false },
    f,
  ).catch((e: unknown) => {
    stop.release();
    throw e;
  });
  let restoreCurrent = () => {};
  try {
    // The HR export a week later, as a SCIM ListResponse with each user's groups.
    const later = laterExport(org);
    const sourcePath = join(home, 'hr-export.json');
    const resources = later.users.map((u) => ({ ...scimUser(u), groups: u.groups.map((display) => ({ display })) }));
    const list = { schemas: [SCHEMA.LIST_RESPONSE], totalResults: resources.length, Resources: resources };
    writeFileSync(sourcePath, `${JSON.stringify(list, null, 2)}\n`, { mode: 0o600 });

    const profiles = await f.profiles();
    // The demo is current only while it runs: when it stops, the profile current before (or none) is again.
    const before = profiles.current === PROFILE ? undefined : profiles.current;
    restoreCurrent = () => {
      if (profiles.current !== PROFILE) return;
      if (before) profiles.use(before);
      else profiles.clearCurrent();
    };
    profiles.set(PROFILE, { url: server.url, auth: { type: 'bearer', token }, sync: { source: sourcePath } });
    if (!before) profiles.use(PROFILE);
    saveState(dataDir(f.env), {
      profile: PROFILE,
      url: server.url,
      owned: [...server.store.users.keys()],
      ownedGroups: [...server.store.groups.keys()],
      lastRecordCount: org.users.length,
    });
    const inactive = org.users.filter((u) => !u.active).length;
    f.log(
      `demo server at ${server.url} with ${org.users.length} users (${inactive} ` +
        `inactive) and ${org.groups.length} groups; profile "${PROFILE}"`,
    );
    f.log(
      `sample HR export: ${sourcePath} (${later.changes.hired.length} new hires, ` +
        `${later.changes.left.length} leavers, ` +
        `${later.changes.retitled.length} new titles, ${later.changes.moved.length} moved to another department)`,
    );

    const terminal = f.io.isStdoutTTY && f.io.stdin.isTTY && !f.env.CI;
    if (terminal) {
      f.log(
        'opening the explorer: 3 then p plans a sync from the HR export; ? lists the ' +
          'keys; q quits (the server stops with it)',
      );
      const { runTui } = await import('./tui.ts');
      // The explorer ends on q or Ctrl+C; a SIGTERM meanwhile ends the demo too.
      const stopping = stop.wait().then(() => 'stopped' as const);
      const ended = await Promise.race([runTui(f).then(() => 'closed' as const), stopping]);
      if (ended === 'closed' && flags.keepRunning) {
        f.io.stderr.write(hints(sourcePath, true));
        f.log('the explorer is closed; the demo server keeps running; Ctrl+C stops it');
        await stopping;
      }
      return;
    }

    const [{ runSyncPlan }, { SYNC_DEFAULTS }] = await Promise.all([
      import('./sync/plan.ts'),
      import('../sync/defaults.ts'),
    ]);
    await runSyncPlan({ ...SYNC_DEFAULTS, source: sourcePath, json: false, detailedExitcode: false, apply: false }, f);
    f.io.stderr.write(hints(sourcePath, flags.keepRunning));
    if (flags.keepRunning) {
      f.log('the demo server keeps running; Ctrl+C stops it');
      await stop.wait();
    }
  } finally {
    stop.release();
    restoreCurrent();
    await server.stop();
    f.log('demo server stopped');
  }
}

function hints(source: string, running: boolean): string {
  const lines = [
    '',
    'What to try next:',
    ...(running ? [] : ['  scimctl demo --keep-running         keep the demo server up, then in another terminal:']),
    `  scimctl --profile ${PROFILE} users list`,
    `  scimctl --profile ${PROFILE} users search --name kim`,
    `  scimctl --profile ${PROFILE} groups members Engineering`,
    `  scimctl --profile ${PROFILE} sync run --source ${source}`,
    `  scimctl --profile ${PROFILE} sync plan --source ${source}    (again: nothing left to do)`,
    `  scimctl --profile ${PROFILE} runs list`,
    '  scimctl demo                         on a terminal: the same in the full-screen explorer',
    '',
  ];
  return `${lines.join('\n')}\n`;
}

function demoOptions(y: GlobalArgv) {
  return y
    .option('users', { type: 'number', default: 500, describe: 'Size of the sample organisation' })
    .option('port', { type: 'number', default: 0, describe: 'Port of the demo server (0 = any free port)' })
    .option('keep-running', {
      type: 'boolean',
      default: false,
      describe: 'Keep the server up after the plan is printed (or the explorer is closed), until Ctrl+C',
    });
}

export const demoCommand = defineCommand({
  command: 'demo',
  describe: 'Try scimctl on a sample organisation: no account needed',
  builder: demoOptions,
  globals: (argv) => ({ ...globalArgs(argv), profile: PROFILE }),
  run: runDemo,
});

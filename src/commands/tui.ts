import type { SyncHandle } from '../sync/session.ts';
import { dataDir } from '../sync/state.ts';
import { RunHistory } from '../sync/history.ts';
import { defineCommand } from './context.ts';
import { UsageError } from './exit-codes.ts';
import type { Factory } from './factory.ts';

/**
 * "Sync now" from the explorer: plans from the profile's configured source, with every safety
 * check, and hands back the planned run for the review to apply or close. Each handle goes
 * into `opened`, to be closed when the explorer ends.
 */
function syncFromProfile(
  f: Factory,
  history: RunHistory,
  sync: { source: string; preset?: string; mapping?: string; groupsFile?: string },
  opened: SyncHandle[],
) {
  return async (): Promise<SyncHandle> => {
    const { safetyFindings, startSession, syncRequest } = await import('./sync/shared.ts');
    const [{ reviewHandle }, { SYNC_DEFAULTS }] = await Promise.all([
      import('../sync/session.ts'),
      import('../sync/defaults.ts'),
    ]);
    // The full-screen view owns the terminal: nothing on stderr, no progress bar.
    const session = await startSession(f, 'tui sync', history, {}, { echo: false, progress: false });
    try {
      await session.plan(
        syncRequest({
          ...SYNC_DEFAULTS,
          source: sync.source,
          preset: sync.preset,
          mapping: sync.mapping,
          groupsFile: sync.groupsFile,
        }),
      );
      const findings = safetyFindings(session, SYNC_DEFAULTS, false);
      if (findings.length > 0) {
        session.refuse(findings);
        throw new Error(`refused: ${findings.map((x) => x.message).join('; ')}`);
      }
      const handle = reviewHandle(session, { concurrency: SYNC_DEFAULTS.concurrency, bulk: SYNC_DEFAULTS.bulk });
      opened.push(handle);
      return handle;
    } catch (e) {
      session.fail(e);
      throw e;
    }
  };
}

/** Opens the full-screen explorer. Ink and React load only here. */
export async function runTui(f: Factory): Promise<void> {
  if (!f.io.isStdoutTTY || !f.io.stdin.isTTY) {
    throw new UsageError(
      'the TUI needs a terminal; for scripts use the subcommands (scimctl users list, scimctl sync plan, …)',
    );
  }
  const client = await f.client();
  const connection = await f.connection();
  const caps = await client.capabilities();
  const history = new RunHistory(dataDir(f.env));
  try {
    history.markInterrupted();
  } catch {
    // The runs view shows them as they are; the next sync marks them.
  }
  const profile = connection.name === 'environment' ? undefined : (await f.profiles()).get(connection.name);
  const { runTui: start } = await import('../ui/run.tsx');
  const opened: SyncHandle[] = [];
  try {
    await start({
      deps: {
        client,
        caps,
        history,
        profile: connection.name,
        startSync: profile?.sync ? syncFromProfile(f, history, profile.sync, opened) : undefined,
        // The full-screen view owns the terminal: retries show in it ("connecting… attempt N/M"), not on stderr.
        onRetry: f.routeRetries,
      },
      profile: connection.name,
      url: connection.url,
      color: f.io.color,
    });
  } finally {
    // A sync planned but neither applied nor closed when the explorer ends: closed now (applied ones stay as they
    // ended).
    for (const handle of opened) handle.close();
    // Pages still loading when the explorer closes are not wanted any more.
    client.close();
  }
}

export const tuiCommand = defineCommand({
  command: 'tui',
  describe: 'Open the full-screen explorer (the default on a terminal)',
  builder: (y) => y,
  run: (_argv, f) => runTui(f),
});

import type { Change } from '../sync/model.ts';
import { dataDir } from '../sync/state.ts';
import { RunHistory } from '../sync/history.ts';
import type { CliContext, Command, GlobalArgs } from './context.ts';
import { UsageError } from './exit-codes.ts';
import type { Factory } from './factory.ts';

/** "Sync now" from the explorer: plan from the profile's configured source, with every safety check. */
function syncFromProfile(f: Factory, history: RunHistory, sync: { source: string; preset?: string; mapping?: string; groupsFile?: string }) {
  return async () => {
    const { prepare, recordPlan, recordRunError, RunLog, safetyFindings } = await import('./sync/shared.ts');
    const { applyAndRecord } = await import('./sync/execute.ts');
    const connection = await f.connection();
    const log = new RunLog(f, history, {}, false);
    const run = history.start({ command: 'tui sync', profile: connection.name, url: connection.url, startedAt: new Date().toISOString() });
    log.attach(run);
    try {
      const flags = { source: sync.source, preset: sync.preset, mapping: sync.mapping, groupsFile: sync.groupsFile, mode: 'full', missing: 'deactivate', deleteGroups: false, manageAll: false, matchKeys: 'externalId,userName,email' };
      const p = await prepare(flags, f, log, history.sourceKeeper(run.id));
      recordPlan(history, run, p);
      const findings = safetyFindings(p.plan, p.source, p.state, { allowEmpty: false, acceptSourceChange: false }, false);
      if (findings.length > 0) {
        for (const finding of findings) log.error(finding.message, { check: finding.check });
        run.status = 'refused';
        run.message = findings.map((x) => x.check).join(', ');
        run.finishedAt = new Date().toISOString();
        history.save(run);
        throw new Error(`refused: ${findings.map((x) => x.message).join('; ')}`);
      }
      run.status = 'planned';
      history.save(run);
      const ctx = { client: p.client, caps: p.caps, connection: p.connection, dataDir: p.dataDir, state: p.state, recordCount: p.source.users.length, history, run, log };
      const changes: Change[] = p.plan.changes;
      return {
        changes,
        apply: async (excluded: ReadonlySet<string>, onResult: Parameters<typeof applyAndRecord>[3]['onResult']) =>
          (await applyAndRecord(f, ctx, p.plan, { concurrency: 4, bulk: true, exclude: excluded, onResult, showProgress: false })).message,
      };
    } catch (e) {
      recordRunError(run, history, log, e);
      throw e;
    }
  };
}

/** Opens the full-screen explorer. Ink and React load only here. */
export async function runTui(f: Factory): Promise<void> {
  if (!f.io.isStdoutTTY || !f.io.stdin.isTTY) {
    throw new UsageError('the TUI needs a terminal; for scripts use the subcommands (scimctl users list, scimctl sync plan, …)');
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
  try {
    await start({
      deps: { client, caps, history, startSync: profile?.sync ? syncFromProfile(f, history, profile.sync) : undefined },
      profile: connection.name,
      url: connection.url,
      color: f.io.color,
    });
  } finally {
    // Pages still loading when the explorer closes are not wanted any more.
    client.close();
  }
}

export function tuiCommand(ctx: CliContext): Command<GlobalArgs> {
  return {
    command: 'tui',
    describe: 'Open the full-screen explorer (the default on a terminal)',
    handler: (argv) => runTui(ctx.factory(argv)),
  };
}

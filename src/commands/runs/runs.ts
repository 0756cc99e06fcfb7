import { SchemaRegistry } from '../../api/schema.ts';
import { writeChunk } from '../../output/iostreams.ts';
import { changeLines } from '../../output/plan.ts';
import { safeText } from '../../output/safe-text.ts';
import { PROFILE_RUN_COLUMNS, RUN_COLUMNS as COLUMNS } from '../../output/runs.ts';
import { renderTable, renderTsvRow } from '../../output/table.ts';
import type { RunRecord } from '../../sync/history.ts';
import { defineCommand } from '../context.ts';
import { NotFoundError } from '../../api/errors.ts';
import type { Factory } from '../factory.ts';
import { historyFor } from '../sync/shared.ts';
import { userHistory } from '../../sync/user-history.ts';
import { userHistoryJson, userHistoryLines } from '../../output/user-history.ts';

function find(f: Factory, ref: string): RunRecord {
  const run = historyFor(f).find(ref);
  if (!run) throw new NotFoundError('run', ref);
  return run;
}

export const runsListCommand = defineCommand({
  command: 'list',
  describe: 'Recent sync runs, newest first',
  builder: (y) =>
    y
      .option('json', { type: 'boolean', default: false })
      .option('limit', { type: 'number', default: 50 })
      .option('all-profiles', {
        type: 'boolean',
        default: false,
        describe: "Runs of every profile, with a PROFILE column (default: the active profile's)",
      }),
  run: async (argv, f) => {
    // The active profile's runs; all of them with --all-profiles, or when no profile is active.
    const profile = argv.allProfiles
      ? undefined
      : await f.connection().then(
          (c) => c.name,
          () => undefined,
        );
    const runs = historyFor(f)
      .list()
      .filter((r) => profile === undefined || r.profile === profile)
      .slice(0, argv.limit);
    if (argv.json) return void (await writeChunk(f.io.stdout, `${JSON.stringify(runs, null, 2)}\n`));
    if (runs.length === 0) return f.log(profile === undefined ? 'no runs yet' : `no runs yet of profile "${profile}"`);
    const lines = f.io.isStdoutTTY
      ? renderTable(runs, profile === undefined ? COLUMNS : PROFILE_RUN_COLUMNS, f.io.columns)
      : runs.map((r) => renderTsvRow(r, COLUMNS));
    await writeChunk(f.io.stdout, `${lines.join('\n')}\n`);
  },
});

export const runsShowCommand = defineCommand({
  command: 'show <run>',
  describe: 'A run: its summary (--json: with its plan and results)',
  builder: (y) =>
    y
      .positional('run', { type: 'string', demandOption: true, describe: 'run id, a unique prefix, or "latest"' })
      .option('json', { type: 'boolean', default: false }),
  run: async (argv, f) => {
    const history = historyFor(f);
    const run = find(f, argv.run);
    if (argv.json) {
      const plan = history.readText(run.id, 'plan.json');
      const results = history.readText(run.id, 'results.json');
      const parsed = (text: string | undefined): unknown => (text ? JSON.parse(text) : undefined);
      await writeChunk(
        f.io.stdout,
        `${JSON.stringify({ run, plan: parsed(plan), results: parsed(results) }, null, 2)}\n`,
      );
      return;
    }
    const lines = [
      `run:      ${run.id}`,
      `command:  ${run.command}`,
      `status:   ${run.status}${run.message ? ` (${run.message})` : ''}`,
      `profile:  ${run.profile} ${run.url}`,
      `started:  ${run.startedAt}`,
      `finished: ${run.finishedAt ?? '-'}`,
    ];
    if (run.pid !== undefined) lines.push(`process:  pid ${run.pid} on ${run.host ?? '?'}`);
    if (run.status === 'interrupted') {
      lines.push(`found:    ${run.interruptedAt ?? '-'} (interrupted: its process was gone)`);
      if (run.journalFolded !== undefined)
        lines.push(
          run.journalFolded
            ? 'journal:  folded into the state by a later run'
            : 'journal:  to be folded into the state by the next sync of this profile',
        );
    }
    if (run.summary)
      lines.push(
        `plan:     ${run.summary.create} to create, ${run.summary.update} to update, ` +
          `${run.summary.deactivate} to deactivate, ${run.summary.delete} to delete, ` +
          `${run.summary.memberships} membership changes`,
      );
    if (run.results)
      lines.push(
        `results:  ${Object.entries(run.results)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ')}`,
      );
    // The failures with what the server said: the counts alone do not tell what to fix.
    const { failures } = history.outcome(run.id);
    if (failures.length > 0) {
      lines.push(`failures: ${failures.length}`);
      const registry = new SchemaRegistry();
      for (const { change, result } of failures) {
        lines.push(`  ${changeLines(change, registry, false)[0]}`);
        lines.push(`    ${safeText(result?.detail ?? 'failed', { marks: true })}`);
      }
    }
    await writeChunk(f.io.stdout, `${lines.join('\n')}\n`);
  },
});

export const runsLogCommand = defineCommand({
  command: 'log <run>',
  describe: "A run's log lines",
  builder: (y) =>
    y
      .positional('run', { type: 'string', demandOption: true, describe: 'run id, a unique prefix, or "latest"' })
      .option('json', { type: 'boolean', default: false, describe: 'As JSON lines' }),
  run: async (argv, f) => {
    const run = find(f, argv.run);
    const text = historyFor(f).readText(run.id, 'log.ndjson') ?? '';
    if (argv.json) return void (await writeChunk(f.io.stdout, text));
    const lines = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { time: string; level: string; message: string })
      .map((l) => `${l.time} ${l.level.toUpperCase().padEnd(5)} ${l.message}`);
    await writeChunk(f.io.stdout, lines.length ? `${lines.join('\n')}\n` : '');
  },
});

export const runsUserCommand = defineCommand({
  command: 'user <user>',
  describe: "A user's history: each run that received or changed them, what the source said, the plan and the result",
  builder: (y) =>
    y
      .positional('user', {
        type: 'string',
        demandOption: true,
        describe: 'id, userName, e-mail or externalId (earlier names of a renamed user too)',
      })
      .option('json', { type: 'boolean', default: false }),
  run: async (argv, f) => {
    // --profile narrows it to that profile's runs; without it, every profile's (as `runs list`).
    const entries = userHistory(historyFor(f), argv.user, argv.profile ? { profile: argv.profile } : {});
    if (entries.length === 0)
      throw new NotFoundError(`user in the run history${argv.profile ? ` of profile ${argv.profile}` : ''}`, argv.user);
    if (argv.json)
      return void (await writeChunk(f.io.stdout, `${JSON.stringify(userHistoryJson(argv.user, entries), null, 2)}\n`));
    await writeChunk(f.io.stdout, `${userHistoryLines(argv.user, entries).join('\n')}\n`);
  },
});

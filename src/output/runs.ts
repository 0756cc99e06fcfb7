/** The columns of a list of sync runs: `runs list` and the explorer's runs tab. */
import type { RunRecord } from '../sync/history.ts';
import type { Column } from './table.ts';

/** How many changes the run's plan had, every kind together; blank for a run without a plan. */
const changeCount = (r: RunRecord): string =>
  r.summary
    ? String(
        (r.summary.create ?? 0) +
          (r.summary.update ?? 0) +
          (r.summary.deactivate ?? 0) +
          (r.summary.delete ?? 0) +
          (r.summary.memberships ?? 0),
      )
    : '';

const ID: Column<RunRecord> = { header: 'id', value: (r) => r.id, minWidth: 20 };
const COMMAND: Column<RunRecord> = { header: 'command', value: (r) => r.command, minWidth: 8 };
const STATUS: Column<RunRecord> = { header: 'status', value: (r) => r.status, minWidth: 7 };
const PROFILE: Column<RunRecord> = { header: 'profile', value: (r) => r.profile, minWidth: 7 };
const CHANGES: Column<RunRecord> = { header: 'changes', value: changeCount, minWidth: 7 };
const APPLIED: Column<RunRecord> = {
  header: 'applied',
  value: (r) => (r.results ? String(r.results.applied ?? 0) : ''),
  minWidth: 7,
};
const FAILED: Column<RunRecord> = {
  header: 'failed',
  value: (r) => (r.results ? String(r.results.failed ?? 0) : ''),
  minWidth: 6,
};

/** `runs list`: in a pipe always (stable columns), on a terminal with `--all-profiles`. */
export const RUN_COLUMNS: Column<RunRecord>[] = [ID, COMMAND, STATUS, PROFILE, CHANGES, APPLIED, FAILED];

/** `runs list` on a terminal, the runs of one profile: no profile column. */
export const PROFILE_RUN_COLUMNS: Column<RunRecord>[] = RUN_COLUMNS.filter((c) => c !== PROFILE);

/** The explorer's runs tab: the runs of the profile it shows, so no profile column; the id headed "run". */
export const RUN_TAB_COLUMNS: Column<RunRecord>[] = [{ ...ID, header: 'run' }, COMMAND, STATUS, CHANGES, FAILED];

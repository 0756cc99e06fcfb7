/**
 * The checks that stand between a plan and the accounts it would change. Each
 * failing check stops the run before anything is applied, and says how to go on.
 */
import type { Plan } from './model.ts';

export interface SafetyOptions {
  /** `--max-deletes`: a count ("25") or a share of the managed users ("10%"). */
  maxDeletes?: string;
  allowEmpty: boolean;
  acceptSourceChange: boolean;
  /** No one is looking (--yes or no terminal): source drift stops the run. */
  unattended: boolean;
  /** Records in the source now, and at the last successful run of this profile. */
  recordCount: number;
  lastRecordCount?: number;
}

export interface SafetyFinding {
  check: 'empty-source' | 'deletion-threshold' | 'source-change';
  message: string;
}

export const DEFAULT_MAX_DELETES = '10%';
const MIN_THRESHOLD = 5;

/** The number of deactivations + deletions a run may make. */
export function deletionLimit(maxDeletes: string | undefined, managed: number): number {
  const spec = (maxDeletes ?? DEFAULT_MAX_DELETES).trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(spec);
  if (pct) {
    const share = Math.floor((Number(pct[1]) / 100) * managed);
    // The default share never falls below a handful: small directories still have leavers.
    return maxDeletes === undefined ? Math.max(MIN_THRESHOLD, share) : share;
  }
  if (/^\d+$/.test(spec)) return Number(spec);
  throw new RangeError(`--max-deletes takes a number or a percentage (e.g. 25 or 10%), not "${spec}"`);
}

export function checkSafety(plan: Plan, opts: SafetyOptions): SafetyFinding[] {
  const findings: SafetyFinding[] = [];
  if (opts.recordCount === 0 && !opts.allowEmpty) {
    findings.push({
      check: 'empty-source',
      message: 'the source has no users. An empty or failed export must never empty the target; if you really mean it, pass --allow-empty',
    });
  }
  // Updates that set active=false count too: a broken export marking everyone inactive is a mass deactivation.
  const destructive = plan.summary.deactivate + plan.summary.delete + (plan.summary.deactivatedBySource ?? 0);
  const limit = deletionLimit(opts.maxDeletes, plan.summary.managed);
  if (destructive > limit) {
    findings.push({
      check: 'deletion-threshold',
      message:
        `the plan would deactivate or delete ${destructive} of ${plan.summary.managed} managed users, over the limit of ${limit}` +
        `${opts.maxDeletes === undefined ? ` (${DEFAULT_MAX_DELETES}, at least ${MIN_THRESHOLD})` : ` (--max-deletes ${opts.maxDeletes})`}. ` +
        `Review it with "scimctl sync plan", then raise the limit with --max-deletes ${destructive} if it is right`,
    });
  }
  if (opts.unattended && opts.lastRecordCount !== undefined && opts.lastRecordCount > 0 && !opts.acceptSourceChange) {
    const moved = Math.abs(opts.recordCount - opts.lastRecordCount) / opts.lastRecordCount;
    if (moved > 0.1) {
      findings.push({
        check: 'source-change',
        message:
          `the source has ${opts.recordCount} records, ${Math.round(moved * 100)}% ${opts.recordCount > opts.lastRecordCount ? 'more' : 'fewer'} than the ${opts.lastRecordCount} of the last run. ` +
          'An unattended run stops here; check the source, then pass --accept-source-change',
      });
    }
  }
  return findings;
}

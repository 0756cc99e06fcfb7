/**
 * The checks that stand between a plan and the accounts it would change. Each
 * failing check stops the run before anything is applied, and says how to go on.
 * Every count is taken from the plan's changes, never from its summary (a plan file's
 * summary is only what the file says about itself); the summary gives only the bases
 * of the percentage limits (how many users, memberships and groups the run manages).
 */
import { kindFacts, type RemovalThreshold } from './change-kinds.ts';
import { countChanges } from './counts.ts';
import type { Plan } from './model.ts';

export interface SafetyOptions {
  /** `--max-deletes`: a count ("25") or a share of the managed users ("10%"). */
  maxDeletes?: string;
  /** `--max-membership-removals`: a count or a share of the managed memberships. */
  maxMembershipRemovals?: string;
  /** `--max-group-deletes`: a count or a share of the managed groups. */
  maxGroupDeletes?: string;
  allowEmpty: boolean;
  /** `--allow-empty-groups`: accept a source without any group data while the plan removes memberships. */
  allowEmptyGroups?: boolean;
  acceptSourceChange: boolean;
  /** No one is looking (--yes or no terminal): source drift stops the run. */
  unattended: boolean;
  /** Records in the source now, and at the last successful run of this profile. */
  recordCount: number;
  lastRecordCount?: number;
  /**
   * Whether the source carries any group data: a user with groups, or a group with members.
   * Undefined when not known (a saved plan, whose source is not read again).
   */
  sourceHasGroups?: boolean;
}

export type SafetyCheck =
  | 'empty-source'
  | 'empty-groups'
  | 'deletion-threshold'
  | 'membership-threshold'
  | 'group-deletion-threshold'
  | 'source-change';

export interface SafetyFinding {
  check: SafetyCheck;
  message: string;
  /** The flags that accept what this check refused, as they would be passed (`--max-deletes 41`). */
  accept: string[];
}

/** A limit: its flag, its default and the least the default allows (small directories still change). */
interface LimitSpec {
  flag: string;
  defaultSpec: string;
  min: number;
}

export const DEFAULT_MAX_DELETES = '10%';
export const DEFAULT_MAX_MEMBERSHIP_REMOVALS = '10%';
export const DEFAULT_MAX_GROUP_DELETES = '10%';
const MIN_THRESHOLD = 5;
const MIN_MEMBERSHIP_REMOVALS = 10;
const MIN_GROUP_DELETES = 1;

export const LIMITS = {
  deletes: { flag: '--max-deletes', defaultSpec: DEFAULT_MAX_DELETES, min: MIN_THRESHOLD },
  membershipRemovals: {
    flag: '--max-membership-removals',
    defaultSpec: DEFAULT_MAX_MEMBERSHIP_REMOVALS,
    min: MIN_MEMBERSHIP_REMOVALS,
  },
  groupDeletes: { flag: '--max-group-deletes', defaultSpec: DEFAULT_MAX_GROUP_DELETES, min: MIN_GROUP_DELETES },
} as const satisfies Record<RemovalThreshold, LimitSpec>;

/** Throws a RangeError naming the flag unless `spec` is a count ("25") or a percentage ("10%", at most 100%). */
export function checkLimitSpec(flag: string, spec: string): void {
  const s = spec.trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(s);
  if (pct ? Number(pct[1]) <= 100 : /^\d+$/.test(s)) return;
  throw new RangeError(`${flag} takes a number or a percentage up to 100% (e.g. 25 or 10%), not "${s}"`);
}

/** A limit's value for `base` managed objects: the spec as given, or the default (never below its minimum). */
export function limitFor(limit: LimitSpec, spec: string | undefined, base: number): number {
  const s = (spec ?? limit.defaultSpec).trim();
  checkLimitSpec(limit.flag, s);
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(s);
  if (!pct) return Number(s);
  const share = Math.floor((Number(pct[1]) / 100) * base);
  return spec === undefined ? Math.max(limit.min, share) : share;
}

/** The number of deactivations + deletions a run may make. */
export function deletionLimit(maxDeletes: string | undefined, managed: number): number {
  return limitFor(LIMITS.deletes, maxDeletes, managed);
}

/** The number of membership removals a run may make. */
export function membershipRemovalLimit(spec: string | undefined, managedMemberships: number): number {
  return limitFor(LIMITS.membershipRemovals, spec, managedMemberships);
}

/** The number of group deletions a run may make. */
export function groupDeletionLimit(spec: string | undefined, managedGroups: number): number {
  return limitFor(LIMITS.groupDeletes, spec, managedGroups);
}

const describeLimit = (limit: LimitSpec, spec: string | undefined) =>
  spec === undefined ? `${limit.defaultSpec}, at least ${limit.min}` : `${limit.flag} ${spec}`;

export function checkSafety(plan: Plan, opts: SafetyOptions): SafetyFinding[] {
  const findings: SafetyFinding[] = [];
  const n = countChanges(plan.changes);
  if (opts.recordCount === 0 && !opts.allowEmpty) {
    findings.push({
      check: 'empty-source',
      message:
        'the source has no users. An empty or failed export must never empty the ' +
        'target; if you really mean it, pass --allow-empty',
      accept: ['--allow-empty'],
    });
  }
  // A group column that went blank for everyone reads as "nobody is in any group": like an empty source.
  if (opts.sourceHasGroups === false && n.membershipRemovals > 0 && !opts.allowEmptyGroups) {
    findings.push({
      check: 'empty-groups',
      message:
        `the source has no group data at all (no user names a group, no group lists a ` +
        `member), yet the plan would remove ${n.membershipRemovals} membership(s) of ` +
        `users who have them. ` +
        'A blank or lost group column must never empty the groups; if you really mean it, pass --allow-empty-groups',
      accept: ['--allow-empty-groups'],
    });
  }
  // What counts against each threshold: the changes of the kinds the change-kind table puts under it.
  const removing = (t: RemovalThreshold) => plan.changes.filter((c) => kindFacts(c.kind).threshold === t).length;
  // Updates that set active=false count too: a broken export marking everyone inactive is a mass deactivation.
  const destructive = removing('deletes') + n.deactivatedBySource;
  // The three thresholds: what the plan would remove, against its limit of the managed base.
  const thresholds: Array<{
    check: SafetyCheck;
    limit: LimitSpec;
    spec: string | undefined;
    count: number;
    base: number;
    what: string;
  }> = [
    {
      check: 'deletion-threshold',
      limit: LIMITS.deletes,
      spec: opts.maxDeletes,
      count: destructive,
      base: plan.summary.managed,
      what: 'deactivate or delete %n of %b managed users',
    },
    {
      check: 'membership-threshold',
      limit: LIMITS.membershipRemovals,
      spec: opts.maxMembershipRemovals,
      count: removing('membershipRemovals'),
      base: plan.summary.managedMemberships ?? 0,
      what: 'remove %n of %b group memberships of managed users',
    },
    {
      check: 'group-deletion-threshold',
      limit: LIMITS.groupDeletes,
      spec: opts.maxGroupDeletes,
      count: removing('groupDeletes'),
      base: plan.summary.managedGroups ?? 0,
      what: 'delete %n of %b managed groups',
    },
  ];
  for (const t of thresholds) {
    const max = limitFor(t.limit, t.spec, t.base);
    if (t.count <= max) continue;
    findings.push({
      check: t.check,
      message:
        `the plan would ` +
        `${t.what.replace('%n', String(t.count)).replace('%b', String(t.base))}, over ` +
        `the limit of ${max} (${describeLimit(t.limit, t.spec)}). ` +
        `Review it with "scimctl sync plan", then raise the limit with ${t.limit.flag} ${t.count} if it is right`,
      accept: [`${t.limit.flag} ${t.count}`],
    });
  }
  if (opts.unattended && opts.lastRecordCount !== undefined && opts.lastRecordCount > 0 && !opts.acceptSourceChange) {
    const moved = Math.abs(opts.recordCount - opts.lastRecordCount) / opts.lastRecordCount;
    if (moved > 0.1) {
      findings.push({
        check: 'source-change',
        message:
          `the source has ${opts.recordCount} records, ${Math.round(moved * 100)}% ` +
          `${opts.recordCount > opts.lastRecordCount ? 'more' : 'fewer'} than the ` +
          `${opts.lastRecordCount} of the last run. ` +
          'An unattended run stops here; check the source, then pass --accept-source-change',
        accept: ['--accept-source-change'],
      });
    }
  }
  return findings;
}

/** One line that says exactly what to pass to go ahead with every refused check. */
export function acceptLine(findings: readonly SafetyFinding[]): string {
  return `to go ahead as planned, pass ${findings.flatMap((f) => f.accept).join(' ')}`;
}

/**
 * Plan files: the plan as JSON, with what it was computed against (profile,
 * server, source fingerprint, the version of every target object it touches),
 * so that applying it later can refuse a stale plan. Secrets never go in.
 */
import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Change, Plan, PlanOptions, RecordProblem, PlanSummary } from './model.ts';
import { CallerError } from '../util/errors.ts';
import { isPlainObject } from '../util/objects.ts';

export const PLAN_FORMAT = 1;

export interface PlanFile {
  kind: 'scimctl-plan';
  formatVersion: number;
  createdAt: string;
  profile: string;
  url: string;
  mode: PlanOptions['mode'];
  options: { missing: PlanOptions['missing']; deleteGroups: boolean; manageAll: boolean; matchKeys: readonly string[] };
  source: { fingerprint: string; files: string[]; records: number };
  /** Target object id → version when planned. */
  versions: Record<string, string>;
  matched: string[];
  matchedGroups: string[];
  changes: Change[];
  problems: RecordProblem[];
  summary: PlanSummary;
  notes?: string[];
  /**
   * sha256 of the rest of the file (keys sorted), written at plan time: apply refuses a plan whose
   * content no longer matches it (edited by hand) unless --allow-edited-plan. Not a signature:
   * it tells an edited file from the one scimctl wrote, not who edited it.
   */
  digest?: string;
}

/** JSON with object keys sorted at every level, undefined members left out (as JSON.stringify does). */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The digest of a plan file's content: everything but the digest itself. */
export function planDigest(file: Omit<PlanFile, 'digest'> & { digest?: unknown }): string {
  const { digest: _digest, ...content } = file;
  return `sha256:${createHash('sha256').update(canonicalJson(content)).digest('hex')}`;
}

/** Stands in plan files and run history for a secret a create would send (an initial password). */
export const REDACTED = '(redacted: not stored in plans)';
/** Attributes never written to a plan file (RFC 7643 writeOnly; returned "never"). */
const SECRET_ATTRIBUTES = ['password'];

function redactSecrets(changes: Change[]): Change[] {
  return changes.map((c) => {
    if (c.kind !== 'create-user') return c;
    const secret = Object.keys(c.resource).filter((k) => SECRET_ATTRIBUTES.includes(k.toLowerCase()));
    if (secret.length === 0) return c;
    const resource = { ...c.resource };
    for (const k of secret) resource[k] = REDACTED;
    return { ...c, resource };
  });
}

export function toPlanFile(
  plan: Plan,
  meta: Omit<
    PlanFile,
    'kind' | 'formatVersion' | 'versions' | 'matched' | 'matchedGroups' | 'changes' | 'problems' | 'summary'
  >,
): PlanFile {
  const file: PlanFile = {
    kind: 'scimctl-plan',
    formatVersion: PLAN_FORMAT,
    ...meta,
    versions: plan.versions,
    matched: plan.matched,
    matchedGroups: plan.matchedGroups,
    changes: redactSecrets(plan.changes),
    problems: plan.problems,
    summary: plan.summary,
    ...(plan.notes?.length ? { notes: plan.notes } : {}),
  };
  return { ...file, digest: planDigest(file) };
}

/** The plan in a file. Secrets left out of it stay placeholders here; the applier never sends them. */
export function fromPlanFile(file: PlanFile): Plan {
  return {
    changes: file.changes,
    problems: file.problems,
    summary: file.summary,
    versions: file.versions,
    matched: file.matched ?? [],
    matchedGroups: file.matchedGroups ?? [],
    ...(Array.isArray(file.notes) ? { notes: file.notes.filter((n): n is string => typeof n === 'string') } : {}),
  };
}

/** A create's body without placeholders of secrets a plan file did not keep. */
export function withoutPlaceholders(resource: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(resource).filter(([, v]) => v !== REDACTED));
}

export class PlanFileError extends CallerError {
  constructor(message: string) {
    super(message);
    this.name = 'PlanFileError';
  }
}

export async function writePlanFile(path: string, file: PlanFile): Promise<void> {
  const tmp = `${path}.partial-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

/** A plan file's JSON, parsed but not yet checked (see plan-validate.ts). */
export async function readPlanJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new PlanFileError(`${path}: cannot read: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new PlanFileError(`${path}: not a plan file (invalid JSON: ${(e as Error).message})`);
  }
}

/** A plan file, checked for its kind, format and main parts; `sync apply` checks it whole (validatePlanFile). */
export async function readPlanFile(path: string): Promise<PlanFile> {
  const parsed = await readPlanJson(path);
  const p = parsed as Partial<PlanFile>;
  if (!p || typeof p !== 'object' || p.kind !== 'scimctl-plan')
    throw new PlanFileError(`${path}: not a scimctl plan file`);
  if (p.formatVersion !== PLAN_FORMAT)
    throw new PlanFileError(
      `${path}: plan format ${String(p.formatVersion)} is not supported by this ` +
        `scimctl (it reads format ${PLAN_FORMAT})`,
    );
  if (
    !Array.isArray(p.changes) ||
    !isPlainObject(p.versions) ||
    typeof p.url !== 'string' ||
    !isPlainObject(p.summary)
  ) {
    throw new PlanFileError(`${path}: the plan file is incomplete (changes, versions, url or summary missing)`);
  }
  return p as PlanFile;
}

/**
 * A plan file is checked whole before anything is sent: its shape, every change's kind
 * and fields, the references between changes, duplicates, the version of every object a
 * change touches, a summary that agrees with the changes, and the digest written when it
 * was planned. A file is only ever believed for what can be checked: counts come from the
 * changes, never from what the summary says.
 */
import { z } from 'zod';
import { CHANGE_KINDS, kindFacts } from './change-kinds.ts';
import { countChanges } from './counts.ts';
import type { Change, ChangeKind, PlanSummary } from './model.ts';
import { PLAN_FORMAT, planDigest, PlanFileError, type PlanFile } from './plan-file.ts';
import { versionKey } from './planner.ts';

const text = z.string().min(1);
const count = z.number().int().nonnegative();
const origin = z.strictObject({ file: z.string(), line: count });
const resource = z.record(z.string(), z.unknown());
const ref = z.union([z.strictObject({ id: text }), z.strictObject({ change: text })]);
/** A name shown next to a change (userName, group name): a label only, absent when the target object has none. */
const shownName = z.string().optional();
const diff = z.strictObject({ path: text, before: z.unknown().optional(), after: z.unknown().optional() });

const CHANGE_SCHEMAS = {
  'create-user': z.strictObject({ id: text, kind: z.literal('create-user'), userName: text, resource, origin }),
  'update-user': z.strictObject({
    id: text,
    kind: z.literal('update-user'),
    target: text,
    userName: shownName,
    diffs: z.array(diff).min(1),
    reactivate: z.boolean(),
    origin,
  }),
  'deactivate-user': z.strictObject({
    id: text,
    kind: z.literal('deactivate-user'),
    target: text,
    userName: shownName,
  }),
  'delete-user': z.strictObject({ id: text, kind: z.literal('delete-user'), target: text, userName: shownName }),
  'create-group': z.strictObject({ id: text, kind: z.literal('create-group'), displayName: text, resource, origin }),
  'add-member': z.strictObject({
    id: text,
    kind: z.literal('add-member'),
    group: ref,
    groupName: shownName,
    user: ref,
    userName: shownName,
  }),
  'remove-member': z.strictObject({
    id: text,
    kind: z.literal('remove-member'),
    group: ref,
    groupName: shownName,
    user: ref,
    userName: shownName,
  }),
  'delete-group': z.strictObject({ id: text, kind: z.literal('delete-group'), target: text, displayName: shownName }),
} satisfies Record<ChangeKind, z.ZodType>;

const summary = z.strictObject({
  create: count,
  update: count,
  deactivate: count,
  delete: count,
  memberships: count,
  groupsCreated: count,
  groupsDeleted: count,
  managed: count,
  managedMemberships: count.optional(),
  managedGroups: count.optional(),
  deactivatedBySource: count.optional(),
});

const planFileSchema = z.strictObject({
  kind: z.literal('scimctl-plan'),
  formatVersion: z.literal(PLAN_FORMAT),
  createdAt: z.string(),
  profile: text,
  url: text,
  mode: z.enum(['full', 'attributes', 'groups']),
  options: z.strictObject({
    missing: z.enum(['deactivate', 'delete', 'leave']),
    deleteGroups: z.boolean(),
    manageAll: z.boolean(),
    matchKeys: z.array(z.enum(['externalId', 'userName', 'email'])).min(1),
  }),
  source: z.strictObject({ fingerprint: z.string(), files: z.array(z.string()), records: count }),
  versions: z.record(z.string(), text),
  matched: z.array(text).optional(),
  matchedGroups: z.array(text).optional(),
  // Each change is checked on its own below, so that a message names its index and id.
  changes: z.array(z.unknown()),
  problems: z.array(z.strictObject({ origin, message: z.string() })),
  summary,
  notes: z.array(z.string()).optional(),
  digest: z.string().optional(),
});

/** `a.b[2].c` */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('');
}

function issueText(issue: z.core.$ZodIssue, prefix: readonly PropertyKey[] = []): string {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => fieldPath([...path, k]));
    return (
      `${keys.map((k) => `field "${k}"`).join(', ')}: not a field of ` +
      `${path.length ? `"${fieldPath(path)}"` : 'this'}`
    );
  }
  return `field "${fieldPath(path)}": ${issue.message.replace(/^Invalid input: /, '')}`;
}

export interface ValidateOptions {
  /** --allow-edited-plan: a digest that does not match (or none) is accepted; everything else is still checked. */
  allowEdited?: boolean;
}

export interface ValidatedPlan {
  file: PlanFile;
  /** The digest did not match the content (accepted only with allowEdited). */
  edited: boolean;
}

/** The most problems a message lists. */
const SHOWN = 5;

/**
 * Checks a parsed plan file whole; throws PlanFileError naming the file, and each change
 * by index and id, and each field, when anything is wrong. Nothing here reads the target.
 */
export function validatePlanFile(path: string, data: unknown, validate: ValidateOptions = {}): ValidatedPlan {
  const fail = (problems: string[]): never => {
    const shown = problems.slice(0, SHOWN).map((p) => `${path}: ${p}`);
    if (problems.length > SHOWN) shown.push(`${path}: … and ${problems.length - SHOWN} more problem(s)`);
    throw new PlanFileError(shown.join('\n'));
  };
  const d = data as Partial<PlanFile> | null;
  if (!d || typeof d !== 'object' || Array.isArray(d) || d.kind !== 'scimctl-plan') fail(['not a scimctl plan file']);
  if (d!.formatVersion !== PLAN_FORMAT)
    fail([`plan format ${String(d!.formatVersion)} is not supported by this scimctl (it reads format ${PLAN_FORMAT})`]);
  const top = planFileSchema.safeParse(data);
  if (!top.success) fail(top.error.issues.map((i) => issueText(i)));
  const file = top.data as unknown as PlanFile & { changes: unknown[] };

  const problems: string[] = [];
  const changes: Change[] = [];
  const label = (i: number, c: unknown) => {
    const id = c && typeof c === 'object' ? (c as { id?: unknown }).id : undefined;
    return `change ${i} (${typeof id === 'string' ? `id "${id}"` : 'no id'})`;
  };
  file.changes.forEach((c, i) => {
    if (!c || typeof c !== 'object' || Array.isArray(c)) {
      problems.push(`${label(i, c)}: not an object`);
      return;
    }
    const kind = (c as { kind?: unknown }).kind;
    const schema = typeof kind === 'string' ? CHANGE_SCHEMAS[kind as ChangeKind] : undefined;
    if (!schema) {
      problems.push(
        `${label(i, c)}: field "kind": ` +
          `${kind === undefined ? 'missing' : `unknown kind ${JSON.stringify(kind)}`} ` +
          `(known: ${CHANGE_KINDS.join(', ')})`,
      );
      return;
    }
    const parsed = schema.safeParse(c);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${label(i, c)}: ${issueText(issue)}`);
      return;
    }
    changes[i] = parsed.data as Change;
  });
  if (problems.length > 0) fail(problems);

  // Ids, references, duplicates, and whether the plan's own options allow each change.
  const byId = new Map<string, number>();
  changes.forEach((c, i) => {
    if (!c.id.startsWith(`${c.kind}:`))
      problems.push(`${label(i, c)}: field "id": a ${c.kind} change's id starts with "${c.kind}:"`);
    const first = byId.get(c.id);
    if (first !== undefined) problems.push(`${label(i, c)}: field "id": the same id as change ${first}`);
    else byId.set(c.id, i);
  });
  const effects = new Map<string, number>();
  const once = (i: number, c: Change, key: string, what: string) => {
    const first = effects.get(key);
    if (first !== undefined)
      problems.push(`${label(i, c)}: ${what} is already changed by ${label(first, changes[first])}`);
    else effects.set(key, i);
  };
  const refKey = (r: { id: string } | { change: string }) => ('id' in r ? `id:${r.id}` : `change:${r.change}`);
  const { mode, options, versions } = file;
  const needVersion = (i: number, c: Change, field: string, key: string) => {
    if (!Object.hasOwn(versions, key))
      problems.push(
        `${label(i, c)}: field "${field}": ${key} is not in "versions" (every object a ` +
          `change touches has the version it was planned against)`,
      );
  };
  changes.forEach((c, i) => {
    const userChange = kindFacts(c.kind).part === 'users';
    if (userChange && mode === 'groups')
      problems.push(`${label(i, c)}: field "kind": a ${c.kind} change in a plan of mode "groups" (memberships only)`);
    if (!userChange && mode === 'attributes')
      problems.push(`${label(i, c)}: field "kind": a ${c.kind} change in a plan of mode "attributes" (users only)`);
    switch (c.kind) {
      case 'create-user':
        break;
      case 'update-user':
      case 'deactivate-user':
      case 'delete-user':
        if (c.kind === 'deactivate-user' && options.missing !== 'deactivate')
          problems.push(
            `${label(i, c)}: field "kind": a deactivate-user change in a plan made with --missing ${options.missing}`,
          );
        if (c.kind === 'delete-user' && options.missing !== 'delete')
          problems.push(
            `${label(i, c)}: field "kind": a delete-user change in a plan made with --missing ${options.missing}`,
          );
        once(i, c, `user:${c.target}`, `user ${c.target}`);
        needVersion(i, c, 'target', versionKey('User', c.target));
        break;
      case 'create-group':
        once(i, c, `create-group:${c.displayName.toLowerCase()}`, `group "${c.displayName}"`);
        break;
      case 'add-member':
      case 'remove-member': {
        for (const [field, r, kind] of [
          ['group', c.group, 'create-group'],
          ['user', c.user, 'create-user'],
        ] as const) {
          if (!('change' in r)) continue;
          const at = byId.get(r.change);
          if (at === undefined || changes[at]!.kind !== kind) {
            problems.push(
              `${label(i, c)}: field "${field}.change": ${JSON.stringify(r.change)} is not ` +
                `the id of a ${kind} change of this plan` +
                (at === undefined
                  ? ` (the change it needs was removed: remove this change too, or it would fail at the server)`
                  : ''),
            );
          }
          if (!kindFacts(c.kind).dependsOn.includes(kind))
            problems.push(`${label(i, c)}: field "${field}": a ${c.kind} change refers to an object this plan creates`);
        }
        once(
          i,
          c,
          `member:${refKey(c.group)}:${refKey(c.user)}`,
          `the membership of ${refKey(c.user)} in ${refKey(c.group)}`,
        );
        if ('id' in c.group) needVersion(i, c, 'group.id', versionKey('Group', c.group.id));
        break;
      }
      case 'delete-group':
        if (!options.deleteGroups)
          problems.push(`${label(i, c)}: field "kind": a delete-group change in a plan made without --delete-groups`);
        once(i, c, `group:${c.target}`, `group ${c.target}`);
        needVersion(i, c, 'target', versionKey('Group', c.target));
        break;
    }
  });
  if (problems.length > 0) fail(problems);

  // The summary is what the plan says about itself: it must say what the changes do.
  const n = countChanges(changes);
  const said = file.summary;
  for (const key of [
    'create',
    'update',
    'deactivate',
    'delete',
    'memberships',
    'groupsCreated',
    'groupsDeleted',
    'deactivatedBySource',
  ] as const satisfies readonly (keyof PlanSummary)[]) {
    const claimed = said[key] ?? 0;
    if (claimed !== n[key])
      problems.push(`field "summary.${key}": the summary says ${claimed}, the changes hold ${n[key]}`);
  }
  if (problems.length > 0) fail(problems);

  const digest = planDigest(file);
  const edited = file.digest !== digest;
  if (edited && !validate.allowEdited) {
    fail([
      `${file.digest === undefined ? 'has no digest' : 'field "digest": does not match the content'}: ` +
        `the plan was edited after "scimctl sync plan" wrote it. ` +
        'Make a new plan, or pass --allow-edited-plan to apply it as edited (it is ' +
        'still checked whole, thresholds included)',
    ]);
  }
  return { file: file as PlanFile, edited };
}

/**
 * Writing a changed resource back: PATCH with the attribute-level differences
 * when the server supports it, else PUT of the whole resource as it was just
 * read plus the changes (so nothing the change does not touch is lost). With
 * ETags, If-Match guards against overwriting someone else's edit: a 412 is
 * reported as "changed on the server since read", never retried blindly.
 */
import type { ResourceApi } from './client.ts';
import type { Capabilities } from './discovery.ts';
import { ResponseError, ScimError } from './errors.ts';
import { PATCH_OP_SCHEMA, type PatchOperation, type PatchRequest } from './patch.ts';
import type { ScimResource } from './types.ts';
import { isPlainObject } from '../util/objects.ts';

/** Attributes the server owns: never diffed, never sent. */
const SERVER_OWNED = new Set(['id', 'meta', 'schemas', 'groups']);

export interface AttributeChange {
  /** PATCH path: `title`, `name`, `urn:…:User:department`. */
  path: string;
  before: unknown;
  after: unknown;
}

/** Unassigned (RFC 7643 §2.5): missing, null, "", [], or a complex value with nothing assigned in it. */
const isUnset = (v: unknown): boolean =>
  v === undefined ||
  v === null ||
  v === '' ||
  (Array.isArray(v) && v.length === 0) ||
  (isPlainObject(v) && Object.values(v).every(isUnset));

/** Order-insensitive equality for SCIM values (multi-valued attributes are unordered; names ignore case). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ua = isUnset(a);
  const ub = isUnset(b);
  if (ua || ub) return ua && ub;
  if (Array.isArray(a)) {
    if (!Array.isArray(b)) return false;
    const av = a.filter((x) => !isUnset(x));
    const bv = b.filter((x) => !isUnset(x));
    if (av.length !== bv.length) return false;
    // Each item of one side pairs with a distinct equal item of the other (small lists: quadratic is fine).
    const used = new Array<boolean>(bv.length).fill(false);
    return av.every((x) => {
      const at = bv.findIndex((y, i) => !used[i] && sameValue(x, y));
      if (at < 0) return false;
      used[at] = true;
      return true;
    });
  }
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const bKeys = new Map<string, string>();
    for (const k of Object.keys(b)) if (!isUnset(b[k])) bKeys.set(k.toLowerCase(), k);
    let count = 0;
    for (const k of Object.keys(a)) {
      if (isUnset(a[k])) continue;
      count++;
      const bk = bKeys.get(k.toLowerCase());
      if (bk === undefined || !sameValue(a[k], b[bk])) return false;
    }
    return count === bKeys.size;
  }
  return false;
}

function caseInsensitiveKeys(obj: Record<string, unknown>): Map<string, string> {
  const m = new Map<string, string>();
  for (const k of Object.keys(obj)) m.set(k.toLowerCase(), k);
  return m;
}

/** The attribute-level differences between two versions of a resource (top-level and extension attributes). */
export function diffResources(before: Record<string, unknown>, after: Record<string, unknown>): AttributeChange[] {
  const changes: AttributeChange[] = [];
  const bKeys = caseInsensitiveKeys(before);
  const aKeys = caseInsensitiveKeys(after);
  const all = new Set([...bKeys.keys(), ...aKeys.keys()]);
  for (const lower of all) {
    const bKey = bKeys.get(lower);
    const aKey = aKeys.get(lower);
    const name = aKey ?? bKey!;
    if (SERVER_OWNED.has(lower)) continue;
    const b = bKey === undefined ? undefined : before[bKey];
    const a = aKey === undefined ? undefined : after[aKey];
    if (lower.startsWith('urn:') && (isPlainObject(a) || isPlainObject(b))) {
      const bo = isPlainObject(b) ? b : {};
      const ao = isPlainObject(a) ? a : {};
      const bk = caseInsensitiveKeys(bo);
      const ak = caseInsensitiveKeys(ao);
      for (const sub of new Set([...bk.keys(), ...ak.keys()])) {
        const sb = bk.has(sub) ? bo[bk.get(sub)!] : undefined;
        const sa = ak.has(sub) ? ao[ak.get(sub)!] : undefined;
        if (!sameValue(sb, sa)) changes.push({ path: `${name}:${ak.get(sub) ?? bk.get(sub)}`, before: sb, after: sa });
      }
      continue;
    }
    if (!sameValue(b, a)) changes.push({ path: name, before: b, after: a });
  }
  return changes;
}

/** PATCH operations for a list of changes: add what was unset, replace what changes, remove what goes. */
export function changesToPatch(changes: AttributeChange[]): PatchRequest {
  const ops: PatchOperation[] = changes.flatMap((c): PatchOperation[] => {
    if (isUnset(c.after)) return [{ op: 'remove', path: c.path }];
    if (isUnset(c.before)) return [{ op: 'add', path: c.path, value: c.after }];
    if (isPlainObject(c.before) && isPlainObject(c.after)) {
      // A replace of a complex value leaves the sub-attributes it does not name unchanged
      // (RFC 7644 §3.5.2.3): the ones that go are removed explicitly.
      const before = c.before;
      const after = c.after;
      const afterKeys = caseInsensitiveKeys(after);
      const gone = Object.keys(before).filter(
        (k) => !isUnset(before[k]) && isUnset(after[afterKeys.get(k.toLowerCase()) ?? k]),
      );
      return [
        ...gone.map((k): PatchOperation => ({ op: 'remove', path: `${c.path}.${k}` })),
        { op: 'replace', path: c.path, value: c.after },
      ];
    }
    return [{ op: 'replace', path: c.path, value: c.after }];
  });
  return { schemas: [PATCH_OP_SCHEMA], Operations: ops };
}

/** The body of a PUT: the resource without server-owned attributes, schemas naming the extensions present. */
export function putBody<T extends ScimResource>(resource: T, coreSchema: string): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const extensions: string[] = [];
  for (const [k, v] of Object.entries(resource)) {
    if (k === 'meta' || k === 'groups' || k === 'schemas') continue;
    if (/^urn:/i.test(k)) {
      if (!isPlainObject(v) || Object.keys(v).length === 0) continue;
      extensions.push(k);
    }
    body[k] = v;
  }
  return { schemas: [coreSchema, ...extensions], ...body };
}

export type UpdateMethod = 'PATCH' | 'PUT' | 'none';

export interface UpdateOutcome<T> {
  /** The resource as the server has it now (as returned, or read back). */
  result: T;
  /** What we asked to change. */
  changes: AttributeChange[];
  method: UpdateMethod;
}

/** A write refused because the resource changed on the server after we read it. */
export class ChangedOnServerError extends ScimError {
  constructor(
    readonly resourceId: string,
    cause: ResponseError,
  ) {
    super(
      412,
      undefined,
      `the resource ${resourceId} changed on the server since it was read; nothing ` +
        `was overwritten (read it again and retry)`,
    );
    this.name = 'ChangedOnServerError';
    this.request = cause.request;
  }
}

/** The value at a change's path: `title`, `name`, or an extension's `urn:…:User:department`. */
function valueAt(resource: Record<string, unknown>, path: string): unknown {
  if (!/^urn:/i.test(path))
    return resource[Object.keys(resource).find((k) => k.toLowerCase() === path.toLowerCase()) ?? path];
  const cut = path.lastIndexOf(':');
  const urn = path.slice(0, cut).toLowerCase();
  const ext = Object.entries(resource).find(([k]) => k.toLowerCase() === urn)?.[1];
  return isPlainObject(ext) ? valueAt(ext, path.slice(cut + 1)) : undefined;
}

/** Whether a resource as read now already has every change's after-value (a write that was carried out). */
export function changesInPlace(resource: Record<string, unknown>, changes: readonly AttributeChange[]): boolean {
  return changes.every((c) => sameValue(valueAt(resource, c.path), c.after));
}

/**
 * A 412 to a repeated write whose first attempt got a 5xx or no answer: the first attempt may
 * have been carried out (some servers apply a rename, then answer 500). Read the resource:
 * if it has the changes, the write is done; otherwise it really changed meanwhile.
 */
export async function settledAfter412<T extends ScimResource>(
  api: ResourceApi<T>,
  id: string,
  changes: readonly AttributeChange[],
  e: unknown,
): Promise<boolean> {
  if (!(e instanceof ResponseError && e.status === 412 && e.afterUncertainAttempt)) return false;
  return changesInPlace(await api.get(id), changes);
}

/**
 * Writes `desired` over `before` (which must be a fresh read). Chooses PATCH or
 * PUT from the capabilities; a server that advertises PATCH but answers 501/405
 * gets the PUT fallback (and the capability is corrected for the rest of the run).
 */
export async function updateResource<T extends ScimResource>(
  api: ResourceApi<T>,
  caps: Capabilities,
  before: T,
  desired: T,
  coreSchema: string,
  /** `patch: false` writes with PUT even where PATCH is offered (a PATCH of this change was just refused). */
  options: { patch?: boolean } = {},
): Promise<UpdateOutcome<T>> {
  const changes = diffResources(before, desired);
  if (changes.length === 0) return { result: before, changes, method: 'none' };
  const ifMatch = caps.etag ? before.meta?.version : undefined;
  const guard = async <R>(write: () => Promise<R>): Promise<R | undefined> => {
    try {
      return await write();
    } catch (e) {
      if (await settledAfter412(api, before.id, changes, e)) return undefined;
      if (e instanceof ResponseError && e.status === 412) throw new ChangedOnServerError(before.id, e);
      throw e;
    }
  };
  if (caps.patch && options.patch !== false) {
    try {
      const returned = await guard(() => api.patch(before.id, changesToPatch(changes), { ifMatch }));
      return { result: returned ?? (await api.get(before.id)), changes, method: 'PATCH' };
    } catch (e) {
      if (!(e instanceof ResponseError && (e.status === 501 || e.status === 405))) throw e;
      caps.patch = false;
    }
  }
  const result = await guard(() => api.replace(before.id, putBody(desired, coreSchema) as T, { ifMatch }));
  return { result: result ?? (await api.get(before.id)), changes, method: 'PUT' };
}

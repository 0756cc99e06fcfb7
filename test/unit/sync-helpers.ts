/**
 * Test doubles for the sync engine: builders for sources, targets and options,
 * an in-memory simulator that applies a plan's changes directly (no HTTP), and a
 * fake SCIM server (behind fakeFetch) backed by an in-memory store.
 */
import assert from 'node:assert/strict';
import { SCHEMA, type MultiValue, type ScimGroup, type ScimResource, type ScimUser } from '../../src/api/types.ts';
import type {
  Change,
  ChangeKind,
  DesiredGroup,
  DesiredUser,
  GroupRef,
  MatchKey,
  Plan,
  PlanOptions,
  SourceSnapshot,
  TargetSnapshot,
  UserRef,
} from '../../src/sync/model.ts';
import { fakeFetch, scimError, scimJson, type FakeFetch, type FakeRequest } from './helpers.ts';

export const ENT = SCHEMA.ENTERPRISE_USER;
export const CUSTOM = 'urn:example:params:scim:schemas:extension:acme:1.0:User';
export const USERS_FILE = 'users.csv';
export const GROUPS_FILE = 'groups.csv';
export const DEFAULT_KEYS: readonly MatchKey[] = ['externalId', 'userName', 'email'];

/** A source user record at `line` of users.csv. */
export function rec(
  line: number,
  attributes: Record<string, unknown>,
  extra: Partial<Omit<DesiredUser, 'attributes' | 'origin'>> = {},
): DesiredUser {
  return { attributes, origin: { file: USERS_FILE, line }, ...extra };
}

/** A source group at `line` of groups.csv. */
export function grp(line: number, displayName: string, members?: string[], externalId?: string): DesiredGroup {
  return {
    displayName,
    ...(externalId ? { externalId } : {}),
    ...(members ? { members } : {}),
    origin: { file: GROUPS_FILE, line },
  };
}

export function source(users: DesiredUser[], groups: DesiredGroup[] = []): SourceSnapshot {
  return { users, groups, fingerprint: 'sha256-of-the-source', files: [USERS_FILE] };
}

/** A target user with an ETag-style version. */
export function tuser(
  id: string,
  attributes: Partial<ScimUser> & { userName: string },
  version: string | null = `W/"${id}-1"`,
): ScimUser {
  return {
    schemas: [SCHEMA.USER],
    id,
    ...attributes,
    ...(version === null ? {} : { meta: { resourceType: 'User', version } }),
  };
}

export function tgroup(
  id: string,
  displayName: string,
  memberIds: string[] = [],
  extra: Partial<ScimGroup> = {},
): ScimGroup {
  return {
    schemas: [SCHEMA.GROUP],
    id,
    displayName,
    members: memberIds.map((value) => ({ value })),
    meta: { resourceType: 'Group', version: `W/"${id}-1"` },
    ...extra,
  };
}

export function target(users: ScimUser[], groups: ScimGroup[] = []): TargetSnapshot {
  return { users, groups };
}

export function opts(change: Partial<PlanOptions> = {}): PlanOptions {
  return {
    mode: 'full',
    missing: 'deactivate',
    deleteGroups: false,
    manageAll: false,
    owned: new Set(),
    ownedGroups: new Set(),
    matchKeys: DEFAULT_KEYS,
    ...change,
  };
}

export type ChangeOf<K extends ChangeKind> = Extract<Change, { kind: K }>;

export function ofKind<K extends ChangeKind>(plan: Plan, kind: K): ChangeOf<K>[] {
  return plan.changes.filter((c): c is ChangeOf<K> => c.kind === kind);
}

/** `kind id` for every change, sorted: a compact, order-insensitive picture of a plan. */
export function changeIds(plan: Plan): string[] {
  return plan.changes.map((c) => c.id).sort();
}

export function kinds(plan: Plan): ChangeKind[] {
  return plan.changes.map((c) => c.kind);
}

/** Deterministic Fisher–Yates shuffle with the given random source. */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const keyIn = (obj: Record<string, unknown>, name: string): string =>
  Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;

/** Splits `urn:…:User:attr` into the extension and the attribute, knowing our test extensions. */
export function splitExtension(path: string): { urn?: string; attr: string } {
  if (!/^urn:/i.test(path)) return { attr: path };
  for (const urn of [ENT, CUSTOM])
    if (path.toLowerCase().startsWith(`${urn.toLowerCase()}:`)) return { urn, attr: path.slice(urn.length + 1) };
  const i = path.lastIndexOf(':');
  return { urn: path.slice(0, i), attr: path.slice(i + 1) };
}

/**
 * Sets (or, for undefined/null, removes) a top-level or extension attribute: what a correct server does for one diff.
 */
export function setAttribute(resource: Record<string, unknown>, path: string, value: unknown): void {
  const { urn, attr } = splitExtension(path);
  let holder = resource;
  if (urn) {
    const key = keyIn(resource, urn);
    if (!isObject(resource[key])) resource[key] = {};
    holder = resource[key] as Record<string, unknown>;
  }
  const key = keyIn(holder, attr);
  if (value === undefined || value === null) delete holder[key];
  else holder[key] = structuredClone(value);
  if (urn) {
    const key2 = keyIn(resource, urn);
    if (Object.keys(resource[key2] as Record<string, unknown>).length === 0) delete resource[key2];
  }
}

export interface Simulated {
  result: TargetSnapshot;
  /** Create change id → the id the simulated server gave the new object. */
  created: Map<string, string>;
}

/**
 * Applies a plan's changes in plan order directly to a copy of the target, the
 * way a correct SCIM server would end up. A reference to a create change that
 * is not (yet) in the plan is a planner bug: it throws.
 */
export function simulate(snapshot: TargetSnapshot, plan: Plan): Simulated {
  const users = new Map(snapshot.users.map((u) => [u.id, structuredClone(u)] as const));
  const groups = new Map(snapshot.groups.map((g) => [g.id, structuredClone(g)] as const));
  const created = new Map<string, string>();
  let n = 0;
  const resolve = (ref: UserRef | GroupRef): string => {
    if ('id' in ref) return ref.id;
    const id = created.get(ref.change);
    if (id === undefined)
      throw new Error(`a change refers to ${ref.change}, which is not an earlier change of the plan`);
    return id;
  };
  const user = (id: string): ScimUser => {
    const u = users.get(id);
    if (!u) throw new Error(`a change targets user ${id}, which does not exist`);
    return u;
  };
  const group = (id: string): ScimGroup => {
    const g = groups.get(id);
    if (!g) throw new Error(`a change targets group ${id}, which does not exist`);
    return g;
  };
  for (const c of plan.changes) {
    switch (c.kind) {
      case 'create-user': {
        const id = `sim-u${++n}`;
        users.set(id, { ...structuredClone(c.resource), id } as ScimUser);
        created.set(c.id, id);
        break;
      }
      case 'update-user': {
        const u = user(c.target);
        for (const d of c.diffs) setAttribute(u, d.path, d.after);
        break;
      }
      case 'deactivate-user':
        user(c.target).active = false;
        break;
      case 'delete-user':
        user(c.target);
        users.delete(c.target);
        for (const g of groups.values()) g.members = (g.members ?? []).filter((m) => m.value !== c.target);
        break;
      case 'create-group': {
        const id = `sim-g${++n}`;
        const fresh: ScimGroup = { ...structuredClone(c.resource), id, displayName: c.displayName, members: [] };
        groups.set(id, fresh);
        created.set(c.id, id);
        break;
      }
      case 'add-member': {
        const g = group(resolve(c.group));
        const uid = resolve(c.user);
        user(uid);
        if (!(g.members ?? []).some((m) => m.value === uid)) g.members = [...(g.members ?? []), { value: uid }];
        break;
      }
      case 'remove-member': {
        const g = group(resolve(c.group));
        const uid = resolve(c.user);
        assert.ok(
          (g.members ?? []).some((m) => m.value === uid),
          `${c.id} removes ${uid}, who is not a member`,
        );
        g.members = (g.members ?? []).filter((m) => m.value !== uid);
        break;
      }
      case 'delete-group':
        group(c.target);
        groups.delete(c.target);
        break;
    }
  }
  return { result: { users: [...users.values()], groups: [...groups.values()] }, created };
}

// ---------------------------------------------------------------------------
// A fake SCIM server over an in-memory store.

export interface PatchOp {
  op: string;
  path?: string;
  value?: unknown;
}

/** Applies one PATCH operation with RFC 7644 §3.5.2 semantics (the subset our client sends). */
export function applyPatchOp(resource: Record<string, unknown>, op: PatchOp): void {
  const kind = op.op.toLowerCase();
  if (op.path === undefined) {
    assert.ok(isObject(op.value), 'a PATCH without path carries an object');
    for (const [k, v] of Object.entries(op.value)) setAttribute(resource, k, v);
    return;
  }
  const filtered = /^([A-Za-z$][\w$-]*)\[value eq ("(?:[^"\\]|\\.)*")\]$/.exec(op.path);
  if (filtered) {
    assert.equal(kind, 'remove', `only removal takes a filtered path here: ${op.path}`);
    const key = keyIn(resource, filtered[1]!);
    const id = JSON.parse(filtered[2]!) as string;
    const list = Array.isArray(resource[key]) ? (resource[key] as MultiValue[]) : [];
    resource[key] = list.filter((m) => m.value !== id);
    return;
  }
  const { urn, attr } = splitExtension(op.path);
  let holder = resource;
  if (urn) {
    const k = keyIn(resource, urn);
    if (!isObject(resource[k])) resource[k] = {};
    holder = resource[k] as Record<string, unknown>;
  }
  let name = attr;
  const dot = attr.indexOf('.');
  if (dot > 0) {
    const parent = keyIn(holder, attr.slice(0, dot));
    if (!isObject(holder[parent])) holder[parent] = {};
    holder = holder[parent] as Record<string, unknown>;
    name = attr.slice(dot + 1);
  }
  const key = keyIn(holder, name);
  const current = holder[key];
  if (kind === 'remove') {
    if (Array.isArray(current) && Array.isArray(op.value)) {
      const gone = new Set((op.value as MultiValue[]).map((v) => v.value));
      holder[key] = current.filter((m: MultiValue) => !gone.has(m.value));
    } else delete holder[key];
  } else if (kind === 'add') {
    if (Array.isArray(current) && Array.isArray(op.value)) {
      const have = new Set((current as MultiValue[]).map((m) => JSON.stringify(m)));
      holder[key] = [...current, ...(op.value as unknown[]).filter((v) => !have.has(JSON.stringify(v)))];
    } else if (isObject(current) && isObject(op.value)) holder[key] = { ...current, ...op.value };
    else holder[key] = structuredClone(op.value);
  } else if (kind === 'replace') {
    // A replace of a complex value leaves the sub-attributes it does not name (RFC 7644 §3.5.2.3).
    if (isObject(current) && isObject(op.value)) holder[key] = { ...current, ...op.value };
    else holder[key] = structuredClone(op.value);
  } else assert.fail(`unknown PATCH op ${op.op}`);
  if (urn) {
    const k = keyIn(resource, urn);
    if (Object.keys(resource[k] as Record<string, unknown>).length === 0) delete resource[k];
  }
}

export interface ServerOptions {
  /** PATCH supported; otherwise 501. */
  patch: boolean;
  /** Enforce If-Match (412 on a mismatch). */
  etag: boolean;
  /** Answer a request before the store sees it (return undefined to let it through). */
  intercept?: (req: FakeRequest) => Response | undefined;
}

export interface FakeServer {
  f: FakeFetch;
  users: Map<string, ScimUser>;
  groups: Map<string, ScimGroup>;
  snapshot(): TargetSnapshot;
  /** `METHOD /Path` of every request, in order. */
  log(): string[];
}

/** A SCIM server over copies of the given users and groups. Writes bump meta.version. */
export function scimServer(initial: TargetSnapshot, options: ServerOptions): FakeServer {
  const users = new Map(initial.users.map((u) => [u.id, structuredClone(u)] as const));
  const groups = new Map(initial.groups.map((g) => [g.id, structuredClone(g)] as const));
  let seq = 0;
  const stamp = (r: ScimResource, type: 'User' | 'Group') => {
    r.meta = { ...r.meta, resourceType: type, version: `W/"srv-${++seq}"` };
  };
  const f = fakeFetch(async (req) => {
    const hit = options.intercept?.(req);
    if (hit) return hit;
    const m = /^\/scim\/v2\/(Users|Groups)(?:\/([^/]+))?$/.exec(req.url.pathname);
    if (!m) return scimError(404, `no route ${req.url.pathname}`);
    const isUsers = m[1] === 'Users';
    const store = (isUsers ? users : groups) as Map<string, ScimResource>;
    const type = isUsers ? 'User' : 'Group';
    const id = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    const body = req.body === undefined ? undefined : (JSON.parse(req.body) as Record<string, unknown>);
    if (id === undefined) {
      if (req.method !== 'POST' || !body) return scimError(405, 'not here');
      if (isUsers && typeof body.userName === 'string') {
        const taken = [...users.values()].find(
          (u) => typeof u.userName === 'string' && u.userName.toLowerCase() === (body.userName as string).toLowerCase(),
        );
        if (taken) return scimError(409, `userName ${body.userName as string} is taken`, 'uniqueness');
      }
      const created = { ...body, id: `srv-${isUsers ? 'u' : 'g'}${++seq}` } as ScimResource;
      if (!isUsers && !Array.isArray(created.members)) created.members = [];
      stamp(created, type);
      store.set(created.id, created);
      return scimJson(created, 201);
    }
    const current = store.get(id);
    if (!current) return scimError(404, `${type} ${id} not found`);
    const ifMatch = req.headers.get('if-match');
    if (options.etag && ifMatch !== null && ifMatch !== current.meta?.version)
      return scimError(412, 'version mismatch');
    switch (req.method) {
      case 'GET':
        return scimJson(current);
      case 'PUT': {
        assert.ok(body, 'PUT has a body');
        const next = { ...body, id, meta: current.meta } as ScimResource;
        stamp(next, type);
        store.set(id, next);
        return scimJson(next);
      }
      case 'PATCH': {
        if (!options.patch) return scimError(501, 'PATCH is not implemented');
        assert.ok(body, 'PATCH has a body');
        assert.deepEqual(body.schemas, [SCHEMA.PATCH_OP]);
        const next = structuredClone(current);
        for (const op of body.Operations as PatchOp[]) applyPatchOp(next, op);
        stamp(next, type);
        store.set(id, next);
        return new Response(null, { status: 204 });
      }
      case 'DELETE':
        store.delete(id);
        if (isUsers) for (const g of groups.values()) g.members = (g.members ?? []).filter((mv) => mv.value !== id);
        return new Response(null, { status: 204 });
      default:
        return scimError(405, `${req.method} not allowed`);
    }
  });
  return {
    f,
    users,
    groups,
    snapshot: () => ({
      users: [...users.values()].map((u) => structuredClone(u)),
      groups: [...groups.values()].map((g) => structuredClone(g)),
    }),
    log: () => f.calls.map((c) => `${c.method} ${c.url.pathname.replace('/scim/v2', '')}`),
  };
}

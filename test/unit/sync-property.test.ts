/**
 * Property tests of the sync engine: random small worlds (a target, an ownership
 * record, a source derived from the target with edits, removals, additions,
 * renames, duplicates and ambiguities), planned, applied, and checked against
 * what sync promises. Applied twice over: by an in-memory simulator that
 * applies each change directly, and by applyPlan against a fake SCIM server.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScimClient } from '../../src/api/client.ts';
import { mergeAttributes } from '../../src/api/edit.ts';
import { SCHEMA, type MultiValue, type ScimGroup, type ScimUser } from '../../src/api/types.ts';
import { diffResources } from '../../src/api/update.ts';
import { applyPlan } from '../../src/sync/apply.ts';
import type {
  Change,
  DesiredGroup,
  DesiredUser,
  MatchKey,
  MissingPolicy,
  Plan,
  PlanOptions,
  SourceSnapshot,
  SyncMode,
  TargetSnapshot,
} from '../../src/sync/model.ts';
import { toPlanFile } from '../../src/sync/plan-file.ts';
import { validatePlanFile } from '../../src/sync/plan-validate.ts';
import { planSync, resourceVersion } from '../../src/sync/planner.ts';
import { identityOf, Settler } from '../../src/sync/settle.ts';
import { compactGroup, compactUser } from '../../src/sync/target.ts';
import { InputError } from '../../src/sources/resource-file.ts';
import { readSource } from '../../src/sources/source.ts';
import { registry as sourceRegistry, tempFiles } from './sync-source-helpers.ts';
import { BASE, caps, prng, recordingSleep } from './helpers.ts';
import {
  DEFAULT_KEYS,
  ENT,
  GROUPS_FILE,
  USERS_FILE,
  grp,
  rec,
  scimServer,
  shuffle,
  simulate,
  splitExtension,
} from './sync-helpers.ts';

const TITLES = ['Engineer', 'Lead', 'Manager', 'Analyst', 'Director'];
const DEPTS = ['Sales', 'Eng', 'Ops', 'HR'];
const GROUP_NAMES = ['Sales', 'Eng', 'Ops', 'Support', 'Admins', 'New Hires'];

interface World {
  seed: number;
  src: SourceSnapshot;
  tgt: TargetSnapshot;
  options: PlanOptions;
}

// ---------------------------------------------------------------------------
// Random worlds

function randomWorld(seed: number): World {
  const r = prng(seed);
  const chance = (p: number) => r() < p;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

  // The target.
  const users: ScimUser[] = [];
  const nUsers = int(0, 30);
  for (let i = 0; i < nUsers; i++) {
    const u: ScimUser = {
      schemas: [SCHEMA.USER],
      id: `t${i}`,
      userName: chance(0.2) ? `User${i}@Example.com` : `user${i}@example.com`,
    };
    if (chance(0.6)) u.externalId = `E${i}`;
    const emails: MultiValue[] = [];
    if (chance(0.8))
      emails.push({ type: 'work', value: `w${i}@example.com`, ...(chance(0.5) ? { primary: true } : {}) });
    if (chance(0.3)) emails.push({ type: 'home', value: `h${i}@example.net` });
    if (emails.length > 0) u.emails = emails;
    if (chance(0.6)) u.title = pick(TITLES);
    if (chance(0.5)) u.name = { givenName: `G${i}`, familyName: `F${i}` };
    if (chance(0.3)) u.phoneNumbers = [{ type: 'mobile', value: `+1 555 ${1000 + i}` }];
    if (chance(0.2)) u.nickName = `n${i}`;
    if (chance(0.4)) u[ENT] = { department: pick(DEPTS), ...(chance(0.5) ? { costCenter: `CC${i}` } : {}) };
    const a = r();
    if (a < 0.2) u.active = false;
    else if (a < 0.8) u.active = true;
    const v = r();
    if (v < 0.7) u.meta = { resourceType: 'User', version: `W/"${i}-1"` };
    else if (v < 0.85)
      u.meta = { resourceType: 'User', lastModified: `2025-01-${String(1 + (i % 28)).padStart(2, '0')}T00:00:00Z` };
    users.push(u);
  }
  // Sometimes two target users share an address (a record with only that e-mail is ambiguous).
  const shareEmail = users.length >= 2 && chance(0.15);
  if (shareEmail) {
    const [a, b] = shuffle(users, r);
    for (const u of [a!, b!])
      u.emails = [
        ...(u.emails ?? []),
        { type: 'other', value: chance(0.5) ? 'shared@example.org' : 'Shared@Example.org' },
      ];
  }
  // Sometimes a case-sensitive target has two userNames that differ only in case.
  const twins = users.length >= 1 && chance(0.25);
  if (twins) {
    for (const userName of ['Twin@example.com', 'twin@example.com'])
      users.push({
        schemas: [SCHEMA.USER],
        id: `t${users.length}`,
        userName,
        active: true,
        meta: { resourceType: 'User', version: `W/"${userName}"` },
      });
  }
  const groups: ScimGroup[] = shuffle(GROUP_NAMES.slice(0, 5), r)
    .slice(0, int(0, 4))
    .map((name, j) => ({
      schemas: [SCHEMA.GROUP],
      id: `g${j}`,
      displayName: name,
      members: [
        ...users.filter(() => chance(0.3)).map((u) => ({ value: u.id })),
        ...(chance(0.3) ? [{ value: `svc-${j}` }] : []),
      ],
      meta: { resourceType: 'Group', version: `W/"g${j}-1"` },
    }));

  // Options.
  const modes: SyncMode[] = ['full', 'full', 'full', 'attributes', 'groups'];
  const policies: MissingPolicy[] = ['deactivate', 'deactivate', 'delete', 'leave'];
  const keySets: Array<readonly MatchKey[]> = [
    DEFAULT_KEYS,
    DEFAULT_KEYS,
    DEFAULT_KEYS,
    ['userName'],
    ['externalId', 'userName'],
    ['userName', 'email'],
  ];
  const options: PlanOptions = {
    mode: pick(modes),
    missing: pick(policies),
    deleteGroups: chance(0.3),
    manageAll: chance(0.1),
    owned: new Set(users.filter(() => chance(0.5)).map((u) => u.id)),
    ownedGroups: new Set(groups.filter(() => chance(0.5)).map((g) => g.id)),
    matchKeys: pick(keySets),
  };

  // The source: derived from the target.
  const style = pick(['users', 'users', 'groups', 'mixed', 'none'] as const);
  const groupList = () =>
    style === 'users' || style === 'mixed'
      ? GROUP_NAMES.filter(() => chance(0.25)).map((n) => (chance(0.2) ? n.toLowerCase() : n))
      : undefined;
  const records: DesiredUser[] = [];
  let line = 2;
  const add = (attributes: Record<string, unknown>, extra: Partial<DesiredUser> = {}) => {
    const groupsOf = groupList();
    records.push(rec(line++, attributes, { ...(groupsOf ? { groups: groupsOf } : {}), ...extra }));
  };
  const inSource = new Set<string>();
  users.forEach((u, i) => {
    if (!chance(0.7)) return; // gone from the source
    inSource.add(u.id);
    const a: Record<string, unknown> = {};
    if (chance(0.9))
      a.userName = chance(0.1) ? `renamed${i}@example.com` : chance(0.2) ? u.userName.toUpperCase() : u.userName;
    if (u.externalId && chance(0.75)) a.externalId = u.externalId;
    else if (chance(0.05)) a.externalId = `X${i}`;
    if (chance(0.6)) {
      const work = chance(0.2) ? `w${i}.new@example.com` : chance(0.2) ? `W${i}@EXAMPLE.com` : `w${i}@example.com`;
      a.emails = [{ type: 'work', value: work, ...(chance(0.5) ? { primary: true } : {}) }];
    }
    if (chance(0.5)) a.title = chance(0.15) ? null : pick(TITLES);
    if (chance(0.3)) a.name = { givenName: `G${i}${chance(0.5) ? 'x' : ''}` };
    if (chance(0.3)) a[ENT] = { department: pick(DEPTS) };
    if (chance(0.15)) a.active = chance(0.5);
    add(a);
  });
  for (let k = 0, n = int(0, 5); k < n; k++) {
    const a: Record<string, unknown> = { userName: `new${k}@example.com` };
    if (chance(0.5)) a.externalId = `N${k}`;
    if (chance(0.5)) a.emails = [{ type: 'work', value: `new${k}@example.com`, primary: true }];
    if (chance(0.5)) a.title = pick(TITLES);
    if (chance(0.3)) a[ENT] = { department: pick(DEPTS) };
    add(a, chance(0.5) ? { onlyOnCreate: { password: `Initial-${k}` } } : {});
  }
  // Trouble: a duplicate key, a record that claims another's user, a record with no key, an ambiguous e-mail.
  if (records.length > 0 && chance(0.15)) {
    const other = pick(records);
    if (typeof other.attributes.userName === 'string')
      add({
        userName: chance(0.5) ? other.attributes.userName.toLowerCase() : other.attributes.userName,
        title: 'Dup',
      });
  }
  if (users.length > 0 && chance(0.15)) {
    const t = pick(users);
    if (t.externalId) add({ externalId: t.externalId, userName: `claim-${t.id}@example.com` });
  }
  if (chance(0.1)) add({ title: 'Nobody', nickName: 'no key' });
  if (shareEmail && chance(0.7)) add({ emails: [{ type: 'work', value: 'shared@example.org' }], title: 'Shared' });
  // Ambiguous by userName, while its e-mail names someone else: every user it might mean is protected.
  if (twins && chance(0.8)) {
    // Preferably someone no longer in the source: only this record's e-mail still names them.
    const withEmail = users.filter((u) => u.emails?.length);
    const gone = withEmail.filter((u) => !inSource.has(u.id));
    const other = gone.length > 0 ? pick(gone) : withEmail.length > 0 ? pick(withEmail) : undefined;
    add({
      userName: 'TWIN@example.com',
      ...(other ? { emails: [{ type: 'work', value: other.emails![0]!.value }] } : {}),
      title: 'Twin',
    });
  }

  // Source groups.
  const sourceGroups: DesiredGroup[] = [];
  if (style === 'groups' || style === 'mixed') {
    let gl = 2;
    for (const name of GROUP_NAMES) {
      if (!chance(0.5)) continue;
      if (style === 'mixed' && chance(0.5)) {
        sourceGroups.push(grp(gl++, name));
        continue;
      }
      const members: string[] = [];
      for (const m of records) {
        if (!chance(0.35)) continue;
        const key = options.matchKeys.map((k) => firstKey(m, k)).find((v) => v !== undefined);
        if (key !== undefined) members.push(chance(0.2) ? key.toUpperCase() : key);
      }
      if (chance(0.1)) members.push('ghost@example.com');
      sourceGroups.push(grp(gl++, name, members));
    }
  }
  return {
    seed,
    src: { users: shuffle(records, r), groups: sourceGroups, fingerprint: `seed-${seed}`, files: [USERS_FILE] },
    tgt: { users, groups },
    options,
  };
}

// ---------------------------------------------------------------------------
// An independent oracle: which records are good, and which user each matches.

/** A record's value for a key (as the source gives it); e-mail is the primary address, else the first. */
function firstKey(r: DesiredUser, key: MatchKey): string | undefined {
  const a = r.attributes;
  if (key === 'email') {
    const emails = Array.isArray(a.emails) ? (a.emails as MultiValue[]) : [];
    const v = (emails.find((e) => e.primary === true) ?? emails[0])?.value;
    return v ? v : undefined;
  }
  const v = a[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

const normal = (key: MatchKey, v: string) => (key === 'externalId' ? v : v.toLowerCase());

function targetHas(t: ScimUser, key: MatchKey, v: string): boolean {
  if (key === 'externalId') return t.externalId === v;
  if (key === 'userName') return t.userName.toLowerCase() === v.toLowerCase();
  return (t.emails ?? []).some((e) => typeof e.value === 'string' && e.value.toLowerCase() === v.toLowerCase());
}

interface Oracle {
  bad: Set<DesiredUser>;
  /** Good records → the target user they match (undefined: a new user). */
  match: Map<DesiredUser, string | undefined>;
  matchedIds: Set<string>;
  /** Target users some record (good or bad) names by some key. */
  named: Set<string>;
  /** Target users a bad record names. */
  namedByBad: Set<string>;
}

function oracle(w: World): Oracle {
  const keys = w.options.matchKeys;
  const recs = w.src.users;
  const bad = new Set<DesiredUser>();
  for (const r of recs) if (!keys.some((k) => firstKey(r, k))) bad.add(r);
  for (const k of keys) {
    const by = new Map<string, DesiredUser[]>();
    for (const r of recs) {
      const v = firstKey(r, k);
      if (v) by.set(normal(k, v), [...(by.get(normal(k, v)) ?? []), r]);
    }
    for (const list of by.values()) if (list.length > 1) for (const r of list) bad.add(r);
  }
  const candidate = new Map<DesiredUser, string | undefined>();
  for (const r of recs) {
    if (bad.has(r)) continue;
    let found: string | undefined;
    for (const k of keys) {
      const v = firstKey(r, k);
      if (!v) continue;
      const hits = w.tgt.users.filter((t) => targetHas(t, k, v));
      if (hits.length > 1) bad.add(r);
      if (hits.length === 1) found = hits[0]!.id;
      if (hits.length > 0) break;
    }
    if (!bad.has(r)) candidate.set(r, found);
  }
  const claims = new Map<string, DesiredUser[]>();
  for (const [r, id] of candidate) if (id !== undefined) claims.set(id, [...(claims.get(id) ?? []), r]);
  for (const list of claims.values()) if (list.length > 1) for (const r of list) bad.add(r);
  const match = new Map([...candidate].filter(([r]) => !bad.has(r)));
  const named = new Set<string>();
  const namedByBad = new Set<string>();
  for (const r of recs) {
    for (const k of keys) {
      const v = firstKey(r, k);
      if (!v) continue;
      for (const t of w.tgt.users) {
        if (!targetHas(t, k, v)) continue;
        named.add(t.id);
        if (bad.has(r)) namedByBad.add(t.id);
      }
    }
  }
  const matchedIds = new Set([...match.values()].filter((id): id is string => id !== undefined));
  return { bad, match, matchedIds, named, namedByBad };
}

// ---------------------------------------------------------------------------
// The properties

const lowerIdentity = (r: Record<string, unknown>): Record<string, unknown> => {
  const out = { ...r };
  if (typeof out.userName === 'string') out.userName = out.userName.toLowerCase();
  if (Array.isArray(out.emails))
    out.emails = (out.emails as MultiValue[]).map((e) =>
      typeof e.value === 'string' ? { ...e, value: e.value.toLowerCase() } : e,
    );
  return out;
};

/** The attributes a record manages, laid over `user` (mergeAttributes), change nothing that matters. */
function carries(user: ScimUser, attributes: Record<string, unknown>): string[] {
  return diffResources(lowerIdentity(user), lowerIdentity(mergeAttributes(user, attributes))).map((d) => d.path);
}

const json = (v: unknown) => JSON.stringify(v);
const memberIds = (g: ScimGroup | undefined) => new Set((g?.members ?? []).map((m) => m.value));

/** Checks a plan on its own: ids, versions, summary, and that updates only name provided attributes. */
function checkPlan(w: World, plan: Plan, o: Oracle, where: string): void {
  // Whatever the planner makes, sync apply accepts as a plan file (no false refusal).
  const file = toPlanFile(plan, {
    createdAt: 'now',
    profile: 'p',
    url: BASE,
    mode: w.options.mode,
    options: {
      missing: w.options.missing,
      deleteGroups: w.options.deleteGroups,
      manageAll: w.options.manageAll,
      matchKeys: w.options.matchKeys,
    },
    source: { fingerprint: 'f', files: [USERS_FILE], records: w.src.users.length },
  });
  assert.equal(
    validatePlanFile(`${where}.json`, JSON.parse(JSON.stringify(file))).edited,
    false,
    `${where}: the plan file validates`,
  );
  const ids = plan.changes.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length, `${where}: change ids are unique`);
  // Problems on user records are exactly the oracle's bad records.
  const problemLines = new Set(plan.problems.filter((p) => p.origin.file === USERS_FILE).map((p) => p.origin.line));
  // In mode 'groups' nobody is created: a new record that names groups is reported, not silently skipped.
  const unplannable =
    w.options.mode === 'groups'
      ? [...o.match].filter(([r, id]) => id === undefined && (r.groups?.length ?? 0) > 0).map(([r]) => r)
      : [];
  const expectedLines = new Set([...o.bad, ...unplannable].map((r) => r.origin.line));
  assert.deepEqual(
    [...problemLines].sort((a, b) => a - b),
    [...expectedLines].sort((a, b) => a - b),
    `${where}: problem records`,
  );
  const ghostRefs =
    w.options.mode === 'attributes'
      ? 0
      : w.src.groups.reduce((n, g) => n + (g.members ?? []).filter((m) => m === 'ghost@example.com').length, 0);
  assert.equal(
    plan.problems.filter((p) => p.origin.file === GROUPS_FILE).length,
    ghostRefs,
    `${where}: group problems`,
  );
  assert.deepEqual(new Set(plan.matched), o.matchedIds, `${where}: matched`);

  // Versions: exactly the touched target objects, as they were.
  const touched = new Set<string>();
  for (const c of plan.changes) {
    if (c.kind === 'update-user' || c.kind === 'deactivate-user' || c.kind === 'delete-user')
      touched.add(`User/${c.target}`);
    if ((c.kind === 'add-member' || c.kind === 'remove-member') && 'id' in c.group) touched.add(`Group/${c.group.id}`);
    if (c.kind === 'delete-group') touched.add(`Group/${c.target}`);
  }
  assert.deepEqual(new Set(Object.keys(plan.versions)), touched, `${where}: version keys`);
  for (const [key, version] of Object.entries(plan.versions)) {
    const [kind, id] = key.split('/') as ['User' | 'Group', string];
    const obj = kind === 'User' ? w.tgt.users.find((u) => u.id === id) : w.tgt.groups.find((g) => g.id === id);
    assert.ok(obj, `${where}: ${key} exists`);
    assert.equal(version, resourceVersion(obj), `${where}: ${key} version`);
  }

  // Summary.
  const count = (k: Change['kind']) => plan.changes.filter((c) => c.kind === k).length;
  const managed = w.tgt.users.filter(
    (u) => w.options.manageAll || w.options.owned.has(u.id) || o.matchedIds.has(u.id),
  ).length;
  // Updates that turn an active user inactive (the source says active=false) count as deactivations by the source.
  const bySource = plan.changes.filter(
    (c) =>
      c.kind === 'update-user' && c.diffs.some((d) => d.path === 'active' && d.after === false && d.before !== false),
  ).length;
  // The bases of the membership and group thresholds bound what the plan removes and deletes.
  const { managedMemberships, managedGroups, ...counted } = plan.summary;
  assert.ok(
    Number.isInteger(managedMemberships) && managedMemberships! >= count('remove-member'),
    `${where}: managedMemberships ${managedMemberships} ≥ removals`,
  );
  assert.ok(
    Number.isInteger(managedGroups) && managedGroups! >= count('delete-group'),
    `${where}: managedGroups ${managedGroups} ≥ group deletions`,
  );
  assert.deepEqual(
    counted,
    {
      create: count('create-user'),
      update: count('update-user'),
      deactivate: count('deactivate-user'),
      delete: count('delete-user'),
      memberships: count('add-member') + count('remove-member'),
      groupsCreated: count('create-group'),
      groupsDeleted: count('delete-group'),
      managed,
      ...(bySource > 0 ? { deactivatedBySource: bySource } : {}),
    },
    `${where}: summary`,
  );

  // Modes.
  const userKinds = plan.changes.filter((c) =>
    ['create-user', 'update-user', 'deactivate-user', 'delete-user'].includes(c.kind),
  );
  const groupKinds = plan.changes.filter((c) =>
    ['create-group', 'add-member', 'remove-member', 'delete-group'].includes(c.kind),
  );
  if (w.options.mode === 'groups') assert.deepEqual(userKinds, [], `${where}: mode groups changes no user`);
  if (w.options.mode === 'attributes') assert.deepEqual(groupKinds, [], `${where}: mode attributes changes no group`);

  // A problem record is neither created nor used to update.
  const badLines = new Set([...o.bad].map((r) => r.origin.line));
  for (const c of plan.changes) {
    if ((c.kind === 'create-user' || c.kind === 'update-user') && badLines.has(c.origin.line))
      assert.fail(`${where}: ${c.id} comes from a problem record`);
  }
  // Every good record is planned: a create when new, an update or nothing when matched (never both).
  for (const [r, id] of o.match) {
    const creates = plan.changes.filter((c) => c.kind === 'create-user' && c.origin.line === r.origin.line).length;
    assert.equal(
      creates,
      id === undefined && w.options.mode !== 'groups' ? 1 : 0,
      `${where}: creates for line ${r.origin.line}`,
    );
  }

  // An update names only attributes its record provides (and active, to reactivate).
  for (const u of plan.changes) {
    if (u.kind !== 'update-user') continue;
    const r = w.src.users.find((x) => x.origin.line === u.origin.line)!;
    assert.equal(o.match.get(r), u.target, `${where}: ${u.id} is the oracle's match`);
    for (const d of u.diffs) {
      const { urn, attr } = splitExtension(d.path);
      const provided = urn
        ? Object.keys((r.attributes[urn] as Record<string, unknown> | undefined) ?? {}).some(
            (k) => k.toLowerCase() === attr.toLowerCase(),
          )
        : Object.keys(r.attributes).some((k) => k.toLowerCase() === attr.toLowerCase()) ||
          (attr === 'active' && u.reactivate);
      assert.ok(provided, `${where}: ${u.id} changes ${d.path}, which the source does not provide`);
    }
  }
  // Removals only of users the source lists (matched by a good record).
  for (const c of plan.changes)
    if (c.kind === 'remove-member')
      assert.ok('id' in c.user && o.matchedIds.has(c.user.id), `${where}: ${c.id} removes a listed user only`);
}

/** Checks the target after applying: convergence, the missing-user policy, and that nothing unmanaged moved. */
function checkResult(
  w: World,
  plan: Plan,
  o: Oracle,
  result: TargetSnapshot,
  created: Map<string, string>,
  where: string,
): void {
  const before = new Map(w.tgt.users.map((u) => [u.id, u]));
  const after = new Map(result.users.map((u) => [u.id, u]));
  const mode = w.options.mode;
  const managed = (id: string) => w.options.manageAll || w.options.owned.has(id) || o.matchedIds.has(id);

  // (a) every good source record is a user with its managed attributes.
  for (const [r, id] of o.match) {
    const label = `${where}: record at line ${r.origin.line}`;
    if (mode === 'groups') {
      assert.ok(
        !plan.changes.some((c) => c.kind === 'create-user' && c.origin.line === r.origin.line),
        `${label}: no create in mode groups`,
      );
      continue;
    }
    let finalId = id;
    if (id === undefined) {
      const c = plan.changes.find((x) => x.kind === 'create-user' && x.origin.line === r.origin.line);
      assert.ok(c, `${label}: a create`);
      finalId = created.get(c.id);
    }
    const user = after.get(finalId!);
    assert.ok(user, `${label}: user ${finalId} exists`);
    assert.deepEqual(carries(user, r.attributes), [], `${label}: carries its attributes`);
    if (id !== undefined && r.attributes.active === undefined && before.get(id)!.active === false)
      assert.equal(user.active, true, `${label}: reactivated`);
    if (r.attributes.active === false) assert.equal(user.active, false, `${label}: stays inactive`);
  }

  // (b) managed users that no record names follow the missing-user policy.
  for (const t of w.tgt.users) {
    if (!managed(t.id) || o.named.has(t.id)) continue;
    const label = `${where}: missing managed user ${t.id}`;
    if (mode === 'groups' || w.options.missing === 'leave')
      assert.equal(json(after.get(t.id)), json(t), `${label}: left alone`);
    else if (w.options.missing === 'delete') assert.equal(after.has(t.id), false, `${label}: deleted`);
    else {
      assert.equal(after.get(t.id)?.active, false, `${label}: inactive`);
      const rest = (u: ScimUser | undefined) => ({ ...u, active: undefined, meta: undefined, schemas: undefined });
      assert.deepEqual(rest(after.get(t.id)), rest(t), `${label}: nothing else changed`);
    }
  }

  // (c) unmanaged users, and (e) users only bad records name, are byte-for-byte unchanged.
  for (const t of w.tgt.users) {
    if (o.matchedIds.has(t.id)) continue;
    if (!managed(t.id)) assert.equal(json(after.get(t.id)), json(t), `${where}: unmanaged user ${t.id} unchanged`);
    if (o.namedByBad.has(t.id))
      assert.equal(json(after.get(t.id)), json(t), `${where}: protected user ${t.id} unchanged`);
  }

  // Groups: nobody the source does not list leaves a group; unnamed, unowned groups stay as they were.
  const deletedUsers = new Set(w.tgt.users.filter((u) => !after.has(u.id)).map((u) => u.id));
  const finalGroups = new Map(result.groups.map((g) => [g.id, g]));
  const named = new Set([
    ...w.src.groups.map((g) => g.displayName.toLowerCase()),
    ...w.src.users.flatMap((u) => u.groups ?? []).map((n) => n.toLowerCase()),
  ]);
  for (const g of w.tgt.groups) {
    const now = finalGroups.get(g.id);
    if (!now) {
      assert.ok(
        mode !== 'attributes' &&
          w.options.deleteGroups &&
          (w.options.manageAll || w.options.ownedGroups.has(g.id)) &&
          !named.has(g.displayName.toLowerCase()),
        `${where}: group ${g.id} deleted only when allowed`,
      );
      continue;
    }
    const members = memberIds(now);
    for (const m of memberIds(g)) {
      if (m === undefined || deletedUsers.has(m) || o.matchedIds.has(m)) continue;
      assert.ok(members.has(m), `${where}: ${m}, whom the source does not list, stays in ${g.displayName}`);
    }
    if (mode === 'attributes' || (!named.has(g.displayName.toLowerCase()) && !w.options.ownedGroups.has(g.id))) {
      assert.deepEqual(
        members,
        new Set([...memberIds(g)].filter((m) => !deletedUsers.has(m!))),
        `${where}: unmanaged group ${g.displayName} unchanged`,
      );
    }
  }

  // Desired memberships are there.
  if (mode !== 'attributes') {
    const finalIdOf = (r: DesiredUser): string | undefined => {
      const id = o.match.get(r);
      if (id !== undefined) return id;
      const c = plan.changes.find((x) => x.kind === 'create-user' && x.origin.line === r.origin.line);
      return c ? created.get(c.id) : undefined;
    };
    const groupNamed = (name: string) =>
      result.groups.filter((g) => g.displayName.toLowerCase() === name.toLowerCase());
    const explicit = new Set(w.src.groups.filter((g) => g.members).map((g) => g.displayName.toLowerCase()));
    for (const [r] of o.match) {
      const id = finalIdOf(r);
      if (id === undefined) continue;
      for (const name of r.groups ?? []) {
        if (explicit.has(name.toLowerCase())) continue;
        const [g, ...more] = groupNamed(name);
        assert.equal(more.length, 0);
        assert.ok(g && memberIds(g).has(id), `${where}: line ${r.origin.line} is in ${name}`);
      }
    }
    for (const dg of w.src.groups) {
      for (const ref of dg.members ?? []) {
        const r = w.options.matchKeys
          .map((k) =>
            w.src.users.find((u) => firstKey(u, k) !== undefined && normal(k, firstKey(u, k)!) === normal(k, ref)),
          )
          .find((x) => x);
        if (!r || o.bad.has(r)) continue;
        const id = finalIdOf(r);
        if (id === undefined) continue;
        assert.ok(memberIds(groupNamed(dg.displayName)[0]).has(id), `${where}: ${ref} is in ${dg.displayName}`);
      }
    }
  }

  // (d) planning again, owning what was created and matched, changes nothing.
  const createdGroups = plan.changes.filter((c) => c.kind === 'create-group').map((c) => created.get(c.id)!);
  const createdUsers = plan.changes.filter((c) => c.kind === 'create-user').map((c) => created.get(c.id)!);
  const again = planSync(w.src, result, {
    ...w.options,
    owned: new Set([...w.options.owned, ...createdUsers, ...plan.matched]),
    ownedGroups: new Set([...w.options.ownedGroups, ...createdGroups, ...plan.matchedGroups]),
  });
  assert.deepEqual(again.changes, [], `${where}: a second plan changes nothing`);
}

const describeWorld = (w: World) =>
  `seed ${w.seed} (${w.tgt.users.length} users, ${w.tgt.groups.length} groups, ` +
  `${w.src.users.length} records, ${w.src.groups.length} source groups; mode ` +
  `${w.options.mode}, missing ${w.options.missing}, keys ` +
  `${w.options.matchKeys.join(',')}${w.options.manageAll ? ', manageAll' : ''}` +
  `${w.options.deleteGroups ? ', deleteGroups' : ''})`;

describe('sync properties (in-memory simulator)', () => {
  test('200 random worlds: plan, apply, converge', () => {
    const stats = { changes: 0, problems: 0, creates: 0, updates: 0, leavers: 0, memberships: 0, groupOps: 0 };
    for (let seed = 1; seed <= 200; seed++) {
      const w = randomWorld(seed);
      const where = describeWorld(w);
      const snapshot = structuredClone({ src: w.src, tgt: w.tgt });
      const plan = planSync(w.src, w.tgt, w.options);
      assert.deepEqual({ src: w.src, tgt: w.tgt }, snapshot, `${where}: the planner modifies nothing`);
      assert.deepEqual(planSync(w.src, w.tgt, w.options), plan, `${where}: deterministic`);
      const o = oracle(w);
      checkPlan(w, plan, o, where);
      const { result, created } = simulate(w.tgt, plan);
      checkResult(w, plan, o, result, created, where);
      stats.changes += plan.changes.length;
      stats.problems += plan.problems.length;
      stats.creates += plan.summary.create;
      stats.updates += plan.summary.update;
      stats.leavers += plan.summary.deactivate + plan.summary.delete;
      stats.memberships += plan.summary.memberships;
      stats.groupOps += plan.summary.groupsCreated + plan.summary.groupsDeleted;
    }
    // The worlds exercise every part of the planner.
    for (const [k, v] of Object.entries(stats)) assert.ok(v >= 20, `${k}: ${v}`);
  });
});

describe('sync properties: the target as readTarget keeps it', () => {
  test('200 random worlds: compacted users and groups give the very same plan', () => {
    let versioned = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const w = randomWorld(seed);
      const compact = { users: w.tgt.users.map(compactUser), groups: w.tgt.groups.map(compactGroup) };
      for (const [i, u] of compact.users.entries()) {
        assert.equal(resourceVersion(u), resourceVersion(w.tgt.users[i]!));
        assert.equal(u.schemas, undefined);
      }
      const plan = planSync(w.src, compact, w.options);
      assert.deepEqual(plan, planSync(w.src, w.tgt, w.options), describeWorld(w));
      versioned += Object.keys(plan.versions).length;
    }
    assert.ok(versioned >= 20);
  });
});

describe('sync properties: settling the target against the source while it is read', () => {
  test('200 random worlds: settled users kept as their identity, released records, the very same plan', () => {
    let settledCount = 0;
    let releasedCount = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const w = randomWorld(seed);
      const src = structuredClone(w.src);
      const settler = new Settler(src, w.options.matchKeys);
      const settled = new Set<string>();
      const users = w.tgt.users.map(compactUser).map((u) => {
        if (!settler.settle(u)) return u;
        settled.add(u.id);
        return identityOf(u);
      });
      settler.release();
      settledCount += settled.size;
      releasedCount += src.users.filter(
        (u, i) => Object.keys(u.attributes).length < Object.keys(w.src.users[i]!.attributes).length,
      ).length;
      const plan = planSync(src, { users, groups: w.tgt.groups.map(compactGroup), settled }, w.options);
      assert.deepEqual(plan, planSync(w.src, w.tgt, w.options), describeWorld(w));
    }
    // The worlds settle users and release records (and leave others whole).
    assert.ok(settledCount >= 200, `settled ${settledCount}`);
    assert.ok(releasedCount >= 30, `released ${releasedCount}`);
  });
});

describe('sync properties: a source read lazily (its records kept in the file until settled)', () => {
  const file = tempFiles('scimctl-lazy-');
  test(
    '200 random worlds written as SCIM JSON: the very same snapshot after release, ' +
      'and the very same plan, as a source read in full',
    async () => {
      let read = 0;
      let loaded = 0;
      for (let seed = 1; seed <= 200; seed++) {
        const w = randomWorld(seed);
        const r = prng(seed * 7919);
        // The world's records as an export would have them, some with multi-byte text, a byte order mark now and then.
        const resources = w.src.users.map((u, i) => ({
          schemas: [SCHEMA.USER],
          id: `s${i}`,
          ...u.attributes,
          ...u.onlyOnCreate,
          ...(r() < 0.3 ? { nickName: `Zoë €${i} 𝄞` } : {}),
          ...(u.groups ? { groups: u.groups.map((display) => ({ display })) } : {}),
        }));
        const text =
          `${r() < 0.3 ? '\uFEFF' : ''}{"schemas": ["${SCHEMA.LIST_RESPONSE}"], "note": ` +
          `"ç€",\n"Resources": ` +
          `[\n${resources.map((x) => JSON.stringify(x, null, r() < 0.2 ? 1 : 0)).join(',\n')}\n]}`;
        const path = await file(`world-${seed}.json`, text);
        let eager: SourceSnapshot;
        try {
          eager = await readSource({ path }, sourceRegistry);
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          await assert.rejects(
            readSource({ path }, sourceRegistry, { lazy: true }),
            (l: unknown) => l instanceof InputError && l.message === e.message,
          );
          continue;
        }
        if (eager.users.length === 0) continue;
        read++;
        const settleWith = (src: SourceSnapshot) => {
          const settler = new Settler(src, w.options.matchKeys);
          const settled = new Set<string>();
          const users = w.tgt.users
            .map(compactUser)
            .map((u) => (settler.settle(u) ? (settled.add(u.id), identityOf(u)) : u));
          settler.release();
          return planSync(src, { users, groups: w.tgt.groups.map(compactGroup), settled }, w.options);
        };
        const lazy = await readSource({ path }, sourceRegistry, { lazy: true });
        assert.ok(lazy.users.every((u, i) => u.stored === i));
        const plan = settleWith(lazy);
        const eagerPlan = settleWith(eager);
        assert.deepEqual(lazy, eager, describeWorld(w));
        assert.deepEqual(plan, eagerPlan, describeWorld(w));
        loaded += lazy.users.filter((u) => Object.keys(u.attributes).length > 4).length;
      }
      // The worlds read and load records (and settle others).
      assert.ok(read >= 50 && loaded >= 100, `${read} read, ${loaded} loaded`);
    },
  );
});

describe('sync properties (applyPlan against a fake SCIM server)', () => {
  const variants = [
    { name: 'PATCH + ETags', patch: true, etag: true },
    { name: 'PATCH, no ETags', patch: true, etag: false },
    { name: 'PUT fallback + ETags', patch: false, etag: true },
    { name: 'PUT fallback, no ETags', patch: false, etag: false },
  ];
  for (const v of variants) {
    test(`${v.name}: converges like the simulator`, async () => {
      let applied = 0;
      for (const seed of [3, 11, 17, 29, 42, 57, 64, 88, 101, 150]) {
        const w = randomWorld(seed);
        const where = `${v.name}, ${describeWorld(w)}`;
        const plan = planSync(w.src, w.tgt, w.options);
        const o = oracle(w);
        const capabilities = caps((c) => {
          c.patch = v.patch;
          c.etag = v.etag;
        });
        const server = scimServer(w.tgt, { patch: v.patch, etag: v.etag });
        const client = new ScimClient({
          baseUrl: BASE,
          fetch: server.f.fetch,
          sleep: recordingSleep().sleep,
          capabilities,
          retries: 0,
        });
        const results = await applyPlan(client, capabilities, plan, { concurrency: 3, bulk: 'never' });
        const failed = results.filter((r) => r.status !== 'applied');
        assert.deepEqual(failed, [], `${where}: every change applied`);
        applied += results.length;
        const created = new Map(results.filter((r) => r.createdId).map((r) => [r.id, r.createdId!]));
        checkResult(w, plan, o, server.snapshot(), created, where);
        // The same end state as the simulator, up to server-assigned ids and metadata.
        const sim = simulate(w.tgt, plan);
        const canonical = (t: TargetSnapshot, ids: Map<string, string>) => {
          const rename = new Map([...ids].map(([change, id]) => [id, change]));
          const name = (id: string) => rename.get(id) ?? id;
          const strip = (r: Record<string, unknown>) => {
            const { meta: _m, schemas: _s, id, ...rest } = r;
            return { id: name(id as string), ...rest };
          };
          return {
            users: t.users.map((u) => strip(u)).sort((a, b) => a.id.localeCompare(b.id)),
            groups: t.groups
              .map((g) => ({ ...strip(g), members: (g.members ?? []).map((m) => name(m.value!)).sort() }))
              .sort((a, b) => a.id.localeCompare(b.id)),
          };
        };
        assert.deepEqual(
          canonical(server.snapshot(), created),
          canonical(sim.result, sim.created),
          `${where}: server = simulator`,
        );
      }
      assert.ok(applied >= 50, `applied ${applied} changes`);
    });
  }
});

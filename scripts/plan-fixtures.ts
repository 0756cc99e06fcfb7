/**
 * Writes the plan-file cases of the bad-input corpus (test/fixtures/bad-input/plans/): a
 * valid plan, then one flaw per file. Every flaw is found by `sync apply` before it resolves
 * a profile or reads the target (structure, kinds, references, duplicates, counts, digest),
 * so the cases hold whatever the server of the runner holds. Each case but the digest ones
 * carries a digest of its own content: only the flaw it is about can refuse it.
 *
 *   node --import tsx scripts/plan-fixtures.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Change, Plan } from '../src/sync/model.ts';
import { summaryCounts } from '../src/sync/counts.ts';
import { planDigest, toPlanFile, type PlanFile } from '../src/sync/plan-file.ts';

const DIR = fileURLToPath(new URL('../test/fixtures/bad-input/plans/', import.meta.url));
const ARGS = ['sync', 'apply', '{file}', '--yes'];

export function base(): PlanFile {
  const changes: Change[] = [
    {
      id: 'create-user:new.hire@example.com',
      kind: 'create-user',
      userName: 'new.hire@example.com',
      resource: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'new.hire@example.com' },
      origin: { file: 'hr.csv', line: 2 },
    },
    {
      id: 'update-user:u1',
      kind: 'update-user',
      target: 'u1',
      userName: 'ann@example.com',
      diffs: [{ path: 'title', before: 'Engineer', after: 'Lead' }],
      reactivate: false,
      origin: { file: 'hr.csv', line: 3 },
    },
    { id: 'deactivate-user:u2', kind: 'deactivate-user', target: 'u2', userName: 'leaver@example.com' },
    {
      id: 'create-group:Fixtures',
      kind: 'create-group',
      displayName: 'Fixtures',
      resource: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Fixtures' },
      origin: { file: 'hr.csv', line: 2 },
    },
    {
      id: 'add-member:create-group:Fixtures:create-user:new.hire@example.com',
      kind: 'add-member',
      group: { change: 'create-group:Fixtures' },
      groupName: 'Fixtures',
      user: { change: 'create-user:new.hire@example.com' },
      userName: 'new.hire@example.com',
    },
    {
      id: 'add-member:g1:u1',
      kind: 'add-member',
      group: { id: 'g1' },
      groupName: 'Sales',
      user: { id: 'u1' },
      userName: 'ann@example.com',
    },
    {
      id: 'remove-member:g1:u3',
      kind: 'remove-member',
      group: { id: 'g1' },
      groupName: 'Sales',
      user: { id: 'u3' },
      userName: 'bob@example.com',
    },
    { id: 'delete-group:g2', kind: 'delete-group', target: 'g2', displayName: 'Old' },
  ];
  const plan: Plan = {
    changes,
    problems: [],
    versions: { 'User/u1': 'W/"u1-1"', 'User/u2': 'W/"u2-1"', 'Group/g1': 'W/"g1-1"', 'Group/g2': 'W/"g2-1"' },
    matched: ['u1', 'u3'],
    matchedGroups: ['g1'],
    summary: {
      ...summaryCounts(changes),
      managed: 40,
      managedMemberships: 30,
      managedGroups: 10,
    },
  };
  return JSON.parse(
    JSON.stringify(
      toPlanFile(plan, {
        createdAt: '2026-12-01T09:00:00.000Z',
        profile: 'bad-input-fixtures',
        url: 'http://127.0.0.1:9/scim/v2',
        mode: 'full',
        options: {
          missing: 'deactivate',
          deleteGroups: true,
          manageAll: false,
          matchKeys: ['externalId', 'userName', 'email'],
        },
        source: { fingerprint: '0'.repeat(64), files: ['hr.csv'], records: 3 },
      }),
    ),
  ) as PlanFile;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Edit = (p: any) => void;
interface Case {
  name: string;
  /** Text of the file instead of a plan (for what is not JSON). */
  text?: string;
  edit?: Edit;
  /** Keep the digest of the valid plan (the edit is what the digest is to catch). */
  staleDigest?: boolean;
  /** The part of the message after the file's name. */
  message: string;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const deactivation = (id: string) => ({
  id: `deactivate-user:${id}`,
  kind: 'deactivate-user',
  target: id,
  userName: `${id}@example.com`,
});

export const CASES: Case[] = [
  { name: 'not-json', text: '{"kind": "scimctl-plan", "changes": [', message: esc(': not a plan file (invalid JSON') },
  { name: 'not-a-plan', edit: (p) => (p.kind = 'terraform-plan'), message: esc(': not a scimctl plan file') },
  { name: 'format-99', edit: (p) => (p.formatVersion = 99), message: esc(': plan format 99 is not supported') },
  { name: 'no-versions-field', edit: (p) => delete p.versions, message: esc(': field "versions": expected record') },
  {
    name: 'unknown-top-level-field',
    edit: (p) => (p.autoApprove = true),
    message: esc(': field "autoApprove": not a field'),
  },
  { name: 'summary-negative', edit: (p) => (p.summary.create = -1), message: esc(': field "summary.create":') },
  {
    name: 'unknown-kind',
    edit: (p) => (p.changes[2] = { id: 'purge-user:u2', kind: 'purge-user', target: 'u2' }),
    message: esc(': change 2 (id "purge-user:u2"): field "kind": unknown kind "purge-user"'),
  },
  {
    name: 'change-without-kind',
    edit: (p) => delete p.changes[2].kind,
    message: esc(': change 2 (id "deactivate-user:u2"): field "kind": missing'),
  },
  {
    name: 'change-not-object',
    edit: (p) => (p.changes[7] = 'delete-group:g2'),
    message: esc(': change 7 (no id): not an object'),
  },
  {
    name: 'target-not-string',
    edit: (p) => (p.changes[2].target = 2),
    message: esc(': change 2 (id "deactivate-user:u2"): field "target": expected string, received number'),
  },
  {
    name: 'update-without-diffs',
    edit: (p) => delete p.changes[1].diffs,
    message: esc(': change 1 (id "update-user:u1"): field "diffs": expected array'),
  },
  {
    name: 'update-empty-diffs',
    edit: (p) => (p.changes[1].diffs = []),
    message: esc(': change 1 (id "update-user:u1"): field "diffs": '),
  },
  {
    name: 'unknown-change-field',
    edit: (p) => (p.changes[7].ifMatch = '*'),
    message: esc(': change 7 (id "delete-group:g2"): field "ifMatch": not a field'),
  },
  {
    name: 'id-of-another-kind',
    edit: (p) => (p.changes[2].id = 'update-user:u2'),
    message: esc(
      `: change 2 (id "update-user:u2"): field "id": a deactivate-user change's id starts with "deactivate-user:"`,
    ),
  },
  {
    name: 'duplicate-id',
    edit: (p) => p.changes.push({ ...p.changes[5] }),
    message: esc(': change 8 (id "add-member:g1:u1"): field "id": the same id as change 5'),
  },
  {
    name: 'user-changed-twice',
    edit: (p) => p.changes.push({ ...deactivation('u1'), id: 'deactivate-user:u1' }),
    message: esc(': change 8 (id "deactivate-user:u1"): user u1 is already changed by change 1 (id "update-user:u1")'),
  },
  {
    name: 'membership-twice',
    edit: (p) => p.changes.push({ ...p.changes[5], id: 'add-member:g1:u1:again' }),
    message: esc(
      ': change 8 (id "add-member:g1:u1:again"): the membership of id:u1 in id:g1 is already changed by change 5',
    ),
  },
  {
    name: 'dangling-group-reference',
    edit: (p) => (p.changes[4].group = { change: 'create-group:Nope' }),
    message: esc(
      ': change 4 (id ' +
        '"add-member:create-group:Fixtures:create-user:new.hire@example.com"): field ' +
        '"group.change": "create-group:Nope" is not the id of a create-group change',
    ),
  },
  {
    name: 'reference-to-wrong-kind',
    edit: (p) => (p.changes[4].user = { change: 'update-user:u1' }),
    message: esc(
      ': change 4 (id ' +
        '"add-member:create-group:Fixtures:create-user:new.hire@example.com"): field ' +
        '"user.change": "update-user:u1" is not the id of a create-user change',
    ),
  },
  {
    name: 'version-missing',
    edit: (p) => delete p.versions['User/u2'],
    message: esc(': change 2 (id "deactivate-user:u2"): field "target": User/u2 is not in "versions"'),
  },
  {
    name: 'versions-emptied',
    edit: (p) => (p.versions = {}),
    message: esc(': change 1 (id "update-user:u1"): field "target": User/u1 is not in "versions"'),
  },
  {
    name: 'appended-deactivations',
    edit: (p) => {
      for (let i = 0; i < 40; i++) {
        p.changes.push(deactivation(`x${i}`));
        p.versions[`User/x${i}`] = `W/"x${i}-1"`;
      }
    },
    message: esc(': field "summary.deactivate": the summary says 1, the changes hold 41'),
  },
  {
    name: 'appended-without-versions',
    edit: (p) => p.changes.push(deactivation('x0')),
    message: esc(': change 8 (id "deactivate-user:x0"): field "target": User/x0 is not in "versions"'),
  },
  {
    name: 'summary-disagrees',
    edit: (p) => (p.summary.memberships = 0),
    message: esc(': field "summary.memberships": the summary says 0, the changes hold 3'),
  },
  {
    name: 'delete-group-without-option',
    edit: (p) => (p.options.deleteGroups = false),
    message: esc(
      ': change 7 (id "delete-group:g2"): field "kind": a delete-group change in a plan made without --delete-groups',
    ),
  },
  {
    name: 'deactivation-with-missing-leave',
    edit: (p) => (p.options.missing = 'leave'),
    message: esc(
      ': change 2 (id "deactivate-user:u2"): field "kind": a deactivate-user change ' +
        'in a plan made with --missing leave',
    ),
  },
  {
    name: 'group-change-in-attributes-mode',
    edit: (p) => (p.mode = 'attributes'),
    message: esc(
      ': change 3 (id "create-group:Fixtures"): field "kind": a create-group change in a plan of mode "attributes"',
    ),
  },
  {
    name: 'edited-by-hand',
    staleDigest: true,
    edit: (p) => (p.changes[1].diffs[0].after = 'Chief Executive'),
    message: esc(': field "digest": does not match the content') + '.*--allow-edited-plan',
  },
  {
    name: 'no-digest',
    edit: (p) => delete p.digest,
    staleDigest: true,
    message: esc(': has no digest') + '.*--allow-edited-plan',
  },
];

export function fixture(c: Case): { text: string; expect: { args: string[]; exit: number; message: string } } {
  let text = c.text;
  if (text === undefined) {
    const p = base();
    c.edit?.(p);
    if (!c.staleDigest && 'digest' in p) p.digest = planDigest(p);
    text = `${JSON.stringify(p, null, 2)}\n`;
  }
  return { text, expect: { args: ARGS, exit: 2, message: `${esc(c.name)}\\.json${c.message}` } };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  mkdirSync(DIR, { recursive: true });
  for (const c of CASES) {
    const { text, expect } = fixture(c);
    writeFileSync(join(DIR, `${c.name}.json`), text);
    writeFileSync(join(DIR, `${c.name}.expect.json`), `${JSON.stringify(expect, null, 2)}\n`);
  }
  process.stdout.write(`${CASES.length} cases in ${DIR}\n`);
}

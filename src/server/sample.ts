/**
 * A generated sample organisation (for `scimctl demo` and `serve --seed-users`), and a
 * source of truth that differs from it the way a real HR export does a week later: new
 * hires, leavers, changed titles, people moving between departments. Deterministic: the
 * same seed gives the same organisation.
 */
import { SCHEMA } from '../api/types.ts';
import { prng } from '../util/prng.ts';

export interface SampleUser {
  externalId: string;
  userName: string;
  givenName: string;
  familyName: string;
  title: string;
  department: string;
  active: boolean;
  /** displayNames of the groups the user is in */
  groups: string[];
}

export interface SampleOrganisation {
  users: SampleUser[];
  groups: string[];
}

const FIRST = [
  'Aisha',
  'Alejandro',
  'Amara',
  'Anders',
  'Ana',
  'Arjun',
  'Astrid',
  'Bao',
  'Beatriz',
  'Ben',
  'Camille',
  'Carlos',
  'Chen',
  'Chiara',
  'Daniel',
  'Dmitri',
  'Elena',
  'Emeka',
  'Emma',
  'Fatima',
  'Felix',
  'Freya',
  'Grace',
  'Hana',
  'Hugo',
  'Ines',
  'Isaac',
  'Jamal',
  'Jana',
  'Javier',
  'Ji-woo',
  'Jonas',
  'Kai',
  'Keiko',
  'Laila',
  'Lars',
  'Leila',
  'Lucas',
  'Maya',
  'Mateo',
  'Mei',
  'Mohammed',
  'Nadia',
  'Niamh',
  'Nikolai',
  'Noah',
  'Olivia',
  'Omar',
  'Priya',
  'Rafael',
  'Rania',
  'Ravi',
  'Rosa',
  'Sakura',
  'Samir',
  'Sofia',
  'Sven',
  'Tariq',
  'Thandiwe',
  'Tomas',
  'Valentina',
  'Wei',
  'Yara',
  'Yusuf',
  'Zainab',
  'Zoe',
];
const LAST = [
  'Abebe',
  'Andersen',
  'Bakker',
  'Banerjee',
  'Costa',
  'Dubois',
  'Eriksson',
  'Fernandes',
  'Fischer',
  'García',
  'Haddad',
  'Hansen',
  'Hernández',
  'Ito',
  'Ivanova',
  'Jansen',
  'Kaur',
  'Kim',
  'Kowalski',
  'Larsen',
  'Lee',
  'Lindqvist',
  'Martin',
  'Mensah',
  'Moreau',
  'Murphy',
  'Nakamura',
  'Nguyen',
  'Novak',
  "O'Brien",
  'Okafor',
  'Olsen',
  'Park',
  'Patel',
  'Pereira',
  'Petrov',
  'Popescu',
  'Rossi',
  'Said',
  'Santos',
  'Schmidt',
  'Silva',
  'Singh',
  'Smith',
  'Sato',
  'Tanaka',
  'Van Dijk',
  'Wagner',
  'Wang',
  'Williams',
  'Yilmaz',
  'Zhang',
];
const DEPARTMENTS: Array<[string, string[]]> = [
  ['Engineering', ['Software Engineer', 'Senior Software Engineer', 'Staff Engineer', 'Engineering Manager']],
  ['Sales', ['Account Executive', 'Sales Development Representative', 'Sales Manager']],
  ['Marketing', ['Marketing Specialist', 'Content Strategist', 'Marketing Manager']],
  ['Finance', ['Accountant', 'Financial Analyst', 'Controller']],
  ['People', ['HR Partner', 'Recruiter', 'People Operations Lead']],
  ['Legal', ['Counsel', 'Paralegal']],
  ['Support', ['Support Engineer', 'Support Lead']],
  ['Product', ['Product Manager', 'Senior Product Manager']],
  ['Design', ['Product Designer', 'UX Researcher']],
  ['Operations', ['Operations Analyst', 'Operations Manager']],
  ['IT', ['IT Administrator', 'Systems Engineer']],
  ['Security', ['Security Engineer', 'Security Analyst']],
  ['Data', ['Data Engineer', 'Data Scientist', 'Analytics Lead']],
  ['Customer Success', ['Customer Success Manager', 'Onboarding Specialist']],
];
/** Groups beyond the departments: cross-cutting teams. */
const TEAMS = ['All Staff Berlin', 'All Staff Lisbon', 'All Staff Toronto', 'On-call', 'Managers', 'Interns'];

const pick = <T>(rnd: () => number, list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;

const ascii = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '');

/** The organisation: `userCount` people in departments and teams, about 3 % of them inactive. */
export function sampleOrganisation(userCount: number, groupCount = 20, seed = 7): SampleOrganisation {
  const rnd = prng(seed);
  const departments = DEPARTMENTS.slice(0, Math.min(groupCount, DEPARTMENTS.length));
  const groups = [...departments.map(([d]) => d), ...TEAMS].slice(0, groupCount);
  const teams = groups.filter((g) => TEAMS.includes(g));
  const taken = new Set<string>();
  const users: SampleUser[] = [];
  for (let i = 0; i < userCount; i++) users.push(newPerson(rnd, i + 1, departments, teams, taken));
  return { users, groups };
}

function newPerson(
  rnd: () => number,
  n: number,
  departments: Array<[string, string[]]>,
  teams: string[],
  taken: Set<string>,
): SampleUser {
  const givenName = pick(rnd, FIRST);
  const familyName = pick(rnd, LAST);
  let userName = `${ascii(givenName)}.${ascii(familyName)}@example.com`;
  for (let k = 2; taken.has(userName); k++) userName = `${ascii(givenName)}.${ascii(familyName)}${k}@example.com`;
  taken.add(userName);
  const [department, titles] = departments.length > 0 ? pick(rnd, departments) : ['Staff', ['Employee']];
  const groups = departments.length > 0 ? [department] : [];
  if (teams.length > 0) groups.push(pick(rnd, teams));
  return {
    externalId: `E${String(10000 + n)}`,
    userName,
    givenName,
    familyName,
    title: pick(rnd, titles),
    department,
    active: rnd() >= 0.03,
    groups,
  };
}

export interface SampleChanges {
  hired: string[];
  left: string[];
  retitled: string[];
  moved: string[];
}

/**
 * The HR export a week later: `hires` new people, `leavers` gone, `retitles` new titles,
 * `moves` people in another department (and so another department group).
 */
export function laterExport(
  org: SampleOrganisation,
  counts = { hires: 12, leavers: 8, retitles: 15, moves: 6 },
  seed = 11,
): { users: SampleUser[]; changes: SampleChanges } {
  const rnd = prng(seed);
  const users = org.users.map((u) => ({ ...u, groups: [...u.groups] }));
  const changes: SampleChanges = { hired: [], left: [], retitled: [], moved: [] };
  const activeIndexes = () => users.map((u, i) => (u.active ? i : -1)).filter((i) => i >= 0);
  const departments = DEPARTMENTS.filter(([d]) => org.groups.includes(d));

  for (let k = 0; k < counts.leavers; k++) {
    const candidates = activeIndexes();
    const [gone] = users.splice(pick(rnd, candidates), 1);
    changes.left.push(gone!.userName);
  }
  for (let k = 0; k < counts.retitles; k++) {
    const u = users[pick(rnd, activeIndexes())]!;
    const titles = departments.find(([d]) => d === u.department)?.[1] ?? ['Employee'];
    const next = titles.find((t) => t !== u.title) ?? `Senior ${u.title}`;
    u.title = next;
    changes.retitled.push(u.userName);
  }
  for (let k = 0; k < counts.moves && departments.length > 1; k++) {
    const u = users[pick(rnd, activeIndexes())]!;
    const [department, titles] = pick(
      rnd,
      departments.filter(([d]) => d !== u.department),
    );
    u.groups = u.groups.map((g) => (g === u.department ? department : g));
    u.department = department;
    u.title = titles[0]!;
    changes.moved.push(u.userName);
  }
  const taken = new Set(org.users.map((u) => u.userName));
  const teams = org.groups.filter((g) => TEAMS.includes(g));
  for (let k = 0; k < counts.hires; k++) {
    const u = newPerson(rnd, org.users.length + k + 1, departments, teams, taken);
    u.active = true;
    users.push(u);
    changes.hired.push(u.userName);
  }
  return { users, changes };
}

/** A sample person as a SCIM User (core + enterprise extension), without server-owned attributes. */
export function scimUser(u: SampleUser): Record<string, unknown> {
  return {
    schemas: [SCHEMA.USER, SCHEMA.ENTERPRISE_USER],
    externalId: u.externalId,
    userName: u.userName,
    name: { givenName: u.givenName, familyName: u.familyName, formatted: `${u.givenName} ${u.familyName}` },
    displayName: `${u.givenName} ${u.familyName}`,
    title: u.title,
    emails: [{ value: u.userName, type: 'work', primary: true }],
    active: u.active,
    [SCHEMA.ENTERPRISE_USER]: { employeeNumber: u.externalId.slice(1), department: u.department },
  };
}

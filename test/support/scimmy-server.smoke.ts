/**
 * Smoke check of the scimmy test host (not part of the test suite):
 *   node --import tsx test/support/scimmy-server.smoke.ts [--perf]
 * Prints one line per check and exits non-zero when one fails. --perf adds the paging timings
 * (10,000 users page by page, seeding 100,000 users, a page at the end of 100,000).
 * Also checks the `patch: false` and `etag: true` options and their --no-patch / --etag flags.
 */
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { startScimmyServer, type ScimmyServer } from './scimmy-server.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any; // ad-hoc inspection of SCIM JSON in a smoke script
}

let failures = 0;

function check(name: string, ok: boolean, detail?: unknown): void {
  if (!ok) failures++;
  const extra = detail === undefined ? '' : `  ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`;
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}${extra.length > 400 ? extra.slice(0, 400) + '…' : extra}`);
}

function client(server: ScimmyServer, token: string | null = 'test-token') {
  return async (
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<Reply> => {
    const headers: Record<string, string> = { accept: 'application/scim+json', ...extraHeaders };
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/scim+json';
    const res = await fetch(server.url + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };
}

const q = (filter: string): string => encodeURIComponent(filter);

async function functional(): Promise<void> {
  const server = await startScimmyServer({ users: 50, groups: 5 });
  const capped = await startScimmyServer({ users: 30, maxPageSize: 7, token: 'other-token' });
  const api = client(server);
  console.log(`server ${server.url} (50 users, 5 groups); capped server ${capped.url} (30 users, maxPageSize 7)`);
  const ids = [...server.users.keys()];

  // --- discovery
  const spc = await api('GET', '/ServiceProviderConfig');
  check('ServiceProviderConfig 200', spc.status === 200, spc.json);
  check(
    'SPC: patch, filter(maxResults=200), sort supported; bulk, etag not',
    spc.json?.patch?.supported === true &&
      spc.json?.filter?.supported === true &&
      spc.json?.filter?.maxResults === 200 &&
      spc.json?.sort?.supported === true &&
      spc.json?.bulk?.supported === false &&
      spc.json?.etag?.supported === false,
  );
  check(
    'SPC: one bearer authentication scheme',
    spc.json?.authenticationSchemes?.length === 1,
    spc.json?.authenticationSchemes,
  );
  const cappedSpc = await client(capped, 'other-token')('GET', '/ServiceProviderConfig');
  check('capped server SPC says maxResults=7', cappedSpc.json?.filter?.maxResults === 7, cappedSpc.json?.filter);
  const rts = await api('GET', '/ResourceTypes');
  const userRt = rts.json?.Resources?.find((r: { name: string }) => r.name === 'User');
  check(
    'ResourceTypes: User with enterprise extension',
    rts.status === 200 && userRt?.schemaExtensions?.[0]?.schema === ENTERPRISE,
    userRt,
  );
  const schemas = await api('GET', '/Schemas');
  check(
    'Schemas lists User, Group, EnterpriseUser',
    schemas.status === 200 && schemas.json?.totalResults === 3,
    schemas.json?.Resources?.map((s: { id: string }) => s.id),
  );

  // --- auth
  const noAuth = await client(server, null)('GET', '/Users');
  check(
    '401 without token, SCIM error body, no WWW-Authenticate',
    noAuth.status === 401 && noAuth.json?.status === '401' && !noAuth.headers.has('www-authenticate'),
    noAuth.text,
  );
  const badAuth = await client(server, 'nope')('GET', '/ServiceProviderConfig');
  check('401 with a wrong token on discovery', badAuth.status === 401, badAuth.text);

  // --- paging
  const p1 = await api('GET', '/Users?startIndex=1&count=10');
  check(
    'page 1: 10 resources, itemsPerPage 10, totalResults 50',
    p1.json?.Resources?.length === 10 && p1.json?.itemsPerPage === 10 && p1.json?.totalResults === 50,
    { itemsPerPage: p1.json?.itemsPerPage, totalResults: p1.json?.totalResults },
  );
  check(
    'page 1 in store order',
    JSON.stringify(p1.json?.Resources?.map((r: { id: string }) => r.id)) === JSON.stringify(ids.slice(0, 10)),
  );
  const p5 = await api('GET', '/Users?startIndex=5&count=10');
  check(
    'startIndex=5&count=10 returns users 5..14 (scimmy would drop 4 of them)',
    JSON.stringify(p5.json?.Resources?.map((r: { id: string }) => r.id)) === JSON.stringify(ids.slice(4, 14)) &&
      p5.json?.startIndex === 5,
    p5.json?.Resources?.length,
  );
  const p14 = await api('GET', '/Users?startIndex=14&count=20');
  check(
    'startIndex=14&count=20 returns users 14..33',
    JSON.stringify(p14.json?.Resources?.map((r: { id: string }) => r.id)) === JSON.stringify(ids.slice(13, 33)),
    p14.json?.Resources?.length,
  );
  const last = await api('GET', '/Users?startIndex=45&count=10');
  check(
    'short last page: 6 resources, itemsPerPage 6',
    last.json?.Resources?.length === 6 && last.json?.itemsPerPage === 6,
    { n: last.json?.Resources?.length, itemsPerPage: last.json?.itemsPerPage },
  );
  const beyond = await api('GET', '/Users?startIndex=51&count=10');
  check(
    'beyond the end: 0 resources, itemsPerPage 0, totalResults 50',
    beyond.json?.Resources?.length === 0 && beyond.json?.itemsPerPage === 0 && beyond.json?.totalResults === 50,
    beyond.json,
  );
  const zero = await api('GET', '/Users?count=0');
  check(
    'count=0: no resources, totalResults 50',
    zero.json?.Resources?.length === 0 && zero.json?.totalResults === 50,
    zero.json,
  );
  const dflt = await api('GET', '/Users');
  check(
    'no count: default page of 20',
    dflt.json?.Resources?.length === 20 && dflt.json?.itemsPerPage === 20,
    dflt.json?.itemsPerPage,
  );
  const walked: string[] = [];
  for (let start = 1; ; start += 7) {
    const page = await api('GET', `/Users?startIndex=${start}&count=7`);
    const got = (page.json?.Resources ?? []) as Array<{ id: string }>;
    walked.push(...got.map((r) => r.id));
    if (got.length < 7) break;
  }
  check(
    'walking count=7 yields every user once, in order',
    JSON.stringify(walked) === JSON.stringify(ids),
    walked.length,
  );
  const cap = await client(capped, 'other-token')('GET', '/Users?count=100');
  check(
    'maxPageSize=7 caps count=100 to 7 (itemsPerPage 7, totalResults 30)',
    cap.json?.Resources?.length === 7 && cap.json?.itemsPerPage === 7 && cap.json?.totalResults === 30,
    { n: cap.json?.Resources?.length, itemsPerPage: cap.json?.itemsPerPage },
  );

  // --- reads
  const someone = server.users.get(ids[10]!)!;
  const one = await api('GET', `/Users/${someone.id}`);
  check(
    'GET by id: 200 with meta (created, lastModified, resourceType, location, version)',
    one.status === 200 &&
      one.json?.id === someone.id &&
      one.json?.meta?.location === `${server.url}/Users/${someone.id}` &&
      /^W\/"\d+"$/.test(one.json?.meta?.version ?? '') &&
      !!one.json?.meta?.created &&
      one.json?.meta?.resourceType === 'User',
    one.json?.meta,
  );
  check(
    'user carries enterprise extension and groups',
    !!one.json?.[ENTERPRISE]?.employeeNumber && Array.isArray(one.json?.groups),
    { ext: one.json?.[ENTERPRISE], groups: one.json?.groups },
  );
  const missing = await api('GET', '/Users/00000000-0000-0000-0000-000000000000');
  check('GET unknown id: 404 SCIM error', missing.status === 404 && missing.json?.status === '404', missing.text);

  // --- writes
  const created = await api('POST', '/Users', {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: 'New.Person@Example.com',
    emails: [{ value: 'new.person@example.com', type: 'work', primary: true }],
    active: true,
  });
  check(
    'POST create: 201 with id and meta',
    created.status === 201 &&
      typeof created.json?.id === 'string' &&
      created.json?.meta?.created === created.json?.meta?.lastModified,
    { status: created.status, location: created.headers.get('location'), meta: created.json?.meta },
  );
  const newId = created.json?.id as string;
  const dup = await api('POST', '/Users', {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: 'new.person@example.com',
  });
  check(
    'POST duplicate userName (other case): 409 uniqueness',
    dup.status === 409 && dup.json?.scimType === 'uniqueness',
    dup.text,
  );

  // --- filters
  const byName = await api('GET', `/Users?filter=${q(`userName eq "${someone.userName.toUpperCase()}"`)}`);
  check(
    'userName eq, different case: exactly that user',
    byName.json?.totalResults === 1 && byName.json?.Resources?.[0]?.id === someone.id,
    byName.json?.totalResults ?? byName.text,
  );
  const byEmail = await api(
    'GET',
    `/Users?filter=${q(`emails.value eq "${(someone.emails as Array<{ value: string }>)[0]!.value}"`)}`,
  );
  check(
    'emails.value eq',
    byEmail.json?.totalResults === 1 && byEmail.json?.Resources?.[0]?.id === someone.id,
    byEmail.json?.totalResults ?? byEmail.text,
  );
  const byEmailPath = await api(
    'GET',
    `/Users?filter=${q(`emails[type eq "work" and value eq "${someone.userName.toUpperCase()}"]`)}`,
  );
  check(
    'emails[type eq "work" and value eq …]',
    byEmailPath.json?.totalResults === 1,
    byEmailPath.json?.totalResults ?? byEmailPath.text,
  );
  const familyName = (someone.name as { familyName: string }).familyName;
  const co = await api(
    'GET',
    `/Users?filter=${q(
      `userName co ".${familyName
        .toLowerCase()
        .replace(/[^a-z]/g, '')
        .slice(0, 4)
        .toUpperCase()}"`,
    )}&count=200`,
  );
  const expectedCo = [...server.users.values()].filter((u) =>
    u.userName.toLowerCase().includes(
      '.' +
        familyName
          .toLowerCase()
          .replace(/[^a-z]/g, '')
          .slice(0, 4),
    ),
  ).length;
  check(
    'userName co (case-insensitive)',
    co.status === 200 && co.json?.totalResults === expectedCo && expectedCo >= 1,
    { got: co.json?.totalResults, expectedCo },
  );
  // the user created above has no name, phoneNumbers, title or enterprise extension
  const given = (someone.name as { givenName: string }).givenName;
  const byGiven = await api('GET', `/Users?filter=${q(`name.givenName eq "${given}"`)}&count=200`);
  const expectedGiven = [...server.users.values()].filter((u) => u.name?.givenName === given).length;
  check(
    'name.givenName eq with a user lacking name: no crash',
    byGiven.status === 200 && byGiven.json?.totalResults === expectedGiven,
    byGiven.json?.totalResults ?? byGiven.text,
  );
  const mobiles = await api('GET', `/Users?filter=${q('phoneNumbers[type eq "mobile"]')}&count=200`);
  const expectedMobiles = [...server.users.values()].filter((u) => Array.isArray(u.phoneNumbers)).length;
  check(
    'phoneNumbers[type eq "mobile"] (most users lack phoneNumbers)',
    mobiles.status === 200 && mobiles.json?.totalResults === expectedMobiles,
    { got: mobiles.json?.totalResults ?? mobiles.text, expectedMobiles },
  );
  const dept = (someone[ENTERPRISE] as { department: string }).department;
  const byDept = await api(
    'GET',
    `/Users?filter=${q(`${ENTERPRISE}:department eq "${dept.toLowerCase()}"`)}&count=200`,
  );
  const expectedDept = [...server.users.values()].filter((u) => u[ENTERPRISE]?.department === dept).length;
  check(
    'URN-qualified enterprise department eq',
    byDept.status === 200 && byDept.json?.totalResults === expectedDept && expectedDept > 0,
    { got: byDept.json?.totalResults ?? byDept.text, expectedDept },
  );
  const inactive = await api('GET', `/Users?filter=${q('active eq false')}&count=200`);
  check(
    'active eq false',
    inactive.status === 200 &&
      inactive.json?.totalResults === [...server.users.values()].filter((u) => u.active === false).length,
    inactive.json?.totalResults,
  );
  const notOr = await api(
    'GET',
    `/Users?filter=${q(`not (userName eq "${someone.userName}" or userName eq "new.person@example.com")`)}&count=200`,
  );
  check(
    'not (a or b) excludes both (scimmy alone returns everyone)',
    notOr.json?.totalResults === server.users.size - 2,
    notOr.json?.totalResults,
  );
  const bad = await api('GET', `/Users?filter=${q('userName eq')}`);
  check('malformed filter: 400 invalidFilter', bad.status === 400 && bad.json?.scimType === 'invalidFilter', bad.text);
  const sorted = await api('GET', '/Users?sortBy=userName&sortOrder=descending&count=5');
  const expectedSorted = [...server.users.values()]
    .map((u) => u.userName.toLowerCase())
    .sort()
    .reverse()
    .slice(0, 5);
  check(
    'sortBy=userName descending',
    JSON.stringify(sorted.json?.Resources?.map((r: { userName: string }) => r.userName.toLowerCase())) ===
      JSON.stringify(expectedSorted),
    sorted.json?.Resources?.map((r: { userName: string }) => r.userName),
  );
  const projected = await api('GET', `/Users?attributes=userName&count=2`);
  check(
    'attributes=userName: id and userName only',
    projected.status === 200 &&
      Object.keys(projected.json?.Resources?.[0] ?? {})
        .sort()
        .join() === 'id,userName',
    projected.json?.Resources?.[0],
  );
  const cutoff = (server.users.get(ids[39]!)!.meta as { lastModified: string }).lastModified.replace('.000Z', 'Z');
  const recent = await api('GET', `/Users?filter=${q(`meta.lastModified gt "${cutoff}"`)}&count=200`);
  check('meta.lastModified gt (dateTime comparison)', recent.status === 200 && recent.json?.totalResults === 11, {
    cutoff,
    got: recent.json?.totalResults ?? recent.text,
  });
  const byCreated = await api('GET', '/Users?sortBy=meta.created&sortOrder=descending&count=3');
  check(
    'sortBy=meta.created descending',
    byCreated.json?.Resources?.[0]?.id === newId && byCreated.json?.Resources?.[1]?.id === ids[49],
    byCreated.json?.Resources?.map((r: { id: string }) => r.id),
  );
  const search = await api('POST', '/Users/.search', {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
    filter: `userName eq "${someone.userName}"`,
    startIndex: 1,
    count: 10,
  });
  check(
    'POST /Users/.search',
    search.status === 200 && search.json?.totalResults === 1,
    search.json?.totalResults ?? search.text,
  );
  const groupsFilter = await api('GET', `/Groups?filter=${q(`members[value eq "${newId}"]`)}`);
  check(
    'Groups filter members[value eq …] (new user is in none)',
    groupsFilter.status === 200 && groupsFilter.json?.totalResults === 0,
    groupsFilter.json?.totalResults ?? groupsFilter.text,
  );

  // --- PUT
  const before = await api('GET', `/Users/${newId}`);
  await new Promise((r) => setTimeout(r, 5));
  const put = await api('PUT', `/Users/${newId}`, {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: 'new.person@example.com',
    displayName: 'New Person',
    title: 'Intern',
    name: { givenName: 'New', familyName: 'Person' },
    emails: [{ value: 'new.person@example.com', type: 'work', primary: true }],
    phoneNumbers: [{ value: '+1-555-000-0000', type: 'mobile' }],
  });
  check(
    'PUT replace: 200, new version and lastModified, created kept',
    put.status === 200 &&
      put.json?.title === 'Intern' &&
      put.json?.meta?.version !== before.json?.meta?.version &&
      put.json?.meta?.lastModified !== before.json?.meta?.lastModified &&
      put.json?.meta?.created === before.json?.meta?.created,
    put.json?.meta ?? put.text,
  );
  const putDup = await api('PUT', `/Users/${newId}`, { userName: someone.userName.toUpperCase() });
  check("PUT taking another user's userName: 409", putDup.status === 409, putDup.text);

  // --- PATCH user
  const patch = async (path: string, ops: unknown[]): Promise<Reply> =>
    api('PATCH', path, { schemas: [PATCH_OP], Operations: ops });
  const pTitle = await patch(`/Users/${newId}`, [{ op: 'replace', path: 'title', value: 'Engineer' }]);
  check(
    'PATCH replace title',
    pTitle.status === 200 && pTitle.json?.title === 'Engineer',
    pTitle.json?.title ?? pTitle.text,
  );
  const pEmail = await patch(`/Users/${newId}`, [
    { op: 'replace', path: 'emails[type eq "work"].value', value: 'np@example.com' },
  ]);
  check(
    'PATCH replace emails[type eq "work"].value',
    pEmail.status === 200 && pEmail.json?.emails?.[0]?.value === 'np@example.com',
    pEmail.json?.emails ?? pEmail.text,
  );
  const pAdd = await patch(`/Users/${newId}`, [
    { op: 'add', path: 'phoneNumbers', value: [{ value: '+1-555-111-1111', type: 'work' }] },
  ]);
  check(
    'PATCH add phoneNumbers',
    pAdd.status === 200 && pAdd.json?.phoneNumbers?.length === 2,
    pAdd.json?.phoneNumbers ?? pAdd.text,
  );
  const pRemove = await patch(`/Users/${newId}`, [{ op: 'remove', path: 'phoneNumbers[type eq "mobile"]' }]);
  check(
    'PATCH remove phoneNumbers[type eq "mobile"]',
    pRemove.status === 200 &&
      pRemove.json?.phoneNumbers?.length === 1 &&
      pRemove.json?.phoneNumbers?.[0]?.type === 'work',
    pRemove.json?.phoneNumbers ?? pRemove.text,
  );
  const pExt = await patch(`/Users/${newId}`, [{ op: 'add', path: `${ENTERPRISE}:department`, value: 'Research' }]);
  check(
    'PATCH add enterprise department',
    pExt.status === 200 && pExt.json?.[ENTERPRISE]?.department === 'Research',
    pExt.json?.[ENTERPRISE] ?? pExt.text,
  );
  const pActive = await patch(`/Users/${newId}`, [{ op: 'replace', value: { active: false } }]);
  check(
    'PATCH replace without path (active false)',
    pActive.status === 200 && pActive.json?.active === false,
    pActive.json?.active ?? pActive.text,
  );

  // --- groups and PATCH members
  const groups = await api('GET', '/Groups');
  const group = groups.json?.Resources?.[0];
  check(
    'Groups list: 5 groups with members (value, display, type)',
    groups.json?.totalResults === 5 &&
      typeof group?.members?.[0]?.display === 'string' &&
      group?.members?.[0]?.type === 'User',
    group?.members?.[0],
  );
  const addMember = await patch(`/Groups/${group.id}`, [{ op: 'add', path: 'members', value: [{ value: newId }] }]);
  check(
    'PATCH group add member',
    addMember.status === 200 && addMember.json?.members?.some((m: { value: string }) => m.value === newId),
    addMember.json?.members?.length ?? addMember.text,
  );
  const userGroups = await api('GET', `/Users/${newId}`);
  check(
    'user.groups reflects the membership',
    userGroups.json?.groups?.some(
      (g: { value: string; display: string }) => g.value === group.id && g.display === group.displayName,
    ),
    userGroups.json?.groups,
  );
  const byGroup = await api('GET', `/Users?filter=${q(`groups.value eq "${group.id}"`)}&count=200`);
  check(
    'Users filter groups.value eq (computed attribute)',
    byGroup.json?.totalResults === addMember.json?.members?.length,
    { got: byGroup.json?.totalResults, members: addMember.json?.members?.length },
  );
  const unknownMember = await patch(`/Groups/${group.id}`, [
    { op: 'add', path: 'members', value: [{ value: 'no-such-user' }] },
  ]);
  check('PATCH group add unknown member: 400', unknownMember.status === 400, unknownMember.text);
  const firstMember = group.members[0].value as string;
  const removeMember = await patch(`/Groups/${group.id}`, [
    { op: 'remove', path: `members[value eq "${firstMember}"]` },
  ]);
  check(
    'PATCH group remove members[value eq "ID"]',
    removeMember.status === 200 &&
      !removeMember.json?.members?.some((m: { value: string }) => m.value === firstMember) &&
      removeMember.json?.members?.length === addMember.json?.members?.length - 1,
    removeMember.json?.members?.length ?? removeMember.text,
  );
  const newGroup = await api('POST', '/Groups', {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
    displayName: 'Contractors',
    members: [{ value: newId }],
  });
  check(
    'POST group with a member',
    newGroup.status === 201 && newGroup.json?.members?.[0]?.display === 'New Person',
    newGroup.json ?? newGroup.text,
  );
  const patchExcluded = await patch(`/Groups/${group.id}?excludedAttributes=members`, [
    { op: 'replace', path: 'displayName', value: `${group.displayName} Team` },
  ]);
  const afterExcluded = await api('GET', `/Groups/${group.id}`);
  check(
    'PATCH ?excludedAttributes=members keeps the members (scimmy alone wipes them)',
    patchExcluded.status === 200 &&
      afterExcluded.json?.members?.length === removeMember.json?.members?.length &&
      afterExcluded.json?.displayName === `${group.displayName} Team`,
    { status: patchExcluded.status, members: afterExcluded.json?.members?.length },
  );
  const groupsExcluded = await api('GET', '/Groups?excludedAttributes=members');
  check(
    'Groups excludedAttributes=members',
    groupsExcluded.status === 200 &&
      groupsExcluded.json?.Resources?.every((g: { members?: unknown }) => g.members === undefined),
    groupsExcluded.json?.Resources?.[0],
  );

  // --- DELETE
  const del = await api('DELETE', `/Users/${newId}`);
  check('DELETE user: 204', del.status === 204, del.text);
  const gone = await api('GET', `/Users/${newId}`);
  check('deleted user: 404', gone.status === 404, gone.status);
  const groupAfter = await api('GET', `/Groups/${group.id}`);
  check(
    'deleted user removed from group members',
    !groupAfter.json?.members?.some((m: { value: string }) => m.value === newId),
    groupAfter.json?.members?.length,
  );
  const delAgain = await api('DELETE', `/Users/${newId}`);
  check('DELETE again: 404', delAgain.status === 404, delAgain.text);
  const delGroup = await api('DELETE', `/Groups/${newGroup.json?.id}`);
  check('DELETE group: 204', delGroup.status === 204, delGroup.text);

  // --- other endpoints
  const bulk = await api('POST', '/Bulk', {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
    Operations: [],
  });
  check('Bulk not supported: 501', bulk.status === 501, bulk.text);

  // --- faults
  server.addFault({ method: 'GET', path: /\/Users(\?|$)/, status: 500, skip: 1 });
  const f1 = await api('GET', '/Users?count=1');
  const f2 = await api('GET', '/Users?count=1');
  const f3 = await api('GET', '/Users?count=1');
  check('fault skip=1: list OK, then 500, then OK again', f1.status === 200 && f2.status === 500 && f3.status === 200, [
    f1.status,
    f2.status,
    f3.status,
  ]);
  server.addFault({
    path: /\/Users\?/,
    status: 429,
    times: 2,
    headers: { 'Retry-After': '1' },
    body: '<html>Too many</html>',
  });
  const r1 = await api('GET', '/Users?count=1');
  const r2 = await api('GET', '/Users?count=1');
  const r3 = await api('GET', '/Users?count=1');
  check(
    'fault times=2 with Retry-After and an HTML body',
    r1.status === 429 &&
      r1.headers.get('retry-after') === '1' &&
      (r1.headers.get('content-type') ?? '').startsWith('text/html') &&
      r2.status === 429 &&
      r3.status === 200,
    [r1.status, r2.status, r3.status],
  );
  server.clearFaults();
  server.addFault({ path: /\/Groups/, status: 0, hang: true, times: 2 });
  const hung = await fetch(`${server.url}/Groups`, {
    headers: { authorization: 'Bearer test-token' },
    signal: AbortSignal.timeout(300),
  }).then(
    () => 'answered',
    (ex: Error) => ex.name,
  );
  check('hang fault: no answer (client times out)', hung === 'TimeoutError', hung);
  const pending = fetch(`${server.url}/Groups`, { headers: { authorization: 'Bearer test-token' } }).then(
    () => 'answered',
    () => 'socket closed',
  );

  // --- recorder
  const recorded = server.requests.filter((r) => r.method === 'PATCH');
  check(
    'requests recorded with method, path, headers and parsed body',
    recorded.length >= 8 &&
      (recorded[0]!.body as { schemas?: string[] })?.schemas?.[0] === PATCH_OP &&
      recorded[0]!.headers['authorization'] === 'Bearer test-token',
    recorded[0],
  );
  await new Promise((r) => setTimeout(r, 50));
  check(
    'faulted requests recorded with faulted: true',
    server.requests.filter((r) => r.faulted).length === 5,
    server.requests.filter((r) => r.faulted).length,
  );

  const t0 = performance.now();
  await server.close();
  check(
    'close() with a hanging request returns promptly',
    performance.now() - t0 < 1000,
    `${Math.round(performance.now() - t0)} ms`,
  );
  check('the hanging request saw its socket closed', (await pending) === 'socket closed');
  await capped.close();
}

/** JSON with object keys sorted (order-insensitive comparison of resources; array order is kept). */
function canonicalJson(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sortKeys(value));
}

/** A resource without the attributes the server owns (what a PUT body and the stored result should share). */
function clientPart(resource: Record<string, unknown> | undefined): Record<string, unknown> {
  const { schemas: _s, id: _i, meta: _m, groups: _g, ...rest } = resource ?? {};
  return rest;
}

const snapshot = (value: unknown): string => JSON.stringify(value);

/**
 * A full user as scimctl's PUT fallback sends it: every attribute, schemas naming the extension, id, no meta/groups.
 */
function fullUserBody(id: string, managerId: string, tag: string): Record<string, unknown> {
  return {
    schemas: [USER_SCHEMA, ENTERPRISE],
    id,
    externalId: `X-${tag}`,
    userName: `put.${tag}@example.com`,
    name: {
      formatted: `Put ${tag} Person`,
      givenName: 'Put',
      middleName: tag,
      familyName: 'Person',
      honorificPrefix: 'Dr.',
    },
    displayName: `Put ${tag} Person`,
    title: `Title ${tag}`,
    active: false,
    emails: [
      { value: `put.${tag}@example.com`, type: 'work', primary: true },
      { value: `put.${tag}@home.example`, type: 'home', primary: false },
    ],
    phoneNumbers: [
      { value: '+1-555-010-0001', type: 'mobile' },
      { value: '+1-555-010-0002', type: 'work', primary: true },
    ],
    [ENTERPRISE]: {
      employeeNumber: `N-${tag}`,
      costCenter: 'CC-7',
      organization: 'Org',
      division: 'Div',
      department: 'Legal',
      manager: { value: managerId },
    },
  };
}

async function noPatch(): Promise<void> {
  const server = await startScimmyServer({ users: 10, groups: 2, patch: false });
  const api = client(server);
  console.log(`\nno-patch server ${server.url} (10 users, 2 groups, patch: false)`);
  const [uid, otherId] = [...server.users.keys()] as [string, string];
  const gid = [...server.groups.keys()][0]!;

  const spc = await api('GET', '/ServiceProviderConfig');
  check(
    'no-patch SPC: patch.supported false (etag still false, filter/sort still true)',
    spc.status === 200 &&
      spc.json?.patch?.supported === false &&
      spc.json?.etag?.supported === false &&
      spc.json?.filter?.supported === true &&
      spc.json?.sort?.supported === true,
    { patch: spc.json?.patch, etag: spc.json?.etag },
  );

  const expected501 = { schemas: [ERROR_SCHEMA], status: '501', detail: 'PATCH is not supported' };
  const userBefore = snapshot(server.users.get(uid));
  const groupBefore = snapshot(server.groups.get(gid));
  const pUser = await api('PATCH', `/Users/${uid}`, {
    schemas: [PATCH_OP],
    Operations: [{ op: 'replace', path: 'title', value: 'Patched' }],
  });
  check(
    'no-patch: PATCH /Users/{id} → 501 with the SCIM error body',
    pUser.status === 501 &&
      canonicalJson(pUser.json) === canonicalJson(expected501) &&
      (pUser.headers.get('content-type') ?? '').startsWith('application/scim+json'),
    { status: pUser.status, body: pUser.text },
  );
  const pGroup = await api('PATCH', `/Groups/${gid}`, {
    schemas: [PATCH_OP],
    Operations: [{ op: 'remove', path: 'members' }],
  });
  check(
    'no-patch: PATCH /Groups/{id} → 501 with the SCIM error body',
    pGroup.status === 501 && canonicalJson(pGroup.json) === canonicalJson(expected501),
    { status: pGroup.status, body: pGroup.text },
  );
  const pMissing = await api('PATCH', '/Users/00000000-0000-0000-0000-000000000000', {
    schemas: [PATCH_OP],
    Operations: [{ op: 'replace', path: 'title', value: 'x' }],
  });
  const pBadBody = await api('PATCH', `/users/${uid}`, { not: 'a patch' });
  check(
    'no-patch: PATCH of an unknown id, or with a bad body, or /users lower-case → 501 too',
    pMissing.status === 501 && pBadBody.status === 501,
    [pMissing.status, pBadBody.status],
  );
  check(
    'no-patch: store unchanged after the refused PATCHes (user and group, incl. meta.version)',
    snapshot(server.users.get(uid)) === userBefore && snapshot(server.groups.get(gid)) === groupBefore,
  );
  const pNoAuth = await client(server, null)('PATCH', `/Users/${uid}`, { schemas: [PATCH_OP], Operations: [] });
  check('no-patch: PATCH without a token is still 401 first', pNoAuth.status === 401, pNoAuth.status);

  // PUT is the fallback: a full user replaces the stored one, and every attribute of the body survives as sent
  const before = await api('GET', `/Users/${uid}`);
  const body = fullUserBody(uid, otherId, 'a');
  const put = await api('PUT', `/Users/${uid}`, body);
  check(
    'no-patch: PUT of a full user (enterprise, emails, phoneNumbers, name, title, active) → 200',
    put.status === 200 && put.json?.id === uid,
    put.status === 200 ? put.json?.meta : put.text,
  );
  check(
    "no-patch: PUT response has exactly the body's attributes (nothing dropped or altered)",
    canonicalJson(clientPart(put.json)) === canonicalJson(clientPart(body)),
    { got: clientPart(put.json), sent: clientPart(body) },
  );
  check(
    "no-patch: stored user replaced by exactly the body's attributes",
    canonicalJson(clientPart(server.users.get(uid))) === canonicalJson(clientPart(body)),
    clientPart(server.users.get(uid)),
  );
  const reread = await api('GET', `/Users/${uid}`);
  check(
    'no-patch: GET after PUT returns the same, new version, created kept, groups still derived',
    canonicalJson(clientPart(reread.json)) === canonicalJson(clientPart(body)) &&
      reread.json?.meta?.version === put.json?.meta?.version &&
      put.json?.meta?.version !== before.json?.meta?.version &&
      reread.json?.meta?.created === before.json?.meta?.created &&
      canonicalJson(reread.json?.groups) === canonicalJson(before.json?.groups),
    { before: before.json?.meta, after: reread.json?.meta },
  );
  const { [ENTERPRISE]: _dropped, phoneNumbers: _phones, ...smaller } = fullUserBody(uid, otherId, 'b');
  const putSmaller = await api('PUT', `/Users/${uid}`, { ...smaller, schemas: [USER_SCHEMA] });
  const storedSmaller = server.users.get(uid);
  check(
    'no-patch: PUT is a replace (attributes left out of the body are gone, the rest exact)',
    putSmaller.status === 200 &&
      storedSmaller?.[ENTERPRISE] === undefined &&
      storedSmaller?.phoneNumbers === undefined &&
      canonicalJson(clientPart(storedSmaller)) === canonicalJson(clientPart({ ...smaller })),
    clientPart(storedSmaller),
  );
  const group = await api('GET', `/Groups/${gid}`);
  const members = [...(group.json?.members ?? []).slice(1), { value: uid }];
  const putGroup = await api('PUT', `/Groups/${gid}`, {
    schemas: [GROUP_SCHEMA],
    id: gid,
    displayName: group.json?.displayName,
    members,
  });
  check(
    'no-patch: PUT of a group replaces its members (the membership fallback)',
    putGroup.status === 200 &&
      canonicalJson(putGroup.json?.members?.map((m: { value: string }) => m.value).sort()) ===
        canonicalJson(members.map((m: { value: string }) => m.value).sort()) &&
      putGroup.json?.meta?.version !== group.json?.meta?.version,
    putGroup.status === 200 ? putGroup.json?.members?.length : putGroup.text,
  );
  const ignored = await api('PUT', `/Users/${uid}`, fullUserBody(uid, otherId, 'c'), {
    'if-match': 'W/"no-such-version"',
  });
  check('etag off: If-Match is ignored (PUT with a bogus tag → 200)', ignored.status === 200, ignored.status);
  await server.close();
}

/** PUT with the body sent in two parts, calling between() after the headers and first part have arrived. */
function slowPut(
  server: ScimmyServer,
  path: string,
  body: unknown,
  headers: Record<string, string>,
  between: () => void,
): Promise<Reply> {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolveReply, rejectReply) => {
    const req = httpRequest(
      server.url + path,
      {
        method: 'PUT',
        headers: {
          authorization: 'Bearer test-token',
          'content-type': 'application/scim+json',
          'content-length': String(data.length),
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
          resolveReply({ status: res.statusCode ?? 0, headers: h, text, json });
        });
      },
    );
    req.on('error', rejectReply);
    req.write(data.subarray(0, 10));
    setTimeout(() => {
      between();
      req.end(data.subarray(10));
    }, 100);
  });
}

async function etags(): Promise<void> {
  const server = await startScimmyServer({ users: 10, groups: 2, etag: true });
  const api = client(server);
  console.log(`\netag server ${server.url} (10 users, 2 groups, etag: true)`);
  const ids = [...server.users.keys()];
  const uid = ids[0]!;
  const gid = [...server.groups.keys()][0]!;
  const version = (id: string): string | undefined => (server.users.get(id) ?? server.groups.get(id))?.meta?.version;
  const expected412 = { schemas: [ERROR_SCHEMA], status: '412', detail: 'resource changed' };
  const is412 = (r: Reply): boolean => r.status === 412 && canonicalJson(r.json) === canonicalJson(expected412);

  const spc = await api('GET', '/ServiceProviderConfig');
  check(
    'etag SPC: etag.supported true (patch still true)',
    spc.status === 200 && spc.json?.etag?.supported === true && spc.json?.patch?.supported === true,
    { etag: spc.json?.etag, patch: spc.json?.patch },
  );

  // ETag headers
  const got = await api('GET', `/Users/${uid}`);
  const tag0 = got.headers.get('etag');
  check(
    'etag: GET by id has ETag = meta.version (a weak tag W/"n")',
    got.status === 200 && tag0 === got.json?.meta?.version && /^W\/"\d+"$/.test(tag0 ?? '') && tag0 === version(uid),
    { etag: tag0, version: got.json?.meta?.version },
  );
  const projected = await api('GET', `/Users/${uid}?attributes=userName`);
  check(
    'etag: GET by id with ?attributes=userName (no meta in body) still has the ETag',
    projected.status === 200 && projected.headers.get('etag') === tag0,
    projected.headers.get('etag'),
  );
  const gGot = await api('GET', `/Groups/${gid}`);
  check(
    'etag: GET group by id has ETag = meta.version',
    gGot.status === 200 &&
      gGot.headers.get('etag') === gGot.json?.meta?.version &&
      gGot.json?.meta?.version === version(gid),
    gGot.headers.get('etag'),
  );
  const created = await api('POST', '/Users', {
    schemas: [USER_SCHEMA],
    userName: 'etag.new@example.com',
    displayName: 'Etag New',
  });
  const newId = created.json?.id as string;
  check(
    'etag: POST → 201 with ETag = meta.version',
    created.status === 201 &&
      !!created.json?.meta?.version &&
      created.headers.get('etag') === created.json?.meta?.version,
    { status: created.status, etag: created.headers.get('etag') },
  );

  // If-None-Match
  const notModified = await api('GET', `/Users/${uid}`, undefined, { 'if-none-match': tag0! });
  check(
    'etag: GET with If-None-Match = current → 304, no body, ETag kept',
    notModified.status === 304 && notModified.text === '' && notModified.headers.get('etag') === tag0,
    { status: notModified.status, text: notModified.text },
  );
  const listed = await api('GET', `/Users/${uid}`, undefined, { 'if-none-match': `W/"1", ${tag0}` });
  const star = await api('GET', `/Users/${uid}`, undefined, { 'if-none-match': '*' });
  check('etag: If-None-Match as a list, or *, → 304', listed.status === 304 && star.status === 304, [
    listed.status,
    star.status,
  ]);
  const modified = await api('GET', `/Users/${uid}`, undefined, { 'if-none-match': 'W/"0"' });
  check(
    'etag: GET with a different If-None-Match → 200 with body',
    modified.status === 200 && modified.json?.id === uid,
    modified.status,
  );

  // If-Match mismatch: 412, nothing changes
  const stale = 'W/"0"';
  const beforeUser = snapshot(server.users.get(uid));
  const putStale = await api(
    'PUT',
    `/Users/${uid}`,
    { schemas: [USER_SCHEMA], userName: 'stale@example.com' },
    { 'if-match': stale },
  );
  check('etag: PUT with a stale If-Match → 412, SCIM error "resource changed", no scimType', is412(putStale), {
    status: putStale.status,
    body: putStale.text,
  });
  const patchStale = await api(
    'PATCH',
    `/Users/${uid}`,
    { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Stale' }] },
    { 'if-match': stale },
  );
  check('etag: PATCH with a stale If-Match → 412', is412(patchStale), {
    status: patchStale.status,
    body: patchStale.text,
  });
  const deleteStale = await api('DELETE', `/Users/${uid}`, undefined, { 'if-match': stale });
  check('etag: DELETE with a stale If-Match → 412', is412(deleteStale), {
    status: deleteStale.status,
    body: deleteStale.text,
  });
  check(
    'etag: user unchanged after the refused PUT, PATCH and DELETE',
    snapshot(server.users.get(uid)) === beforeUser && version(uid) === tag0,
  );
  const beforeGroup = snapshot(server.groups.get(gid));
  const gPatchStale = await api(
    'PATCH',
    `/Groups/${gid}`,
    { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'members' }] },
    { 'if-match': stale },
  );
  check(
    'etag: group PATCH with a stale If-Match → 412, group unchanged',
    is412(gPatchStale) && snapshot(server.groups.get(gid)) === beforeGroup,
    gPatchStale.status,
  );
  const strongForm = await api(
    'PATCH',
    `/Users/${uid}`,
    { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Strong' }] },
    { 'if-match': tag0!.slice(2) },
  );
  check(
    'etag: If-Match in strong form ("n" for W/"n") matches (opaque tags compared)',
    strongForm.status === 200 && strongForm.json?.title === 'Strong',
    { status: strongForm.status, sent: tag0!.slice(2) },
  );

  // If-Match match: 200 and a new version
  const tag1 = version(uid)!;
  const patchOk = await api(
    'PATCH',
    `/Users/${uid}`,
    { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Matched' }] },
    { 'if-match': tag1 },
  );
  const tag2 = patchOk.headers.get('etag');
  check(
    'etag: PATCH with If-Match = current → 200, new version in ETag, body and store',
    patchOk.status === 200 &&
      patchOk.json?.title === 'Matched' &&
      tag2 !== tag1 &&
      tag2 === patchOk.json?.meta?.version &&
      tag2 === version(uid),
    { status: patchOk.status, before: tag1, etag: tag2, meta: patchOk.json?.meta?.version },
  );
  const putOk = await api('PUT', `/Users/${uid}`, fullUserBody(uid, ids[1]!, 'e'), { 'if-match': tag2! });
  const tag3 = putOk.headers.get('etag');
  check(
    'etag: PUT with If-Match = current → 200, new version in ETag, body and store',
    putOk.status === 200 && tag3 !== tag2 && tag3 === putOk.json?.meta?.version && tag3 === version(uid),
    { status: putOk.status, etag: tag3 },
  );
  const reuse = await api('PUT', `/Users/${uid}`, fullUserBody(uid, ids[1]!, 'f'), { 'if-match': tag2! });
  check('etag: the tag used for the last write is stale now → 412', is412(reuse), reuse.status);
  const listMatch = await api(
    'PATCH',
    `/Users/${uid}`,
    { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Listed' }] },
    { 'if-match': `W/"0", ${tag3}` },
  );
  check(
    'etag: If-Match with a list containing the current tag → 200',
    listMatch.status === 200 && listMatch.json?.title === 'Listed',
    listMatch.status,
  );
  const starPut = await api('PUT', `/Users/${uid}`, fullUserBody(uid, ids[1]!, 'g'), { 'if-match': '*' });
  check(
    'etag: If-Match: * → 200 with a new version',
    starPut.status === 200 &&
      starPut.headers.get('etag') === version(uid) &&
      version(uid) !== listMatch.json?.meta?.version,
    starPut.status,
  );
  const noHeader = await api('PATCH', `/Users/${uid}`, {
    schemas: [PATCH_OP],
    Operations: [{ op: 'replace', path: 'title', value: 'Unconditional' }],
  });
  check(
    'etag: without If-Match writes work as before (200, new ETag)',
    noHeader.status === 200 &&
      noHeader.headers.get('etag') === version(uid) &&
      noHeader.json?.title === 'Unconditional',
    noHeader.status,
  );
  const noop = await api(
    'PATCH',
    `/Users/${uid}`,
    { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Unconditional' }] },
    { 'if-match': version(uid)! },
  );
  check(
    'etag: PATCH that changes nothing → 204 (scimmy) with the ETag of what is stored',
    noop.status === 204 && noop.headers.get('etag') === version(uid),
    { status: noop.status, etag: noop.headers.get('etag'), stored: version(uid) },
  );
  const missing = await api(
    'PUT',
    '/Users/00000000-0000-0000-0000-000000000000',
    { schemas: [USER_SCHEMA], userName: 'ghost@example.com' },
    { 'if-match': stale },
  );
  check('etag: If-Match on an unknown id → 404 (not 412)', missing.status === 404, missing.status);

  // Membership changes bump the group, not the users (their `groups` is derived)
  const gTag = version(gid)!;
  const userTag = version(newId)!;
  const addMember = await api(
    'PATCH',
    `/Groups/${gid}`,
    { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: newId }] }] },
    { 'if-match': gTag },
  );
  const memberView = await api('GET', `/Users/${newId}`);
  check(
    'etag: adding a member bumps the group (ETag = new meta.version)',
    addMember.status === 200 && addMember.headers.get('etag') === version(gid) && version(gid) !== gTag,
    { status: addMember.status, before: gTag, after: version(gid) },
  );
  check(
    'etag: …but not the member user, whose derived groups shows the group',
    version(newId) === userTag &&
      memberView.headers.get('etag') === userTag &&
      memberView.json?.groups?.some((g: { value: string }) => g.value === gid),
    { before: userTag, after: version(newId) },
  );
  const gTag2 = version(gid)!;
  const delMember = await api('DELETE', `/Users/${newId}`, undefined, { 'if-match': userTag });
  check(
    'etag: DELETE with If-Match = current → 204; the group lost the member and got a new version',
    delMember.status === 204 &&
      !server.users.has(newId) &&
      version(gid) !== gTag2 &&
      !server.groups.get(gid)?.members?.some((m: { value: string }) => m.value === newId),
    { status: delMember.status },
  );

  // bump(): someone else's edit
  const fresh = await api('GET', `/Users/${uid}`);
  const readTag = fresh.headers.get('etag')!;
  const modifiedBefore = server.users.get(uid).meta.lastModified as string;
  await new Promise((r) => setTimeout(r, 5));
  server.bump(uid);
  check(
    'bump(): new meta.version and lastModified on the stored user',
    version(uid) !== readTag && server.users.get(uid).meta.lastModified > modifiedBefore,
    { before: readTag, after: version(uid) },
  );
  const afterBump = snapshot(server.users.get(uid));
  const staleAfterBump = await api(
    'PATCH',
    `/Users/${uid}`,
    { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Overwrite' }] },
    { 'if-match': readTag },
  );
  check(
    'bump(): the tag read before is stale → 412, user unchanged',
    is412(staleAfterBump) && snapshot(server.users.get(uid)) === afterBump,
    staleAfterBump.status,
  );
  const reGet = await api('GET', `/Users/${uid}`, undefined, { 'if-none-match': readTag });
  check(
    'bump(): GET with the old tag as If-None-Match → 200 with the new ETag',
    reGet.status === 200 && reGet.headers.get('etag') === version(uid),
    reGet.status,
  );
  const userName = server.users.get(uid).userName as string;
  const byName = await api('GET', `/Users?filter=${q(`userName eq "${userName}"`)}`);
  check(
    'bump(): indexes still right (userName filter finds the user, with the new version)',
    byName.json?.totalResults === 1 && byName.json?.Resources?.[0]?.meta?.version === version(uid),
    byName.json?.totalResults,
  );
  const groupRead = (await api('GET', `/Groups/${gid}`)).headers.get('etag')!;
  server.bump(gid);
  const gAfter = await api(
    'PUT',
    `/Groups/${gid}`,
    { schemas: [GROUP_SCHEMA], displayName: 'Renamed' },
    { 'if-match': groupRead },
  );
  check(
    "bump() on a group: the group's old tag is stale → 412",
    version(gid) !== groupRead && is412(gAfter) && server.groups.get(gid)?.displayName !== 'Renamed',
    gAfter.status,
  );
  let threw = false;
  try {
    server.bump('no-such-id');
  } catch {
    threw = true;
  }
  check('bump() of an unknown id throws', threw);

  // An edit that lands while the request body is still arriving: the write-time check refuses it
  const racing = await slowPut(
    server,
    `/Users/${uid}`,
    fullUserBody(uid, ids[1]!, 'race'),
    { 'if-match': version(uid)! },
    () => server.bump(uid),
  );
  const afterRace = server.users.get(uid);
  check(
    'etag: bump() between the If-Match check and the write → 412, the bumped user kept',
    is412(racing) && afterRace.userName === userName && afterRace.title !== 'Title race',
    { status: racing.status, body: racing.text },
  );

  // The list endpoint is untouched (no per-resource ETag, no If-Match)
  const list = await api('GET', '/Users?count=2', undefined, { 'if-match': stale });
  check('etag: list responses unaffected', list.status === 200 && list.json?.Resources?.length === 2, list.status);
  await server.close();
}

/** The command-line flags: --no-patch and --etag, seen through ServiceProviderConfig. */
async function flags(): Promise<void> {
  const script = fileURLToPath(new URL('./scimmy-server.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', script, '--port', '0', '--users', '2', '--no-patch', '--etag'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const url = await new Promise<string>((resolveUrl, rejectUrl) => {
      let out = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('\n')) resolveUrl(out.split('\n')[0]!.trim());
      });
      child.once('exit', (code) => rejectUrl(new Error(`server exited with ${code}`)));
    });
    const headers = { authorization: 'Bearer test-token' };
    const spc = (await (await fetch(`${url}/ServiceProviderConfig`, { headers })).json()) as any;
    const users = (await (await fetch(`${url}/Users`, { headers })).json()) as any;
    const id = users?.Resources?.[0]?.id as string;
    const patch = await fetch(`${url}/Users/${id}`, {
      method: 'PATCH',
      headers: { ...headers, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: [PATCH_OP], Operations: [] }),
    });
    const one = await fetch(`${url}/Users/${id}`, { headers });
    const body = (await one.json()) as any;
    check(
      'flags --no-patch --etag: SPC patch false, etag true; PATCH 501; ETag = meta.version',
      spc?.patch?.supported === false &&
        spc?.etag?.supported === true &&
        patch.status === 501 &&
        one.headers.get('etag') === body?.meta?.version,
      { patch: spc?.patch, etag: spc?.etag, patchStatus: patch.status },
    );
  } catch (ex) {
    check('flags --no-patch --etag', false, (ex as Error).message);
  } finally {
    child.kill('SIGTERM');
  }
}

async function perf(): Promise<void> {
  for (const users of [10_000]) {
    const t0 = performance.now();
    const server = await startScimmyServer({ users, groups: 20 });
    const seeded = performance.now() - t0;
    const api = client(server);
    let pages = 0;
    let count = 0;
    const t1 = performance.now();
    for (let start = 1; ; start += 200) {
      const page = await api('GET', `/Users?startIndex=${start}&count=200`);
      pages++;
      const n = (page.json?.Resources ?? []).length as number;
      count += n;
      if (n < 200) break;
    }
    const paged = performance.now() - t1;
    console.log(
      `PERF  ${users} users: seed ${Math.round(seeded)} ms; paged ${count} users in ` +
        `${pages} pages of 200: ${Math.round(paged)} ms (${(paged / pages).toFixed(1)} ` +
        `ms/page)`,
    );
    check(`paging ${users} users returned all of them`, count === users, count);

    const t2 = performance.now();
    const filtered = await api(
      'GET',
      `/Users?filter=${q('active eq true and emails.value co "example.com"')}&count=200`,
    );
    const filteredFirst = performance.now() - t2;
    const t3 = performance.now();
    await api('GET', `/Users?filter=${q('active eq true and emails.value co "example.com"')}&count=200&startIndex=201`);
    console.log(
      `PERF  filtered list over ${users}: first page ${Math.round(filteredFirst)} ms ` +
        `(total ${filtered.json?.totalResults}), next page (cached) ` +
        `${Math.round(performance.now() - t3)} ms`,
    );
    await server.close();
  }

  const t0 = performance.now();
  const big = await startScimmyServer({ users: 100_000, groups: 50 });
  console.log(`PERF  seeding 100,000 users + 50 groups: ${Math.round(performance.now() - t0)} ms`);
  const api = client(big);
  for (const start of [1, 50_001, 99_801]) {
    const t = performance.now();
    const page = await api('GET', `/Users?startIndex=${start}&count=200`);
    console.log(
      `PERF  100,000 users, startIndex=${start}: ${page.json?.Resources?.length} ` +
        `resources in ${Math.round(performance.now() - t)} ms`,
    );
  }
  const tg = performance.now();
  const groups = await api('GET', '/Groups?count=50&excludedAttributes=members');
  console.log(
    `PERF  100,000 users, 50 groups listed without members: ` +
      `${Math.round(performance.now() - tg)} ms (${groups.json?.Resources?.length})`,
  );
  const tm = performance.now();
  const withMembers = await api('GET', '/Groups?count=5');
  const memberCount = (withMembers.json?.Resources ?? []).reduce(
    (n: number, g: { members?: unknown[] }) => n + (g.members?.length ?? 0),
    0,
  );
  console.log(
    `PERF  100,000 users, 5 groups listed with members (${memberCount} members): ` +
      `${Math.round(performance.now() - tm)} ms`,
  );
  await big.close();
}

await functional();
await noPatch();
await etags();
await flags();
if (process.argv.includes('--perf')) await perf();
console.log(failures === 0 ? 'ALL CHECKS PASSED' : `${failures} CHECK(S) FAILED`);
process.exitCode = failures === 0 ? 0 : 1;

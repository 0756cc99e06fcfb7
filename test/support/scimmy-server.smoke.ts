/**
 * Smoke check of the scimmy test host (not part of the test suite):
 *   node --import tsx test/support/scimmy-server.smoke.ts [--perf]
 * Prints one line per check and exits non-zero when one fails. --perf adds the paging timings
 * (10,000 users page by page, seeding 100,000 users, a page at the end of 100,000).
 */
import { startScimmyServer, type ScimmyServer } from './scimmy-server.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

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
  return async (method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<Reply> => {
    const headers: Record<string, string> = { accept: 'application/scim+json', ...extraHeaders };
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/scim+json';
    const res = await fetch(server.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
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
    spc.json?.patch?.supported === true && spc.json?.filter?.supported === true && spc.json?.filter?.maxResults === 200 &&
      spc.json?.sort?.supported === true && spc.json?.bulk?.supported === false && spc.json?.etag?.supported === false,
  );
  check('SPC: one bearer authentication scheme', spc.json?.authenticationSchemes?.length === 1, spc.json?.authenticationSchemes);
  const cappedSpc = await client(capped, 'other-token')('GET', '/ServiceProviderConfig');
  check('capped server SPC says maxResults=7', cappedSpc.json?.filter?.maxResults === 7, cappedSpc.json?.filter);
  const rts = await api('GET', '/ResourceTypes');
  const userRt = rts.json?.Resources?.find((r: { name: string }) => r.name === 'User');
  check('ResourceTypes: User with enterprise extension', rts.status === 200 && userRt?.schemaExtensions?.[0]?.schema === ENTERPRISE, userRt);
  const schemas = await api('GET', '/Schemas');
  check('Schemas lists User, Group, EnterpriseUser', schemas.status === 200 && schemas.json?.totalResults === 3, schemas.json?.Resources?.map((s: { id: string }) => s.id));

  // --- auth
  const noAuth = await client(server, null)('GET', '/Users');
  check('401 without token, SCIM error body, no WWW-Authenticate', noAuth.status === 401 && noAuth.json?.status === '401' && !noAuth.headers.has('www-authenticate'), noAuth.text);
  const badAuth = await client(server, 'nope')('GET', '/ServiceProviderConfig');
  check('401 with a wrong token on discovery', badAuth.status === 401, badAuth.text);

  // --- paging
  const p1 = await api('GET', '/Users?startIndex=1&count=10');
  check('page 1: 10 resources, itemsPerPage 10, totalResults 50', p1.json?.Resources?.length === 10 && p1.json?.itemsPerPage === 10 && p1.json?.totalResults === 50, { itemsPerPage: p1.json?.itemsPerPage, totalResults: p1.json?.totalResults });
  check('page 1 in store order', JSON.stringify(p1.json?.Resources?.map((r: { id: string }) => r.id)) === JSON.stringify(ids.slice(0, 10)));
  const p5 = await api('GET', '/Users?startIndex=5&count=10');
  check('startIndex=5&count=10 returns users 5..14 (scimmy would drop 4 of them)', JSON.stringify(p5.json?.Resources?.map((r: { id: string }) => r.id)) === JSON.stringify(ids.slice(4, 14)) && p5.json?.startIndex === 5, p5.json?.Resources?.length);
  const p14 = await api('GET', '/Users?startIndex=14&count=20');
  check('startIndex=14&count=20 returns users 14..33', JSON.stringify(p14.json?.Resources?.map((r: { id: string }) => r.id)) === JSON.stringify(ids.slice(13, 33)), p14.json?.Resources?.length);
  const last = await api('GET', '/Users?startIndex=45&count=10');
  check('short last page: 6 resources, itemsPerPage 6', last.json?.Resources?.length === 6 && last.json?.itemsPerPage === 6, { n: last.json?.Resources?.length, itemsPerPage: last.json?.itemsPerPage });
  const beyond = await api('GET', '/Users?startIndex=51&count=10');
  check('beyond the end: 0 resources, itemsPerPage 0, totalResults 50', beyond.json?.Resources?.length === 0 && beyond.json?.itemsPerPage === 0 && beyond.json?.totalResults === 50, beyond.json);
  const zero = await api('GET', '/Users?count=0');
  check('count=0: no resources, totalResults 50', zero.json?.Resources?.length === 0 && zero.json?.totalResults === 50, zero.json);
  const dflt = await api('GET', '/Users');
  check('no count: default page of 20', dflt.json?.Resources?.length === 20 && dflt.json?.itemsPerPage === 20, dflt.json?.itemsPerPage);
  const walked: string[] = [];
  for (let start = 1; ; start += 7) {
    const page = await api('GET', `/Users?startIndex=${start}&count=7`);
    const got = (page.json?.Resources ?? []) as Array<{ id: string }>;
    walked.push(...got.map((r) => r.id));
    if (got.length < 7) break;
  }
  check('walking count=7 yields every user once, in order', JSON.stringify(walked) === JSON.stringify(ids), walked.length);
  const cap = await client(capped, 'other-token')('GET', '/Users?count=100');
  check('maxPageSize=7 caps count=100 to 7 (itemsPerPage 7, totalResults 30)', cap.json?.Resources?.length === 7 && cap.json?.itemsPerPage === 7 && cap.json?.totalResults === 30, { n: cap.json?.Resources?.length, itemsPerPage: cap.json?.itemsPerPage });

  // --- reads
  const someone = server.users.get(ids[10]!)!;
  const one = await api('GET', `/Users/${someone.id}`);
  check('GET by id: 200 with meta (created, lastModified, resourceType, location, version)', one.status === 200 && one.json?.id === someone.id &&
    one.json?.meta?.location === `${server.url}/Users/${someone.id}` && /^W\/"\d+"$/.test(one.json?.meta?.version ?? '') && !!one.json?.meta?.created && one.json?.meta?.resourceType === 'User', one.json?.meta);
  check('user carries enterprise extension and groups', !!one.json?.[ENTERPRISE]?.employeeNumber && Array.isArray(one.json?.groups), { ext: one.json?.[ENTERPRISE], groups: one.json?.groups });
  const missing = await api('GET', '/Users/00000000-0000-0000-0000-000000000000');
  check('GET unknown id: 404 SCIM error', missing.status === 404 && missing.json?.status === '404', missing.text);

  // --- writes
  const created = await api('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'New.Person@Example.com', emails: [{ value: 'new.person@example.com', type: 'work', primary: true }], active: true });
  check('POST create: 201 with id and meta', created.status === 201 && typeof created.json?.id === 'string' && created.json?.meta?.created === created.json?.meta?.lastModified, { status: created.status, location: created.headers.get('location'), meta: created.json?.meta });
  const newId = created.json?.id as string;
  const dup = await api('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'new.person@example.com' });
  check('POST duplicate userName (other case): 409 uniqueness', dup.status === 409 && dup.json?.scimType === 'uniqueness', dup.text);

  // --- filters
  const byName = await api('GET', `/Users?filter=${q(`userName eq "${someone.userName.toUpperCase()}"`)}`);
  check('userName eq, different case: exactly that user', byName.json?.totalResults === 1 && byName.json?.Resources?.[0]?.id === someone.id, byName.json?.totalResults ?? byName.text);
  const byEmail = await api('GET', `/Users?filter=${q(`emails.value eq "${(someone.emails as Array<{ value: string }>)[0]!.value}"`)}`);
  check('emails.value eq', byEmail.json?.totalResults === 1 && byEmail.json?.Resources?.[0]?.id === someone.id, byEmail.json?.totalResults ?? byEmail.text);
  const byEmailPath = await api('GET', `/Users?filter=${q(`emails[type eq "work" and value eq "${someone.userName.toUpperCase()}"]`)}`);
  check('emails[type eq "work" and value eq …]', byEmailPath.json?.totalResults === 1, byEmailPath.json?.totalResults ?? byEmailPath.text);
  const familyName = (someone.name as { familyName: string }).familyName;
  const co = await api('GET', `/Users?filter=${q(`userName co ".${familyName.toLowerCase().replace(/[^a-z]/g, '').slice(0, 4).toUpperCase()}"`)}&count=200`);
  const expectedCo = [...server.users.values()].filter((u) => u.userName.toLowerCase().includes('.' + familyName.toLowerCase().replace(/[^a-z]/g, '').slice(0, 4))).length;
  check('userName co (case-insensitive)', co.status === 200 && co.json?.totalResults === expectedCo && expectedCo >= 1, { got: co.json?.totalResults, expectedCo });
  // the user created above has no name, phoneNumbers, title or enterprise extension
  const given = (someone.name as { givenName: string }).givenName;
  const byGiven = await api('GET', `/Users?filter=${q(`name.givenName eq "${given}"`)}&count=200`);
  const expectedGiven = [...server.users.values()].filter((u) => u.name?.givenName === given).length;
  check('name.givenName eq with a user lacking name: no crash', byGiven.status === 200 && byGiven.json?.totalResults === expectedGiven, byGiven.json?.totalResults ?? byGiven.text);
  const mobiles = await api('GET', `/Users?filter=${q('phoneNumbers[type eq "mobile"]')}&count=200`);
  const expectedMobiles = [...server.users.values()].filter((u) => Array.isArray(u.phoneNumbers)).length;
  check('phoneNumbers[type eq "mobile"] (most users lack phoneNumbers)', mobiles.status === 200 && mobiles.json?.totalResults === expectedMobiles, { got: mobiles.json?.totalResults ?? mobiles.text, expectedMobiles });
  const dept = (someone[ENTERPRISE] as { department: string }).department;
  const byDept = await api('GET', `/Users?filter=${q(`${ENTERPRISE}:department eq "${dept.toLowerCase()}"`)}&count=200`);
  const expectedDept = [...server.users.values()].filter((u) => u[ENTERPRISE]?.department === dept).length;
  check('URN-qualified enterprise department eq', byDept.status === 200 && byDept.json?.totalResults === expectedDept && expectedDept > 0, { got: byDept.json?.totalResults ?? byDept.text, expectedDept });
  const inactive = await api('GET', `/Users?filter=${q('active eq false')}&count=200`);
  check('active eq false', inactive.status === 200 && inactive.json?.totalResults === [...server.users.values()].filter((u) => u.active === false).length, inactive.json?.totalResults);
  const notOr = await api('GET', `/Users?filter=${q(`not (userName eq "${someone.userName}" or userName eq "new.person@example.com")`)}&count=200`);
  check('not (a or b) excludes both (scimmy alone returns everyone)', notOr.json?.totalResults === server.users.size - 2, notOr.json?.totalResults);
  const bad = await api('GET', `/Users?filter=${q('userName eq')}`);
  check('malformed filter: 400 invalidFilter', bad.status === 400 && bad.json?.scimType === 'invalidFilter', bad.text);
  const sorted = await api('GET', '/Users?sortBy=userName&sortOrder=descending&count=5');
  const expectedSorted = [...server.users.values()].map((u) => u.userName.toLowerCase()).sort().reverse().slice(0, 5);
  check('sortBy=userName descending', JSON.stringify(sorted.json?.Resources?.map((r: { userName: string }) => r.userName.toLowerCase())) === JSON.stringify(expectedSorted), sorted.json?.Resources?.map((r: { userName: string }) => r.userName));
  const projected = await api('GET', `/Users?attributes=userName&count=2`);
  check('attributes=userName: id and userName only', projected.status === 200 && Object.keys(projected.json?.Resources?.[0] ?? {}).sort().join() === 'id,userName', projected.json?.Resources?.[0]);
  const cutoff = (server.users.get(ids[39]!)!.meta as { lastModified: string }).lastModified.replace('.000Z', 'Z');
  const recent = await api('GET', `/Users?filter=${q(`meta.lastModified gt "${cutoff}"`)}&count=200`);
  check('meta.lastModified gt (dateTime comparison)', recent.status === 200 && recent.json?.totalResults === 11, { cutoff, got: recent.json?.totalResults ?? recent.text });
  const byCreated = await api('GET', '/Users?sortBy=meta.created&sortOrder=descending&count=3');
  check('sortBy=meta.created descending', byCreated.json?.Resources?.[0]?.id === newId && byCreated.json?.Resources?.[1]?.id === ids[49], byCreated.json?.Resources?.map((r: { id: string }) => r.id));
  const search = await api('POST', '/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: `userName eq "${someone.userName}"`, startIndex: 1, count: 10 });
  check('POST /Users/.search', search.status === 200 && search.json?.totalResults === 1, search.json?.totalResults ?? search.text);
  const groupsFilter = await api('GET', `/Groups?filter=${q(`members[value eq "${newId}"]`)}`);
  check('Groups filter members[value eq …] (new user is in none)', groupsFilter.status === 200 && groupsFilter.json?.totalResults === 0, groupsFilter.json?.totalResults ?? groupsFilter.text);

  // --- PUT
  const before = await api('GET', `/Users/${newId}`);
  await new Promise((r) => setTimeout(r, 5));
  const put = await api('PUT', `/Users/${newId}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'new.person@example.com', displayName: 'New Person', title: 'Intern', name: { givenName: 'New', familyName: 'Person' }, emails: [{ value: 'new.person@example.com', type: 'work', primary: true }], phoneNumbers: [{ value: '+1-555-000-0000', type: 'mobile' }] });
  check('PUT replace: 200, new version and lastModified, created kept', put.status === 200 && put.json?.title === 'Intern' && put.json?.meta?.version !== before.json?.meta?.version &&
    put.json?.meta?.lastModified !== before.json?.meta?.lastModified && put.json?.meta?.created === before.json?.meta?.created, put.json?.meta ?? put.text);
  const putDup = await api('PUT', `/Users/${newId}`, { userName: someone.userName.toUpperCase() });
  check('PUT taking another user\'s userName: 409', putDup.status === 409, putDup.text);

  // --- PATCH user
  const patch = async (path: string, ops: unknown[]): Promise<Reply> => api('PATCH', path, { schemas: [PATCH_OP], Operations: ops });
  const pTitle = await patch(`/Users/${newId}`, [{ op: 'replace', path: 'title', value: 'Engineer' }]);
  check('PATCH replace title', pTitle.status === 200 && pTitle.json?.title === 'Engineer', pTitle.json?.title ?? pTitle.text);
  const pEmail = await patch(`/Users/${newId}`, [{ op: 'replace', path: 'emails[type eq "work"].value', value: 'np@example.com' }]);
  check('PATCH replace emails[type eq "work"].value', pEmail.status === 200 && pEmail.json?.emails?.[0]?.value === 'np@example.com', pEmail.json?.emails ?? pEmail.text);
  const pAdd = await patch(`/Users/${newId}`, [{ op: 'add', path: 'phoneNumbers', value: [{ value: '+1-555-111-1111', type: 'work' }] }]);
  check('PATCH add phoneNumbers', pAdd.status === 200 && pAdd.json?.phoneNumbers?.length === 2, pAdd.json?.phoneNumbers ?? pAdd.text);
  const pRemove = await patch(`/Users/${newId}`, [{ op: 'remove', path: 'phoneNumbers[type eq "mobile"]' }]);
  check('PATCH remove phoneNumbers[type eq "mobile"]', pRemove.status === 200 && pRemove.json?.phoneNumbers?.length === 1 && pRemove.json?.phoneNumbers?.[0]?.type === 'work', pRemove.json?.phoneNumbers ?? pRemove.text);
  const pExt = await patch(`/Users/${newId}`, [{ op: 'add', path: `${ENTERPRISE}:department`, value: 'Research' }]);
  check('PATCH add enterprise department', pExt.status === 200 && pExt.json?.[ENTERPRISE]?.department === 'Research', pExt.json?.[ENTERPRISE] ?? pExt.text);
  const pActive = await patch(`/Users/${newId}`, [{ op: 'replace', value: { active: false } }]);
  check('PATCH replace without path (active false)', pActive.status === 200 && pActive.json?.active === false, pActive.json?.active ?? pActive.text);

  // --- groups and PATCH members
  const groups = await api('GET', '/Groups');
  const group = groups.json?.Resources?.[0];
  check('Groups list: 5 groups with members (value, display, type)', groups.json?.totalResults === 5 && typeof group?.members?.[0]?.display === 'string' && group?.members?.[0]?.type === 'User', group?.members?.[0]);
  const addMember = await patch(`/Groups/${group.id}`, [{ op: 'add', path: 'members', value: [{ value: newId }] }]);
  check('PATCH group add member', addMember.status === 200 && addMember.json?.members?.some((m: { value: string }) => m.value === newId), addMember.json?.members?.length ?? addMember.text);
  const userGroups = await api('GET', `/Users/${newId}`);
  check('user.groups reflects the membership', userGroups.json?.groups?.some((g: { value: string; display: string }) => g.value === group.id && g.display === group.displayName), userGroups.json?.groups);
  const byGroup = await api('GET', `/Users?filter=${q(`groups.value eq "${group.id}"`)}&count=200`);
  check('Users filter groups.value eq (computed attribute)', byGroup.json?.totalResults === addMember.json?.members?.length, { got: byGroup.json?.totalResults, members: addMember.json?.members?.length });
  const unknownMember = await patch(`/Groups/${group.id}`, [{ op: 'add', path: 'members', value: [{ value: 'no-such-user' }] }]);
  check('PATCH group add unknown member: 400', unknownMember.status === 400, unknownMember.text);
  const firstMember = group.members[0].value as string;
  const removeMember = await patch(`/Groups/${group.id}`, [{ op: 'remove', path: `members[value eq "${firstMember}"]` }]);
  check('PATCH group remove members[value eq "ID"]', removeMember.status === 200 && !removeMember.json?.members?.some((m: { value: string }) => m.value === firstMember) &&
    removeMember.json?.members?.length === addMember.json?.members?.length - 1, removeMember.json?.members?.length ?? removeMember.text);
  const newGroup = await api('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Contractors', members: [{ value: newId }] });
  check('POST group with a member', newGroup.status === 201 && newGroup.json?.members?.[0]?.display === 'New Person', newGroup.json ?? newGroup.text);
  const patchExcluded = await patch(`/Groups/${group.id}?excludedAttributes=members`, [{ op: 'replace', path: 'displayName', value: `${group.displayName} Team` }]);
  const afterExcluded = await api('GET', `/Groups/${group.id}`);
  check('PATCH ?excludedAttributes=members keeps the members (scimmy alone wipes them)', patchExcluded.status === 200 && afterExcluded.json?.members?.length === removeMember.json?.members?.length &&
    afterExcluded.json?.displayName === `${group.displayName} Team`, { status: patchExcluded.status, members: afterExcluded.json?.members?.length });
  const groupsExcluded = await api('GET', '/Groups?excludedAttributes=members');
  check('Groups excludedAttributes=members', groupsExcluded.status === 200 && groupsExcluded.json?.Resources?.every((g: { members?: unknown }) => g.members === undefined), groupsExcluded.json?.Resources?.[0]);

  // --- DELETE
  const del = await api('DELETE', `/Users/${newId}`);
  check('DELETE user: 204', del.status === 204, del.text);
  const gone = await api('GET', `/Users/${newId}`);
  check('deleted user: 404', gone.status === 404, gone.status);
  const groupAfter = await api('GET', `/Groups/${group.id}`);
  check('deleted user removed from group members', !groupAfter.json?.members?.some((m: { value: string }) => m.value === newId), groupAfter.json?.members?.length);
  const delAgain = await api('DELETE', `/Users/${newId}`);
  check('DELETE again: 404', delAgain.status === 404, delAgain.text);
  const delGroup = await api('DELETE', `/Groups/${newGroup.json?.id}`);
  check('DELETE group: 204', delGroup.status === 204, delGroup.text);

  // --- other endpoints
  const bulk = await api('POST', '/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: [] });
  check('Bulk not supported: 501', bulk.status === 501, bulk.text);

  // --- faults
  server.addFault({ method: 'GET', path: /\/Users(\?|$)/, status: 500, skip: 1 });
  const f1 = await api('GET', '/Users?count=1');
  const f2 = await api('GET', '/Users?count=1');
  const f3 = await api('GET', '/Users?count=1');
  check('fault skip=1: list OK, then 500, then OK again', f1.status === 200 && f2.status === 500 && f3.status === 200, [f1.status, f2.status, f3.status]);
  server.addFault({ path: /\/Users\?/, status: 429, times: 2, headers: { 'Retry-After': '1' }, body: '<html>Too many</html>' });
  const r1 = await api('GET', '/Users?count=1');
  const r2 = await api('GET', '/Users?count=1');
  const r3 = await api('GET', '/Users?count=1');
  check('fault times=2 with Retry-After and an HTML body', r1.status === 429 && r1.headers.get('retry-after') === '1' && (r1.headers.get('content-type') ?? '').startsWith('text/html') && r2.status === 429 && r3.status === 200, [r1.status, r2.status, r3.status]);
  server.clearFaults();
  server.addFault({ path: /\/Groups/, status: 0, hang: true, times: 2 });
  const hung = await fetch(`${server.url}/Groups`, { headers: { authorization: 'Bearer test-token' }, signal: AbortSignal.timeout(300) }).then(
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
  check('requests recorded with method, path, headers and parsed body', recorded.length >= 8 && (recorded[0]!.body as { schemas?: string[] })?.schemas?.[0] === PATCH_OP &&
    recorded[0]!.headers['authorization'] === 'Bearer test-token', recorded[0]);
  await new Promise((r) => setTimeout(r, 50));
  check('faulted requests recorded with faulted: true', server.requests.filter((r) => r.faulted).length === 5, server.requests.filter((r) => r.faulted).length);

  const t0 = performance.now();
  await server.close();
  check('close() with a hanging request returns promptly', performance.now() - t0 < 1000, `${Math.round(performance.now() - t0)} ms`);
  check('the hanging request saw its socket closed', (await pending) === 'socket closed');
  await capped.close();
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
    console.log(`PERF  ${users} users: seed ${Math.round(seeded)} ms; paged ${count} users in ${pages} pages of 200: ${Math.round(paged)} ms (${(paged / pages).toFixed(1)} ms/page)`);
    check(`paging ${users} users returned all of them`, count === users, count);

    const t2 = performance.now();
    const filtered = await api('GET', `/Users?filter=${q('active eq true and emails.value co "example.com"')}&count=200`);
    const filteredFirst = performance.now() - t2;
    const t3 = performance.now();
    await api('GET', `/Users?filter=${q('active eq true and emails.value co "example.com"')}&count=200&startIndex=201`);
    console.log(`PERF  filtered list over ${users}: first page ${Math.round(filteredFirst)} ms (total ${filtered.json?.totalResults}), next page (cached) ${Math.round(performance.now() - t3)} ms`);
    await server.close();
  }

  const t0 = performance.now();
  const big = await startScimmyServer({ users: 100_000, groups: 50 });
  console.log(`PERF  seeding 100,000 users + 50 groups: ${Math.round(performance.now() - t0)} ms`);
  const api = client(big);
  for (const start of [1, 50_001, 99_801]) {
    const t = performance.now();
    const page = await api('GET', `/Users?startIndex=${start}&count=200`);
    console.log(`PERF  100,000 users, startIndex=${start}: ${page.json?.Resources?.length} resources in ${Math.round(performance.now() - t)} ms`);
  }
  const tg = performance.now();
  const groups = await api('GET', '/Groups?count=50&excludedAttributes=members');
  console.log(`PERF  100,000 users, 50 groups listed without members: ${Math.round(performance.now() - tg)} ms (${groups.json?.Resources?.length})`);
  const tm = performance.now();
  const withMembers = await api('GET', '/Groups?count=5');
  console.log(`PERF  100,000 users, 5 groups listed with members (${withMembers.json?.Resources?.reduce((n: number, g: { members?: unknown[] }) => n + (g.members?.length ?? 0), 0)} members): ${Math.round(performance.now() - tm)} ms`);
  await big.close();
}

await functional();
if (process.argv.includes('--perf')) await perf();
console.log(failures === 0 ? 'ALL CHECKS PASSED' : `${failures} CHECK(S) FAILED`);
process.exitCode = failures === 0 ? 0 : 1;

/**
 * The quirk proxy (test/support/quirk-proxy.ts) in front of `scimctl serve`: each switch is
 * proved with plain fetch, by asking the proxy and then asking the upstream directly, so that a
 * behaviour is shown to be the proxy's (the upstream answers differently) and a write is shown to
 * have landed, or not, where the quirk says. The journey tests rely on these behaviours being exact.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  FAULT_KINDS,
  QUIRK_SETS,
  startQuirkProxy,
  type Faults,
  type QuirkProxy,
  type Quirks,
} from '../support/quirk-proxy.ts';
import { waitFor } from './helpers.ts';
import {
  URN,
  qs,
  requester,
  startServe,
  teardown,
  type Json,
  type Requester,
  type ScimResponse,
  type ServeProcess,
} from './serve-helpers.ts';

const TOKEN = 'quirk-proxy-e2e-token-3f9a61';

let server: ServeProcess | undefined;
let upstream: Requester;
const proxies: QuirkProxy[] = [];

before(async () => {
  server = await startServe({ token: TOKEN, args: ['--seed-users', '6', '--seed-groups', '2'] });
  upstream = server.request;
});

after(async () => {
  for (const p of proxies) await p.close();
  await teardown([server]);
});

async function startProxy(quirks: Quirks, faults?: Faults): Promise<{ proxy: QuirkProxy; req: Requester }> {
  const proxy = await startQuirkProxy(server!.url, quirks, faults);
  proxies.push(proxy);
  return { proxy, req: requester(proxy.url, TOKEN) };
}

// ---------------------------------------------------------------------------------------------
// Helpers

function expectStatus(res: ScimResponse, status: number, what: string): void {
  assert.equal(res.status, status, `${what}: expected HTTP ${status}, got ${res.status}: ${res.text.slice(0, 400)}`);
}

let serial = 0;
const uniqueName = (stem: string, domain = 'quirks.example.com') =>
  `${stem}.${++serial}.${Date.now().toString(36)}@${domain}`;

async function createUser(req: Requester, body: Json): Promise<Json> {
  const res = await req('POST', '/Users', { body: { schemas: [URN.user], ...body } });
  expectStatus(res, 201, `POST /Users ${body.userName}`);
  return res.body;
}

async function createGroup(req: Requester, displayName: string, members: Json[] = []): Promise<Json> {
  const res = await req('POST', '/Groups', { body: { schemas: [URN.group], displayName, members } });
  expectStatus(res, 201, `POST /Groups ${displayName}`);
  return res.body;
}

async function get(req: Requester, path: string): Promise<Json> {
  const res = await req('GET', path);
  expectStatus(res, 200, `GET ${path}`);
  return res.body;
}

async function list(req: Requester, resource: 'Users' | 'Groups', filter: string): Promise<ScimResponse> {
  return req('GET', `/${resource}${qs({ filter })}`);
}

/** The upstream's view of a user found by userName (the upstream id and all). */
async function upstreamUser(userName: string): Promise<Json | undefined> {
  const res = await list(upstream, 'Users', `userName eq ${JSON.stringify(userName)}`);
  expectStatus(res, 200, `upstream lookup of ${userName}`);
  return res.body.Resources[0];
}

const memberIds = (group: Json): string[] => ((group.members ?? []) as Json[]).map((m) => m.value as string).sort();
const patch = (...Operations: Json[]) => ({ body: { schemas: [URN.patch], Operations } });

function assertEmptyList(res: ScimResponse, what: string): void {
  expectStatus(res, 200, what);
  assert.equal(res.body.totalResults, 0, `${what}: totalResults`);
  assert.deepEqual(res.body.Resources ?? [], [], `${what}: Resources`);
}

function assertInvalidFilter(res: ScimResponse, what: string): void {
  expectStatus(res, 400, what);
  assert.equal(res.body?.scimType, 'invalidFilter', `${what}: scimType in ${res.text}`);
}

/**
 * A write whose request is sent only in part: the proxy has its headers (so the write is in flight)
 * until `finish` sends the rest. That is how two writes are made to overlap without timing guesses.
 */
function heldWrite(url: string, method: string, body: Json): { finish(): Promise<{ status: number; text: string }> } {
  const u = new URL(url);
  const payload = Buffer.from(JSON.stringify(body));
  const req = httpRequest({
    host: u.hostname,
    port: u.port,
    path: u.pathname + u.search,
    method,
    agent: false,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/scim+json',
      'content-length': String(payload.length),
    },
  });
  const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  req.write(payload.subarray(0, 8));
  return {
    finish() {
      req.end(payload.subarray(8));
      return answer;
    },
  };
}

// ---------------------------------------------------------------------------------------------

describe('QUIRK_SETS', () => {
  test('names each switch alone, and "all" with every switch on', () => {
    const names = Object.keys(QUIRK_SETS).filter((n) => n !== 'all');
    for (const name of [
      'partialSchemas',
      'noFilters',
      'limitedFilters',
      'writeOnlyMembers',
      'lockedWrites',
      'lossy',
      'userDataIds',
    ]) {
      assert.ok(names.includes(name), `QUIRK_SETS.${name}`);
    }
    for (const name of names)
      assert.deepEqual(QUIRK_SETS[name], { [name]: true }, `QUIRK_SETS.${name} turns on ${name} only`);
    assert.deepEqual(QUIRK_SETS.all, Object.fromEntries(names.map((n) => [n, true])));
  });
});

describe('no quirks: the proxy passes everything through', () => {
  let proxy: QuirkProxy;
  let req: Requester;
  before(async () => ({ proxy, req } = await startProxy({})));

  test('reads come back byte for byte, meta.location still the upstream', async () => {
    for (const path of [
      '/Users?count=3&sortBy=userName',
      '/Groups',
      '/Schemas',
      '/ServiceProviderConfig',
      `/Users${qs({ filter: 'userName sw "a"' })}`,
    ]) {
      const [viaProxy, direct] = [await req('GET', path), await upstream('GET', path)];
      expectStatus(viaProxy, 200, `GET ${path} through the proxy`);
      assert.equal(viaProxy.text, direct.text, `GET ${path}: same bytes`);
      assert.equal(viaProxy.headers.get('content-type'), direct.headers.get('content-type'));
    }
  });

  test('writes and errors pass through: Location, 404, 401 with its WWW-Authenticate', async () => {
    const created = await createUser(req, { userName: uniqueName('plain') });
    const again = await req('GET', `/Users/${encodeURIComponent(created.id)}`);
    assert.equal(again.text, (await upstream('GET', `/Users/${created.id}`)).text);
    const res = await req('POST', '/Users', { body: { schemas: [URN.user], userName: uniqueName('plain') } });
    assert.equal(res.headers.get('location'), `${server!.url}/Users/${res.body.id}`, 'Location is the upstream one');
    expectStatus(await req('GET', '/Users/no-such-user'), 404, 'unknown id');
    const unauth = await req('GET', '/Users', { auth: null });
    expectStatus(unauth, 401, 'no token');
    assert.ok(unauth.headers.get('www-authenticate'), 'WWW-Authenticate passes through');
    expectStatus(await req('DELETE', `/Users/${created.id}`), 204, 'DELETE');
    assert.equal(proxy.stats.answeredLocally, 0, 'nothing was answered by the proxy itself');
  });
});

describe('partialSchemas', () => {
  let req: Requester;
  before(async () => ({ req } = await startProxy(QUIRK_SETS.partialSchemas!)));

  const names = (schema: Json) => (schema.attributes as Json[]).map((a) => a.name as string);
  const addressSubs = (schema: Json) =>
    ((schema.attributes as Json[]).find((a) => a.name === 'addresses').subAttributes as Json[]).map(
      (s) => s.name as string,
    );

  test(
    'the User schema lacks groups, photos, x509Certificates and addresses.primary; ' + 'the rest is as upstream',
    async () => {
      const direct = (await get(upstream, '/Schemas')).Resources as Json[];
      const upUser = direct.find((s) => s.id === URN.user);
      for (const a of ['groups', 'photos', 'x509Certificates'])
        assert.ok(names(upUser).includes(a), `upstream declares ${a}`);
      assert.ok(addressSubs(upUser).includes('primary'), 'upstream declares addresses.primary');

      for (const path of ['/Schemas', `/Schemas/${URN.user}`]) {
        const body = await get(req, path);
        const user = path === '/Schemas' ? (body.Resources as Json[]).find((s) => s.id === URN.user) : body;
        assert.deepEqual(
          names(user),
          names(upUser).filter((n) => !['groups', 'photos', 'x509Certificates'].includes(n)),
          `${path}: User attributes`,
        );
        assert.deepEqual(
          addressSubs(user),
          addressSubs(upUser).filter((n) => n !== 'primary'),
          `${path}: addresses sub-attributes`,
        );
        if (path === '/Schemas') {
          for (const other of direct.filter((s) => s.id !== URN.user)) {
            assert.deepEqual(
              (body.Resources as Json[]).find((s) => s.id === other.id),
              other,
              `${other.id} untouched`,
            );
          }
        }
      }
    },
  );

  test('Bulk still passes through', async () => {
    const userName = uniqueName('bulk-partial');
    const res = await req('POST', '/Bulk', {
      body: {
        schemas: [URN.bulkRequest],
        Operations: [{ method: 'POST', path: '/Users', bulkId: 'b1', data: { schemas: [URN.user], userName } }],
      },
    });
    expectStatus(res, 200, 'POST /Bulk');
    assert.equal(res.body.Operations[0].status, '201');
    assert.ok(await upstreamUser(userName));
  });

  test('users still carry addresses[].primary', async () => {
    const created = await createUser(req, {
      userName: uniqueName('addr'),
      addresses: [{ type: 'work', primary: true, streetAddress: '1 Main St', locality: 'Springfield' }],
    });
    const back = await get(req, `/Users/${created.id}`);
    assert.equal(back.addresses[0].primary, true);
  });
});

describe('noFilters', () => {
  let req: Requester;
  let user: Json;
  let group: Json;
  before(async () => {
    ({ req } = await startProxy(QUIRK_SETS.noFilters!));
    user = await createUser(upstream, {
      userName: uniqueName('nf'),
      externalId: `nf-ext-${Date.now()}`,
      title: 'Filter Target',
      emails: [{ value: uniqueName('nf-mail'), type: 'work' }],
    });
    group = await createGroup(upstream, `nf-group-${Date.now()}`, [{ value: user.id }]);
  });

  test('ServiceProviderConfig says filter.supported=false; the rest is as upstream', async () => {
    const [viaProxy, direct] = [
      await get(req, '/ServiceProviderConfig'),
      await get(upstream, '/ServiceProviderConfig'),
    ];
    assert.equal(direct.filter.supported, true);
    assert.equal(viaProxy.filter.supported, false);
    assert.deepEqual({ ...viaProxy, filter: undefined }, { ...direct, filter: undefined });
  });

  test('any filter on /Groups answers 200 with an empty list, also in a .search', async () => {
    const filter = `displayName eq ${JSON.stringify(group.displayName)}`;
    assert.equal((await list(upstream, 'Groups', filter)).body.totalResults, 1, 'upstream finds the group');
    assertEmptyList(await list(req, 'Groups', filter), 'GET /Groups?filter');
    assertEmptyList(
      await req('POST', '/Groups/.search', { body: { schemas: [URN.search], filter } }),
      'POST /Groups/.search',
    );
    assertEmptyList(await list(req, 'Groups', 'displayName eq'), 'even a filter the upstream refuses');
    assert.ok(((await get(req, '/Groups')).Resources as Json[]).length >= 3, 'an unfiltered list still works');
  });

  test('/Users serves eq on userName, externalId and emails.value only; other filters answer 200 empty', async () => {
    for (const filter of [
      `userName eq ${JSON.stringify(user.userName)}`,
      `externalId eq ${JSON.stringify(user.externalId)}`,
      `emails.value eq ${JSON.stringify(user.emails[0].value)}`,
    ]) {
      const res = await list(req, 'Users', filter);
      expectStatus(res, 200, filter);
      assert.deepEqual(
        res.body.Resources.map((u: Json) => u.id),
        [user.id],
        filter,
      );
    }
    const searched = await req('POST', '/Users/.search', {
      body: { schemas: [URN.search], filter: `userName eq ${JSON.stringify(user.userName)}` },
    });
    assert.deepEqual(
      searched.body.Resources.map((u: Json) => u.id),
      [user.id],
      '.search with userName eq',
    );
    for (const filter of [
      `userName sw ${JSON.stringify(user.userName.slice(0, 6))}`,
      'title eq "Filter Target"',
      `userName eq ${JSON.stringify(user.userName)} or userName eq "nobody"`,
      `emails[value eq ${JSON.stringify(user.emails[0].value)}]`,
      `displayName ne "x"`,
    ]) {
      assert.ok((await list(upstream, 'Users', filter)).body.totalResults >= 1, `upstream matches ${filter}`);
      assertEmptyList(await list(req, 'Users', filter), filter);
    }
  });

  test('a request without a token still gets the upstream 401', async () => {
    expectStatus(await req('GET', `/Groups${qs({ filter: 'displayName eq "x"' })}`, { auth: null }), 401, 'no token');
  });
});

describe('limitedFilters', () => {
  let req: Requester;
  let user: Json;
  const department = `Dept-${Date.now().toString(36)}`;
  before(async () => {
    ({ req } = await startProxy(QUIRK_SETS.limitedFilters!));
    user = await createUser(upstream, {
      schemas: [URN.user, URN.enterprise],
      userName: uniqueName('lf'),
      active: true,
      emails: [{ value: uniqueName('lf-mail', 'limited.example.com'), type: 'work' }],
      [URN.enterprise]: { department },
    });
  });

  test('pr, not, parentheses and active eq answer 400 invalidFilter', async () => {
    for (const filter of [
      'userName pr',
      `not (userName eq "x")`,
      `(userName eq ${JSON.stringify(user.userName)})`,
      'active eq true',
      'title pr and userName eq "x"',
      'emails[type eq "work" and value pr]',
    ]) {
      assertInvalidFilter(await list(req, 'Users', filter), `GET /Users ${filter}`);
    }
    assertInvalidFilter(await list(req, 'Groups', 'displayName pr'), 'GET /Groups displayName pr');
    assertInvalidFilter(
      await req('POST', '/Users/.search', { body: { schemas: [URN.search], filter: 'active eq false' } }),
      '.search active eq false',
    );
    expectStatus(
      await req('GET', `/Users${qs({ filter: 'userName pr' })}`, { auth: null }),
      401,
      'no token: the upstream 401',
    );
  });

  test('filters on extension attributes or meta answer 200 with an empty list', async () => {
    for (const filter of [
      `${URN.enterprise}:department eq ${JSON.stringify(department)}`,
      'meta.lastModified gt "2000-01-01T00:00:00Z"',
      'meta.resourceType eq "User"',
    ]) {
      assert.ok((await list(upstream, 'Users', filter)).body.totalResults >= 1, `upstream matches ${filter}`);
      assertEmptyList(await list(req, 'Users', filter), filter);
    }
  });

  test('everything else passes through unchanged', async () => {
    for (const filter of [
      `userName eq ${JSON.stringify(user.userName)}`,
      `userName sw ${JSON.stringify(user.userName.slice(0, 5))}`,
      'emails[type eq "work" and value co "limited.example.com"]',
      'active ne false',
      `urn:ietf:params:scim:schemas:core:2.0:User:userName eq ${JSON.stringify(user.userName)}`,
    ]) {
      const [viaProxy, direct] = [await list(req, 'Users', filter), await list(upstream, 'Users', filter)];
      expectStatus(viaProxy, 200, filter);
      assert.ok(viaProxy.body.totalResults >= 1, `${filter} matches`);
      assert.equal(viaProxy.text, direct.text, `${filter}: the upstream's answer`);
    }
  });
});

describe('writeOnlyMembers', () => {
  let req: Requester;
  let u1: Json, u2: Json, u3: Json, group: Json;
  const upstreamMembers = async (id: string) => memberIds(await get(upstream, `/Groups/${id}`));
  before(async () => {
    ({ req } = await startProxy(QUIRK_SETS.writeOnlyMembers!));
    [u1, u2, u3] = [
      await createUser(upstream, { userName: uniqueName('wom') }),
      await createUser(upstream, { userName: uniqueName('wom') }),
      await createUser(upstream, { userName: uniqueName('wom') }),
    ];
    group = await createGroup(upstream, `wom-${Date.now()}`, [{ value: u1.id }, { value: u2.id }]);
  });

  test('members is [] on GET /Groups/{id} and on every group of GET /Groups; users have no groups', async () => {
    assert.deepEqual(await upstreamMembers(group.id), [u1.id, u2.id].sort(), 'upstream has 2 members');
    assert.deepEqual((await get(req, `/Groups/${group.id}`)).members, []);
    const all = (await get(req, '/Groups')).Resources as Json[];
    assert.ok(all.length >= 3);
    for (const g of all) assert.deepEqual(g.members, [], `${g.displayName}: members`);
    assert.ok(
      ((await get(upstream, `/Users/${u1.id}`)).groups ?? []).length > 0,
      'upstream shows the user in the group',
    );
    assert.equal((await get(req, `/Users/${u1.id}`)).groups, undefined, 'user groups absent');
    for (const u of (await get(req, '/Users?count=100')).Resources as Json[])
      assert.equal(u.groups, undefined, `${u.userName}: no groups`);
  });

  test('members in a POST is ignored', async () => {
    const res = await req('POST', '/Groups', {
      body: { schemas: [URN.group], displayName: `wom-post-${Date.now()}`, members: [{ value: u1.id }] },
    });
    expectStatus(res, 201, 'POST /Groups');
    assert.deepEqual(res.body.members, []);
    assert.deepEqual(await upstreamMembers(res.body.id), [], 'created without members upstream');
  });

  test('members in a PUT is ignored: the upstream keeps its members, the rest is replaced', async () => {
    const res = await req('PUT', `/Groups/${group.id}`, {
      body: { schemas: [URN.group], displayName: `${group.displayName}-renamed`, members: [{ value: u3.id }] },
    });
    expectStatus(res, 200, 'PUT');
    assert.deepEqual(res.body.members, []);
    const direct = await get(upstream, `/Groups/${group.id}`);
    assert.equal(direct.displayName, `${group.displayName}-renamed`);
    assert.deepEqual(memberIds(direct), [u1.id, u2.id].sort());
    expectStatus(
      await req('PUT', `/Groups/${group.id}`, { body: { schemas: [URN.group], displayName: group.displayName } }),
      200,
      'PUT without members',
    );
    assert.deepEqual(await upstreamMembers(group.id), [u1.id, u2.id].sort(), 'a PUT without members keeps them too');
  });

  test('PATCH replace of members adds', async () => {
    const res = await req(
      'PATCH',
      `/Groups/${group.id}`,
      patch({ op: 'replace', path: 'members', value: [{ value: u3.id }] }),
    );
    assert.ok(res.status === 200 || res.status === 204, `PATCH: ${res.status} ${res.text}`);
    if (res.status === 200) assert.deepEqual(res.body.members, []);
    assert.deepEqual(await upstreamMembers(group.id), [u1.id, u2.id, u3.id].sort());
  });

  test(
    'PATCH remove by members[value eq] answers 501 and changes nothing; path ' + 'members with a value array works',
    async () => {
      const refused = await req(
        'PATCH',
        `/Groups/${group.id}`,
        patch({ op: 'remove', path: `members[value eq "${u1.id}"]` }),
      );
      expectStatus(refused, 501, 'remove members[value eq]');
      assert.deepEqual(await upstreamMembers(group.id), [u1.id, u2.id, u3.id].sort(), 'nothing removed');
      const res = await req(
        'PATCH',
        `/Groups/${group.id}`,
        patch({ op: 'remove', path: 'members', value: [{ value: u1.id }] }),
      );
      assert.ok(res.status === 200 || res.status === 204, `remove with value array: ${res.status} ${res.text}`);
      assert.deepEqual(await upstreamMembers(group.id), [u2.id, u3.id].sort());
      expectStatus(
        await req('PATCH', '/Groups/no-such-group', patch({ op: 'remove', path: `members[value eq "${u1.id}"]` })),
        404,
        'unknown group: the upstream 404',
      );
    },
  );
});

describe('lockedWrites', () => {
  let proxy: QuirkProxy;
  let req: Requester;
  before(async () => ({ proxy, req } = await startProxy(QUIRK_SETS.lockedWrites!)));

  test(
    'a write arriving while another is in flight answers 500 "database is locked" ' + 'and is not forwarded',
    async () => {
      const victim = await createUser(upstream, { userName: uniqueName('locked-victim') });
      const first = uniqueName('locked-first');
      const second = uniqueName('locked-second');
      const forwardedBefore = proxy.stats.upstreamRequests;
      const held = heldWrite(`${proxy.url}/Users`, 'POST', { schemas: [URN.user], userName: first });
      await waitFor(() => proxy.stats.writesInFlight === 1);

      expectStatus(await req('GET', '/Users?count=1'), 200, 'a read while a write is in flight');
      const refused = await req('POST', '/Users', { body: { schemas: [URN.user], userName: second } });
      expectStatus(refused, 500, 'second write');
      assert.deepEqual(refused.body, { detail: 'database is locked' });
      expectStatus(
        await req('PATCH', `/Users/${victim.id}`, patch({ op: 'replace', path: 'title', value: 'x' })),
        500,
        'PATCH',
      );
      expectStatus(
        await req('PUT', `/Users/${victim.id}`, {
          body: { schemas: [URN.user], userName: victim.userName, title: 'x' },
        }),
        500,
        'PUT',
      );
      expectStatus(await req('DELETE', `/Users/${victim.id}`), 500, 'DELETE');
      assert.equal(proxy.stats.lockedRefusals, 4);
      assert.equal(proxy.stats.upstreamRequests - forwardedBefore, 1, 'only the read went upstream');

      const answer = await held.finish();
      assert.equal(answer.status, 201, `the held write: ${answer.text}`);
      await waitFor(() => proxy.stats.writesInFlight === 0);
      assert.ok(await upstreamUser(first), 'the first write landed');
      assert.equal(await upstreamUser(second), undefined, 'the refused write never reached the upstream');
      assert.equal(
        (await get(upstream, `/Users/${victim.id}`)).title,
        undefined,
        'the refused PATCH/PUT never reached it',
      );
    },
  );

  test('one at a time, writes succeed', async () => {
    const refusals = proxy.stats.lockedRefusals;
    const user = await createUser(req, { userName: uniqueName('locked-serial') });
    expectStatus(
      await req('PATCH', `/Users/${user.id}`, patch({ op: 'replace', path: 'title', value: 'Serial' })),
      200,
      'PATCH',
    );
    expectStatus(
      await req('PUT', `/Users/${user.id}`, { body: { schemas: [URN.user], userName: user.userName, title: 'Again' } }),
      200,
      'PUT',
    );
    for (let i = 0; i < 5; i++) await createGroup(req, `locked-serial-${i}-${Date.now()}`);
    expectStatus(await req('DELETE', `/Users/${user.id}`), 204, 'DELETE');
    assert.equal(proxy.stats.lockedRefusals, refusals, 'no refusals');
    expectStatus(await upstream('GET', `/Users/${user.id}`), 404, 'deleted upstream');
  });
});

describe('lossy', () => {
  let proxy: QuirkProxy;
  let req: Requester;
  const MADE_UP = 'urn:example:params:scim:schemas:extension:madeup:2.0:User';
  let user: Json;
  before(async () => ({ proxy, req } = await startProxy(QUIRK_SETS.lossy!)));

  test('POST: displayName computed, first e-mail kept without type, unknown attributes dropped', async () => {
    const userName = uniqueName('lossy');
    const res = await req('POST', '/Users', {
      body: {
        schemas: [URN.user, URN.enterprise, MADE_UP],
        userName,
        externalId: 'lossy-ext-1',
        displayName: 'Whatever They Said',
        name: { givenName: 'Lena', familyName: 'Ortiz' },
        emails: [
          { value: 'lena@work.example.com', type: 'work', primary: true },
          { value: 'lena@home.example.com', type: 'home' },
        ],
        photos: [{ value: 'https://photos.example.com/lena.jpg', type: 'photo' }],
        x509Certificates: [{ value: 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA' }],
        [URN.enterprise]: { department: 'Operations' },
        [MADE_UP]: { shoeSize: '42' },
      },
    });
    expectStatus(res, 201, 'POST');
    user = res.body;
    for (const view of [res.body, await get(upstream, `/Users/${res.body.id}`)]) {
      assert.equal(view.displayName, 'Lena Ortiz');
      assert.deepEqual(view.emails, [{ value: 'lena@work.example.com', primary: true }]);
      assert.equal(view.photos, undefined);
      assert.equal(view.x509Certificates, undefined);
      assert.equal(view[MADE_UP], undefined);
      assert.ok(!view.schemas.includes(MADE_UP));
      assert.equal(view[URN.enterprise].department, 'Operations');
      assert.equal(view.externalId, 'lossy-ext-1', 'POST keeps externalId');
    }
  });

  test('PUT clears externalId and recomputes displayName', async () => {
    const res = await req('PUT', `/Users/${user.id}`, {
      body: {
        schemas: [URN.user],
        userName: user.userName,
        externalId: 'lossy-ext-2',
        displayName: 'Not This',
        name: { givenName: 'Lena', familyName: 'Ortiz-Smith' },
        emails: [{ value: 'a@lossy.example.com', type: 'work' }, { value: 'b@lossy.example.com' }],
      },
    });
    expectStatus(res, 200, 'PUT');
    const direct = await get(upstream, `/Users/${user.id}`);
    assert.equal(direct.externalId, undefined);
    assert.equal(direct.displayName, 'Lena Ortiz-Smith');
    assert.deepEqual(direct.emails, [{ value: 'a@lossy.example.com' }]);
    assert.equal(res.body.displayName, 'Lena Ortiz-Smith');
  });

  test('a PATCH op on displayName answers 501 and changes nothing', async () => {
    const before = proxy.stats.notImplemented;
    expectStatus(
      await req('PATCH', `/Users/${user.id}`, patch({ op: 'replace', path: 'displayName', value: 'Nope' })),
      501,
      'path displayName',
    );
    expectStatus(
      await req('PATCH', `/Users/${user.id}`, patch({ op: 'replace', value: { displayName: 'Nope', title: 'T' } })),
      501,
      'pathless displayName',
    );
    expectStatus(
      await req('PATCH', `/Users/${user.id}`, patch({ op: 'add', path: `${URN.user}:displayName`, value: 'Nope' })),
      501,
      'URN-qualified displayName',
    );
    assert.equal(proxy.stats.notImplemented, before + 3);
    const direct = await get(upstream, `/Users/${user.id}`);
    assert.equal(direct.displayName, 'Lena Ortiz-Smith');
    assert.equal(direct.title, undefined);
  });

  test('other PATCHes apply, and the stored form stays lossy', async () => {
    const renamed = await req(
      'PATCH',
      `/Users/${user.id}`,
      patch({ op: 'replace', path: 'name.givenName', value: 'Marta' }),
    );
    expectStatus(renamed, 200, 'PATCH name.givenName');
    assert.equal(renamed.body.displayName, 'Marta Ortiz-Smith');
    expectStatus(
      await req(
        'PATCH',
        `/Users/${user.id}`,
        patch(
          { op: 'add', path: 'emails', value: [{ value: 'c@lossy.example.com', type: 'other' }] },
          { op: 'add', path: 'externalId', value: 'lossy-ext-3' },
        ),
      ),
      200,
      'PATCH add',
    );
    const direct = await get(upstream, `/Users/${user.id}`);
    assert.equal(direct.displayName, 'Marta Ortiz-Smith');
    assert.deepEqual(direct.emails, [{ value: 'a@lossy.example.com' }], 'a second e-mail is not kept');
    assert.equal(direct.externalId, 'lossy-ext-3', 'PATCH does not clear externalId');
  });
});

describe('userDataIds', () => {
  let proxy: QuirkProxy;
  let req: Requester;
  let userName: string;
  let user: Json;
  before(async () => {
    ({ proxy, req } = await startProxy(QUIRK_SETS.userDataIds!));
    userName = `ann smith/ops.${Date.now().toString(36)}@ids.example.com`;
  });
  const path = (id: string) => `/Users/${encodeURIComponent(id)}`;

  test("a user's id is its userName; Location and meta.location use it; the upstream keeps its own id", async () => {
    const res = await req('POST', '/Users', {
      body: { schemas: [URN.user], userName, name: { givenName: 'Ann', familyName: 'Smith' } },
    });
    expectStatus(res, 201, 'POST');
    user = res.body;
    assert.equal(user.id, userName);
    assert.equal(res.headers.get('location'), `${proxy.url}${path(userName)}`);
    assert.equal(user.meta.location, `${proxy.url}${path(userName)}`);
    const direct = await upstreamUser(userName);
    assert.ok(direct && direct.id !== userName, 'the upstream has its own id');
    assert.equal(proxy.ids.toUpstream(userName), direct.id);

    const back = await get(req, path(userName));
    assert.equal(back.id, userName);
    const found = await list(req, 'Users', `id eq ${JSON.stringify(userName)}`);
    assert.deepEqual(
      found.body.Resources.map((u: Json) => u.id),
      [userName],
      'filter id eq',
    );
    const listed = (await get(req, '/Users?count=1000')).Resources as Json[];
    for (const u of listed)
      assert.equal(
        u.id,
        proxy.ids.fromUpstream((await upstreamUser(u.userName)).id),
        `${u.userName}: listed under its proxy id`,
      );
    expectStatus(await req('GET', path('nobody@ids.example.com')), 404, 'unknown id');
    expectStatus(await req('GET', `/Users/${direct.id}`), 404, 'the upstream id is not an id here');
  });

  test('users created upstream (before or after the proxy started) get their userName as id', async () => {
    const seeded = ((await get(upstream, '/Users?count=1')).Resources as Json[])[0];
    const viaProxy = await list(req, 'Users', `userName eq ${JSON.stringify(seeded.userName)}`);
    assert.equal(viaProxy.body.Resources[0].id, seeded.userName);
    const late = await createUser(upstream, { userName: uniqueName('late arrival') });
    assert.equal((await get(req, path(late.userName))).id, late.userName, 'found by a GET on its userName');
  });

  test('group members carry the proxy ids, in and out; user groups[] point at the groups', async () => {
    const created = await req('POST', '/Groups', {
      body: { schemas: [URN.group], displayName: `ids-${Date.now()}`, members: [{ value: userName, type: 'User' }] },
    });
    expectStatus(created, 201, 'POST /Groups');
    const group = created.body;
    assert.equal(group.members[0].value, userName);
    assert.equal(group.members[0].$ref, `${proxy.url}${path(userName)}`);
    const upstreamId = proxy.ids.toUpstream(userName)!;
    assert.deepEqual(
      memberIds(await get(upstream, `/Groups/${group.id}`)),
      [upstreamId],
      'stored with the upstream id',
    );
    assert.deepEqual(memberIds(await get(req, `/Groups/${group.id}`)), [userName]);
    const member = await get(req, path(userName));
    assert.deepEqual(
      member.groups.map((g: Json) => g.value),
      [group.id],
      'groups[].value is the group id',
    );

    let res = await req(
      'PATCH',
      `/Groups/${group.id}`,
      patch({ op: 'remove', path: `members[value eq ${JSON.stringify(userName)}]` }),
    );
    assert.ok(res.status === 200 || res.status === 204, `remove by filter: ${res.status} ${res.text}`);
    assert.deepEqual(memberIds(await get(upstream, `/Groups/${group.id}`)), []);
    res = await req(
      'PATCH',
      `/Groups/${group.id}`,
      patch({ op: 'add', path: 'members', value: [{ value: userName }] }),
    );
    assert.ok(res.status === 200 || res.status === 204, `add: ${res.status} ${res.text}`);
    assert.deepEqual(memberIds(await get(upstream, `/Groups/${group.id}`)), [upstreamId]);
    res = await req(
      'PATCH',
      `/Groups/${group.id}`,
      patch({ op: 'remove', path: 'members', value: [{ value: userName }] }),
    );
    assert.ok(res.status === 200 || res.status === 204, `remove with a value array: ${res.status} ${res.text}`);
    assert.deepEqual(memberIds(await get(upstream, `/Groups/${group.id}`)), [], 'remove with a value array');
    res = await req('PUT', `/Groups/${group.id}`, {
      body: { schemas: [URN.group], displayName: group.displayName, members: [{ value: userName }] },
    });
    expectStatus(res, 200, 'PUT /Groups');
    assert.deepEqual(memberIds(res.body), [userName]);
    assert.deepEqual(memberIds(await get(upstream, `/Groups/${group.id}`)), [upstreamId]);
  });

  test("a userName with '+' is created but answered without id and with Location …/Users/undefined", async () => {
    const plus = uniqueName('bob+tag', 'ids.example.com');
    const res = await req('POST', '/Users', { body: { schemas: [URN.user], userName: plus } });
    expectStatus(res, 201, 'POST');
    assert.equal(res.body.id, undefined);
    assert.equal(res.body.userName, plus);
    assert.equal(res.headers.get('location'), `${proxy.url}/Users/undefined`);
    assert.ok(await upstreamUser(plus), 'the user exists upstream');
    expectStatus(await req('GET', '/Users/undefined'), 404, 'GET /Users/undefined');
    assert.equal((await get(req, path(plus))).id, plus, 'reachable under its userName');
  });

  test(
    'a rename is applied and answered 500 once; the retry answers normally and the ' + 'id keeps the old name',
    async () => {
      const renamedTo = uniqueName('ann renamed', 'ids.example.com');
      const body = { schemas: [URN.user], userName: renamedTo, name: { givenName: 'Ann', familyName: 'Smith' } };
      const failed = await req('PUT', path(userName), { body });
      expectStatus(failed, 500, 'first PUT rename');
      assert.equal(
        (await get(upstream, `/Users/${proxy.ids.toUpstream(userName)}`)).userName,
        renamedTo,
        'applied upstream',
      );
      const retry = await req('PUT', path(userName), { body });
      expectStatus(retry, 200, 'retried PUT');
      assert.equal(retry.body.id, userName, 'the id keeps the old name');
      assert.equal(retry.body.userName, renamedTo);

      const third = uniqueName('ann patched', 'ids.example.com');
      expectStatus(
        await req('PATCH', path(userName), patch({ op: 'replace', path: 'userName', value: third })),
        500,
        'first PATCH rename',
      );
      assert.equal((await upstreamUser(third))?.id, proxy.ids.toUpstream(userName), 'applied upstream');
      const again = await req('PATCH', path(userName), patch({ op: 'replace', path: 'userName', value: third }));
      expectStatus(again, 200, 'retried PATCH');
      assert.equal(again.body.id, userName);
      expectStatus(
        await req('PATCH', path(userName), patch({ op: 'replace', path: 'title', value: 'No rename' })),
        200,
        'a PATCH without rename',
      );
      assert.equal(proxy.stats.renameFailures, 2);
    },
  );

  test('Bulk is not offered: it would bypass the id mapping', async () => {
    assert.equal((await get(upstream, '/ServiceProviderConfig')).bulk.supported, true);
    assert.equal((await get(req, '/ServiceProviderConfig')).bulk.supported, false);
    const bulk = {
      schemas: [URN.bulkRequest],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'b1', data: { schemas: [URN.user], userName: uniqueName('bulk') } },
      ],
    };
    expectStatus(await req('POST', '/Bulk', { body: bulk }), 501, 'POST /Bulk');
    assert.equal(await upstreamUser(bulk.Operations[0]!.data.userName), undefined, 'nothing created');
    expectStatus(await req('POST', '/Bulk', { body: bulk, auth: null }), 401, 'no token: the upstream 401');
  });

  test('DELETE by the proxy id removes the upstream user', async () => {
    const upstreamId = proxy.ids.toUpstream(userName)!;
    expectStatus(await req('DELETE', path(userName)), 204, 'DELETE');
    expectStatus(await upstream('GET', `/Users/${upstreamId}`), 404, 'gone upstream');
    expectStatus(await req('GET', path(userName)), 404, 'gone');
  });
});

describe('noLocation and deleteWithBody', () => {
  test('noLocation: a 201 without Location', async () => {
    const { req } = await startProxy(QUIRK_SETS.noLocation!);
    const res = await req('POST', '/Users', { body: { schemas: [URN.user], userName: uniqueName('noloc') } });
    expectStatus(res, 201, 'POST');
    assert.equal(res.headers.get('location'), null);
    assert.ok(res.body.meta.location, 'meta.location is still there');
  });

  test('deleteWithBody: DELETE answers 200 with the deleted resource', async () => {
    const { req } = await startProxy(QUIRK_SETS.deleteWithBody!);
    const user = await createUser(upstream, { userName: uniqueName('delbody') });
    const res = await req('DELETE', `/Users/${user.id}`);
    expectStatus(res, 200, 'DELETE');
    assert.equal(res.body.id, user.id);
    assert.equal(res.body.userName, user.userName);
    expectStatus(await upstream('GET', `/Users/${user.id}`), 404, 'gone upstream');
    expectStatus(await req('DELETE', `/Users/${user.id}`), 404, 'a second DELETE');
  });
});

describe('all quirks at once', () => {
  let proxy: QuirkProxy;
  let req: Requester;
  before(async () => ({ proxy, req } = await startProxy(QUIRK_SETS.all!)));

  test('a provisioning round works one write at a time, with every quirk visible', async () => {
    const a = uniqueName('all a');
    const b = uniqueName('all b');
    await createUser(req, { userName: a, name: { givenName: 'A', familyName: 'One' }, displayName: 'ignored' });
    await createUser(req, { userName: b, name: { givenName: 'B', familyName: 'Two' } });
    const group = await createGroup(req, `all-${Date.now()}`, [{ value: a }]);
    assert.deepEqual(group.members, []);
    assert.deepEqual(memberIds(await get(upstream, `/Groups/${group.id}`)), [], 'members in POST ignored');
    expectStatus(
      await req(
        'PATCH',
        `/Groups/${group.id}`,
        patch({ op: 'add', path: 'members', value: [{ value: a }, { value: b }] }),
      ),
      200,
      'PATCH add',
    );
    assert.deepEqual(
      memberIds(await get(upstream, `/Groups/${group.id}`)),
      [proxy.ids.toUpstream(a)!, proxy.ids.toUpstream(b)!].sort(),
    );
    assert.deepEqual((await get(req, `/Groups/${group.id}`)).members, []);
    expectStatus(
      await req(
        'PATCH',
        `/Groups/${group.id}`,
        patch({ op: 'remove', path: `members[value eq ${JSON.stringify(a)}]` }),
      ),
      501,
      'remove by filter',
    );
    expectStatus(
      await req('PATCH', `/Groups/${group.id}`, patch({ op: 'remove', path: 'members', value: [{ value: a }] })),
      200,
      'remove by value',
    );
    assert.deepEqual(memberIds(await get(upstream, `/Groups/${group.id}`)), [proxy.ids.toUpstream(b)!]);
    const viaProxy = await get(req, `/Users/${encodeURIComponent(a)}`);
    assert.equal(viaProxy.id, a);
    assert.equal(viaProxy.displayName, 'A One');
    assert.equal(viaProxy.groups, undefined);
    assertEmptyList(await list(req, 'Groups', `displayName eq ${JSON.stringify(group.displayName)}`), 'group filter');
    assertInvalidFilter(await list(req, 'Users', 'userName pr'), 'pr');
    assert.equal((await get(req, '/ServiceProviderConfig')).filter.supported, false);
    assert.equal(proxy.stats.lockedRefusals, 0);
  });
});

// ---------------------------------------------------------------------------------------------
// Faults

/** One request over a fresh connection, telling what came back: an answer (maybe cut short) or a broken connection. */
function rawRequest(
  url: string,
  method: string,
  body?: Json,
): Promise<{ status?: number; text: string; error?: string; declaredLength?: number; ms: number }> {
  const u = new URL(url);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const started = Date.now();
  return new Promise((resolve) => {
    const req = httpRequest({
      host: u.hostname,
      port: u.port,
      path: u.pathname + u.search,
      method,
      agent: false,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        accept: 'application/scim+json',
        ...(payload ? { 'content-type': 'application/scim+json', 'content-length': String(payload.length) } : {}),
      },
    });
    req.on('response', (res) => {
      let text = '';
      const declaredLength =
        res.headers['content-length'] === undefined ? undefined : Number(res.headers['content-length']);
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, text, declaredLength, ms: Date.now() - started }));
      res.on('error', (e) =>
        resolve({ status: res.statusCode, text, declaredLength, error: e.message, ms: Date.now() - started }),
      );
      res.on('aborted', () =>
        resolve({ status: res.statusCode, text, declaredLength, error: 'aborted', ms: Date.now() - started }),
      );
    });
    req.on('error', (e) => resolve({ text: '', error: e.message, ms: Date.now() - started }));
    req.end(payload);
  });
}

const only = (kind: (typeof FAULT_KINDS)[number], extra: Partial<Faults> = {}): Faults => ({
  seed: 1,
  rates: { [kind]: 1 },
  ...extra,
});

describe('faults', () => {
  const upstreamHas = async (userName: string) =>
    (await get(upstream, `/Users${qs({ filter: `userName eq "${userName}"` })}`)).totalResults as number;

  test('error500Before: 500 and the upstream never saw the write', async () => {
    const { proxy } = await startProxy({}, only('error500Before'));
    const userName = uniqueName('f500b');
    const r = await rawRequest(`${proxy.url}/Users`, 'POST', { schemas: [URN.user], userName });
    assert.equal(r.status, 500);
    assert.equal(await upstreamHas(userName), 0);
    assert.equal(proxy.stats.faults.error500Before, 1);
  });

  test('error500After: 500, and the upstream did make the user', async () => {
    const { proxy } = await startProxy({}, only('error500After'));
    const userName = uniqueName('f500a');
    const r = await rawRequest(`${proxy.url}/Users`, 'POST', { schemas: [URN.user], userName });
    assert.equal(r.status, 500);
    assert.match(r.text, /500 after acting/);
    assert.equal(await upstreamHas(userName), 1);
    assert.equal(proxy.stats.faults.error500After, 1);
  });

  test('rateLimit429: 429 with Retry-After; discovery is never faulted', async () => {
    const { proxy, req } = await startProxy({}, only('rateLimit429', { retryAfterSeconds: 3 }));
    const r = await req('GET', '/Users');
    expectStatus(r, 429, 'GET /Users');
    assert.equal(r.headers.get('retry-after'), '3');
    expectStatus(await req('GET', '/ServiceProviderConfig'), 200, 'GET /ServiceProviderConfig');
    assert.equal(proxy.stats.faults.rateLimit429, 1);
  });

  test(
    'resetBefore: the connection breaks and nothing was written; resetAfter: it ' + 'breaks after the write',
    async () => {
      const before = await startProxy({}, only('resetBefore'));
      const a = uniqueName('frb');
      const r1 = await rawRequest(`${before.proxy.url}/Users`, 'POST', { schemas: [URN.user], userName: a });
      assert.equal(r1.status, undefined);
      assert.match(r1.error ?? '', /socket hang up|ECONNRESET/);
      assert.equal(await upstreamHas(a), 0);

      const afterActing = await startProxy({}, only('resetAfter'));
      const b = uniqueName('fra');
      const r2 = await rawRequest(`${afterActing.proxy.url}/Users`, 'POST', { schemas: [URN.user], userName: b });
      assert.equal(r2.status, undefined);
      assert.equal(await upstreamHas(b), 1);
      assert.equal(before.proxy.stats.faults.resetBefore, 1);
      assert.equal(afterActing.proxy.stats.faults.resetAfter, 1);
    },
  );

  test('stall: the answer comes only after stallMs', async () => {
    const { proxy } = await startProxy({}, only('stall', { stallMs: 400 }));
    const r = await rawRequest(`${proxy.url}/Users?count=1`, 'GET');
    assert.equal(r.status, 200);
    assert.ok(r.ms >= 380, `answered after ${r.ms} ms`);
    assert.equal(proxy.stats.faults.stall, 1);
  });

  test('truncated: JSON that stops early, then a body that breaks off before its Content-Length', async () => {
    const { proxy } = await startProxy({}, only('truncated'));
    const first = await rawRequest(`${proxy.url}/Users?count=3`, 'GET');
    assert.equal(first.status, 200);
    assert.equal(first.error, undefined);
    assert.equal(first.declaredLength, first.text.length);
    assert.throws(() => JSON.parse(first.text));
    const second = await rawRequest(`${proxy.url}/Users?count=3`, 'GET');
    assert.equal(second.status, 200);
    assert.ok(second.error !== undefined || second.text.length < (second.declaredLength ?? 0), 'the body broke off');
    assert.ok(second.text.length < (second.declaredLength ?? 0));
    // Writes are never truncated.
    const w = await rawRequest(`${proxy.url}/Users`, 'POST', { schemas: [URN.user], userName: uniqueName('ftr') });
    assert.equal(w.status, 201);
    JSON.parse(w.text);
    assert.equal(proxy.stats.faults.truncated, 2);
  });

  test(
    'shortPage and emptyPage keep totalResults while the page has fewer or no ' +
      'Resources; a GET by id is left alone',
    async () => {
      const truth = await get(upstream, '/Users?count=4');
      assert.ok(truth.totalResults > 4 && truth.Resources.length === 4);
      const short = await startProxy({}, only('shortPage'));
      const s = await get(short.req, '/Users?count=4');
      assert.equal(s.Resources.length, 2);
      assert.equal(s.totalResults, truth.totalResults);
      assert.deepEqual(
        s.Resources.map((u: Json) => u.id),
        truth.Resources.slice(0, 2).map((u: Json) => u.id),
      );
      const empty = await startProxy({}, only('emptyPage'));
      const e = await get(empty.req, '/Users?count=4');
      assert.equal(e.Resources.length, 0);
      assert.equal(e.totalResults, truth.totalResults);
      await get(empty.req, `/Users/${truth.Resources[0].id}`);
      assert.deepEqual([short.proxy.stats.faults.shortPage, empty.proxy.stats.faults.emptyPage], [1, 1]);
    },
  );

  test(
    'seeded: the same seed gives the same faults for the same requests, a retry is ' +
      'a fresh draw, and max bounds each kind',
    async () => {
      const faults: Faults = { seed: 42, rates: { error500Before: 0.5 }, max: { error500Before: 6 } };
      const statuses = async () => {
        const { req } = await startProxy({}, faults);
        const out: number[] = [];
        for (let i = 0; i < 20; i++) out.push((await req('GET', `/Users?count=1&startIndex=${1 + (i % 5)}`)).status);
        return out;
      };
      const a = await statuses();
      const b = await statuses();
      assert.deepEqual(a, b);
      assert.equal(a.filter((s) => s === 500).length, 6, a.join(' '));
      assert.ok(a.slice(12).every((s) => s === 200) || a.filter((s) => s === 500).length === 6);
      const other = await (async () => {
        const { req } = await startProxy({}, { ...faults, seed: 43 });
        const out: number[] = [];
        for (let i = 0; i < 20; i++) out.push((await req('GET', `/Users?count=1&startIndex=${1 + (i % 5)}`)).status);
        return out;
      })();
      assert.notDeepEqual(other, a);
    },
  );

  test('without faults nothing is injected and every count is 0', async () => {
    const { proxy, req } = await startProxy({});
    expectStatus(await req('GET', '/Users'), 200, 'GET /Users');
    assert.deepEqual(
      Object.values(proxy.stats.faults),
      FAULT_KINDS.map(() => 0),
    );
  });
});

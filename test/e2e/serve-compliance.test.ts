/**
 * Compliance suite for `scimctl serve`: the built binary runs as a real server on 127.0.0.1 and is
 * tested as a black box over HTTP with plain fetch, against RFC 7643 (core schema), RFC 7644
 * (protocol) and RFC 9865 (cursor paging). One seeded server serves most tests; separate ones test
 * restarts (--data), read-only sources (--source) and the page-size limits (over 1,000 users).
 *
 * Tests create their own resources with their own userName domains, so they do not depend on each
 * other; filters are scoped to a test's domain where other resources could match.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, tempHome } from './helpers.ts';
import {
  URN,
  qs,
  startServe,
  tempDir,
  type Json,
  type Requester,
  type ScimResponse,
  type ServeProcess,
  teardown,
} from './serve-helpers.ts';

const TOKEN = 'serve-compliance-token-7c2e91d04a5b';
const SEED_USERS = 30;
const SEED_GROUPS = 4;

let server: ServeProcess;
let req: Requester;
/** The ServiceProviderConfig as the server advertises it; limits are read from here. */
let spc: Json;

before(async () => {
  server = await startServe({
    token: TOKEN,
    args: ['--seed-users', String(SEED_USERS), '--seed-groups', String(SEED_GROUPS)],
  });
  req = server.request;
  const res = await req('GET', '/ServiceProviderConfig');
  spc = res.body ?? {};
});

after(async () => {
  if (!server) return;
  await server.stop();
  server.cleanup();
});

// ---------------------------------------------------------------------------------------------
// Helpers

const SCIM_JSON = /^application\/scim\+json\s*(;|$)/i;

function expectStatus(res: ScimResponse, status: number, what = ''): void {
  assert.equal(
    res.status,
    status,
    `${what ? `${what}: ` : ''}expected HTTP ${status}, got ${res.status}: ${res.text.slice(0, 500)}`,
  );
}

function assertScimJson(res: ScimResponse): void {
  assert.match(res.headers.get('content-type') ?? '(none)', SCIM_JSON, `Content-Type of a ${res.status} response`);
}

/** A SCIM error response (RFC 7644 §3.12): the status, the Error schema, `status` as a string, the scimType. */
function assertError(res: ScimResponse, status: number, scimType?: string, what = ''): void {
  expectStatus(res, status, what);
  assertScimJson(res);
  assert.ok(
    Array.isArray(res.body?.schemas) && res.body.schemas.includes(URN.error),
    `${what} error body has the Error schema: ${res.text}`,
  );
  assert.equal(res.body.status, String(status), `${what} error "status" is the code as a string: ${res.text}`);
  if (scimType !== undefined) assert.equal(res.body.scimType, scimType, `${what} scimType: ${res.text}`);
}

let serial = 0;
/** A userName no other test uses. */
const uniqueName = (domain: string, stem = 'user') => `${stem}.${++serial}.${Date.now().toString(36)}@${domain}`;

async function createUser(body: Json, path = '/Users'): Promise<Json> {
  const res = await req('POST', path, { body: { schemas: [URN.user], ...body } });
  expectStatus(res, 201, `POST ${path} ${body.userName}`);
  return res.body;
}

async function createGroup(displayName: string, members: Json[] = []): Promise<Json> {
  const res = await req('POST', '/Groups', { body: { schemas: [URN.group], displayName, members } });
  expectStatus(res, 201, `POST /Groups ${displayName}`);
  return res.body;
}

async function get(path: string): Promise<Json> {
  const res = await req('GET', path);
  expectStatus(res, 200, `GET ${path}`);
  return res.body;
}

const patchBody = (Operations: Json[]) => ({ schemas: [URN.patch], Operations });

async function patch(path: string, ops: Json[], headers?: Record<string, string>): Promise<ScimResponse> {
  return req('PATCH', path, { body: patchBody(ops), headers });
}

async function patchOk(path: string, ops: Json[]): Promise<Json> {
  const res = await patch(path, ops);
  expectStatus(res, 200, `PATCH ${path} ${JSON.stringify(ops)}`);
  return res.body;
}

/** A list page (GET), checked to be a ListResponse. */
async function list(path: string, params: Record<string, string | number | undefined> = {}): Promise<Json> {
  const res = await req('GET', path + qs(params));
  expectStatus(res, 200, `GET ${path}${qs(params)}`);
  assertScimJson(res);
  assert.deepEqual(res.body.schemas, [URN.list]);
  return res.body;
}

const resources = (page: Json): Json[] => page.Resources ?? [];

/** Every resource of a type (index paging at the advertised maximum page size). */
async function listAll(type: 'Users' | 'Groups', filter?: string, r: Requester = req): Promise<Json[]> {
  const out: Json[] = [];
  const count = spc?.pagination?.maxPageSize ?? 100;
  for (let startIndex = 1; ;) {
    const res = await r('GET', `/${type}${qs({ filter, startIndex, count })}`);
    expectStatus(res, 200, `listing ${type}`);
    const page = resources(res.body);
    out.push(...page);
    if (page.length === 0 || out.length >= res.body.totalResults) return out;
    startIndex += page.length;
  }
}

/** Index paging: every page with `count`, checking the counters on the way. */
async function walkIndex(
  path: string,
  count: number,
  params: Record<string, string | undefined> = {},
): Promise<Json[]> {
  const out: Json[] = [];
  let total: number | undefined;
  for (let startIndex = 1, pages = 0; ; pages++) {
    assert.ok(pages < 1000, 'index walk does not end');
    const page = await list(path, { ...params, startIndex, count });
    const got = resources(page);
    total ??= page.totalResults;
    assert.equal(page.totalResults, total, 'totalResults stays the same while paging');
    assert.equal(page.startIndex, startIndex, 'startIndex is echoed');
    assert.equal(page.itemsPerPage, got.length, 'itemsPerPage is the number of resources on the page');
    assert.ok(got.length <= count, `a page holds at most count=${count} resources`);
    if (got.length === 0) break;
    out.push(...got);
    startIndex += got.length;
    if (startIndex > total!) break;
  }
  assert.equal(out.length, total, 'walking every page yields totalResults resources');
  return out;
}

/** Cursor paging (RFC 9865): follows nextCursor from an empty cursor until a page has none. */
async function walkCursor(
  path: string,
  count: number,
  params: Record<string, string | undefined> = {},
  r: Requester = req,
): Promise<{ all: Json[]; pages: Json[] }> {
  const all: Json[] = [];
  const pages: Json[] = [];
  let cursor = '';
  for (let n = 0; ; n++) {
    assert.ok(n < 2000, 'cursor walk does not end');
    const res = await r('GET', path + qs({ ...params, cursor, count }));
    expectStatus(res, 200, `cursor page ${n + 1}`);
    const got = resources(res.body);
    assert.ok(got.length <= count, `a cursor page holds at most count=${count} resources`);
    pages.push(res.body);
    all.push(...got);
    const next = res.body.nextCursor;
    if (next === undefined || next === null) break;
    assert.equal(typeof next, 'string');
    assert.notEqual(next, '', 'nextCursor is not empty');
    cursor = next;
  }
  return { all, pages };
}

const ids = (rs: Json[]) => rs.map((r) => r.id as string);
const sorted = (xs: string[]) => [...xs].sort();

function assertUnique(rs: Json[], what: string): void {
  const seen = new Set<string>();
  for (const r of rs) {
    assert.ok(!seen.has(r.id), `${what}: ${r.id} came back twice`);
    seen.add(r.id);
  }
}

/** A resource with the server's base URL replaced, to compare across restarts (the port changes). */
const relocated = (value: Json, base: string): Json => JSON.parse(JSON.stringify(value).split(base).join('BASE'));

// ---------------------------------------------------------------------------------------------

describe('startup', () => {
  test('serve --help lists its options', async () => {
    const r = await runCli(['serve', '--help']);
    assert.equal(r.code, 0, r.stderr);
    for (const flag of ['--port', '--data', '--token-env', '--seed-users', '--seed-groups', '--source']) {
      assert.ok(r.stdout.includes(flag), `serve --help mentions ${flag}:\n${r.stdout}`);
    }
  });

  test(
    'refuses to start without a token: --token-env naming an unset or empty ' + 'variable exits 2, printing no URL',
    async () => {
      const home = tempHome();
      try {
        const env = { ...home.env, SCIMCTL_DATA_DIR: join(home.dir, 'data'), SCIM_SERVE_E2E_EMPTY: '' };
        for (const variable of ['SCIM_SERVE_E2E_UNSET', 'SCIM_SERVE_E2E_EMPTY']) {
          const r = await runCli(['serve', '--port', '0', '--data', join(home.dir, 'store'), '--token-env', variable], {
            env,
            timeoutMs: 15_000,
          });
          assert.equal(r.code, 2, `${variable}: ${r.stderr}`);
          assert.equal(r.stdout, '');
        }
      } finally {
        home.cleanup();
      }
    },
  );

  test('stdout carries exactly one line: the base URL on 127.0.0.1', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/scim\/v2$/);
    assert.equal(server.stdout(), `${server.url}\n`);
  });
});

describe('seeded sample organisation (--seed-users, --seed-groups)', () => {
  // These run before any other test writes to the shared server.
  test(
    'the store holds exactly the requested users and groups, with unique names and ' + 'some inactive users',
    async () => {
      const users = await listAll('Users');
      const groups = await listAll('Groups');
      assert.equal(users.length, SEED_USERS);
      assert.equal(groups.length, SEED_GROUPS);
      assert.equal(new Set(ids(users)).size, SEED_USERS, 'ids are unique');
      assert.equal(
        new Set(users.map((u) => String(u.userName).toLowerCase())).size,
        SEED_USERS,
        'userNames are unique, ignoring case',
      );
      for (const u of users) {
        assert.ok(u.name?.givenName && u.name?.familyName, `seeded user has a name: ${JSON.stringify(u)}`);
      }
      const inactive = users.filter((u) => u.active === false).length;
      assert.ok(
        inactive > 0 && inactive < SEED_USERS,
        `some but not all seeded users are inactive (${inactive}/${SEED_USERS})`,
      );
      for (const g of groups) assert.ok(typeof g.displayName === 'string' && g.displayName.length > 0);
    },
  );

  test('seeded memberships are consistent: members exist, and users list their groups as direct', async () => {
    const users = new Map((await listAll('Users')).map((u) => [u.id, u]));
    const groups = new Map((await listAll('Groups')).map((g) => [g.id, g]));
    let memberships = 0;
    for (const g of groups.values()) {
      for (const m of g.members ?? []) {
        if (m.type === 'Group') {
          assert.ok(groups.has(m.value), `group member ${m.value} of ${g.displayName} exists`);
          continue;
        }
        const u = users.get(m.value);
        assert.ok(u, `user member ${m.value} of ${g.displayName} exists`);
        assert.ok(
          (u.groups ?? []).some((ug: Json) => ug.value === g.id && ug.type === 'direct'),
          `${u.userName} lists ${g.displayName} as a direct group`,
        );
        memberships++;
      }
    }
    assert.ok(memberships > 0, 'the sample organisation has memberships');
    for (const u of users.values()) {
      for (const ug of u.groups ?? []) {
        const g = groups.get(ug.value);
        assert.ok(g, `group ${ug.value} listed by ${u.userName} exists`);
        if (ug.type === 'direct')
          assert.ok(
            (g.members ?? []).some((m: Json) => m.value === u.id),
            `${g.displayName} has ${u.userName} as a member`,
          );
      }
    }
  });
});

describe('authentication (RFC 7644 §2, RFC 6750 §3)', () => {
  const endpoints: Array<[string, string, Json?]> = [
    ['GET', '/ServiceProviderConfig'],
    ['GET', '/Schemas'],
    ['GET', `/Schemas/${URN.user}`],
    ['GET', '/ResourceTypes'],
    ['GET', '/ResourceTypes/User'],
    ['GET', '/Users'],
    ['GET', '/Users/any-id'],
    ['GET', '/Groups'],
    ['POST', '/Users', { schemas: [URN.user], userName: 'unauthenticated@auth.test' }],
    ['PUT', '/Users/any-id', { schemas: [URN.user], userName: 'unauthenticated@auth.test' }],
    ['PATCH', '/Groups/any-id', patchBody([{ op: 'add', path: 'members', value: [{ value: 'x' }] }])],
    ['DELETE', '/Users/any-id'],
    ['POST', '/Users/.search', { schemas: [URN.search] }],
    ['POST', '/.search', { schemas: [URN.search] }],
    [
      'POST',
      '/Bulk',
      {
        schemas: [URN.bulkRequest],
        Operations: [
          {
            method: 'POST',
            bulkId: 'a',
            path: '/Users',
            data: { schemas: [URN.user], userName: 'unauthenticated@auth.test' },
          },
        ],
      },
    ],
  ];

  test(
    'no Authorization header → 401 with WWW-Authenticate: Bearer and a SCIM error, ' +
      'on every endpoint incl. discovery',
    async () => {
      for (const [method, path, body] of endpoints) {
        const res = await req(method, path, { body, auth: null });
        assertError(res, 401, undefined, `${method} ${path}`);
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b/i, `${method} ${path} WWW-Authenticate`);
      }
    },
  );

  test('a wrong token, an empty one or another scheme → 401', async () => {
    for (const auth of [
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      'Bearer',
      'Bearer ',
      `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`,
      TOKEN,
    ]) {
      for (const [method, path, body] of [endpoints[0]!, endpoints[5]!, endpoints[8]!]) {
        const res = await req(method, path, { body, auth });
        assertError(res, 401, undefined, `${method} ${path} with Authorization "${auth.slice(0, 12)}…"`);
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b/i);
      }
    }
  });

  test('refused writes changed nothing', async () => {
    const page = await list('/Users', { filter: 'userName eq "unauthenticated@auth.test"' });
    assert.equal(page.totalResults, 0);
  });

  test('the scheme name is case-insensitive (RFC 7235 §2.1): "bearer TOKEN" is accepted', async () => {
    const res = await req('GET', '/ServiceProviderConfig', { auth: `bearer ${TOKEN}` });
    expectStatus(res, 200);
  });
});

describe('discovery (RFC 7644 §4, RFC 7643 §5–7, RFC 9865 §4)', () => {
  test('ServiceProviderConfig advertises patch, bulk, filter, sort, etag, pagination and bearer auth', async () => {
    const res = await req('GET', '/ServiceProviderConfig');
    expectStatus(res, 200);
    assertScimJson(res);
    const c = res.body;
    assert.ok(c.schemas.includes(URN.spc));
    assert.equal(c.patch?.supported, true);
    assert.equal(c.bulk?.supported, true);
    assert.equal(c.bulk?.maxOperations, 1000);
    assert.equal(c.bulk?.maxPayloadSize, 1048576);
    assert.equal(c.filter?.supported, true);
    assert.equal(c.filter?.maxResults, 1000);
    assert.equal(c.changePassword?.supported, false);
    assert.equal(c.sort?.supported, true);
    assert.equal(c.etag?.supported, true);
    const p = c.pagination ?? {};
    assert.deepEqual(
      {
        cursor: p.cursor,
        index: p.index,
        defaultPaginationMethod: p.defaultPaginationMethod,
        defaultPageSize: p.defaultPageSize,
        maxPageSize: p.maxPageSize,
        cursorTimeout: p.cursorTimeout,
      },
      {
        cursor: true,
        index: true,
        defaultPaginationMethod: 'index',
        defaultPageSize: 100,
        maxPageSize: 1000,
        cursorTimeout: 3600,
      },
    );
    assert.ok(
      Array.isArray(c.authenticationSchemes) &&
        c.authenticationSchemes.some((s: Json) => s.type === 'oauthbearertoken'),
      'an oauthbearertoken authentication scheme',
    );
  });

  test(
    'Schemas lists User, Group and the enterprise extension with the RFC 7643 ' + 'attribute characteristics',
    async () => {
      const res = await req('GET', '/Schemas');
      expectStatus(res, 200);
      assertScimJson(res);
      assert.deepEqual(res.body.schemas, [URN.list], 'several schemas come as a ListResponse (RFC 7644 §4)');
      const all: Json[] = resources(res.body);
      const urns = all.map((s) => s.id);
      for (const urn of [URN.user, URN.group, URN.enterprise]) assert.ok(urns.includes(urn), `/Schemas lists ${urn}`);

      const user = await get(`/Schemas/${URN.user}`);
      assert.equal(user.id, URN.user);
      const attr = (schema: Json, name: string) => (schema.attributes as Json[]).find((a) => a.name === name);
      const userName = attr(user, 'userName');
      assert.equal(userName?.required, true);
      assert.equal(userName?.caseExact, false);
      assert.equal(userName?.uniqueness, 'server');
      assert.equal(attr(user, 'password')?.returned, 'never');
      assert.equal(attr(user, 'password')?.mutability, 'writeOnly');
      assert.equal(attr(user, 'groups')?.mutability, 'readOnly');
      assert.equal(attr(user, 'emails')?.multiValued, true);
      assert.equal(attr(user, 'active')?.type, 'boolean');
      const name = attr(user, 'name');
      assert.equal(name?.type, 'complex');
      assert.ok((name.subAttributes as Json[]).some((s) => s.name === 'givenName'));

      const enterprise = await get(`/Schemas/${URN.enterprise}`);
      for (const n of ['employeeNumber', 'department', 'manager'])
        assert.ok(attr(enterprise, n), `enterprise schema has ${n}`);
      const group = await get(`/Schemas/${URN.group}`);
      assert.equal(attr(group, 'members')?.multiValued, true);
      assert.ok(attr(group, 'displayName'));
    },
  );

  test('an unknown schema URN → 404', async () => {
    assertError(await req('GET', '/Schemas/urn:example:params:scim:schemas:nothing:2.0:Nope'), 404);
  });

  test('ResourceTypes describe /Users (with the enterprise extension) and /Groups', async () => {
    const res = await req('GET', '/ResourceTypes');
    expectStatus(res, 200);
    assert.deepEqual(res.body.schemas, [URN.list], 'several resource types come as a ListResponse (RFC 7644 §4)');
    const all: Json[] = resources(res.body);
    const user = all.find((t) => t.name === 'User');
    const group = all.find((t) => t.name === 'Group');
    assert.equal(user?.endpoint, '/Users');
    assert.equal(user?.schema, URN.user);
    assert.ok((user?.schemaExtensions ?? []).some((e: Json) => e.schema === URN.enterprise && e.required === false));
    assert.equal(group?.endpoint, '/Groups');
    assert.equal(group?.schema, URN.group);
    const one = await get('/ResourceTypes/User');
    assert.equal(one.endpoint, '/Users');
    assert.ok(one.schemas.includes(URN.resourceType));
    assert.equal((await get('/ResourceTypes/Group')).schema, URN.group);
  });

  test('a filter on a discovery endpoint → 403 (RFC 7644 §4, SHOULD)', async () => {
    for (const path of ['/Schemas', '/ResourceTypes', '/ServiceProviderConfig']) {
      assertError(await req('GET', `${path}${qs({ filter: 'id eq "x"' })}`), 403, undefined, path);
    }
  });

  test('an unknown path → 404', async () => {
    expectStatus(await req('GET', '/Nothing'), 404);
    expectStatus(await req('GET', '/ResourceTypes/Nothing'), 404);
  });
});

describe('Users: create, read, replace, delete (RFC 7644 §3.3, §3.4.1, §3.5.1, §3.6, §3.14)', () => {
  const D = 'crud.test';

  test(
    'POST → 201 with Location = meta.location, ETag = meta.version (weak), a ' + 'server-assigned id and meta',
    async () => {
      const startedAt = Date.now();
      const userName = uniqueName(D, 'Alice');
      const res = await req('POST', '/Users', {
        body: {
          schemas: [URN.user, URN.enterprise],
          id: 'client-chosen-id',
          userName,
          name: { givenName: 'Alice', familyName: 'Crud' },
          displayName: 'Alice Crud',
          title: 'Engineer',
          active: true,
          emails: [{ value: 'alice@crud.test', type: 'work', primary: true }],
          meta: { version: 'W/"forged"', created: '2001-01-01T00:00:00Z', resourceType: 'Group' },
          [URN.enterprise]: { department: 'R&D', employeeNumber: '42' },
        },
      });
      expectStatus(res, 201);
      assertScimJson(res);
      const u = res.body;
      assert.equal(typeof u.id, 'string');
      assert.notEqual(u.id, 'client-chosen-id', 'id is assigned by the server');
      assert.equal(u.userName, userName);
      assert.ok(u.schemas.includes(URN.user));
      assert.ok(u.schemas.includes(URN.enterprise));
      assert.deepEqual(u[URN.enterprise], { department: 'R&D', employeeNumber: '42' });
      assert.equal(u.emails[0].value, 'alice@crud.test');
      assert.equal(u.meta.resourceType, 'User');
      assert.equal(u.meta.location, `${server.url}/Users/${u.id}`);
      assert.equal(res.headers.get('location'), u.meta.location);
      assert.match(u.meta.version, /^W\/".+"$/);
      assert.notEqual(u.meta.version, 'W/"forged"');
      assert.equal(res.headers.get('etag'), u.meta.version);
      const created = Date.parse(u.meta.created);
      assert.ok(
        created >= startedAt - 2000 && created <= Date.now() + 2000,
        `meta.created is now, not the client's: ${u.meta.created}`,
      );
      assert.equal(Date.parse(u.meta.lastModified), created, 'lastModified = created on creation');
    },
  );

  test('attribute names in bodies and PATCH paths are case-insensitive (RFC 7643 §2.1)', async () => {
    const userName = uniqueName(D, 'Case');
    const res = await req('POST', '/Users', {
      body: {
        schemas: [URN.user],
        UserName: userName,
        NAME: { GivenName: 'Cas', familyname: 'Sensitive' },
        Emails: [{ Value: 'case@crud.test', TYPE: 'work' }],
        Active: false,
      },
    });
    expectStatus(res, 201);
    const u = res.body;
    assert.equal(u.userName, userName);
    assert.deepEqual(u.name, { givenName: 'Cas', familyName: 'Sensitive' });
    assert.deepEqual(u.emails, [{ value: 'case@crud.test', type: 'work' }]);
    assert.equal(u.active, false);
    const v = await patchOk(`/Users/${u.id}`, [
      { op: 'replace', path: 'NAME.GIVENNAME', value: 'Kas' },
      { op: 'replace', path: 'EMAILS[TYPE eq "work"].VALUE', value: 'kas@crud.test' },
      { op: 'add', value: { Title: 'Cased' } },
    ]);
    assert.equal(v.name.givenName, 'Kas');
    assert.equal(v.emails[0].value, 'kas@crud.test');
    assert.equal(v.title, 'Cased');
  });

  test('application/json request bodies are accepted', async () => {
    const res = await req('POST', '/Users', {
      body: { schemas: [URN.user], userName: uniqueName(D) },
      contentType: 'application/json',
    });
    expectStatus(res, 201);
  });

  test('GET by id returns the resource; If-None-Match with its ETag → 304, with another → 200', async () => {
    const u = await createUser({ userName: uniqueName(D), title: 'Reader' });
    const res = await req('GET', `/Users/${u.id}`);
    expectStatus(res, 200);
    assertScimJson(res);
    assert.deepEqual(res.body, u);
    assert.equal(res.headers.get('etag'), u.meta.version);
    const viaLocation = await req('GET', u.meta.location);
    expectStatus(viaLocation, 200, 'GET meta.location');
    const notModified = await req('GET', `/Users/${u.id}`, { headers: { 'if-none-match': u.meta.version } });
    expectStatus(notModified, 304);
    assert.equal(notModified.text, '');
    const other = await req('GET', `/Users/${u.id}`, { headers: { 'if-none-match': 'W/"something-else"' } });
    expectStatus(other, 200);
  });

  test('GET, PUT, PATCH and DELETE of an unknown id → 404', async () => {
    const path = '/Users/00000000-0000-4000-8000-000000000000';
    assertError(await req('GET', path), 404, undefined, 'GET');
    assertError(
      await req('PUT', path, { body: { schemas: [URN.user], userName: uniqueName(D) } }),
      404,
      undefined,
      'PUT',
    );
    assertError(await patch(path, [{ op: 'replace', path: 'title', value: 'x' }]), 404, undefined, 'PATCH');
    assertError(await req('DELETE', path), 404, undefined, 'DELETE');
    assertError(await req('GET', '/Groups/00000000-0000-4000-8000-000000000000'), 404, undefined, 'GET group');
  });

  test('userName is unique ignoring case → 409 uniqueness, on POST and PUT', async () => {
    const name = uniqueName(D, 'Unique');
    const first = await createUser({ userName: name });
    assertError(
      await req('POST', '/Users', { body: { schemas: [URN.user], userName: name.toUpperCase() } }),
      409,
      'uniqueness',
      'POST',
    );
    const other = await createUser({ userName: uniqueName(D) });
    assertError(
      await req('PUT', `/Users/${other.id}`, { body: { schemas: [URN.user], userName: name.toLowerCase() } }),
      409,
      'uniqueness',
      'PUT',
    );
    const page = await list('/Users', { filter: `userName eq "${name}"` });
    assert.deepEqual(ids(resources(page)), [first.id]);
    // Its own userName in another case is no conflict.
    expectStatus(
      await req('PUT', `/Users/${first.id}`, { body: { schemas: [URN.user], userName: name.toUpperCase() } }),
      200,
    );
  });

  test('userName uniqueness ignores case beyond ASCII too', async () => {
    const stem = `Ærøskøbing.${serial++}`;
    await createUser({ userName: `${stem}@${D}` });
    assertError(
      await req('POST', '/Users', {
        body: { schemas: [URN.user], userName: `${stem.toLowerCase()}@${D.toUpperCase()}` },
      }),
      409,
      'uniqueness',
    );
    assert.equal(
      (await list('/Users', { filter: `userName eq "${stem.toUpperCase()}@${D}"` })).totalResults,
      1,
      'and so does eq',
    );
  });

  test('PATCH of userName onto another user’s (in another case) → 409 uniqueness', async () => {
    const a = await createUser({ userName: uniqueName(D, 'PatchA') });
    const b = await createUser({ userName: uniqueName(D, 'PatchB') });
    assertError(
      await patch(`/Users/${b.id}`, [{ op: 'replace', path: 'userName', value: a.userName.toUpperCase() }]),
      409,
      'uniqueness',
    );
    assert.equal((await get(`/Users/${b.id}`)).userName, b.userName);
  });

  test('concurrent POSTs of one userName create exactly one user', async () => {
    const name = uniqueName(D, 'Race');
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        req('POST', '/Users', { body: { schemas: [URN.user], userName: i % 2 ? name : name.toUpperCase() } }),
      ),
    );
    assert.deepEqual(sorted(results.map((r) => String(r.status))), sorted(['201', ...Array(11).fill('409')]));
    assert.equal((await list('/Users', { filter: `userName eq "${name}"` })).totalResults, 1);
  });

  test('missing userName → 400 invalidValue, and nothing is created', async () => {
    const before = (await list('/Users', { count: 0 })).totalResults;
    assertError(
      await req('POST', '/Users', { body: { schemas: [URN.user], displayName: 'No Name' } }),
      400,
      'invalidValue',
    );
    assertError(
      await req('POST', '/Users', { body: { schemas: [URN.user], userName: '' } }),
      400,
      'invalidValue',
      'empty userName',
    );
    assert.equal((await list('/Users', { count: 0 })).totalResults, before);
  });

  test('values of the wrong type → 400 invalidValue, and nothing is created', async () => {
    const bad: Array<[string, Json]> = [
      ['"active": "yes"', { active: 'yes' }],
      ['"name" as a string', { name: 'Alice Crud' }],
      ['"emails" as a string', { emails: 'alice@crud.test' }],
      ['"title" as a number', { title: 42 }],
    ];
    for (const [what, extra] of bad) {
      const userName = uniqueName(D, 'Typed');
      assertError(
        await req('POST', '/Users', { body: { schemas: [URN.user], userName, ...extra } }),
        400,
        'invalidValue',
        what,
      );
      assert.equal(
        (await list('/Users', { filter: `userName eq "${userName}"` })).totalResults,
        0,
        `${what}: nothing created`,
      );
    }
  });

  test('a body that is not JSON → 400 invalidSyntax', async () => {
    assertError(
      await req('POST', '/Users', { raw: '{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": ' }),
      400,
      'invalidSyntax',
    );
  });

  test('password is accepted but never returned (POST, GET, list, PUT, PATCH, attributes=password)', async () => {
    const userName = uniqueName(D, 'Secret');
    const res = await req('POST', '/Users', { body: { schemas: [URN.user], userName, password: 'Sup3r-s3cret!' } });
    expectStatus(res, 201);
    const u = res.body;
    const noPassword = (r: ScimResponse, what: string) => {
      assert.ok(!r.text.includes('Sup3r-s3cret!'), `${what} does not contain the password`);
      assert.ok(!/"password"/i.test(r.text), `${what} has no password attribute`);
    };
    noPassword(res, 'POST');
    noPassword(await req('GET', `/Users/${u.id}`), 'GET');
    noPassword(await req('GET', `/Users/${u.id}?attributes=password,userName`), 'GET attributes=password');
    noPassword(await req('GET', `/Users${qs({ filter: `userName eq "${userName}"` })}`), 'list');
    noPassword(
      await req('PUT', `/Users/${u.id}`, { body: { schemas: [URN.user], userName, password: 'Sup3r-s3cret!' } }),
      'PUT',
    );
    noPassword(await patch(`/Users/${u.id}`, [{ op: 'replace', path: 'password', value: 'Sup3r-s3cret!' }]), 'PATCH');
  });

  test('id, meta and groups sent by the client are ignored (readOnly, RFC 7643 §2.2)', async () => {
    const group = await createGroup(`ReadOnly ${serial++}`);
    const u = await createUser({
      userName: uniqueName(D),
      groups: [{ value: group.id, display: group.displayName }],
      meta: { created: '2001-01-01T00:00:00Z' },
    });
    assert.ok(!(u.groups ?? []).some((g: Json) => g.value === group.id), 'groups on POST does not add a membership');
    assert.ok(!((await get(`/Groups/${group.id}`)).members ?? []).some((m: Json) => m.value === u.id));
    assert.notEqual(u.meta.created, '2001-01-01T00:00:00Z');
  });

  test(
    'PUT replaces the resource → 200, new version and lastModified, readOnly ' + 'attributes ignored, membership kept',
    async () => {
      const userName = uniqueName(D, 'Put');
      const u = await createUser({
        userName,
        title: 'Before',
        nickName: 'Nick',
        name: { givenName: 'Pat', familyName: 'Put' },
        emails: [{ value: 'pat@crud.test', type: 'work' }],
      });
      const group = await createGroup(`PutGroup ${serial++}`, [{ value: u.id }]);
      const res = await req('PUT', `/Users/${u.id}`, {
        body: {
          schemas: [URN.user],
          id: 'another-id',
          userName,
          name: { givenName: 'Patricia', familyName: 'Put' },
          title: 'After',
          groups: [],
          meta: { created: '2001-01-01T00:00:00Z', version: 'W/"forged"' },
        },
      });
      expectStatus(res, 200);
      assertScimJson(res);
      const v = res.body;
      assert.equal(v.id, u.id, 'id unchanged');
      assert.equal(v.title, 'After');
      assert.equal(v.name.givenName, 'Patricia');
      assert.equal(v.nickName, undefined, 'attributes left out of a PUT are cleared');
      assert.equal(v.emails, undefined, 'attributes left out of a PUT are cleared');
      assert.equal(v.meta.created, u.meta.created, 'meta.created unchanged');
      assert.notEqual(v.meta.version, u.meta.version, 'a new version');
      assert.notEqual(v.meta.version, 'W/"forged"');
      assert.equal(res.headers.get('etag'), v.meta.version);
      assert.ok(Date.parse(v.meta.lastModified) >= Date.parse(u.meta.lastModified), 'lastModified does not go back');
      assert.ok(
        (v.groups ?? []).some((g: Json) => g.value === group.id),
        'groups in a PUT body do not remove memberships',
      );
      assert.deepEqual(await get(`/Users/${u.id}`), v, 'GET shows what PUT returned');
    },
  );

  test('DELETE → 204 with no body; then GET → 404 and DELETE → 404', async () => {
    const u = await createUser({ userName: uniqueName(D, 'Gone') });
    const res = await req('DELETE', `/Users/${u.id}`);
    expectStatus(res, 204);
    assert.equal(res.text, '');
    assertError(await req('GET', `/Users/${u.id}`), 404);
    assertError(await req('DELETE', `/Users/${u.id}`), 404);
    assert.equal((await list('/Users', { filter: `userName eq "${u.userName}"` })).totalResults, 0);
    const again = await createUser({ userName: u.userName.toUpperCase() });
    assert.notEqual(again.id, u.id, 'the userName of a deleted user is free again, under a new id');
  });

  test('a userName given up by a rename is free again', async () => {
    const old = uniqueName(D, 'Renamed');
    const u = await createUser({ userName: old });
    await patchOk(`/Users/${u.id}`, [{ op: 'replace', path: 'userName', value: uniqueName(D, 'NewName') }]);
    await createUser({ userName: old });
    const put = await createUser({ userName: uniqueName(D, 'PutRename') });
    expectStatus(
      await req('PUT', `/Users/${put.id}`, { body: { schemas: [URN.user], userName: uniqueName(D, 'PutRenamed') } }),
      200,
    );
    await createUser({ userName: put.userName });
  });

  test('If-Match with a stale ETag → 412 on PUT, PATCH and DELETE, and nothing changes', async () => {
    const u = await createUser({ userName: uniqueName(D, 'Etag'), title: 'One' });
    const stale = u.meta.version;
    const changed = await patchOk(`/Users/${u.id}`, [{ op: 'replace', path: 'title', value: 'Two' }]);
    assert.notEqual(changed.meta.version, stale);
    const h = { 'if-match': stale };
    assertError(
      await req('PUT', `/Users/${u.id}`, {
        body: { schemas: [URN.user], userName: u.userName, title: 'Three' },
        headers: h,
      }),
      412,
      undefined,
      'PUT',
    );
    assertError(
      await patch(`/Users/${u.id}`, [{ op: 'replace', path: 'title', value: 'Three' }], h),
      412,
      undefined,
      'PATCH',
    );
    assertError(await req('DELETE', `/Users/${u.id}`, { headers: h }), 412, undefined, 'DELETE');
    const now = await get(`/Users/${u.id}`);
    assert.equal(now.title, 'Two');
    assert.equal(now.meta.version, changed.meta.version);
  });

  test('If-Match with the current ETag or * succeeds, and each change gives a new version', async () => {
    const u = await createUser({ userName: uniqueName(D, 'Match'), title: 'One' });
    const a = await patch(`/Users/${u.id}`, [{ op: 'replace', path: 'title', value: 'Two' }], {
      'if-match': u.meta.version,
    });
    expectStatus(a, 200, 'PATCH with the current ETag');
    const b = await req('PUT', `/Users/${u.id}`, {
      body: { schemas: [URN.user], userName: u.userName, title: 'Three' },
      headers: { 'if-match': a.body.meta.version },
    });
    expectStatus(b, 200, 'PUT with the current ETag');
    const c = await patch(`/Users/${u.id}`, [{ op: 'replace', path: 'title', value: 'Four' }], { 'if-match': '*' });
    expectStatus(c, 200, 'PATCH with If-Match: *');
    const versions = [u.meta.version, a.body.meta.version, b.body.meta.version, c.body.meta.version];
    assert.equal(new Set(versions).size, 4, `every change gives a new version: ${versions.join(' ')}`);
    const times = [u, a.body, b.body, c.body].map((r) => Date.parse(r.meta.lastModified));
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!, 'lastModified never goes back');
    expectStatus(
      await req('DELETE', `/Users/${u.id}`, { headers: { 'if-match': c.body.meta.version } }),
      204,
      'DELETE with the current ETag',
    );
  });
});

describe('Groups and memberships (RFC 7643 §4.1.2, §4.2; RFC 7644 §3.5.2)', () => {
  const D = 'grp.test';

  test(
    'POST a group with user members → 201; members carry value, $ref and type; ' + 'ETag and Location as for users',
    async () => {
      const a = await createUser({ userName: uniqueName(D), displayName: 'Member A' });
      const b = await createUser({ userName: uniqueName(D), displayName: 'Member B' });
      const res = await req('POST', '/Groups', {
        body: {
          schemas: [URN.group],
          displayName: `Engineering ${serial++}`,
          members: [{ value: a.id }, { value: b.id, type: 'User' }],
        },
      });
      expectStatus(res, 201);
      const g = res.body;
      assert.equal(g.meta.resourceType, 'Group');
      assert.equal(res.headers.get('location'), g.meta.location);
      assert.equal(g.meta.location, `${server.url}/Groups/${g.id}`);
      assert.equal(res.headers.get('etag'), g.meta.version);
      expectStatus(
        await req('GET', `/Groups/${g.id}`, { headers: { 'if-none-match': g.meta.version } }),
        304,
        'If-None-Match on a group',
      );
      assert.deepEqual(sorted(g.members.map((m: Json) => m.value)), sorted([a.id, b.id]));
      for (const m of g.members) {
        assert.equal(m.type, 'User');
        assert.ok(String(m.$ref).endsWith(`/Users/${m.value}`), `$ref of ${m.value}: ${m.$ref}`);
      }
    },
  );

  test("a user's groups list its direct groups with value, display, $ref and type direct", async () => {
    const u = await createUser({ userName: uniqueName(D) });
    const g1 = await createGroup(`Direct One ${serial++}`, [{ value: u.id }]);
    const g2 = await createGroup(`Direct Two ${serial++}`, [{ value: u.id }]);
    const got = await get(`/Users/${u.id}`);
    const groups = (got.groups ?? []) as Json[];
    assert.deepEqual(sorted(groups.map((g) => g.value)), sorted([g1.id, g2.id]));
    for (const [g, want] of [
      [groups.find((x) => x.value === g1.id), g1],
      [groups.find((x) => x.value === g2.id), g2],
    ] as const) {
      assert.equal(g.display, want.displayName);
      assert.equal(g.type, 'direct');
      assert.ok(String(g.$ref).endsWith(`/Groups/${want.id}`), `$ref: ${g.$ref}`);
    }
  });

  test('a group can contain a group (type Group); its users do not list the parent as a direct group', async () => {
    const u = await createUser({ userName: uniqueName(D) });
    const child = await createGroup(`Child ${serial++}`, [{ value: u.id, type: 'User' }]);
    const parent = await createGroup(`Parent ${serial++}`, [{ value: child.id, type: 'Group' }]);
    const m = (parent.members as Json[]).find((x) => x.value === child.id);
    assert.equal(m?.type, 'Group');
    assert.ok(String(m?.$ref).endsWith(`/Groups/${child.id}`), `$ref: ${m?.$ref}`);
    const groups = ((await get(`/Users/${u.id}`)).groups ?? []) as Json[];
    assert.ok(groups.some((g) => g.value === child.id && g.type === 'direct'));
    assert.ok(!groups.some((g) => g.value === parent.id && g.type === 'direct'), 'the parent is not a direct group');
  });

  test("renaming a group changes the display in its members' groups", async () => {
    const u = await createUser({ userName: uniqueName(D) });
    const g = await createGroup(`Old Name ${serial++}`, [{ value: u.id }]);
    const newName = `New Name ${serial++}`;
    const renamed = await patchOk(`/Groups/${g.id}`, [{ op: 'replace', path: 'displayName', value: newName }]);
    assert.equal(renamed.displayName, newName);
    assert.notEqual(renamed.meta.version, g.meta.version);
    const ug = ((await get(`/Users/${u.id}`)).groups as Json[]).find((x) => x.value === g.id);
    assert.equal(ug?.display, newName);
  });

  test('PATCH add members that are already members does not duplicate them', async () => {
    const a = await createUser({ userName: uniqueName(D) });
    const b = await createUser({ userName: uniqueName(D) });
    const g = await createGroup(`NoDup ${serial++}`, [{ value: a.id }]);
    const after = await patchOk(`/Groups/${g.id}`, [
      { op: 'add', path: 'members', value: [{ value: a.id }, { value: b.id }, { value: b.id }] },
    ]);
    assert.deepEqual(sorted(after.members.map((m: Json) => m.value)), sorted([a.id, b.id]));
    const again = await patchOk(`/Groups/${g.id}`, [{ op: 'add', value: { members: [{ value: a.id }] } }]);
    assert.equal(again.members.length, 2);
  });

  test('PATCH remove members[value eq "ID"] removes exactly that member', async () => {
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => createUser({ userName: uniqueName(D) })));
    const g = await createGroup(`Remove ${serial++}`, [{ value: a.id }, { value: b.id }, { value: c.id }]);
    const after = await patchOk(`/Groups/${g.id}`, [{ op: 'remove', path: `members[value eq "${b.id}"]` }]);
    assert.deepEqual(sorted((after.members ?? []).map((m: Json) => m.value)), sorted([a.id, c.id]));
    assert.ok(
      !((await get(`/Users/${b.id}`)).groups ?? []).some((x: Json) => x.value === g.id),
      'the removed user no longer lists the group',
    );
  });

  test('PATCH replace members sets exactly the given members; remove path members empties the group', async () => {
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => createUser({ userName: uniqueName(D) })));
    const g = await createGroup(`Replace ${serial++}`, [{ value: a.id }, { value: b.id }]);
    const after = await patchOk(`/Groups/${g.id}`, [{ op: 'replace', path: 'members', value: [{ value: c.id }] }]);
    assert.deepEqual(
      (after.members ?? []).map((m: Json) => m.value),
      [c.id],
    );
    const empty = await patchOk(`/Groups/${g.id}`, [{ op: 'remove', path: 'members' }]);
    assert.equal((empty.members ?? []).length, 0);
  });

  test('concurrent PATCHes adding different members all take effect', async () => {
    const users = await Promise.all(Array.from({ length: 10 }, () => createUser({ userName: uniqueName(D) })));
    const g = await createGroup(`Concurrent ${serial++}`);
    const results = await Promise.all(
      users.map((u) => patch(`/Groups/${g.id}`, [{ op: 'add', path: 'members', value: [{ value: u.id }] }])),
    );
    for (const r of results) expectStatus(r, 200);
    const members = ((await get(`/Groups/${g.id}`)).members ?? []) as Json[];
    assert.deepEqual(sorted(members.map((m) => m.value)), sorted(ids(users)));
  });

  test('deleting a user removes it from the members of its groups', async () => {
    const a = await createUser({ userName: uniqueName(D) });
    const b = await createUser({ userName: uniqueName(D) });
    const g = await createGroup(`Leavers ${serial++}`, [{ value: a.id }, { value: b.id }]);
    expectStatus(await req('DELETE', `/Users/${a.id}`), 204);
    const after = await get(`/Groups/${g.id}`);
    assert.deepEqual(
      (after.members ?? []).map((m: Json) => m.value),
      [b.id],
    );
    assert.notEqual(after.meta.version, g.meta.version, 'the group changed, so its version changes (RFC 7644 §3.14)');
    assertError(
      await req('PUT', `/Groups/${g.id}`, {
        body: { schemas: [URN.group], displayName: g.displayName, members: [{ value: b.id }] },
        headers: { 'if-match': g.meta.version },
      }),
      412,
      undefined,
      'If-Match with the version from before the deletion',
    );
  });

  test("deleting a group removes it from its users' groups", async () => {
    const u = await createUser({ userName: uniqueName(D) });
    const g = await createGroup(`Doomed ${serial++}`, [{ value: u.id }]);
    const keep = await createGroup(`Kept ${serial++}`, [{ value: u.id }]);
    expectStatus(await req('DELETE', `/Groups/${g.id}`), 204);
    assertError(await req('GET', `/Groups/${g.id}`), 404);
    assert.deepEqual(
      ((await get(`/Users/${u.id}`)).groups ?? []).map((x: Json) => x.value),
      [keep.id],
    );
  });

  test(
    'filters on Groups: displayName ignores case; members.value and members[value ' + 'eq] find a member’s groups',
    async () => {
      const u = await createUser({ userName: uniqueName(D) });
      const tag = `Filterable ${serial++}`;
      const g1 = await createGroup(`${tag} One`, [{ value: u.id }]);
      await createGroup(`${tag} Two`);
      const g3 = await createGroup(`${tag} Three`, [{ value: u.id }]);
      assert.deepEqual(ids(resources(await list('/Groups', { filter: `displayName eq "${tag.toUpperCase()} ONE"` }))), [
        g1.id,
      ]);
      assert.deepEqual(
        sorted(ids(resources(await list('/Groups', { filter: `members.value eq "${u.id}"` })))),
        sorted([g1.id, g3.id]),
      );
      assert.deepEqual(
        sorted(ids(resources(await list('/Groups', { filter: `members[value eq "${u.id}"]` })))),
        sorted([g1.id, g3.id]),
      );
      assert.equal((await list('/Groups', { filter: `displayName sw "${tag}"` })).totalResults, 3);
    },
  );

  test('excludedAttributes=members and attributes=displayName leave members out', async () => {
    const u = await createUser({ userName: uniqueName(D) });
    const g = await createGroup(`Projected ${serial++}`, [{ value: u.id }]);
    const a = await get(`/Groups/${g.id}?excludedAttributes=members`);
    assert.equal(a.members, undefined);
    assert.equal(a.displayName, g.displayName);
    const b = await get(`/Groups/${g.id}?attributes=displayName`);
    assert.equal(b.members, undefined);
    assert.equal(b.id, g.id);
  });
});

describe('PATCH (RFC 7644 §3.5.2)', () => {
  const D = 'patch.test';
  const base = () => ({
    userName: uniqueName(D, 'Pat'),
    name: { givenName: 'Pat', familyName: 'Cher', middleName: 'M' },
    displayName: 'Pat Cher',
    title: 'Engineer',
    active: true,
    emails: [
      { value: 'pat@work.patch.test', type: 'work', primary: true },
      { value: 'pat@home.example', type: 'home' },
    ],
    schemas: [URN.user, URN.enterprise],
    [URN.enterprise]: { department: 'R&D', costCenter: 'CC-1' },
  });
  const emailOf = (u: Json, type: string) => (u.emails ?? []).find((e: Json) => e.type === type)?.value;

  test(
    'replace name.givenName → 200 with the whole resource, a new ETag, and only ' + 'that sub-attribute changed',
    async () => {
      const u = await createUser(base());
      const res = await patch(`/Users/${u.id}`, [{ op: 'replace', path: 'name.givenName', value: 'Patricia' }]);
      expectStatus(res, 200);
      assertScimJson(res);
      const v = res.body;
      assert.deepEqual(v.name, { ...u.name, givenName: 'Patricia' });
      assert.equal(v.userName, u.userName);
      assert.deepEqual(v.emails, u.emails);
      assert.notEqual(v.meta.version, u.meta.version);
      assert.equal(res.headers.get('etag'), v.meta.version);
      assert.deepEqual(await get(`/Users/${u.id}`), v);
    },
  );

  test('op names are case-insensitive', async () => {
    const u = await createUser(base());
    const v = await patchOk(`/Users/${u.id}`, [
      { op: 'Replace', path: 'title', value: 'Manager' },
      { op: 'ADD', path: 'nickName', value: 'Patty' },
      { op: 'Remove', path: 'name.middleName' },
    ]);
    assert.equal(v.title, 'Manager');
    assert.equal(v.nickName, 'Patty');
    assert.equal(v.name.middleName, undefined);
  });

  test('replace emails[type eq "work"].value changes only the work e-mail', async () => {
    const u = await createUser(base());
    const v = await patchOk(`/Users/${u.id}`, [
      { op: 'replace', path: 'emails[type eq "work"].value', value: 'new@work.patch.test' },
    ]);
    assert.equal(emailOf(v, 'work'), 'new@work.patch.test');
    assert.equal(emailOf(v, 'home'), 'pat@home.example');
    assert.equal(v.emails.length, 2);
    assert.equal(
      v.emails.find((e: Json) => e.type === 'work').primary,
      true,
      'other sub-attributes of the item are kept',
    );
  });

  test('replace with a value filter and no sub-attribute replaces the matching items whole', async () => {
    const u = await createUser(base());
    const v = await patchOk(`/Users/${u.id}`, [
      { op: 'replace', path: 'emails[type eq "work"]', value: { value: 'whole@work.patch.test', type: 'work' } },
    ]);
    assert.deepEqual(
      v.emails.find((e: Json) => e.type === 'work'),
      { value: 'whole@work.patch.test', type: 'work' },
    );
    assert.equal(emailOf(v, 'home'), 'pat@home.example');
    assert.equal(v.emails.length, 2);
  });

  test('replace of an attribute that has no value adds it (§3.5.2.3)', async () => {
    const u = await createUser({ userName: uniqueName(D) });
    const v = await patchOk(`/Users/${u.id}`, [
      { op: 'replace', path: 'nickName', value: 'Newly' },
      { op: 'replace', path: 'name.givenName', value: 'Given' },
    ]);
    assert.equal(v.nickName, 'Newly');
    assert.equal(v.name?.givenName, 'Given');
  });

  test('removing the required userName → 400, and nothing changes', async () => {
    const u = await createUser(base());
    const res = await patch(`/Users/${u.id}`, [{ op: 'remove', path: 'userName' }]);
    assertError(res, 400);
    assert.equal((await get(`/Users/${u.id}`)).userName, u.userName);
  });

  test('replace on a value filter that matches nothing → 400 noTarget, and nothing changes', async () => {
    const u = await createUser(base());
    assertError(
      await patch(`/Users/${u.id}`, [{ op: 'replace', path: 'emails[type eq "fax"].value', value: 'x@fax.example' }]),
      400,
      'noTarget',
    );
    assert.deepEqual((await get(`/Users/${u.id}`)).emails, u.emails);
  });

  test('add without a path merges an object: complex attributes merge sub-attributes, others are kept', async () => {
    const u = await createUser(base());
    const v = await patchOk(`/Users/${u.id}`, [
      { op: 'add', value: { nickName: 'P', name: { honorificPrefix: 'Dr.' } } },
    ]);
    assert.equal(v.nickName, 'P');
    assert.deepEqual(v.name, { ...u.name, honorificPrefix: 'Dr.' });
    assert.equal(v.title, 'Engineer');
  });

  test('replace without a path: sub-attributes not given are left unchanged (§3.5.2.3)', async () => {
    const u = await createUser(base());
    const v = await patchOk(`/Users/${u.id}`, [
      { op: 'replace', value: { name: { familyName: 'Other' }, active: false, title: 'Lead' } },
    ]);
    assert.deepEqual(v.name, { ...u.name, familyName: 'Other' });
    assert.equal(v.active, false);
    assert.equal(v.title, 'Lead');
    assert.deepEqual(v.emails, u.emails);
  });

  test('URN-qualified paths reach the enterprise extension (replace, remove, add)', async () => {
    const u = await createUser({ userName: uniqueName(D) });
    const v = await patchOk(`/Users/${u.id}`, [
      { op: 'replace', path: `${URN.enterprise}:department`, value: 'Sales' },
    ]);
    assert.equal(v[URN.enterprise]?.department, 'Sales');
    assert.ok(v.schemas.includes(URN.enterprise), 'schemas lists the extension once it has values');
    const w = await patchOk(`/Users/${u.id}`, [
      { op: 'add', path: `${URN.enterprise}:manager`, value: { value: u.id } },
    ]);
    assert.equal(w[URN.enterprise]?.manager?.value, u.id);
    assert.equal(w[URN.enterprise]?.department, 'Sales');
    const x = await patchOk(`/Users/${u.id}`, [{ op: 'remove', path: `${URN.enterprise}:department` }]);
    assert.equal(x[URN.enterprise]?.department, undefined);
    assert.equal(x[URN.enterprise]?.manager?.value, u.id);
    const y = await patchOk(`/Users/${u.id}`, [{ op: 'replace', path: `${URN.user}:title`, value: 'Qualified' }]);
    assert.equal(y.title, 'Qualified', 'a core attribute qualified by its schema URN');
  });

  test('add without a path with an extension URN key merges into the extension', async () => {
    const u = await createUser(base());
    const v = await patchOk(`/Users/${u.id}`, [{ op: 'add', value: { [URN.enterprise]: { division: 'Platform' } } }]);
    assert.deepEqual(v[URN.enterprise], { department: 'R&D', costCenter: 'CC-1', division: 'Platform' });
    const w = await patchOk(`/Users/${u.id}`, [{ op: 'replace', value: { [`${URN.enterprise}:department`]: 'Ops' } }]);
    assert.equal(w[URN.enterprise]?.department, 'Ops', 'a fully qualified attribute name as a key of value');
  });

  test(
    'add to a multi-valued attribute appends; remove with a value filter removes ' + 'only the matching items',
    async () => {
      const u = await createUser(base());
      const v = await patchOk(`/Users/${u.id}`, [
        { op: 'add', path: 'emails', value: [{ value: 'pat@other.example', type: 'other' }] },
      ]);
      assert.deepEqual(sorted(v.emails.map((e: Json) => e.type)), ['home', 'other', 'work']);
      const w = await patchOk(`/Users/${u.id}`, [{ op: 'remove', path: 'emails[type eq "home"]' }]);
      assert.deepEqual(sorted(w.emails.map((e: Json) => e.type)), ['other', 'work']);
      const x = await patchOk(`/Users/${u.id}`, [{ op: 'remove', path: 'title' }]);
      assert.equal(x.title, undefined);
    },
  );

  test('adding a primary e-mail clears primary on the others (RFC 7644 §3.5.2, RFC 7643 §2.4)', async () => {
    const u = await createUser(base());
    const v = await patchOk(`/Users/${u.id}`, [
      { op: 'add', path: 'emails', value: [{ value: 'pat@new.example', type: 'other', primary: true }] },
    ]);
    const primaries = v.emails.filter((e: Json) => e.primary === true).map((e: Json) => e.value);
    assert.deepEqual(primaries, ['pat@new.example']);
  });

  test('remove without a path → 400 noTarget', async () => {
    const u = await createUser(base());
    assertError(await patch(`/Users/${u.id}`, [{ op: 'remove' }]), 400, 'noTarget');
  });

  test(
    'an unknown attribute in a path → 400 invalidPath, and the request is atomic ' + '(earlier operations undone)',
    async () => {
      const u = await createUser(base());
      assertError(
        await patch(`/Users/${u.id}`, [
          { op: 'replace', path: 'title', value: 'Changed' },
          { op: 'replace', path: 'noSuchAttribute', value: 'x' },
        ]),
        400,
        'invalidPath',
      );
      assertError(
        await patch(`/Users/${u.id}`, [{ op: 'add', path: 'name.noSuchPart', value: 'x' }]),
        400,
        'invalidPath',
        'unknown sub-attribute',
      );
      const now = await get(`/Users/${u.id}`);
      assert.equal(now.title, 'Engineer');
      assert.equal(now.meta.version, u.meta.version);
    },
  );

  test('a value of the wrong type → 400 invalidValue', async () => {
    const u = await createUser(base());
    assertError(await patch(`/Users/${u.id}`, [{ op: 'replace', path: 'active', value: 'yes' }]), 400, 'invalidValue');
    assert.equal((await get(`/Users/${u.id}`)).active, true);
  });

  test('a readOnly attribute (id, groups) cannot be patched → 400 mutability', async () => {
    const u = await createUser(base());
    const g = await createGroup(`PatchRO ${serial++}`);
    assertError(
      await patch(`/Users/${u.id}`, [{ op: 'replace', path: 'id', value: 'another-id' }]),
      400,
      'mutability',
      'id',
    );
    assertError(
      await patch(`/Users/${u.id}`, [{ op: 'add', path: 'groups', value: [{ value: g.id }] }]),
      400,
      'mutability',
      'groups',
    );
    const now = await get(`/Users/${u.id}`);
    assert.equal(now.id, u.id);
    assert.equal((now.groups ?? []).length, 0);
  });

  test('a PATCH body that is not a PatchOp → 400 invalidSyntax', async () => {
    const u = await createUser(base());
    assertError(
      await req('PATCH', `/Users/${u.id}`, { body: { schemas: [URN.patch] } }),
      400,
      'invalidSyntax',
      'no Operations',
    );
    assertError(
      await req('PATCH', `/Users/${u.id}`, { body: { schemas: [URN.patch], Operations: { op: 'add' } } }),
      400,
      'invalidSyntax',
      'Operations not an array',
    );
    assertError(
      await req('PATCH', `/Users/${u.id}`, { body: { schemas: [URN.user], userName: 'x' } }),
      400,
      'invalidSyntax',
      'a resource instead of a PatchOp',
    );
    const unknownOp = await patch(`/Users/${u.id}`, [{ op: 'move', path: 'title', value: 'x' }]);
    expectStatus(unknownOp, 400, 'op "move"');
    assert.equal((await get(`/Users/${u.id}`)).meta.version, u.meta.version);
  });
});

describe('filtering and sorting (RFC 7644 §3.4.2.2, §3.4.2.3)', () => {
  const D = '@flt.test';
  const fx: Record<string, Json> = {};
  let createdAt = 0;

  before(async () => {
    createdAt = Date.now();
    fx.alice = await createUser({
      schemas: [URN.user, URN.enterprise],
      userName: `Alice.Smith${D}`,
      name: { givenName: 'Alice', familyName: 'Smith' },
      displayName: 'Alice Smith',
      title: 'Engineer',
      active: true,
      externalId: 'EXT-A1',
      emails: [
        { value: 'alice@work.flt.test', type: 'work', primary: true },
        { value: 'alice@home.example', type: 'home' },
      ],
      [URN.enterprise]: { department: 'R&D', employeeNumber: '100' },
    });
    fx.bob = await createUser({
      schemas: [URN.user, URN.enterprise],
      userName: `bob.jones${D}`,
      name: { givenName: 'Bob', familyName: 'Jones' },
      displayName: 'Bob Jones',
      title: 'Senior Engineer',
      active: false,
      externalId: 'ext-b2',
      emails: [{ value: 'bob@work.flt.test', type: 'work' }],
      [URN.enterprise]: { department: 'Sales' },
    });
    fx.carol = await createUser({
      userName: `Carol.White${D}`,
      name: { givenName: 'Carol', familyName: 'White' },
      displayName: 'Carol White',
      nickName: 'C"W',
      active: true,
      externalId: 'EXT-C3',
      emails: [{ value: 'carol@home.example', type: 'home' }],
    });
    fx.dave = await createUser({
      schemas: [URN.user, URN.enterprise],
      userName: `dave.smith${D}`,
      name: { givenName: 'Dave', familyName: 'Smith' },
      displayName: 'Dave Smith',
      title: 'engineer',
      active: true,
      [URN.enterprise]: { department: 'R&D' },
    });
    fx.team = await createGroup(`Filter Team ${serial++}`, [{ value: fx.alice.id }, { value: fx.dave.id }]);
  });

  const short = (r: Json) => String(r.userName).split('.')[0]!.toLowerCase();
  /** The fixture users a filter matches (scoped to this block's domain), as first names in order. */
  async function find(filter: string, extra: Record<string, string> = {}): Promise<string[]> {
    const page = await list('/Users', { filter: `(${filter}) and userName ew "${D}"`, count: 1000, ...extra });
    return resources(page).map(short);
  }
  const match = async (filter: string, expected: string[]) =>
    assert.deepEqual(sorted(await find(filter)), sorted(expected), `filter: ${filter}`);

  test('eq on userName ignores case (caseExact=false)', async () => {
    await match('userName eq "ALICE.SMITH@FLT.TEST"', ['alice']);
    await match('userName eq "alice.smith@flt.test"', ['alice']);
    await match('displayName eq "carol white"', ['carol']);
  });

  test('eq on externalId and id is case-exact (caseExact=true)', async () => {
    await match('externalId eq "EXT-A1"', ['alice']);
    await match('externalId eq "ext-a1"', []);
    await match('externalId eq "ext-b2"', ['bob']);
    await match(`id eq "${fx.carol.id}"`, ['carol']);
    const upper = String(fx.carol.id).toUpperCase();
    if (upper !== fx.carol.id) await match(`id eq "${upper}"`, []);
  });

  test('co, sw, ew, pr and ne on strings', async () => {
    await match('title co "ENGINEER"', ['alice', 'bob', 'dave']);
    await match('title sw "senior"', ['bob']);
    await match('title ew "Engineer"', ['alice', 'bob', 'dave']);
    await match('title eq "engineer"', ['alice', 'dave']);
    await match('title pr', ['alice', 'bob', 'dave']);
    await match('externalId pr', ['alice', 'bob', 'carol']);
    await match('name.familyName ne "smith"', ['bob', 'carol']);
    await match('displayName sw "A"', ['alice']);
  });

  test('gt, ge, lt, le on strings compare ignoring case for caseExact=false', async () => {
    await match('userName ge "CAROL"', ['carol', 'dave']);
    await match('userName lt "Carol"', ['alice', 'bob']);
    await match('userName gt "carol.white@flt.test"', ['dave']);
    await match('userName le "BOB.JONES@FLT.TEST"', ['alice', 'bob']);
  });

  test('and binds tighter than or; parentheses and not', async () => {
    await match('title eq "Engineer" or title sw "Senior" and active eq false', ['alice', 'bob', 'dave']);
    await match('(title eq "Engineer" or title sw "Senior") and active eq false', ['bob']);
    await match('title eq "Engineer" and (name.givenName eq "Dave" or name.givenName eq "Carol")', ['dave']);
    await match('not (active eq true)', ['bob']);
    await match('not (title pr) or name.givenName eq "bob"', ['bob', 'carol']);
    await match('not (title pr or active eq false)', ['carol']);
  });

  test('sub-attributes and value paths on multi-valued attributes', async () => {
    await match('name.familyName eq "smith"', ['alice', 'dave']);
    await match('emails[type eq "work" and value co "@work.flt"]', ['alice', 'bob']);
    await match('emails[type eq "home"]', ['alice', 'carol']);
    await match('emails[type eq "work" and value co "home"]', []);
    await match('emails[type eq "work"] and emails[value co "home"]', ['alice']);
    await match('emails.value ew "@HOME.example"', ['alice', 'carol']);
    await match('emails.type eq "work"', ['alice', 'bob']);
    await match('emails.value sw "ALICE@"', ['alice']);
    await match('emails pr', ['alice', 'bob', 'carol']);
    await match('emails[primary eq true]', ['alice']);
    await match('emails[not (type eq "work")]', ['alice', 'carol']);
    await match('name pr', ['alice', 'bob', 'carol', 'dave']);
  });

  test('URN-qualified attribute names (extension and core)', async () => {
    await match(`${URN.enterprise}:department eq "R&D"`, ['alice', 'dave']);
    await match(`${URN.enterprise}:department pr`, ['alice', 'bob', 'dave']);
    await match(`${URN.enterprise}:employeeNumber eq "100"`, ['alice']);
    await match(`${URN.user}:userName eq "bob.jones@flt.test"`, ['bob']);
    await match(`${URN.user}:name.familyName eq "White"`, ['carol']);
  });

  test('booleans', async () => {
    await match('active eq false', ['bob']);
    await match('active eq true', ['alice', 'carol', 'dave']);
    await match('active ne true', ['bob']);
  });

  test('attribute names and operators are case-insensitive', async () => {
    await match('USERNAME EQ "bob.jones@flt.test"', ['bob']);
    await match('Name.FamilyName Eq "Jones"', ['bob']);
    await match('EMAILS[TYPE eq "home"]', ['alice', 'carol']);
    await match('TITLE Pr', ['alice', 'bob', 'dave']);
  });

  test('the logical operators and, or, not are case-insensitive (ABNF strings, RFC 5234 §2.3)', async () => {
    await match('title eq "Engineer" OR title sw "Senior" AND active eq false', ['alice', 'bob', 'dave']);
    await match('NOT (active eq true)', ['bob']);
    await match('Not (title pr) Or name.givenName eq "bob"', ['bob', 'carol']);
  });

  test('groups.value and groups[display eq …] find a group’s members among users', async () => {
    await match(`groups.value eq "${fx.team.id}"`, ['alice', 'dave']);
    await match(`groups[value eq "${fx.team.id}"]`, ['alice', 'dave']);
    await match(`groups[display eq "${fx.team.displayName}"]`, ['alice', 'dave']);
    await match(`not (groups.value eq "${fx.team.id}")`, ['bob', 'carol']);
  });

  test('meta.version matches the current version exactly', async () => {
    const current = await get(`/Users/${fx.bob.id}`);
    await match(`meta.version eq ${JSON.stringify(current.meta.version)}`, ['bob']);
  });

  test('string values are JSON strings: escaped quotes match', async () => {
    await match('nickName eq "C\\"W"', ['carol']);
  });

  test('meta.lastModified and meta.created compare as times, not as text', async () => {
    await match('meta.lastModified gt "2000-01-01T00:00:00Z"', ['alice', 'bob', 'carol', 'dave']);
    // One hour from now, written with a -05:00 offset: as text it sorts before today's "…Z" times.
    const inAnHour = new Date(Date.now() + 3_600_000);
    const local = new Date(inAnHour.getTime() - 5 * 3_600_000).toISOString().replace(/\.\d+Z$/, '-05:00');
    await match(`meta.lastModified lt "${local}"`, ['alice', 'bob', 'carol', 'dave']);
    await match(`meta.lastModified gt "${local}"`, []);
    await match(`meta.created ge "${fx.alice.meta.created}"`, ['alice', 'bob', 'carol', 'dave']);
    const aliceCreated = new Date(fx.alice.meta.created).toISOString().replace('Z', '+00:00');
    await match(`meta.created eq "${aliceCreated}"`, ['alice']);
    await match(`meta.created lt "${new Date(createdAt - 60_000).toISOString()}"`, []);
  });

  test('syntax errors, unknown attributes and gt/lt on booleans → 400 invalidFilter', async () => {
    const bad = [
      'userName eq',
      'userName zz "x"',
      '(userName eq "x"',
      'userName eq "x")',
      'userName eq "unterminated',
      'userName eq "x" and',
      'and userName eq "x"',
      'emails[type eq "work"',
      'userName eq x',
      'noSuchAttribute eq "x"',
      'name.noSuchPart eq "x"',
      'urn:example:nothing:2.0:User:department eq "x"',
      'active gt true',
      'active lt false',
    ];
    for (const filter of bad)
      assertError(await req('GET', `/Users${qs({ filter })}`), 400, 'invalidFilter', `filter ${filter}`);
  });

  test('a deeply nested filter → 400 invalidFilter (not a server error), and the server keeps serving', async () => {
    for (const filter of [
      '('.repeat(5000) + 'userName pr' + ')'.repeat(5000),
      'not ('.repeat(3000) + 'userName pr' + ')'.repeat(3000),
    ]) {
      const res = await req('POST', '/Users/.search', { body: { schemas: [URN.search], filter, count: 1 } });
      assert.ok(
        res.status === 200 || res.status === 400,
        `expected 200 or 400 invalidFilter, got ${res.status}: ${res.text.slice(0, 300)}`,
      );
      if (res.status === 400) assertError(res, 400, 'invalidFilter');
    }
    expectStatus(await req('GET', '/Users?count=0'), 200);
  });

  test('a filter of thousands of or-terms is answered (200, or 400 invalidFilter), not a server error', async () => {
    const filter = [
      ...Array.from({ length: 20000 }, (_, i) => `userName eq "nobody-${i}@flt.test"`),
      `userName eq "bob.jones${D}"`,
    ].join(' or ');
    const res = await req('POST', '/Users/.search', { body: { schemas: [URN.search], filter } });
    assert.ok(
      res.status === 200 || res.status === 400,
      `expected 200 or 400 invalidFilter, got ${res.status}: ${res.text.slice(0, 300)}`,
    );
    if (res.status === 200) assert.deepEqual(resources(res.body).map(short), ['bob']);
    else assertError(res, 400, 'invalidFilter');
  });

  test('sortBy userName: ascending by default, ignoring case; descending reverses', async () => {
    assert.deepEqual(await find('userName pr', { sortBy: 'userName' }), ['alice', 'bob', 'carol', 'dave']);
    assert.deepEqual(await find('userName pr', { sortBy: 'userName', sortOrder: 'ascending' }), [
      'alice',
      'bob',
      'carol',
      'dave',
    ]);
    assert.deepEqual(await find('userName pr', { sortBy: 'userName', sortOrder: 'descending' }), [
      'dave',
      'carol',
      'bob',
      'alice',
    ]);
  });

  test('sortBy an attribute some lack: those come last ascending and first descending', async () => {
    const asc = await find('userName pr', { sortBy: 'title' });
    assert.equal(asc[3], 'carol', `no title comes last: ${asc}`);
    assert.equal(asc[2], 'bob', `"Senior Engineer" after "Engineer"/"engineer": ${asc}`);
    const desc = await find('userName pr', { sortBy: 'title', sortOrder: 'descending' });
    assert.equal(desc[0], 'carol', `no title comes first descending: ${desc}`);
    assert.equal(desc[1], 'bob');
    const dept = await find('userName pr', { sortBy: `${URN.enterprise}:department` });
    assert.deepEqual(dept.slice(2), ['bob', 'carol'], `by department (R&D, R&D, Sales, none): ${dept}`);
    const family = await find('userName pr', { sortBy: 'name.familyName', sortOrder: 'descending' });
    assert.deepEqual([family[0], family[3]], ['carol', 'bob'], `by family name descending: ${family}`);
  });

  test('sortBy a multi-valued attribute sorts by its primary value (§3.4.2.3)', async () => {
    const dom = `sortmv${serial++}.test`;
    await createUser({
      userName: `x1@${dom}`,
      emails: [{ value: 'b@sort.example' }, { value: 'z@sort.example', primary: true }],
    });
    await createUser({ userName: `x2@${dom}`, emails: [{ value: 'm@sort.example' }] });
    await createUser({
      userName: `x3@${dom}`,
      emails: [{ value: 'a@sort.example', primary: true }, { value: 'y@sort.example' }],
    });
    const page = await list('/Users', { filter: `userName ew "@${dom}"`, sortBy: 'emails.value' });
    assert.deepEqual(
      resources(page).map((u: Json) => u.userName.split('@')[0]),
      ['x3', 'x2', 'x1'],
    );
  });

  test('sorted cursor pages follow one order across pages (RFC 9865 §2: cursor pages SHOULD be sorted)', async () => {
    const all = await find('userName pr', { sortBy: 'name.givenName', sortOrder: 'descending' });
    const { all: paged } = await walkCursor('/Users', 1, {
      filter: `userName ew "${D}"`,
      sortBy: 'name.givenName',
      sortOrder: 'descending',
    });
    assert.deepEqual(paged.map(short), all);
    assert.deepEqual(all, ['dave', 'carol', 'bob', 'alice']);
  });

  test('sorted index pages follow one order across pages', async () => {
    const all = await find('userName pr', { sortBy: 'userName', sortOrder: 'descending' });
    const paged = (
      await walkIndex('/Users', 1, { filter: `userName ew "${D}"`, sortBy: 'userName', sortOrder: 'descending' })
    ).map(short);
    assert.deepEqual(paged, all);
  });
});

describe('index paging (RFC 7644 §3.4.2.4)', () => {
  test('walking startIndex/count returns every user exactly once, with consistent counters', async () => {
    const all = await listAll('Users');
    assert.ok(all.length > 20, 'enough users to page through');
    const walked = await walkIndex('/Users', 7);
    assertUnique(walked, 'index walk');
    assert.deepEqual(sorted(ids(walked)), sorted(ids(all)));
  });

  test('a ListResponse has totalResults, itemsPerPage, startIndex and Resources', async () => {
    const page = await list('/Users', { count: 3 });
    assert.equal(typeof page.totalResults, 'number');
    assert.equal(page.itemsPerPage, 3);
    assert.equal(page.startIndex, 1);
    assert.equal(page.Resources.length, 3);
    for (const r of page.Resources) {
      assert.ok(r.schemas.includes(URN.user));
      assert.equal(r.meta.resourceType, 'User');
      assert.equal(r.meta.location, `${server.url}/Users/${r.id}`);
    }
  });

  test('count=0 returns totalResults and no resources; a negative count is 0', async () => {
    const total = (await listAll('Users')).length;
    for (const count of [0, -3]) {
      const page = await list('/Users', { count });
      assert.equal(page.totalResults, total, `count=${count}`);
      assert.equal((page.Resources ?? []).length, 0, `count=${count} returns no resources`);
    }
  });

  test('startIndex below 1 is treated as 1', async () => {
    const first = await list('/Users', { startIndex: 1, count: 2 });
    for (const startIndex of [0, -5]) {
      const page = await list('/Users', { startIndex, count: 2 });
      assert.equal(page.startIndex, 1, `startIndex=${startIndex} is echoed as 1`);
      assert.deepEqual(ids(resources(page)), ids(resources(first)));
    }
  });

  test('startIndex past the end gives an empty page with the real totalResults', async () => {
    const total = (await list('/Users', { count: 0 })).totalResults;
    const page = await list('/Users', { startIndex: total + 5, count: 10 });
    assert.equal(page.totalResults, total);
    assert.equal((page.Resources ?? []).length, 0);
  });

  test('without count, a page holds all users up to defaultPageSize', async () => {
    const page = await list('/Users');
    const expected = Math.min(page.totalResults, spc.pagination.defaultPageSize);
    assert.equal(resources(page).length, expected);
    assert.equal(page.itemsPerPage, expected);
  });

  test('filtered paging counts only the matches', async () => {
    const inactive = resources(await list('/Users', { filter: 'active eq false', count: 1000 }));
    const walked = await walkIndex('/Users', 2, { filter: 'active eq false' });
    assert.deepEqual(sorted(ids(walked)), sorted(ids(inactive)));
    assert.ok(walked.every((u) => u.active === false));
  });
});

describe('cursor paging (RFC 9865)', () => {
  test('walking nextCursor from an empty cursor returns every user exactly once', async () => {
    const all = await listAll('Users');
    const { all: walked, pages } = await walkCursor('/Users', 7);
    assertUnique(walked, 'cursor walk');
    assert.deepEqual(sorted(ids(walked)), sorted(ids(all)));
    assert.ok(
      resources(pages.at(-1)).length > 0,
      'no empty page after the last results: the page holding them has no nextCursor',
    );
    assert.deepEqual(pages[0].schemas, [URN.list]);
  });

  test('with a filter; the page holding the last results has no nextCursor', async () => {
    const D = 'cursor.test';
    const made = await Promise.all([1, 2, 3, 4].map(() => createUser({ userName: uniqueName(D) })));
    const { all, pages } = await walkCursor('/Users', 2, { filter: `userName ew "@${D}"` });
    assertUnique(all, 'filtered cursor walk');
    assert.deepEqual(sorted(ids(all)), sorted(ids(made)));
    assert.ok(
      resources(pages.at(-1)).length > 0,
      `the page holding the last match has no nextCursor (${pages.length} pages: ` +
        `${pages.map((p) => resources(p).length)})`,
    );
  });

  test('a cursor walk while seen users change or go returns every other user exactly once', async () => {
    const D = 'cursor-live.test';
    const made = await Promise.all(
      Array.from({ length: 9 }, () => createUser({ userName: uniqueName(D), title: 'before' })),
    );
    const filter = `userName ew "@${D}"`;
    const first = await list('/Users', { filter, cursor: '', count: 3 });
    const seen: Json[] = [...resources(first)];
    const [changed, replaced, deleted] = resources(first);
    await patchOk(`/Users/${changed.id}`, [{ op: 'replace', path: 'title', value: 'after' }]);
    expectStatus(
      await req('PUT', `/Users/${replaced.id}`, {
        body: { schemas: [URN.user], userName: replaced.userName, title: 'put' },
      }),
      200,
    );
    expectStatus(await req('DELETE', `/Users/${deleted.id}`), 204);
    for (let cursor = first.nextCursor, n = 0; cursor; n++) {
      assert.ok(n < 20);
      const page = await list('/Users', { filter, cursor, count: 3 });
      seen.push(...resources(page));
      cursor = page.nextCursor;
    }
    assertUnique(seen, 'cursor walk over changing users');
    assert.deepEqual(sorted(ids(seen)), sorted(ids(made)));
  });

  test('cursor paging on Groups', async () => {
    const groups = await listAll('Groups');
    const { all } = await walkCursor('/Groups', 3);
    assertUnique(all, 'group cursor walk');
    assert.deepEqual(sorted(ids(all)), sorted(ids(groups)));
  });

  test('an unknown or garbled cursor → 400 invalidCursor', async () => {
    const first = await req('GET', `/Users${qs({ cursor: '', count: 2 })}`);
    expectStatus(first, 200);
    const real = String(first.body.nextCursor ?? '');
    assert.ok(real, 'a first page of 2 has a nextCursor');
    for (const cursor of ['not-a-cursor', 'AAAAAAAAAAAAAAAA', `${real}zz`, `zz${real}`]) {
      assertError(await req('GET', `/Users${qs({ cursor, count: 2 })}`), 400, 'invalidCursor', `cursor=${cursor}`);
    }
  });

  test('POST .search with cursor and count pages the same way', async () => {
    const D = 'cursor-search.test';
    const made = await Promise.all([1, 2, 3].map(() => createUser({ userName: uniqueName(D) })));
    const seen: Json[] = [];
    let cursor = '';
    for (let n = 0; n < 10; n++) {
      const res = await req('POST', '/Users/.search', {
        body: { schemas: [URN.search], filter: `userName ew "@${D}"`, cursor, count: 2 },
      });
      expectStatus(res, 200);
      seen.push(...resources(res.body));
      if (!res.body.nextCursor) break;
      cursor = res.body.nextCursor;
    }
    assertUnique(seen, '.search cursor walk');
    assert.deepEqual(sorted(ids(seen)), sorted(ids(made)));
  });
});

describe('attributes and excludedAttributes (RFC 7644 §3.9, §3.4.2.5; RFC 7643 §7 "returned")', () => {
  const D = 'proj.test';
  let u: Json;
  before(async () => {
    u = await createUser({
      schemas: [URN.user, URN.enterprise],
      userName: uniqueName(D, 'Proj'),
      name: { givenName: 'Pro', familyName: 'Jection' },
      title: 'Projector',
      active: true,
      password: 'Pr0ject-secret!',
      emails: [{ value: 'pro@proj.test', type: 'work' }],
      [URN.enterprise]: { department: 'Optics', costCenter: 'CC-9' },
    });
  });

  test('attributes=userName returns id, schemas and userName, and nothing else of the resource', async () => {
    for (const r of [
      await get(`/Users/${u.id}?attributes=userName`),
      resources(await list('/Users', { filter: `id eq "${u.id}"`, attributes: 'userName' }))[0],
    ]) {
      assert.equal(r.id, u.id);
      assert.ok(Array.isArray(r.schemas) && r.schemas.includes(URN.user), 'schemas is always returned');
      assert.equal(r.userName, u.userName);
      for (const k of ['name', 'title', 'active', 'emails', 'groups', URN.enterprise])
        assert.equal(r[k], undefined, `${k} is not returned`);
    }
  });

  test('attribute names in attributes are case-insensitive', async () => {
    const r = await get(`/Users/${u.id}?attributes=USERNAME,Title`);
    assert.equal(r.userName, u.userName);
    assert.equal(r.title, 'Projector');
    assert.equal(r.emails, undefined);
  });

  test('attributes=name.givenName returns just that sub-attribute', async () => {
    const r = await get(`/Users/${u.id}?attributes=name.givenName`);
    assert.deepEqual(r.name, { givenName: 'Pro' });
    assert.equal(r.title, undefined);
  });

  test('attributes=emails.value returns only that sub-attribute of each item', async () => {
    const r = await get(`/Users/${u.id}?attributes=emails.value`);
    assert.deepEqual(r.emails, [{ value: 'pro@proj.test' }]);
    assert.equal(r.userName, undefined);
  });

  test('attributes with a URN-qualified extension attribute', async () => {
    const r = await get(`/Users/${u.id}?${qs({ attributes: `${URN.enterprise}:department` }).slice(1)}`);
    assert.deepEqual(r[URN.enterprise], { department: 'Optics' });
    assert.equal(r.title, undefined);
  });

  test('excludedAttributes leaves those out but never id or schemas', async () => {
    const r = await get(`/Users/${u.id}?excludedAttributes=emails,title,id,schemas`);
    assert.equal(r.id, u.id);
    assert.ok(r.schemas.includes(URN.user));
    assert.equal(r.emails, undefined);
    assert.equal(r.title, undefined);
    assert.equal(r.userName, u.userName);
    assert.deepEqual(r.name, u.name);
  });

  test('attributes apply to the responses of POST, PUT and PATCH too', async () => {
    const res = await req('POST', '/Users?attributes=userName', {
      body: { schemas: [URN.user], userName: uniqueName(D), title: 'Hidden' },
    });
    expectStatus(res, 201);
    assert.ok(res.body.id && res.body.userName);
    assert.equal(res.body.title, undefined, 'POST ?attributes=userName leaves title out');
    const put = await req('PUT', `/Users/${res.body.id}?attributes=title`, {
      body: { schemas: [URN.user], userName: res.body.userName, title: 'Shown', nickName: 'Hidden' },
    });
    expectStatus(put, 200);
    assert.equal(put.body.title, 'Shown');
    assert.equal(put.body.nickName, undefined, `PUT ?attributes=title leaves nickName out: ${put.text}`);
    const p = await req('PATCH', `/Users/${res.body.id}?excludedAttributes=title`, {
      body: patchBody([{ op: 'replace', path: 'title', value: 'Again' }]),
    });
    expectStatus(p, 200);
    assert.equal(p.body.title, undefined, `PATCH ?excludedAttributes=title leaves title out: ${p.text}`);
    assert.equal(p.body.nickName, 'Hidden');
  });
});

describe('POST /.search (RFC 7644 §3.4.3)', () => {
  const D = 'search.test';
  let made: Json[] = [];
  before(async () => {
    made = [];
    for (const n of ['delta', 'alpha', 'charlie', 'bravo', 'echo'])
      made.push(await createUser({ userName: `${n}@${D}`, title: `T-${n}` }));
  });

  test('POST /Users/.search returns the same ListResponse as GET with the same parameters', async () => {
    const params = { filter: `userName ew "@${D}"`, sortBy: 'userName', startIndex: 2, count: 2 };
    const viaGet = await list('/Users', { ...params, attributes: 'userName' });
    const res = await req('POST', '/Users/.search', {
      body: { schemas: [URN.search], ...params, attributes: ['userName'] },
    });
    expectStatus(res, 200);
    assertScimJson(res);
    assert.deepEqual(res.body.schemas, [URN.list]);
    assert.equal(res.body.totalResults, 5);
    assert.equal(res.body.startIndex, 2);
    assert.deepEqual(
      resources(res.body).map((r: Json) => r.userName),
      [`bravo@${D}`, `charlie@${D}`],
    );
    assert.deepEqual(res.body, viaGet);
    assert.equal(resources(res.body)[0].title, undefined, 'attributes applied');
  });

  test('excludedAttributes and sortOrder in a SearchRequest; application/json accepted', async () => {
    const res = await req('POST', '/Users/.search', {
      body: {
        schemas: [URN.search],
        filter: `userName ew "@${D}"`,
        sortBy: 'userName',
        sortOrder: 'descending',
        excludedAttributes: ['title'],
      },
      contentType: 'application/json',
    });
    expectStatus(res, 200);
    assert.deepEqual(
      resources(res.body).map((r: Json) => r.userName.split('@')[0]),
      ['echo', 'delta', 'charlie', 'bravo', 'alpha'],
    );
    assert.ok(resources(res.body).every((r: Json) => r.title === undefined));
  });

  test('POST /.search at the root searches Users and Groups together', async () => {
    const tag = `Zeta${serial++}x`;
    const user = await createUser({ userName: uniqueName(D), displayName: `${tag} Person` });
    const group = await createGroup(`${tag} Team`);
    const res = await req('POST', '/.search', { body: { schemas: [URN.search], filter: `displayName sw "${tag}"` } });
    expectStatus(res, 200);
    assert.equal(res.body.totalResults, 2);
    const byType = Object.fromEntries(resources(res.body).map((r: Json) => [r.meta.resourceType, r.id]));
    assert.deepEqual(byType, { User: user.id, Group: group.id });
  });

  test('POST /Groups/.search', async () => {
    const g = await createGroup(`Searchable ${serial++}`);
    const res = await req('POST', '/Groups/.search', {
      body: { schemas: [URN.search], filter: `displayName eq "${g.displayName}"` },
    });
    expectStatus(res, 200);
    assert.deepEqual(ids(resources(res.body)), [g.id]);
  });

  test('a bad filter in a SearchRequest → 400 invalidFilter', async () => {
    assertError(
      await req('POST', '/Users/.search', { body: { schemas: [URN.search], filter: 'userName eq' } }),
      400,
      'invalidFilter',
    );
  });
});

describe('Bulk (RFC 7644 §3.7)', () => {
  const D = 'bulk.test';
  const bulk = (Operations: Json[], failOnErrors?: number) =>
    req('POST', '/Bulk', {
      body: { schemas: [URN.bulkRequest], ...(failOnErrors === undefined ? {} : { failOnErrors }), Operations },
    });
  const userData = (userName: string, extra: Json = {}) => ({ schemas: [URN.user], userName, ...extra });
  const opFor = (res: ScimResponse, bulkId: string) => (res.body.Operations as Json[]).find((o) => o.bulkId === bulkId);
  const userByName = async (userName: string) =>
    resources(await list('/Users', { filter: `userName eq "${userName}"` }))[0];

  test('POST, PUT, PATCH and DELETE in one request; bulkId references in data resolve to created ids', async () => {
    const existing = await createUser({ userName: uniqueName(D), title: 'Old' });
    const doomed = await createUser({ userName: uniqueName(D) });
    const annName = uniqueName(D, 'Ann');
    const res = await bulk([
      { method: 'POST', bulkId: 'ann', path: '/Users', data: userData(annName, { title: 'New Hire' }) },
      {
        method: 'POST',
        bulkId: 'team',
        path: '/Groups',
        data: {
          schemas: [URN.group],
          displayName: `Bulk Team ${serial++}`,
          members: [{ type: 'User', value: 'bulkId:ann' }],
        },
      },
      {
        method: 'PUT',
        bulkId: 'put',
        path: `/Users/${existing.id}`,
        data: userData(existing.userName, { title: 'Replaced' }),
      },
      {
        method: 'PATCH',
        bulkId: 'patch',
        path: `/Users/${existing.id}`,
        data: patchBody([{ op: 'add', path: 'nickName', value: 'Patched' }]),
      },
      { method: 'DELETE', bulkId: 'del', path: `/Users/${doomed.id}` },
    ]);
    expectStatus(res, 200);
    assertScimJson(res);
    assert.deepEqual(res.body.schemas, [URN.bulkResponse]);
    const ann = opFor(res, 'ann');
    const team = opFor(res, 'team');
    assert.equal(ann?.status, '201');
    assert.equal(team?.status, '201');
    assert.equal(opFor(res, 'put')?.status, '200');
    assert.ok(['200', '204'].includes(opFor(res, 'patch')?.status), `PATCH status ${opFor(res, 'patch')?.status}`);
    assert.equal(opFor(res, 'del')?.status, '204');

    const annUser = await get(ann.location);
    assert.equal(annUser.userName, annName);
    assert.equal(ann.location, `${server.url}/Users/${annUser.id}`);
    const teamGroup = await get(team.location);
    assert.deepEqual(
      teamGroup.members.map((m: Json) => m.value),
      [annUser.id],
      'bulkId:ann resolved to the created id',
    );
    assert.ok(annUser.groups.some((g: Json) => g.value === teamGroup.id));
    const now = await get(`/Users/${existing.id}`);
    assert.equal(now.title, 'Replaced');
    assert.equal(now.nickName, 'Patched');
    assertError(await req('GET', `/Users/${doomed.id}`), 404);
  });

  test('one operation referencing several bulkIds resolves every one (§3.7.2)', async () => {
    const names = [uniqueName(D, 'Ref'), uniqueName(D, 'Ref'), uniqueName(D, 'Ref')];
    const res = await bulk([
      ...names.map((n, i) => ({ method: 'POST', bulkId: `u${i}`, path: '/Users', data: userData(n) })),
      {
        method: 'POST',
        bulkId: 'g',
        path: '/Groups',
        data: {
          schemas: [URN.group],
          displayName: `Multi Ref ${serial++}`,
          members: names.map((_, i) => ({ type: 'User', value: `bulkId:u${i}` })),
        },
      },
    ]);
    expectStatus(res, 200);
    const group = await get(opFor(res, 'g').location);
    const created = await Promise.all(names.map(userByName));
    assert.deepEqual(sorted(group.members.map((m: Json) => m.value)), sorted(ids(created)));
  });

  test('an unresolvable bulkId reference fails that operation with a SCIM error, and creates nothing', async () => {
    const name = `Unresolved ${serial++}`;
    const res = await bulk([
      {
        method: 'POST',
        bulkId: 'g',
        path: '/Groups',
        data: { schemas: [URN.group], displayName: name, members: [{ type: 'User', value: 'bulkId:nobody' }] },
      },
    ]);
    expectStatus(res, 200);
    const op = opFor(res, 'g');
    assert.match(String(op?.status), /^4\d\d$/, `a client error: ${res.text}`);
    assert.equal(op?.response?.status, op?.status);
    assert.ok(op?.response?.schemas?.includes(URN.error));
    assert.equal((await list('/Groups', { filter: `displayName eq "${name}"` })).totalResults, 0);
  });

  test('errors are reported per operation with a SCIM error response; the other operations apply', async () => {
    const taken = await createUser({ userName: uniqueName(D) });
    const fine = uniqueName(D, 'Fine');
    const res = await bulk([
      { method: 'POST', bulkId: 'dup', path: '/Users', data: userData(taken.userName.toUpperCase()) },
      { method: 'POST', bulkId: 'bad', path: '/Users', data: { schemas: [URN.user], displayName: 'no userName' } },
      { method: 'DELETE', bulkId: 'missing', path: '/Users/00000000-0000-4000-8000-000000000000' },
      { method: 'POST', bulkId: 'fine', path: '/Users', data: userData(fine) },
    ]);
    expectStatus(res, 200);
    const dup = opFor(res, 'dup');
    assert.equal(dup?.status, '409');
    assert.equal(dup?.response?.scimType, 'uniqueness');
    assert.equal(dup?.response?.status, '409');
    assert.equal(opFor(res, 'bad')?.status, '400');
    assert.equal(opFor(res, 'missing')?.status, '404');
    assert.equal(opFor(res, 'fine')?.status, '201');
    assert.ok(await userByName(fine));
  });

  test('failOnErrors stops after that many errors; later operations are not applied', async () => {
    const taken = await createUser({ userName: uniqueName(D) });
    const later = [uniqueName(D, 'Later'), uniqueName(D, 'Later')];
    const res = await bulk(
      [
        { method: 'POST', bulkId: 'dup', path: '/Users', data: userData(taken.userName) },
        { method: 'POST', bulkId: 'l0', path: '/Users', data: userData(later[0]!) },
        { method: 'POST', bulkId: 'l1', path: '/Users', data: userData(later[1]!) },
      ],
      1,
    );
    expectStatus(res, 200);
    assert.equal(res.body.Operations.length, 1, `only the failed operation is reported: ${res.text}`);
    assert.equal(res.body.Operations[0].status, '409');
    for (const n of later) assert.equal(await userByName(n), undefined, `${n} was not created`);

    const two = uniqueName(D, 'Second');
    const res2 = await bulk(
      [
        { method: 'POST', bulkId: 'e1', path: '/Users', data: userData(taken.userName) },
        { method: 'POST', bulkId: 'ok', path: '/Users', data: userData(two) },
        { method: 'POST', bulkId: 'e2', path: '/Users', data: userData(taken.userName) },
        { method: 'POST', bulkId: 'after', path: '/Users', data: userData(uniqueName(D, 'After')) },
      ],
      2,
    );
    expectStatus(res2, 200);
    assert.deepEqual(
      res2.body.Operations.map((o: Json) => o.status),
      ['409', '201', '409'],
    );
    assert.ok(await userByName(two));
  });

  test('version on an operation is checked like If-Match: stale → 412, current → applied', async () => {
    const u = await createUser({ userName: uniqueName(D), title: 'v1' });
    const v2 = await patchOk(`/Users/${u.id}`, [{ op: 'replace', path: 'title', value: 'v2' }]);
    const res = await bulk([
      {
        method: 'PATCH',
        bulkId: 'stale',
        path: `/Users/${u.id}`,
        version: u.meta.version,
        data: patchBody([{ op: 'replace', path: 'title', value: 'stale' }]),
      },
      { method: 'DELETE', bulkId: 'staleDel', path: `/Users/${u.id}`, version: u.meta.version },
    ]);
    expectStatus(res, 200);
    assert.equal(opFor(res, 'stale')?.status, '412');
    assert.equal(opFor(res, 'staleDel')?.status, '412');
    assert.equal((await get(`/Users/${u.id}`)).title, 'v2');
    const ok = await bulk([
      {
        method: 'PATCH',
        bulkId: 'current',
        path: `/Users/${u.id}`,
        version: v2.meta.version,
        data: patchBody([{ op: 'replace', path: 'title', value: 'v3' }]),
      },
    ]);
    assert.ok(['200', '204'].includes(opFor(ok, 'current')?.status));
    assert.equal((await get(`/Users/${u.id}`)).title, 'v3');
  });

  test('more than maxOperations → 413, and nothing is applied', async () => {
    const max = spc.bulk.maxOperations as number;
    assert.ok(Number.isInteger(max) && max > 0, 'maxOperations is advertised');
    const ops = Array.from({ length: max + 1 }, (_, i) => ({
      method: 'POST',
      bulkId: `m${i}`,
      path: '/Users',
      data: userData(`max-${i}@bulk-limit.test`),
    }));
    assertError(await bulk(ops), 413);
    assert.equal((await list('/Users', { filter: 'userName ew "@bulk-limit.test"', count: 0 })).totalResults, 0);
    // Exactly maxOperations is allowed.
    const atMax = await bulk(ops.slice(0, max));
    expectStatus(atMax, 200);
    assert.equal(atMax.body.Operations.length, max);
    assert.equal((await list('/Users', { filter: 'userName ew "@bulk-limit.test"', count: 0 })).totalResults, max);
    // Leave the shared server as it was.
    const del = await bulk(
      atMax.body.Operations.map((o: Json, i: number) => ({
        method: 'DELETE',
        bulkId: `d${i}`,
        path: new URL(o.location).pathname.replace(/^.*\/scim\/v2/, ''),
      })),
    );
    expectStatus(del, 200);
    assert.ok(del.body.Operations.every((o: Json) => o.status === '204'));
  });

  test('a body larger than maxPayloadSize → 413, and nothing is applied', async () => {
    const max = spc.bulk.maxPayloadSize as number;
    assert.ok(Number.isInteger(max) && max > 0, 'maxPayloadSize is advertised');
    const filler = 'x'.repeat(Math.ceil(max / 3));
    const ops = [0, 1, 2, 3].map((i) => ({
      method: 'POST',
      bulkId: `p${i}`,
      path: '/Users',
      data: userData(`payload-${i}@bulk-size.test`, { nickName: filler }),
    }));
    assert.ok(JSON.stringify({ schemas: [URN.bulkRequest], Operations: ops }).length > max);
    assertError(await bulk(ops), 413);
    assert.equal((await list('/Users', { filter: 'userName ew "@bulk-size.test"', count: 0 })).totalResults, 0);
  });

  test('a BulkRequest without Operations → 400', async () => {
    assertError(await req('POST', '/Bulk', { body: { schemas: [URN.bulkRequest] } }), 400);
  });
});

describe('lifecycle', () => {
  test('logs go to stderr: stdout still holds only the URL line after all requests', () => {
    assert.equal(server.stdout(), `${server.url}\n`);
  });
});

describe('persistence across restarts (--data)', () => {
  test(
    'users, groups, ids, versions and memberships survive SIGTERM and a restart; ' + 'the seed is not applied again',
    async () => {
      const store = tempDir();
      const args = ['--seed-users', '5', '--seed-groups', '2'];
      let first: ServeProcess | undefined;
      let second: ServeProcess | undefined;
      try {
        first = await startServe({ token: TOKEN, dataDir: store.dir, args });
        const r1 = first.request;
        const seeded = resources((await r1('GET', '/Users?count=100')).body);
        assert.equal(seeded.length, 5);
        const created = await r1('POST', '/Users', {
          body: {
            schemas: [URN.user, URN.enterprise],
            userName: 'Kept.User@persist.test',
            name: { givenName: 'Kept', familyName: 'User' },
            password: 'Keep-m3-secret',
            [URN.enterprise]: { department: 'Archive' },
          },
        });
        expectStatus(created, 201);
        const u = created.body;
        const versionsOfU = new Set<string>([u.meta.version]);
        const g = await r1('POST', '/Groups', {
          body: {
            schemas: [URN.group],
            displayName: 'Persisted Group',
            members: [{ value: u.id }, { value: seeded[0].id }],
          },
        });
        expectStatus(g, 201);
        for (const title of ['Archivist', 'Curator', 'Archivist']) {
          const p = await r1('PATCH', `/Users/${u.id}`, {
            body: patchBody([{ op: 'replace', path: 'title', value: title }]),
          });
          expectStatus(p, 200);
          versionsOfU.add(p.body.meta.version);
        }
        expectStatus(await r1('DELETE', `/Users/${seeded[1].id}`), 204);
        const before = {
          user: (await r1('GET', `/Users/${u.id}`)).body,
          group: (await r1('GET', `/Groups/${g.body.id}`)).body,
          seeded0: (await r1('GET', `/Users/${seeded[0].id}`)).body,
          groups: resources((await r1('GET', '/Groups?count=100')).body),
        };
        const exit = await first.stop('SIGTERM');
        assert.deepEqual(exit, { code: 0, signal: null }, `SIGTERM exits 0\nstderr: ${first.stderr()}`);
        assert.equal(first.stdout(), `${first.url}\n`, 'stdout holds exactly the URL line');

        second = await startServe({ token: TOKEN, dataDir: store.dir, args });
        const r2 = second.request;
        const users = resources((await r2('GET', '/Users?count=100')).body);
        assert.equal(users.length, 5, 'five seeded, one deleted, one created: the seed is not applied again');
        assert.equal(resources((await r2('GET', '/Groups?count=100')).body).length, 3);
        const user = await r2('GET', `/Users/${u.id}`);
        expectStatus(user, 200);
        assert.deepEqual(relocated(user.body, second.url), relocated(before.user, first.url));
        assert.equal(user.headers.get('etag'), before.user.meta.version);
        assert.equal(user.body.meta.location, `${second.url}/Users/${u.id}`);
        assert.deepEqual(
          relocated((await r2('GET', `/Groups/${g.body.id}`)).body, second.url),
          relocated(before.group, first.url),
        );
        assert.deepEqual(
          relocated((await r2('GET', `/Users/${seeded[0].id}`)).body, second.url),
          relocated(before.seeded0, first.url),
        );
        assert.deepEqual(
          sorted(
            resources((await r2('GET', '/Groups?count=100')).body).map((x: Json) =>
              JSON.stringify(relocated(x, second!.url)),
            ),
          ),
          sorted(before.groups.map((x: Json) => JSON.stringify(relocated(x, first!.url)))),
        );
        expectStatus(
          await r2('GET', `/Users/${u.id}`, { headers: { 'if-none-match': before.user.meta.version } }),
          304,
        );
        assertError(await r2('GET', `/Users/${seeded[1].id}`), 404);
        assertError(
          await r2('POST', '/Users', { body: { schemas: [URN.user], userName: 'kept.user@PERSIST.test' } }),
          409,
          'uniqueness',
        );
        const fresh = await r2('POST', '/Users', { body: { schemas: [URN.user], userName: 'fresh@persist.test' } });
        expectStatus(fresh, 201);
        assert.ok(!users.some((x: Json) => x.id === fresh.body.id), 'a new id after the restart');
        assert.ok(!user.text.includes('Keep-m3-secret'));
        // Versions handed out before the restart stay stale: a change now never reuses one of them.
        assertError(
          await r2('PATCH', `/Users/${u.id}`, {
            body: patchBody([{ op: 'replace', path: 'title', value: 'Stale' }]),
            headers: { 'if-match': u.meta.version },
          }),
          412,
          undefined,
          'If-Match with a pre-restart stale version',
        );
        for (const title of ['After', 'Restart', 'Again']) {
          const p = await r2('PATCH', `/Users/${u.id}`, {
            body: patchBody([{ op: 'replace', path: 'title', value: title }]),
          });
          expectStatus(p, 200);
          assert.ok(
            !versionsOfU.has(p.body.meta.version),
            `version ${p.body.meta.version} after the restart was already used before it ` +
              `(${[...versionsOfU].join(' ')})`,
          );
          versionsOfU.add(p.body.meta.version);
        }
        const exit2 = await second.stop('SIGINT');
        assert.deepEqual(exit2, { code: 0, signal: null }, `SIGINT exits 0\nstderr: ${second.stderr()}`);
      } finally {
        await teardown([first, second], [store]);
      }
    },
  );
});

describe('durability and exclusive use of --data', () => {
  test('a change that was answered survives SIGKILL (fsync before answering)', async () => {
    const store = tempDir();
    let first: ServeProcess | undefined;
    let second: ServeProcess | undefined;
    try {
      first = await startServe({ token: TOKEN, dataDir: store.dir });
      const created = await first.request('POST', '/Users', {
        body: { schemas: [URN.user], userName: 'durable@kill.test' },
      });
      expectStatus(created, 201);
      const patched = await first.request('PATCH', `/Users/${created.body.id}`, {
        body: patchBody([{ op: 'replace', path: 'title', value: 'Durable' }]),
      });
      expectStatus(patched, 200);
      const exit = await first.stop('SIGKILL');
      assert.equal(exit.signal, 'SIGKILL');
      second = await startServe({ token: TOKEN, dataDir: store.dir });
      const got = await second.request('GET', `/Users/${created.body.id}`);
      expectStatus(got, 200, 'the user after SIGKILL and a restart');
      assert.equal(got.body.title, 'Durable');
      assert.equal(got.body.meta.version, patched.body.meta.version);
    } finally {
      await teardown([first, second], [store]);
    }
  });

  test('a second server on the same --data is refused while the first runs', async () => {
    const store = tempDir();
    let first: ServeProcess | undefined;
    try {
      first = await startServe({ token: TOKEN, dataDir: store.dir });
      let refused: unknown;
      try {
        const second = await startServe({ token: TOKEN, dataDir: store.dir });
        await second.stop('SIGKILL');
        second.cleanup();
      } catch (e) {
        refused = e;
      }
      assert.match(String(refused), /exited \(\d+\) before listening/, 'the second server exits without listening');
      expectStatus(await first.request('GET', '/Users?count=0'), 200, 'the first server keeps serving');
    } finally {
      await first?.stop();
      first?.cleanup();
      store.cleanup();
    }
  });
});

describe('read-only source (--source FILE)', () => {
  const csv = [
    'userName,name.givenName,name.familyName,emails[work].value,active,title',
    'ro.ann@source.test,Ann,Archer,ann@source.test,true,Engineer',
    'ro.ben@source.test,Ben,Baker,ben@source.test,false,',
    'ro.cat@source.test,Cat,Cole,cat@source.test,true,Designer',
    '',
  ].join('\n');
  let ro: ServeProcess | undefined;
  let dir: ReturnType<typeof tempDir>;
  let file: string;

  before(async () => {
    dir = tempDir();
    file = join(dir.dir, 'people.csv');
    writeFileSync(file, csv);
    ro = await startServe({ token: TOKEN, dataDir: null, args: ['--source', file] });
  });

  after(async () => {
    await ro?.stop('SIGKILL');
    ro?.cleanup();
    dir.cleanup();
  });

  test('reads work: the users of the file, typed by the schema, with filters', async () => {
    const r = ro!.request;
    const page = (await r('GET', '/Users?count=100')).body;
    assert.equal(page.totalResults, 3);
    const ben = resources(page).find((u: Json) => u.userName === 'ro.ben@source.test');
    assert.equal(ben?.active, false);
    assert.deepEqual(ben?.name, { givenName: 'Ben', familyName: 'Baker' });
    assert.equal(ben?.emails?.[0]?.value, 'ben@source.test');
    assert.equal(ben?.emails?.[0]?.type, 'work');
    assert.equal(ben?.title, undefined, 'an empty cell is an absent attribute');
    const one = await r('GET', `/Users/${ben.id}`);
    expectStatus(one, 200);
    assert.equal(one.body.userName, 'ro.ben@source.test');
    const filtered = (await r('GET', `/Users${qs({ filter: 'userName eq "RO.CAT@SOURCE.TEST" or active eq false' })}`))
      .body;
    assert.deepEqual(sorted(resources(filtered).map((u: Json) => u.userName)), [
      'ro.ben@source.test',
      'ro.cat@source.test',
    ]);
    expectStatus(await r('GET', '/ServiceProviderConfig'), 200);
  });

  test('every write → 403 with a SCIM error, and nothing changes (the file neither)', async () => {
    const r = ro!.request;
    const ann = resources((await r('GET', `/Users${qs({ filter: 'userName eq "ro.ann@source.test"' })}`)).body)[0];
    const before = (await r('GET', `/Users/${ann.id}`)).body;
    assertError(
      await r('POST', '/Users', { body: { schemas: [URN.user], userName: 'new@source.test' } }),
      403,
      undefined,
      'POST',
    );
    assertError(
      await r('PUT', `/Users/${ann.id}`, { body: { schemas: [URN.user], userName: ann.userName, title: 'Changed' } }),
      403,
      undefined,
      'PUT',
    );
    assertError(
      await r('PATCH', `/Users/${ann.id}`, { body: patchBody([{ op: 'replace', path: 'title', value: 'Changed' }]) }),
      403,
      undefined,
      'PATCH',
    );
    assertError(await r('DELETE', `/Users/${ann.id}`), 403, undefined, 'DELETE');
    assertError(
      await r('POST', '/Groups', { body: { schemas: [URN.group], displayName: 'New' } }),
      403,
      undefined,
      'POST group',
    );
    const b = await r('POST', '/Bulk', {
      body: {
        schemas: [URN.bulkRequest],
        Operations: [
          { method: 'POST', bulkId: 'x', path: '/Users', data: { schemas: [URN.user], userName: 'bulk@source.test' } },
        ],
      },
    });
    assert.ok(
      b.status === 403 || (b.status === 200 && b.body.Operations?.[0]?.status === '403'),
      `Bulk write refused with 403: ${b.status} ${b.text}`,
    );
    assert.deepEqual((await r('GET', `/Users/${ann.id}`)).body, before);
    assert.equal((await r('GET', '/Users?count=0')).body.totalResults, 3);
    assert.equal(readFileSync(file, 'utf8'), csv);
  });

  test('SIGINT stops it with exit 0', async () => {
    const exit = await ro!.stop('SIGINT');
    assert.deepEqual(exit, { code: 0, signal: null }, ro!.stderr());
  });

  test('after the file changes, ids stay and a changed user gets a new ETag (no 304 for the old one)', async () => {
    const src = tempDir();
    const path = join(src.dir, 'feed.csv');
    writeFileSync(path, 'userName,title\nro.a@feed.test,Before\nro.b@feed.test,Same\n');
    let first: ServeProcess | undefined;
    let second: ServeProcess | undefined;
    try {
      first = await startServe({ token: TOKEN, dataDir: null, args: ['--source', path] });
      const before = resources((await first.request('GET', '/Users?sortBy=userName')).body);
      assert.equal(await first.stop().then((e) => e.code), 0);
      writeFileSync(path, 'userName,title\nro.a@feed.test,After\nro.b@feed.test,Same\n');
      second = await startServe({ token: TOKEN, dataDir: null, args: ['--source', path] });
      const after = resources((await second.request('GET', '/Users?sortBy=userName')).body);
      assert.deepEqual(ids(after), ids(before), 'the same users keep their ids');
      const a = before[0];
      const res = await second.request('GET', `/Users/${a.id}`, { headers: { 'if-none-match': a.meta.version } });
      expectStatus(res, 200, `If-None-Match with the ETag of the old row (${a.meta.version})`);
      assert.equal(res.body.title, 'After');
      assert.notEqual(
        res.headers.get('etag'),
        a.meta.version,
        'a changed representation has a new ETag (RFC 7644 §3.14)',
      );
    } finally {
      await teardown([first, second], [src]);
    }
  });
});

describe('page-size limits with more users than maxPageSize', () => {
  const USERS = 1005;
  let big: ServeProcess | undefined;
  let limits: Json;

  before(async () => {
    big = await startServe({
      token: TOKEN,
      args: ['--seed-users', String(USERS), '--seed-groups', '3'],
      startTimeoutMs: 30_000,
    });
    limits = (await big.request('GET', '/ServiceProviderConfig')).body;
  });

  after(async () => {
    await big?.stop();
    big?.cleanup();
  });

  test('count above maxPageSize (and filter.maxResults) returns at most maxPageSize resources', async () => {
    const r = big!.request;
    const cap = Math.min(limits.pagination.maxPageSize, limits.filter.maxResults);
    const plain = (await r('GET', '/Users?count=5000')).body;
    assert.equal(plain.totalResults, USERS);
    assert.equal(resources(plain).length, cap);
    assert.equal(plain.itemsPerPage, cap);
    const filtered = (await r('GET', `/Users${qs({ filter: 'userName pr', count: 5000 })}`)).body;
    assert.equal(filtered.totalResults, USERS);
    assert.equal(resources(filtered).length, cap);
    const searched = (await r('POST', '/Users/.search', { body: { schemas: [URN.search], count: 5000 } })).body;
    assert.equal(resources(searched).length, cap);
    const cursor = (await r('GET', '/Users?cursor=&count=5000')).body;
    assert.equal(resources(cursor).length, cap);
    assert.ok(cursor.nextCursor, 'more to come after a capped cursor page');
  });

  test('without count a page holds defaultPageSize resources', async () => {
    const page = (await big!.request('GET', '/Users')).body;
    assert.equal(resources(page).length, limits.pagination.defaultPageSize);
    assert.equal(page.totalResults, USERS);
  });

  test('index and cursor walks at maxPageSize return all users exactly once', async () => {
    const r = big!.request;
    const index = await listAll('Users', undefined, r);
    assert.equal(index.length, USERS);
    assertUnique(index, 'index walk of the big store');
    const { all } = await walkCursor('/Users', limits.pagination.maxPageSize, {}, r);
    assert.equal(all.length, USERS);
    assertUnique(all, 'cursor walk of the big store');
  });
});

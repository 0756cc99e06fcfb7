import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScimClient, type CapabilityCache } from '../../src/api/client.ts';
import {
  defaultCapabilities,
  discover,
  pageSizeFor,
  parseResourceTypes,
  parseSchemas,
  parseServiceProviderConfig,
  type Capabilities,
} from '../../src/api/discovery.ts';
import { NetworkError, ScimError } from '../../src/api/errors.ts';
import { Transport } from '../../src/api/http.ts';
import { BUILTIN_SCHEMAS } from '../../src/api/schema.ts';
import { SCHEMA } from '../../src/api/types.ts';
import {
  BASE,
  caps,
  fakeFetch,
  htmlResponse,
  listResponse,
  networkError,
  recordingSleep,
  rejection,
  scimError,
  scimJson,
  type Handler,
} from './helpers.ts';

const SPC = {
  schemas: [SCHEMA.SERVICE_PROVIDER_CONFIG],
  patch: { supported: true },
  bulk: { supported: true, maxOperations: 1000, maxPayloadSize: 1048576 },
  filter: { supported: true, maxResults: 200 },
  changePassword: { supported: false },
  sort: { supported: true },
  etag: { supported: false },
  authenticationSchemes: [{ type: 'oauthbearertoken', name: 'OAuth Bearer Token', description: 'x' }],
};

const RESOURCE_TYPES = listResponse([
  {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    schema: SCHEMA.USER,
    schemaExtensions: [{ schema: SCHEMA.ENTERPRISE_USER, required: 'False' }],
  },
  { id: 'Group', endpoint: 'Groups', schema: SCHEMA.GROUP },
  { name: 'Broken' },
]);

const SCHEMAS = [
  {
    id: SCHEMA.USER,
    name: 'User',
    attributes: [
      {
        name: 'userName',
        type: 'string',
        multiValued: false,
        required: true,
        caseExact: 'false',
        uniqueness: 'server',
        mutability: 'readWrite',
        returned: 'default',
      },
      { name: 'active', type: 'Boolean', multiValued: 'false' },
      {
        name: 'emails',
        type: 'complex',
        multiValued: true,
        subAttributes: [
          { name: 'value', type: 'string' },
          { name: 'type', type: 'string', canonicalValues: ['work', 'home', 7] },
        ],
      },
      { name: 'loginCount', type: 'integer' },
      { name: 'weird', type: 'blob' },
      { type: 'string' },
    ],
  },
  { name: 'no id', attributes: [] },
];

/** Routes discovery paths; anything unrouted answers 404 {} as many servers do. */
function discoveryServer(routes: Record<string, () => Response>): Handler {
  return (req) => {
    const path = req.url.pathname.replace('/scim/v2', '');
    return routes[path]?.() ?? scimJson({}, 404);
  };
}

function transport(handler: Handler) {
  const f = fakeFetch(handler);
  const t = new Transport({ baseUrl: BASE, fetch: f.fetch, sleep: recordingSleep().sleep, retries: 1 });
  return { t, f };
}

describe('discover', () => {
  test('all three endpoints 404: defaults with warnings and the built-in schemas, no throw', async () => {
    const { t, f } = transport(discoveryServer({}));
    const c = await discover(t);
    assert.equal(c.source, 'defaults');
    assert.equal(c.patch, false);
    assert.equal(c.bulk.supported, false);
    assert.equal(c.filter.supported, true);
    assert.equal(c.pagination.cursor, false);
    assert.equal(c.schemasFromServer, false);
    assert.deepEqual(
      c.schemas.map((s) => s.id),
      BUILTIN_SCHEMAS.map((s) => s.id),
    );
    assert.deepEqual(
      c.resourceTypes.map((r) => r.endpoint),
      ['/Users', '/Groups'],
    );
    assert.equal(c.warnings.length, 3);
    for (const path of ['/ServiceProviderConfig', '/ResourceTypes', '/Schemas']) {
      assert.ok(
        c.warnings.some((w) => w.startsWith(`${path}:`) && w.includes('404')),
        `warning for ${path}: ${c.warnings.join(' | ')}`,
      );
    }
    assert.deepEqual(f.calls.map((r) => r.url.pathname).sort(), [
      '/scim/v2/ResourceTypes',
      '/scim/v2/Schemas',
      '/scim/v2/ServiceProviderConfig',
    ]);
    assert.ok(!Number.isNaN(Date.parse(c.discoveredAt)));
  });

  test('an HTML page or a 500 on one endpoint is a warning, not a failure', async () => {
    const { t } = transport(
      discoveryServer({
        '/ServiceProviderConfig': () => scimJson(SPC),
        '/ResourceTypes': () => htmlResponse('<title>Not here</title>', 200),
        '/Schemas': () => scimError(500, 'crash'),
      }),
    );
    const c = await discover(t);
    assert.equal(c.source, 'discovered');
    assert.equal(c.patch, true);
    assert.equal(c.warnings.length, 2);
    assert.ok(c.warnings.some((w) => w.includes('Not here')));
    assert.deepEqual(c.schemas, BUILTIN_SCHEMAS);
  });

  test('401 on discovery throws', async () => {
    const { t } = transport(
      discoveryServer({
        '/ServiceProviderConfig': () => scimError(401, 'auth required'),
        '/ResourceTypes': () => scimError(401),
        '/Schemas': () => scimError(401),
      }),
    );
    const e = await rejection(discover(t));
    assert.ok(e instanceof ScimError);
    assert.equal(e.status, 401);
  });

  test('401 on only one endpoint still throws', async () => {
    const { t } = transport(
      discoveryServer({ '/ServiceProviderConfig': () => scimJson(SPC), '/Schemas': () => scimError(401) }),
    );
    await assert.rejects(discover(t), (e: unknown) => e instanceof ScimError && e.status === 401);
  });

  test('a server that cannot be reached throws', async () => {
    const { t } = transport(() => {
      throw networkError('ECONNREFUSED');
    });
    await assert.rejects(discover(t), NetworkError);
  });

  test('a full discovery: ServiceProviderConfig, ResourceTypes, and /Schemas as a bare array', async () => {
    const { t } = transport(
      discoveryServer({
        '/ServiceProviderConfig': () => scimJson(SPC),
        '/ResourceTypes': () => scimJson(RESOURCE_TYPES),
        '/Schemas': () => scimJson(SCHEMAS),
      }),
    );
    const c = await discover(t);
    assert.equal(c.source, 'discovered');
    assert.deepEqual(c.warnings, []);
    assert.equal(c.patch, true);
    assert.deepEqual(c.bulk, { supported: true, maxOperations: 1000, maxPayloadSize: 1048576 });
    assert.deepEqual(c.filter, { supported: true, maxResults: 200 });
    assert.equal(c.sort, true);
    assert.equal(c.etag, false);
    assert.deepEqual(c.authenticationSchemes, [{ type: 'oauthbearertoken', name: 'OAuth Bearer Token' }]);
    assert.deepEqual(c.resourceTypes, [
      {
        name: 'User',
        endpoint: '/Users',
        schema: SCHEMA.USER,
        schemaExtensions: [{ schema: SCHEMA.ENTERPRISE_USER, required: false }],
      },
      { name: 'Group', endpoint: '/Groups', schema: SCHEMA.GROUP, schemaExtensions: [] },
    ]);
    assert.equal(c.schemasFromServer, true);
    const user = c.schemas.find((s) => s.id === SCHEMA.USER)!;
    // The server's own attributes first, as served; then what discovery completed from RFC 7643 (said in `undeclared`).
    assert.deepEqual(
      user.attributes.slice(0, 5).map((a) => a.name),
      ['userName', 'active', 'emails', 'loginCount', 'weird'],
    );
    assert.ok(
      c.undeclared.some(([path]) => path === 'title'),
      'title: not declared by this server, completed from the RFC',
    );
    assert.ok(!c.undeclared.some(([path]) => path === 'username'), 'declared by the server');
    assert.equal(user.attributes[0]!.caseExact, false);
    assert.equal(user.attributes[0]!.required, true);
    assert.equal(user.attributes[0]!.uniqueness, 'server');
    assert.equal(user.attributes[1]!.type, 'boolean', 'type names are matched case-insensitively');
    assert.equal(user.attributes[2]!.multiValued, true);
    assert.deepEqual(user.attributes[2]!.subAttributes?.[1]?.canonicalValues, ['work', 'home']);
    assert.equal(user.attributes[3]!.type, 'integer');
    assert.equal(user.attributes[4]!.type, 'string', 'an unknown type reads as string');
    // Schemas the server did not describe keep their built-in definitions.
    assert.ok(c.schemas.some((s) => s.id === SCHEMA.ENTERPRISE_USER));
    assert.ok(c.schemas.some((s) => s.id === SCHEMA.GROUP));
    assert.equal(c.schemas.filter((s) => s.id === SCHEMA.USER).length, 1);
  });
});

describe('parseServiceProviderConfig', () => {
  test('"True"/"true" strings and numeric strings', () => {
    const c = defaultCapabilities();
    parseServiceProviderConfig(
      {
        patch: { supported: 'True' },
        bulk: { supported: 'true', maxOperations: '500', maxPayloadSize: '2097152' },
        filter: { supported: 'TRUE', maxResults: '100' },
        sort: { supported: 'False' },
        etag: { supported: 'yes' },
        changePassword: { supported: 1 },
      },
      c,
    );
    assert.equal(c.patch, true);
    assert.deepEqual(c.bulk, { supported: true, maxOperations: 500, maxPayloadSize: 2097152 });
    assert.deepEqual(c.filter, { supported: true, maxResults: 100 });
    assert.equal(c.sort, false);
    assert.equal(c.etag, false, 'only true/"true" mean true');
    assert.equal(c.changePassword, false);
  });

  test('nonsense numbers are ignored; a missing filter section means filtering is supported', () => {
    const c = defaultCapabilities();
    parseServiceProviderConfig(
      {
        bulk: { supported: true, maxOperations: 'lots', maxPayloadSize: -1 },
        filter: { supported: true, maxResults: 0 },
      },
      c,
    );
    assert.deepEqual(c.bulk, { supported: true, maxOperations: 0, maxPayloadSize: 0 });
    assert.equal(c.filter.maxResults, undefined);
    const d = defaultCapabilities();
    parseServiceProviderConfig({ patch: { supported: false } }, d);
    assert.equal(d.filter.supported, true);
    const e = defaultCapabilities();
    parseServiceProviderConfig({ filter: { supported: 'false' } }, e);
    assert.equal(e.filter.supported, false);
  });

  test('pagination (RFC 9865): cursor, index, sizes', () => {
    const c = defaultCapabilities();
    parseServiceProviderConfig(
      { pagination: { cursor: 'true', index: false, defaultPageSize: '50', maxPageSize: 500, cursorTimeout: 3600 } },
      c,
    );
    assert.deepEqual(c.pagination, {
      cursor: true,
      index: false,
      defaultPageSize: 50,
      maxPageSize: 500,
      cursorTimeout: 3600,
    });
    const d = defaultCapabilities();
    parseServiceProviderConfig({ pagination: { cursor: true } }, d);
    assert.equal(d.pagination.index, true, 'index paging is assumed unless denied');
    assert.equal(d.pagination.cursor, true);
    const e = defaultCapabilities();
    parseServiceProviderConfig({ patch: { supported: true } }, e);
    assert.deepEqual(e.pagination, { index: true, cursor: false });
  });

  test('a body that is not an object leaves the defaults and warns', () => {
    const c = defaultCapabilities();
    parseServiceProviderConfig(['x'], c);
    assert.equal(c.patch, false);
    assert.equal(c.warnings.length, 1);
  });
});

describe('parseResourceTypes and parseSchemas', () => {
  test('accept a ListResponse, a lowercase "resources", or a bare array; skip incomplete items', () => {
    const item = { name: 'User', endpoint: '/Users', schema: SCHEMA.USER };
    assert.equal(parseResourceTypes(listResponse([item])).length, 1);
    assert.equal(parseResourceTypes({ resources: [item] }).length, 1);
    assert.equal(parseResourceTypes([item, { name: 'x' }, null, 'y']).length, 1);
    assert.deepEqual(parseResourceTypes({}), []);
    assert.equal(parseSchemas({ Resources: SCHEMAS }).length, 1);
    assert.equal(parseSchemas(SCHEMAS).length, 1);
    assert.deepEqual(parseSchemas('nope'), []);
  });
});

describe('pageSizeFor', () => {
  test("what the caller asks, within the server's limits and 1..1000", () => {
    assert.equal(pageSizeFor(caps()), 100, 'default');
    assert.equal(pageSizeFor(caps(), 250), 250);
    assert.equal(pageSizeFor(caps(), 5000), 1000, 'never more than 1000');
    assert.equal(pageSizeFor(caps(), 0), 1, 'at least 1');
    assert.equal(
      pageSizeFor(
        caps((c) => (c.filter.maxResults = 200)),
        500,
      ),
      200,
      'maxResults caps',
    );
    assert.equal(pageSizeFor(caps((c) => (c.filter.maxResults = 200))), 200, 'maxResults is also the default');
    assert.equal(pageSizeFor(caps((c) => (c.filter.maxResults = 50))), 50);
    assert.equal(
      pageSizeFor(caps((c) => (c.pagination = { index: true, cursor: false, defaultPageSize: 20, maxPageSize: 300 }))),
      20,
    );
    assert.equal(
      pageSizeFor(
        caps((c) => (c.pagination = { index: true, cursor: false, defaultPageSize: 20, maxPageSize: 300 })),
        1000,
      ),
      300,
    );
    assert.equal(
      pageSizeFor(
        caps((c) => {
          c.pagination = { index: true, cursor: false, maxPageSize: 300 };
          c.filter.maxResults = 100;
        }),
        250,
      ),
      250,
      'maxPageSize wins over maxResults as the ceiling',
    );
  });
});

describe('ScimClient capabilities and the cache', () => {
  function memoryCache(initial?: Capabilities) {
    const saved: Capabilities[] = [];
    let loads = 0;
    const cache: CapabilityCache = {
      load: () => {
        loads++;
        return initial;
      },
      save: (c) => saved.push(c),
    };
    return { cache, saved, loads: () => loads };
  }

  const full = discoveryServer({
    '/ServiceProviderConfig': () => scimJson(SPC),
    '/ResourceTypes': () => scimJson(RESOURCE_TYPES),
    '/Schemas': () => scimJson(SCHEMAS),
  });

  test('capabilities() uses a cached entry without any request', async () => {
    const cached = caps((c) => {
      c.source = 'discovered';
      c.patch = true;
      c.filter.maxResults = 42;
    });
    const m = memoryCache(cached);
    const f = fakeFetch(full);
    const client = new ScimClient({ baseUrl: BASE, fetch: f.fetch, capabilityCache: m.cache });
    const got = await client.capabilities();
    assert.equal(got, cached);
    assert.equal(f.calls.length, 0);
    assert.equal(m.saved.length, 0);
    await client.capabilities();
    assert.equal(m.loads(), 1, 'loaded once, then kept in memory');
  });

  test('capabilities() without a cached entry discovers once and saves', async () => {
    const m = memoryCache(undefined);
    const f = fakeFetch(full);
    const client = new ScimClient({ baseUrl: BASE, fetch: f.fetch, capabilityCache: m.cache });
    const [a, b] = await Promise.all([client.capabilities(), client.capabilities()]);
    assert.equal(a, b);
    assert.equal(a.patch, true);
    assert.equal(f.calls.length, 3, 'one discovery for concurrent callers');
    assert.equal(m.saved.length, 1);
    assert.equal(m.saved[0], a);
  });

  test('discover() bypasses the cache, queries the server and saves', async () => {
    const stale = caps((c) => (c.patch = false));
    const m = memoryCache(stale);
    const f = fakeFetch(full);
    const client = new ScimClient({ baseUrl: BASE, fetch: f.fetch, capabilityCache: m.cache });
    const fresh = await client.discover();
    assert.equal(f.calls.length, 3);
    assert.equal(fresh.patch, true);
    assert.deepEqual(m.saved, [fresh]);
    assert.equal(await client.capabilities(), fresh, 'later calls use the fresh result');
    assert.equal(m.loads(), 0);
    assert.equal(f.calls.length, 3);
  });

  test('capabilities given in the options skip discovery', async () => {
    const f = fakeFetch(full);
    const given = caps();
    const client = new ScimClient({ baseUrl: BASE, fetch: f.fetch, capabilities: given });
    assert.equal(await client.capabilities(), given);
    assert.equal(f.calls.length, 0);
  });

  test('a failed discovery is not remembered: the next call tries again', async () => {
    let fail = true;
    const f = fakeFetch((req, i) => (fail ? scimError(401) : full(req, i)));
    const m = memoryCache(undefined);
    const client = new ScimClient({ baseUrl: BASE, fetch: f.fetch, capabilityCache: m.cache });
    await assert.rejects(client.capabilities(), (e: unknown) => e instanceof ScimError && e.status === 401);
    assert.equal(m.saved.length, 0);
    fail = false;
    const c = await client.capabilities();
    assert.equal(c.source, 'discovered');
    assert.equal(m.saved.length, 1);
  });

  test('list() discovers first and pages with the advertised maxResults', async () => {
    const f = fakeFetch((req, i) => (req.url.pathname.endsWith('/Users') ? scimJson(listResponse([])) : full(req, i)));
    const client = new ScimClient({ baseUrl: BASE, fetch: f.fetch });
    await client.users.toArray();
    const listing = f.calls.find((r) => r.url.pathname.endsWith('/Users'))!;
    assert.equal(listing.url.searchParams.get('count'), '200');
  });
});

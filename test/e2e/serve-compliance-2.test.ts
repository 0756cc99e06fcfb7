/**
 * Compliance suite for `scimctl serve`, part 2: behaviour added after part 1
 * (serve-compliance.test.ts) was written — HEAD, unique bulkIds, versions that follow a user's
 * groups (also across a restart), dateTime filter values, the request size limit, a --source
 * file read again while serving, --source with memberships, and writes that change nothing.
 *
 * Then a section of findings from a review of src/server: each test there shows a defect and is
 * kept as a regression test once the defect was fixed.
 *
 * Same rules as part 1: the built binary as a black box over HTTP, no mocks, no fixed sleeps
 * (polling with deadlines), every test on its own resources.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
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

const TOKEN = 'serve-compliance-2-token-5f08c3a9d1e7';

let server: ServeProcess;
let req: Requester;

before(async () => {
  server = await startServe({ token: TOKEN });
  req = server.request;
});

after(async () => {
  if (!server) return;
  await server.stop();
  server.cleanup();
});

// ---------------------------------------------------------------------------------------------
// Helpers

function expectStatus(res: ScimResponse, status: number, what = ''): void {
  assert.equal(
    res.status,
    status,
    `${what ? `${what}: ` : ''}expected HTTP ${status}, got ${res.status}: ${res.text.slice(0, 500)}`,
  );
}

function assertError(res: ScimResponse, status: number, scimType?: string, what = ''): void {
  expectStatus(res, status, what);
  assert.ok(
    Array.isArray(res.body?.schemas) && res.body.schemas.includes(URN.error),
    `${what} error body has the Error schema: ${res.text.slice(0, 300)}`,
  );
  assert.equal(res.body.status, String(status), `${what} error "status" is the code as a string`);
  if (scimType !== undefined) assert.equal(res.body.scimType, scimType, `${what} scimType: ${res.text.slice(0, 300)}`);
}

let serial = 0;
const uniqueName = (domain: string, stem = 'user') => `${stem}.${++serial}.${Date.now().toString(36)}@${domain}`;

async function createUser(body: Json, r: Requester = req): Promise<Json> {
  const res = await r('POST', '/Users', { body: { schemas: [URN.user], ...body } });
  expectStatus(res, 201, `POST /Users ${body.userName}`);
  return res.body;
}

async function createGroup(displayName: string, members: string[] = [], r: Requester = req): Promise<Json> {
  const res = await r('POST', '/Groups', {
    body: { schemas: [URN.group], displayName, members: members.map((value) => ({ value })) },
  });
  expectStatus(res, 201, `POST /Groups ${displayName}`);
  return res.body;
}

const patchBody = (ops: Json[]) => ({ schemas: [URN.patch], Operations: ops });

async function patch(path: string, ops: Json[], r: Requester = req): Promise<ScimResponse> {
  const res = await r('PATCH', path, { body: patchBody(ops) });
  expectStatus(res, 200, `PATCH ${path} ${JSON.stringify(ops).slice(0, 200)}`);
  return res;
}

async function get(path: string, r: Requester = req, headers: Record<string, string> = {}): Promise<ScimResponse> {
  return r('GET', path, { headers });
}

const etag = (res: ScimResponse) => res.headers.get('etag') ?? '(none)';
const resources = (page: Json): Json[] => page?.Resources ?? [];
const sorted = (xs: string[]) => [...xs].sort();
const groupNames = (user: Json): string[] => sorted((user.groups ?? []).map((g: Json) => g.display));
const memberIds = (group: Json): string[] => sorted((group.members ?? []).map((m: Json) => m.value));

/** Polls an async check until it returns a value (not undefined), failing after the deadline. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A raw HTTP/1.1 exchange over a socket: what the server really sent, bytes after the headers included. */
function rawExchange(
  base: string,
  head: string,
): Promise<{ statusLine: string; headers: Map<string, string>; body: Buffer }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('end', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      if (split < 0) return reject(new Error(`no complete response: ${all.toString('latin1').slice(0, 300)}`));
      const lines = all.subarray(0, split).toString('latin1').split('\r\n');
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const at = line.indexOf(':');
        headers.set(line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim());
      }
      resolve({ statusLine: lines[0]!, headers, body: all.subarray(split + 4) });
    });
    socket.write(head);
  });
}

/** A raw HEAD request (Connection: close), so that any byte the server sends after the headers is seen. */
function rawHead(base: string, path: string): ReturnType<typeof rawExchange> {
  const url = new URL(base + path);
  return rawExchange(
    base,
    `HEAD ${url.pathname}${url.search} HTTP/1.1\r\nHost: ` +
      `${url.host}\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`,
  );
}

// ---------------------------------------------------------------------------------------------

describe('HEAD (RFC 9110 §9.3.2)', () => {
  test(
    'HEAD on a resource: the status and headers of a GET (ETag, Content-Type, ' + 'Content-Length), and no body',
    async () => {
      const u = await createUser({ userName: uniqueName('head.test'), title: 'Headed' });
      const path = `/Users/${u.id}`;
      const got = await get(path);
      expectStatus(got, 200);
      const head = await rawHead(server.url, path);
      assert.match(head.statusLine, /^HTTP\/1\.1 200\b/);
      assert.equal(head.headers.get('etag'), got.headers.get('etag'));
      assert.equal(head.headers.get('etag'), u.meta.version);
      assert.equal(head.headers.get('content-type'), got.headers.get('content-type'));
      assert.equal(head.headers.get('content-length'), got.headers.get('content-length'));
      assert.equal(
        Number(head.headers.get('content-length')),
        Buffer.byteLength(got.text),
        'Content-Length is that of the GET body',
      );
      assert.equal(head.body.length, 0, `a HEAD response has no body, got ${head.body.length} bytes`);
    },
  );

  test('HEAD on a list and on an unknown id: same status and headers as GET, no body', async () => {
    for (const [path, status] of [
      [`/Users${qs({ filter: 'userName sw "user"', count: 5 })}`, 200],
      ['/Groups?count=3', 200],
      ['/Users/no-such-id', 404],
    ] as const) {
      const got = await get(path);
      expectStatus(got, status, `GET ${path}`);
      const head = await rawHead(server.url, path);
      assert.match(head.statusLine, new RegExp(`^HTTP/1\\.1 ${status}\\b`), `HEAD ${path}: ${head.statusLine}`);
      assert.equal(head.headers.get('content-type'), got.headers.get('content-type'), `HEAD ${path} Content-Type`);
      assert.equal(
        head.headers.get('content-length'),
        got.headers.get('content-length'),
        `HEAD ${path} Content-Length`,
      );
      assert.equal(head.body.length, 0, `HEAD ${path} has no body`);
    }
  });

  test('HEAD with If-None-Match of the current ETag → 304 like GET', async () => {
    const u = await createUser({ userName: uniqueName('head.test') });
    const res = await req('HEAD', `/Users/${u.id}`, { headers: { 'if-none-match': u.meta.version } });
    expectStatus(res, 304);
  });
});

describe('Bulk bulkIds (RFC 7644 §3.7)', () => {
  test('two operations sharing one bulkId → 400 invalidValue, and nothing was created', async () => {
    const a = uniqueName('bulkdup.test', 'a');
    const b = uniqueName('bulkdup.test', 'b');
    const res = await req('POST', '/Bulk', {
      body: {
        schemas: [URN.bulkRequest],
        Operations: [
          { method: 'POST', bulkId: 'same', path: '/Users', data: { schemas: [URN.user], userName: a } },
          { method: 'POST', bulkId: 'same', path: '/Users', data: { schemas: [URN.user], userName: b } },
          {
            method: 'POST',
            bulkId: 'g',
            path: '/Groups',
            data: { schemas: [URN.group], displayName: 'Bulk dup group', members: [{ value: 'bulkId:same' }] },
          },
        ],
      },
    });
    assertError(res, 400, 'invalidValue', 'duplicate bulkId');
    for (const name of [a, b]) {
      const page = (await get(`/Users${qs({ filter: `userName eq "${name}"` })}`)).body;
      assert.equal(page.totalResults, 0, `${name} was not created`);
    }
    assert.equal(
      (await get(`/Groups${qs({ filter: 'displayName eq "Bulk dup group"' })}`)).body.totalResults,
      0,
      'the group was not created',
    );
  });
});

describe("versions follow a user's groups (RFC 7644 §3.14)", () => {
  test(
    'added to a group, the group renamed, removed from it: each changes the user’s ' +
      'ETag; If-None-Match with the old one → 200 with the new groups',
    async () => {
      const u = await createUser({ userName: uniqueName('versions.test') });
      const other = await createUser({ userName: uniqueName('versions.test') });
      const g = await createGroup(`Versions ${serial}`, [other.id]);
      const e0 = etag(await get(`/Users/${u.id}`));
      assert.equal(e0, u.meta.version);

      await patch(`/Groups/${g.id}`, [{ op: 'add', path: 'members', value: [{ value: u.id }] }]);
      const added = await get(`/Users/${u.id}`, req, { 'if-none-match': e0 });
      expectStatus(added, 200, 'If-None-Match with the ETag from before the user joined a group');
      assert.deepEqual(groupNames(added.body), [g.displayName]);
      const e1 = etag(added);
      assert.notEqual(e1, e0);
      assert.equal(added.body.meta.version, e1, 'meta.version is the ETag');

      const renamed = `${g.displayName} renamed`;
      await patch(`/Groups/${g.id}`, [{ op: 'replace', path: 'displayName', value: renamed }]);
      const afterRename = await get(`/Users/${u.id}`, req, { 'if-none-match': e1 });
      expectStatus(afterRename, 200, 'If-None-Match with the ETag from before the group was renamed');
      assert.deepEqual(groupNames(afterRename.body), [renamed]);
      const e2 = etag(afterRename);
      assert.notEqual(e2, e1);

      await patch(`/Groups/${g.id}`, [{ op: 'remove', path: `members[value eq "${u.id}"]` }]);
      const removed = await get(`/Users/${u.id}`, req, { 'if-none-match': e2 });
      expectStatus(removed, 200, 'If-None-Match with the ETag from before the user left the group');
      assert.equal(removed.body.groups, undefined, 'no groups any more');
      const e3 = etag(removed);
      assert.ok(![e0, e1, e2].includes(e3), `a new ETag after leaving (${e3}; before: ${e0} ${e1} ${e2})`);
      expectStatus(await get(`/Users/${u.id}`, req, { 'if-none-match': e3 }), 304, 'the current ETag still gives 304');
      // If-Match follows too: the ETag from before the membership change is stale.
      assertError(
        await req('PATCH', `/Users/${u.id}`, {
          body: patchBody([{ op: 'replace', path: 'title', value: 'x' }]),
          headers: { 'if-match': e2 },
        }),
        412,
      );
      assert.notEqual(
        etag(await get(`/Users/${other.id}`)),
        other.meta.version,
        'the other member changed too (it was already in the group when it was renamed)',
      );
    },
  );

  test('the versions of membership changes are the same after a restart (replayed from the journal)', async () => {
    const store = tempDir();
    let first: ServeProcess | undefined;
    let second: ServeProcess | undefined;
    try {
      first = await startServe({ token: TOKEN, dataDir: store.dir });
      const r1 = first.request;
      const u = await createUser({ userName: 'joined@restart.test' }, r1);
      const v = await createUser({ userName: 'left@restart.test' }, r1);
      const g = await createGroup('Restart Group', [v.id], r1);
      await patch(`/Groups/${g.id}`, [{ op: 'add', path: 'members', value: [{ value: u.id }] }], r1);
      await patch(`/Groups/${g.id}`, [{ op: 'replace', path: 'displayName', value: 'Restart Group renamed' }], r1);
      await patch(`/Groups/${g.id}`, [{ op: 'remove', path: `members[value eq "${v.id}"]` }], r1);
      const before = {
        u: await get(`/Users/${u.id}`, r1),
        v: await get(`/Users/${v.id}`, r1),
        g: await get(`/Groups/${g.id}`, r1),
      };
      assert.notEqual(etag(before.u), u.meta.version);
      assert.notEqual(etag(before.v), v.meta.version);
      // SIGKILL: no compaction at shutdown, so the journal itself is replayed.
      assert.equal((await first.stop('SIGKILL')).signal, 'SIGKILL');

      second = await startServe({ token: TOKEN, dataDir: store.dir });
      const r2 = second.request;
      for (const [name, id, kind, was] of [
        ['joined user', u.id, 'Users', before.u],
        ['user who left', v.id, 'Users', before.v],
        ['group', g.id, 'Groups', before.g],
      ] as const) {
        const now = await get(`/${kind}/${id}`, r2);
        expectStatus(now, 200, name);
        assert.equal(etag(now), etag(was), `${name}: the ETag after the restart`);
        expectStatus(
          await get(`/${kind}/${id}`, r2, { 'if-none-match': etag(was) }),
          304,
          `${name}: If-None-Match with the pre-restart ETag`,
        );
      }
      const joined = (await get(`/Users/${u.id}`, r2, { 'if-none-match': u.meta.version })).body;
      assert.deepEqual(
        groupNames(joined),
        ['Restart Group renamed'],
        'If-None-Match with the ETag from before joining → 200 with the groups',
      );
      const left = await get(`/Users/${v.id}`, r2, { 'if-none-match': v.meta.version });
      expectStatus(left, 200);
      assert.equal(left.body.groups, undefined);
    } finally {
      await teardown([first, second], [store]);
    }
  });
});

describe('dateTime filter values (RFC 7644 §3.4.2.2, RFC 7643 §2.3.5)', () => {
  test('meta.lastModified gt "yesterday" → 400 invalidFilter (GET and POST .search)', async () => {
    assertError(await get(`/Users${qs({ filter: 'meta.lastModified gt "yesterday"' })}`), 400, 'invalidFilter', 'GET');
    assertError(
      await req('POST', '/Users/.search', { body: { schemas: [URN.search], filter: 'meta.created lt "not a date"' } }),
      400,
      'invalidFilter',
      '.search',
    );
    expectStatus(
      await get(`/Users${qs({ filter: 'meta.lastModified gt "2000-01-01T00:00:00Z"', count: 1 })}`),
      200,
      'a real dateTime is fine',
    );
  });
});

describe('request size limit', () => {
  test(
    'a POST /Users declaring a body over 16 MiB → 413 with a SCIM error before the ' +
      'body is read, and the server keeps serving',
    async () => {
      const url = new URL(`${server.url}/Users`);
      // Only the headers: the server must answer from Content-Length alone (and no unread bytes can turn its
      // close into a reset).
      const res = await rawExchange(
        server.url,
        `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ` +
          `${TOKEN}\r\nContent-Type: application/scim+json\r\nContent-Length: ` +
          `${16 * 1024 * 1024 + 1}\r\n\r\n`,
      );
      assert.match(res.statusLine, /^HTTP\/1\.1 413\b/, res.statusLine);
      assert.match(res.headers.get('content-type') ?? '', /^application\/scim\+json/);
      const body = JSON.parse(res.body.toString('utf8'));
      assert.deepEqual(body.schemas, [URN.error]);
      assert.equal(body.status, '413');
      expectStatus(await get('/ServiceProviderConfig'), 200, 'served after the 413');
    },
  );

  test('a body just under 16 MiB is read (and judged by what it says)', async () => {
    // Values are capped at 65,536 characters (serve-limits.test.ts): the body is made big with
    // JSON whitespace, so only its size is under test here.
    const name = uniqueName('big.test');
    const nick = 'y'.repeat(65_536);
    const raw = JSON.stringify({ schemas: [URN.user], userName: name, nickName: nick }).replace(
      /^\{/,
      `{${' '.repeat(16 * 1024 * 1024 - 1024 - nick.length)}`,
    );
    const res = await req('POST', '/Users', { raw });
    expectStatus(res, 201, 'a body of 16 MiB - 1 KiB + a little');
    assert.equal(res.body.nickName.length, nick.length);
    expectStatus(await req('DELETE', `/Users/${res.body.id}`), 204);
    const over = await req('POST', '/Users', {
      raw: JSON.stringify({ schemas: [URN.user], userName: name, nickName: 'y'.repeat(16 * 1024 * 1024 - 1024) }),
    });
    assertError(over, 400, 'invalidValue', 'the same size in one value');
  });
});

describe('--source FILE while serving', () => {
  test(
    'edits to the file are served within seconds (same ids, new ETag only for the ' +
      'changed user); a broken file keeps the last good content',
    async () => {
      const src = tempDir();
      const file = join(src.dir, 'live.csv');
      const header = 'userName,externalId,title';
      writeFileSync(
        file,
        [header, 'ann@live.test,e-ann,Engineer', 'ben@live.test,e-ben,Baker', 'cat@live.test,e-cat,Carpenter', ''].join(
          '\n',
        ),
      );
      let ro: ServeProcess | undefined;
      try {
        ro = await startServe({ token: TOKEN, dataDir: null, args: ['--source', file] });
        const r = ro.request;
        const byName = async (): Promise<Map<string, Json>> =>
          new Map(resources((await r('GET', '/Users?count=100')).body).map((u: Json) => [u.userName, u]));
        const before = await byName();
        assert.deepEqual(sorted([...before.keys()]), ['ann@live.test', 'ben@live.test', 'cat@live.test']);

        writeFileSync(
          file,
          [
            header,
            'ann@live.test,e-ann,Principal Engineer',
            'cat@live.test,e-cat,Carpenter',
            'dan@live.test,e-dan,Diver',
            '',
          ].join('\n'),
        );
        const after = await eventually('the edited file is served', async () => {
          const now = await byName();
          return now.has('dan@live.test') ? now : undefined;
        });
        assert.deepEqual(
          sorted([...after.keys()]),
          ['ann@live.test', 'cat@live.test', 'dan@live.test'],
          'ben is gone, dan is new',
        );
        const ann = after.get('ann@live.test');
        assert.equal(ann.title, 'Principal Engineer');
        assert.equal(ann.id, before.get('ann@live.test').id, 'the changed user keeps its id');
        assert.notEqual(ann.meta.version, before.get('ann@live.test').meta.version, 'the changed user has a new ETag');
        const annNow = await r('GET', `/Users/${ann.id}`, {
          headers: { 'if-none-match': before.get('ann@live.test').meta.version },
        });
        expectStatus(annNow, 200, 'If-None-Match with the old ETag of the changed user');
        const cat = after.get('cat@live.test');
        assert.equal(cat.id, before.get('cat@live.test').id, 'the unchanged user keeps its id');
        assert.equal(cat.meta.version, before.get('cat@live.test').meta.version, 'the unchanged user keeps its ETag');
        expectStatus(await r('GET', `/Users/${cat.id}`, { headers: { 'if-none-match': cat.meta.version } }), 304);
        assertError(await r('GET', `/Users/${before.get('ben@live.test').id}`), 404, undefined, 'the removed user');

        // A file that does not read cleanly (a duplicate userName): the last good content stays.
        writeFileSync(file, [header, 'ann@live.test,e-ann,Broken', 'ANN@live.test,e-ann2,Twice', ''].join('\n'));
        await eventually('the server says on stderr that the file cannot be served', async () => {
          expectStatus(await r('GET', '/Users?count=0'), 200, 'serving while the file is broken');
          return /cannot be served/.test(ro!.stderr()) ? true : undefined;
        });
        assert.match(ro.stderr(), /live\.csv/, 'stderr names the file');
        const kept = await byName();
        assert.deepEqual(
          sorted([...kept.keys()]),
          ['ann@live.test', 'cat@live.test', 'dan@live.test'],
          'still the last good content',
        );
        assert.equal(kept.get('ann@live.test').title, 'Principal Engineer');
        assert.equal(kept.get('ann@live.test').meta.version, ann.meta.version);
        assert.ok(!ro.exited(), 'the server is still running');
      } finally {
        await teardown([ro], [src]);
      }
    },
  );

  test(
    'our JSON export with each user’s groups: the groups exist with those members, ' + 'and users list them',
    async () => {
      const src = tempDir();
      const file = join(src.dir, 'export.json');
      const users = [
        {
          schemas: [URN.user],
          userName: 'eve@export.test',
          externalId: 'x-eve',
          groups: [{ display: 'Eng' }, { display: 'Oncall' }],
        },
        { schemas: [URN.user], userName: 'fay@export.test', externalId: 'x-fay', groups: [{ display: 'Eng' }] },
        { schemas: [URN.user], userName: 'gus@export.test', externalId: 'x-gus' },
      ];
      writeFileSync(file, JSON.stringify(users, null, 2));
      let ro: ServeProcess | undefined;
      try {
        ro = await startServe({ token: TOKEN, dataDir: null, args: ['--source', file] });
        const r = ro.request;
        const all = resources((await r('GET', '/Users?count=100')).body);
        const id = (name: string) => all.find((u: Json) => u.userName === name)?.id as string;
        assert.equal(all.length, 3);
        const groups = new Map(
          resources((await r('GET', '/Groups?count=100')).body).map((g: Json) => [g.displayName, g]),
        );
        assert.deepEqual(sorted([...groups.keys()]), ['Eng', 'Oncall']);
        assert.deepEqual(memberIds(groups.get('Eng')), sorted([id('eve@export.test'), id('fay@export.test')]));
        assert.deepEqual(memberIds(groups.get('Oncall')), [id('eve@export.test')]);
        for (const m of groups.get('Eng').members) assert.equal(m.type, 'User');
        const eve = (await r('GET', `/Users/${id('eve@export.test')}`)).body;
        assert.deepEqual(groupNames(eve), ['Eng', 'Oncall']);
        for (const g of eve.groups) {
          assert.equal(g.value, groups.get(g.display).id, 'groups[].value is the group id');
          assert.equal(g.type, 'direct');
        }
        assert.deepEqual(groupNames((await r('GET', `/Users/${id('fay@export.test')}`)).body), ['Eng']);
        assert.equal((await r('GET', `/Users/${id('gus@export.test')}`)).body.groups, undefined);
        const inEng = resources((await r('GET', `/Users${qs({ filter: 'groups[display eq "Eng"]' })}`)).body);
        assert.deepEqual(sorted(inEng.map((u: Json) => u.userName)), ['eve@export.test', 'fay@export.test']);
      } finally {
        await teardown([ro], [src]);
      }
    },
  );
});

describe('writes that change nothing keep the version (RFC 7644 §3.14)', () => {
  test('a PUT of the same content keeps the ETag; a PUT that changes something does not', async () => {
    const u = await createUser({
      userName: uniqueName('noop.test'),
      name: { givenName: 'Noa', familyName: 'Op' },
      title: 'Same',
      emails: [{ value: 'noa@noop.test', type: 'work', primary: true }],
    });
    const body = { schemas: [URN.user], userName: u.userName, name: u.name, title: u.title, emails: u.emails };
    const same = await req('PUT', `/Users/${u.id}`, { body });
    expectStatus(same, 200);
    assert.equal(etag(same), u.meta.version, 'a no-op PUT keeps the ETag');
    assert.equal(same.body.meta.version, u.meta.version);
    assert.equal(same.body.meta.lastModified, u.meta.lastModified, 'and lastModified');
    expectStatus(await get(`/Users/${u.id}`, req, { 'if-none-match': u.meta.version }), 304);
    const changed = await req('PUT', `/Users/${u.id}`, { body: { ...body, title: 'Different' } });
    expectStatus(changed, 200);
    assert.notEqual(etag(changed), u.meta.version);
  });

  test(
    'a PATCH that sets a value it already has, or adds a member already there, ' +
      'keeps the ETags of the group and its members',
    async () => {
      const u = await createUser({ userName: uniqueName('noop.test'), title: 'Kept' });
      const g = await createGroup(`Noop ${serial}`, [u.id]);
      const userTag = etag(await get(`/Users/${u.id}`));
      const p1 = await patch(`/Groups/${g.id}`, [{ op: 'add', path: 'members', value: [{ value: u.id }] }]);
      assert.equal(etag(p1), g.meta.version, 'adding an existing member keeps the group’s ETag');
      assert.equal(p1.body.members.length, 1);
      assert.equal(etag(await get(`/Users/${u.id}`)), userTag, 'and the member’s');
      const p2 = await patch(`/Groups/${g.id}`, [{ op: 'replace', path: 'displayName', value: g.displayName }]);
      assert.equal(etag(p2), g.meta.version, 'replacing displayName with itself keeps the group’s ETag');
      const p3 = await patch(`/Users/${u.id}`, [{ op: 'replace', path: 'title', value: 'Kept' }]);
      assert.equal(etag(p3), userTag, 'replacing title with itself keeps the user’s ETag');
      const p4 = await req('PUT', `/Groups/${g.id}`, {
        body: { schemas: [URN.group], displayName: g.displayName, members: [{ value: u.id }] },
      });
      expectStatus(p4, 200);
      assert.equal(etag(p4), g.meta.version, 'a no-op PUT of a group keeps its ETag');
      const p5 = await patch(`/Groups/${g.id}`, [{ op: 'replace', path: 'displayName', value: `${g.displayName}!` }]);
      assert.notEqual(etag(p5), g.meta.version, 'a real change gives a new ETag');
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Findings of the review of src/server: each of these failed before its fix

describe('review findings', () => {
  test(
    'a PATCH that removes and adds members is atomic: concurrent readers never see ' +
      'it half done, and one ETag means one representation',
    async () => {
      const a = await createUser({ userName: uniqueName('atomic.test', 'a') });
      const b = await createUser({ userName: uniqueName('atomic.test', 'b') });
      const g = await createGroup(`Atomic ${serial}`, [a.id]);
      const seen = new Map<string, string>();
      for (let round = 0; round < 20; round++) {
        const [from, to] = round % 2 === 0 ? [a.id, b.id] : [b.id, a.id];
        // The write goes first; the reads arrive while it waits for its first journal write.
        const write = patch(`/Groups/${g.id}`, [{ op: 'replace', path: 'members', value: [{ value: to }] }]);
        const reads = Array.from({ length: 30 }, () => get(`/Groups/${g.id}`));
        for (const res of [...(await Promise.all(reads)), await write]) {
          const members = memberIds(res.body).join(',');
          assert.ok(
            members === from || members === to,
            `round ${round}: a reader saw members [${members}], neither before [${from}] nor after [${to}]`,
          );
          const tag = etag(res);
          const earlier = seen.get(tag);
          assert.ok(
            earlier === undefined || earlier === members,
            `round ${round}: ETag ${tag} was given for members [${earlier}] and for [${members}]`,
          );
          seen.set(tag, members);
        }
      }
    },
  );

  test(
    'a group renamed while a member-replacing PATCH is in flight: the group’s ' + 'members and the users’ groups agree',
    async () => {
      for (let round = 0; round < 15; round++) {
        const a = await createUser({ userName: uniqueName('race.test', 'a') });
        const b = await createUser({ userName: uniqueName('race.test', 'b') });
        const g = await createGroup(`Race ${serial}`, [a.id]);
        await Promise.all([
          patch(`/Groups/${g.id}`, [{ op: 'replace', path: 'members', value: [{ value: b.id }] }]),
          req('PUT', `/Groups/${g.id}`, {
            body: { schemas: [URN.group], displayName: `Race ${serial} renamed ${round}`, members: [{ value: a.id }] },
          }),
        ]);
        const group = (await get(`/Groups/${g.id}`)).body;
        for (const u of [a, b]) {
          const user = (await get(`/Users/${u.id}`)).body;
          const listed = (user.groups ?? []).some((x: Json) => x.value === g.id);
          const member = memberIds(group).includes(u.id);
          assert.equal(
            listed,
            member,
            `round ${round}: ${u.userName} ${listed ? 'lists' : 'does not list'} the ` +
              `group, which ${member ? 'has' : 'does not have'} it as a member`,
          );
        }
      }
    },
  );

  test("deleting a group changes its members' ETags (their groups changed)", async () => {
    const u = await createUser({ userName: uniqueName('delgroup.test') });
    const g = await createGroup(`Deleted ${serial}`, [u.id]);
    const withGroup = await get(`/Users/${u.id}`);
    assert.deepEqual(groupNames(withGroup.body), [g.displayName]);
    expectStatus(await req('DELETE', `/Groups/${g.id}`), 204);
    const res = await get(`/Users/${u.id}`, req, { 'if-none-match': etag(withGroup) });
    expectStatus(res, 200, 'If-None-Match with the ETag from when the user was in the deleted group');
    assert.equal(res.body.groups, undefined);
  });

  test('renaming a user changes the ETag of its groups (members[].display changed)', async () => {
    const u = await createUser({ userName: uniqueName('display.test'), displayName: 'Old Name' });
    const g = await createGroup(`Display ${serial}`, [u.id]);
    assert.equal(g.members[0].display, 'Old Name');
    await patch(`/Users/${u.id}`, [{ op: 'replace', path: 'displayName', value: 'New Name' }]);
    const res = await get(`/Groups/${g.id}`, req, { 'if-none-match': g.meta.version });
    expectStatus(res, 200, 'If-None-Match with the group’s ETag from before its member was renamed');
    assert.equal(res.body.members[0].display, 'New Name');
  });

  test('a restart does not change the ETag of a user whose group changed later for someone else', async () => {
    const store = tempDir();
    let first: ServeProcess | undefined;
    let second: ServeProcess | undefined;
    try {
      first = await startServe({ token: TOKEN, dataDir: store.dir });
      const r1 = first.request;
      const u = await createUser({ userName: 'stays@replay.test' }, r1);
      const g = await createGroup('Replay Group', [u.id], r1);
      await patch(`/Users/${u.id}`, [{ op: 'replace', path: 'title', value: 'After joining' }], r1);
      const v = await createUser({ userName: 'joins@replay.test' }, r1);
      await patch(`/Groups/${g.id}`, [{ op: 'add', path: 'members', value: [{ value: v.id }] }], r1);
      const before = await get(`/Users/${u.id}`, r1);
      assert.equal((await first.stop('SIGTERM')).code, 0);
      second = await startServe({ token: TOKEN, dataDir: store.dir });
      const now = await get(`/Users/${u.id}`, second.request, { 'if-none-match': etag(before) });
      expectStatus(now, 304, `the unchanged user after a restart (ETag before: ${etag(before)}, after: ${etag(now)})`);
    } finally {
      await teardown([first, second], [store]);
    }
  });

  test('--source: a changed user in a group gets a new ETag; a renamed group changes its members’ ETags', async () => {
    const src = tempDir();
    const file = join(src.dir, 'grouped.json');
    const names = Array.from({ length: 8 }, (_, i) => `p${i}@grouped.test`);
    const write = (title: string, group: string) =>
      writeFileSync(
        file,
        JSON.stringify(
          names.map((userName) => ({ schemas: [URN.user], userName, title, groups: [{ display: group }] })),
        ),
      );
    write('Before', 'Team');
    let ro: ServeProcess | undefined;
    try {
      ro = await startServe({ token: TOKEN, dataDir: null, args: ['--source', file] });
      const r = ro.request;
      const tags = async () =>
        new Map(resources((await r('GET', '/Users?count=100')).body).map((u: Json) => [u.userName, u]));
      const t0 = await tags();
      write('After', 'Team');
      const t1 = await eventually('the new titles', async () => {
        const t = await tags();
        return [...t.values()].every((u) => u.title === 'After') ? t : undefined;
      });
      const same1 = names.filter((n) => t1.get(n).meta.version === t0.get(n).meta.version);
      assert.deepEqual(same1, [], 'users whose title changed but whose ETag did not');
      write('After', 'Team renamed');
      const t2 = await eventually('the renamed group', async () => {
        const t = await tags();
        return [...t.values()].every((u) => groupNames(u)[0] === 'Team renamed') ? t : undefined;
      });
      const same2 = names.filter((n) => t2.get(n).meta.version === t1.get(n).meta.version);
      assert.deepEqual(same2, [], 'users whose groups[].display changed but whose ETag did not');
    } finally {
      await teardown([ro], [src]);
    }
  });

  test(
    '--source: users whose keys look alike (one’s externalId is another’s ' +
      'userName; externalIds differing in case) are all served',
    async () => {
      const src = tempDir();
      const file = join(src.dir, 'collide.csv');
      writeFileSync(
        file,
        [
          'userName,externalId,title',
          'ann@collide.test,bob@collide.test,A',
          'bob@collide.test,,B',
          'cy@collide.test,E1,C',
          'di@collide.test,e1,D',
          '',
        ].join('\n'),
      );
      let ro: ServeProcess | undefined;
      try {
        ro = await startServe({ token: TOKEN, dataDir: null, args: ['--source', file] });
        const page = (await ro.request('GET', '/Users?count=100')).body;
        assert.deepEqual(
          sorted(resources(page).map((u: Json) => u.userName)),
          ['ann@collide.test', 'bob@collide.test', 'cy@collide.test', 'di@collide.test'],
          'every row of the file is a user',
        );
      } finally {
        await teardown([ro], [src]);
      }
    },
  );

  test('a malformed percent-encoding in the path → 4xx SCIM error, not 500', async () => {
    const res = await req('GET', '/Users/%E0%A4%A');
    assert.ok(res.status === 400 || res.status === 404, `expected 400 or 404, got ${res.status}: ${res.text}`);
    expectStatus(await get('/ServiceProviderConfig'), 200);
  });

  test(
    'a Bulk operation with a malformed percent-encoding fails alone; the response ' +
      'reports the operations applied before it',
    async () => {
      const name = uniqueName('percent.test');
      const bulk = await req('POST', '/Bulk', {
        body: {
          schemas: [URN.bulkRequest],
          Operations: [
            { method: 'POST', bulkId: 'p', path: '/Users', data: { schemas: [URN.user], userName: name } },
            { method: 'DELETE', path: '/Users/%E0%A4%A' },
          ],
        },
      });
      const created = (await get(`/Users${qs({ filter: `userName eq "${name}"` })}`)).body.totalResults;
      expectStatus(
        bulk,
        200,
        `Bulk with a malformed operation path (the POST before it was ${created ? '' : 'not '}applied)`,
      );
      assert.equal(bulk.body.Operations[0].status, '201');
      assert.ok(Number(bulk.body.Operations[1].status) >= 400 && Number(bulk.body.Operations[1].status) < 500);
    },
  );

  test('a PATCH path whose value filter has thousands of terms → 400, not 500', async () => {
    const u = await createUser({
      userName: uniqueName('deep.test'),
      emails: [{ value: 'deep@deep.test', type: 'work' }],
    });
    const filter = Array.from({ length: 50_000 }, () => 'type eq "work"').join(' and ');
    const res = await req('PATCH', `/Users/${u.id}`, {
      body: patchBody([{ op: 'replace', path: `emails[${filter}].value`, value: 'x@deep.test' }]),
    });
    assert.ok(
      res.status === 400 || res.status === 200,
      `expected 400 (or 200), got ${res.status}: ${res.text.slice(0, 200)}`,
    );
  });

  test('a Bulk operation with deeply nested data → 400, not 500', async () => {
    const depth = 100_000;
    const raw =
      `{"schemas":["${URN.bulkRequest}"],"Operations":[{"method":"POST","bulkId":"d",` +
      `"path":"/Users","data":{"schemas":["${URN.user}"],"userName":"deep@bulk.test",` +
      `"title":${'['.repeat(depth)}${']'.repeat(depth)}}}]}`;
    const res = await req('POST', '/Bulk', { raw });
    assert.ok(
      res.status === 400 || (res.status === 200 && res.body.Operations?.[0]?.status === '400'),
      `expected a 400, got ${res.status}: ${res.text.slice(0, 200)}`,
    );
  });

  test('a client that sends a whole body over 16 MiB gets the 413 (10 tries), not a reset connection', async () => {
    const raw = JSON.stringify({
      schemas: [URN.user],
      userName: uniqueName('big.test'),
      title: 'x'.repeat(16 * 1024 * 1024 + 10),
    });
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) {
      try {
        outcomes.push(String((await req('POST', '/Users', { raw })).status));
      } catch (e) {
        outcomes.push(`${(e as Error).message} (${String((e as { cause?: { code?: string } }).cause?.code)})`);
      }
    }
    assert.deepEqual(
      outcomes.filter((o) => o !== '413'),
      [],
      `outcomes: ${outcomes.join(', ')}`,
    );
    expectStatus(await get('/ServiceProviderConfig'), 200);
  });

  test('a chunked body over 16 MiB (no Content-Length) → a 413 response, not a reset connection', async () => {
    const url = new URL(`${server.url}/Users`);
    const result = await new Promise<{ status?: number; error?: string }>((resolve) => {
      const r = httpRequest(
        url,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${TOKEN}`,
            'content-type': 'application/scim+json',
            'transfer-encoding': 'chunked',
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode }));
        },
      );
      r.on('error', (e) => resolve({ error: e.message }));
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 18) {
          sent++;
          if (!r.write(chunk)) return r.once('drain', pump);
        }
        r.end();
      };
      pump();
    });
    assert.equal(result.status, 413, `expected a 413 response, got ${JSON.stringify(result)}`);
    expectStatus(await get('/ServiceProviderConfig'), 200);
  });
});

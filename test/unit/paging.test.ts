import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScimClient, type ClientOptions } from '../../src/api/client.ts';
import { defaultCapabilities } from '../../src/api/discovery.ts';
import {
  ClientUsageError,
  IncompleteListingError,
  ResponseError,
  ResponseValidationError,
  ScimError,
} from '../../src/api/errors.ts';
import { eq, gt, or } from '../../src/api/filter.ts';
import { Transport } from '../../src/api/http.ts';
import { paginate, parseListResponse, type PageInfo } from '../../src/api/paging.ts';
import { SCHEMA, type ScimUser } from '../../src/api/types.ts';
import {
  BASE,
  caps,
  collect,
  collectUntilError,
  fakeFetch,
  ids,
  listResponse,
  makeUsers,
  recordingSleep,
  rejection,
  scimError,
  scimJson,
  type FakeRequest,
  type Handler,
} from './helpers.ts';

interface ServerOptions {
  /** Most resources the server returns per page, whatever count asks. */
  cap?: number;
  /** Return everything from startIndex on, whatever count asks. */
  ignoreCount?: boolean;
  /** Always serve the page at startIndex 1. */
  ignoreStartIndex?: boolean;
  /** What to put in totalResults (default: the truth). null leaves it out. */
  totalResults?: number | null;
  /** itemsPerPage echoes the requested count instead of the real page length. */
  echoItemsPerPage?: boolean;
  /** Answer for a startIndex past the last resource (default: an empty page). */
  pastEnd?: () => Response;
  /** Answer for one startIndex instead of the page. */
  override?: (startIndex: number, req: FakeRequest) => Response | undefined;
}

/** A SCIM server listing `users` by index, with the deviations real servers have. */
function listServer(users: ScimUser[], o: ServerOptions = {}): Handler {
  return (req) => {
    const params =
      req.method === 'POST'
        ? (JSON.parse(req.body ?? '{}') as Record<string, unknown>)
        : Object.fromEntries(req.url.searchParams);
    const startIndex = o.ignoreStartIndex ? 1 : Number(params.startIndex ?? 1);
    const count = Number(params.count ?? 100);
    const override = o.override?.(startIndex, req);
    if (override) return override;
    if (startIndex > users.length && o.pastEnd) return o.pastEnd();
    const size = o.ignoreCount ? users.length : Math.min(count, o.cap ?? Infinity);
    const page = users.slice(startIndex - 1, startIndex - 1 + size);
    const body: Record<string, unknown> = listResponse(page, {
      startIndex,
      itemsPerPage: o.echoItemsPerPage ? count : page.length,
      totalResults: users.length,
    });
    if (o.totalResults === null) delete body.totalResults;
    else if (o.totalResults !== undefined) body.totalResults = o.totalResults;
    return scimJson(body);
  };
}

function client(handler: Handler, opts: Partial<ClientOptions> = {}) {
  // A runaway listing ends in a 400 (which the call-count assertions then catch) instead of hanging the suite.
  const f = fakeFetch((req, i) => (i >= 1000 ? scimError(400, 'runaway listing guard') : handler(req, i)));
  const s = recordingSleep();
  const c = new ScimClient({
    baseUrl: BASE,
    auth: { type: 'bearer', token: 'tok_paging_0123456789' },
    fetch: f.fetch,
    sleep: s.sleep,
    random: () => 0,
    capabilities: caps(),
    ...opts,
  });
  return { c, f, s };
}

const startIndexes = (calls: FakeRequest[]) => calls.map((r) => Number(r.url.searchParams.get('startIndex')));
const counts = (calls: FakeRequest[]) => calls.map((r) => Number(r.url.searchParams.get('count')));

describe('index paging through servers that deviate', () => {
  test('a server capping the page size below count (asks 100, gets 50) still yields everything', async () => {
    const users = makeUsers(230);
    const { c, f } = client(listServer(users, { cap: 50 }));
    const got = await c.users.toArray({ pageSize: 100 });
    assert.deepEqual(ids(got), ids(users));
    assert.deepEqual(startIndexes(f.calls), [1, 51, 101, 151, 201, 231]);
    assert.deepEqual(counts(f.calls), [100, 100, 100, 100, 100, 100]);
    assert.ok(f.calls.every((r) => r.method === 'GET' && r.url.pathname === '/scim/v2/Users'));
  });

  test('itemsPerPage echoing the requested count is ignored; the resources received count', async () => {
    const users = makeUsers(130);
    const pages: PageInfo[] = [];
    const { c, f } = client(listServer(users, { cap: 40, echoItemsPerPage: true }));
    const got = await c.users.toArray({ pageSize: 100, onPage: (p) => pages.push({ ...p }) });
    assert.deepEqual(ids(got), ids(users));
    assert.deepEqual(startIndexes(f.calls), [1, 41, 81, 121, 131]);
    assert.deepEqual(
      pages.map((p) => p.received),
      [40, 80, 120, 130, 130],
    );
    assert.ok(pages.every((p) => p.total === 130));
  });

  test('totalResults capped low does not stop the listing; it reads on until an empty page', async () => {
    const users = makeUsers(250);
    const { c, f } = client(listServer(users, { cap: 100, totalResults: 100 }));
    const got = await c.users.toArray({ pageSize: 100 });
    assert.equal(got.length, 250);
    assert.deepEqual(ids(got), ids(users));
    assert.deepEqual(startIndexes(f.calls), [1, 101, 201, 251]);
  });

  test('a server returning everything in one page regardless of count', async () => {
    const users = makeUsers(120);
    const { c, f } = client(listServer(users, { ignoreCount: true }));
    const got = await c.users.toArray({ pageSize: 50 });
    assert.deepEqual(ids(got), ids(users));
    assert.deepEqual(startIndexes(f.calls), [1, 121]);
  });

  test('a limit is honoured even when the server returns more than asked', async () => {
    const users = makeUsers(120);
    const { c, f } = client(listServer(users, { ignoreCount: true }));
    const got = await c.users.toArray({ pageSize: 50, limit: 30 });
    assert.deepEqual(ids(got), ids(users.slice(0, 30)));
    assert.equal(f.calls.length, 1);
    assert.deepEqual(counts(f.calls), [30]);
  });

  test('an empty page ends the listing even when totalResults claims more', async () => {
    const users = makeUsers(60);
    const { c, f } = client(listServer(users, { cap: 50, totalResults: 1000 }));
    const got = await c.users.toArray({ pageSize: 50 });
    assert.equal(got.length, 60);
    // The empty page and the short one before it are each read again once: both alike, the
    // short page was the server's last and its totalResults over-states.
    assert.deepEqual(startIndexes(f.calls), [1, 51, 61, 61, 51]);
  });

  test(
    'an empty page right after a full one, while totalResults says more, is read ' + 'again and the listing goes on',
    async () => {
      const users = makeUsers(250);
      let blanked = 0;
      const { c, f } = client(
        listServer(users, {
          cap: 100,
          override: (startIndex) =>
            startIndex === 101 && blanked++ === 0 ? scimJson(listResponse([], { totalResults: 250 })) : undefined,
        }),
      );
      const got = await c.users.toArray({ pageSize: 100 });
      assert.deepEqual(ids(got), ids(users));
      assert.deepEqual(startIndexes(f.calls), [1, 101, 101, 201, 251]);
    },
  );

  test(
    'an empty page that stays empty after a full page, while totalResults says ' +
      'more, is IncompleteListingError (nothing may be planned from it)',
    async () => {
      const users = makeUsers(2600);
      // The server loses everything past 100 (a page window, a broken replica): totalResults still says 2600.
      const { c, f } = client(
        listServer(users, {
          cap: 100,
          override: (startIndex) => (startIndex > 100 ? scimJson(listResponse([], { totalResults: 2600 })) : undefined),
        }),
      );
      const { items, error } = await collectUntilError(c.users.list({ pageSize: 100 }));
      assert.ok(error instanceof IncompleteListingError, String(error));
      assert.equal(items.length, 100);
      assert.match(
        error.message,
        new RegExp(
          /stopped after 100 resources: the page at startIndex 101 came back /.source +
            /empty twice after a full page, although totalResults is 2600/.source,
        ),
      );
      assert.deepEqual(startIndexes(f.calls), [1, 101, 101, 1]);
    },
  );

  test(
    'an empty first page while totalResults says there are resources is ' +
      'IncompleteListingError after a second read',
    async () => {
      const { c, f } = client(() => scimJson(listResponse([], { totalResults: 2500 })));
      const error = await rejection(c.users.toArray({ pageSize: 100 }));
      assert.ok(error instanceof IncompleteListingError, String(error));
      assert.match(error.message, /first page came back empty twice although totalResults is 2500/);
      assert.equal(f.calls.length, 2);
    },
  );

  test(
    'a page that came back short, then an empty one: the short page read again ' + 'whole, and the listing goes on',
    async () => {
      const users = makeUsers(300);
      let shortened = 0;
      let blanked = 0;
      const { c, f } = client(
        listServer(users, {
          cap: 100,
          override: (startIndex) => {
            if (startIndex === 101 && shortened++ === 0)
              return scimJson(listResponse(users.slice(100, 130), { totalResults: 300 }));
            if (startIndex === 131 && blanked++ < 2) return scimJson(listResponse([], { totalResults: 300 }));
            return undefined;
          },
        }),
      );
      const got = await c.users.toArray({ pageSize: 100 });
      assert.deepEqual(ids(got).sort(), ids(users).sort());
      assert.equal(got.length, 300);
      assert.deepEqual(startIndexes(f.calls), [1, 101, 131, 131, 101, 201, 301]);
    },
  );

  test('a page that has fewer resources when read again, before an empty page, is IncompleteListingError', async () => {
    const users = makeUsers(300);
    let reads = 0;
    const { c } = client(
      listServer(users, {
        cap: 100,
        override: (startIndex) => {
          if (startIndex === 101 && reads++ > 0)
            return scimJson(listResponse(users.slice(100, 150), { totalResults: 300 }));
          if (startIndex === 201) return scimJson(listResponse([], { totalResults: 300 }));
          return undefined;
        },
      }),
    );
    const { error } = await collectUntilError(c.users.list({ pageSize: 100 }));
    assert.ok(error instanceof IncompleteListingError);
    assert.match(error.message, /the page at startIndex 101 had 100 resources and now has 50/);
  });

  test(
    'a server whose pages keep coming back empty and then whole again cannot keep ' + 'the listing going for ever',
    async () => {
      const users = makeUsers(1000);
      const seenAt = new Map<number, number>();
      const { c } = client(
        listServer(users, {
          cap: 10,
          // Every page is empty the first time it is asked for.
          override: (startIndex) => {
            const n = (seenAt.get(startIndex) ?? 0) + 1;
            seenAt.set(startIndex, n);
            return n === 1 ? scimJson(listResponse([], { totalResults: 1000 })) : undefined;
          },
        }),
      );
      const { items, error } = await collectUntilError(c.users.list({ pageSize: 10 }));
      assert.ok(error instanceof IncompleteListingError);
      assert.match(error.message, /keep coming back empty or short/);
      assert.equal(items.length, 50);
    },
  );

  test(
    'totalResults under-reported (capped) needs no second reads: received >= ' + 'totalResults ends at the empty page',
    async () => {
      const users = makeUsers(150);
      const { c, f } = client(listServer(users, { cap: 50, totalResults: 50 }));
      assert.equal((await c.users.toArray({ pageSize: 50 })).length, 150);
      assert.deepEqual(startIndexes(f.calls), [1, 51, 101, 151]);
    },
  );

  test('an empty listing is one request', async () => {
    const { c, f } = client(() => scimJson({ schemas: [SCHEMA.LIST_RESPONSE], totalResults: 0 }));
    assert.deepEqual(await c.users.toArray(), []);
    assert.equal(f.calls.length, 1);
  });

  test('limit is respected and the count of the last page is reduced', async () => {
    const users = makeUsers(500);
    const { c, f } = client(listServer(users));
    const got = await c.users.toArray({ pageSize: 50, limit: 120 });
    assert.deepEqual(ids(got), ids(users.slice(0, 120)));
    assert.deepEqual(counts(f.calls), [50, 50, 20]);
    assert.deepEqual(startIndexes(f.calls), [1, 51, 101]);
  });

  test('duplicates across pages (a list shifting while paged) are yielded once', async () => {
    const users = makeUsers(100);
    // Page 2 starts one resource early (something was inserted at the front meanwhile).
    const { c, f } = client(
      listServer(users, {
        cap: 50,
        override: (startIndex) =>
          startIndex === 51
            ? scimJson(listResponse(users.slice(49, 99), { totalResults: 101 }))
            : startIndex === 101
              ? scimJson(listResponse(users.slice(99), { totalResults: 101 }))
              : undefined,
      }),
    );
    const got = await c.users.toArray({ pageSize: 50 });
    assert.deepEqual(ids(got), ids(users));
    assert.equal(new Set(ids(got)).size, got.length);
    assert.deepEqual(startIndexes(f.calls), [1, 51, 101, 102]);
  });

  test('query parameters: filter, attributes, excludedAttributes, sortBy, sortOrder', async () => {
    const { c, f } = client(listServer(makeUsers(3)));
    await c.users.toArray({
      filter: eq('userName', 'a"b'),
      attributes: ['userName', 'emails'],
      excludedAttributes: ['groups'],
      sortBy: 'userName',
      sortOrder: 'descending',
      pageSize: 10,
    });
    const q = f.calls[0]!.url.searchParams;
    assert.equal(q.get('filter'), 'userName eq "a\\"b"');
    assert.equal(q.get('attributes'), 'userName,emails');
    assert.equal(q.get('excludedAttributes'), 'groups');
    assert.equal(q.get('sortBy'), 'userName');
    assert.equal(q.get('sortOrder'), 'descending');
    assert.equal(q.get('startIndex'), '1');
    assert.equal(q.get('count'), '10');
    assert.equal(q.get('cursor'), null);
  });

  test("the page size defaults from the server's advertised limits", async () => {
    const users = makeUsers(10);
    const { c, f } = client(listServer(users), { capabilities: caps((x) => (x.filter.maxResults = 25)) });
    await c.users.toArray({ pageSize: 500 });
    assert.deepEqual(counts(f.calls).slice(0, 1), [25]);
  });

  test('an invalid filter value fails before any request', async () => {
    const { c, f } = client(listServer(makeUsers(3)));
    await assert.rejects(c.users.toArray({ filter: gt('score', Number.NaN) }), ClientUsageError);
    assert.equal(f.calls.length, 0);
  });
});

describe('listings that cannot be completed', () => {
  test(
    'a page failing mid-listing (500 on the 3rd page after retries) is ' +
      'IncompleteListingError, and nothing more is yielded',
    async () => {
      const users = makeUsers(150);
      const { c, f, s } = client(
        listServer(users, { override: (si) => (si === 101 ? scimError(500, 'db down') : undefined) }),
      );
      const it = c.users.list({ pageSize: 50 });
      const { items, error } = await collectUntilError(it);
      assert.equal(items.length, 100, 'the first two pages were yielded');
      assert.ok(error instanceof IncompleteListingError, String(error));
      assert.equal(error.received, 100);
      assert.ok(error.cause instanceof ScimError);
      assert.equal(error.cause.status, 500);
      assert.match(error.message, /stopped after 100 resources/);
      assert.match(error.message, /db down/);
      assert.equal(
        f.calls.filter((r) => r.url.searchParams.get('startIndex') === '101').length,
        5,
        'the failing page was retried first',
      );
      assert.equal(s.delays.length, 4);
      assert.deepEqual(await it.next(), { done: true, value: undefined });
      assert.equal(f.calls.length, 7, 'no request after the failure');
    },
  );

  test('a failure on the first page rethrows the original error (401), not IncompleteListingError', async () => {
    const { c, f } = client(() => scimError(401, 'bad token'));
    const e = await rejection(c.users.toArray());
    assert.ok(e instanceof ScimError, String(e));
    assert.ok(!(e instanceof IncompleteListingError));
    assert.equal(e.status, 401);
    assert.equal(f.calls.length, 1);
  });

  test('a first page that keeps failing with 503 rethrows the 503 after the retries', async () => {
    const { c, f } = client(() => scimError(503), { retries: 2 });
    const e = await rejection(c.users.toArray());
    assert.ok(e instanceof ResponseError && !(e instanceof IncompleteListingError), String(e));
    assert.equal(e.status, 503);
    assert.equal(f.calls.length, 3);
  });

  test('a server ignoring startIndex (same page again) is IncompleteListingError, not an endless loop', async () => {
    const users = makeUsers(120);
    const { c, f } = client(listServer(users, { cap: 50, ignoreStartIndex: true }));
    const { items, error } = await collectUntilError(c.users.list({ pageSize: 50 }));
    assert.ok(error instanceof IncompleteListingError, String(error));
    assert.equal(error.received, 50);
    assert.equal(items.length, 50);
    assert.match(error.message, /ignore startIndex/);
    assert.equal(f.calls.length, 2);
  });

  test('400/404 at a startIndex past totalResults ends the listing when everything was received', async () => {
    for (const status of [400, 404]) {
      const users = makeUsers(100);
      const { c, f } = client(
        listServer(users, { cap: 50, pastEnd: () => scimError(status, 'startIndex out of range') }),
      );
      const got = await c.users.toArray({ pageSize: 50 });
      assert.deepEqual(ids(got), ids(users), String(status));
      assert.equal(f.calls.length, 3);
    }
  });

  test('400/404 past the end is an error when fewer than totalResults were received', async () => {
    const users = makeUsers(100);
    const { c } = client(listServer(users, { cap: 50, totalResults: 150, pastEnd: () => scimError(404) }));
    const { items, error } = await collectUntilError(c.users.list({ pageSize: 50 }));
    assert.equal(items.length, 100);
    assert.ok(error instanceof IncompleteListingError, String(error));
    assert.equal(error.received, 100);
    assert.ok(error.cause instanceof ScimError && error.cause.status === 404);
  });

  test('400 past the end without any totalResults is an error', async () => {
    const users = makeUsers(100);
    const { c } = client(listServer(users, { cap: 50, totalResults: null, pastEnd: () => scimError(400) }));
    const { error } = await collectUntilError(c.users.list({ pageSize: 50 }));
    assert.ok(error instanceof IncompleteListingError, String(error));
  });

  test('a 404 on the first page is the 404, not the end of an empty list', async () => {
    const { c } = client(() => scimError(404, 'no such endpoint'));
    const e = await rejection(c.users.toArray());
    assert.ok(e instanceof ScimError && e.status === 404);
  });
});

describe('list response validation', () => {
  test('Resources that is not an array, a resource without id, a non-object body', async () => {
    const bodies: Array<[unknown, RegExp]> = [
      [{ totalResults: 1, Resources: { id: 'u1' } }, /"Resources" is not an array/],
      [{ totalResults: 2, Resources: [{ id: 'u1' }, { userName: 'noid' }] }, /Resources\[1\] has no "id"/],
      [{ totalResults: 1, Resources: [{ id: '' }] }, /Resources\[0\] has no "id"/],
      [{ totalResults: 1, Resources: ['u1'] }, /Resources\[0\] is not an object/],
      [[{ id: 'u1' }], /must be a JSON object/],
    ];
    for (const [body, message] of bodies) {
      const { c } = client(() => scimJson(body));
      const e = await rejection(c.users.toArray());
      assert.ok(e instanceof ResponseValidationError, `${JSON.stringify(body)}: ${String(e)}`);
      assert.equal(e.status, 200);
      assert.match(e.message, message);
    }
  });

  test('an invalid page after good ones is IncompleteListingError caused by ResponseValidationError', async () => {
    const users = makeUsers(100);
    const { c } = client(
      listServer(users, {
        cap: 50,
        override: (si) => (si === 51 ? scimJson({ Resources: [{ displayName: 'x' }] }) : undefined),
      }),
    );
    const { items, error } = await collectUntilError(c.users.list({ pageSize: 50 }));
    assert.equal(items.length, 50);
    assert.ok(error instanceof IncompleteListingError);
    assert.ok(error.cause instanceof ResponseValidationError);
  });

  test('parseListResponse accepts a lowercase "resources" key and a missing one', () => {
    assert.deepEqual(parseListResponse({ resources: [{ id: 'a' }], totalResults: 1 }, 200).resources, [{ id: 'a' }]);
    const empty = parseListResponse({ totalResults: 0 }, 200);
    assert.deepEqual(empty.resources, []);
    assert.equal(empty.total, 0);
    assert.equal(
      parseListResponse({ Resources: [], totalResults: '5' }, 200).total,
      undefined,
      'a non-numeric total is not trusted',
    );
    assert.equal(parseListResponse({ Resources: [], nextCursor: '' }, 200).nextCursor, undefined);
  });
});

describe('cursor paging (RFC 9865)', () => {
  const cursorCaps = () => caps((x) => (x.pagination = { index: true, cursor: true }));

  /** A cursor server: cursor "" is the first page; each page names the next. */
  function cursorServer(
    users: ScimUser[],
    size: number,
    next: (page: number) => string | undefined = (p) => ((p + 1) * size < users.length ? `c${p + 1}` : undefined),
  ): Handler {
    return (req) => {
      const cursor = req.url.searchParams.get('cursor');
      assert.ok(cursor !== null, 'every request carries a cursor');
      const page = cursor === '' ? 0 : Number(cursor.slice(1));
      const body = listResponse(users.slice(page * size, (page + 1) * size), { totalResults: users.length });
      const n = next(page);
      if (n !== undefined) body.nextCursor = n;
      return scimJson(body);
    };
  }

  test('the first request has an empty cursor and a count; nextCursor is followed until absent', async () => {
    const users = makeUsers(25);
    const { c, f } = client(cursorServer(users, 10), { capabilities: cursorCaps() });
    const got = await c.users.toArray({ pageSize: 10 });
    assert.deepEqual(ids(got), ids(users));
    assert.equal(f.calls.length, 3);
    const first = f.calls[0]!.url;
    assert.ok(first.searchParams.has('cursor'));
    assert.equal(first.searchParams.get('cursor'), '');
    assert.equal(first.searchParams.get('count'), '10');
    assert.equal(first.searchParams.get('startIndex'), null, 'no startIndex with cursors');
    assert.deepEqual(
      f.calls.map((r) => r.url.searchParams.get('cursor')),
      ['', 'c1', 'c2'],
    );
  });

  test(
    'cursors that end short of totalResults (a page came back short): the listing ' +
      'is read again and completed, nothing twice',
    async () => {
      const users = makeUsers(25);
      const plain = cursorServer(users, 10);
      let cut = 0;
      const { c, f } = client(
        (req, i) => {
          const res = plain(req, i) as Response;
          // The first time, the page at c1 loses its last five resources on the way.
          if (req.url.searchParams.get('cursor') === 'c1' && cut++ === 0) {
            return res
              .json()
              .then((body) =>
                scimJson({ ...(body as object), Resources: (body as { Resources: unknown[] }).Resources.slice(0, 5) }),
              );
          }
          return res;
        },
        { capabilities: cursorCaps() },
      );
      const got = await c.users.toArray({ pageSize: 10 });
      assert.equal(got.length, 25);
      assert.deepEqual(ids(got).sort(), ids(users).sort());
      assert.deepEqual(
        f.calls.map((r) => r.url.searchParams.get('cursor')),
        ['', 'c1', 'c2', '', 'c1', 'c2'],
      );
    },
  );

  test('cursors that keep ending short of totalResults: IncompleteListingError after three passes', async () => {
    const users = makeUsers(25);
    const { c, f } = client(
      (req) => {
        const cursor = req.url.searchParams.get('cursor');
        // The server says 40 and ends after 25 (or keeps losing pages): never trusted as complete.
        const page = cursor === '' ? 0 : Number(cursor!.slice(1));
        const body = listResponse(users.slice(page * 10, (page + 1) * 10), { totalResults: 40 });
        if ((page + 1) * 10 < users.length) body.nextCursor = `c${page + 1}`;
        return scimJson(body);
      },
      { capabilities: cursorCaps() },
    );
    const { items, error } = await collectUntilError(c.users.list({ pageSize: 10 }));
    assert.ok(error instanceof IncompleteListingError);
    assert.match(error.message, /ended 3 times with fewer resources than totalResults \(40\)/);
    assert.equal(items.length, 25, 'nothing yielded twice');
    assert.equal(f.calls.length, 9);
  });

  test('a repeated cursor is an error, not a loop', async () => {
    const users = makeUsers(30);
    const { c, f } = client(
      cursorServer(users, 10, (p) => (p === 0 ? 'c1' : 'c1')),
      { capabilities: cursorCaps() },
    );
    const { items, error } = await collectUntilError(c.users.list({ pageSize: 10 }));
    assert.ok(error instanceof IncompleteListingError, String(error));
    assert.match(error.message, /same cursor/);
    assert.equal(items.length, 20);
    assert.equal(f.calls.length, 2);
  });

  test('a cursor cycle (c1 → c2 → c1) is an error, not a loop', async () => {
    const users = makeUsers(30);
    const { c, f } = client(
      cursorServer(users, 10, (p) => (p === 2 ? 'c1' : `c${p + 1}`)),
      { capabilities: cursorCaps() },
    );
    const { error } = await collectUntilError(c.users.list({ pageSize: 10 }));
    assert.ok(error instanceof IncompleteListingError, String(error));
    assert.ok(f.calls.length <= 4, `stopped after ${f.calls.length} requests`);
  });

  test('empty pages with ever-new cursors end in an error', async () => {
    const { c, f } = client(
      (req) =>
        scimJson(
          listResponse([], {
            totalResults: 5,
            nextCursor: `n${(req.url.searchParams.get('cursor') ?? '').length + 1}${'x'.repeat(f.calls.length)}`,
          }),
        ),
      { capabilities: cursorCaps() },
    );
    const { error } = await collectUntilError(c.users.list({ pageSize: 10 }));
    assert.ok(error instanceof IncompleteListingError, String(error));
    assert.ok(f.calls.length <= 5, `${f.calls.length} requests`);
  });

  test('the same resources again and again under ever-new cursors end in an error', async () => {
    const users = makeUsers(10);
    const { c, f } = client(() => scimJson(listResponse(users, { nextCursor: `k${f.calls.length}` })), {
      capabilities: cursorCaps(),
    });
    const { items, error } = await collectUntilError(c.users.list({ pageSize: 10 }));
    assert.equal(items.length, 10, 'each resource once');
    assert.ok(error instanceof IncompleteListingError, String(error));
    assert.ok(f.calls.length <= 5, `${f.calls.length} requests`);
  });

  test('a failing cursor page after the first is IncompleteListingError; 404 is not taken as the end', async () => {
    const users = makeUsers(30);
    const inner = cursorServer(users, 10);
    const { c } = client(
      (req, i) => (req.url.searchParams.get('cursor') === 'c2' ? scimError(404, 'cursor expired') : inner(req, i)),
      { capabilities: cursorCaps() },
    );
    const { items, error } = await collectUntilError(c.users.list({ pageSize: 10 }));
    assert.equal(items.length, 20);
    assert.ok(error instanceof IncompleteListingError, String(error));
    assert.equal(error.received, 20);
  });
});

describe('paginate directly', () => {
  test('works on any endpoint with a bare Transport', async () => {
    const groups = Array.from({ length: 7 }, (_, i) => ({ id: `g${i}`, displayName: `Group ${i}` }));
    const f = fakeFetch(listServer(groups as unknown as ScimUser[], { cap: 3 }));
    const t = new Transport({ baseUrl: BASE, fetch: f.fetch });
    const pages: PageInfo[] = [];
    const got = await collect(paginate(t, '/Groups', { pageSize: 5 }, (p) => pages.push({ ...p })));
    assert.deepEqual(ids(got), ids(groups));
    assert.ok(f.calls.every((r) => r.url.pathname === '/scim/v2/Groups'));
    assert.deepEqual(
      pages.map((p) => p.received),
      [3, 6, 7, 7],
    );
  });

  test('post: true sends SearchRequest bodies to {endpoint}/.search', async () => {
    const users = makeUsers(8);
    const f = fakeFetch(listServer(users, { cap: 5 }));
    const t = new Transport({ baseUrl: BASE, fetch: f.fetch });
    const got = await collect(
      paginate(t, '/Users', { pageSize: 5, post: true, filter: 'userName pr', attributes: ['userName'] }),
    );
    assert.deepEqual(ids(got), ids(users));
    assert.ok(
      f.calls.every((r) => r.method === 'POST' && r.url.pathname === '/scim/v2/Users/.search' && r.url.search === ''),
    );
    assert.deepEqual(f.json(0), {
      schemas: [SCHEMA.SEARCH_REQUEST],
      filter: 'userName pr',
      attributes: ['userName'],
      startIndex: 1,
      count: 5,
    });
    assert.equal((f.json(1) as { startIndex: number }).startIndex, 6);
  });
});

describe('long filters go to POST /.search', () => {
  /**
   * These tests are about where a long query goes: the fake answers it unfiltered, so its filter is taken as known to
   * work.
   */
  const trusting = (c: ScimClient) =>
    c.capabilities().then((k) => void (k.learned.filters['/Users'] = { eq: 'works', or: 'works' }));
  const longFilter = () =>
    or(...Array.from({ length: 80 }, (_, i) => eq('userName', `someone.with.a.long.name.${i}@example.com`)));

  test('a query URL over 2000 characters is sent as POST {endpoint}/.search', async () => {
    const users = makeUsers(12);
    const filter = longFilter();
    assert.ok(String(filter).length > 2000);
    const { c, f } = client(listServer(users, { cap: 5 }));
    await trusting(c);
    const got = await c.users.toArray({ filter, pageSize: 5 });
    assert.deepEqual(ids(got), ids(users));
    assert.ok(f.calls.length >= 3);
    for (const r of f.calls) {
      assert.equal(r.method, 'POST');
      assert.equal(r.url.pathname, '/scim/v2/Users/.search');
      assert.equal(r.url.searchParams.get('filter'), null, 'the filter is not in the URL');
    }
    const body = f.json(0) as Record<string, unknown>;
    assert.equal(body.filter, String(filter));
    assert.deepEqual(body.schemas, [SCHEMA.SEARCH_REQUEST]);
    assert.equal(body.count, 5);
    assert.equal(body.startIndex, 1);
    assert.equal(c.searchEndpointSupported, true);
  });

  test('a short query stays a GET', async () => {
    const { c, f } = client(listServer(makeUsers(2)));
    await c.users.toArray({ filter: eq('userName', 'x') });
    assert.equal(f.calls[0]!.method, 'GET');
    assert.equal(c.searchEndpointSupported, undefined);
  });

  test('when /.search answers 404 the listing falls back to GET, and later listings go straight to GET', async () => {
    const users = makeUsers(6);
    const inner = listServer(users, { cap: 5 });
    const { c, f } = client((req, i) => (req.method === 'POST' ? new Response('', { status: 404 }) : inner(req, i)));
    const filter = longFilter();
    await trusting(c);
    const got = await c.users.toArray({ filter, pageSize: 5 });
    assert.deepEqual(ids(got), ids(users));
    assert.equal(f.calls[0]!.method, 'POST');
    assert.deepEqual(
      f.calls.slice(1).map((r) => r.method),
      ['GET', 'GET', 'GET'],
    );
    assert.equal(f.calls[1]!.url.searchParams.get('filter'), String(filter));
    assert.equal(c.searchEndpointSupported, false);

    const before = f.calls.length;
    await c.users.toArray({ filter, pageSize: 5 });
    assert.ok(
      f.calls.slice(before).every((r) => r.method === 'GET'),
      'no second POST attempt',
    );
  });

  test('other /.search failures are not hidden by a fallback', async () => {
    const { c, f } = client((req) => (req.method === 'POST' ? scimError(401, 'nope') : scimJson(listResponse([]))));
    const e = await rejection(c.users.toArray({ filter: longFilter() }));
    assert.ok(e instanceof ScimError && e.status === 401);
    assert.ok(f.calls.every((r) => r.method === 'POST'));
  });
});

describe('a server that ignores startIndex', () => {
  test('is read to its end when totalResults agrees that everything arrived', async () => {
    const users = [
      { id: 'u1', userName: 'a' },
      { id: 'u2', userName: 'b' },
    ];
    let calls = 0;
    const client = new ScimClient({
      baseUrl: 'http://scim.test/v2',
      capabilities: defaultCapabilities(),
      fetch: async () => {
        calls++;
        return new Response(JSON.stringify({ schemas: [], totalResults: 2, Resources: users }), {
          status: 200,
          headers: { 'content-type': 'application/scim+json' },
        });
      },
    });
    const got = await client.users.toArray();
    assert.deepEqual(
      got.map((u) => u.id),
      ['u1', 'u2'],
    );
    assert.equal(calls, 2);
  });
});

/**
 * Listing every resource of a type, page by page (RFC 7644 §3.4.2.4 index paging,
 * RFC 9865 cursor paging). Written for the servers that exist: pages capped below
 * the requested count, `itemsPerPage`/`totalResults` that lie, servers that return
 * everything at once. It trusts the resources it receives and stops on an empty
 * page. A page that fails aborts the listing: a partial list is never complete.
 *
 * When an empty page arrives while `totalResults` says more remain (received < totalResults),
 * index paging does not take it on trust; it weighs the evidence:
 *  1. The empty page is read again. Resources now: it was lost on its way; go on.
 *  2. Still empty, and it is the first page: IncompleteListingError.
 *  3. Otherwise the page before it is read again. More resources now than the first time: that
 *     page had come back short; take it whole and go on from its end. Fewer: the server is
 *     losing resources: IncompleteListingError.
 *  4. The same: if that page was full (as many as asked, or as many as the longest page before
 *     it, a server's cap), a full page followed by an empty one cannot be the end when
 *     totalResults says more: IncompleteListingError. If it was short, the server ended the list
 *     itself and its totalResults over-states (counting, say, resources it does not list): the end.
 * At most MAX_REREADS such second reads per listing, then IncompleteListingError. An empty page
 * with totalResults met or under-reported (capped), or absent, is the end without a second read.
 * The one case this cannot tell from an over-stated total is a server whose listing really ends
 * on a full page: it gets the error (safe: nothing is planned from a listing in doubt).
 * Cursor paging ends where the server gives no next cursor. A cursor page cannot be asked for
 * again, so when the cursors end with fewer resources than totalResults the listing is read
 * again from the start, yielding only resources not yet seen; after MAX_CURSOR_PASSES passes
 * still short of totalResults, IncompleteListingError (so an over-stated total on a cursor
 * server costs three passes and fails, rather than be trusted).
 */
import { IncompleteListingError, ResponseError, ResponseValidationError } from './errors.ts';
import type { Transport } from './http.ts';
import { SCHEMA, type ScimResource } from './types.ts';

export interface ListParams {
  filter?: string;
  attributes?: string[];
  excludedAttributes?: string[];
  sortBy?: string;
  sortOrder?: 'ascending' | 'descending';
  /** Resources per request (the server may return fewer). */
  pageSize: number;
  /** Stop after this many resources. */
  limit?: number;
  /** Use RFC 9865 cursors instead of startIndex. */
  cursor?: boolean;
  /** Send queries as POST {endpoint}/.search instead of GET. */
  post?: boolean;
}

export interface PageInfo {
  /** Resources received so far (after this page). */
  received: number;
  /** The server's totalResults, if it sent one (it may be wrong). */
  total: number | undefined;
}

interface Page {
  resources: ScimResource[];
  total: number | undefined;
  nextCursor: string | undefined;
}

export function parseListResponse(body: unknown, status: number): Page {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new ResponseValidationError(status, ['a list response must be a JSON object']);
  }
  const b = body as Record<string, unknown>;
  const raw = b.Resources ?? b.resources ?? [];
  if (!Array.isArray(raw)) throw new ResponseValidationError(status, ['"Resources" is not an array']);
  const issues: string[] = [];
  raw.forEach((r, i) => {
    if (!r || typeof r !== 'object' || Array.isArray(r)) issues.push(`Resources[${i}] is not an object`);
    else if (typeof (r as { id?: unknown }).id !== 'string' || (r as { id: string }).id === '')
      issues.push(`Resources[${i}] has no "id"`);
  });
  if (issues.length > 0) throw new ResponseValidationError(status, issues);
  const total = typeof b.totalResults === 'number' ? b.totalResults : undefined;
  const nextCursor = typeof b.nextCursor === 'string' && b.nextCursor !== '' ? b.nextCursor : undefined;
  return { resources: raw as ScimResource[], total, nextCursor };
}

function requestParams(
  params: ListParams,
  position: { startIndex?: number; cursor?: string },
  count: number,
): Record<string, string | number | undefined> {
  return {
    filter: params.filter,
    attributes: params.attributes?.join(','),
    excludedAttributes: params.excludedAttributes?.join(','),
    sortBy: params.sortBy,
    sortOrder: params.sortOrder,
    startIndex: position.startIndex,
    cursor: position.cursor,
    count,
  };
}

/** Empty pages read again in one listing, at most (each costs one or two requests). */
const MAX_REREADS = 5;
/** Passes over a cursor listing whose cursors end short of totalResults, at most. */
const MAX_CURSOR_PASSES = 3;

async function fetchPage(
  transport: Transport,
  endpoint: string,
  params: ListParams,
  position: { startIndex?: number; cursor?: string },
  count: number,
): Promise<Page> {
  const query = requestParams(params, position, count);
  if (params.post) {
    const body: Record<string, unknown> = { schemas: [SCHEMA.SEARCH_REQUEST] };
    for (const [k, v] of Object.entries(query)) if (v !== undefined) body[k] = v;
    if (params.attributes) body.attributes = params.attributes;
    if (params.excludedAttributes) body.excludedAttributes = params.excludedAttributes;
    const res = await transport.request('POST', `${endpoint}/.search`, { body, expect: [200], idempotent: true });
    return parseListResponse(res.body, res.status);
  }
  const res = await transport.request('GET', endpoint, { query, expect: [200] });
  return parseListResponse(res.body, res.status);
}

/**
 * Yields every resource of `endpoint` matching the params. `onPage` is told after
 * each page (for progress). Throws IncompleteListingError when a page fails after
 * some resources were already yielded.
 */
export async function* paginate(
  transport: Transport,
  endpoint: string,
  params: ListParams,
  onPage?: (info: PageInfo) => void,
): AsyncGenerator<ScimResource, void, undefined> {
  const seen = new Set<string>();
  let received = 0;
  let total: number | undefined;
  const limit = params.limit ?? Infinity;
  const what = `${endpoint}${params.filter ? ` (filter ${params.filter})` : ''}`;
  const incomplete = (reason: string, cause?: unknown) =>
    new IncompleteListingError(`listing ${what} stopped after ${received} resources: ${reason}`, received, cause);

  let startIndex = 1;
  let cursor: string | undefined = params.cursor ? '' : undefined;
  let emptyCursorPages = 0;
  const usedCursors = new Set<string>();
  /** The last page read by index: where it started, what was asked and how many came. */
  let previous: { startIndex: number; count: number; length: number; longestBefore: number } | undefined;
  /** The longest page so far: what the server shows it sends when it has enough. */
  let longest = 0;
  /** Pages that turned out to have come back short, read again (bounded: a listing must end). */
  let rereads = 0;
  /** Cursor paging: passes over the listing that ended short of totalResults, and pages read. */
  let cursorPasses = 0;
  let cursorPages = 0;
  let firstPassPages: number | undefined;

  const read = async (position: { startIndex?: number; cursor?: string }, count: number): Promise<Page> => {
    try {
      return await fetchPage(transport, endpoint, params, position, count);
    } catch (e) {
      if (received === 0 && seen.size === 0) throw e;
      throw incomplete(e instanceof Error ? e.message : String(e), e);
    }
  };

  while (received < limit) {
    const count = Math.max(1, Math.min(params.pageSize, limit - received));
    let page: Page;
    try {
      page = await fetchPage(transport, endpoint, params, cursor !== undefined ? { cursor } : { startIndex }, count);
    } catch (e) {
      // Some servers answer a startIndex past the end with 400/404 instead of an empty page.
      const pastEnd =
        cursor === undefined &&
        total !== undefined &&
        received >= total &&
        e instanceof ResponseError &&
        (e.status === 400 || e.status === 404);
      if (pastEnd) return;
      if (received === 0 && seen.size === 0) throw e;
      throw incomplete(e instanceof Error ? e.message : String(e), e);
    }
    total = page.total ?? total;

    if (cursor === undefined && page.resources.length === 0 && total !== undefined && received < total) {
      // An empty page while totalResults says more remain: the end, or a page lost on its way?
      if (++rereads > MAX_REREADS)
        throw incomplete(`pages keep coming back empty or short although totalResults is ${total}`);
      const again = await read({ startIndex }, count);
      if (again.resources.length > 0) {
        page = again;
      } else if (previous === undefined) {
        throw incomplete(`the first page came back empty twice although totalResults is ${total}`);
      } else {
        const before = await read({ startIndex: previous.startIndex }, previous.count);
        const full =
          previous.length >= previous.count ||
          (previous.longestBefore > 0 && previous.length >= previous.longestBefore);
        if (before.resources.length > previous.length) {
          // The page before had come back short: take it again, whole, and go on from its end.
          page = before;
          startIndex = previous.startIndex;
        } else if (before.resources.length < previous.length) {
          throw incomplete(
            `the page at startIndex ${previous.startIndex} had ${previous.length} ` +
              `resources and now has ${before.resources.length}, and the next one is empty ` +
              `although totalResults is ${total}`,
          );
        } else if (full) {
          throw incomplete(
            `the page at startIndex ${startIndex} came back empty twice after a full page, ` +
              `although totalResults is ${total}`,
          );
        } else {
          // A short page, read twice alike, then an empty page read twice: the server's own end.
          // Its totalResults over-states what it lists.
          onPage?.({ received, total });
          return;
        }
      }
    }

    let fresh = 0;
    for (const resource of page.resources) {
      if (seen.has(resource.id)) continue;
      seen.add(resource.id);
      fresh++;
      received++;
      yield resource;
      if (received >= limit) break;
    }
    onPage?.({ received, total });
    if (received >= limit) return;

    if (cursor !== undefined) {
      cursorPages++;
      if (page.nextCursor === undefined) {
        if (total === undefined || received >= total) return;
        // The cursors ended short of totalResults: a page may have come back short or empty on
        // its way (a cursor page cannot be asked for again). Read the listing again from the
        // start; what was yielded already is not yielded twice.
        if (++cursorPasses >= MAX_CURSOR_PASSES) {
          throw incomplete(
            `the cursor listing ended ${MAX_CURSOR_PASSES} times with fewer resources than totalResults (${total})`,
          );
        }
        firstPassPages ??= cursorPages;
        cursorPages = 0;
        cursor = '';
        usedCursors.clear();
        emptyCursorPages = 0;
        continue;
      }
      if (page.nextCursor === cursor) throw incomplete('the server returned the same cursor twice');
      // A cursor seen before means a loop (c1 → c2 → c1 …); so do pages that bring nothing new.
      usedCursors.add(cursor);
      if (usedCursors.has(page.nextCursor))
        throw incomplete(`the server returned cursor "${page.nextCursor}" again (the listing would loop)`);
      if (firstPassPages === undefined) {
        emptyCursorPages = fresh === 0 ? emptyCursorPages + 1 : 0;
        if (emptyCursorPages > 3)
          throw incomplete('the server keeps returning pages with nothing new and a next cursor');
      } else if (cursorPages > firstPassPages * 2 + 10) {
        // A second pass brings mostly resources already had; it is bounded by the first one instead.
        throw incomplete('reading the cursor listing again, the server keeps returning pages');
      }
      cursor = page.nextCursor;
      continue;
    }

    if (page.resources.length === 0) return;
    previous = { startIndex, count, length: page.resources.length, longestBefore: longest };
    longest = Math.max(longest, page.resources.length);
    if (fresh === 0) {
      // A whole page of resources we already had: the server ignores startIndex. When its
      // totalResults says we have them all, that is the end; otherwise we cannot know what is missing.
      if (total !== undefined && received >= total) return;
      throw incomplete(
        `the page at startIndex ${startIndex} repeats resources already received (the ` +
          `server seems to ignore startIndex)`,
      );
    }
    startIndex += page.resources.length;
  }
}

/**
 * Test doubles for the unit tests: a fake fetch that records every request,
 * SCIM JSON responses, a recording sleep, and small SCIM fixtures.
 */
import assert from 'node:assert/strict';
import { defaultCapabilities, type Capabilities } from '../../src/api/discovery.ts';
import { SCHEMA, type ScimResource, type ScimUser } from '../../src/api/types.ts';

export interface FakeRequest {
  method: string;
  url: URL;
  headers: Headers;
  /** The request body as text, or undefined when there was none. */
  body: string | undefined;
  signal: AbortSignal;
}

export type Handler = (req: FakeRequest, index: number) => Response | Promise<Response>;

export interface FakeFetch {
  fetch: typeof globalThis.fetch;
  calls: FakeRequest[];
  /** Parsed JSON body of call i. */
  json(i: number): unknown;
}

/** A fetch that hands each request to `handler` (which may throw to simulate network errors). */
export function fakeFetch(handler: Handler): FakeFetch {
  const calls: FakeRequest[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    const text = request.body === null ? undefined : await request.text();
    const req: FakeRequest = {
      method: request.method,
      url: new URL(request.url),
      headers: request.headers,
      body: text === '' ? undefined : text,
      signal: request.signal,
    };
    calls.push(req);
    return handler(req, calls.length - 1);
  }) as typeof globalThis.fetch;
  return {
    fetch,
    calls,
    json: (i) => {
      const body = calls[i]?.body;
      assert.ok(body !== undefined, `call ${i} has a body`);
      return JSON.parse(body) as unknown;
    },
  };
}

/** A real Response with a SCIM JSON body. */
export function scimJson(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/scim+json', ...headers },
  });
}

/** A SCIM error response (RFC 7644 §3.12). */
export function scimError(
  status: number,
  detail?: string,
  scimType?: string,
  headers: Record<string, string> = {},
): Response {
  const body: Record<string, unknown> = { schemas: [SCHEMA.ERROR], status: String(status) };
  if (detail !== undefined) body.detail = detail;
  if (scimType !== undefined) body.scimType = scimType;
  return scimJson(body, status, headers);
}

export function htmlResponse(html: string, status: number): Response {
  return new Response(html, { status, headers: { 'content-type': 'text/html; charset=utf-8' } });
}

/** A network failure as Node's fetch reports it: TypeError('fetch failed') with a coded cause. */
export function networkError(code: string, message = `connect ${code} 10.0.0.1:443`): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });
}

export interface RecordingSleep {
  sleep: (ms: number) => Promise<void>;
  delays: number[];
}

/** A sleep that records what it was asked to wait and resolves at once. */
export function recordingSleep(): RecordingSleep {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms: number) => {
      delays.push(ms);
    },
  };
}

export const BASE = 'https://scim.example.test/scim/v2';

export function listResponse(resources: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { schemas: [SCHEMA.LIST_RESPONSE], totalResults: resources.length, Resources: resources, ...extra };
}

export function makeUser(i: number, extra: Partial<ScimUser> = {}): ScimUser {
  return { schemas: [SCHEMA.USER], id: `u${String(i).padStart(4, '0')}`, userName: `user${i}@example.com`, ...extra };
}

export function makeUsers(n: number): ScimUser[] {
  return Array.from({ length: n }, (_, i) => makeUser(i + 1));
}

/** Capabilities that need no discovery, with optional changes. */
export function caps(change: (c: Capabilities) => void = () => undefined): Capabilities {
  const c = defaultCapabilities();
  change(c);
  return c;
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Reads an iterator until it throws; returns what was yielded and the error (asserting it threw). */
export async function collectUntilError<T>(it: AsyncIterable<T>): Promise<{ items: T[]; error: unknown }> {
  const items: T[] = [];
  try {
    for await (const x of it) items.push(x);
  } catch (error) {
    return { items, error };
  }
  assert.fail(`expected the iteration to fail, but it yielded ${items.length} items and ended`);
}

/** Awaits a promise that must reject; returns the rejection. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.fail('expected a rejection');
}

export function ids(resources: ScimResource[]): string[] {
  return resources.map((r) => r.id);
}

export { prng } from '../../src/util/prng.ts';

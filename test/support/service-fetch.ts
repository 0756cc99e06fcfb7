/**
 * A fetch that answers from a ScimService in this process, the way `scimctl serve` answers over
 * HTTP (src/server/http.ts): bearer token, base path, JSON bodies, SCIM errors. No socket is
 * opened, so a command runs in-process against a real SCIM server in milliseconds.
 */
import {
  BASE_PATH,
  outsideBase,
  parseBody,
  SCIM_CONTENT_TYPE,
  serviceRequest,
  unauthorised,
} from '../../src/server/http.ts';
import { ScimService, type ServiceResponse } from '../../src/server/service.ts';
import { Store } from '../../src/server/store.ts';

export interface ServiceFetchOptions {
  /** The bearer token clients must send (none: every request is let in). */
  token?: string;
}

/** Every request the fetch answered: method, path below the base URL, status. */
export interface ServedRequest {
  method: string;
  path: string;
  status: number;
}

export function serviceFetch(
  service: ScimService,
  options: ServiceFetchOptions = {},
): { fetch: typeof globalThis.fetch; requests: ServedRequest[] } {
  const requests: ServedRequest[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url);
    const path = url.pathname.slice(BASE_PATH.length) || '/';
    const head = request.method === 'HEAD';
    const result = await answer(request, url);
    requests.push({ method: request.method, path, status: result.status });
    return toResponse(result, head);
  };

  async function answer(request: Request, url: URL): Promise<ServiceResponse> {
    if (options.token !== undefined && request.headers.get('authorization') !== `Bearer ${options.token}`)
      return unauthorised();
    const outside = outsideBase(url.pathname);
    if (outside) return outside;
    const raw = request.body === null ? '' : await request.text();
    const parsed = parseBody(raw);
    if ('refusal' in parsed) return parsed.refusal;
    const header = (name: string) => request.headers.get(name) ?? undefined;
    return service.handle(serviceRequest(request.method, url, header, parsed.body, Buffer.byteLength(raw)));
  }

  return { fetch: fetch as typeof globalThis.fetch, requests };
}

function toResponse(r: ServiceResponse, headOnly: boolean): Response {
  const headers = new Headers(r.headers);
  if (r.body === undefined) return new Response(null, { status: r.status, headers });
  headers.set('Content-Type', SCIM_CONTENT_TYPE);
  return new Response(headOnly ? null : JSON.stringify(r.body), { status: r.status, headers });
}

/** A SCIM service over an in-memory store, at `baseUrl` (used for meta.location; nothing listens there). */
export async function memoryService(baseUrl: string): Promise<ScimService> {
  const service = new ScimService(await Store.open());
  service.baseUrl = baseUrl;
  return service;
}

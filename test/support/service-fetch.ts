/**
 * A fetch that answers from a ScimService in this process, the way `scimctl serve` answers over
 * HTTP (src/server/http.ts): bearer token, base path, JSON bodies, SCIM errors. No socket is
 * opened, so a command runs in-process against a real SCIM server in milliseconds.
 */
import { BASE_PATH } from '../../src/server/http.ts';
import { ScimHttpError } from '../../src/server/resources.ts';
import { errorResponse, ScimService, type ServiceResponse } from '../../src/server/service.ts';
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
    const result = await answer(request, url, path);
    requests.push({ method: request.method, path, status: result.status });
    return toResponse(result, head);
  };

  async function answer(request: Request, url: URL, path: string): Promise<ServiceResponse> {
    if (options.token !== undefined && request.headers.get('authorization') !== `Bearer ${options.token}`) {
      return errorResponse(
        new ScimHttpError(401, 'a valid bearer token is required (Authorization: Bearer …)', undefined, {
          'WWW-Authenticate': 'Bearer realm="scimctl"',
        }),
      );
    }
    if (url.pathname !== BASE_PATH && !url.pathname.startsWith(`${BASE_PATH}/`)) {
      return errorResponse(new ScimHttpError(404, `the SCIM endpoints are under ${BASE_PATH}`));
    }
    const raw = request.body === null ? '' : await request.text();
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        return errorResponse(new ScimHttpError(400, 'the request body is not valid JSON', 'invalidSyntax'));
      }
    }
    return service.handle({
      method: request.method === 'HEAD' ? 'GET' : request.method,
      path,
      query: url.searchParams,
      ifMatch: request.headers.get('if-match') ?? undefined,
      ifNoneMatch: request.headers.get('if-none-match') ?? undefined,
      body,
      bodySize: Buffer.byteLength(raw),
    });
  }

  return { fetch: fetch as typeof globalThis.fetch, requests };
}

function toResponse(r: ServiceResponse, headOnly: boolean): Response {
  const headers = new Headers(r.headers);
  if (r.body === undefined) return new Response(null, { status: r.status, headers });
  headers.set('Content-Type', 'application/scim+json; charset=utf-8');
  return new Response(headOnly ? null : JSON.stringify(r.body), { status: r.status, headers });
}

/** A SCIM service over an in-memory store, at `baseUrl` (used for meta.location; nothing listens there). */
export async function memoryService(baseUrl: string): Promise<ScimService> {
  const service = new ScimService(await Store.open());
  service.baseUrl = baseUrl;
  return service;
}

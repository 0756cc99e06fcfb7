/**
 * `scimctl serve` on a socket: node:http, bearer-token auth compared in constant time,
 * JSON bodies in and out, SCIM errors for everything that goes wrong (RFC 7644 §3.12).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { redact } from '../api/redact.ts';
import { ScimHttpError } from './resources.ts';
import {
  errorResponse,
  ScimService,
  type ServiceOptions,
  type ServiceRequest,
  type ServiceResponse,
} from './service.ts';
import type { Store } from './store.ts';

export const BASE_PATH = '/scim/v2';
/** Bodies above this are refused before they are read whole (Bulk has its own, smaller limit). */
const MAX_BODY = 16 * 1024 * 1024;

export interface ServerOptions extends ServiceOptions {
  store: Store;
  token: string;
  host?: string;
  port?: number;
  /** One line per request (method, path, status, milliseconds) goes here when set. */
  logRequest?: (line: string) => void;
  /** Runs before each request is handled (e.g. to notice that a served file changed). */
  beforeRequest?: () => Promise<void>;
}

export interface RunningServer {
  /** The base URL, e.g. http://127.0.0.1:8080/scim/v2 */
  url: string;
  port: number;
  service: ScimService;
  /** Stops accepting requests and ends open connections (the store stays open). */
  close(): Promise<void>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/*
 * One request's way to the service, shared with the in-process fetch of the tests
 * (test/support/service-fetch.ts): who may pass, where the endpoints are, the body, the request.
 */

/** The answer to a request without the bearer token. */
export const unauthorised = (): ServiceResponse =>
  errorResponse(
    new ScimHttpError(401, 'a valid bearer token is required (Authorization: Bearer …)', undefined, {
      'WWW-Authenticate': 'Bearer realm="scimctl"',
    }),
  );

/** The answer to a request outside the base path; undefined for one inside it. */
export const outsideBase = (pathname: string): ServiceResponse | undefined =>
  pathname === BASE_PATH || pathname.startsWith(`${BASE_PATH}/`)
    ? undefined
    : errorResponse(new ScimHttpError(404, `the SCIM endpoints are under ${BASE_PATH}`));

/** A request body as JSON (none when empty), or the 400 that answers it. */
export function parseBody(raw: string): { body?: unknown } | { refusal: ServiceResponse } {
  if (raw.length === 0) return {};
  try {
    return { body: JSON.parse(raw) };
  } catch {
    return { refusal: errorResponse(new ScimHttpError(400, 'the request body is not valid JSON', 'invalidSyntax')) };
  }
}

/** What the service is asked, from the HTTP method, URL, a header reader and the body (HEAD is a GET). */
export const serviceRequest = (
  method: string,
  url: URL,
  header: (name: string) => string | undefined,
  body: unknown,
  bodySize: number,
): ServiceRequest => ({
  method: method === 'HEAD' ? 'GET' : method,
  path: url.pathname.slice(BASE_PATH.length) || '/',
  query: url.searchParams,
  ifMatch: header('if-match'),
  ifNoneMatch: header('if-none-match'),
  body,
  bodySize,
});

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const service = new ScimService(options.store, options);
  const expected = digest(options.token);
  const authorised = (header: string | undefined) => {
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    return m !== null && timingSafeEqual(digest(m[1]!), expected);
  };

  // What a client sent is logged with the server's token and anything credential-shaped
  // (?access_token=, ?client_secret=, …) masked: logs are read by more people than the token is.
  const masked = (text: string) => redact(text, [options.token]);
  const server = createServer((req, res) => {
    const started = performance.now();
    void respond(req, res).then(
      (status) =>
        options.logRequest?.(
          masked(`${req.method} ${req.url} ${status} ${Math.round(performance.now() - started)} ms`),
        ),
      (e: unknown) => {
        options.logError?.(
          masked(`${req.method} ${req.url}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
        );
        if (!res.headersSent)
          send(
            res,
            errorResponse(new ScimHttpError(500, 'the server failed to handle this request; its log says why')),
          );
        else res.destroy();
      },
    );
  });

  async function respond(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refusal = !authorised(req.headers.authorization) ? unauthorised() : outsideBase(url.pathname);
    if (refusal) {
      req.resume();
      return send(res, refusal);
    }
    await options.beforeRequest?.();
    let raw: Buffer;
    try {
      raw = await readBody(req);
    } catch (e) {
      if (e instanceof ScimHttpError) return send(res, errorResponse(e));
      throw e;
    }
    const parsed = parseBody(raw.toString('utf8'));
    if ('refusal' in parsed) return send(res, parsed.refusal);
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(',') : v;
    };
    const method = req.method ?? 'GET';
    const result = await service.handle(serviceRequest(method, url, header, parsed.body, raw.length));
    return send(res, result, method === 'HEAD');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}${BASE_PATH}`;
  service.baseUrl = url;
  return {
    url,
    port: address.port,
    service,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Reads a request body. One over the limit is answered 413 at once, and the rest of it is
 * still read and thrown away (up to four times the limit) on a connection kept open, so a
 * client that is still sending gets the answer instead of a reset.
 */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    const refuse = () => {
      over = true;
      chunks.length = 0;
      reject(new ScimHttpError(413, `the request body is larger than ${MAX_BODY} bytes`));
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (over) {
        if (size > 4 * MAX_BODY) req.destroy();
        return;
      }
      if (size > MAX_BODY) refuse();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', (e) => {
      if (!over) reject(e);
    });
    if (declared > MAX_BODY) refuse();
  });
}

function send(res: ServerResponse, r: ServiceResponse, headOnly = false): number {
  const headers: Record<string, string> = { ...r.headers };
  if (r.body === undefined) {
    res.writeHead(r.status, headers).end();
    return r.status;
  }
  const text = JSON.stringify(r.body);
  headers['Content-Type'] = SCIM_CONTENT_TYPE;
  headers['Content-Length'] = String(Buffer.byteLength(text));
  // HEAD: the headers a GET would have, no body (RFC 9110 §9.3.2).
  res.writeHead(r.status, headers).end(headOnly ? undefined : text);
  return r.status;
}

/**
 * The HTTP transport of the SCIM client: one place for auth headers, timeouts,
 * retries with backoff and Retry-After, content-type checks and error mapping.
 * Built on ky with its own retry switched off: SCIM needs a stricter policy
 * (POST and PATCH are retried only when the server says it did not act).
 */
import type { KyInstance } from 'ky';
import {
  ClientUsageError,
  isTlsVerificationError,
  NetworkError,
  ResponseError,
  ScimClientError,
  ScimError,
  TimeoutError,
  TLS_CODES,
  UnexpectedContentTypeError,
  UnexpectedStatusError,
} from './errors.ts';
import { redact } from './redact.ts';

export type Auth =
  { type: 'none' } | { type: 'bearer'; token: string } | { type: 'basic'; username: string; password: string };

export interface RetryInfo {
  method: string;
  url: string;
  /** The retry this pause comes before (1 for the first); the request's attempt after the pause is attempt + 1. */
  attempt: number;
  /** How many attempts a request gets in all (the first and its retries). */
  attempts: number;
  delayMs: number;
  reason: string;
}

export interface TransportOptions {
  /** Base URL of the SCIM service, e.g. https://example.com/scim/v2 */
  baseUrl: string;
  auth?: Auth;
  /** Extra headers sent with every request (values are treated as secrets in messages). */
  headers?: Record<string, string>;
  /** Per-request timeout in milliseconds. Default 30 s. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 4. */
  retries?: number;
  /** Backoff base and cap in milliseconds. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Longest Retry-After we are willing to wait; longer ones fail the request. Default 120 s. */
  maxRetryAfterMs?: number;
  userAgent?: string;
  /** Injection points for tests. */
  fetch?: typeof globalThis.fetch;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Called before each retry (for logs and progress). */
  onRetry?: (info: RetryInfo) => void;
  /** Writes in flight at first (a limit learned before); unlimited when not given. */
  writeLimit?: number;
  /** Told when the server's answers made the write limit go down (see WriteGate). */
  onWriteLimit?: (limit: number, reason: string) => void;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Statuses that mean success for this operation. */
  expect: readonly number[];
  /** Safe to repeat after a network error or a 5xx (GET, PUT, DELETE, POST /.search). */
  idempotent?: boolean;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  /** Parsed JSON body, or undefined for an empty body. */
  body: unknown;
}

const JSON_TYPES = /^application\/(scim\+)?json\b|\+json\b/i;
const MAX_SNIPPET = 300;

// ky builds Request/Response objects when it loads, which starts Node's fetch
// machinery: load it on the first request, not at start-up.
let kyModule: Promise<{ ky: KyInstance; TimeoutError: new (...args: never[]) => Error }> | undefined;
const loadKy = () => (kyModule ??= import('ky').then((m) => ({ ky: m.default, TimeoutError: m.TimeoutError })));

/** A pause that ends early (resolving) when `signal` aborts, leaving no timer and no listener behind. */
export const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Redirects followed within one attempt (same-origin only). */
const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Parses a Retry-After header (delta-seconds or HTTP-date) into milliseconds. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value == null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Makes a short, single-line, tag-free excerpt of a body for messages. */
export function snippet(text: string): string {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1];
  const plain = (title ?? text.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
  return plain.length > MAX_SNIPPET ? `${plain.slice(0, MAX_SNIPPET)}…` : plain;
}

/**
 * How many writes may be in flight: additive increase, multiplicative decrease. Servers that
 * answer 500 ("database is locked") or 429 when several writes arrive at once do fine one or
 * two at a time; halving on every such answer and growing back by one after a run of
 * successes finds the level a server takes, within whatever concurrency the caller asked for.
 */
export class WriteGate {
  private inFlight = 0;
  private successes = 0;
  private readonly waiting: Array<() => void> = [];
  /** Successes in a row before one more write may be in flight. */
  static readonly GROW_AFTER = 20;

  constructor(
    /** Infinity until the server shows a limit. */
    public limit = Infinity,
    private readonly onLower?: (limit: number, reason: string) => void,
  ) {}

  /** Waits for a free slot (handed over by release, already counted as in flight). */
  async acquire(): Promise<void> {
    if (this.inFlight < Math.floor(this.limit)) {
      this.inFlight++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Ends one write; `overloaded` when the server answered it with a 5xx or 429 (or not in time). */
  release(overloaded: boolean, reason = ''): void {
    const concurrent = this.inFlight;
    this.inFlight--;
    if (overloaded) {
      this.successes = 0;
      // One write failing alone says nothing about writes at once: only a failure among several lowers the limit.
      const lower = Math.max(1, Math.floor(Math.min(this.limit, concurrent) / 2));
      if (concurrent > 1 && lower < this.limit) {
        this.limit = lower;
        this.onLower?.(lower, reason);
      }
    } else if (Number.isFinite(this.limit) && ++this.successes >= WriteGate.GROW_AFTER) {
      this.successes = 0;
      this.limit += 1;
    }
    while (this.waiting.length > 0 && this.inFlight < Math.floor(this.limit)) {
      this.inFlight++;
      this.waiting.shift()!();
    }
  }

  /** Lets every waiting write go (the transport is closing: they fail at once). */
  drain(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** An answer whose body broke off or was not whole JSON (see readJson). */
const isCutShort = (e: unknown): boolean => (e as { cutShort?: unknown } | null)?.cutShort === true;
/** Answers that mean "too much at once", as far as a write can tell. */
const overloadStatus = (status: number) => status === 429 || (status >= 500 && status !== 501);

export class Transport {
  readonly baseUrl: string;
  private readonly secrets: string[];
  private readonly baseHeaders: Record<string, string>;
  private readonly opts: Required<
    Pick<TransportOptions, 'timeoutMs' | 'retries' | 'backoffBaseMs' | 'backoffMaxMs' | 'maxRetryAfterMs'>
  >;
  private readonly fetchFn: typeof globalThis.fetch;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly onRetry: ((info: RetryInfo) => void) | undefined;
  /** Aborted by close(): ends requests in flight and retry pauses. */
  private readonly closing = new AbortController();
  /** Retry pauses under way, cut short by close(). */
  private readonly pauses = new Set<AbortController>();
  /** Writes in flight, kept to what the server takes. */
  readonly writes: WriteGate;

  constructor(options: TransportOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.opts = {
      timeoutMs: options.timeoutMs ?? 30_000,
      retries: options.retries ?? 4,
      backoffBaseMs: options.backoffBaseMs ?? 500,
      backoffMaxMs: options.backoffMaxMs ?? 30_000,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 120_000,
    };
    this.fetchFn = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.onRetry = options.onRetry;
    this.writes = new WriteGate(options.writeLimit ?? Infinity, options.onWriteLimit);
    this.secrets = [];
    this.baseHeaders = {
      accept: 'application/scim+json, application/json;q=0.9',
      'user-agent': options.userAgent ?? 'scimctl',
    };
    const auth = options.auth ?? { type: 'none' };
    if (auth.type === 'bearer') {
      this.baseHeaders.authorization = `Bearer ${auth.token}`;
      this.secrets.push(auth.token);
    } else if (auth.type === 'basic') {
      const encoded = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
      this.baseHeaders.authorization = `Basic ${encoded}`;
      // The whole credential too: a server may echo "user:password" (or the header's base64 of it).
      this.secrets.push(auth.password, `${auth.username}:${auth.password}`, encoded);
    }
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      this.baseHeaders[name.toLowerCase()] = value;
      this.secrets.push(value);
    }
    // The echoed forms of each (percent-encoded in URLs, base64, another case) are masked by redact().
  }

  /** Redacts this transport's secrets (and anything credential-shaped) from a text. */
  redact(text: string): string {
    return redact(text, this.secrets);
  }

  /** Absolute URL for a path relative to the base (or an absolute URL on the same origin). */
  url(path: string, query?: RequestOptions['query']): string {
    const url = /^https?:\/\//i.test(path)
      ? new URL(path)
      : new URL(this.baseUrl + (path.startsWith('/') ? path : `/${path}`));
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  async request(method: string, path: string, options: RequestOptions): Promise<HttpResult> {
    const url = this.url(path, options.query);
    const idempotent = options.idempotent ?? ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'].includes(method);
    const headers: Record<string, string> = { ...this.baseHeaders, ...options.headers };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/scim+json';
    }

    const { ky, TimeoutError: KyTimeoutError } = await loadKy();
    /** An earlier attempt of this write may have been carried out (it got a 5xx or no answer). */
    let uncertain = false;
    for (let attempt = 0; ; attempt++) {
      this.checkOpen(method, url);
      // POST /.search is a read.
      const gated = WRITES.has(method) && !/\/\.search$/.test(new URL(url).pathname);
      if (gated) {
        await this.writes.acquire();
        this.checkOpen(method, url);
      }
      let response: Response;
      try {
        response = await this.send(ky, method, url, headers, body);
      } catch (cause) {
        if (cause instanceof ScimClientError) {
          // A redirect scimctl does not follow: nothing to repeat.
          if (gated) this.writes.release(false);
          throw cause;
        }
        if (gated) this.writes.release(cause instanceof KyTimeoutError, 'no answer in time');
        this.checkOpen(method, url);
        const error = this.requestError(
          cause instanceof KyTimeoutError ? new TimeoutError('timeout', this.opts.timeoutMs) : cause,
          method,
          url,
        );
        // A certificate that is not trusted will not become trusted by asking again.
        if (isTlsVerificationError(error)) throw error;
        // A request that timed out or broke may have reached the server: only idempotent ones are repeated.
        if (idempotent && attempt < this.opts.retries) {
          uncertain = true;
          await this.pause(method, url, attempt, this.backoff(attempt), error.message);
          continue;
        }
        throw error;
      }

      if (gated) this.writes.release(overloadStatus(response.status), `HTTP ${response.status}`);
      if (options.expect.includes(response.status)) {
        let parsed: unknown;
        try {
          parsed = await this.readJson(response, method, url);
        } catch (error) {
          // An answer cut short (the connection broke mid-body, or JSON that ends early) is asked
          // for again like a 5xx when the request may be repeated; a write's answer is not.
          if (idempotent && attempt < this.opts.retries && isCutShort(error)) {
            if (WRITES.has(method)) uncertain = true;
            await this.pause(method, url, attempt, this.backoff(attempt), (error as Error).message);
            continue;
          }
          throw error;
        }
        return { status: response.status, headers: response.headers, body: parsed };
      }

      const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
      const retryable =
        response.status === 429 ||
        (response.status === 503 && retryAfter !== undefined) ||
        (idempotent && response.status >= 500 && response.status !== 501);
      if (retryable && attempt < this.opts.retries) {
        if (retryAfter !== undefined && retryAfter > this.opts.maxRetryAfterMs) {
          throw await this.responseError(
            response,
            method,
            url,
            ` (the server asked to retry after ${Math.round(retryAfter / 1000)} s)`,
          );
        }
        await response.body?.cancel().catch(() => undefined);
        if (response.status >= 500 && response.status !== 503) uncertain = true;
        const delay = retryAfter ?? this.backoff(attempt);
        await this.pause(method, url, attempt, delay, `HTTP ${response.status}`);
        continue;
      }
      const error = await this.responseError(response, method, url);
      error.afterUncertainAttempt = uncertain && WRITES.has(method);
      throw error;
    }
  }

  /**
   * One attempt: the request, and the redirects it meets. Redirects are followed by hand
   * (`redirect: 'manual'`), only to the same origin (scheme, host and port) and at most
   * MAX_REDIRECTS times: every header goes with them, credentials included, so a redirect to
   * another origin is refused instead. 303 turns the request into a GET, as do 301 and 302 for
   * a POST (the fetch standard); 307 and 308 keep the method and the body.
   */
  private async send(
    ky: KyInstance,
    method: string,
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<Response> {
    const origin = new URL(url).origin;
    let current = { method, url, body, headers };
    for (let hops = 0; ; hops++) {
      const response = await ky(current.url, {
        method: current.method,
        headers: current.headers,
        body: current.body,
        timeout: this.opts.timeoutMs,
        retry: 0,
        throwHttpErrors: false,
        fetch: this.fetchFn,
        signal: this.closing.signal,
        redirect: 'manual',
      });
      const location = REDIRECTS.has(response.status) ? response.headers.get('location') : null;
      if (location === null || location.trim() === '') return response;
      await response.body?.cancel().catch(() => undefined);
      const status = response.status;
      let next: URL;
      try {
        next = new URL(location.trim(), current.url);
      } catch {
        throw this.tag(
          new UnexpectedStatusError(
            status,
            '',
            `the server redirected (HTTP ${status}) to an invalid location "${snippet(location)}"`,
          ),
          method,
          url,
        );
      }
      if (next.origin !== origin) {
        throw this.tag(
          new UnexpectedStatusError(
            status,
            '',
            `the server redirected (HTTP ${status}) to another origin, ${next.origin}: not ` +
              `followed, because this request's credentials and headers would be sent there. ` +
              `If that is where the SCIM service now lives, change the profile's URL to it`,
          ),
          method,
          url,
        );
      }
      if (hops >= MAX_REDIRECTS)
        throw this.tag(
          new UnexpectedStatusError(
            status,
            '',
            `the server redirected more than ${MAX_REDIRECTS} times (last to ${next.pathname})`,
          ),
          method,
          url,
        );
      const toGet =
        (status === 303 && current.method !== 'HEAD') ||
        ((status === 301 || status === 302) && current.method === 'POST');
      if (toGet) {
        const { 'content-type': _dropped, ...rest } = current.headers;
        current = { method: 'GET', url: next.toString(), body: undefined, headers: rest };
      } else {
        current = { ...current, url: next.toString() };
      }
    }
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** attempt);
    // "Equal jitter": never less than half the ceiling, so retries do spread out but never hammer.
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  private async pause(method: string, url: string, attempt: number, delayMs: number, reason: string): Promise<void> {
    this.checkOpen(method, url);
    this.onRetry?.({
      method,
      url: this.redact(url),
      attempt: attempt + 1,
      attempts: this.opts.retries + 1,
      delayMs,
      reason: this.redact(reason),
    });
    // Each pause has a signal of its own, aborted by close(): many pauses at once add no
    // listeners to one shared signal (no MaxListenersExceededWarning, nothing left behind).
    const pause = new AbortController();
    this.pauses.add(pause);
    try {
      await this.sleep(delayMs, pause.signal);
    } finally {
      this.pauses.delete(pause);
    }
    this.checkOpen(method, url);
  }

  /**
   * Ends the transport: requests in flight are aborted, retry pauses cut short, and every
   * request from now on fails at once (e.g. when the TUI closes with pages still loading).
   */
  close(): void {
    this.closing.abort();
    for (const pause of this.pauses) pause.abort();
    this.writes.drain();
  }

  /** Retries after the first attempt this transport makes. */
  get retries(): number {
    return this.opts.retries;
  }

  /**
   * The pause before attempt `attempt + 1` of a request retried by its caller (a create that
   * was looked up after a 5xx and not found). Told to onRetry like the transport's own.
   */
  async retryPause(method: string, path: string, attempt: number, reason: string): Promise<void> {
    await this.pause(method, this.url(path), attempt, this.backoff(attempt), reason);
  }

  private checkOpen(method: string, url: string): void {
    if (this.closing.signal.aborted) throw this.tag(new ClientUsageError('the SCIM client was closed'), method, url);
  }

  private tag<E extends ScimClientError>(error: E, method: string, url: string): E {
    error.message = this.redact(error.message);
    error.request = { method, url: this.redact(url) };
    return error;
  }

  private requestError(cause: unknown, method: string, url: string): ScimClientError {
    if (cause instanceof TimeoutError || (cause instanceof Error && cause.name === 'TimeoutError')) {
      return this.tag(
        new TimeoutError(`no response within ${this.opts.timeoutMs / 1000} s`, this.opts.timeoutMs),
        method,
        url,
      );
    }
    // fetch reports "fetch failed" with the socket error as its cause: take the code from the cause
    // whatever its class (an injected fetch, or another realm, may not give an Error instance).
    const inner =
      cause instanceof Error && typeof cause.cause === 'object' && cause.cause !== null ? cause.cause : cause;
    const code = (inner as { code?: unknown } | undefined)?.code;
    const text = inner instanceof Error ? inner.message : cause instanceof Error ? cause.message : String(inner);
    if (typeof code === 'string' && TLS_CODES.has(code)) {
      const host = new URL(url).host;
      return this.tag(
        new NetworkError(
          `the TLS certificate of ${host} could not be verified (${code}: ${text}). ` +
            `Retrying will not help: if the server uses a private or self-signed CA, ` +
            `set NODE_EXTRA_CA_CERTS to that CA's PEM file; if the certificate has expired ` +
            `or names another host, it must be fixed on the server`,
          code,
        ),
        method,
        url,
      );
    }
    const reason =
      code === 'ECONNREFUSED'
        ? `connection refused by ${new URL(url).host} (is the server running?)`
        : code === 'ENOTFOUND'
          ? `host ${new URL(url).hostname} not found`
          : typeof code === 'string'
            ? `${code}: ${text}`
            : text;
    return this.tag(
      new NetworkError(`cannot reach the server: ${reason}`, typeof code === 'string' ? code : undefined),
      method,
      url,
    );
  }

  private async readJson(response: Response, method: string, url: string): Promise<unknown> {
    let text: string;
    try {
      text = await response.text();
    } catch (cause) {
      // The connection broke while the body was arriving: the server answered (and may have acted).
      const error = this.requestError(cause, method, url);
      error.message = `the answer was cut off: ${error.message}`;
      throw Object.assign(error, { cutShort: true });
    }
    if (text.trim() === '') return undefined;
    const contentType = response.headers.get('content-type') ?? '';
    try {
      return JSON.parse(text);
    } catch {
      const json = JSON_TYPES.test(contentType);
      const error = json
        ? new UnexpectedStatusError(
            response.status,
            snippet(this.redact(text)),
            `the server sent malformed JSON (HTTP ${response.status})`,
          )
        : new UnexpectedContentTypeError(response.status, contentType, snippet(this.redact(text)));
      // JSON that stops early (a body cut short on its way) is worth asking for again.
      if (json) Object.assign(error, { cutShort: true });
      throw this.tag(error, method, url);
    }
  }

  private async responseError(response: Response, method: string, url: string, suffix = ''): Promise<ResponseError> {
    const status = response.status;
    const text = await response.text().catch(() => '');
    const contentType = response.headers.get('content-type') ?? '';
    let error: ResponseError;
    let parsed: unknown;
    try {
      parsed = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (parsed !== undefined && typeof parsed === 'object' && parsed !== null) {
      const body = parsed as {
        status?: unknown;
        scimType?: unknown;
        detail?: unknown;
        message?: unknown;
        error?: unknown;
      };
      const detail = [body.detail, body.message, body.error].find((v) => typeof v === 'string') as string | undefined;
      const scimType = typeof body.scimType === 'string' ? body.scimType : undefined;
      // The HTTP status wins over the body's: servers send bodies without status, or with a stale one.
      error = new ScimError(status, scimType, detail === undefined ? undefined : this.redact(detail));
    } else if (text.trim() !== '' && !JSON_TYPES.test(contentType)) {
      error = new UnexpectedContentTypeError(status, contentType, snippet(this.redact(text)));
    } else {
      error = new UnexpectedStatusError(status, snippet(this.redact(text)));
    }
    error.message += suffix;
    return this.tag(error, method, url);
  }
}

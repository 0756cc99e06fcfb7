/**
 * The client's error tree. Request errors (network, timeout) happen before a
 * response exists; response errors carry the HTTP status. Messages are always
 * redacted by the transport before an error is thrown.
 */

export type ErrorKind =
  | 'network'
  | 'timeout'
  | 'scim'
  | 'unexpected-status'
  | 'unexpected-content-type'
  | 'response-validation'
  | 'not-found'
  | 'ambiguous'
  | 'incomplete-listing'
  | 'usage';

export abstract class ScimClientError extends Error {
  abstract readonly kind: ErrorKind;
  /** Method and URL of the request that failed, when there was one. */
  request?: { method: string; url: string };
}

/**
 * TLS failures that repeating will not fix: the server's certificate is not trusted here
 * (private CA, self-signed, expired, wrong name). Never retried; the message says what to do.
 */
export const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

/** Base for errors that happen before a response exists: the server could not be reached in time. */
export abstract class RequestError extends ScimClientError {}

/** The request never got a response: refused, reset, DNS, TLS. */
export class NetworkError extends RequestError {
  readonly kind = 'network';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'NetworkError';
  }
}

/** No response within the per-request timeout. */
export class TimeoutError extends RequestError {
  readonly kind = 'timeout';
  constructor(
    message: string,
    readonly timeoutMs: number,
  ) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/** Base for errors that come with an HTTP response. */
export abstract class ResponseError extends ScimClientError {
  /**
   * Set when this answer came to a repeat of a write whose earlier attempt may have been carried
   * out (a 5xx or no answer): a 412 then may mean the write itself changed the resource.
   */
  afterUncertainAttempt = false;
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** A response with the SCIM Error schema (RFC 7644 §3.12), or a JSON error body we could read. */
export class ScimError extends ResponseError {
  readonly kind = 'scim';
  constructor(
    status: number,
    readonly scimType: string | undefined,
    readonly detail: string | undefined,
    message?: string,
  ) {
    super(message ?? `${status}${scimType ? ` ${scimType}` : ''}${detail ? `: ${detail}` : ''}`, status);
    this.name = 'ScimError';
  }
}

/** A status the operation does not expect, with a body that is not a SCIM error. */
export class UnexpectedStatusError extends ResponseError {
  readonly kind = 'unexpected-status';
  constructor(
    status: number,
    readonly bodySnippet: string,
    message?: string,
  ) {
    super(message ?? `unexpected HTTP status ${status}${bodySnippet ? `: ${bodySnippet}` : ''}`, status);
    this.name = 'UnexpectedStatusError';
  }
}

/** The body is not JSON, e.g. an HTML page from a proxy or a login portal. */
export class UnexpectedContentTypeError extends ResponseError {
  readonly kind = 'unexpected-content-type';
  constructor(
    status: number,
    readonly contentType: string,
    readonly bodySnippet: string,
  ) {
    super(
      `expected a JSON response but got ${contentType || 'no content type'} (HTTP ` +
        `${status})${bodySnippet ? `: ${bodySnippet}` : ''}`,
      status,
    );
    this.name = 'UnexpectedContentTypeError';
  }
}

/** The body is JSON but not of the shape the operation promises. */
export class ResponseValidationError extends ResponseError {
  readonly kind = 'response-validation';
  constructor(
    status: number,
    readonly issues: string[],
  ) {
    super(`the server's response does not look like SCIM: ${issues.slice(0, 3).join('; ')}`, status);
    this.name = 'ResponseValidationError';
  }
}

/** A name or id that matched no resource. */
export class NotFoundError extends ScimClientError {
  readonly kind = 'not-found';
  constructor(
    readonly resourceType: string,
    readonly ref: string,
    /** A name close to `ref` that does exist ("did you mean"). */
    readonly suggestion?: string,
  ) {
    super(`no ${resourceType} matches "${ref}"${suggestion ? `; did you mean "${suggestion}"?` : ''}`);
    this.name = 'NotFoundError';
  }
}

/** A name that matched several resources. */
export class AmbiguousError extends ScimClientError {
  readonly kind = 'ambiguous';
  constructor(
    readonly resourceType: string,
    readonly ref: string,
    readonly candidates: Array<{ id: string; label: string }>,
  ) {
    super(
      `"${ref}" matches ${candidates.length} ${resourceType}s; name one by id:\n` +
        candidates.map((c) => `  ${c.id}  ${c.label}`).join('\n'),
    );
    this.name = 'AmbiguousError';
  }
}

/** A listing that could not be read to its end. Never treat what was read as complete. */
export class IncompleteListingError extends ScimClientError {
  readonly kind = 'incomplete-listing';
  constructor(
    message: string,
    readonly received: number,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'IncompleteListingError';
  }
}

/** A caller mistake detected before any request (bad filter attribute, bad option). */
export class ClientUsageError extends ScimClientError {
  readonly kind = 'usage';
  constructor(message: string) {
    super(message);
    this.name = 'ClientUsageError';
  }
}

/** True for a NetworkError that is a TLS certificate verification failure (the request never reached the server). */
export function isTlsVerificationError(e: unknown): boolean {
  return e instanceof NetworkError && e.code !== undefined && TLS_CODES.has(e.code);
}

export function isScimClientError(e: unknown): e is ScimClientError {
  return e instanceof ScimClientError;
}

/** True for response errors with one of the given statuses. */
export function hasStatus(e: unknown, ...statuses: number[]): e is ResponseError {
  return e instanceof ResponseError && statuses.includes(e.status);
}

/** A server's way of saying "I don't understand this filter": 400 invalidFilter, 501, or a 500 crash. */
export function isFilterRejection(e: unknown): boolean {
  if (!(e instanceof ResponseError)) return false;
  if (e instanceof ScimError && e.scimType === 'invalidFilter') return true;
  return e.status === 400 || e.status === 500 || e.status === 501;
}

/**
 * Errors after which a write may still have been carried out by the server (a POST is looked up before it is sent
 * again).
 */
export function mayHaveActed(e: unknown): boolean {
  if (e instanceof TimeoutError) return true;
  if (e instanceof NetworkError)
    return e.code !== 'ECONNREFUSED' && e.code !== 'ENOTFOUND' && !isTlsVerificationError(e);
  return e instanceof ResponseError && e.status >= 500 && e.status !== 501;
}

/** scimctl's SCIM 2.0 client, usable as a library. */
export * from './client.ts';
export * from './discovery.ts';
export * from './errors.ts';
export * from './filter.ts';
export {
  Transport,
  parseRetryAfter,
  type Auth,
  type TransportOptions,
  type RequestOptions,
  type HttpResult,
  type RetryInfo,
} from './http.ts';
export { paginate, parseListResponse, type ListParams, type PageInfo } from './paging.ts';
export * from './patch.ts';
export { redact, redactHeaders, maskToken } from './redact.ts';
export * from './resolve.ts';
export * from './schema.ts';
export * from './types.ts';

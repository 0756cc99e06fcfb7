/**
 * The connection to a directory: ldap:// (with StartTLS), ldaps://, a CA, a bind, and searches
 * read page by page (RFC 2696). Everything else in src/sources/ldap talks to a DirectoryClient,
 * so that its logic can be tested with recorded entries and a fake client.
 *
 * - TLS is always verified (rejectUnauthorized, the host name checked); a CA file adds the
 *   certificates to trust. StartTLS is required by default for ldap:// to a host that is not the
 *   loopback (127.0.0.0/8, ::1, localhost); `startTls: false` turns that off explicitly.
 * - The password is a value the caller resolved (an environment variable, a file, stdin): it is
 *   never in argv and never in a message. An anonymous bind happens only with `anonymous: true`.
 * - Failures say what to fix: the host/port (LdapConnectionError), the CA (LdapTlsError), the bind
 *   DN/password (LdapBindError). See errors.ts.
 * - A search never returns less than the server has: a size or time limit, any result other than
 *   success, or the connection lost (however far the read got) throws LdapReadError. The client
 *   does not connect again on its own once the connection is lost (ldapts would, unbound).
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import {
  Client,
  InvalidCredentialsError,
  ResultCodeError,
  SizeLimitExceededError,
  TimeLimitExceededError,
  type Entry,
} from 'ldapts';
import { TLS_CODES } from '../../api/errors.ts';
import { LdapBindError, LdapConnectionError, LdapReadError, LdapSettingsError, LdapTlsError } from './errors.ts';

export type Scope = 'base' | 'one' | 'sub';

/** One attribute of an entry as the server named it (with options such as `;range=0-1499`), its values as read. */
export interface RawAttribute {
  name: string;
  values: Array<string | Buffer>;
}

/** An entry: its DN and its attributes by lower-case name (options included). */
export interface RawEntry {
  dn: string;
  attributes: Map<string, RawAttribute>;
}

export interface SearchRequest {
  base: string;
  scope: Scope;
  filter: string;
  attributes: string[];
  /** Attributes read as bytes (objectGUID). */
  binary?: string[];
  /** Page size of the paged-results control; 0 reads without paging (a server size limit then throws). */
  pageSize: number;
}

export interface DirectoryClient {
  /** The entries of a search, a page at a time. Throws LdapReadError when the read cannot reach its end. */
  search(request: SearchRequest): AsyncGenerator<RawEntry[]>;
  close(): Promise<void>;
}

export interface ConnectionSettings {
  /** ldap://HOST[:PORT] or ldaps://HOST[:PORT] (a path, the base DN, is ignored here). */
  url: string;
  bindDn?: string;
  /** The bind password, as the caller resolved it. */
  password?: string;
  /** Bind anonymously (no bind DN, no password). Only when asked for. */
  anonymous?: boolean;
  /** Default: true for ldap:// to a host other than the loopback. */
  startTls?: boolean;
  /** A PEM file of CA certificates to trust (besides the system's). */
  caFile?: string;
  /** Milliseconds for the TCP connection, and for each operation (default 30 s / 5 min). */
  connectTimeoutMs?: number;
  timeoutMs?: number;
}

export interface LdapUrl {
  secure: boolean;
  host: string;
  port: number;
  /** The base DN the URL names (its path), if any. */
  baseDn?: string;
  /** scheme://host:port, for messages and the client. */
  address: string;
}

/** Parses ldap://HOST[:PORT][/BASE_DN] or ldaps://…; throws LdapSettingsError. */
export function parseLdapUrl(url: string): LdapUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new LdapSettingsError(
      `"${url}" is not an LDAP URL: write ldap://HOST:PORT/BASE_DN or ldaps://HOST:PORT/BASE_DN`,
    );
  }
  const scheme = parsed.protocol.toLowerCase();
  if (scheme !== 'ldap:' && scheme !== 'ldaps:')
    throw new LdapSettingsError(`"${url}" is not an LDAP URL: the scheme must be ldap:// or ldaps://`);
  if (!parsed.hostname) throw new LdapSettingsError(`"${url}" names no host: write ldap://HOST:PORT/BASE_DN`);
  if (parsed.username || parsed.password)
    throw new LdapSettingsError('an LDAP URL takes no user or password: give the bind DN and the password separately');
  const secure = scheme === 'ldaps:';
  const port = parsed.port ? Number(parsed.port) : secure ? 636 : 389;
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const path = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  const address = `${secure ? 'ldaps' : 'ldap'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { secure, host, port, ...(path ? { baseDn: path } : {}), address };
}

/** 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Names of the LDAP result codes a read may end with (RFC 4511). */
const RESULT_NAMES: Record<number, string> = {
  1: 'operationsError',
  2: 'protocolError',
  3: 'timeLimitExceeded',
  4: 'sizeLimitExceeded',
  11: 'adminLimitExceeded',
  12: 'unavailableCriticalExtension',
  32: 'noSuchObject',
  34: 'invalidDNSyntax',
  50: 'insufficientAccessRights',
  51: 'busy',
  52: 'unavailable',
  53: 'unwillingToPerform',
  80: 'other',
};

/** Whether a connection does StartTLS: ldap:// to a host other than the loopback, unless told otherwise. */
export function usesStartTls(where: LdapUrl, setting: boolean | undefined): boolean {
  return !where.secure && (setting ?? !isLoopback(where.host));
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
  'EPIPE',
]);

function codeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** An error of the connection phase (before the bind answered) as a class that names what to fix. */
function connectionError(
  e: unknown,
  where: LdapUrl,
  tls: 'none' | 'ldaps' | 'starttls',
  caFile: string | undefined,
): Error {
  const code = codeOf(e);
  const reason = e instanceof Error ? e.message : String(e);
  if (code !== undefined && (TLS_CODES.has(code) || /^ERR_(SSL|TLS)_|^ERR_OSSL/.test(code))) {
    const fix =
      code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH'
        ? `the certificate is not for ${where.host}: connect by the name the certificate carries`
        : caFile !== undefined
          ? `the CA file ${caFile} does not vouch for this server's certificate: give the CA that issued it`
          : "the server's certificate is not signed by a CA trusted here: give the CA that " +
            'issued it (the CA file setting, --ldap-ca)';
    return new LdapTlsError(`TLS with ${where.address} failed (${code}): ${fix}`, code, e);
  }
  if (e instanceof ResultCodeError && tls === 'starttls') {
    return new LdapTlsError(
      `${where.address} refused StartTLS (${reason}): the server needs a certificate for StartTLS, or use ldaps://`,
      code,
      e,
    );
  }
  if (code !== undefined && NETWORK_CODES.has(code)) {
    const what =
      code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? `the host ${where.host} is not known`
        : code === 'ECONNREFUSED'
          ? `nothing answers on ${where.host} port ${where.port}`
          : `the connection failed (${code})`;
    return new LdapConnectionError(
      `cannot reach the directory at ${where.address}: ${what}; check the host and port`,
      code,
      e,
    );
  }
  if (/timed out|timeout/i.test(reason))
    return new LdapConnectionError(
      `cannot reach the directory at ${where.address}: no answer in time; check the host and port`,
      'ETIMEDOUT',
      e,
    );
  if (tls !== 'none' && /closed|socket|disconnect/i.test(reason)) {
    return new LdapTlsError(
      `TLS with ${where.address} failed: the server closed the connection during the ` +
        `handshake (${reason}); is this a TLS port, and is the CA right?`,
      code,
      e,
    );
  }
  return new LdapConnectionError(`cannot talk to the directory at ${where.address}: ${reason}`, code, e);
}

/** TLS options for host: always verified, with the CA file's certificates when given. */
function tlsOptions(host: string, ca: Buffer | undefined): ConnectionOptions {
  return {
    host,
    ...(isIP(host) === 0 ? { servername: host } : {}),
    rejectUnauthorized: true,
    ...(ca ? { ca: [ca] } : {}),
  };
}

/** Connects and binds. Throws LdapSettingsError, LdapConnectionError / LdapTlsError or LdapBindError. */
export async function connectDirectory(settings: ConnectionSettings): Promise<DirectoryClient> {
  const where = parseLdapUrl(settings.url);
  if (where.secure && settings.startTls === true)
    throw new LdapSettingsError('StartTLS is for ldap://; an ldaps:// connection is TLS already');
  const startTls = usesStartTls(where, settings.startTls);
  const anonymous = settings.anonymous === true;
  if (anonymous && (settings.bindDn !== undefined || settings.password !== undefined))
    throw new LdapSettingsError('an anonymous bind takes no bind DN or password: give one or the other');
  if (!anonymous && (settings.bindDn === undefined || settings.bindDn.trim() === ''))
    throw new LdapSettingsError('no bind DN: give the DN to bind as (or ask for an anonymous bind)');
  if (!anonymous && (settings.password === undefined || settings.password === ''))
    throw new LdapSettingsError(
      `no password for ${settings.bindDn}: give it by environment variable, file or ` +
        `stdin (an empty password would be an unauthenticated bind)`,
    );
  let ca: Buffer | undefined;
  if (settings.caFile !== undefined) {
    try {
      ca = await readFile(settings.caFile);
    } catch (e) {
      throw new LdapSettingsError(
        `cannot read the CA file ${settings.caFile}: ${codeOf(e) ?? (e instanceof Error ? e.message : String(e))}`,
      );
    }
    if (!ca.toString('latin1').includes('-----BEGIN CERTIFICATE-----'))
      throw new LdapSettingsError(
        `the CA file ${settings.caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
      );
  }
  const client = new Client({
    url: where.address,
    connectTimeout: settings.connectTimeoutMs ?? 30_000,
    timeout: settings.timeoutMs ?? 300_000,
    strictDN: false,
    ...(where.secure ? { tlsOptions: tlsOptions(where.host, ca) } : {}),
  });
  const tls = where.secure ? 'ldaps' : startTls ? 'starttls' : 'none';
  try {
    if (startTls) await client.startTLS(tlsOptions(where.host, ca));
  } catch (e) {
    await client.unbind().catch(() => {});
    throw connectionError(e, where, tls, settings.caFile);
  }
  try {
    if (anonymous) await client.bind('', '');
    else await client.bind(settings.bindDn!, settings.password!);
  } catch (e) {
    await client.unbind().catch(() => {});
    if (e instanceof InvalidCredentialsError) {
      throw new LdapBindError(
        `${where.address} refused the bind as ${settings.bindDn ?? 'anonymous'}: ` +
          `invalid credentials (LDAP result 49); check the bind DN and the password`,
        49,
        settings.bindDn,
      );
    }
    if (e instanceof ResultCodeError) {
      const fix = anonymous
        ? 'the server does not allow anonymous binds: give a bind DN and password'
        : 'check the bind DN and the password, and that this account may bind';
      throw new LdapBindError(
        `${where.address} refused the bind as ${settings.bindDn ?? 'anonymous'}: ` +
          `${e.message} (LDAP result ${e.code}); ${fix}`,
        e.code,
        settings.bindDn,
      );
    }
    throw connectionError(e, where, tls, settings.caFile);
  }
  return new LdaptsDirectory(client, where);
}

/** An ldapts entry as a RawEntry. */
export function rawEntry(entry: Entry): RawEntry {
  const attributes = new Map<string, RawAttribute>();
  for (const [name, value] of Object.entries(entry)) {
    if (name === 'dn') continue;
    const values = (Array.isArray(value) ? value : [value]) as Array<string | Buffer>;
    if (values.length === 0) continue;
    attributes.set(name.toLowerCase(), { name, values });
  }
  return { dn: entry.dn, attributes };
}

class LdaptsDirectory implements DirectoryClient {
  constructor(
    private readonly client: Client,
    private readonly where: LdapUrl,
  ) {}

  async *search(request: SearchRequest): AsyncGenerator<RawEntry[]> {
    let received = 0;
    const what = `the search under ${request.base} for ${request.filter}`;
    const fail = (e: unknown): LdapReadError => {
      if (e instanceof LdapReadError) return e;
      if (e instanceof SizeLimitExceededError) {
        const why = request.pageSize > 0 ? ' in spite of paging' : ' (paging is off: turn it on, or raise the limit)';
        return new LdapReadError(
          `${what} hit the server's size limit${why}; nothing read is used`,
          received,
          e,
          e.code,
        );
      }
      if (e instanceof TimeLimitExceededError)
        return new LdapReadError(`${what} hit the server's time limit; nothing read is used`, received, e, e.code);
      if (e instanceof ResultCodeError) {
        const hint =
          e.code === 32
            ? `: ${request.base} is not there, or this bind may not see it`
            : e.code === 50
              ? ': this bind may not read it'
              : e.code === 12
                ? ': the server does not support a control it was sent (paging?)'
                : '';
        const said = e.message.trim() && !/^Code: 0x/.test(e.message.trim()) ? ` — ${e.message.trim()}` : '';
        const name = RESULT_NAMES[e.code] ?? 'LDAP result';
        return new LdapReadError(
          `${what} failed after ${received} entries: ${name} (${e.code})${hint}${said}; nothing read is used`,
          received,
          e,
          e.code,
        );
      }
      const reason = e instanceof Error ? e.message : String(e);
      return new LdapReadError(
        `the connection to ${this.where.address} was lost during ${what} after ` +
          `${received} entries (${reason}); nothing read is used`,
        received,
        e,
      );
    };
    // ldapts would connect again, unbound, when the connection is gone: never read that way.
    const connected = () => {
      if (!this.client.isConnected) throw fail(new Error('not connected'));
    };
    connected();
    const options = {
      scope: request.scope,
      filter: request.filter,
      attributes: request.attributes,
      ...(request.binary && request.binary.length > 0 ? { explicitBufferAttributes: request.binary } : {}),
    };
    try {
      if (request.pageSize > 0) {
        const pages = this.client.searchPaginated(request.base, { ...options, paged: { pageSize: request.pageSize } });
        for (;;) {
          connected();
          const next = await pages.next();
          if (next.done) break;
          received += next.value.searchEntries.length;
          yield next.value.searchEntries.map(rawEntry);
        }
      } else {
        const result = await this.client.search(request.base, options);
        received = result.searchEntries.length;
        yield result.searchEntries.map(rawEntry);
      }
    } catch (e) {
      throw fail(e);
    }
  }

  async close(): Promise<void> {
    await this.client.unbind().catch(() => {});
  }
}

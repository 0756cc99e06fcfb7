/**
 * What can go wrong reading a directory, as classes: each message says what to fix.
 *
 * - LdapSettingsError (a ClientUsageError): the settings themselves are wrong (a bad URL, a
 *   filter that does not parse, StartTLS refused for ldaps://). Fix the settings.
 * - LdapConnectionError (a NetworkError): the server could not be reached (host down, port
 *   refused, timeout). Fix the host/port, or the network. LdapTlsError (one of these): the TLS
 *   handshake failed (certificate not trusted, wrong name, StartTLS not offered): fix the CA file
 *   or the host name.
 * - LdapBindError: the server refused the bind (invalidCredentials, code 49, or another bind
 *   result): fix the bind DN or the password. Never carries the password.
 * - LdapReadError (an IncompleteListingError): the read did not reach its end (a size limit hit
 *   without paging, a page error, the connection dropped mid-read). What was read is never
 *   a result: a partial directory would read as "these users are gone".
 *
 * Pure: no I/O.
 */
import { ClientUsageError, IncompleteListingError, NetworkError } from '../../api/errors.ts';
import { AuthError } from '../../util/errors.ts';

/** The settings of an LDAP source are wrong; nothing was sent. */
export class LdapSettingsError extends ClientUsageError {
  constructor(message: string) {
    super(message);
    this.name = 'LdapSettingsError';
  }
}

/** The directory server could not be reached (refused, host not found, timeout, connection lost before the bind). */
export class LdapConnectionError extends NetworkError {
  constructor(
    message: string,
    code?: string,
    override readonly cause?: unknown,
  ) {
    super(message, code);
    this.name = 'LdapConnectionError';
  }
}

/**
 * TLS failed: the server's certificate is not trusted with the CA given, its name does not match, or StartTLS was
 * refused.
 */
export class LdapTlsError extends LdapConnectionError {
  constructor(message: string, code?: string, cause?: unknown) {
    super(message, code, cause);
    this.name = 'LdapTlsError';
  }
}

/** The server refused the bind: the bind DN or the password is wrong (or the account may not bind). */
export class LdapBindError extends AuthError {
  constructor(
    message: string,
    readonly resultCode: number | undefined,
    readonly bindDn: string | undefined,
  ) {
    super(message);
    this.name = 'LdapBindError';
  }
}

/** A read that did not reach its end. What was read is not a result. */
export class LdapReadError extends IncompleteListingError {
  /** The LDAP result code when the server answered with one (4 sizeLimitExceeded, 32 noSuchObject …). */
  readonly resultCode: number | undefined;
  constructor(message: string, received: number, cause?: unknown, resultCode?: number) {
    super(message, received, cause);
    this.name = 'LdapReadError';
    this.resultCode = resultCode;
  }
}

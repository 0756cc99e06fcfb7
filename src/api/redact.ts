/**
 * Secret redaction. Every error message, log line and debug dump that may
 * contain request details goes through here before it leaves the client.
 */

const MASK = '***';

/** Header names whose values are always secret. */
const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
]);

/** Query parameters whose names say they carry a credential (`access_token`, `client_secret`, `X-Amz-Signature`, …). */
const CREDENTIAL_NAME =
  /token|secret|passw(?:or)?d|passwd|pwd|api[_-]?key|apikey|credential|signature|session|auth(?:orization)?/.source;
const CREDENTIAL_PARAM = new RegExp(`([?&;](?:[\\w.-]*?(?:${CREDENTIAL_NAME})|key|sig|code)=)[^&#\\s"']+`, 'gi');

/** Patterns that look like credentials even when we do not know the exact value. */
const CREDENTIAL_PATTERNS: RegExp[] = [/\b(Bearer|Basic|Token|SSWS)\s+[A-Za-z0-9._~+/=-]{16,}/gi, CREDENTIAL_PARAM];

/**
 * The forms a secret is echoed in: as it is, percent-encoded (in URLs and form bodies),
 * base64 and base64url (with and without padding). Each is matched ignoring case, so an
 * echo in lower or upper case (`%2f` or `%2F` too) is masked as well.
 */
export function secretForms(secret: string): string[] {
  const b64 = Buffer.from(secret, 'utf8').toString('base64');
  const forms = [
    secret,
    encodeURIComponent(secret),
    new URLSearchParams({ s: secret }).toString().slice(2),
    b64,
    b64.replace(/=+$/, ''),
    Buffer.from(secret, 'utf8').toString('base64url'),
  ];
  return [...new Set(forms)].sort((a, b) => b.length - a.length);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const patterns = new Map<string, RegExp>();

/** One case-insensitive pattern for every form of a secret (cached: the same secrets mask every message). */
function secretPattern(secret: string): RegExp {
  let re = patterns.get(secret);
  if (!re) {
    re = new RegExp(secretForms(secret).map(escapeRegExp).join('|'), 'gi');
    if (patterns.size > 64) patterns.clear();
    patterns.set(secret, re);
  }
  return re;
}

/**
 * Replaces every known secret (in any of its echoed forms, any case) and anything shaped like a
 * credential with `***`.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    // Very short values would mask innocent text; they are not credentials anyway.
    if (secret && secret.length >= 4) out = out.replace(secretPattern(secret), MASK);
  }
  out = out.replace(CREDENTIAL_PATTERNS[0]!, (_m, scheme: string) => `${scheme} ${MASK}`);
  out = out.replace(CREDENTIAL_PATTERNS[1]!, (_m, prefix: string) => `${prefix}${MASK}`);
  return out;
}

/** A copy of headers with secret values masked, for debug output. */
export function redactHeaders(
  headers: Record<string, string>,
  secrets: readonly string[] = [],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = SECRET_HEADERS.has(name.toLowerCase()) ? MASK : redact(value, secrets);
  }
  return out;
}

/** Masks a token for display: keeps the last four characters of long tokens only. */
export function maskToken(token: string | undefined): string {
  if (!token) return '(none)';
  if (token.length < 12) return MASK;
  return `${MASK}${token.slice(-4)}`;
}

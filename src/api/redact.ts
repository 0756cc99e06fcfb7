/**
 * Secret redaction. Every error message, log line and debug dump that may
 * contain request details goes through here before it leaves the client.
 */

const MASK = '***';

/** Header names whose values are always secret. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'api-key']);

/** Patterns that look like credentials even when we do not know the exact value. */
const CREDENTIAL_PATTERNS: RegExp[] = [
  /\b(Bearer|Basic|Token|SSWS)\s+[A-Za-z0-9._~+/=-]{16,}/gi,
  /([?&](?:access_token|token|api_key|apikey|password|secret)=)[^&#\s]+/gi,
];

/** Replaces every known secret and anything shaped like a credential with `***`. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    // Very short values would mask innocent text; they are not credentials anyway.
    if (secret && secret.length >= 4) out = out.split(secret).join(MASK);
  }
  out = out.replace(CREDENTIAL_PATTERNS[0]!, (_m, scheme: string) => `${scheme} ${MASK}`);
  out = out.replace(CREDENTIAL_PATTERNS[1]!, (_m, prefix: string) => `${prefix}${MASK}`);
  return out;
}

/** A copy of headers with secret values masked, for debug output. */
export function redactHeaders(headers: Record<string, string>, secrets: readonly string[] = []): Record<string, string> {
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

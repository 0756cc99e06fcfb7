/** Human and JSON views of a profile with every secret masked. */
import { maskToken } from '../../api/redact.ts';
import type { Profile } from '../../config/profiles.ts';

export function describeAuth(profile: Profile): string {
  const a = profile.auth;
  if (a.type === 'bearer')
    return a.tokenEnv ? `bearer token from $${a.tokenEnv}` : `bearer token ${maskToken(a.token)} (stored)`;
  if (a.type === 'basic')
    return `basic, user ${a.username}, password from ${a.passwordEnv ? `$${a.passwordEnv}` : '(stored)'}`;
  return 'none';
}

/** The profile as JSON, secrets replaced by masks. */
export function maskedProfile(profile: Profile): Record<string, unknown> {
  const auth: Record<string, unknown> = { ...profile.auth };
  if ('token' in auth && auth.token) auth.token = maskToken(String(auth.token));
  if ('password' in auth && auth.password) auth.password = '***';
  const headers = profile.headers ? Object.fromEntries(Object.keys(profile.headers).map((k) => [k, '***'])) : undefined;
  return { ...profile, auth, ...(headers ? { headers } : {}) };
}

/**
 * Turns flags, environment and profiles into one connection to a SCIM server.
 * Order: --profile NAME, then SCIMCTL_URL (environment or .env), then
 * SCIMCTL_PROFILE, then the current profile.
 */
import type { Auth } from '../api/http.ts';
import { envFileKeys, type Env } from './env.ts';
import { CallerError } from '../util/errors.ts';
import type { Profile, ProfileStore } from './profiles.ts';

export class ConfigError extends CallerError {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface Connection {
  /** Profile name, or "environment" for SCIMCTL_URL. */
  name: string;
  url: string;
  auth: Auth;
  headers: Record<string, string>;
  timeoutMs?: number;
  /** How to fix a 401 with this connection: shown with authentication errors. */
  authHint: string;
  /** Lines to tell on stderr once the connection is in use (a target chosen by ./.env). */
  notices?: string[];
}

export interface ConnectionFlags {
  profile?: string;
  allowInsecureHttp?: boolean;
}

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Checks a server URL: http(s) only, and plain http only to this machine unless allowed. */
export function validateServerUrl(raw: string, allowInsecureHttp = false): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`"${raw}" is not a valid URL (expected e.g. https://example.com/scim/v2)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`"${raw}" must start with https:// (or http:// for a server on this machine)`);
  }
  if (url.username || url.password) {
    throw new ConfigError('put credentials in a token or --basic-user, not in the URL');
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !allowInsecureHttp) {
    throw new ConfigError(
      `refusing plain http:// to ${url.hostname}: tokens would cross the network ` +
        `unencrypted. Use https://, or pass --allow-insecure-http if you really mean it`,
    );
  }
  return url.toString().replace(/\/+$/, '');
}

function profileAuth(name: string, profile: Profile, env: Env): { auth: Auth; hint: string } {
  const a = profile.auth;
  if (a.type === 'bearer') {
    if (a.tokenEnv) {
      const token = env[a.tokenEnv];
      if (!token) throw new ConfigError(`profile "${name}" reads its token from $${a.tokenEnv}, which is not set`);
      return { auth: { type: 'bearer', token }, hint: `check the token in $${a.tokenEnv} (profile "${name}")` };
    }
    if (!a.token)
      throw new ConfigError(
        `profile "${name}" has no token; run: scimctl profile add ${name} --url ${profile.url} --token-stdin`,
      );
    return {
      auth: { type: 'bearer', token: a.token },
      hint: `store a valid token with: scimctl profile add ${name} --url ${profile.url} --token-stdin`,
    };
  }
  if (a.type === 'basic') {
    const password = a.passwordEnv ? env[a.passwordEnv] : a.password;
    if (!password) {
      throw new ConfigError(
        a.passwordEnv
          ? `profile "${name}" reads its password from $${a.passwordEnv}, which is not set`
          : `profile "${name}" has no password`,
      );
    }
    return {
      auth: { type: 'basic', username: a.username, password },
      hint: `check the user name and password of profile "${name}"${a.passwordEnv ? ` ($${a.passwordEnv})` : ''}`,
    };
  }
  return {
    auth: { type: 'none' },
    hint:
      `profile "${name}" sends no credentials; add a token with: scimctl profile add ` +
      `${name} --url ${profile.url} --token-stdin`,
  };
}

function fromProfile(name: string, profile: Profile, env: Env, flags: ConnectionFlags): Connection {
  const url = validateServerUrl(profile.url, flags.allowInsecureHttp || profile.allowInsecureHttp);
  const { auth, hint } = profileAuth(name, profile, env);
  return { name, url, auth, headers: profile.headers ?? {}, timeoutMs: profile.timeoutMs, authHint: hint };
}

function fromEnv(env: Env, flags: ConnectionFlags): Connection {
  // SCIMCTL_ALLOW_INSECURE_HTTP counts from the environment only: loadEnv never takes it from a .env.
  const url = validateServerUrl(env.SCIMCTL_URL!, flags.allowInsecureHttp || env.SCIMCTL_ALLOW_INSECURE_HTTP === '1');
  let auth: Auth = { type: 'none' };
  if (env.SCIMCTL_TOKEN) auth = { type: 'bearer', token: env.SCIMCTL_TOKEN };
  else if (env.SCIMCTL_USERNAME && env.SCIMCTL_PASSWORD)
    auth = { type: 'basic', username: env.SCIMCTL_USERNAME, password: env.SCIMCTL_PASSWORD };
  return {
    name: 'environment',
    url,
    auth,
    headers: {},
    authHint: 'check $SCIMCTL_TOKEN (SCIMCTL_URL is set, so the environment is used instead of a profile)',
  };
}

/** The .env entries that choose where requests go (the others only say how to sign in). */
const TARGET_KEYS = new Set(['SCIMCTL_URL', 'SCIMCTL_PROFILE', 'SCIMCTL_CONFIG_DIR']);

/**
 * A target chosen by ./.env never gets credentials over plain http to another machine: not with
 * --allow-insecure-http, and a .env cannot set SCIMCTL_ALLOW_INSECURE_HTTP (see env.ts).
 */
function refuseInsecureFromFile(rawUrl: string, keys: readonly string[], credentials: boolean): void {
  const target = keys.filter((k) => TARGET_KEYS.has(k));
  if (target.length === 0 || !credentials) return;
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return; // validateServerUrl says what is wrong with it
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new ConfigError(
      `refusing to send credentials over plain http:// to ${url.hostname}: ` +
        `${target[0]} comes from ./.env (in ${process.cwd()}), and a .env cannot allow ` +
        `insecure http, not even with --allow-insecure-http. ` +
        'Remove it from .env, or set SCIMCTL_URL in the environment (or use a profile) if you really mean it',
    );
  }
}

export async function resolveConnection(
  flags: ConnectionFlags,
  env: Env,
  store: () => Promise<ProfileStore>,
): Promise<Connection> {
  const file = envFileKeys(env);
  // The .env entries that chose this connection: announced, and never enough for insecure http.
  const fromFile = (...keys: string[]) => keys.filter((k) => file.used.has(k));
  const profileConnection = (name: string, profile: Profile, keys: string[]): [Connection, string[]] => {
    refuseInsecureFromFile(
      profile.url,
      keys,
      profile.auth.type !== 'none' || Object.keys(profile.headers ?? {}).length > 0,
    );
    return [fromProfile(name, profile, env, flags), keys];
  };
  const connection = async (): Promise<[Connection, string[]]> => {
    if (flags.profile) {
      const profile = (await store()).get(flags.profile);
      if (!profile) throw new ConfigError(`no profile named "${flags.profile}"; see: scimctl profile list`);
      return profileConnection(flags.profile, profile, fromFile('SCIMCTL_CONFIG_DIR'));
    }
    if (env.SCIMCTL_URL) {
      const keys = fromFile('SCIMCTL_URL', 'SCIMCTL_TOKEN', 'SCIMCTL_USERNAME', 'SCIMCTL_PASSWORD');
      refuseInsecureFromFile(
        env.SCIMCTL_URL,
        keys,
        !!env.SCIMCTL_TOKEN || !!(env.SCIMCTL_USERNAME && env.SCIMCTL_PASSWORD),
      );
      return [fromEnv(env, flags), keys];
    }
    const s = await store();
    const name = env.SCIMCTL_PROFILE || s.current;
    if (name) {
      const profile = s.get(name);
      if (!profile)
        throw new ConfigError(`no profile named "${name}" (from $SCIMCTL_PROFILE); see: scimctl profile list`);
      return profileConnection(
        name,
        profile,
        fromFile(...(env.SCIMCTL_PROFILE ? ['SCIMCTL_PROFILE'] : []), 'SCIMCTL_CONFIG_DIR'),
      );
    }
    throw new ConfigError(
      'no SCIM server configured. Add one with: scimctl profile add NAME --url https://… --token-env VAR\n' +
        'or set SCIMCTL_URL and SCIMCTL_TOKEN (in the environment or a .env file)',
    );
  };
  const [c, keys] = await connection();
  const notices = file.ignored.map(
    (k) => `ignoring ${k} in ./.env: only the command line or the environment can allow that`,
  );
  if (keys.length > 0) notices.push(`using ${keys.join(', ')} from ./.env (${c.url})`);
  return notices.length > 0 ? { ...c, notices } : c;
}

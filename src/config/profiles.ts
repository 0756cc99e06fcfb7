/**
 * Connection profiles, stored with conf in the user's config directory
 * (or $SCIMCTL_CONFIG_DIR) in a file only its owner can read (mode 0600).
 */
import { chmodSync } from 'node:fs';
import type Conf from 'conf';

export type ProfileAuth =
  | { type: 'none' }
  | { type: 'bearer'; tokenEnv?: string; token?: string }
  | { type: 'basic'; username: string; passwordEnv?: string; password?: string };

export interface Profile {
  url: string;
  auth: ProfileAuth;
  /** Extra headers sent with every request (e.g. an API gateway key). */
  headers?: Record<string, string>;
  allowInsecureHttp?: boolean;
  timeoutMs?: number;
  /** The source of truth this profile syncs from (what the TUI's "sync now" uses). */
  sync?: { source: string; preset?: string; mapping?: string; groupsFile?: string };
}

interface Store {
  current?: string;
  profiles: Record<string, Profile>;
}

/** The profile `scimctl demo` points at its own server. */
export const DEMO_PROFILE = 'demo';

export const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export class ProfileStore {
  private constructor(private readonly conf: Conf<Store>) {}

  /** Opens the store; conf (and its JSON-schema validator) loads only now, not at start-up. */
  static async open(configDir: string | undefined = process.env.SCIMCTL_CONFIG_DIR): Promise<ProfileStore> {
    const { default: ConfClass } = await import('conf');
    const conf = new ConfClass<Store>({
      projectName: 'scimctl',
      projectSuffix: '',
      ...(configDir ? { cwd: configDir } : {}),
      configName: 'config',
      configFileMode: 0o600,
      accessPropertiesByDotNotation: false,
      defaults: { profiles: {} },
    });
    return new ProfileStore(conf);
  }

  get path(): string {
    return this.conf.path;
  }

  list(): Array<[string, Profile]> {
    return Object.entries(this.conf.get('profiles') ?? {}).sort(([a], [b]) => a.localeCompare(b));
  }

  get(name: string): Profile | undefined {
    return (this.conf.get('profiles') ?? {})[name];
  }

  get current(): string | undefined {
    const current = this.conf.get('current');
    return current && this.get(current) ? current : undefined;
  }

  set(name: string, profile: Profile): void {
    this.conf.set('profiles', { ...this.conf.get('profiles'), [name]: profile });
    this.tighten();
  }

  use(name: string): void {
    this.conf.set('current', name);
    this.tighten();
  }

  /** No profile is current any more (commands then need --profile or the environment). */
  clearCurrent(): void {
    this.conf.delete('current');
    this.tighten();
  }

  remove(name: string): boolean {
    const profiles = { ...this.conf.get('profiles') };
    if (!(name in profiles)) return false;
    delete profiles[name];
    this.conf.set('profiles', profiles);
    if (this.conf.get('current') === name) this.conf.delete('current');
    this.tighten();
    return true;
  }

  /** conf writes with configFileMode, but a file created earlier by hand may be looser. */
  private tighten(): void {
    try {
      chmodSync(this.conf.path, 0o600);
    } catch {
      // Nothing to tighten if the file is not there.
    }
  }
}

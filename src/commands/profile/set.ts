import { validateServerUrl } from '../../config/connection.ts';
import type { Profile } from '../../config/profiles.ts';
import { defineCommand } from '../context.ts';
import { UsageError } from '../exit-codes.ts';
import { authFromFlags, headersFromFlags, profileSettingOptions, syncFromFlags } from './add.ts';

/** Changes the settings given of an existing profile and keeps the rest (credentials included). */
export const profileSetCommand = defineCommand({
  command: 'set <name>',
  describe: 'Change settings of a profile, keeping the rest (e.g. --sync-source FILE)',
  builder: (y) =>
    profileSettingOptions(
      y
        .positional('name', { type: 'string', demandOption: true })
        .option('url', { type: 'string', describe: 'Base URL of the SCIM service' })
        .option('sync', { type: 'boolean', describe: 'With --no-sync: forget the sync source' }),
    ),
  run: async (argv, f) => {
    const store = await f.profiles();
    const before = store.get(argv.name);
    if (!before)
      throw new UsageError(
        `no profile "${argv.name}"; add it with: scimctl profile add ${argv.name} --url URL --token-env VAR`,
      );
    const profile: Profile = { ...before };
    const changed: string[] = [];
    if (argv.url !== undefined) {
      profile.url = validateServerUrl(argv.url, argv.allowInsecureHttp ?? before.allowInsecureHttp);
      changed.push('url');
    }
    const auth = await authFromFlags(argv, f.io);
    if (auth) {
      profile.auth = auth;
      changed.push('credentials');
    }
    const headers = headersFromFlags(argv.header);
    if (headers) {
      profile.headers = { ...before.headers, ...headers };
      changed.push('headers');
    }
    if (argv.allowInsecureHttp !== undefined) {
      profile.allowInsecureHttp = argv.allowInsecureHttp;
      changed.push('allow-insecure-http');
    }
    if (argv.timeout !== undefined) {
      profile.timeoutMs = argv.timeout * 1000;
      changed.push('timeout');
    }
    const sync = syncFromFlags(argv);
    if (sync && argv.sync === false) throw new UsageError('choose --sync-source or --no-sync');
    if (sync) {
      profile.sync = sync;
      changed.push('sync source');
    } else if (argv.sync === false) {
      delete profile.sync;
      changed.push('sync source');
    }
    if (changed.length === 0 && !argv.use)
      throw new UsageError('name a setting to change, e.g. --sync-source FILE or --url URL');
    store.set(argv.name, profile);
    if (argv.use) store.use(argv.name);
    const what = changed.length ? `changed ${changed.join(', ')}; the rest kept` : 'unchanged';
    f.log(`profile "${argv.name}": ${what}${argv.use ? ', now the current profile' : ''}`);
  },
});

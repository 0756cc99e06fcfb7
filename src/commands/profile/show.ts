import { ConfigError } from '../../config/connection.ts';
import { writeChunk } from '../../output/iostreams.ts';
import { defineCommand } from '../context.ts';
import { describeAuth, maskedProfile } from './describe.ts';

export const profileShowCommand = defineCommand({
  command: 'show [name]',
  describe: 'Show a profile (the current one by default), token masked',
  builder: (y) => y.positional('name', { type: 'string' }).option('json', { type: 'boolean', default: false }),
  run: async (argv, f) => {
    const store = await f.profiles();
    const name = argv.name ?? store.current;
    if (!name) throw new ConfigError('no current profile; name one, or add one with: scimctl profile add');
    const profile = store.get(name);
    if (!profile) throw new ConfigError(`no profile named "${name}"; see: scimctl profile list`);
    if (argv.json) {
      await writeChunk(
        f.io.stdout,
        `${JSON.stringify({ name, current: store.current === name, ...maskedProfile(profile) }, null, 2)}\n`,
      );
      return;
    }
    const lines = [
      ['name', name],
      ['url', profile.url],
      ['auth', describeAuth(profile)],
      ...Object.keys(profile.headers ?? {}).map((h) => [`header ${h}`, '***']),
      ...(profile.timeoutMs ? [['timeout', `${profile.timeoutMs / 1000} s`]] : []),
      ...(profile.allowInsecureHttp ? [['insecure http', 'allowed']] : []),
      ['current', store.current === name ? 'yes' : 'no'],
      ['config file', store.path],
    ];
    await writeChunk(f.io.stdout, lines.map(([k, v]) => `${k}:\t${v}`).join('\n') + '\n');
  },
});

import { writeChunk } from '../../output/iostreams.ts';
import { renderTable, renderTsvRow, type Column } from '../../output/table.ts';
import type { Profile } from '../../config/profiles.ts';
import { defineCommand } from '../context.ts';
import { describeAuth, maskedProfile } from './describe.ts';

export const profileListCommand = defineCommand({
  command: 'list',
  describe: 'List connection profiles',
  builder: (y) => y.option('json', { type: 'boolean', default: false }),
  run: async (argv, f) => {
    const store = await f.profiles();
    const current = store.current;
    const profiles = store.list();
    if (argv.json) {
      const out = profiles.map(([name, p]) => ({ name, current: name === current, ...maskedProfile(p) }));
      await writeChunk(f.io.stdout, `${JSON.stringify(out, null, 2)}\n`);
      return;
    }
    if (profiles.length === 0) {
      f.log('no profiles; add one with: scimctl profile add NAME --url https://… --token-env VAR');
      return;
    }
    const columns: Column<[string, Profile]>[] = [
      { header: 'current', value: ([n]) => (n === current ? '*' : ''), minWidth: 7 },
      { header: 'name', value: ([n]) => n, minWidth: 8 },
      { header: 'url', value: ([, p]) => p.url, minWidth: 16 },
      { header: 'auth', value: ([, p]) => describeAuth(p), minWidth: 10 },
    ];
    const lines = f.io.isStdoutTTY
      ? renderTable(profiles, columns, f.io.columns)
      : profiles.map((p) => renderTsvRow(p, columns));
    await writeChunk(f.io.stdout, `${lines.join('\n')}\n`);
  },
});

/** Lists of users or groups named in a file, for delete --from and friends. */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { SchemaRegistry } from '../api/schema.ts';
import { SCHEMA } from '../api/types.ts';
import { readResourceFile } from '../sources/resource-file.ts';
import { UsageError } from './exit-codes.ts';

/**
 * A CSV, TSV or JSON file of resources (an export, say) names each by its id,
 * else its userName (users) or displayName (groups). Any other file: one name
 * per line; blank lines and lines starting with # are skipped.
 */
export async function readRefs(file: string, kind: 'users' | 'groups'): Promise<string[]> {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv' || ext === '.tsv' || ext === '.json') {
    const coreSchema = kind === 'users' ? SCHEMA.USER : SCHEMA.GROUP;
    const records = await readResourceFile(file, { registry: new SchemaRegistry(), coreSchema });
    return records.map((r) => {
      const name = r.resource.id ?? (kind === 'users' ? r.resource.userName : r.resource.displayName);
      if (typeof name !== 'string' || name === '')
        throw new UsageError(
          `${r.file}:${r.line}: no id or ` +
            `${kind === 'users' ? 'userName' : 'displayName'} to name the ` +
            `${kind.slice(0, -1)} by`,
        );
      return name;
    });
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${file}: cannot read: ${(e as Error).message}`);
  }
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

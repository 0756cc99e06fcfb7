/** A resource's attributes as "column value" lines, as the CSV export names them (members and groups listed apart). */
import { SchemaRegistry } from '../../api/schema.ts';
import type { ScimGroup, ScimUser } from '../../api/types.ts';
import { flattenResource } from '../../formats/scim-csv.ts';
import { padEnd } from '../../output/table.ts';

export function detailLines(resource: ScimUser | ScimGroup, core: string): string[] {
  const rows: string[] = [];
  for (const [column, cell] of flattenResource(resource, { registry: new SchemaRegistry(), coreSchema: core })) {
    if (column === 'members' || column.startsWith('groups')) continue;
    rows.push(`${padEnd(column, 28)} ${cell}`);
  }
  return rows;
}

/** A resource's attributes as "column value" lines, as the CSV export names them (members and groups listed apart). */
import { SchemaRegistry } from '../../api/schema.ts';
import type { ScimGroup, ScimUser } from '../../api/types.ts';
import { flattenResource } from '../../formats/scim-csv.ts';
import { padEnd } from '../../output/table.ts';

/**
 * An extension attribute's column without its schema URN's boilerplate: `enterprise:department` for
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department` (the extension's name, then the attribute).
 */
export function shortColumn(column: string): string {
  const m = /^urn:[^:]+(?::[^:]+)*?:extension:(.+?):(?:\d+(?:\.\d+)*:)?[A-Z][A-Za-z]*:(.+)$/u.exec(column);
  return m ? `${m[1]}:${m[2]}` : column;
}

export function detailLines(resource: ScimUser | ScimGroup, core: string): string[] {
  const rows: string[] = [];
  for (const [column, cell] of flattenResource(resource, { registry: new SchemaRegistry(), coreSchema: core })) {
    if (column === 'members' || column.startsWith('groups')) continue;
    rows.push(`${padEnd(shortColumn(column), 28)} ${cell}`);
  }
  return rows;
}

/** The detail pane's lines (src/ui/components/detail-lines.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SCHEMA, type ScimUser } from '../../src/api/types.ts';
import { detailLines, shortColumn } from '../../src/ui/components/detail-lines.ts';

describe('detail lines', () => {
  test('extension attributes are named by extension and attribute, not the whole URN', () => {
    assert.equal(shortColumn(`${SCHEMA.ENTERPRISE_USER}:department`), 'enterprise:department');
    assert.equal(shortColumn(`${SCHEMA.ENTERPRISE_USER}:manager.value`), 'enterprise:manager.value');
    assert.equal(shortColumn('urn:example:params:scim:schemas:extension:acme:1.0:User:badge'), 'acme:badge');
    for (const plain of ['userName', 'emails[work].value', 'name.givenName']) assert.equal(shortColumn(plain), plain);
    const user = {
      id: 'u1',
      userName: 'kim@example.com',
      schemas: [SCHEMA.USER, SCHEMA.ENTERPRISE_USER],
      [SCHEMA.ENTERPRISE_USER]: { department: 'Sales' },
    } as unknown as ScimUser;
    const lines = detailLines(user, SCHEMA.USER);
    assert.ok(
      lines.some((l) => /^enterprise:department +Sales$/.test(l)),
      lines.join('\n'),
    );
    assert.ok(!lines.some((l) => l.includes('extension:enterprise:2.0:User:department')));
  });
});

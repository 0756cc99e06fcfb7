import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { safeLines, safeText } from '../../src/output/safe-text.ts';
import { renderTable, renderTsvRow, truncate, tsvCell, type Column } from '../../src/output/table.ts';
import { changeLines, renderPlan } from '../../src/output/plan.ts';
import { formatError } from '../../src/commands/format-error.ts';
import { ScimError } from '../../src/api/errors.ts';
import { createFactory } from '../../src/commands/factory.ts';
import type { IOStreams } from '../../src/output/iostreams.ts';
import { PassThrough } from 'node:stream';

const RAW = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const EVIL = 'Ann\u001b[31mRED\u001b[0m\u001b]0;pwned\u0007\u009b2J\u007f\u202eevil\u200bx';

describe('safeText', () => {
  test('escapes C0, DEL and C1 controls and ESC sequences visibly; marks bidi overrides', () => {
    assert.equal(safeText(EVIL), 'Ann\\x1b[31mRED\\x1b[0m\\x1b]0;pwned\\x07\\x9b2J\\x7f<U+202E>evil\u200bx');
    assert.equal(safeText('a\tb\nc\rd\u0000e'), 'a\\tb\\nc\\rd\\x00e');
    assert.equal(safeText('line\u2028sep'), 'line\\u2028sep');
  });

  test('with marks (plans), zero-width characters and bidi marks are shown too', () => {
    assert.equal(safeText('ad\u200bmin\u200f\ufeff', { marks: true }), 'ad<U+200B>min<U+200F><U+FEFF>');
    assert.equal(safeText('ad\u200bmin'), 'ad\u200bmin', 'elsewhere joiners stay (emoji, scripts)');
  });

  test('leaves ordinary text (accents, CJK, emoji, backslashes) alone, and is idempotent', () => {
    for (const s of ['Zoë Müller', '山田太郎', '👩‍💻 dev', 'DOMAIN\\user', '']) assert.equal(safeText(s), s);
    assert.equal(safeText(safeText(EVIL)), safeText(EVIL));
    assert.equal(safeText(safeText(EVIL, { marks: true }), { marks: true }), safeText(EVIL, { marks: true }));
  });

  test('safeLines keeps the newlines between lines', () => {
    assert.equal(safeLines('one\u001b[2J\ntwo'), 'one\\x1b[2J\ntwo');
  });
});

describe('every output path escapes', () => {
  const columns: Column<{ name: string }>[] = [{ header: 'name', value: (r) => r.name }];

  test('terminal tables, truncated lines (TUI) and TSV cells: one rule', () => {
    const table = renderTable([{ name: EVIL }], columns, 200).join(' / ');
    assert.doesNotMatch(table, RAW);
    assert.match(table, /Ann\\x1b\[31mRED/);
    assert.doesNotMatch(truncate(EVIL, 12), RAW);
    assert.equal(truncate('\u001b[2J', 80), '\\x1b[2J');
    // TSV: tabs and line breaks become a space (columns and rows stay intact); other controls are escaped.
    assert.equal(tsvCell('a\tb\r\nc\u001b[0m'), 'a b c\\x1b[0m');
    assert.equal(renderTsvRow({ name: EVIL }, columns), safeText(EVIL));
  });

  test('plans escape and mark names in every line', () => {
    const lines = changeLines({ kind: 'create-group', displayName: 'Admins\u200b\u001b[8m' } as never);
    assert.deepEqual(lines, ['+ create group Admins<U+200B>\\x1b[8m']);
    const plan = renderPlan({
      changes: [{ kind: 'delete-user', userName: 'bob\u202e', target: 'id\u0085' }],
      problems: [{ origin: { file: 'hr.csv', line: 3 }, message: 'bad value "\u001b]8;;http://x\u0007"' }],
      notes: ['note \u009b'],
      summary: { create: 0, update: 0, deactivate: 0, delete: 1, memberships: 0 },
    } as never);
    assert.doesNotMatch(plan.join(' / '), RAW);
    assert.ok(plan.some((l) => l.includes('bob<U+202E>')));
  });

  test('error messages (a server detail) and log lines', () => {
    const text = formatError(new ScimError(400, 'invalidValue', 'bad \u001b]0;title\u0007 value'), undefined);
    assert.doesNotMatch(text, RAW);
    assert.match(text, /bad \\x1b\]0;title\\x07 value/);
    const stderr = new PassThrough();
    let written = '';
    stderr.on('data', (d) => (written += String(d)));
    const io = { stderr, stdout: new PassThrough() } as unknown as IOStreams;
    createFactory(io, {}, {}).log(`retrying: \u001b[2Jserver said ${EVIL}`);
    assert.doesNotMatch(written.replace(/\n$/, ''), RAW);
    assert.match(written, /^scimctl: retrying: \\x1b\[2J/);
  });
});

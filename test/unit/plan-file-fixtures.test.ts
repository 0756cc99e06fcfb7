/**
 * The plan-file cases of the bad-input corpus: each is refused by the checks sync apply makes
 * before it resolves a profile or reads the target, with the message its expect file names.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PlanFileError, readPlanJson } from '../../src/sync/plan-file.ts';
import { validatePlanFile } from '../../src/sync/plan-validate.ts';
import { base, CASES, fixture } from '../../scripts/plan-fixtures.ts';

const DIR = fileURLToPath(new URL('../fixtures/bad-input/plans/', import.meta.url));

describe('bad-input plan fixtures', () => {
  test('the plan they are made from is valid (each fixture is wrong in one way only)', () => {
    assert.equal(validatePlanFile('base.json', base()).edited, false);
  });

  test('the files on disk are what scripts/plan-fixtures.ts makes, and there are at least 15', () => {
    const names = readdirSync(DIR)
      .filter((f) => f.endsWith('.expect.json'))
      .map((f) => f.slice(0, -'.expect.json'.length))
      .sort();
    assert.deepEqual(names, CASES.map((c) => c.name).sort());
    assert.ok(names.length >= 15);
    for (const c of CASES) {
      const { text, expect } = fixture(c);
      assert.equal(
        readFileSync(join(DIR, `${c.name}.json`), 'utf8'),
        text,
        `${c.name}.json is up to date (run: node --import tsx scripts/plan-fixtures.ts)`,
      );
      assert.deepEqual(JSON.parse(readFileSync(join(DIR, `${c.name}.expect.json`), 'utf8')), expect);
    }
  });

  for (const c of CASES) {
    test(c.name, async () => {
      const file = join(DIR, `${c.name}.json`);
      const expect = JSON.parse(readFileSync(join(DIR, `${c.name}.expect.json`), 'utf8')) as {
        args: string[];
        exit: number;
        message: string;
      };
      assert.deepEqual(expect.args, ['sync', 'apply', '{file}', '--yes']);
      assert.equal(expect.exit, 2);
      let message = '';
      try {
        validatePlanFile(file, await readPlanJson(file));
        assert.fail('accepted');
      } catch (e) {
        assert.ok(e instanceof PlanFileError, String(e));
        message = e.message;
      }
      assert.ok(message.startsWith(`${file}: `), message);
      assert.match(`scimctl: error: ${message}`, new RegExp(expect.message));
      // --allow-edited-plan lets only the digest cases through.
      const digestCase = c.name === 'edited-by-hand' || c.name === 'no-digest';
      let allowed = true;
      try {
        validatePlanFile(file, await readPlanJson(file), { allowEdited: true });
      } catch {
        allowed = false;
      }
      assert.equal(allowed, digestCase);
    });
  }
});

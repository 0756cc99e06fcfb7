import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter, FilterDeadlineError, FilterError, registryContext } from '../../src/api/filter-eval.ts';
import { SchemaRegistry } from '../../src/api/schema.ts';
import { SCHEMA } from '../../src/api/types.ts';

const ctx = registryContext(new SchemaRegistry(), SCHEMA.USER, [SCHEMA.ENTERPRISE_USER], true);

describe('filter deadline', () => {
  test('evaluation past the deadline throws FilterDeadlineError (not a FilterError), even inside one resource', () => {
    // One resource with many values: the deadline is looked at while its values are compared.
    const resource = { userName: 'a', emails: Array.from({ length: 5000 }, (_, i) => ({ value: `v${i}@x.test` })) };
    const filter = Array.from({ length: 200 }, (_, i) => `emails.value eq "zz${i}"`).join(' or ');
    const compiled = compileFilter(filter, ctx, { deadline: performance.now() - 1, limitMs: 5 });
    assert.throws(
      () => compiled.test(resource),
      (e: unknown) =>
        e instanceof FilterDeadlineError && !(e instanceof FilterError) && /more than 5 ms/.test(e.message),
    );
  });

  test('without a deadline, or before it, the same filter answers', () => {
    const resource = { userName: 'a', emails: [{ value: 'zz3' }] };
    const filter = Array.from({ length: 200 }, (_, i) => `emails.value eq "zz${i}"`).join(' or ');
    assert.equal(compileFilter(filter, ctx).test(resource), true);
    assert.equal(
      compileFilter(filter, ctx, { deadline: performance.now() + 60_000, limitMs: 60_000 }).test(resource),
      true,
    );
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { numericOptionProblem } from '../../src/commands/numeric-options.ts';

describe('numericOptionProblem', () => {
  test('good values pass; options a command does not have are not looked at', () => {
    assert.equal(
      numericOptionProblem({
        concurrency: 4,
        rate: '600/min',
        timeout: 2.5,
        retries: 0,
        'max-deletes': '10%',
        'max-membership-removals': '40',
        'max-group-deletes': '0',
        limit: 0,
        port: 0,
      }),
      undefined,
    );
    assert.equal(numericOptionProblem({ _: ['sync'], maxDeletes: 'camelCase copies are ignored' }), undefined);
    assert.equal(numericOptionProblem({ rate: undefined, 'max-deletes': undefined }), undefined);
  });

  test('each bad value names its option and what was typed', () => {
    const rows: Array<[Record<string, unknown>, string[], RegExp]> = [
      [
        { concurrency: NaN },
        ['sync', 'run', '--concurrency', 'abc'],
        /^--concurrency takes a whole number from 1 to 1000, not "abc"$/,
      ],
      [{ concurrency: NaN }, ['--concurrency=x2'], /not "x2"$/],
      [{ concurrency: NaN }, [], /not a value that is not a number$/],
      [{ concurrency: 0 }, [], /--concurrency .* not "0"/],
      [{ concurrency: 2.5 }, [], /--concurrency .* not "2.5"/],
      [{ retries: -1 }, [], /--retries takes a whole number from 0 to 100/],
      [{ timeout: 0 }, [], /--timeout takes a number of seconds above 0/],
      [{ timeout: Infinity }, [], /--timeout/],
      [{ rate: '0/min' }, [], /--rate takes a rate above 0 .* not "0\/min"/],
      [{ rate: '' }, [], /--rate .* not ""/],
      [{ 'max-deletes': 'lots' }, [], /--max-deletes takes a count or a percentage up to 100%/],
      [{ 'max-membership-removals': '101%' }, [], /--max-membership-removals .* not "101%"/],
      [{ 'max-group-deletes': '-1' }, [], /--max-group-deletes .* not "-1"/],
      [{ port: 70000 }, [], /--port takes a whole number from 0 to 65535/],
      [{ concurrency: [2, 3] }, [], /--concurrency is given 2 times/],
    ];
    for (const [argv, args, message] of rows)
      assert.match(numericOptionProblem(argv, args) ?? '(accepted)', message, JSON.stringify(argv));
  });
});

describe('options of the same name that are not numbers', () => {
  test('a list option called --users (users deactivate, groups add-members) is not taken for demo --users', () => {
    assert.equal(numericOptionProblem({ users: ['ann@example.com'] }), undefined);
    assert.equal(numericOptionProblem({ users: ['a', 'b', 'c'] }), undefined);
    assert.equal(numericOptionProblem({ users: 'a,b' }), undefined);
    assert.match(numericOptionProblem({ users: NaN }, ['demo', '--users', 'many']) ?? '', /--users .* not "many"/);
    assert.match(numericOptionProblem({ users: -5 }) ?? '', /--users takes a whole number of at least 0/);
  });
});

test(
  'a list positional called users given no values (users deactivate --from FILE) ' +
    'is not a number option given 0 times',
  () => {
    assert.equal(numericOptionProblem({ users: [] }), undefined);
    assert.match(numericOptionProblem({ users: [1, 2] }) ?? '', /--users is given 2 times/);
  },
);

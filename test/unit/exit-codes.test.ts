import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  AmbiguousError,
  ClientUsageError,
  IncompleteListingError,
  NetworkError,
  NotFoundError,
  ResponseValidationError,
  ScimError,
  TimeoutError,
  UnexpectedContentTypeError,
  UnexpectedStatusError,
} from '../../src/api/errors.ts';
import { MembershipSafetyError } from '../../src/api/members.ts';
import { ChangedOnServerError } from '../../src/api/update.ts';
import { FilterError } from '../../src/api/filter-eval.ts';
import { EXIT_CODE_MEANINGS, ExitCode, exitCodeFor, SilentExit, UsageError } from '../../src/commands/exit-codes.ts';
import { ConfigError } from '../../src/config/connection.ts';
import { CsvInputError } from '../../src/formats/scim-csv.ts';
import { PromptUnavailableError } from '../../src/output/prompt.ts';
import { InputError } from '../../src/sources/resource-file.ts';
import { PlanFileError } from '../../src/sync/plan-file.ts';

/** The rows of the README's "## Exit codes" table, as [code, meaning]. */
function readmeTable(): Array<[number, string]> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = /^## Exit codes\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  assert.ok(section, 'README.md has an "## Exit codes" section');
  const rows = section
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .map((l) =>
      l
        .slice(1, l.endsWith('|') ? -1 : undefined)
        .split('|')
        .map((c) => c.trim()),
    );
  assert.deepEqual(rows[0], ['code', 'meaning'], 'the table header');
  assert.match(rows[1]?.join('|') ?? '', /^-+\|-+$/, 'the header rule');
  return rows.slice(2).map(([code, ...meaning]) => [Number(code), meaning.join('|')]);
}

describe('exit codes', () => {
  test("the README's exit-code table is the table of EXIT_CODE_MEANINGS, row for row", () => {
    const expected = Object.entries(EXIT_CODE_MEANINGS)
      .map(([code, meaning]): [number, string] => [Number(code), meaning])
      .sort(([a], [b]) => a - b);
    assert.deepEqual(readmeTable(), expected);
  });

  test('every exit code has a meaning, and nothing else has one', () => {
    assert.deepEqual(
      Object.keys(EXIT_CODE_MEANINGS)
        .map(Number)
        .sort((a, b) => a - b),
      Object.values(ExitCode).sort((a, b) => a - b),
    );
  });

  test('each error ends with the exit code of its kind', () => {
    const cases: Array<[string, unknown, number]> = [
      ['UsageError', new UsageError('bad flag'), ExitCode.USAGE],
      ['ConfigError', new ConfigError('no profile'), ExitCode.USAGE],
      ['CsvInputError', new CsvInputError('a.csv', 2, 'active', 'not a boolean'), ExitCode.USAGE],
      ['InputError', new InputError([{ file: 'a.csv', line: 2, message: 'bad' }]), ExitCode.USAGE],
      ['PromptUnavailableError', new PromptUnavailableError('--yes', 'delete 3 users'), ExitCode.USAGE],
      ['PlanFileError', new PlanFileError('not a plan'), ExitCode.USAGE],
      ['ClientUsageError', new ClientUsageError('bad attribute'), ExitCode.USAGE],
      [
        'AmbiguousError',
        new AmbiguousError('user', 'ann', [
          { id: '1', label: 'a' },
          { id: '2', label: 'b' },
        ]),
        ExitCode.USAGE,
      ],
      ['NotFoundError', new NotFoundError('user', 'ann'), ExitCode.NOT_FOUND],
      ['NetworkError', new NetworkError('refused', 'ECONNREFUSED'), ExitCode.UNAVAILABLE],
      ['TimeoutError', new TimeoutError('timeout', 1000), ExitCode.UNAVAILABLE],
      ['ScimError 401', new ScimError(401, undefined, 'bad token'), ExitCode.AUTH],
      ['UnexpectedStatusError 403', new UnexpectedStatusError(403, ''), ExitCode.AUTH],
      ['ScimError 404', new ScimError(404, undefined, 'gone'), ExitCode.NOT_FOUND],
      ['UnexpectedStatusError 502', new UnexpectedStatusError(502, ''), ExitCode.UNAVAILABLE],
      ['ScimError 503', new ScimError(503, undefined, undefined), ExitCode.UNAVAILABLE],
      ['UnexpectedContentTypeError 504', new UnexpectedContentTypeError(504, 'text/html', ''), ExitCode.UNAVAILABLE],
      ['ScimError 500', new ScimError(500, undefined, 'crash'), ExitCode.ERROR],
      ['ScimError 409', new ScimError(409, 'uniqueness', 'taken'), ExitCode.ERROR],
      ['ResponseValidationError', new ResponseValidationError(200, ['no Resources']), ExitCode.ERROR],
      [
        'ChangedOnServerError',
        new ChangedOnServerError('u1', new ScimError(412, undefined, undefined)),
        ExitCode.ERROR,
      ],
      ['MembershipSafetyError', new MembershipSafetyError('g1', ['u1']), ExitCode.ERROR],
      ['FilterError', new FilterError('bad filter'), ExitCode.ERROR],
      [
        'IncompleteListingError after 401',
        new IncompleteListingError('cut short', 100, new ScimError(401, undefined, undefined)),
        ExitCode.AUTH,
      ],
      [
        'IncompleteListingError after 404',
        new IncompleteListingError('cut short', 100, new ScimError(404, undefined, undefined)),
        ExitCode.ERROR,
      ],
      [
        'IncompleteListingError after 503',
        new IncompleteListingError('cut short', 100, new UnexpectedStatusError(503, '')),
        ExitCode.UNAVAILABLE,
      ],
      [
        'IncompleteListingError after a timeout',
        new IncompleteListingError('cut short', 100, new TimeoutError('timeout', 1000)),
        ExitCode.UNAVAILABLE,
      ],
      [
        'IncompleteListingError after a network error',
        new IncompleteListingError('cut short', 100, new NetworkError('reset', 'ECONNRESET')),
        ExitCode.UNAVAILABLE,
      ],
      [
        'IncompleteListingError after a 500',
        new IncompleteListingError('cut short', 100, new ScimError(500, undefined, undefined)),
        ExitCode.ERROR,
      ],
      [
        'IncompleteListingError after a not-found',
        new IncompleteListingError('cut short', 100, new NotFoundError('user', 'ann')),
        ExitCode.ERROR,
      ],
      ['IncompleteListingError with no cause', new IncompleteListingError('cut short', 100), ExitCode.ERROR],
      ['SilentExit', new SilentExit(ExitCode.REFUSED), ExitCode.REFUSED],
      ['an Error named like a usage error', Object.assign(new Error('x'), { name: 'ConfigError' }), ExitCode.ERROR],
      ['a plain Error', new Error('boom'), ExitCode.ERROR],
      ['a string', 'boom', ExitCode.ERROR],
    ];
    for (const [what, error, code] of cases) assert.equal(exitCodeFor(error), code, what);
  });

  test('the core errors keep their names (messages and logs show them)', () => {
    const names = [
      new ConfigError('x'),
      new CsvInputError('a.csv', 1, undefined, 'x'),
      new InputError([]),
      new PromptUnavailableError('--yes', 'x'),
      new PlanFileError('x'),
      new UsageError('x'),
    ].map((e) => e.name);
    assert.deepEqual(names, [
      'ConfigError',
      'CsvInputError',
      'InputError',
      'PromptUnavailableError',
      'PlanFileError',
      'UsageError',
    ]);
  });
});

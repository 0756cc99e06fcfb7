/**
 * Exit codes and the mapping of errors to them: the one place that decides how
 * scimctl ends. Documented in the README (its table is checked against
 * EXIT_CODE_MEANINGS by test/unit/exit-codes.test.ts).
 */
import {
  AmbiguousError,
  ClientUsageError,
  IncompleteListingError,
  NotFoundError,
  RequestError,
  ResponseError,
} from '../api/errors.ts';
import { AuthError, CallerError } from '../util/errors.ts';

export const ExitCode = {
  OK: 0,
  ERROR: 1,
  USAGE: 2,
  CHANGES_PENDING: 3,
  AUTH: 4,
  NOT_FOUND: 5,
  UNAVAILABLE: 6,
  REFUSED: 7,
  INTERRUPTED: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** What each exit code means, worded as the README's exit-code table words it. */
export const EXIT_CODE_MEANINGS: Readonly<Record<ExitCodeValue, string>> = {
  [ExitCode.OK]: 'success',
  [ExitCode.ERROR]:
    'an error not listed below (a server error, a malformed response, a listing ' +
    'that failed part-way, a write that failed for some items)',
  [ExitCode.USAGE]:
    'usage: bad flags or arguments (a bad number names its option), a bad input ' +
    'file or plan file (nothing was sent), missing configuration, an ambiguous ' +
    'name, a confirmation needed where there is no terminal (pass `--yes`) or ' +
    'refused',
  [ExitCode.CHANGES_PENDING]: '`--detailed-exitcode`: the plan has changes',
  [ExitCode.AUTH]: 'authentication (401) or permission (403) refused, or an LDAP bind refused',
  [ExitCode.NOT_FOUND]:
    'the named user or group does not exist (for activate/deactivate and ' +
    'update-attributes: some did not; for `runs user`: no run knows them)',
  [ExitCode.UNAVAILABLE]: 'the server could not be reached, timed out, or was unavailable (502/503/504 after retries)',
  [ExitCode.REFUSED]:
    'a sync safety check stopped the run before anything was applied (a threshold: ' +
    'deletions, membership removals, group deletions; an empty source or one ' +
    'without group data; source drift; a stale plan)',
  [ExitCode.INTERRUPTED]: 'interrupted',
};

/** A mistake in how scimctl was called (the command line): told with a pointer to `--help`. */
export class UsageError extends CallerError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** An error whose message was already printed; only the exit code remains. */
export class SilentExit extends Error {
  constructor(readonly code: ExitCodeValue) {
    super(`exit ${code}`);
    this.name = 'SilentExit';
  }
}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * The exit code of each kind of error, by class, most specific first: the first class an
 * error is an instance of decides. Errors of the core extend CallerError (src/util/errors.ts)
 * or one of the client's classes (src/api/errors.ts); anything else ends with ERROR.
 */
export const EXIT_CODE_BY_CLASS: ReadonlyArray<readonly [ErrorClass, ExitCodeValue]> = [
  [CallerError, ExitCode.USAGE],
  [AuthError, ExitCode.AUTH],
  [ClientUsageError, ExitCode.USAGE],
  [AmbiguousError, ExitCode.USAGE],
  [NotFoundError, ExitCode.NOT_FOUND],
  [RequestError, ExitCode.UNAVAILABLE],
];

/** The exit code of a server's answer (a ResponseError) by its HTTP status; any other status ends with ERROR. */
export const EXIT_CODE_BY_STATUS: Readonly<Record<number, ExitCodeValue>> = {
  401: ExitCode.AUTH,
  403: ExitCode.AUTH,
  404: ExitCode.NOT_FOUND,
  502: ExitCode.UNAVAILABLE,
  503: ExitCode.UNAVAILABLE,
  504: ExitCode.UNAVAILABLE,
};

const byClass = (error: unknown): ExitCodeValue | undefined =>
  EXIT_CODE_BY_CLASS.find(([type]) => error instanceof type)?.[1];

export function exitCodeFor(error: unknown): ExitCodeValue {
  if (error instanceof SilentExit) return error.code;
  const code = byClass(error);
  if (code !== undefined) return code;
  if (error instanceof ResponseError) return EXIT_CODE_BY_STATUS[error.status] ?? ExitCode.ERROR;
  if (error instanceof IncompleteListingError) {
    // A listing cut short ends as what cut it short would have: an answer's status (a 404 part-way
    // through names no missing user or group) or an unreachable server.
    const cause = error.cause;
    if (cause instanceof ResponseError && cause.status !== 404)
      return EXIT_CODE_BY_STATUS[cause.status] ?? ExitCode.ERROR;
    if (cause instanceof RequestError) return ExitCode.UNAVAILABLE;
  }
  return ExitCode.ERROR;
}

/**
 * Exit codes and the mapping of errors to them: the one place that decides how
 * scimctl ends. Documented in the README.
 */
import { AmbiguousError, ClientUsageError, IncompleteListingError, NetworkError, NotFoundError, ResponseError, TimeoutError } from '../api/errors.ts';

export const ExitCode = {
  OK: 0,
  /** Anything else that went wrong (server error, bad response, partial listing). */
  ERROR: 1,
  /** Bad flags or arguments, bad input file, missing configuration, a prompt needed without a terminal. */
  USAGE: 2,
  /** `--detailed-exitcode`: the plan has changes. */
  CHANGES_PENDING: 3,
  /** The server refused the credentials (401) or the operation (403). */
  AUTH: 4,
  /** The named user or group does not exist. */
  NOT_FOUND: 5,
  /** The server could not be reached, timed out, or is unavailable (5xx after retries). */
  UNAVAILABLE: 6,
  /** A safety check stopped a sync before anything was applied (a threshold, an empty source or one without group data, source drift, a stale plan). */
  REFUSED: 7,
  /** Interrupted (Ctrl+C). */
  INTERRUPTED: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A mistake in how scimctl was called. */
export class UsageError extends Error {
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

/**
 * Errors that mean "fix how scimctl was called or what it was given", by name:
 * matching names keeps their modules (CSV and file readers, prompts) out of start-up.
 */
const USAGE_ERRORS = new Set(['ConfigError', 'CsvInputError', 'InputError', 'PromptUnavailableError', 'PlanFileError']);

export function exitCodeFor(error: unknown): ExitCodeValue {
  if (error instanceof SilentExit) return error.code;
  if (error instanceof UsageError || error instanceof ClientUsageError || error instanceof AmbiguousError || (error instanceof Error && USAGE_ERRORS.has(error.name))) {
    return ExitCode.USAGE;
  }
  if (error instanceof NotFoundError) return ExitCode.NOT_FOUND;
  if (error instanceof NetworkError || error instanceof TimeoutError) return ExitCode.UNAVAILABLE;
  const cause = error instanceof IncompleteListingError ? error.cause : error;
  if (cause instanceof ResponseError) {
    if (cause.status === 401 || cause.status === 403) return ExitCode.AUTH;
    if (cause.status === 404 && !(error instanceof IncompleteListingError)) return ExitCode.NOT_FOUND;
    if (cause.status === 502 || cause.status === 503 || cause.status === 504) return ExitCode.UNAVAILABLE;
  }
  if (cause instanceof NetworkError || cause instanceof TimeoutError) return ExitCode.UNAVAILABLE;
  return ExitCode.ERROR;
}

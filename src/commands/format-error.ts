/** Turns any error into the lines an admin sees on stderr: what failed, and how to fix it. */
import { IncompleteListingError, ResponseError, ScimClientError, ScimError, isFilterRejection } from '../api/errors.ts';
import { redact } from '../api/redact.ts';
import type { Connection } from '../config/connection.ts';
import { safeLines } from '../output/safe-text.ts';
import { CallerError } from '../util/errors.ts';

export function formatError(
  error: unknown,
  connection: Connection | undefined,
  secrets: readonly string[] = [],
): string {
  const lines: string[] = [];
  const message = error instanceof Error ? error.message : String(error);
  const problems = inputProblems(error);
  if (problems !== undefined && problems > 1) {
    // Bad input: its message tells each kind of problem once (sources/problem-groups.ts).
    lines.push(
      `error: ${problems} problems in the input; nothing was written:`,
      ...message.split('\n').map((l) => `  ${l}`),
    );
  } else {
    lines.push(`error: ${message}`);
  }
  if (error instanceof ScimClientError && error.request) {
    lines.push(`  request: ${error.request.method} ${error.request.url}`);
  }
  const cause = error instanceof IncompleteListingError ? error.cause : error;
  if (error instanceof IncompleteListingError) {
    lines.push('  nothing was written: a listing that did not reach its end is never used as if complete');
  }
  if (cause instanceof ResponseError) {
    if (cause.status === 401) {
      const whose = connection?.name === 'environment' ? 'the environment' : `profile "${connection?.name}"`;
      lines.push(`  the server did not accept the credentials${connection ? ` of ${whose}` : ''}`);
      if (connection) lines.push(`  fix: ${connection.authHint}`);
    } else if (cause.status === 403) {
      lines.push('  the credentials are valid but lack permission for this operation');
    } else if (isFilterRejection(cause) && /[?&]filter=/.test(cause.request?.url ?? '')) {
      const why = cause instanceof ScimError && cause.scimType === 'invalidFilter' ? 'rejected' : 'could not process';
      lines.push(
        `  the server ${why} the filter; many servers support only "eq" on userName, externalId and emails.value`,
      );
    }
  }
  // A server's detail, a file's content or a name can carry terminal escapes: shown, not obeyed.
  return safeLines(redact(lines.join('\n'), secrets));
}

/**
 * How many problems bad input (an InputError: a CallerError with its problems; its module stays out of start-up) has.
 */
function inputProblems(error: unknown): number | undefined {
  if (!(error instanceof CallerError)) return undefined;
  const problems = (error as { problems?: unknown }).problems;
  return Array.isArray(problems) ? problems.length : undefined;
}

/** The secrets of a connection, for redacting anything printed. */
export function connectionSecrets(connection: Connection | undefined): string[] {
  if (!connection) return [];
  const out = Object.values(connection.headers);
  if (connection.auth.type === 'bearer') out.push(connection.auth.token);
  if (connection.auth.type === 'basic') out.push(connection.auth.password);
  return out;
}

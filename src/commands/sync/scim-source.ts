/**
 * sync plan|run with another SCIM server as the source: `--source scim:PROFILE` (or `source: {scim: PROFILE}` in a
 * config file) reads the users and groups of the server the profile names (its URL and secret, never shown) with
 * the same client as any target (sources/scim-pull.ts). `--source-filter` narrows its users with a SCIM filter;
 * `--nested` says how member groups count (as for a directory).
 *
 * The source and the target must be two servers: the same profile or the same URL is refused (exit 2) before
 * anything is read.
 */
import type { Argv } from 'yargs';
import { ResponseError } from '../../api/errors.ts';
import { FilterError, parseFilter } from '../../api/filter-eval.ts';
import { redact } from '../../api/redact.ts';
import { resolveConnection, type Connection } from '../../config/connection.ts';
import { readScimSource } from '../../sources/scim-pull.ts';
import type { SourceReader } from '../../sync/prepare.ts';
import { AuthError } from '../../util/errors.ts';
import { UsageError } from '../exit-codes.ts';
import type { Factory } from '../factory.ts';
import { connectionSecrets } from '../format-error.ts';

export interface ScimSourceFlags {
  source?: string;
  sourceFilter?: string;
  nested?: string;
  preset?: string;
  mapping?: string;
  groupsFile?: string;
  allowUnusualNames?: boolean;
  allowInsecureHttp?: boolean;
}

/** The SCIM source's own flag (--nested is the directory source's, shared). */
export function scimSourceOptions<T>(y: Argv<T>) {
  return y.option('source-filter', {
    type: 'string',
    describe:
      "With --source scim:PROFILE: a SCIM filter for the source users, e.g. 'active " +
      "eq true' (applied on this side when the server cannot filter)",
  });
}

const PREFIX = /^scim:/i;

/** Whether a --source names another SCIM server (scim:PROFILE). */
export const isScimSource = (source: string | undefined): boolean => source !== undefined && PREFIX.test(source.trim());

/** A URL as compared: scheme, host and port lower-cased by URL, the path without its trailing slashes. */
function sameServer(a: string, b: string): boolean {
  const norm = (u: string) => {
    try {
      const url = new URL(u);
      return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
    } catch {
      return u;
    }
  };
  return norm(a) === norm(b);
}

/**
 * The session's source for a scim:PROFILE --source (undefined for any other): the profile is resolved and checked
 * against the target now (usage errors before anything is read); the server is read when the source is.
 */
export async function scimSourceReader(flags: ScimSourceFlags, f: Factory): Promise<SourceReader | undefined> {
  if (!isScimSource(flags.source)) {
    if (flags.sourceFilter !== undefined)
      throw new UsageError('--source-filter is for a scim:PROFILE --source (another SCIM server), not a file');
    return undefined;
  }
  const name = flags.source!.trim().replace(PREFIX, '').trim();
  if (name === '')
    throw new UsageError('--source scim:PROFILE needs the name of a profile (see: scimctl profile list)');
  for (const [flag, value] of [
    ['--preset', flags.preset],
    ['--mapping', flags.mapping],
    ['--groups-file', flags.groupsFile],
  ] as const)
    if (value !== undefined)
      throw new UsageError(`${flag} is for a source file; a scim:PROFILE source gives SCIM resources as they are`);
  const filter = flags.sourceFilter?.trim() || undefined;
  if (filter !== undefined) {
    try {
      parseFilter(filter);
    } catch (e) {
      if (!(e instanceof FilterError)) throw e;
      throw new UsageError(`--source-filter: ${JSON.stringify(filter)} is not a SCIM filter: ${e.message}`);
    }
  }
  const source = await resolveConnection({ profile: name, allowInsecureHttp: flags.allowInsecureHttp }, f.env, () =>
    f.profiles(),
  );
  const target = await f.connection();
  if (target.name === source.name || sameServer(target.url, source.url))
    throw new UsageError(
      `the source scim:${name} (${source.url}) and the target ` +
        `(${target.name === 'environment' ? 'the environment' : `profile "${target.name}"`}, ` +
        `${target.url}) are the same server: a sync needs another server as its source`,
    );
  const label = `source scim:${name}`;
  const client = await f.clientFor(source, label);
  return async (registry, options) => {
    try {
      return await readScimSource(
        client,
        {
          url: source.url,
          ...(filter !== undefined ? { filter } : {}),
          ...(flags.nested !== undefined ? { nested: flags.nested === 'direct' ? 'direct' : 'flatten' } : {}),
          allowUnusualNames: flags.allowUnusualNames === true,
        },
        { registry, ...(options.keep ? { keep: options.keep } : {}) },
      );
    } catch (e) {
      throw sourceError(e, label, source);
    }
  };
}

/**
 * An error of the source's read, told as the source's: its credentials refused is an AuthError naming the source
 * profile and its fix (not the target's); anything else keeps its kind (and exit code), its message after the
 * source's name. The source's secrets never show.
 */
function sourceError(e: unknown, label: string, source: Connection): unknown {
  const secrets = connectionSecrets(source);
  if (e instanceof ResponseError && (e.status === 401 || e.status === 403)) {
    const what =
      e.status === 401
        ? 'did not accept the credentials'
        : 'accepted the credentials but refused to list users or groups';
    return new AuthError(
      redact(
        `${label} (${source.url}) ${what}: ${e.message}${e.status === 401 ? `; fix: ${source.authHint}` : ''}`,
        secrets,
      ),
    );
  }
  if (e instanceof Error) e.message = redact(`${label} (${source.url}): ${e.message}`, secrets);
  return e;
}

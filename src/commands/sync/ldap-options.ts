/**
 * sync plan|run with a directory as the source, and with a config file:
 * - `--source ldap://HOST:PORT/BASE_DN` (or ldaps://) and the `--ldap-*` flags: the directory's
 *   reader (sources/ldap) in the session's source slot. The password comes from an environment
 *   variable, a file or standard input (its first line), never from argv.
 * - `--config sync.yaml` (sync/config-file.ts): its values are flags the command line overrides.
 */
import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { LdapBindError, LdapTlsError } from '../../sources/ldap/errors.ts';
import { readLdapSource, type LdapSourceSettings } from '../../sources/ldap/read.ts';
import { flagsOf, loadSyncConfig } from '../../sync/config-file.ts';
import type { SourceReader } from '../../sync/prepare.ts';
import { UsageError } from '../exit-codes.ts';

export interface LdapFlags {
  source?: string;
  config?: string;
  ldapBindDn?: string;
  ldapPasswordEnv?: string;
  ldapPasswordFile?: string;
  ldapPasswordStdin?: boolean;
  ldapScope?: string;
  ldapUserBase?: string;
  ldapGroupBase?: string;
  ldapMembership?: string;
  ldapKind?: string;
  ldapUserFilter?: string;
  ldapGroupFilter?: string;
  ldapStartTls?: boolean;
  ldapCa?: string;
  ldapAnonymous?: boolean;
  ldapPageSize?: number;
  ldapBaseDn?: string;
  nested?: string;
  guidFormat?: string;
  ldapDisabled?: string;
  mapping?: string;
}

/** Flags that would put a password on the command line (visible in ps and shell history): refused. */
const PASSWORD_FLAGS = ['ldap-password', 'ldap-bind-password', 'bind-password'];

/** The LDAP source's flags and --config, for sync plan and run. */
export function ldapOptions<T>(y: Argv<T>) {
  // yargs would turn the config's error into a plain one (exit 1): it is kept here, and thrown
  // before yargs checks the arguments (a config without a source must not read as "no --source").
  let configError: Error | undefined;
  return (
    y
      .option('config', {
        type: 'string',
        config: true,
        configParser: (path: string) => {
          try {
            // A config serves plan and run alike: an option this command does not have (plan's --yes) is not for it.
            const known = (y as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key;
            return Object.fromEntries(
              Object.entries(flagsOf(loadSyncConfig(path))).filter(([k]) => k in known || k === 'profile'),
            );
          } catch (e) {
            configError = e as Error;
            return {};
          }
        },
        describe: 'A sync config file (YAML): source, target profile and options; flags given here override it',
      })
      .option('ldap-bind-dn', { type: 'string', describe: 'With an ldap:// or ldaps:// --source: the DN to bind as' })
      .option('ldap-password-env', { type: 'string', describe: 'The environment variable holding the bind password' })
      .option('ldap-password-file', { type: 'string', describe: 'A file holding the bind password (its first line)' })
      .option('ldap-password-stdin', {
        type: 'boolean',
        describe: 'Read the bind password from standard input (its first line; piped, not typed)',
      })
      .option('ldap-anonymous', { type: 'boolean', describe: 'Bind anonymously (no bind DN, no password)' })
      .option('ldap-user-filter', {
        type: 'string',
        describe: 'LDAP filter for the users (default: inetOrgPerson, or AD users)',
      })
      .option('ldap-group-filter', {
        type: 'string',
        describe: 'LDAP filter for the groups to sync (no groups without one)',
      })
      .option('ldap-start-tls', {
        type: 'boolean',
        describe: 'StartTLS on ldap:// (default: on, but for a loopback host)',
      })
      .option('ldap-ca', {
        type: 'string',
        describe: 'PEM file of the CA that issued the directory server certificate',
      })
      .option('ldap-page-size', { type: 'number', describe: 'Entries per page of the paged search (default 500)' })
      .option('ldap-disabled', {
        type: 'string',
        describe:
          'An attribute marking a disabled account: ATTR (any value) or ATTR=VALUE (besides the built-in rules)',
      })
      .option('ldap-scope', {
        type: 'string',
        choices: ['sub', 'one'],
        describe: 'Search scope under the base DNs: the whole subtree (sub, the default) or one level (one)',
      })
      .option('ldap-user-base', { type: 'string', describe: 'Base DN of the users (default: the base DN)' })
      .option('ldap-group-base', { type: 'string', describe: 'Base DN of the groups (default: the base DN)' })
      .option('ldap-membership', {
        type: 'string',
        choices: ['member', 'memberOf'],
        describe:
          "Group members from the groups' member/uniqueMember/memberUid (member, the default) or the users' memberOf",
      })
      .option('ldap-kind', {
        type: 'string',
        choices: ['openldap', 'ad'],
        describe: "The kind of directory (default: Active Directory when the server's root DSE says so, else OpenLDAP)",
      })
      .option('ldap-base-dn', {
        type: 'string',
        hidden: true,
        describe: 'The base DN (default: the --source URL path)',
      })
      .option('nested', {
        type: 'string',
        choices: ['flatten', 'direct'],
        describe: 'Nested groups: members at any depth (flatten, the default) or direct members only',
      })
      .option('guid-format', {
        type: 'string',
        choices: ['string', 'base64'],
        describe: "AD objectGUID as externalId: the GUID string (default) or base64 (Entra's immutableId)",
      })
      // Declared (hidden) so that they can be refused with a reason, not as unknown flags.
      .option('ldap-password', { type: 'string', hidden: true })
      .option('ldap-bind-password', { type: 'string', hidden: true })
      .option('bind-password', { type: 'string', hidden: true })
      .middleware(() => {
        if (configError) throw configError;
      }, true)
      .check((argv) => {
        for (const flag of PASSWORD_FLAGS) {
          if ((argv as Record<string, unknown>)[flag] !== undefined)
            throw new UsageError(
              `--${flag}: a password is never taken on the command line (it would show in ps ` +
                `and the shell history); use --ldap-password-env VAR, --ldap-password-file ` +
                `FILE or --ldap-password-stdin`,
            );
        }
        return true;
      })
  );
}

/** Whether a --source names a directory. */
export const isLdapSource = (source: string | undefined): boolean =>
  source !== undefined && /^ldaps?:\/\//i.test(source.trim());

/** The password the flags point at: an environment variable's value, or a file's first line. */
function password(flags: LdapFlags, env: NodeJS.ProcessEnv): string | undefined {
  const ways = [flags.ldapPasswordEnv !== undefined, flags.ldapPasswordFile !== undefined, !!flags.ldapPasswordStdin];
  if (ways.filter(Boolean).length > 1)
    throw new UsageError('give one of --ldap-password-env, --ldap-password-file or --ldap-password-stdin');
  if (flags.ldapPasswordEnv !== undefined) {
    const value = env[flags.ldapPasswordEnv];
    if (value === undefined || value === '')
      throw new UsageError(
        `--ldap-password-env: the environment variable ${flags.ldapPasswordEnv} is not set (or empty)`,
      );
    return value;
  }
  if (flags.ldapPasswordFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.ldapPasswordFile, 'utf8');
    } catch (e) {
      throw new UsageError(
        `--ldap-password-file: cannot read ${flags.ldapPasswordFile}: ` +
          `${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    const first = text.split(/\r?\n/)[0] ?? '';
    if (first === '') throw new UsageError(`--ldap-password-file: ${flags.ldapPasswordFile} is empty`);
    return first;
  }
  return undefined;
}

/** --ldap-disabled ATTR or ATTR=VALUE. */
function disabledRule(text: string): { attribute: string; value?: string } {
  const at = text.indexOf('=');
  return at < 0
    ? { attribute: text.trim() }
    : { attribute: text.slice(0, at).trim(), value: text.slice(at + 1).trim() };
}

/** The first line of a stream (up to its end when it has no newline); the stream is let go after it. */
async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  let data = '';
  for await (const chunk of stream) {
    data += String(chunk);
    if (data.includes('\n')) break;
  }
  return data.split(/\r?\n/)[0] ?? '';
}

const STDIN_IS_TERMINAL =
  '--ldap-password-stdin: standard input is a terminal; pipe the password in ' +
  '(e.g. from a secret store) or use --ldap-password-env VAR';

/**
 * The password from standard input (--ldap-password-stdin): its first line. A terminal is refused (the password would
 * be typed in view).
 */
export async function passwordFromStdin(stdin: NodeJS.ReadableStream & { isTTY?: boolean }): Promise<string> {
  if (stdin.isTTY) throw new UsageError(STDIN_IS_TERMINAL);
  const line = await firstLine(stdin);
  if (line === '') throw new UsageError('--ldap-password-stdin: no password on standard input');
  return line;
}

/**
 * The directory's settings from the flags (the password resolved; with --ldap-password-stdin, `stdinPassword` is the
 * line read from standard input).
 */
export function ldapSettings(flags: LdapFlags, env: NodeJS.ProcessEnv, stdinPassword?: string): LdapSourceSettings {
  const anonymous = flags.ldapAnonymous === true;
  if (!anonymous && flags.ldapBindDn === undefined)
    throw new UsageError(
      'an ldap:// source needs --ldap-bind-dn DN and --ldap-password-env VAR (or ' +
        '--ldap-password-file F, --ldap-password-stdin), or --ldap-anonymous',
    );
  if (anonymous && flags.ldapPasswordStdin)
    throw new UsageError('--ldap-anonymous takes no password: leave out --ldap-password-stdin');
  const pw = anonymous ? undefined : flags.ldapPasswordStdin ? stdinPassword : password(flags, env);
  if (!anonymous && pw === undefined)
    throw new UsageError(
      `no password for ${flags.ldapBindDn}: give --ldap-password-env VAR, ` +
        `--ldap-password-file FILE or --ldap-password-stdin (never the password itself)`,
    );
  return {
    url: flags.source!.trim(),
    ...(anonymous ? { anonymous: true } : { bindDn: flags.ldapBindDn, password: pw }),
    ...(flags.ldapBaseDn !== undefined ? { baseDn: flags.ldapBaseDn } : {}),
    ...(flags.ldapUserBase !== undefined ? { userBaseDn: flags.ldapUserBase } : {}),
    ...(flags.ldapGroupBase !== undefined ? { groupBaseDn: flags.ldapGroupBase } : {}),
    ...(flags.ldapScope !== undefined ? { scope: flags.ldapScope === 'one' ? 'one' : 'sub' } : {}),
    ...(flags.ldapMembership !== undefined
      ? { membership: flags.ldapMembership === 'memberOf' ? 'memberOf' : 'member' }
      : {}),
    ...(flags.ldapKind !== undefined ? { kind: flags.ldapKind === 'ad' ? 'ad' : 'openldap' } : {}),
    ...(flags.ldapUserFilter !== undefined ? { userFilter: flags.ldapUserFilter } : {}),
    ...(flags.ldapGroupFilter !== undefined ? { groupFilter: flags.ldapGroupFilter } : {}),
    ...(flags.ldapStartTls !== undefined ? { startTls: flags.ldapStartTls } : {}),
    ...(flags.ldapCa !== undefined ? { caFile: flags.ldapCa } : {}),
    ...(flags.ldapPageSize !== undefined ? { pageSize: flags.ldapPageSize } : {}),
    ...(flags.nested !== undefined ? { nested: flags.nested as 'flatten' | 'direct' } : {}),
    ...(flags.guidFormat !== undefined ? { guidFormat: flags.guidFormat === 'base64' ? 'base64' : 'guid' } : {}),
    ...(flags.ldapDisabled !== undefined ? { disabled: disabledRule(flags.ldapDisabled) } : {}),
    ...(flags.mapping !== undefined ? { mappingFile: flags.mapping } : {}),
  };
}

/**
 * The session's source for an ldap:// or ldaps:// --source (undefined for a file): reads the
 * directory; the entries it left out are the snapshot's problems. A refused bind names the bind
 * DN and where the password came from; a TLS failure names --ldap-ca.
 */
export function ldapSourceReader(
  flags: LdapFlags,
  env: NodeJS.ProcessEnv,
  stdin: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
): SourceReader | undefined {
  if (!isLdapSource(flags.source)) {
    const used = (
      [
        'ldapBindDn',
        'ldapPasswordEnv',
        'ldapPasswordFile',
        'ldapPasswordStdin',
        'ldapUserFilter',
        'ldapGroupFilter',
        'ldapCa',
        'ldapScope',
        'ldapUserBase',
        'ldapGroupBase',
        'ldapMembership',
        'ldapKind',
      ] as const
    ).filter((k) => flags[k] !== undefined);
    if (used.length > 0)
      throw new UsageError(
        `--${used[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is for an ` +
          `ldap:// or ldaps:// --source, not a file`,
      );
    return undefined;
  }
  // Checked now (usage errors before anything is read); the password from stdin is read when the source is.
  let settings = ldapSettings(flags, env, flags.ldapPasswordStdin ? '' : undefined);
  if (flags.ldapPasswordStdin && stdin.isTTY) throw new UsageError(STDIN_IS_TERMINAL);
  return async (registry) => {
    if (flags.ldapPasswordStdin) settings = { ...settings, password: await passwordFromStdin(stdin) };
    try {
      return await readLdapSource(settings, { registry });
    } catch (e) {
      if (e instanceof LdapBindError) {
        const from =
          flags.ldapPasswordEnv !== undefined
            ? `the environment variable ${flags.ldapPasswordEnv}`
            : flags.ldapPasswordFile !== undefined
              ? `the file ${flags.ldapPasswordFile}`
              : flags.ldapPasswordStdin
                ? 'standard input'
                : 'an anonymous bind';
        throw new LdapBindError(
          `${e.message} (the bind DN --ldap-bind-dn ${settings.bindDn ?? '(none)'}; the password from ${from})`,
          e.resultCode,
          e.bindDn,
        );
      }
      if (e instanceof LdapTlsError && !e.message.includes('--ldap-ca'))
        throw new LdapTlsError(`${e.message} (--ldap-ca)`, e.code, e.cause);
      throw e;
    }
  };
}

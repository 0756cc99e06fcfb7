/**
 * A sync config file (`scimctl sync plan|run --config sync.yaml`): the source (a file, or a
 * directory with its settings), the target profile, and the sync options by their flags' long
 * names. YAML (JSON is YAML too), checked whole: every problem names the file, the line and the
 * key. Secrets only by reference: a `password` key anywhere is refused (passwordEnv, passwordFile).
 * Relative paths resolve against the config file's folder.
 *
 *   target: PROFILE                 # optional
 *   source:
 *     file: users.csv               # + preset, mapping, groupsFile
 *   # or
 *     ldap: { url, bindDn, passwordEnv | passwordFile | passwordStdin, anonymous, baseDn, userBaseDn,
 *             groupBaseDn, scope, kind, membership, userFilter, groupFilter, startTls, ca, pageSize,
 *             nested, guidFormat, disabled, mapping }
 *   # or
 *     scim: PROFILE                 # another SCIM server (a profile), + filter, nested
 *   options:
 *     missing: deactivate           # every sync flag by its long name
 *
 * flagsOf turns a config into flag values (long names), which the command line overrides.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { ClientUsageError } from '../api/errors.ts';
import { isPlainObject } from '../util/objects.ts';

/** Every sync flag a config file's `options` may set, by long name, with the type of its value. */
export const SYNC_CONFIG_OPTIONS: Readonly<Record<string, 'string' | 'boolean' | 'number' | 'path'>> = {
  mode: 'string',
  missing: 'string',
  'delete-groups': 'boolean',
  'manage-all': 'boolean',
  'match-keys': 'string',
  'strict-schema': 'boolean',
  'allow-unusual-names': 'boolean',
  'max-deletes': 'string',
  'max-membership-removals': 'string',
  'max-group-deletes': 'string',
  'allow-empty': 'boolean',
  'allow-empty-groups': 'boolean',
  'accept-source-change': 'boolean',
  concurrency: 'number',
  'keep-runs': 'number',
  avatars: 'string',
  'avatar-max': 'string',
  rate: 'string',
  bulk: 'boolean',
  'log-file': 'path',
  'log-format': 'string',
  output: 'path',
  'report-url': 'string',
  'report-timeout': 'number',
  'report-header': 'string',
  'metrics-file': 'path',
  json: 'boolean',
  'detailed-exitcode': 'boolean',
  'dry-run': 'boolean',
  yes: 'boolean',
};

/** The values a choice option takes (as its flag does). */
const CHOICES: Readonly<Record<string, readonly string[]>> = {
  mode: ['full', 'attributes', 'groups'],
  missing: ['deactivate', 'delete', 'leave'],
  'log-format': ['text', 'json'],
  avatars: ['url', 'inline'],
};

/** A config file that cannot be used: each line names FILE:LINE: KEY. Exit 2. */
export class SyncConfigError extends ClientUsageError {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'SyncConfigError';
  }
}

const text = z.string().trim().min(1, 'must not be empty');

const fileSource = z.strictObject({
  file: text,
  preset: z.enum(['scim', 'pleio', 'omni']).optional(),
  mapping: text.optional(),
  groupsFile: text.optional(),
});

const ldapSource = z.strictObject({
  url: text.regex(/^ldaps?:\/\//i, 'must be an ldap:// or ldaps:// URL'),
  bindDn: text.optional(),
  passwordEnv: text.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable').optional(),
  passwordFile: text.optional(),
  passwordStdin: z.boolean().optional(),
  anonymous: z.boolean().optional(),
  baseDn: text.optional(),
  userBaseDn: text.optional(),
  groupBaseDn: text.optional(),
  scope: z.enum(['sub', 'one']).optional(),
  kind: z.enum(['openldap', 'ad']).optional(),
  membership: z.enum(['member', 'memberOf']).optional(),
  userFilter: text.optional(),
  groupFilter: text.optional(),
  startTls: z.boolean().optional(),
  ca: text.optional(),
  pageSize: z.number().int().min(1).optional(),
  nested: z.enum(['flatten', 'direct']).optional(),
  guidFormat: z.enum(['string', 'base64']).optional(),
  disabled: z
    .strictObject({
      attribute: text.regex(/^[A-Za-z][\w-]*$/, 'must be an attribute name'),
      value: z.union([z.string(), z.number(), z.boolean()]).optional(),
    })
    .optional(),
  mapping: text.optional(),
});

const scimSource = z.strictObject({
  scim: text,
  filter: text.optional(),
  nested: z.enum(['flatten', 'direct']).optional(),
});

const optionValue = z.union([z.string(), z.number(), z.boolean()]);

const configSchema = z.strictObject({
  target: text.optional(),
  source: z.union([z.strictObject({ ldap: ldapSource }), scimSource, fileSource]).optional(),
  options: z.record(z.string(), optionValue).optional(),
});

export type LdapSourceConfig = z.infer<typeof ldapSource>;
export type FileSourceConfig = z.infer<typeof fileSource>;
export type ScimSourceConfig = z.infer<typeof scimSource>;

export interface SyncConfig {
  /** The file as given. */
  path: string;
  target?: string;
  source?: FileSourceConfig | { ldap: LdapSourceConfig } | ScimSourceConfig;
  /** By long flag name, paths resolved. */
  options: Record<string, string | number | boolean>;
}

/** Keys that would hold a secret itself: refused anywhere in the file. */
const SECRET_KEY = /^(ldap-)?(bind-?)?password$|^(bindPassword|secret|token)$/i;

/** Reads and checks a config file; throws SyncConfigError with every problem. */
export function loadSyncConfig(path: string): SyncConfig {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SyncConfigError([
      `${path}: cannot read the config file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    ]);
  }
  return parseSyncConfig(path, source);
}

/** Checks a config file's text (see loadSyncConfig). */
export function parseSyncConfig(path: string, source: string): SyncConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number | undefined): number => (offset === undefined ? 1 : lineCounter.linePos(offset).line);
  if (doc.errors.length > 0)
    throw new SyncConfigError(doc.errors.map((e) => `${path}:${lineAt(e.pos[0])}: ${e.message.split('\n')[0]}`));
  const problems: string[] = [];
  // Secrets: a key that holds one, wherever it is.
  const walk = (node: unknown, at: string[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '';
        const keyPath = [...at, key];
        if (SECRET_KEY.test(key)) {
          problems.push(
            `${path}:${lineAt((pair.key as YamlNode).range?.[0])}: ${keyPath.join('.')}: a ` +
              `secret is never written in the config file; give passwordEnv (an environment ` +
              `variable) or passwordFile (a file) instead`,
          );
        } else walk(pair.value, keyPath);
      }
    } else if (isSeq(node)) node.items.forEach((item, i) => walk(item, [...at, String(i)]));
  };
  walk(doc.contents, []);
  if (problems.length > 0) throw new SyncConfigError(problems);

  const raw: unknown = doc.toJS() ?? {};
  const nodeLine = (keys: Array<string | number>): number => {
    for (let n = keys.length; n > 0; n--) {
      // The key's own line when there is one, else the value's, else the nearest parent's.
      const parent = n > 1 ? doc.getIn(keys.slice(0, n - 1), true) : doc.contents;
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(keys[n - 1]));
        if (pair) return lineAt((pair.key as YamlNode).range?.[0]);
      }
      const node = doc.getIn(keys.slice(0, n), true) as YamlNode | undefined;
      if (node?.range) return lineAt(node.range[0]);
    }
    return 1;
  };
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    // A source with an ldap (or scim) key is that form: its own problems, not "neither form".
    const rawSource = isPlainObject(raw) && isPlainObject(raw.source) ? raw.source : undefined;
    const form = rawSource && 'ldap' in rawSource ? 0 : rawSource && 'scim' in rawSource ? 1 : undefined;
    const issues = parsed.error.issues.flatMap((issue) =>
      form !== undefined && issue.code === 'invalid_union' && issue.path.join('.') === 'source' && issue.errors[form]
        ? issue.errors[form].map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }) as typeof issue)
        : [issue],
    );
    for (const issue of issues) {
      const keys = issue.path.map((k) => (typeof k === 'symbol' ? String(k) : k));
      let message = issue.message;
      if (issue.code === 'unrecognized_keys') {
        const key = issue.keys[0]!;
        problems.push(
          `${path}:${nodeLine([...keys, key])}: ${[...keys, key].join('.')}: not a ` +
            `setting here${keys.length === 0 ? ' (target, source, options)' : ''}`,
        );
        continue;
      }
      if (issue.code === 'invalid_union' && keys.join('.') === 'source')
        message =
          'must be either file: PATH (with preset, mapping, groupsFile), ldap: { url, ' +
          'bindDn, passwordEnv, … } or scim: PROFILE (with filter, nested)';
      problems.push(`${path}:${nodeLine(keys)}: ${keys.join('.') || '(the file)'}: ${message}`);
    }
    throw new SyncConfigError(problems);
  }
  const config = parsed.data;
  const dir = dirname(resolve(path));
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(dir, p));
  const options: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(config.options ?? {})) {
    const type = SYNC_CONFIG_OPTIONS[key];
    const where = `${path}:${nodeLine(['options', key])}: options.${key}`;
    if (type === undefined) {
      problems.push(
        `${where}: not a sync option (the options are the flags' long names: ` +
          `${Object.keys(SYNC_CONFIG_OPTIONS).join(', ')})`,
      );
    } else if (type === 'boolean' && typeof value !== 'boolean') {
      problems.push(`${where}: must be true or false`);
    } else if (type === 'number' && typeof value !== 'number') {
      problems.push(`${where}: must be a number`);
    } else if ((type === 'string' || type === 'path') && typeof value === 'boolean') {
      problems.push(`${where}: must be a value, not ${value}`);
    } else if (CHOICES[key] && !CHOICES[key].includes(String(value))) {
      problems.push(`${where}: must be one of ${CHOICES[key].join(', ')}, not ${JSON.stringify(value)}`);
    } else options[key] = type === 'path' ? at(String(value)) : type === 'string' ? String(value) : value;
  }
  if (config.source && 'ldap' in config.source) {
    const l = config.source.ldap;
    const stdin = l.passwordStdin === true;
    const given = (['passwordEnv', 'passwordFile', 'passwordStdin'] as const).filter((k) =>
      k === 'passwordStdin' ? stdin : l[k] !== undefined,
    );
    if (given.length > 1)
      problems.push(
        `${path}:${nodeLine(['source', 'ldap', given[1]!])}: source.ldap.${given[1]}: ` +
          `give ${given[0]} or ${given[1]}, not both`,
      );
    if (l.anonymous === true && (l.bindDn !== undefined || given.length > 0)) {
      problems.push(
        `${path}:${nodeLine(['source', 'ldap', 'anonymous'])}: source.ldap.anonymous: ` +
          `an anonymous bind takes no bindDn or password`,
      );
    }
    if (l.anonymous !== true && l.bindDn !== undefined && given.length === 0) {
      problems.push(
        `${path}:${nodeLine(['source', 'ldap', 'bindDn'])}: source.ldap: a bindDn ` +
          `needs passwordEnv or passwordFile (or passwordStdin: true)`,
      );
    }
  }
  if (problems.length > 0) throw new SyncConfigError(problems);
  let src: SyncConfig['source'];
  if (config.source && 'ldap' in config.source) {
    const l = config.source.ldap;
    src = {
      ldap: {
        ...l,
        ...(l.passwordFile ? { passwordFile: at(l.passwordFile) } : {}),
        ...(l.ca ? { ca: at(l.ca) } : {}),
        ...(l.mapping ? { mapping: at(l.mapping) } : {}),
      },
    };
  } else if (config.source && 'scim' in config.source) {
    src = config.source;
  } else if (config.source) {
    const f = config.source;
    src = {
      ...f,
      file: at(f.file),
      ...(f.mapping ? { mapping: at(f.mapping) } : {}),
      ...(f.groupsFile ? { groupsFile: at(f.groupsFile) } : {}),
    };
  }
  return { path, ...(config.target ? { target: config.target } : {}), ...(src ? { source: src } : {}), options };
}

/** A config as flag values by long name (what the command line would say); the command line overrides them. */
export function flagsOf(config: SyncConfig): Record<string, string | number | boolean> {
  const flags: Record<string, string | number | boolean> = { ...config.options };
  if (config.target !== undefined) flags.profile = config.target;
  const s = config.source;
  if (s && 'ldap' in s) {
    const l = s.ldap;
    const set = (flag: string, value: string | number | boolean | undefined) => {
      if (value !== undefined) flags[flag] = value;
    };
    set('source', l.url);
    set('ldap-base-dn', l.baseDn);
    set('ldap-bind-dn', l.bindDn);
    set('ldap-password-env', l.passwordEnv);
    set('ldap-password-file', l.passwordFile);
    set('ldap-password-stdin', l.passwordStdin);
    set('ldap-user-base', l.userBaseDn);
    set('ldap-group-base', l.groupBaseDn);
    set('ldap-scope', l.scope);
    set('ldap-kind', l.kind);
    set('ldap-membership', l.membership);
    set('ldap-anonymous', l.anonymous);
    set('ldap-user-filter', l.userFilter);
    set('ldap-group-filter', l.groupFilter);
    set('ldap-start-tls', l.startTls);
    set('ldap-ca', l.ca);
    set('ldap-page-size', l.pageSize);
    set('nested', l.nested);
    set('guid-format', l.guidFormat);
    set(
      'ldap-disabled',
      l.disabled
        ? l.disabled.value !== undefined
          ? `${l.disabled.attribute}=${String(l.disabled.value)}`
          : l.disabled.attribute
        : undefined,
    );
    set('mapping', l.mapping);
  } else if (s && 'scim' in s) {
    flags.source = `scim:${s.scim}`;
    if (s.filter !== undefined) flags['source-filter'] = s.filter;
    if (s.nested !== undefined) flags.nested = s.nested;
  } else if (s) {
    flags.source = s.file;
    if (s.preset !== undefined) flags.preset = s.preset;
    if (s.mapping !== undefined) flags.mapping = s.mapping;
    if (s.groupsFile !== undefined) flags['groups-file'] = s.groupsFile;
  }
  return flags;
}

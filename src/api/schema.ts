/**
 * Attribute definitions (RFC 7643 §7) and the built-in core schemas, used when
 * a server publishes no /Schemas and to type values read back from CSV.
 */
import { SCHEMA } from './types.ts';

export type AttributeType =
  'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'binary' | 'complex';

export interface AttributeDef {
  name: string;
  type: AttributeType;
  multiValued: boolean;
  required?: boolean;
  caseExact?: boolean;
  mutability?: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned?: 'always' | 'never' | 'default' | 'request';
  uniqueness?: 'none' | 'server' | 'global';
  canonicalValues?: string[];
  subAttributes?: AttributeDef[];
}

export interface SchemaDef {
  id: string;
  name?: string;
  attributes: AttributeDef[];
}

type Opts = Partial<Omit<AttributeDef, 'name' | 'type'>>;
const attr = (name: string, type: AttributeType, opts: Opts = {}): AttributeDef => ({
  name,
  type,
  multiValued: false,
  ...opts,
});
const str = (name: string, opts: Opts = {}) => attr(name, 'string', opts);
const ro = { mutability: 'readOnly' } as const;

/** The sub-attributes of a typical multi-valued attribute (emails, phoneNumbers, …). */
const multi = (
  name: string,
  types: string[],
  valueType: AttributeType = 'string',
  extra: AttributeDef[] = [],
): AttributeDef =>
  attr(name, 'complex', {
    multiValued: true,
    subAttributes: [
      attr('value', valueType),
      str('display'),
      str('type', { canonicalValues: types }),
      attr('primary', 'boolean'),
      ...extra,
    ],
  });

const groupRef = (name: string, opts: Opts = {}) =>
  attr(name, 'complex', {
    multiValued: true,
    ...opts,
    subAttributes: [
      str('value', opts.mutability ? ro : { mutability: 'immutable' }),
      attr('$ref', 'reference', opts.mutability ? ro : {}),
      str('display', ro),
      str('type', opts.mutability ? ro : { mutability: 'immutable' }),
    ],
  });

/** Attributes every resource has (RFC 7643 §3.1). */
export const COMMON_ATTRIBUTES: AttributeDef[] = [
  str('id', { caseExact: true, mutability: 'readOnly', returned: 'always', uniqueness: 'server' }),
  str('externalId', { caseExact: true }),
  attr('meta', 'complex', {
    mutability: 'readOnly',
    subAttributes: [
      str('resourceType', ro),
      attr('created', 'dateTime', ro),
      attr('lastModified', 'dateTime', ro),
      attr('location', 'reference', ro),
      str('version', { ...ro, caseExact: true }),
    ],
  }),
  attr('schemas', 'reference', { multiValued: true, caseExact: true }),
];

export const USER_SCHEMA: SchemaDef = {
  id: SCHEMA.USER,
  name: 'User',
  attributes: [
    str('userName', { required: true, uniqueness: 'server' }),
    attr('name', 'complex', {
      subAttributes: ['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix'].map(
        (n) => str(n),
      ),
    }),
    str('displayName'),
    str('nickName'),
    attr('profileUrl', 'reference'),
    str('title'),
    str('userType'),
    str('preferredLanguage'),
    str('locale'),
    str('timezone'),
    attr('active', 'boolean'),
    str('password', { mutability: 'writeOnly', returned: 'never' }),
    multi('emails', ['work', 'home', 'other']),
    multi('phoneNumbers', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
    multi('ims', ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo']),
    multi('photos', ['photo', 'thumbnail'], 'reference'),
    attr('addresses', 'complex', {
      multiValued: true,
      subAttributes: ['formatted', 'streetAddress', 'locality', 'region', 'postalCode', 'country']
        .map((n) => str(n))
        .concat([str('type', { canonicalValues: ['work', 'home', 'other'] }), attr('primary', 'boolean')]),
    }),
    groupRef('groups', { mutability: 'readOnly' }),
    multi('entitlements', []),
    multi('roles', []),
    multi('x509Certificates', [], 'binary'),
  ],
};

export const GROUP_SCHEMA: SchemaDef = {
  id: SCHEMA.GROUP,
  name: 'Group',
  attributes: [str('displayName', { required: true }), groupRef('members')],
};

export const ENTERPRISE_USER_SCHEMA: SchemaDef = {
  id: SCHEMA.ENTERPRISE_USER,
  name: 'EnterpriseUser',
  attributes: [
    str('employeeNumber'),
    str('costCenter'),
    str('organization'),
    str('division'),
    str('department'),
    attr('manager', 'complex', {
      subAttributes: [str('value'), attr('$ref', 'reference'), str('displayName', ro)],
    }),
  ],
};

export const BUILTIN_SCHEMAS: SchemaDef[] = [USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_USER_SCHEMA];

const lowerName = (s: string) => s.toLowerCase();

/*
 * Real servers publish partial schemas (a User schema without `groups` or `photos`, `addresses`
 * without `primary` while their own users carry it). Their /Schemas is a guide, never a wall:
 * discovery completes it with the RFC 7643 definitions, and remembers what it added (the
 * *undeclared* paths: a sync leaves out what is undeclared and no target user carries).
 */
export interface CompletedSchemas {
  /** The target's schemas, each completed with the RFC 7643 attributes and sub-attributes it does not declare. */
  schemas: SchemaDef[];
  /** Undeclared paths of users (lower-cased, see above) → the path as people read it (`addresses.primary`). */
  undeclared: ReadonlyMap<string, string>;
}

const schemaAttr = (defs: readonly AttributeDef[], name: string) =>
  defs.find((d) => lowerName(d.name) === lowerName(name));

/**
 * The target's schemas completed with the built-in ones: every RFC 7643 attribute a schema of
 * the same id does not declare is added, and so is every sub-attribute missing from an
 * attribute that declares sub-attributes (one that declares none takes any). The server's own
 * definitions win where both define something. Schemas the target does not describe are
 * kept as they are (discovery already added the built-in ones, whole).
 */
export function completeSchemas(schemas: readonly SchemaDef[]): CompletedSchemas {
  const undeclared = new Map<string, string>();
  const fitted = schemas.map((schema): SchemaDef => {
    const builtin = BUILTIN_SCHEMAS.find((b) => lowerName(b.id) === lowerName(schema.id));
    if (!builtin || builtin === schema) return schema;
    // Users' paths only: the core User schema unprefixed, extensions under their URN (the Group schema is not a
    // user's).
    const core = lowerName(schema.id) === lowerName(SCHEMA.USER);
    const tracked = core || lowerName(schema.id) !== lowerName(SCHEMA.GROUP);
    const prefix = core ? '' : `${lowerName(schema.id)}:`;
    const shown = core ? '' : `${schema.id}:`;
    const note = (path: string) => {
      if (tracked) undeclared.set(`${prefix}${lowerName(path)}`, `${shown}${path}`);
    };
    const attributes = schema.attributes.map((a): AttributeDef => {
      const b = schemaAttr(builtin.attributes, a.name);
      const own = a.subAttributes ?? [];
      if (!b?.subAttributes || own.length === 0) return a;
      const missing = b.subAttributes.filter((s) => !schemaAttr(own, s.name));
      if (missing.length === 0) return a;
      for (const s of missing) note(`${a.name}.${s.name}`);
      return { ...a, subAttributes: [...own, ...missing] };
    });
    for (const b of builtin.attributes) {
      if (schemaAttr(schema.attributes, b.name)) continue;
      note(b.name);
      attributes.push(b);
    }
    return { ...schema, attributes };
  });
  return { schemas: fitted, undeclared };
}

/**
 * Looks attribute definitions up by path, across the core schema of a resource
 * type and its extensions: `userName`, `name.givenName`,
 * `urn:…:enterprise:2.0:User:manager.value`.
 */
export class SchemaRegistry {
  private readonly byId = new Map<string, SchemaDef>();

  constructor(schemas: readonly SchemaDef[] = BUILTIN_SCHEMAS) {
    for (const s of BUILTIN_SCHEMAS) this.byId.set(s.id.toLowerCase(), s);
    for (const s of schemas) this.byId.set(s.id.toLowerCase(), s);
  }

  private readonly exact = new Map<string, SchemaDef | undefined>();

  schema(id: string): SchemaDef | undefined {
    if (this.exact.has(id)) return this.exact.get(id);
    const found = this.byId.get(id.toLowerCase());
    if (found) remember(this.exact, id, found);
    return found;
  }

  /** Extension schema URNs known to this registry (all but the core User and Group). */
  extensionIds(): string[] {
    return [...this.byId.values()].map((s) => s.id).filter((id) => id !== SCHEMA.USER && id !== SCHEMA.GROUP);
  }

  /** Remembered answers by schema, then path (no key string built per look-up: a big source asks millions of times). */
  private readonly lookups = new Map<string, Map<string, AttributeDef>>();
  private remembered = 0;

  /** Resolves `attr` or `attr.sub` within one schema (plus the common attributes). Answers are remembered. */
  lookup(schemaId: string, path: string): AttributeDef | undefined {
    const hit = this.lookups.get(schemaId)?.get(path);
    if (hit !== undefined) return hit;
    const found = this.resolve(schemaId, path);
    // Misses are not remembered: the names asked about can come from anyone (a server's clients).
    if (found) {
      // The cache stays small: a name that misses it is just resolved again.
      if (this.remembered >= 10_000) {
        this.lookups.clear();
        this.remembered = 0;
      }
      let paths = this.lookups.get(schemaId);
      if (!paths) this.lookups.set(schemaId, (paths = new Map()));
      paths.set(path, found);
      this.remembered++;
    }
    return found;
  }

  private resolve(schemaId: string, path: string): AttributeDef | undefined {
    const [head, sub] = splitOnce(path, '.');
    const schema = this.schema(schemaId);
    const top = find(schema?.attributes ?? [], head) ?? (isCore(schemaId) ? find(COMMON_ATTRIBUTES, head) : undefined);
    if (!top || sub === undefined) return top;
    return find(top.subAttributes ?? [], sub);
  }

  /** Splits a full path into its schema URN (if any) and the attribute path. */
  splitUrn(path: string): { urn?: string; attrPath: string } {
    if (!/^urn:/i.test(path)) return { attrPath: path };
    // The longest known schema id that prefixes the path wins.
    let best: string | undefined;
    for (const s of this.byId.values()) {
      if (path.toLowerCase().startsWith(`${s.id.toLowerCase()}:`) && (!best || s.id.length > best.length)) best = s.id;
    }
    if (best) return { urn: best, attrPath: path.slice(best.length + 1) };
    const idx = path.lastIndexOf(':');
    return { urn: path.slice(0, idx), attrPath: path.slice(idx + 1) };
  }
}

/** Caches of lookups stay small: a name that misses the cache is just resolved again. */
function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (cache.size >= 10_000) cache.clear();
  cache.set(key, value);
}

function isCore(schemaId: string): boolean {
  return schemaId === SCHEMA.USER || schemaId === SCHEMA.GROUP;
}

function find(defs: readonly AttributeDef[], name: string): AttributeDef | undefined {
  const lower = name.toLowerCase();
  return defs.find((d) => d.name.toLowerCase() === lower);
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

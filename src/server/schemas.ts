/**
 * What `scimctl serve` stores and publishes: the resource types (User with the enterprise
 * extension, Group), their schemas as RFC 7643 §7 representations, and the lookups the
 * filter, validation and PATCH code need. The attribute definitions are the client's own
 * built-in ones (src/api/schema.ts): one description of the core schemas in the codebase.
 */
import {
  COMMON_ATTRIBUTES,
  ENTERPRISE_USER_SCHEMA,
  GROUP_SCHEMA,
  SchemaRegistry,
  USER_SCHEMA,
  type AttributeDef,
  type SchemaDef,
} from '../api/schema.ts';
import { SCHEMA } from '../api/types.ts';
import { registryContext, type SchemaContext } from '../api/filter-eval.ts';

export type ResourceKind = 'User' | 'Group';

export interface ResourceTypeDef {
  kind: ResourceKind;
  endpoint: '/Users' | '/Groups';
  core: SchemaDef;
  extensions: SchemaDef[];
  description: string;
}

export const RESOURCE_TYPES: Record<ResourceKind, ResourceTypeDef> = {
  User: {
    kind: 'User',
    endpoint: '/Users',
    core: USER_SCHEMA,
    extensions: [ENTERPRISE_USER_SCHEMA],
    description: 'User accounts',
  },
  Group: {
    kind: 'Group',
    endpoint: '/Groups',
    core: GROUP_SCHEMA,
    extensions: [],
    description: 'Groups of users and groups',
  },
};

export const registry = new SchemaRegistry();

/** The filter evaluator's view of a resource type: unknown attributes are errors. */
export function schemaContext(kind: ResourceKind): SchemaContext {
  const type = RESOURCE_TYPES[kind];
  return registryContext(
    registry,
    type.core.id,
    type.extensions.map((e) => e.id),
    true,
  );
}

/** The definition of a top-level attribute of a resource type, by name (any case), core first. */
export function topAttribute(kind: ResourceKind, name: string): AttributeDef | undefined {
  return registry.lookup(RESOURCE_TYPES[kind].core.id, name);
}

// ---------------------------------------------------------------------------------------------
// Discovery representations (RFC 7643 §5, §6, §7)

function attributeRepresentation(def: AttributeDef): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: def.name,
    type: def.type,
    multiValued: def.multiValued,
    description: def.name,
    required: def.required ?? false,
    caseExact: def.caseExact ?? false,
    mutability: def.mutability ?? 'readWrite',
    returned: def.returned ?? 'default',
    uniqueness: def.uniqueness ?? 'none',
  };
  if (def.canonicalValues && def.canonicalValues.length > 0) out.canonicalValues = def.canonicalValues;
  if (def.type === 'reference') out.referenceTypes = def.name === '$ref' ? ['User', 'Group'] : ['external'];
  if (def.subAttributes) out.subAttributes = def.subAttributes.map(attributeRepresentation);
  return out;
}

export function schemaRepresentation(schema: SchemaDef, baseUrl: string): Record<string, unknown> {
  const common = new Set(COMMON_ATTRIBUTES.map((a) => a.name));
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
    id: schema.id,
    name: schema.name ?? schema.id,
    description: `${schema.name ?? schema.id} schema`,
    attributes: schema.attributes.filter((a) => !common.has(a.name)).map(attributeRepresentation),
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${schema.id}` },
  };
}

export const ALL_SCHEMAS: SchemaDef[] = [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA];

export function resourceTypeRepresentation(type: ResourceTypeDef, baseUrl: string): Record<string, unknown> {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id: type.kind,
    name: type.kind,
    endpoint: type.endpoint,
    description: type.description,
    schema: type.core.id,
    schemaExtensions: type.extensions.map((e) => ({ schema: e.id, required: false })),
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${type.kind}` },
  };
}

export interface ServerLimits {
  maxPageSize: number;
  defaultPageSize: number;
  maxOperations: number;
  maxPayloadSize: number;
  cursorTimeout: number;
  /** Milliseconds one request may spend evaluating its filter before it is answered 400 tooMany. */
  filterTimeMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxPageSize: 1000,
  defaultPageSize: 100,
  maxOperations: 1000,
  maxPayloadSize: 1_048_576,
  cursorTimeout: 3600,
  filterTimeMs: 2000,
};

/** The longest string an attribute value may be (characters); longer ones are refused 400 invalidValue. */
export const MAX_VALUE_LENGTH = 65_536;

/** The ServiceProviderConfig: what this server really does (a read-only server says it patches and bulks nothing). */
export function serviceProviderConfig(
  baseUrl: string,
  limits: ServerLimits,
  readOnly: boolean,
): Record<string, unknown> {
  return {
    schemas: [SCHEMA.SERVICE_PROVIDER_CONFIG],
    patch: { supported: !readOnly },
    bulk: {
      supported: !readOnly,
      maxOperations: readOnly ? 0 : limits.maxOperations,
      maxPayloadSize: readOnly ? 0 : limits.maxPayloadSize,
    },
    filter: { supported: true, maxResults: limits.maxPageSize },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    pagination: {
      cursor: true,
      index: true,
      defaultPaginationMethod: 'index',
      defaultPageSize: limits.defaultPageSize,
      maxPageSize: limits.maxPageSize,
      cursorTimeout: limits.cursorTimeout,
    },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description: 'Authorization: Bearer <token>, the token given to scimctl serve --token-env',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}

/** SCIM 2.0 resource and message shapes (RFC 7643, RFC 7644). */

export const SCHEMA = {
  USER: 'urn:ietf:params:scim:schemas:core:2.0:User',
  GROUP: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  ENTERPRISE_USER: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  LIST_RESPONSE: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  SEARCH_REQUEST: 'urn:ietf:params:scim:api:messages:2.0:SearchRequest',
  ERROR: 'urn:ietf:params:scim:api:messages:2.0:Error',
  PATCH_OP: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  BULK_REQUEST: 'urn:ietf:params:scim:api:messages:2.0:BulkRequest',
  SERVICE_PROVIDER_CONFIG: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
} as const;

export interface ScimMeta {
  resourceType?: string;
  created?: string;
  lastModified?: string;
  location?: string;
  version?: string;
}

/** Any SCIM resource: the common attributes typed, everything else open. */
export interface ScimResource {
  schemas?: string[];
  id: string;
  externalId?: string;
  meta?: ScimMeta;
  [attribute: string]: unknown;
}

export interface MultiValue {
  value?: string;
  display?: string;
  type?: string;
  primary?: boolean;
  $ref?: string;
  [sub: string]: unknown;
}

export interface ScimUser extends ScimResource {
  userName: string;
  name?: {
    formatted?: string;
    familyName?: string;
    givenName?: string;
    middleName?: string;
    honorificPrefix?: string;
    honorificSuffix?: string;
  };
  displayName?: string;
  nickName?: string;
  title?: string;
  userType?: string;
  active?: boolean;
  emails?: MultiValue[];
  phoneNumbers?: MultiValue[];
  groups?: MultiValue[];
}

export interface ScimGroup extends ScimResource {
  displayName: string;
  members?: MultiValue[];
}

export interface ListResponse<T = ScimResource> {
  schemas: string[];
  totalResults: number;
  itemsPerPage?: number;
  startIndex?: number;
  nextCursor?: string;
  Resources: T[];
}

export type ResourceKind = 'User' | 'Group';

/**
 * What a resource's `schemas` names (RFC 7643 §3): its core schema, then every extension URN it
 * has attributes under (its keys that are URNs), in the resource's order.
 */
export function schemasFor(coreSchema: string, resource: Record<string, unknown>): string[] {
  return [coreSchema, ...Object.keys(resource).filter((k) => /^urn:/i.test(k))];
}

/** The primary e-mail of a user: the one marked primary, else the first. */
export function primaryEmail(user: Pick<ScimUser, 'emails'>): string | undefined {
  const emails = Array.isArray(user.emails) ? user.emails : [];
  return (emails.find((e) => e?.primary === true) ?? emails[0])?.value;
}

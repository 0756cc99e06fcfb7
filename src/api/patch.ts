/**
 * PatchOp builder (RFC 7644 §3.5.2). Produces the request body; the client
 * decides whether the server gets a PATCH or a GET + PUT.
 */
import { ClientUsageError } from './errors.ts';

export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path?: string;
  value?: unknown;
}

export interface PatchRequest {
  schemas: [typeof PATCH_OP_SCHEMA];
  Operations: PatchOperation[];
}

export class PatchBuilder {
  private readonly ops: PatchOperation[] = [];

  /** add: with a path, sets or appends at that path; without, merges an object of attributes. */
  add(path: string | undefined, value: unknown): this {
    if (value === undefined) throw new ClientUsageError('a PATCH "add" needs a value');
    this.ops.push(path === undefined ? { op: 'add', value } : { op: 'add', path, value });
    return this;
  }

  replace(path: string | undefined, value: unknown): this {
    if (value === undefined) throw new ClientUsageError('a PATCH "replace" needs a value');
    this.ops.push(path === undefined ? { op: 'replace', value } : { op: 'replace', path, value });
    return this;
  }

  /** remove: a path is required (RFC 7644: "If "path" is unspecified, the operation fails"). */
  remove(path: string, value?: unknown): this {
    if (!path) throw new ClientUsageError('a PATCH "remove" needs a path');
    this.ops.push(value === undefined ? { op: 'remove', path } : { op: 'remove', path, value });
    return this;
  }

  get size(): number {
    return this.ops.length;
  }

  build(): PatchRequest {
    if (this.ops.length === 0) throw new ClientUsageError('a PATCH request needs at least one operation');
    return { schemas: [PATCH_OP_SCHEMA], Operations: this.ops.map((op) => ({ ...op })) };
  }
}

export const patch = (): PatchBuilder => new PatchBuilder();

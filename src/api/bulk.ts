/**
 * SCIM Bulk (RFC 7644 §3.7): many operations in one request, within the
 * server's advertised maxOperations and maxPayloadSize.
 */
import type { Transport } from './http.ts';
import { ResponseValidationError } from './errors.ts';
import { SCHEMA } from './types.ts';

export interface BulkOperation {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** e.g. /Users, /Users/ID */
  path: string;
  bulkId?: string;
  version?: string;
  data?: unknown;
}

export interface BulkOperationResult {
  status: number;
  location?: string;
  bulkId?: string;
  /** The resource (or the error body) the server sent back for this operation, if any. */
  response?: unknown;
}

const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

/** Splits operations into requests of at most `maxOperations` and (serialized) `maxPayloadSize` bytes. */
export function batchOperations(
  ops: readonly BulkOperation[],
  maxOperations: number,
  maxPayloadSize: number,
): BulkOperation[][] {
  const batches: BulkOperation[][] = [];
  const envelope = Buffer.byteLength(JSON.stringify({ schemas: [SCHEMA.BULK_REQUEST], Operations: [] }));
  let current: BulkOperation[] = [];
  let size = envelope;
  for (const op of ops) {
    const opSize = Buffer.byteLength(JSON.stringify(op)) + 1;
    const full =
      (maxOperations > 0 && current.length >= maxOperations) ||
      (maxPayloadSize > 0 && current.length > 0 && size + opSize > maxPayloadSize);
    if (full) {
      batches.push(current);
      current = [];
      size = envelope;
    }
    current.push(op);
    size += opSize;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Servers send "201", 201, or { code: 201 }. */
function statusOf(raw: unknown): number | undefined {
  const v = raw && typeof raw === 'object' ? (raw as { code?: unknown }).code : raw;
  const n = typeof v === 'string' ? Number.parseInt(v, 10) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** Sends one Bulk request; returns one result per operation, in the order sent. */
export async function sendBulk(transport: Transport, ops: readonly BulkOperation[]): Promise<BulkOperationResult[]> {
  const withIds = ops.map((op, i) => ({ ...op, bulkId: op.bulkId ?? `op${i}` }));
  const res = await transport.request('POST', '/Bulk', {
    body: { schemas: [SCHEMA.BULK_REQUEST], Operations: withIds },
    expect: [200],
  });
  const body = res.body as { schemas?: unknown; Operations?: unknown } | undefined;
  if (!body || !Array.isArray(body.Operations))
    throw new ResponseValidationError(res.status, [`a ${BULK_RESPONSE} must have "Operations"`]);
  const byBulkId = new Map<string, Record<string, unknown>>();
  body.Operations.forEach((o) => {
    if (o && typeof o === 'object' && typeof (o as { bulkId?: unknown }).bulkId === 'string')
      byBulkId.set((o as { bulkId: string }).bulkId, o as Record<string, unknown>);
  });
  return withIds.map((op, i) => {
    // Match by bulkId where the server echoes it, else by position (never taking a result that names another
    // operation).
    const positional = (body.Operations as Array<Record<string, unknown> | undefined>)[i];
    const raw =
      byBulkId.get(op.bulkId) ??
      (positional && typeof positional === 'object' && typeof positional.bulkId !== 'string' ? positional : undefined);
    const status = raw ? statusOf(raw.status) : undefined;
    if (!raw || status === undefined) return { status: 0, bulkId: op.bulkId };
    return {
      status,
      bulkId: op.bulkId,
      location: typeof raw.location === 'string' ? raw.location : undefined,
      response: raw.response,
    };
  });
}

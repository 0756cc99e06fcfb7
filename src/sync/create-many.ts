/**
 * Creating many resources: skip those that exist (found by userName or
 * externalId, or answered 409), create the rest with bounded concurrency,
 * through SCIM Bulk when the server offers it, paced to a rate limit when asked.
 * Every record gets a result; one failure never stops the others.
 */
import { batchOperations, sendBulk, type BulkOperationResult } from '../api/bulk.ts';
import type { ScimClient } from '../api/client.ts';
import type { Capabilities } from '../api/discovery.ts';
import { ResponseError, ScimError } from '../api/errors.ts';
import { runAll, type Pacer } from '../api/executor.ts';
import type { ScimResource, ScimUser } from '../api/types.ts';

export interface CreateRecord {
  resource: Record<string, unknown>;
  /** Where it came from, for messages: file and line. */
  file: string;
  line: number;
}

export type CreateStatus = 'created' | 'skipped' | 'failed';

export interface CreateResult {
  record: CreateRecord;
  status: CreateStatus;
  id?: string;
  /** Why it was skipped, or the server's detail for a failure. */
  detail?: string;
}

export interface CreateManyOptions {
  concurrency: number;
  pacer?: Pacer;
  /** 'auto' uses Bulk when the server advertises it. */
  bulk: 'auto' | 'never';
  onResult?: (result: CreateResult) => void;
}

const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : undefined);

/** Existing users by lower-cased userName and by externalId, read once (one request per page, not per user). */
async function existingUsers(client: ScimClient): Promise<{ byUserName: Map<string, string>; byExternalId: Map<string, string> }> {
  const byUserName = new Map<string, string>();
  const byExternalId = new Map<string, string>();
  for await (const u of client.users.list({ attributes: ['userName', 'externalId'] })) {
    const name = lower(u.userName);
    if (name) byUserName.set(name, u.id);
    if (typeof u.externalId === 'string') byExternalId.set(u.externalId, u.id);
  }
  return { byUserName, byExternalId };
}

function detailOf(e: unknown): string {
  if (e instanceof ScimError) return e.detail ?? e.message;
  return e instanceof Error ? e.message : String(e);
}

function bulkDetail(r: BulkOperationResult): string {
  const body = r.response as { detail?: unknown; scimType?: unknown } | undefined;
  const detail = typeof body?.detail === 'string' ? body.detail : undefined;
  return `HTTP ${r.status || '?'}${typeof body?.scimType === 'string' ? ` ${body.scimType}` : ''}${detail ? `: ${detail}` : ''}`;
}

function idFromLocation(location: string | undefined): string | undefined {
  if (!location) return undefined;
  const last = location.replace(/\/+$/, '').split('/').pop();
  return last ? decodeURIComponent(last) : undefined;
}

export async function createManyUsers(client: ScimClient, caps: Capabilities, records: readonly CreateRecord[], options: CreateManyOptions): Promise<CreateResult[]> {
  const results: CreateResult[] = new Array(records.length);
  const settle = (i: number, r: CreateResult) => {
    results[i] = r;
    options.onResult?.(r);
  };

  const { byUserName, byExternalId } = await existingUsers(client);
  const pending: number[] = [];
  records.forEach((record, i) => {
    const byName = byUserName.get(lower(record.resource.userName) ?? '\0');
    const byExt = typeof record.resource.externalId === 'string' ? byExternalId.get(record.resource.externalId) : undefined;
    if (byName || byExt) settle(i, { record, status: 'skipped', id: byName ?? byExt, detail: byName ? 'userName exists' : 'externalId exists' });
    else pending.push(i);
  });

  const body = (i: number) => {
    const { id: _id, meta: _meta, groups: _groups, ...rest } = records[i]!.resource;
    return rest;
  };

  let remaining = pending;
  if (options.bulk === 'auto' && caps.bulk.supported && remaining.length > 1) {
    const ops = remaining.map((i) => ({ method: 'POST' as const, path: '/Users', bulkId: `r${i}`, data: body(i) }));
    const batches = batchOperations(ops, caps.bulk.maxOperations || 100, caps.bulk.maxPayloadSize || 1_048_576);
    let unsupported = false;
    const done = new Set<number>();
    await runAll(
      batches,
      async (batch) => {
        if (unsupported) return;
        await options.pacer?.wait();
        let answers: BulkOperationResult[];
        try {
          answers = await sendBulk(client.transport, batch);
        } catch (e) {
          // A server that advertises Bulk but has no endpoint: fall back to single requests.
          if (e instanceof ResponseError && [404, 405, 501].includes(e.status)) {
            unsupported = true;
            caps.bulk.supported = false;
            return;
          }
          for (const op of batch) {
            const i = Number(op.bulkId!.slice(1));
            done.add(i);
            settle(i, { record: records[i]!, status: 'failed', detail: detailOf(e) });
          }
          return;
        }
        answers.forEach((a, k) => {
          const i = Number(batch[k]!.bulkId!.slice(1));
          done.add(i);
          const resource = a.response as ScimResource | undefined;
          if (a.status === 201 || a.status === 200) settle(i, { record: records[i]!, status: 'created', id: resource?.id ?? idFromLocation(a.location) });
          else if (a.status === 409) settle(i, { record: records[i]!, status: 'skipped', detail: `already exists (${bulkDetail(a)})` });
          else settle(i, { record: records[i]!, status: 'failed', detail: bulkDetail(a) });
        });
      },
      { concurrency: Math.min(options.concurrency, 2) },
    );
    remaining = remaining.filter((i) => !done.has(i));
  }

  await runAll(
    remaining,
    async (i) => {
      await options.pacer?.wait();
      const record = records[i]!;
      try {
        const created = await client.users.create(body(i) as Omit<ScimUser, 'id'>);
        settle(i, { record, status: 'created', id: created.id });
      } catch (e) {
        if (e instanceof ResponseError && e.status === 409) settle(i, { record, status: 'skipped', detail: `already exists (${detailOf(e)})` });
        else settle(i, { record, status: 'failed', detail: detailOf(e) });
      }
    },
    { concurrency: options.concurrency },
  );
  return results;
}

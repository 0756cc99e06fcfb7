/**
 * Creating many resources: skip those that exist (found by userName or
 * externalId, or answered 409), create the rest with bounded concurrency,
 * through SCIM Bulk when the server offers it, paced to a rate limit when asked.
 * Every record gets a result; one failure never stops the others.
 */
import type { ScimClient } from '../api/client.ts';
import type { Capabilities } from '../api/discovery.ts';
import type { Pacer } from '../api/executor.ts';
import { postMany } from './post-many.ts';

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
async function existingUsers(
  client: ScimClient,
): Promise<{ byUserName: Map<string, string>; byExternalId: Map<string, string> }> {
  const byUserName = new Map<string, string>();
  const byExternalId = new Map<string, string>();
  for await (const u of client.users.list({ attributes: ['userName', 'externalId'] })) {
    const name = lower(u.userName);
    if (name) byUserName.set(name, u.id);
    if (typeof u.externalId === 'string') byExternalId.set(u.externalId, u.id);
  }
  return { byUserName, byExternalId };
}

export async function createManyUsers(
  client: ScimClient,
  caps: Capabilities,
  records: readonly CreateRecord[],
  options: CreateManyOptions,
): Promise<CreateResult[]> {
  const results: CreateResult[] = new Array(records.length);
  const settle = (i: number, r: CreateResult) => {
    results[i] = r;
    options.onResult?.(r);
  };

  const { byUserName, byExternalId } = await existingUsers(client);
  const pending: number[] = [];
  records.forEach((record, i) => {
    const byName = byUserName.get(lower(record.resource.userName) ?? '\0');
    const byExt =
      typeof record.resource.externalId === 'string' ? byExternalId.get(record.resource.externalId) : undefined;
    if (byName || byExt)
      settle(i, {
        record,
        status: 'skipped',
        id: byName ?? byExt,
        detail: byName ? 'userName exists' : 'externalId exists',
      });
    else pending.push(i);
  });

  const body = (i: number) => {
    const { id: _id, meta: _meta, groups: _groups, ...rest } = records[i]!.resource;
    return rest;
  };
  await postMany(client, caps, '/Users', pending.map(body), {
    concurrency: options.concurrency,
    pacer: options.pacer,
    bulk: options.bulk,
    onOutcome: (k, o) => {
      const i = pending[k]!;
      const record = records[i]!;
      if (o.status === 'created') settle(i, { record, status: 'created', id: o.id });
      else if (o.status === 'conflict')
        settle(i, { record, status: 'skipped', detail: `already exists (${o.detail})` });
      else settle(i, { record, status: 'failed', detail: o.detail });
    },
  });
  return results;
}

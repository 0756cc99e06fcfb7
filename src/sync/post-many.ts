/**
 * POSTing many new resources: through SCIM Bulk in batches when the server
 * offers it, else one request each, bounded and paced. Every body gets an
 * outcome; a server that advertises Bulk without having it gets single requests.
 */
import { batchOperations, sendBulk, type BulkOperationResult } from '../api/bulk.ts';
import { withSchemas, type ScimClient } from '../api/client.ts';
import type { Capabilities } from '../api/discovery.ts';
import { mayHaveActed, ResponseError, ScimError } from '../api/errors.ts';
import { runAll, type Pacer } from '../api/executor.ts';
import type { ScimResource } from '../api/types.ts';

export type PostOutcome =
  { status: 'created'; id?: string; resource?: ScimResource } | { status: 'conflict' | 'failed'; detail: string };

export interface PostManyOptions {
  concurrency: number;
  pacer?: Pacer;
  bulk: 'auto' | 'never';
  onOutcome?: (index: number, outcome: PostOutcome) => void;
}

export function errorDetail(e: unknown): string {
  if (e instanceof ScimError) return e.detail ?? e.message;
  return e instanceof Error ? e.message : String(e);
}

function bulkDetail(r: BulkOperationResult): string {
  const body = r.response as { detail?: unknown; scimType?: unknown } | undefined;
  const detail = typeof body?.detail === 'string' ? body.detail : undefined;
  return (
    `HTTP ${r.status || '?'}` +
    `${typeof body?.scimType === 'string' ? ` ${body.scimType}` : ''}` +
    `${detail ? `: ${detail}` : ''}`
  );
}

function idFromLocation(location: string | undefined): string | undefined {
  if (!location) return undefined;
  const last = location.replace(/\/+$/, '').split('/').pop();
  // Some servers answer `Location: …/Users/undefined` when they did not say the new id.
  return last && last !== 'undefined' && last !== 'null' ? decodeURIComponent(last) : undefined;
}

export async function postMany(
  client: ScimClient,
  caps: Capabilities,
  endpoint: '/Users' | '/Groups',
  bodies: readonly Record<string, unknown>[],
  options: PostManyOptions,
): Promise<PostOutcome[]> {
  const outcomes: PostOutcome[] = new Array(bodies.length);
  const settle = (i: number, o: PostOutcome) => {
    outcomes[i] = o;
    options.onOutcome?.(i, o);
  };
  let remaining = bodies.map((_, i) => i);
  /** Items of a Bulk request that failed as a whole with a 5xx: the server may have made some of them. */
  const uncertain = new Set<number>();

  if (options.bulk === 'auto' && caps.bulk.supported && remaining.length > 1) {
    const ops = remaining.map((i) => ({
      method: 'POST' as const,
      path: endpoint,
      bulkId: `b${i}`,
      data: withSchemas(bodies[i]!, endpoint === '/Users' ? 'User' : 'Group'),
    }));
    const batches = batchOperations(ops, caps.bulk.maxOperations || 100, caps.bulk.maxPayloadSize || 1_048_576);
    const done = new Set<number>();
    let unsupported = false;
    await runAll(
      batches,
      async (batch) => {
        if (unsupported) return;
        await options.pacer?.wait();
        let answers: BulkOperationResult[];
        try {
          answers = await sendBulk(client.transport, batch);
        } catch (e) {
          if (e instanceof ResponseError && [404, 405, 501].includes(e.status)) {
            unsupported = true;
            caps.bulk.supported = false;
            return;
          }
          // A 5xx or no answer: each one is looked up, then created on its own if it is not there.
          const retry = mayHaveActed(e);
          for (const op of batch) {
            const i = Number(op.bulkId!.slice(1));
            if (retry) {
              uncertain.add(i);
              continue;
            }
            done.add(i);
            settle(i, { status: 'failed', detail: errorDetail(e) });
          }
          return;
        }
        answers.forEach((a, k) => {
          const i = Number(batch[k]!.bulkId!.slice(1));
          const resource = a.response as ScimResource | undefined;
          const id = resource?.id ?? idFromLocation(a.location);
          if ((a.status === 201 || a.status === 200) && id === undefined) {
            // Created, but the server did not say which id: the single path finds it by name.
            uncertain.add(i);
            return;
          }
          done.add(i);
          if (a.status === 201 || a.status === 200) settle(i, { status: 'created', id, resource });
          else if (a.status === 409) settle(i, { status: 'conflict', detail: bulkDetail(a) });
          else settle(i, { status: 'failed', detail: bulkDetail(a) });
        });
      },
      { concurrency: Math.min(options.concurrency, 2) },
    );
    remaining = remaining.filter((i) => !done.has(i));
  }

  const api = endpoint === '/Users' ? client.users : client.groups;
  await runAll(
    remaining,
    async (i) => {
      await options.pacer?.wait();
      try {
        const created = await api.create(bodies[i] as never, { lookupFirst: uncertain.has(i) });
        settle(i, { status: 'created', id: created.id, resource: created });
      } catch (e) {
        if (e instanceof ResponseError && e.status === 409) settle(i, { status: 'conflict', detail: errorDetail(e) });
        else settle(i, { status: 'failed', detail: errorDetail(e) });
      }
    },
    { concurrency: options.concurrency },
  );
  return outcomes;
}

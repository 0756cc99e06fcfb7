import type { Capabilities } from '../../api/discovery.ts';
import { writeChunk } from '../../output/iostreams.ts';
import type { CliContext, Command, GlobalArgs } from '../context.ts';
import type { Factory } from '../factory.ts';

const yes = (b: boolean) => (b ? 'yes' : 'no');

export function describeCapabilities(caps: Capabilities): string[] {
  return [
    `discovery:   ${caps.source === 'discovered' ? 'from the server' : 'not published; using conservative defaults'}`,
    `patch:       ${yes(caps.patch)}`,
    `bulk:        ${caps.bulk.supported ? `yes (max ${caps.bulk.maxOperations || '?'} operations, ${caps.bulk.maxPayloadSize || '?'} bytes)` : 'no'}`,
    `filter:      ${caps.filter.supported ? `yes${caps.filter.maxResults ? ` (max ${caps.filter.maxResults} results)` : ''}` : 'no'}`,
    `sort:        ${yes(caps.sort)}`,
    `etag:        ${yes(caps.etag)}`,
    `paging:      ${[caps.pagination.index ? 'index' : '', caps.pagination.cursor ? 'cursor' : ''].filter(Boolean).join(', ')}`,
    `auth:        ${caps.authenticationSchemes.map((s) => s.name ?? s.type).join(', ') || '(not said)'}`,
    `resources:   ${caps.resourceTypes.map((r) => `${r.name} ${r.endpoint}`).join(', ')}`,
    `schemas:     ${caps.schemasFromServer ? caps.schemas.length : 'built-in (the server publishes none)'}`,
    ...caps.warnings.map((w) => `warning:     ${w}`),
  ];
}

export async function runProfileTest(opts: { json: boolean }, f: Factory): Promise<void> {
  const client = await f.client();
  const connection = await f.connection();
  const caps = await client.discover();
  // Discovery may be open to anyone: a real read proves the credentials.
  const probe = await client.transport.request('GET', '/Users', { query: { count: 1, startIndex: 1 }, expect: [200] });
  const total = (probe.body as { totalResults?: unknown } | undefined)?.totalResults;
  if (opts.json) {
    await writeChunk(f.io.stdout, `${JSON.stringify({ profile: connection.name, url: connection.url, ok: true, users: total, capabilities: caps }, null, 2)}\n`);
    return;
  }
  const lines = [`ok: ${connection.url} (${connection.name === 'environment' ? 'from SCIMCTL_URL' : `profile ${connection.name}`})`];
  if (typeof total === 'number') lines.push(`users:       ${total}`);
  lines.push(...describeCapabilities(caps));
  await writeChunk(f.io.stdout, `${lines.join('\n')}\n`);
}

export function profileTestCommand(ctx: CliContext): Command<GlobalArgs & { name?: string; json: boolean }> {
  return {
    command: 'test [name]',
    describe: "Connect, run discovery and print the server's capabilities",
    builder: (y) => y.positional('name', { type: 'string' }).option('json', { type: 'boolean', default: false }),
    handler: (argv) => runProfileTest({ json: argv.json }, ctx.factory({ ...argv, profile: argv.name ?? argv.profile })),
  };
}

/**
 * `scimctl profile test` as a compatibility report, end to end: the built binary against
 * `scimctl serve`, directly and behind the quirk proxy (test/support/quirk-proxy.ts) with each of
 * its quirk sets. The report must describe each set truthfully, record what it found for later
 * commands, write nothing without --write-probe, and leave nothing behind with it (checked by
 * reading the upstream directly).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { QUIRK_SETS, startQuirkProxy, type QuirkProxy, type Quirks } from '../support/quirk-proxy.ts';
import { runCli, runCliInTerminal, serverEnv, tempHome } from './helpers.ts';
import { qs, startServe, teardown, type Json, type ServeProcess } from './serve-helpers.ts';

const TOKEN = 'profile-compat-e2e-token-7c1d2e';

let serve: ServeProcess | undefined;
const proxies: QuirkProxy[] = [];
const homes: Array<ReturnType<typeof tempHome>> = [];

before(async () => {
  serve = await startServe({ token: TOKEN, args: ['--seed-users', '6', '--seed-groups', '2'] });
});

after(async () => {
  for (const p of proxies) await p.close();
  await teardown([serve]);
  for (const h of homes) h.cleanup();
});

async function proxyFor(quirks: Quirks): Promise<QuirkProxy> {
  const proxy = await startQuirkProxy(serve!.url, quirks);
  proxies.push(proxy);
  return proxy;
}

function home(): ReturnType<typeof tempHome> {
  const h = tempHome();
  homes.push(h);
  return h;
}

interface Row {
  capability: string;
  status: string;
  does: string;
  adapts: string;
}

/** The pipe form: one finding per line, four tab-separated fields. */
function rows(stdout: string): Row[] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => {
      const fields = line.split('\t');
      assert.equal(fields.length, 4, `four fields: ${JSON.stringify(line)}`);
      const [capability, status, does, adapts] = fields as [string, string, string, string];
      return { capability, status, does, adapts };
    });
}

function row(all: Row[], capability: string): Row {
  const found = all.find((r) => r.capability === capability);
  assert.ok(found, `a row for "${capability}" in:\n${all.map((r) => r.capability).join('\n')}`);
  return found;
}

async function profileTest(url: string, args: string[] = [], h = home()) {
  const r = await runCli(['profile', 'test', ...args], { env: serverEnv(url, TOKEN, h), timeoutMs: 120_000 });
  return { ...r, home: h };
}

/** Everything the upstream holds, with versions: equal before and after means nothing was written. */
async function upstreamState(): Promise<string> {
  const read = async (what: 'Users' | 'Groups') => {
    const res = await serve!.request('GET', `/${what}${qs({ startIndex: 1, count: 1000 })}`);
    assert.equal(res.status, 200);
    return (res.body.Resources as Json[])
      .map((r) => ({ id: r.id, version: r.meta?.version, members: r.members?.length }))
      .sort((a, b) => String(a.id).localeCompare(String(b.id)));
  };
  return JSON.stringify({ users: await read('Users'), groups: await read('Groups') });
}

/** The throwaway resources the write probe makes, as the upstream has them (none, when it cleaned up). */
async function probeLeftovers(): Promise<string[]> {
  const left: string[] = [];
  for (const [what, attr] of [
    ['Users', 'userName'],
    ['Groups', 'displayName'],
  ] as const) {
    const res = await serve!.request('GET', `/${what}${qs({ filter: `${attr} sw "scimctl-probe-"` })}`);
    assert.equal(res.status, 200);
    for (const r of res.body.Resources as Json[]) left.push(`${what} ${r.id} ${r[attr]}`);
  }
  return left;
}

describe('profile test: a compatibility report', () => {
  test('against scimctl serve: every capability as advertised, stable pipe rows, JSON, and no writes', async () => {
    const before = await upstreamState();
    const r = await profileTest(serve!.url);
    assert.equal(r.code, 0, r.stderr);
    const all = rows(r.stdout);
    assert.equal(all[0]!.capability, 'connection');
    assert.match(row(all, 'connection').does, /reads \/Users with these credentials \(6 users\)/);
    assert.equal(row(all, 'ServiceProviderConfig').status, 'ok');
    for (const f of [
      'eq',
      'ne',
      'co',
      'sw',
      'ew',
      'gt',
      'ge',
      'lt',
      'le',
      'pr',
      'and',
      'or',
      'not',
      'parentheses',
      'valuePath',
      'boolean',
      'extension',
      'meta',
    ]) {
      const filterRow = row(all, `filter /Users ${f}`);
      assert.equal(filterRow.status, 'ok', `${f}: ${filterRow.does}`);
      assert.equal(filterRow.adapts, 'sent to the server');
    }
    assert.equal(row(all, 'filter /Groups eq').status, 'ok');
    assert.equal(row(all, 'members readable').status, 'ok');
    assert.match(row(all, 'ETag').does, /advertised and sent/);
    assert.equal(row(all, 'POST /.search').status, 'ok');
    assert.equal(row(all, 'writes').status, 'untested');
    assert.equal(row(all, 'overall').status, 'ok');
    assert.equal(all.at(-1)!.capability, 'overall');
    assert.equal(await upstreamState(), before, 'a test without --write-probe writes nothing');

    const json = await runCli(['profile', 'test', '--json'], { env: serverEnv(serve!.url, TOKEN, r.home) });
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as Json;
    assert.equal(report.ok, true);
    assert.equal(report.usable, true);
    assert.equal(report.capabilities.source, 'discovered');
    assert.equal(report.learned.filters['/Users'].sw, 'works');
    assert.ok(
      Array.isArray(report.findings) &&
        report.findings.some((f: Json) => f.capability === 'filter /Users sw' && f.verdict === 'works' && f.detail),
    );
  });

  test('on a terminal: a table of capability, status, what the target does, how scimctl adapts', async () => {
    const h = home();
    const r = await runCliInTerminal(['profile', 'test'], 120, { env: serverEnv(serve!.url, TOKEN, h) });
    assert.equal(r.code, 0, r.stdout);
    const out = r.stdout.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
    assert.match(out, /CAPABILITY\s+STATUS\s+WHAT THE TARGET DOES\s+HOW SCIMCTL ADAPTS/);
    assert.match(out, /filter \/Users sw\s+ok\s+answers correctly\s+sent to the server/);
    // Progress redraws end in \r; every line of the table fits.
    assert.ok(
      out.split(/\r?\n|\r/).every((line) => line.length <= 120),
      'lines fit the terminal',
    );
  });

  test('--write-probe against scimctl serve: every write works and nothing is left behind', async () => {
    const r = await profileTest(serve!.url, ['--write-probe']);
    assert.equal(r.code, 0, r.stderr);
    const all = rows(r.stdout);
    for (const c of [
      'create',
      'PATCH',
      'PUT',
      'If-Match',
      'member add',
      'member removal (filter form)',
      'member removal (value form)',
      'members readable',
      'attributes kept',
      'Bulk',
      'concurrent writes',
      'cleanup',
    ]) {
      assert.equal(row(all, c).status, 'ok', `${c}: ${row(all, c).does}`);
    }
    assert.match(row(all, 'If-Match').does, /412/);
    assert.match(row(all, 'cleanup').does, /nothing left behind/);
    assert.deepEqual(await probeLeftovers(), []);
  });

  test(
    'noFilters: /Groups filters answer wrongly and are evaluated client-side; SPC ' + 'is held to what works',
    async () => {
      const proxy = await proxyFor(QUIRK_SETS.noFilters!);
      const r = await profileTest(proxy.url);
      assert.equal(r.code, 0, r.stderr);
      const all = rows(r.stdout);
      for (const f of ['eq', 'sw', 'and', 'or', 'valuePath']) {
        const g = row(all, `filter /Groups ${f}`);
        assert.equal(g.status, 'adapted');
        assert.match(g.does, /answers wrongly: 200 with nothing/);
        assert.equal(g.adapts, 'evaluated by scimctl over a full listing');
      }
      assert.equal(row(all, 'filter /Users eq').status, 'ok');
      assert.match(row(all, 'filter /Users eq').adapts, /although ServiceProviderConfig says filter.supported=false/);
      assert.match(row(all, 'filter /Users sw').does, /answers wrongly/);
      assert.match(
        row(all, 'filter (ServiceProviderConfig)').does,
        /says filter.supported=false, yet some work: eq on \/Users/,
      );

      // The profile's later commands use what was found: the group is found although the target answers the filter with
      // nothing.
      const groups = await runCli(['groups', 'list', '--filter', 'displayName eq "Engineering"'], {
        env: serverEnv(proxy.url, TOKEN, r.home),
      });
      assert.equal(groups.code, 0, groups.stderr);
      assert.match(groups.stdout, /\tEngineering\t/);
      assert.match(groups.stderr, /listing and filtering on this side/);
    },
  );

  test('limitedFilters: refused features and silently empty ones are told apart and recorded', async () => {
    const proxy = await proxyFor(QUIRK_SETS.limitedFilters!);
    const r = await profileTest(proxy.url);
    assert.equal(r.code, 0, r.stderr);
    const all = rows(r.stdout);
    for (const f of ['pr', 'not', 'parentheses', 'boolean'])
      assert.match(row(all, `filter /Users ${f}`).does, /refused \(400 invalidFilter\)/, f);
    for (const f of ['extension', 'meta'])
      assert.match(row(all, `filter /Users ${f}`).does, /answers wrongly: 200 with nothing/, f);
    for (const f of ['eq', 'co', 'sw', 'and', 'or', 'valuePath'])
      assert.equal(row(all, `filter /Users ${f}`).status, 'ok', f);
    assert.match(
      row(all, 'filter (ServiceProviderConfig)').does,
      /says filters are supported, but pr, parentheses, not, boolean, extension, meta fail on \/Users/,
    );

    // Learned, not rediscovered: the next filter with `pr` goes straight to client-side evaluation.
    const users = await runCli(['users', 'list', '--filter', 'title pr'], { env: serverEnv(proxy.url, TOKEN, r.home) });
    assert.equal(users.code, 0, users.stderr);
    assert.equal(users.stdout.trimEnd().split('\n').length, 6);
    assert.match(users.stderr, /it refused or answered wrongly filters like it before/);
    assert.equal(proxy.stats.answeredLocally > 0, true);
  });

  test(
    'writeOnlyMembers with --write-probe: members are not readable; the filter ' +
      'removal form is refused; nothing left',
    async () => {
      const proxy = await proxyFor(QUIRK_SETS.writeOnlyMembers!);
      const r = await profileTest(proxy.url, ['--write-probe']);
      assert.equal(r.code, 0, r.stderr);
      const all = rows(r.stdout);
      const members = row(all, 'members readable');
      assert.equal(members.status, 'adapted');
      assert.match(members.does, /members are not readable/);
      assert.match(members.adapts, /keeps its own record of the members it added/);
      assert.match(row(all, 'member removal (filter form)').does, /refused: 501/);
      assert.match(row(all, 'member removal (filter form)').adapts, /value form/);
      assert.equal(row(all, 'member removal (value form)').status, 'ok');
      assert.match(row(all, "users' groups").does, /without a groups attribute/);
      assert.deepEqual(await probeLeftovers(), []);
      const json = JSON.parse(
        (await runCli(['profile', 'test', '--json', '--write-probe'], { env: serverEnv(proxy.url, TOKEN, r.home) }))
          .stdout,
      ) as Json;
      assert.equal(json.learned.membersReadable, false);
      assert.equal(json.capabilities.memberRemoval, 'value');
      assert.deepEqual(await probeLeftovers(), []);
    },
  );

  test('lossy with --write-probe: displayName computed, emails single, emails.type dropped; nothing left', async () => {
    const proxy = await proxyFor(QUIRK_SETS.lossy!);
    const r = await profileTest(proxy.url, ['--write-probe']);
    assert.equal(r.code, 0, r.stderr);
    const all = rows(r.stdout);
    assert.match(row(all, 'attribute displayName').does, /^computed/);
    assert.match(row(all, 'attribute emails').does, /^single: only one value is kept/);
    assert.match(row(all, 'attribute emails.type').does, /^dropped/);
    assert.match(row(all, 'attribute photos').does, /^dropped/);
    assert.match(row(all, 'PUT').does, /clears externalId/);
    assert.equal(
      all.some((x) => x.capability === 'attributes kept'),
      false,
    );
    assert.deepEqual(await probeLeftovers(), []);
  });

  test('partialSchemas: the report names the attributes /Schemas lacks, and that users carry one of them', async () => {
    const proxy = await proxyFor(QUIRK_SETS.partialSchemas!);
    const r = await profileTest(proxy.url);
    assert.equal(r.code, 0, r.stderr);
    const all = rows(r.stdout);
    const schemas = row(all, 'Schemas');
    assert.equal(schemas.status, 'adapted');
    for (const a of ['User.groups', 'User.photos', 'User.x509Certificates', 'User.addresses.primary'])
      assert.ok(schemas.does.includes(a), `${a} in ${schemas.does}`);
    assert.match(schemas.adapts, /RFC 7643/);
    assert.match(row(all, 'Schemas vs users').does, /groups/);
  });

  test('lockedWrites with --write-probe: writes at once fail, scimctl paces them; nothing left', async () => {
    const proxy = await proxyFor(QUIRK_SETS.lockedWrites!);
    const r = await profileTest(proxy.url, ['--write-probe']);
    assert.equal(r.code, 0, r.stderr);
    const all = rows(r.stdout);
    assert.match(row(all, 'concurrent writes').does, /fails writes sent at once/);
    assert.match(row(all, 'concurrent writes').adapts, /at most 1 write/);
    assert.ok(proxy.stats.lockedRefusals > 0);
    assert.deepEqual(await probeLeftovers(), []);
  });

  test('every quirk at once with --write-probe: usable, adapted, and nothing left behind', async () => {
    const proxy = await proxyFor(QUIRK_SETS.all!);
    const r = await profileTest(proxy.url, ['--write-probe']);
    assert.equal(r.code, 0, r.stderr);
    const all = rows(r.stdout);
    assert.match(row(all, 'ids').does, /ids are user data/);
    assert.equal(row(all, 'overall').status, 'adapted');
    assert.match(row(all, 'overall').adapts, /^usable/);
    assert.equal(row(all, 'cleanup').status, 'ok');
    assert.deepEqual(await probeLeftovers(), []);
  });

  test('a cleanup that fails: the ids left behind are named and the exit code is not 0', async () => {
    // A target whose user DELETE fails (and nothing else).
    const target = new URL(serve!.url);
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          if (req.method === 'DELETE' && /\/Users\//.test(req.url ?? '')) {
            res.writeHead(500, { 'content-type': 'application/scim+json' });
            res.end(JSON.stringify({ status: '500', detail: 'cannot delete users today' }));
            return;
          }
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(req.headers))
            if (typeof v === 'string' && !['host', 'content-length', 'connection', 'accept-encoding'].includes(k))
              headers[k] = v;
          const answer = await fetch(`${target.origin}${req.url}`, {
            method: req.method,
            headers,
            body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
          });
          const out: Record<string, string> = {};
          answer.headers.forEach((v, k) => {
            if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(k)) out[k] = v;
          });
          res.writeHead(answer.status, out);
          res.end(Buffer.from(await answer.arrayBuffer()));
        })();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${target.pathname}`;
    try {
      const r = await profileTest(url, ['--write-probe', '--retries', '0']);
      assert.equal(r.code, 1, r.stderr);
      const cleanup = row(rows(r.stdout), 'cleanup');
      assert.equal(cleanup.status, 'failed');
      const left = await probeLeftovers();
      assert.equal(left.length, 1, left.join('\n'));
      const [, id, userName] = left[0]!.split(' ');
      assert.ok(cleanup.does.includes(`user ${id} "${userName}"`), cleanup.does);
      assert.ok(r.stderr.includes(`left behind on the target: user ${id} "${userName}" (DELETE failed`), r.stderr);
      // The group went.
      assert.equal(
        left.some((l) => l.startsWith('Groups')),
        false,
      );
      assert.equal((await serve!.request('DELETE', `/Users/${id}`)).status, 204);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    assert.deepEqual(await probeLeftovers(), []);
  });

  test('a connection or credentials that fail: a non-zero exit, no report', async () => {
    const h = home();
    const bad = await runCli(['profile', 'test'], { env: { ...serverEnv(serve!.url, 'not-the-token', h) } });
    assert.equal(bad.code, 4, bad.stderr);
    assert.equal(bad.stdout, '');
    const down = await runCli(['profile', 'test', '--retries', '0'], {
      env: serverEnv('http://127.0.0.1:9/scim/v2', TOKEN, h),
    });
    assert.equal(down.code, 6, down.stderr);
    assert.equal(down.stdout, '');
  });
});

/** The header's counts: one small request, even to a server that ignores `count`. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScimClient } from '../../src/api/client.ts';
import { runRequest } from '../../src/ui/effects.ts';
import type { Action } from '../../src/ui/state/app.ts';
import { BASE, caps, fakeFetch, listResponse, makeUsers, recordingSleep, scimJson } from './helpers.ts';

test('the users count asks for one id, and takes the total from a server that sends a whole page anyway', async () => {
  const users = makeUsers(300);
  // Ignores count; honours attributes, as many servers do.
  const f = fakeFetch((req) => {
    const attributes = req.url.searchParams.get('attributes');
    const shown = attributes === 'id' ? users.map((u) => ({ id: u.id })) : users;
    return scimJson(listResponse(shown.slice(0, 200), { totalResults: 300, itemsPerPage: 200 }));
  });
  const client = new ScimClient({ baseUrl: BASE, fetch: f.fetch, sleep: recordingSleep().sleep, capabilities: caps() });
  const actions: Action[] = [];
  await runRequest({ kind: 'count', what: 'users' }, { client, caps: caps() }, (a) => actions.push(a));
  assert.deepEqual(actions, [{ type: 'counted', what: 'users', total: 300 }]);
  assert.equal(f.calls.length, 1, 'one request: the list is not read on');
  assert.equal(f.calls[0]!.url.searchParams.get('count'), '1');
  assert.equal(f.calls[0]!.url.searchParams.get('attributes'), 'id');
});

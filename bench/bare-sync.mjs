// Baseline for the initial-sync benchmark: the same operations scimctl's plan
// performs, fired by a minimal loop at the same concurrency: POST every user,
// POST every group, then PATCH members into each group (100 per request).
// Usage: node bench/bare-sync.mjs URL TOKEN USERS_JSON GROUPS_JSON CONCURRENCY
import { readFileSync } from 'node:fs';

const [url, token, usersFile, groupsFile, concurrency = '4'] = process.argv.slice(2);
const users = JSON.parse(readFileSync(usersFile, 'utf8'));
const groups = JSON.parse(readFileSync(groupsFile, 'utf8')); // [{ displayName, members: [userName…] }]
const headers = {
  authorization: `Bearer ${token}`,
  'content-type': 'application/scim+json',
  accept: 'application/scim+json',
};

async function pool(items, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Number(concurrency) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}
async function send(method, path, body) {
  const res = await fetch(`${url}${path}`, { method, headers, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

const ids = new Map();
await pool(users, async (u) => ids.set(u.userName, (await send('POST', '/Users', u)).id));
const groupIds = new Map();
await pool(groups, async (g) =>
  groupIds.set(
    g.displayName,
    (
      await send('POST', '/Groups', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName: g.displayName,
      })
    ).id,
  ),
);
const batches = groups.flatMap((g) => {
  const out = [];
  for (let i = 0; i < g.members.length; i += 100) out.push([g.displayName, g.members.slice(i, i + 100)]);
  return out;
});
await pool(batches, ([name, members]) =>
  send('PATCH', `/Groups/${groupIds.get(name)}`, {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [{ op: 'add', path: 'members', value: members.map((m) => ({ value: ids.get(m) })) }],
  }),
);
process.stdout.write(`${ids.size} ${groupIds.size}\n`);

// Baseline for the bulk-create benchmark: POST every user of a JSON array with
// plain fetch, N at a time. Usage: node bench/bare-create.mjs URL TOKEN FILE CONCURRENCY
import { readFileSync } from 'node:fs';

const [url, token, file, concurrency = '4'] = process.argv.slice(2);
const users = JSON.parse(readFileSync(file, 'utf8'));
let next = 0;
let created = 0;
async function lane() {
  while (next < users.length) {
    const user = users[next++];
    const res = await fetch(`${url}/Users`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/scim+json',
        accept: 'application/scim+json',
      },
      body: JSON.stringify(user),
    });
    await res.arrayBuffer();
    if (res.status === 201) created++;
  }
}
await Promise.all(Array.from({ length: Number(concurrency) }, lane));
process.stdout.write(`${created}\n`);

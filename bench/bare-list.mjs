// Baseline for the listing benchmark: the least a client can do to page through
// every user with plain fetch. Usage: node bench/bare-list.mjs URL TOKEN PAGE_SIZE
const [url, token, pageSize = '200'] = process.argv.slice(2);
let startIndex = 1;
let received = 0;
for (;;) {
  const res = await fetch(`${url}/Users?startIndex=${startIndex}&count=${pageSize}`, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/scim+json' },
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const page = await res.json();
  const n = page.Resources?.length ?? 0;
  received += n;
  if (n === 0 || received >= page.totalResults) break;
  startIndex += n;
}
process.stdout.write(`${received}\n`);

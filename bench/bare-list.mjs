// Baseline for the listing benchmarks: the least a client can do to page through
// every user (and, with "groups", every group too) with plain fetch.
// Usage: node bench/bare-list.mjs URL TOKEN PAGE_SIZE [groups]
const [url, token, pageSize = '200', withGroups] = process.argv.slice(2);

async function pageThrough(endpoint) {
  let startIndex = 1;
  let received = 0;
  for (;;) {
    const res = await fetch(`${url}${endpoint}?startIndex=${startIndex}&count=${pageSize}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/scim+json' },
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const page = await res.json();
    const n = page.Resources?.length ?? 0;
    received += n;
    if (n === 0 || received >= page.totalResults) break;
    startIndex += n;
  }
  return received;
}

const users = await pageThrough('/Users');
if (withGroups === 'groups') await pageThrough('/Groups');
process.stdout.write(`${users}\n`);

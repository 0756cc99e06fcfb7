/** Shared by the LDAP unit tests: recorded entries and a fake DirectoryClient. */
import type { DirectoryClient, RawEntry, SearchRequest } from '../../src/sources/ldap/client.ts';

/** An entry as the client gives it. */
export function entry(dn: string, attributes: Record<string, Array<string | Buffer>>): RawEntry {
  return {
    dn,
    attributes: new Map(Object.entries(attributes).map(([name, values]) => [name.toLowerCase(), { name, values }])),
  };
}

/** A client that answers each search from a function, and records the requests. */
export function fakeClient(
  answer: (request: SearchRequest) => RawEntry[][],
): DirectoryClient & { requests: SearchRequest[] } {
  const requests: SearchRequest[] = [];
  return {
    requests,
    async *search(request) {
      requests.push(request);
      for (const page of answer(request)) yield page;
    },
    async close() {},
  };
}

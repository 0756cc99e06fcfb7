// Baseline for the LDAP benchmark: the least a client can do to read every user and group
// entry of a directory with ldapts, paged (RFC 2696), the attributes scimctl asks for.
// Usage: node bench/bare-ldap.mjs URL BIND_DN PASSWORD_VAR BASE_DN PAGE_SIZE
import { Client } from 'ldapts';

const [url, bindDn, passwordVar, baseDn, pageSize = '500'] = process.argv.slice(2);
const client = new Client({ url });
await client.bind(bindDn, process.env[passwordVar] ?? '');
const userAttributes = [
  'givenName',
  'sn',
  'displayName',
  'cn',
  'mail',
  'telephoneNumber',
  'title',
  'employeeNumber',
  'uid',
  'entryUUID',
  'departmentNumber',
  'manager',
  'pwdAccountLockedTime',
  'nsAccountLock',
];
let users = 0;
let groups = 0;
const read = async (filter, attributes, count) => {
  const pages = client.searchPaginated(baseDn, {
    scope: 'sub',
    filter,
    attributes,
    paged: { pageSize: Number(pageSize) },
  });
  for await (const page of pages) count(page.searchEntries.length);
};
await read('(objectClass=inetOrgPerson)', userAttributes, (n) => (users += n));
await read(
  '(objectClass=groupOfNames)',
  ['cn', 'entryUUID', 'member', 'uniqueMember', 'memberUid'],
  (n) => (groups += n),
);
await client.unbind();
process.stdout.write(`${users} ${groups}\n`);

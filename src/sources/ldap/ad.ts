/**
 * Active Directory's ways, as pure functions (and one loop over a DirectoryClient):
 * - userAccountControl: bit 2 (ACCOUNTDISABLE) means the account is disabled.
 * - accountExpires: 100-nanosecond intervals since 1601-01-01 UTC; 0 and 2^63-1 mean never.
 * - objectGUID: 16 bytes, the first three fields little-endian; written as the GUID string
 *   (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, lower case) or as base64 of the bytes (Entra's immutableId).
 * - range retrieval: a multi-valued attribute with more values than the server hands out at once
 *   (MaxValRange, 1500) comes as `member;range=0-1499`; the rest is read with `member;range=1500-*`
 *   and so on, until a range ends in `*`.
 *
 * Pure but for readRanged, which searches through the client it is given.
 */
import type { DirectoryClient, RawAttribute, RawEntry } from './client.ts';
import { LdapReadError } from './errors.ts';

export type GuidFormat = 'guid' | 'base64';

/**
 * AD's LDAP_MATCHING_RULE_IN_CHAIN: a filter `(memberOf:1.2.840.113556.1.4.1941:=GROUP_DN)` matches the group's members
 * at any depth.
 */
export const IN_CHAIN_RULE = '1.2.840.113556.1.4.1941';

const ACCOUNTDISABLE = 2;
/** 1601-01-01 to 1970-01-01 in milliseconds. */
const EPOCH_1601_MS = 11_644_473_600_000n;
const NEVER = 0x7fffffffffffffffn;

const firstText = (values: Array<string | Buffer> | undefined): string | undefined => {
  const v = values?.[0];
  return v === undefined ? undefined : typeof v === 'string' ? v : v.toString('utf8');
};

/** True when userAccountControl has the ACCOUNTDISABLE bit; undefined when the value is missing or not a number. */
export function uacDisabled(values: Array<string | Buffer> | undefined): boolean | undefined {
  const text = firstText(values)?.trim();
  if (text === undefined || !/^-?\d+$/.test(text)) return undefined;
  return (Number(text) & ACCOUNTDISABLE) !== 0;
}

/**
 * When accountExpires says the account expires (a Date), or undefined for never (0, 2^63-1) or a value that is not a
 * number.
 */
export function accountExpiry(values: Array<string | Buffer> | undefined): Date | undefined {
  const text = firstText(values)?.trim();
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const ticks = BigInt(text);
  if (ticks === 0n || ticks >= NEVER) return undefined;
  return new Date(Number(ticks / 10_000n - EPOCH_1601_MS));
}

/** True when accountExpires is in the past at `now`. */
export function accountExpired(values: Array<string | Buffer> | undefined, now: Date): boolean {
  const at = accountExpiry(values);
  return at !== undefined && at.getTime() <= now.getTime();
}

/** An objectGUID's 16 bytes as text: the GUID string (lower case) or base64. Undefined for anything but 16 bytes. */
export function guidText(value: string | Buffer | undefined, format: GuidFormat): string | undefined {
  if (value === undefined || typeof value === 'string' || value.length !== 16) return undefined;
  if (format === 'base64') return value.toString('base64');
  const hex = (from: number, to: number, reverse: boolean) => {
    const part = [...value.subarray(from, to)];
    return (reverse ? part.reverse() : part).map((b) => b.toString(16).padStart(2, '0')).join('');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}

/** The GUID string's bytes (the inverse of guidText's 'guid' form): for tests and filters. */
export function guidBytes(guid: string): Buffer {
  const hex = guid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a GUID: ${guid}`);
  const b = Buffer.from(hex, 'hex');
  return Buffer.concat([
    Buffer.from(b.subarray(0, 4)).reverse(),
    Buffer.from(b.subarray(4, 6)).reverse(),
    Buffer.from(b.subarray(6, 8)).reverse(),
    b.subarray(8),
  ]);
}

/** `member;range=1500-2999` → { attr: 'member', start: 1500, end: 2999 }; end undefined for `*`. */
export function parseRange(name: string): { attr: string; start: number; end: number | undefined } | undefined {
  const m = /^([^;]+);range=(\d+)-(\d+|\*)$/i.exec(name);
  if (!m) return undefined;
  return { attr: m[1]!.toLowerCase(), start: Number(m[2]), end: m[3] === '*' ? undefined : Number(m[3]) };
}

/** The attribute `attr` of an entry: whole, or its first range as the server sent it. */
function rangedPart(
  entry: RawEntry,
  attr: string,
): { part: RawAttribute; range: ReturnType<typeof parseRange> } | undefined {
  const lower = attr.toLowerCase();
  for (const [key, part] of entry.attributes) {
    if (key === lower) return { part, range: undefined };
    const range = parseRange(key);
    if (range && range.attr === lower) return { part, range };
  }
  return undefined;
}

/**
 * Every value of a multi-valued attribute of an entry, reading the ranges AD did not send at
 * once (`attr;range=N-*` until a range ends in `*`). Throws LdapReadError when a range does not
 * come back or does not go on where the last one ended: a member list is never cut short.
 */
export async function readRanged(
  client: DirectoryClient,
  entry: RawEntry,
  attr: string,
): Promise<Array<string | Buffer>> {
  const first = rangedPart(entry, attr);
  if (!first) return [];
  const values = [...first.part.values];
  let range = first.range;
  let rounds = 0;
  while (range && range.end !== undefined) {
    if (++rounds > 100_000) throw new LdapReadError(`the ranges of ${attr} of ${entry.dn} do not end`, values.length);
    const next = range.end + 1;
    let found: { part: RawAttribute; range: ReturnType<typeof parseRange> } | undefined;
    for await (const page of client.search({
      base: entry.dn,
      scope: 'base',
      filter: '(objectClass=*)',
      attributes: [`${attr};range=${next}-*`],
      pageSize: 0,
    })) {
      for (const e of page) found ??= rangedPart(e, attr);
    }
    if (!found?.range || found.range.start !== next) {
      throw new LdapReadError(
        `reading ${attr} of ${entry.dn} from value ${next} on did not give the next ` +
          `range (${found ? found.part.name : 'no values'}); the member list would be ` +
          `cut short`,
        values.length,
      );
    }
    values.push(...found.part.values);
    range = found.range;
  }
  return values;
}

/** A value for an LDAP filter, escaped (RFC 4515): \ * ( ) NUL. */
export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

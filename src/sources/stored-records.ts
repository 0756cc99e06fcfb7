/**
 * Source records kept in their file instead of in memory, until a plan needs them whole.
 *
 * A SCIM JSON users file read as a stream (readSource with `lazy`) keeps of each record its
 * identity (the attributes the source checks and matches by, and active) and where its text
 * is in the file: a byte offset, a length and a digest of the text. The rest is read again
 * when a comparison needs it (`whole`), and checked against the digest, so a file that
 * changed since it was read is an error, never a record planned from other text than the
 * one the plan's fingerprint covers.
 *
 * On a re-sync of 100,000 users the parsed records are most of the memory a plan takes
 * (about 90 MB); kept this way, they are their identities and 2 MB of offsets.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { SchemaRegistry } from '../api/schema.ts';
import { SCHEMA } from '../api/types.ts';
import type { DesiredUser, StoredRecords, WholeRecord } from '../sync/model.ts';
import { InputError, type RecordSpan } from './resource-file.ts';
import { canonicalKeys } from './attributes.ts';

/** Attributes of an exported resource that the server owns: never part of what a source wants. */
export const SERVER_OWNED = new Set(['id', 'meta', 'schemas', 'groups']);

/**
 * A user's attributes from a SCIM resource: all but what the server owns; those the server
 * never returns (password: writeOnly / returned never) go to onlyOnCreate, as they could
 * never compare equal.
 */
export function userParts(given: Record<string, unknown>, registry: SchemaRegistry): WholeRecord {
  // Attribute names as the schema spells them: the planner compares by them.
  const resource = canonicalKeys(given, registry, SCHEMA.USER);
  const attributes: Record<string, unknown> = {};
  let onlyOnCreate: Record<string, unknown> | undefined;
  const writeOnly = writeOnlyNames(registry);
  for (const [key, value] of Object.entries(resource)) {
    if (SERVER_OWNED.has(key.toLowerCase())) continue;
    let only = writeOnly.get(key);
    if (only === undefined) {
      const def = /^urn:/i.test(key) ? undefined : registry.lookup(SCHEMA.USER, key);
      only = def !== undefined && (def.mutability === 'writeOnly' || def.returned === 'never');
      if (writeOnly.size < MAX_NAMES) writeOnly.set(key, only);
    }
    if (only) (onlyOnCreate ??= {})[key] = value;
    else attributes[key] = value;
  }
  return onlyOnCreate ? { attributes, onlyOnCreate } : { attributes };
}

/** Per registry, whether an attribute (by its name in a record) goes to onlyOnCreate: every record asks again. */
const writeOnlyByRegistry = new WeakMap<SchemaRegistry, Map<string, boolean>>();
const MAX_NAMES = 1000;

function writeOnlyNames(registry: SchemaRegistry): Map<string, boolean> {
  let names = writeOnlyByRegistry.get(registry);
  if (!names) writeOnlyByRegistry.set(registry, (names = new Map()));
  return names;
}

/** The names (lower-cased) of the attributes a lazily read record keeps in memory. */
const IDENTITY = new Set(['externalid', 'username', 'emails', 'active']);

/**
 * What of a user's attributes a lazily read record keeps: externalId, userName, emails and
 * active, as named there. An e-mail address that is the userName shares its text (the
 * emails are those of `attributes`, changed so).
 */
export function identityPart(attributes: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let userName: unknown;
  for (const key of Object.keys(attributes)) {
    const name = key.toLowerCase();
    if (!IDENTITY.has(name)) continue;
    out[key] = attributes[key];
    if (name === 'username') userName = attributes[key];
  }
  for (const key of Object.keys(out)) {
    const emails = out[key];
    if (typeof userName !== 'string' || key.toLowerCase() !== 'emails' || !Array.isArray(emails)) continue;
    for (const e of emails)
      if (e && typeof e === 'object' && (e as { value?: unknown }).value === userName)
        (e as { value: string }).value = userName;
  }
  return out;
}

/** FNV-1a (32 bits) over the UTF-16 code units of `text`: enough to notice a record whose text changed. */
export function textDigest(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Bytes read at once: records are mostly asked for in the order of the file (a target lists users as they were
 * exported).
 */
const READ_AHEAD = 64 * 1024;

/** The records of one SCIM JSON file, by the spans streamJsonResources gave. */
export class RecordFile implements StoredRecords {
  private readonly offsets: number[] = [];
  private readonly lengths: number[] = [];
  private readonly digests: number[] = [];
  private fd: number | undefined;
  /** The bytes of the file from `from` on, `held` of them: a record after the last one read is often there already. */
  private buffer = Buffer.alloc(0);
  private from = 0;
  private held = 0;

  constructor(
    readonly path: string,
    private readonly registry: SchemaRegistry,
  ) {}

  /** Keeps where a record is; returns the number to put in DesiredUser.stored. */
  add(span: RecordSpan): number {
    this.offsets.push(span.offset);
    this.lengths.push(span.bytes);
    this.digests.push(textDigest(span.text));
    return this.offsets.length - 1;
  }

  get size(): number {
    return this.offsets.length;
  }

  whole(user: DesiredUser): WholeRecord {
    const at = user.stored;
    if (at === undefined)
      return user.onlyOnCreate
        ? { attributes: user.attributes, onlyOnCreate: user.onlyOnCreate }
        : { attributes: user.attributes };
    const length = this.lengths[at]!;
    const offset = this.offsets[at]!;
    if (offset < this.from || offset + length > this.from + this.held) this.fill(offset, length);
    const text =
      offset + length <= this.from + this.held
        ? this.buffer.toString('utf8', offset - this.from, offset - this.from + length)
        : '';
    let resource: unknown;
    try {
      if (textDigest(text) === this.digests[at]) resource = JSON.parse(text);
    } catch {
      resource = undefined;
    }
    if (!resource || typeof resource !== 'object' || Array.isArray(resource)) {
      throw new InputError([
        {
          file: this.path,
          line: user.origin.line,
          message: 'the file changed while scimctl was reading it: run again once it is written',
        },
      ]);
    }
    return userParts(resource as Record<string, unknown>, this.registry);
  }

  /** Reads the file from `offset` on: at least `length` bytes (fewer at its end), READ_AHEAD when more. */
  private fill(offset: number, length: number): void {
    if (this.buffer.length < length) this.buffer = Buffer.alloc(Math.max(length, READ_AHEAD));
    if (this.buffer.length < READ_AHEAD) this.buffer = Buffer.alloc(READ_AHEAD);
    this.fd ??= openSync(this.path, 'r');
    this.from = offset;
    this.held = 0;
    while (this.held < length) {
      const n = readSync(this.fd, this.buffer, this.held, this.buffer.length - this.held, offset + this.held);
      if (n === 0) break;
      this.held += n;
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.held = 0;
    this.buffer = Buffer.alloc(0);
  }
}

/**
 * `scimctl serve` as a library: a store (persistent, in memory, or a source file read-only),
 * optionally filled with a sample organisation, behind the HTTP server.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import type { SourceSnapshot } from '../sync/model.ts';
import { checkResource } from './resources.ts';
import { scimUser, type SampleOrganisation } from './sample.ts';
import { startServer, type RunningServer, type ServerOptions } from './http.ts';
import { Store, type MemberType, type StoredResource } from './store.ts';
import { SCHEMA, schemasFor } from '../api/types.ts';

export { Store, lockHolder } from './store.ts';
export { startServer, BASE_PATH, type RunningServer } from './http.ts';
export { sampleOrganisation, laterExport, scimUser } from './sample.ts';

export interface ServeOptions extends Omit<ServerOptions, 'store' | 'readOnly'> {
  /** Data directory of a persistent store; none: in memory. */
  dir?: string;
  /** Sync journal writes to disk (default true). */
  fsync?: boolean;
  /**
   * Serve this source read-only: its name (for messages), what it holds, and how to read it
   * again. When one of its files changes, the next request sees the new content (a file that
   * no longer reads cleanly is logged and the last good content stays).
   */
  source?: { name: string; snapshot: SourceSnapshot; read: () => Promise<SourceSnapshot> };
  /** Fill an empty store with this organisation. */
  seed?: SampleOrganisation;
  /** Told how far start-up has come: reading the store (bytes), or filling it (users). */
  onProgress?: (what: 'reading' | 'seeding', done: number, total: number) => void;
}

export interface Serving extends RunningServer {
  store: Store;
  /** How many users and groups the store holds now. */
  counts(): { users: number; groups: number };
  /** Stops the server, then writes and releases the store. */
  stop(): Promise<void>;
}

export async function serve(options: ServeOptions): Promise<Serving> {
  const store = await Store.open({
    dir: options.source ? undefined : options.dir,
    fsync: options.fsync,
    touchRelated: !options.source,
    onProgress: (done, total) => options.onProgress?.('reading', done, total),
  });
  try {
    if (options.source) await loadSnapshot(store, options.source.snapshot);
    else if (options.seed && store.users.size === 0 && store.groups.size === 0)
      await seedStore(store, options.seed, (done, total) => options.onProgress?.('seeding', done, total));
    const source = options.source;
    let beforeRequest: (() => Promise<void>) | undefined;
    const running = await startServer({
      ...options,
      store,
      readOnly: source?.name,
      beforeRequest: () => beforeRequest?.() ?? Promise.resolve(),
    });
    if (source) beforeRequest = watchSource(source, running, options.logError);
    return {
      ...running,
      store,
      counts: () => ({ users: running.service.store.users.size, groups: running.service.store.groups.size }),
      stop: async () => {
        await running.close();
        await store.close();
      },
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}

const now = () => new Date().toISOString();

/** Adds a resource through the same checks as a POST. */
async function add(
  store: Store,
  kind: 'User' | 'Group',
  body: Record<string, unknown>,
  id: string,
): Promise<StoredResource> {
  const checked = checkResource(kind, body, store, id);
  const t = now();
  const r: StoredResource = { kind, id, version: store.nextVersion(), created: t, lastModified: t, ...checked };
  await store.put(r);
  return r;
}

/** A version that is a digest of what a resource shows: the same content, the same ETag, across restarts. */
function digestVersion(parts: unknown): number {
  return Number.parseInt(createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 12), 16);
}

/**
 * Checks the served files at most once a second; reads them again when one changed. A file
 * is read only once it has been left alone for a second, and its content is used only if
 * the file did not change while it was read: a half-written export is never served.
 */
function watchSource(
  source: NonNullable<ServeOptions['source']>,
  running: RunningServer,
  logError?: (message: string) => void,
): () => Promise<void> {
  const stamp = () =>
    source.snapshot.files
      .map((f) => {
        try {
          const s = statSync(f);
          return { text: `${s.size}:${s.mtimeMs}`, mtime: s.mtimeMs };
        } catch {
          return { text: 'missing', mtime: 0 };
        }
      })
      .reduce((a, b) => ({ text: `${a.text}|${b.text}`, mtime: Math.max(a.mtime, b.mtime) }), { text: '', mtime: 0 });
  let seen = stamp().text;
  let checkedAt = Date.now();
  let reading: Promise<void> | undefined;
  return async () => {
    if (reading) return reading;
    if (Date.now() - checkedAt < 1000) return;
    checkedAt = Date.now();
    const before = stamp();
    if (before.text === seen || Date.now() - before.mtime < 1000) return;
    reading = (async () => {
      try {
        const snapshot = await source.read();
        if (stamp().text !== before.text) return; // changed while being read: try again later
        const fresh = await Store.open({ touchRelated: false });
        await loadSnapshot(fresh, snapshot);
        source.snapshot = snapshot;
        running.service.useStore(fresh);
        seen = before.text;
      } catch (e) {
        seen = before.text; // tried: wait for the next change rather than re-reading a broken file on every request
        logError?.(
          `${source.name} changed but cannot be served: ` +
            `${e instanceof Error ? e.message : String(e)}; still serving what it held ` +
            `before`,
        );
      } finally {
        reading = undefined;
      }
    })();
    return reading;
  };
}

/** Puts a sample organisation into the store, through the same checks as a POST. */
export async function seedStore(
  store: Store,
  org: SampleOrganisation,
  onProgress?: (done: number, total: number) => void,
): Promise<void> {
  const idsByGroup = new Map<string, Array<[string, MemberType]>>(org.groups.map((g) => [g, []]));
  const writes: Array<Promise<StoredResource>> = [];
  for (const [i, u] of org.users.entries()) {
    const id = crypto.randomUUID();
    writes.push(add(store, 'User', scimUser(u), id));
    for (const g of u.groups) idsByGroup.get(g)?.push([id, 'User']);
    if (i % 2000 === 1999) {
      onProgress?.(i + 1, org.users.length);
      // Let the progress bar draw.
      await new Promise<void>((r) => setImmediate(r));
    }
  }
  await Promise.all(writes);
  await Promise.all(
    [...idsByGroup].map(([displayName, members]) =>
      add(
        store,
        'Group',
        { schemas: [SCHEMA.GROUP], displayName, members: members.map(([value]) => ({ value })) },
        crypto.randomUUID(),
      ),
    ),
  );
}

/** A stable id for a source record, so clients see the same ids every time the file is served. */
function stableId(kind: string, key: string): string {
  const h = createHash('sha256').update(`${kind}\n${key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * Fills an in-memory store with what a source file says. Ids are derived from each record's
 * externalId (as written: it is case-exact) or else its userName (any case), so they stay the
 * same every time the file is served; versions are digests of what each resource shows.
 */
async function loadSnapshot(store: Store, snapshot: SourceSnapshot): Promise<void> {
  const idByKey = new Map<string, string>();
  const membersByGroup = new Map<string, string[]>();
  const taken = new Map<string, string>();
  for (const user of snapshot.users) {
    const a = user.attributes;
    const where = `${user.origin.file}:${user.origin.line}`;
    const key =
      typeof a.externalId === 'string' && a.externalId !== ''
        ? `externalId:${a.externalId}`
        : `userName:${String(a.userName ?? '').toLowerCase()}`;
    const id = stableId('User', key);
    const other = taken.get(id);
    if (other !== undefined) throw new Error(`${where}: this record has the same ${key.split(':')[0]} as ${other}`);
    taken.set(id, where);
    const schemas = schemasFor(SCHEMA.USER, a);
    try {
      await add(store, 'User', { schemas, ...a }, id);
    } catch (e) {
      throw new Error(`${where}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    for (const k of [a.externalId, a.userName]) if (typeof k === 'string') idByKey.set(k.toLowerCase(), id);
    for (const g of user.groups ?? []) {
      const list = membersByGroup.get(g) ?? [];
      list.push(id);
      membersByGroup.set(g, list);
    }
  }
  const names = new Set([...snapshot.groups.map((g) => g.displayName), ...membersByGroup.keys()]);
  for (const displayName of names) {
    const group = snapshot.groups.find((g) => g.displayName === displayName);
    const fromGroup = (group?.members ?? [])
      .map((k) => idByKey.get(k.toLowerCase()))
      .filter((id): id is string => id !== undefined);
    const members = [...new Set([...fromGroup, ...(membersByGroup.get(displayName) ?? [])])];
    const body: Record<string, unknown> = {
      schemas: [SCHEMA.GROUP],
      displayName,
      members: members.map((value) => ({ value })),
    };
    if (group?.externalId) body.externalId = group.externalId;
    await add(store, 'Group', body, stableId('Group', displayName));
  }
  // Versions last, when everything each resource shows is known: a user shows its groups' names,
  // a group its members' names.
  for (const u of store.users.values()) {
    u.version = digestVersion([
      u.schemas,
      u.attrs,
      [...store.groupsOf(u.id)].map((g) => store.groups.get(g)?.attrs.displayName).sort(),
    ]);
  }
  for (const g of store.groups.values()) {
    g.version = digestVersion([
      g.schemas,
      g.attrs,
      [...g.members!.keys()].map((m) => [
        m,
        store.users.get(m)?.attrs.displayName ?? store.users.get(m)?.attrs.userName,
      ]),
    ]);
  }
}

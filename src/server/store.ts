/**
 * The store behind `scimctl serve`: every resource in memory (indexed by id, userName and
 * membership), made durable by an append-only journal in the data directory.
 *
 * On disk (DIR/snapshot.jsonl and DIR/journal.jsonl) every line is one record: a resource
 * put, a delete, or a change of a group's members (as a delta, so adding one member to a
 * group of 10,000 writes one short line). Start-up replays the snapshot and then the journal
 * and compacts both into a new snapshot (written to a temporary file, synced, renamed);
 * a clean shutdown compacts too. Writes are group-committed: the lines of every change made
 * in one turn of the event loop go out in one write followed by one fdatasync, and the
 * requests that made them are answered only after that. A lock file keeps a second server
 * off the same directory.
 *
 * Passwords are never stored: `serve` authenticates nobody with them (see the README).
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import type { ResourceKind } from './schemas.ts';

export type MemberType = 'User' | 'Group';

export interface StoredResource {
  kind: ResourceKind;
  id: string;
  /** The store revision of the last change: unique across resources, the ETag's content. */
  version: number;
  created: string;
  lastModified: string;
  schemas: string[];
  /** Validated attributes with canonical names: no id, meta, schemas, groups or members. */
  attrs: Record<string, unknown>;
  /** Groups only: member id → type, in the order they were added. */
  members?: Map<string, MemberType>;
}

/**
 * A record of the journal. `touched`: other resources whose representation changed with this
 * one (a user's `groups`, a group's `members[].display`); they take the record's version, so
 * their ETags change too, and a replay gives every resource exactly the version it had.
 */
type Line =
  | { op: 'put'; r: Omit<StoredResource, 'members'> & { members?: Array<[string, MemberType]> }; touched?: string[] }
  | { op: 'del'; kind: ResourceKind; id: string; v?: number; t?: string; touched?: string[] }
  | { op: 'm'; g: string; v: number; t: string; add: Array<[string, MemberType]>; remove: string[] };

export class StoreError extends Error {
  override name = 'StoreError';
}

export interface StoreOptions {
  /** Data directory; without one the store lives in memory only. */
  dir?: string;
  /** Sync each batch of journal lines to disk (default true). */
  fsync?: boolean;
  /** Told how far reading the data directory has come (bytes). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Give resources a new version when what they show of others changes (default true). Off for
   * a served file, whose versions are digests of everything each resource shows.
   */
  touchRelated?: boolean;
}

export class Store {
  readonly users = new Map<string, StoredResource>();
  readonly groups = new Map<string, StoredResource>();
  private readonly byUserName = new Map<string, string>();
  /** member id → ids of the groups it is a direct member of */
  private readonly memberOf = new Map<string, Set<string>>();
  /** Bumped on every change; list caches key on it. */
  rev = 0;
  /** The highest version given out: versions are unique across resources. */
  private lastVersion = 0;
  private journal?: Journal;

  private constructor(private readonly options: StoreOptions) {}

  /** Opens (or creates) the store in options.dir, replaying what is there. */
  static async open(options: StoreOptions = {}): Promise<Store> {
    const store = new Store(options);
    if (options.dir) {
      mkdirSync(options.dir, { recursive: true, mode: 0o700 });
      takeLock(options.dir);
      try {
        const files = ['snapshot.jsonl', 'journal.jsonl']
          .map((f) => join(options.dir!, f))
          .filter((p) => existsSync(p));
        const total = files.reduce((n, p) => n + statSync(p).size, 0);
        let before = 0;
        for (const path of files) {
          await store.replay(path, (bytes) => options.onProgress?.(before + bytes, total));
          before += statSync(path).size;
        }
        store.compact();
        // Everything the journal said is in the snapshot now (replaying it again would change nothing).
        rmSync(join(options.dir, 'journal.jsonl'), { force: true });
        store.journal = await Journal.open(join(options.dir, 'journal.jsonl'), options.fsync ?? true);
      } catch (e) {
        releaseLock(options.dir);
        throw e;
      }
    }
    return store;
  }

  map(kind: ResourceKind): Map<string, StoredResource> {
    return kind === 'User' ? this.users : this.groups;
  }

  get(kind: ResourceKind, id: string): StoredResource | undefined {
    return this.map(kind).get(id);
  }

  userIdByName(userName: string): string | undefined {
    return this.byUserName.get(userName.toLowerCase());
  }

  groupsOf(memberId: string): ReadonlySet<string> {
    return this.memberOf.get(memberId) ?? EMPTY;
  }

  nextVersion(): number {
    return ++this.lastVersion;
  }

  /** Why the journal cannot be written, once it could not: the store then refuses changes. */
  get writeError(): Error | undefined {
    return this.journal?.failed;
  }

  /** Adds or replaces a resource (members included for groups) and journals it. */
  put(resource: StoredResource): Promise<void> {
    const before = this.map(resource.kind).get(resource.id);
    const touched = new Set<string>();
    if (this.options.touchRelated !== false) {
      if (resource.kind === 'Group') {
        const renamed = before !== undefined && before.attrs.displayName !== resource.attrs.displayName;
        for (const id of before?.members?.keys() ?? []) if (!resource.members?.has(id)) touched.add(id);
        for (const id of resource.members?.keys() ?? []) if (renamed || !before?.members?.has(id)) touched.add(id);
      } else if (
        before &&
        (before.attrs.displayName !== resource.attrs.displayName || before.attrs.userName !== resource.attrs.userName)
      ) {
        // Groups show their members' names.
        for (const g of this.groupsOf(resource.id)) touched.add(g);
      }
    }
    this.index(resource);
    this.touchAll(touched, resource.version, resource.lastModified);
    return this.write({
      op: 'put',
      r: { ...resource, members: resource.members ? [...resource.members] : undefined },
      ...(touched.size > 0 ? { touched: [...touched] } : {}),
    });
  }

  private index(resource: StoredResource): void {
    const map = this.map(resource.kind);
    const before = map.get(resource.id);
    if (resource.kind === 'User') {
      const oldName = before ? String(before.attrs.userName ?? '').toLowerCase() : undefined;
      const newName = String(resource.attrs.userName ?? '').toLowerCase();
      if (oldName !== undefined && oldName !== newName && this.byUserName.get(oldName) === resource.id)
        this.byUserName.delete(oldName);
      this.byUserName.set(newName, resource.id);
    }
    if (resource.kind === 'Group') {
      for (const id of before?.members?.keys() ?? []) if (!resource.members?.has(id)) this.unlink(id, resource.id);
      for (const id of resource.members?.keys() ?? []) this.link(id, resource.id);
    }
    map.set(resource.id, resource);
    this.rev++;
    this.lastVersion = Math.max(this.lastVersion, resource.version);
  }

  /**
   * Adds and removes members of a group in one step (nothing can come between the two) and
   * journals it as one record. Members already in (or not in) the group are left as they are.
   */
  changeMembers(
    group: StoredResource,
    add: Array<[string, MemberType]>,
    remove: string[],
    version: number,
    lastModified: string,
  ): Promise<void> {
    const line: Extract<Line, { op: 'm' }> = {
      op: 'm',
      g: group.id,
      v: version,
      t: lastModified,
      add: add.filter(([id]) => !group.members!.has(id)),
      remove: remove.filter((id) => group.members!.has(id)),
    };
    this.applyMembers(group, line);
    return this.write(line);
  }

  private applyMembers(group: StoredResource, line: Extract<Line, { op: 'm' }>): void {
    for (const id of line.remove) if (group.members!.delete(id)) this.unlink(id, group.id);
    for (const [id, type] of line.add) {
      group.members!.set(id, type);
      this.link(id, group.id);
    }
    this.touchAll([group.id], line.v, line.t);
    if (this.options.touchRelated !== false)
      this.touchAll([...line.remove, ...line.add.map(([id]) => id)], line.v, line.t);
  }

  /** Deletes a resource, and takes it out of every group it was a member of. */
  async remove(kind: ResourceKind, id: string): Promise<void> {
    const resource = this.map(kind).get(id);
    if (!resource) return;
    const writes: Array<Promise<void>> = [];
    const now = new Date().toISOString();
    for (const groupId of [...this.groupsOf(id)]) {
      const group = this.groups.get(groupId);
      if (group) writes.push(this.changeMembers(group, [], [id], this.nextVersion(), now));
    }
    // The members of a deleted group no longer list it.
    const touched =
      kind === 'Group' && this.options.touchRelated !== false ? [...(resource.members?.keys() ?? [])] : [];
    const v = touched.length > 0 ? this.nextVersion() : undefined;
    this.unindex(kind, id);
    if (v !== undefined) this.touchAll(touched, v, now);
    writes.push(this.write({ op: 'del', kind, id, ...(v !== undefined ? { v, t: now, touched } : {}) }));
    await Promise.all(writes);
  }

  private unindex(kind: ResourceKind, id: string): void {
    const resource = this.map(kind).get(id);
    if (!resource) return;
    for (const groupId of [...this.groupsOf(id)]) this.groups.get(groupId)?.members?.delete(id);
    this.memberOf.delete(id);
    if (kind === 'User') {
      const name = String(resource.attrs.userName ?? '').toLowerCase();
      if (this.byUserName.get(name) === id) this.byUserName.delete(name);
    } else {
      for (const memberId of resource.members?.keys() ?? []) this.unlink(memberId, id);
    }
    this.map(kind).delete(id);
    this.rev++;
  }

  /** Writes a new snapshot of everything and empties the journal. */
  compact(): void {
    const dir = this.options.dir;
    if (!dir) return;
    const tmp = join(dir, 'snapshot.jsonl.tmp');
    const fd = openSync(tmp, 'w', 0o600);
    try {
      let buffer = '';
      const flush = () => {
        writeSync(fd, buffer);
        buffer = '';
      };
      for (const map of [this.users, this.groups]) {
        for (const r of map.values()) {
          buffer +=
            JSON.stringify({ op: 'put', r: { ...r, members: r.members ? [...r.members] : undefined } } satisfies Line) +
            '\n';
          if (buffer.length > 1 << 20) flush();
        }
      }
      flush();
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(dir, 'snapshot.jsonl'));
    // The rename itself must be on disk before the journal it replaces goes.
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }

  /** Waits for pending writes, compacts, and releases the directory. */
  async close(): Promise<void> {
    if (!this.options.dir) return;
    await this.journal?.drain();
    // After a failed write, memory holds changes the journal does not: the disk stays as it is.
    if (!this.writeError) {
      this.compact();
      rmSync(join(this.options.dir, 'journal.jsonl'), { force: true });
    }
    await this.journal?.close();
    this.journal = undefined;
    releaseLock(this.options.dir);
  }

  /** Gives these resources a version (never a lower one than they have). */
  private touchAll(ids: Iterable<string>, version: number, lastModified: string): void {
    for (const id of ids) {
      const r = this.users.get(id) ?? this.groups.get(id);
      if (!r || r.version >= version) continue;
      r.version = version;
      r.lastModified = lastModified;
    }
    this.rev++;
    this.lastVersion = Math.max(this.lastVersion, version);
  }

  private link(memberId: string, groupId: string): void {
    let set = this.memberOf.get(memberId);
    if (!set) this.memberOf.set(memberId, (set = new Set()));
    set.add(groupId);
  }

  private unlink(memberId: string, groupId: string): void {
    const set = this.memberOf.get(memberId);
    if (!set) return;
    set.delete(groupId);
    if (set.size === 0) this.memberOf.delete(memberId);
  }

  private write(line: Line): Promise<void> {
    return this.journal ? this.journal.append(JSON.stringify(line)) : Promise.resolve();
  }

  private async replay(path: string, onProgress: (bytes: number) => void): Promise<void> {
    const input = createReadStream(path, 'utf8');
    const lines = createInterface({ input, crlfDelay: Infinity });
    let n = 0;
    let last: string | undefined;
    for await (const text of lines) {
      n++;
      if (n % 5000 === 0) onProgress(input.bytesRead);
      if (!text) continue;
      if (last !== undefined) this.apply(parseLine(last, path, n - 1));
      last = text;
    }
    if (last === undefined) return;
    let line: Line;
    try {
      line = JSON.parse(last) as Line;
    } catch {
      // The last line cut short by a crash in the middle of a write: that change was never acknowledged.
      return;
    }
    this.apply(line);
  }

  /** One record of a snapshot or journal. Replaying a record twice changes nothing. */
  private apply(line: Line): void {
    switch (line.op) {
      case 'put': {
        const { members, ...rest } = line.r;
        this.index({ ...rest, members: rest.kind === 'Group' ? new Map(members ?? []) : undefined });
        if (line.touched) this.touchAll(line.touched, rest.version, rest.lastModified);
        return;
      }
      case 'del':
        this.unindex(line.kind, line.id);
        if (line.touched && line.v !== undefined) this.touchAll(line.touched, line.v, line.t ?? '');
        return;
      case 'm': {
        // A group deleted later in the journal: its membership changes no longer matter.
        const group = this.groups.get(line.g);
        if (group) this.applyMembers(group, line);
        return;
      }
    }
  }
}

const EMPTY: ReadonlySet<string> = new Set();

function parseLine(text: string, path: string, n: number): Line {
  try {
    return JSON.parse(text) as Line;
  } catch {
    throw new StoreError(`${path}:${n}: not a record of the store (the file is damaged; move it away to start empty)`);
  }
}

/**
 * The append-only journal with group commit: lines appended while a write is in flight
 * are written together by the next one.
 */
class Journal {
  private pending: string[] = [];
  private waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private writing?: Promise<void>;
  failed?: Error;

  private constructor(
    private readonly handle: FileHandle,
    private readonly sync: boolean,
  ) {}

  static async open(path: string, sync: boolean): Promise<Journal> {
    return new Journal(await open(path, 'a', 0o600), sync);
  }

  append(line: string): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    this.pending.push(line);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.writing) this.writing = this.run();
    return done;
  }

  private async run(): Promise<void> {
    // Let the other changes of this turn of the event loop join the batch.
    await new Promise<void>((r) => setImmediate(r));
    while (this.pending.length > 0) {
      const lines = this.pending;
      const waiters = this.waiters;
      this.pending = [];
      this.waiters = [];
      try {
        const bytes = Buffer.from(lines.join('\n') + '\n');
        for (let at = 0; at < bytes.length;) at += (await this.handle.write(bytes, at, bytes.length - at)).bytesWritten;
        if (this.sync) await this.handle.datasync();
        for (const w of waiters) w.resolve();
      } catch (e) {
        this.failed = new StoreError(`cannot write the journal: ${e instanceof Error ? e.message : String(e)}`);
        for (const w of [...waiters, ...this.waiters]) w.reject(this.failed);
        this.waiters = [];
        this.pending = [];
      }
    }
    this.writing = undefined;
  }

  async drain(): Promise<void> {
    while (this.writing) await this.writing;
  }

  async close(): Promise<void> {
    await this.drain();
    await this.handle.close();
  }
}

/** Directories this process holds (the pid in their lock files is ours). */
const held = new Set<string>();

function takeLock(dir: string): void {
  const lock = join(dir, 'lock');
  if (held.has(dir)) throw new StoreError(`${dir} is already open in this process`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      held.add(dir);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(lock, 'utf8'));
      if (pid && pid !== process.pid && alive(pid))
        throw new StoreError(`another scimctl serve (pid ${pid}) is using ${dir}`);
      rmSync(lock, { force: true });
    }
  }
  throw new StoreError(`cannot lock ${dir}`);
}

/** The pid of a live process holding the store in `dir`, if one does. */
export function lockHolder(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, 'lock'), 'utf8'));
    return pid && (pid === process.pid ? held.has(dir) : alive(pid)) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseLock(dir: string): void {
  held.delete(dir);
  rmSync(join(dir, 'lock'), { force: true });
}

/**
 * Run history: every sync run keeps its plan, results, log lines, summary, the journal of
 * its apply (journal.ts) and a copy of the source as it was read under the data directory,
 * for `scimctl runs`. Nothing here holds a secret: plans and logs never contain tokens.
 *
 * A run records the process that runs it (pid, host, start time); a run still `running`
 * whose process is gone is marked `interrupted` by the next command that reads the history,
 * with what its journal says it applied.
 */
import { createHash, type Hash } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import type { SourceKeeper } from '../sources/source.ts';
import { processGone, selfIdentity } from '../util/process-identity.ts';
import type { ChangeResult } from './apply.ts';
import { countFacts, readJournal } from './journal.ts';
import type { Change, Origin } from './model.ts';

export interface RunRecord {
  id: string;
  command: string;
  profile: string;
  url: string;
  startedAt: string;
  finishedAt?: string;
  /**
   * planned: dry run or plan only; applied: every change applied; partial: some failed; refused: a safety
   * check stopped it; failed: an error ended it; interrupted: its process ended (killed) before it did.
   */
  status: 'running' | 'planned' | 'applied' | 'partial' | 'refused' | 'failed' | 'interrupted';
  summary?: Record<string, number>;
  results?: Record<string, number>;
  message?: string;
  /** The process that ran it (process-identity.ts). */
  pid?: number;
  host?: string;
  pidStart?: string;
  bootId?: string;
  /** When a later command found the run's process gone. */
  interruptedAt?: string;
  /** An interrupted run's journal was folded into the state of its profile (recover.ts). */
  journalFolded?: boolean;
}

/** A file of the source as read, in the run's source folder. */
/** A run's changes with their results (RunHistory.outcome). */
export interface RunOutcome {
  changes: Array<{ change: Change; result?: ChangeResult }>;
  /** The changes that failed, with the server's word (their result's detail). */
  failures: Array<{ change: Change; result?: ChangeResult }>;
}

/** A user as the source gave it to a run (received.ndjson): where it was, and its attributes without secrets. */
export interface ReceivedRecord {
  origin: Origin;
  attributes: Record<string, unknown>;
  /**
   * Only its identity was kept: the target already held the rest as the source said it (settle.ts), so the plan
   * never needed it.
   */
  identityOnly?: boolean;
  /** Why the plan left it out (a problem of its own), when it did. */
  problem?: string;
}

export interface KeptSource {
  role: string;
  /** The path it was read from. */
  path: string;
  /** Its name in runs/<id>/source. */
  copy: string;
  bytes: number;
  sha256: string;
}

export interface LogLine {
  time: string;
  level: 'info' | 'warn' | 'error';
  message: string;
  [field: string]: unknown;
}

export class RunHistory {
  constructor(readonly dir: string) {}

  private runDir(id: string): string {
    return join(this.dir, 'runs', id);
  }

  /** Starts a run record; returns its id (sortable by time). */
  start(run: Omit<RunRecord, 'id' | 'status'>, now = new Date()): RunRecord {
    const id = `${now
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}-${Math.random().toString(36).slice(2, 6)}`;
    const record: RunRecord = { ...run, id, status: 'running', ...selfIdentity() };
    mkdirSync(this.runDir(id), { recursive: true, mode: 0o700 });
    this.save(record);
    return record;
  }

  /** Writes the run record whole or not at all (a reader never sees half of one). */
  save(record: RunRecord): void {
    const file = join(this.runDir(record.id), 'run.json');
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  }

  journalFile(id: string): string {
    return join(this.runDir(id), 'journal.ndjson');
  }

  /**
   * Keeps what the source said of each user this run received (received.ndjson, one record a line), for `runs user`.
   * The caller leaves secrets out (receivedRecord).
   */
  writeReceived(id: string, records: Iterable<ReceivedRecord>): void {
    const fd = openSync(join(this.runDir(id), 'received.ndjson'), 'w', 0o600);
    try {
      let chunk = '';
      for (const r of records) {
        chunk += `${JSON.stringify(r)}\n`;
        if (chunk.length >= 1 << 16) {
          writeSync(fd, chunk);
          chunk = '';
        }
      }
      if (chunk) writeSync(fd, chunk);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The records a run received (writeReceived), or only those whose line holds one of `needles` (lower-case, as they
   * appear in JSON): a cheap look before parsing, for a run of 100,000 users. None for a run that kept none (an adopted
   * plan, a run from before they were kept).
   */
  received(id: string, needles?: readonly string[]): ReceivedRecord[] {
    let text: string;
    try {
      text = readFileSync(join(this.runDir(id), 'received.ndjson'), 'utf8');
    } catch {
      return [];
    }
    const out: ReceivedRecord[] = [];
    const parse = (line: string) => {
      try {
        if (line) out.push(JSON.parse(line) as ReceivedRecord);
      } catch {
        // A line cut short (a disk that filled up) is left out.
      }
    };
    if (!needles) {
      for (const line of text.split('\n')) parse(line);
      return out;
    }
    // Each line that holds a needle, once: found by searching the lower-cased text, not by splitting it.
    const lower = text.toLowerCase();
    const starts = new Set<number>();
    for (const needle of needles) {
      if (!needle) continue;
      for (let at = lower.indexOf(needle); at >= 0; at = lower.indexOf(needle, at + needle.length))
        starts.add(lower.lastIndexOf('\n', at) + 1);
    }
    for (const start of [...starts].sort((a, b) => a - b)) {
      const end = text.indexOf('\n', start);
      parse(text.slice(start, end < 0 ? undefined : end));
    }
    return out;
  }

  /**
   * Keeps the `keep` newest runs of `profile` and removes the older ones: never a run still `running`, never
   * `current`, never an interrupted run whose journal the next sync has yet to fold into the state. Returns the ids
   * removed.
   */
  prune(profile: string, keep: number, current?: string): string[] {
    const removed: string[] = [];
    const runs = this.list().filter((r) => r.profile === profile);
    for (const run of runs.slice(Math.max(0, keep))) {
      // An interrupted run whose journal is not yet folded into the state still holds what it applied.
      if (run.status === 'running' || run.id === current || run.journalFolded === false) continue;
      rmSync(this.runDir(run.id), { recursive: true, force: true });
      removed.push(run.id);
    }
    return removed;
  }

  writeJson(id: string, name: 'plan.json' | 'results.json', value: unknown): void {
    writeFileSync(join(this.runDir(id), name), `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  }

  log(id: string, line: LogLine): void {
    appendFileSync(join(this.runDir(id), 'log.ndjson'), `${JSON.stringify(line)}\n`, { mode: 0o600 });
  }

  /**
   * Keeps each source file as the reader reads it (readSource's `keep`): the bytes parsed and
   * fingerprinted are the bytes kept, whatever happens to the file afterwards. Each kept file's
   * size and sha256 go into source/manifest.json.
   */
  sourceKeeper(id: string): SourceKeeper {
    const dir = join(this.runDir(id), 'source');
    const kept: KeptSource[] = [];
    const writeManifest = () =>
      writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(kept, null, 2)}\n`, { mode: 0o600 });
    return {
      file: (role, path) => {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const copy = `${kept.length + 1}-${basename(path)}`;
        const fd = openSync(join(dir, copy), 'w', 0o600);
        const hash: Hash = createHash('sha256');
        let bytes = 0;
        let open = true;
        const close = () => {
          if (open) closeSync(fd);
          open = false;
        };
        return {
          write: (chunk) => {
            hash.update(chunk);
            bytes += chunk.length;
            for (let at = 0; at < chunk.length;) at += writeSync(fd, chunk, at, chunk.length - at);
          },
          end: () => {
            close();
            kept.push({ role, path, copy, bytes, sha256: hash.digest('hex') });
            writeManifest();
          },
          discard: () => {
            close();
            rmSync(join(dir, copy), { force: true });
          },
        };
      },
    };
  }

  /** The source files kept for a run, as read. */
  keptSource(id: string): KeptSource[] {
    try {
      return JSON.parse(readFileSync(join(this.runDir(id), 'source', 'manifest.json'), 'utf8')) as KeptSource[];
    } catch {
      return [];
    }
  }

  sourceDir(id: string): string {
    return join(this.runDir(id), 'source');
  }

  /**
   * Marks the runs still `running` whose process is gone as `interrupted`, with what their
   * journal says they applied (`results`: applied, failed, excluded and unfinished changes).
   * Returns the runs marked.
   */
  markInterrupted(now = new Date()): RunRecord[] {
    const marked: RunRecord[] = [];
    for (const run of this.list()) {
      if (run.status !== 'running' || !processGone(run)) continue;
      run.status = 'interrupted';
      run.interruptedAt = now.toISOString();
      const journal = readJournal(this.journalFile(run.id));
      const where = `pid ${run.pid} on ${run.host}`;
      if (journal) {
        const counts = countFacts(journal.facts);
        run.results = {
          ...counts,
          unfinished: Math.max(0, journal.header.changes - counts.applied - counts.failed - counts.excluded),
        };
        run.message =
          `the process (${where}) ended during the apply: ${counts.applied} of ` +
          `${journal.header.changes} change(s) applied`;
        run.journalFolded = false;
      } else {
        run.message = `the process (${where}) ended before applying anything`;
      }
      this.save(run);
      marked.push(run);
    }
    return marked;
  }

  list(): RunRecord[] {
    let ids: string[];
    try {
      ids = readdirSync(join(this.dir, 'runs'));
    } catch {
      return [];
    }
    // Newest first by start time: ids name the second only, and two runs can start in the same one.
    const newer = (a: RunRecord, b: RunRecord) =>
      b.startedAt.localeCompare(a.startedAt) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
    return ids
      .map((id) => this.get(id))
      .filter((r): r is RunRecord => r !== undefined)
      .sort(newer);
  }

  get(id: string): RunRecord | undefined {
    try {
      return JSON.parse(readFileSync(join(this.runDir(id), 'run.json'), 'utf8')) as RunRecord;
    } catch {
      return undefined;
    }
  }

  /** A run by id or unique id prefix ("latest" for the newest). */
  find(ref: string): RunRecord | undefined {
    const runs = this.list();
    if (ref === 'latest') return runs[0];
    const hits = runs.filter((r) => r.id === ref || r.id.startsWith(ref));
    return hits.length === 1 ? hits[0] : runs.find((r) => r.id === ref);
  }

  /**
   * What a run did, change by change: each change of its plan with its result (none when the run did not apply it),
   * from the run's plan.json and results.json. Unreadable files count as absent.
   */
  outcome(id: string): RunOutcome {
    const parse = <T>(name: 'plan.json' | 'results.json'): T | undefined => {
      try {
        const text = this.readText(id, name);
        return text === undefined ? undefined : (JSON.parse(text) as T);
      } catch {
        return undefined;
      }
    };
    const plan = parse<{ changes?: Change[] }>('plan.json');
    const results = parse<ChangeResult[]>('results.json');
    const byId = new Map((Array.isArray(results) ? results : []).map((r) => [r.id, r]));
    const changes = (Array.isArray(plan?.changes) ? plan.changes : []).map((change) => ({
      change,
      result: byId.get(change.id),
    }));
    return { changes, failures: changes.filter((c) => c.result?.status === 'failed') };
  }

  readText(id: string, name: 'plan.json' | 'results.json' | 'log.ndjson'): string | undefined {
    try {
      return readFileSync(join(this.runDir(id), name), 'utf8');
    } catch {
      return undefined;
    }
  }
}

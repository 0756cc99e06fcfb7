/**
 * Run history: every sync run keeps its plan, results, log lines, summary and a
 * copy of the source under the data directory, for `scimctl runs`. Nothing here
 * holds a secret: plans and logs never contain tokens.
 */
import { appendFileSync, copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export interface RunRecord {
  id: string;
  command: string;
  profile: string;
  url: string;
  startedAt: string;
  finishedAt?: string;
  /** planned: dry run or plan only; applied: every change applied; partial: some failed; refused: a safety check stopped it; failed: an error ended it. */
  status: 'running' | 'planned' | 'applied' | 'partial' | 'refused' | 'failed';
  summary?: Record<string, number>;
  results?: Record<string, number>;
  message?: string;
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
    const id = `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${Math.random().toString(36).slice(2, 6)}`;
    const record: RunRecord = { ...run, id, status: 'running' };
    mkdirSync(this.runDir(id), { recursive: true, mode: 0o700 });
    this.save(record);
    return record;
  }

  save(record: RunRecord): void {
    writeFileSync(join(this.runDir(record.id), 'run.json'), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  }

  writeJson(id: string, name: 'plan.json' | 'results.json', value: unknown): void {
    writeFileSync(join(this.runDir(id), name), `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  }

  log(id: string, line: LogLine): void {
    appendFileSync(join(this.runDir(id), 'log.ndjson'), `${JSON.stringify(line)}\n`, { mode: 0o600 });
  }

  /** Keeps a copy of each source file (the source may change or vanish later). */
  copySource(id: string, files: readonly string[]): void {
    const dir = join(this.runDir(id), 'source');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    files.forEach((f, i) => copyFileSync(f, join(dir, `${i + 1}-${basename(f)}`)));
  }

  list(): RunRecord[] {
    let ids: string[];
    try {
      ids = readdirSync(join(this.dir, 'runs'));
    } catch {
      return [];
    }
    return ids
      .sort()
      .reverse()
      .map((id) => this.get(id))
      .filter((r): r is RunRecord => r !== undefined);
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

  readText(id: string, name: 'plan.json' | 'results.json' | 'log.ndjson'): string | undefined {
    try {
      return readFileSync(join(this.runDir(id), name), 'utf8');
    } catch {
      return undefined;
    }
  }
}

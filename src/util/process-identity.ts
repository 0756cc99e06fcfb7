/**
 * Who runs a run: its process id, host, and where the system tells (Linux /proc) the
 * process's start time and the boot it belongs to, so that a later process can tell whether
 * that run's process is still there, or gone (a pid reused by another program counts as gone).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface ProcessIdentity {
  pid: number;
  host: string;
  /** Start time of the process, in clock ticks since boot (/proc/PID/stat, field 22). */
  pidStart?: string;
  /** The boot the process ran in (/proc/sys/kernel/random/boot_id). */
  bootId?: string;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** A process's start time from /proc/PID/stat: the fields after the command name's closing parenthesis. */
export function processStart(pid: number): string | undefined {
  return procStat(pid)?.start;
}

/** State (R, S, Z for a zombie, …) and start time of a process, from /proc/PID/stat. */
function procStat(pid: number): { state: string; start: string } | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] === undefined ? undefined : { state: fields[0]!, start: fields[19] };
}

function bootId(): string | undefined {
  return readText('/proc/sys/kernel/random/boot_id')?.trim() || undefined;
}

export function selfIdentity(): ProcessIdentity {
  const id: ProcessIdentity = { pid: process.pid, host: hostname() };
  const start = processStart(process.pid);
  if (start !== undefined) id.pidStart = start;
  const boot = bootId();
  if (boot !== undefined) id.bootId = boot;
  return id;
}

/**
 * Whether the process that ran a run is gone: no process with its pid, another boot, or a
 * process with its pid that started at another time (or, where the start time is unknown,
 * whose command line is not scimctl's). A run of another host cannot be told: never gone.
 */
export function processGone(id: Partial<ProcessIdentity>): boolean {
  if (typeof id.pid !== 'number' || id.host !== hostname()) return false;
  const boot = bootId();
  if (id.bootId !== undefined && boot !== undefined && id.bootId !== boot) return true;
  try {
    process.kill(id.pid, 0);
  } catch (e) {
    // EPERM: a process of another user has that pid; it exists, and is judged below.
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  const stat = procStat(id.pid);
  // A zombie has ended; it only waits for its parent to notice.
  if (stat?.state === 'Z' || stat?.state === 'X') return true;
  if (id.pidStart !== undefined && stat !== undefined) return stat.start !== id.pidStart;
  const cmdline = readText(`/proc/${id.pid}/cmdline`);
  if (cmdline !== undefined) return !/scimctl/i.test(cmdline);
  return false;
}

/** Sizes in flags and messages (--avatar-max 256KB): parsed strictly, shown as people read them. */

const UNITS: Record<string, number> = { b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2 };

/** `256KB`, `1MB`, `300000` (bytes) … as a byte count; throws on anything else (a unit is KB or MB, 1024-based). */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib)?\s*$/i.exec(text);
  const bytes = m ? Math.floor(Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()]!) : NaN;
  if (!Number.isFinite(bytes) || bytes < 1)
    throw new Error(`"${text}" is not a size: give bytes or KB/MB above 0, e.g. 256KB or 1MB`);
  return bytes;
}

/** A size as people read it: 300 KB, 1.2 MB, 12 bytes. */
export const formatSize = (bytes: number) =>
  bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(1)} MB`
    : bytes >= 1024
      ? `${Math.round(bytes / 1024)} KB`
      : `${bytes} bytes`;

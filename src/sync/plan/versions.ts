/** The versions a plan records for the target objects its changes touch (checked again before applying). */
import type { ScimResource } from '../../api/types.ts';

/** The version a plan records for a target object: its ETag/meta.version, else lastModified, else a content hash. */
export function resourceVersion(r: ScimResource): string {
  if (r.meta?.version) return r.meta.version;
  if (r.meta?.lastModified) return `lastModified:${r.meta.lastModified}`;
  const { meta: _meta, ...rest } = r;
  return `hash:${fnv1a(stableStringify(rest))}`;
}

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** A small, fast, stable hash (FNV-1a, 52 bits) for content versions. */
function fnv1a(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return (h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0')).slice(0, 13);
}

/** The key of a target object in a plan's versions. */
export const versionKey = (kind: 'User' | 'Group', id: string) => `${kind}/${id}`;

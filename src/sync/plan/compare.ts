/**
 * Comparing a source record with a target user: only the attributes the source provides,
 * identity attributes case-insensitively, with a fast path for the common unchanged user.
 */
import { sameValue } from '../../api/update.ts';
import { lower } from './keys.ts';

/** Identity attributes compare case-insensitively: servers normalise them, and a case-only change is churn. */
export function normaliseIdentity(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...r };
  if (typeof out.userName === 'string') out.userName = lower(out.userName);
  if (Array.isArray(out.emails))
    out.emails = out.emails.map((e) =>
      e && typeof e === 'object' && typeof (e as { value?: unknown }).value === 'string'
        ? { ...e, value: lower((e as { value: string }).value) }
        : e,
    );
  return out;
}

import { isPlainObject } from '../../util/objects.ts';
const identityEqual = (a: unknown, b: unknown) =>
  typeof a === 'string' && typeof b === 'string' && lower(a) === lower(b);

function valueOf(obj: Record<string, unknown>, name: string): unknown {
  if (name in obj) return obj[name];
  const lowerName = lower(name);
  for (const k of Object.keys(obj)) if (lower(k) === lowerName) return obj[k];
  return undefined;
}

/**
 * True only when laying `attrs` over `existing` (mergeAttributes) certainly changes
 * nothing: the fast path for the common case of an unchanged user, without the
 * copies a full merge and diff make. When unsure it says false, and the full
 * comparison decides.
 */
export function certainlyUnchanged(existing: Record<string, unknown>, attrs: Record<string, unknown>): boolean {
  for (const [name, incoming] of Object.entries(attrs)) {
    const lowerName = lower(name);
    if (lowerName === 'id' || lowerName === 'meta' || lowerName === 'schemas' || lowerName === 'groups') continue;
    const current = valueOf(existing, name);
    if (incoming === null) {
      if (!sameValue(current, undefined)) return false;
    } else if (lowerName === 'username') {
      if (!identityEqual(current, incoming)) return false;
    } else if (lowerName.startsWith('urn:') && isPlainObject(incoming)) {
      if (!isPlainObject(current)) return false;
      for (const [attr, v] of Object.entries(incoming)) {
        const c = valueOf(current, attr);
        if (isPlainObject(v) && isPlainObject(c)) {
          for (const [sub, sv] of Object.entries(v)) if (!sameValue(valueOf(c, sub), sv)) return false;
        } else if (!sameValue(c, v)) return false;
      }
    } else if (Array.isArray(incoming)) {
      if (!Array.isArray(current)) return false;
      const typed = incoming.every((i) => isPlainObject(i) && typeof i.type === 'string');
      if (!typed) {
        if (!sameValue(current, incoming)) return false;
        continue;
      }
      for (const item of incoming as Array<Record<string, unknown>>) {
        const match = current.find(
          (c) => isPlainObject(c) && typeof c.type === 'string' && lower(c.type) === lower(item.type as string),
        );
        if (!isPlainObject(match)) return false;
        for (const [sub, sv] of Object.entries(item)) {
          const cv = valueOf(match, sub);
          if (lowerName === 'emails' && sub === 'value' ? !identityEqual(cv, sv) : !sameValue(cv, sv)) return false;
        }
        // A new primary would take the flag from another item.
        if (item.primary === true && current.some((c) => c !== match && isPlainObject(c) && c.primary === true))
          return false;
      }
    } else if (isPlainObject(incoming) && isPlainObject(current)) {
      for (const [sub, v] of Object.entries(incoming)) if (!sameValue(valueOf(current, sub), v)) return false;
    } else if (!sameValue(current, incoming)) {
      return false;
    }
  }
  return true;
}

/** A copy without null, "" and [] values (extension objects too); such values are unassigned in SCIM. */
export function withoutEmpty(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    if (v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    if (/^urn:/i.test(k) && isPlainObject(v)) {
      const ext = withoutEmpty(v);
      if (Object.keys(ext).length > 0) out[k] = ext;
      continue;
    }
    out[k] = v;
  }
  return out;
}

/** The named attributes of a resource (names matched case-insensitively). */
export function pick(r: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    if (name in r) {
      out[name] = r[name];
      continue;
    }
    const lowerName = lower(name);
    const key = Object.keys(r).find((k) => lower(k) === lowerName);
    if (key !== undefined) out[key] = r[key];
  }
  return out;
}

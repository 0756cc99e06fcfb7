/**
 * The target's /Schemas as a guide, never a wall.
 *
 * Real servers publish partial schemas: a User schema without `groups`, `photos` or
 * `x509Certificates`, `addresses` without its `primary` sub-attribute while the server's own
 * users carry `addresses[work].primary`. Discovery therefore completes the target's schemas with
 * the RFC 7643 definitions (completeSchemas in src/api/schema.ts): a name neither knows is still
 * an error (a typo), and what only the RFC defines is *undeclared* (Capabilities.undeclared).
 *
 * Once the target has been read, an undeclared attribute (or sub-attribute) that the target's
 * own users carry (TargetSnapshot.observed) is kept: the server stores it, whatever its /Schemas
 * says. Any other undeclared attribute is left out of what the source manages (leaveOut), with
 * one warning per attribute (leftOutWarning); with --strict-schema it is an input error instead
 * (strictProblems).
 *
 * Paths, here and in TargetSnapshot.observed, are lower-cased: `photos`, `addresses.primary`
 * for the core User schema; `URN:attr` and `URN:attr.sub` for an extension's.
 *
 * Pure: no I/O.
 */
import type { DesiredUser, Origin } from './model.ts';
import { isPlainObject } from '../util/objects.ts';

/** What leaveOut needs of the target's schemas: the undeclared paths (see Capabilities.undeclared). */
export interface SchemaFit {
  /** Undeclared paths of users (lower-cased, see above) → the path as people read it (`addresses.primary`). */
  undeclared: ReadonlyMap<string, string>;
}

const lower = (s: string) => s.toLowerCase();

/** An undeclared attribute the target's users do not carry either, and the records that give it. */
export interface LeftOut {
  /** As people read it: `photos`, `addresses.primary`, `URN:attr`. */
  path: string;
  /** The records giving it a value (null, "" and [] are no value), each once, in source order. */
  origins: Origin[];
}

/** A value that assigns nothing (RFC 7643 §2.5): null, "", [] and {}. */
const isEmpty = (v: unknown) =>
  v === null ||
  v === undefined ||
  v === '' ||
  (Array.isArray(v) && v.length === 0) ||
  (isPlainObject(v) && Object.keys(v).length === 0);

/**
 * Finds, in the users' attributes (and onlyOnCreate), the undeclared attributes that the
 * target's users do not carry (`observed`), and with `strip` leaves them out: the users'
 * attribute objects are replaced by copies without them (a complex value or an item of a
 * multi-valued one left with nothing is left out too; so is a list left with no items).
 * Returns one entry per such attribute, in the order first met; nothing when all fit.
 */
export function leaveOut(
  users: readonly DesiredUser[],
  fit: SchemaFit,
  observed: ReadonlySet<string> = new Set(),
  strip = true,
): LeftOut[] {
  const out = new Set<string>();
  // A user's groups are its memberships (DesiredUser.groups), never an attribute left out.
  for (const path of fit.undeclared.keys()) if (!observed.has(path) && path !== 'groups') out.add(path);
  if (out.size === 0) return [];
  // Attributes (by path) with left-out sub-attributes.
  const parents = new Set<string>();
  for (const path of out) {
    const dot = path.lastIndexOf('.');
    if (dot > path.lastIndexOf(':') && dot > 0) parents.add(path.slice(0, dot));
  }
  const found = new Map<string, Origin[]>();
  let record: Origin;
  let counted = new Set<string>();
  const note = (path: string, value: unknown) => {
    if (isEmpty(value) || counted.has(path)) return;
    counted.add(path);
    let origins = found.get(path);
    if (!origins) found.set(path, (origins = []));
    origins.push(record);
  };

  /** `obj` without its left-out keys (`obj` itself when it has none); sub-keys are those of `parent`. */
  const fitSubs = (obj: Record<string, unknown>, parent: string): Record<string, unknown> => {
    let copy: Record<string, unknown> | undefined;
    for (const [key, value] of Object.entries(obj)) {
      const path = `${parent}.${lower(key)}`;
      if (!out.has(path)) continue;
      note(path, value);
      copy ??= { ...obj };
      delete copy[key];
    }
    return copy ?? obj;
  };
  /** The value of attribute `path` without its left-out sub-attributes (undefined: nothing is left). */
  const fitValue = (value: unknown, path: string): unknown => {
    if (!parents.has(path)) return value;
    if (isPlainObject(value)) {
      const fitted = fitSubs(value, path);
      return fitted !== value && Object.keys(fitted).length === 0 ? undefined : fitted;
    }
    if (!Array.isArray(value)) return value;
    let changed = false;
    const items: unknown[] = [];
    for (const item of value) {
      const fitted = isPlainObject(item) ? fitSubs(item, path) : item;
      if (fitted !== item) changed = true;
      if (fitted === item || Object.keys(fitted as object).length > 0) items.push(fitted);
    }
    if (!changed) return value;
    return items.length === 0 ? undefined : items;
  };
  /** The attributes of `obj` (a record, or an extension's object under `prefix`) without the left-out ones. */
  const fitAttributes = (obj: Record<string, unknown>, prefix: string): Record<string, unknown> => {
    let copy: Record<string, unknown> | undefined;
    const put = (key: string, value: unknown) => {
      copy ??= { ...obj };
      if (value === undefined) delete copy[key];
      else copy[key] = value;
    };
    for (const [key, value] of Object.entries(obj)) {
      const name = lower(key);
      if (prefix === '' && name.startsWith('urn:')) {
        if (!isPlainObject(value)) continue;
        const fitted = fitAttributes(value, `${name}:`);
        if (fitted !== value) put(key, Object.keys(fitted).length === 0 ? undefined : fitted);
        continue;
      }
      const path = `${prefix}${name}`;
      if (out.has(path)) {
        note(path, value);
        put(key, undefined);
        continue;
      }
      const fitted = fitValue(value, path);
      if (fitted !== value) put(key, fitted);
    }
    return copy ?? obj;
  };

  for (const user of users) {
    record = user.origin;
    counted = new Set();
    const attributes = fitAttributes(user.attributes, '');
    const onlyOnCreate = user.onlyOnCreate && fitAttributes(user.onlyOnCreate, '');
    if (!strip) continue;
    if (attributes !== user.attributes) user.attributes = attributes;
    if (onlyOnCreate !== user.onlyOnCreate) {
      if (onlyOnCreate && Object.keys(onlyOnCreate).length > 0) user.onlyOnCreate = onlyOnCreate;
      else delete user.onlyOnCreate;
    }
  }
  return [...found].map(([path, origins]) => ({ path: fit.undeclared.get(path) ?? path, origins }));
}

const records = (n: number) => `${n} record${n === 1 ? '' : 's'}`;

/** The one warning for an attribute left out. */
export function leftOutWarning(l: LeftOut): string {
  return (
    `${l.path}: the target's /Schemas does not declare it; ` +
    `${records(l.origins.length)}; left out — --strict-schema makes this an error`
  );
}

/** With --strict-schema: one input problem per record giving an attribute that would be left out. */
export function strictProblems(
  leftOut: readonly LeftOut[],
): Array<{ file: string; line: number; field: string; message: string }> {
  return leftOut.flatMap((l) =>
    l.origins.map((o) => ({
      file: o.file,
      line: o.line,
      field: l.path,
      message: "the target's /Schemas does not declare it, and no user of the target has it (--strict-schema)",
    })),
  );
}

/**
 * The attribute paths the target's users carry (see the module's comment), noted as they are
 * read: top-level names, the sub-attribute names of complex values and of the items of
 * multi-valued ones, extensions' attribute names and theirs. Names are kept as they come and
 * lower-cased once, by paths(): a directory of 100,000 users uses a few dozen names.
 */
export class ObservedPaths {
  /** Top-level name → its sub-attribute names; an extension's URN → its attribute names → theirs. */
  private readonly core = new Map<string, Set<string>>();
  private readonly extensions = new Map<string, Map<string, Set<string>>>();

  observe(user: Record<string, unknown>): void {
    for (const key of Object.keys(user)) {
      const value = user[key];
      if (value === null || value === undefined) continue;
      if (isPlainObject(value) && key.length > 4 && lower(key.slice(0, 4)) === 'urn:') {
        let attrs = this.extensions.get(key);
        if (!attrs) this.extensions.set(key, (attrs = new Map()));
        for (const name of Object.keys(value))
          if (value[name] !== null && value[name] !== undefined) subsOf(attrs, name, value[name]);
        continue;
      }
      subsOf(this.core, key, value);
    }
  }

  /** Every path noted, lower-cased. */
  paths(): Set<string> {
    const out = new Set<string>();
    const add = (prefix: string, names: Map<string, Set<string>>) => {
      for (const [name, subs] of names) {
        const p = `${prefix}${lower(name)}`;
        out.add(p);
        for (const s of subs) out.add(`${p}.${lower(s)}`);
      }
    };
    add('', this.core);
    for (const [urn, attrs] of this.extensions) add(`${lower(urn)}:`, attrs);
    return out;
  }
}

function subsOf(names: Map<string, Set<string>>, name: string, value: unknown): void {
  let subs = names.get(name);
  if (!subs) names.set(name, (subs = new Set()));
  if (isPlainObject(value)) {
    for (const k of Object.keys(value)) subs.add(k);
  } else if (Array.isArray(value)) {
    for (const item of value) if (isPlainObject(item)) for (const k of Object.keys(item)) subs.add(k);
  }
}

/**
 * What scimctl learns about a target by using it, beyond what discovery says. Real servers
 * publish a ServiceProviderConfig and /Schemas that are partial or untrue (see the README,
 * "Servers as they are"): whether a filter works, whether group members can be read back,
 * which attributes the server keeps as sent, and how many writes it takes at once are found
 * out from its answers, remembered per profile next to the discovery cache (and kept when
 * discovery is refreshed), and said once on stderr when they change what scimctl does.
 *
 * Plain data and pure functions; the client (client.ts) records and applies them.
 */
import { parseFilter, type FilterNode } from './filter-eval.ts';
import { isPlainObject } from '../util/objects.ts';

/**
 * What a server did with a filter feature: answered truthfully, refused it, or answered wrongly (empty or unfiltered).
 */
export type FilterVerdict = 'works' | 'rejected' | 'wrong';

/** How a target fails to keep an attribute as sent. */
export type UnkeptHow =
  /** Not kept at all (dropped, or cleared by a later write). */
  | 'dropped'
  /** A multi-valued attribute of which only one value is kept. */
  | 'single'
  /** Kept, but the server puts its own value there (displayName computed from name, say). */
  | 'computed';

export interface Learned {
  /** Per endpoint (`/Users`, `/Groups`), per filter feature (see filterFeatures). */
  filters: Record<string, Record<string, FilterVerdict>>;
  /** False when a group's members never come back after they were added (membership is write-only). */
  membersReadable?: boolean;
  /**
   * User attribute paths (`emails`, `emails.type`, `urn:…:User:department`; any case) the target does not keep as sent.
   */
  unkept: Record<string, UnkeptHow>;
  /** The server answered a create without the new resource's id (it was looked up). */
  createWithoutId?: boolean;
  /** Writes failed under concurrency and succeeded one at a time: the in-flight limit that held. */
  writeLimit?: number;
}

export function emptyLearned(): Learned {
  return { filters: {}, unkept: {} };
}

const OPS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le', 'pr']);

/**
 * The features of a filter a server may lack: operators, and/or/not, parentheses, value paths, booleans, extension and
 * meta attributes.
 */
export function filterFeatures(filter: string): string[] {
  const features = new Set<string>();
  let tree: FilterNode;
  try {
    tree = parseFilter(filter);
  } catch {
    return ['unparsed'];
  }
  const walk = (node: FilterNode): void => {
    switch (node.kind) {
      case 'and':
      case 'or':
        features.add(node.kind);
        walk(node.left);
        walk(node.right);
        return;
      case 'not':
        features.add('not');
        walk(node.expr);
        return;
      case 'valuePath':
        features.add('valuePath');
        attribute(node.path);
        walk(node.filter);
        return;
      case 'cmp':
        if (OPS.has(node.op)) features.add(node.op);
        attribute(node.path);
        if (typeof node.value === 'boolean') features.add('boolean');
    }
  };
  const attribute = (path: string) => {
    if (/^urn:/i.test(path) && !/^urn:ietf:params:scim:schemas:core:/i.test(path)) features.add('extension');
    else if (/^meta\./i.test(path)) features.add('meta');
  };
  walk(tree);
  if (outsideQuotes(filter).includes('(')) features.add('parentheses');
  return [...features].sort();
}

/** The filter with its quoted strings blanked (a "(" inside a value is not a parenthesis). */
function outsideQuotes(filter: string): string {
  return filter.replace(/"(?:[^"\\]|\\.)*"/g, '""');
}

/**
 * Which of a filter's features to blame when the server refused it or answered it wrongly:
 * the ones not yet known to work; if every one did work before, the rarest (the filter as
 * a whole is then what fails, and blaming its least common part keeps `eq` usable).
 */
export function suspectFeatures(
  features: readonly string[],
  known: Record<string, FilterVerdict> | undefined,
): string[] {
  const unknown = features.filter((f) => known?.[f] !== 'works');
  if (unknown.length > 0) {
    // `eq` alone is what every server has; with anything else in the filter, that other part is the suspect.
    const beyondEq = unknown.filter((f) => f !== 'eq');
    return beyondEq.length > 0 ? beyondEq : unknown;
  }
  const rare = features.filter((f) => f !== 'eq');
  return rare.length > 0 ? rare : [...features];
}

/**
 * Whether a filter should be evaluated on this side: when discovery says the server cannot
 * filter (unless every feature of it was seen working), or when one of its features failed.
 */
export function filterOnClient(
  features: readonly string[],
  known: Record<string, FilterVerdict> | undefined,
  advertised: boolean,
): boolean {
  if (features.some((f) => known?.[f] === 'rejected' || known?.[f] === 'wrong')) return true;
  if (!advertised) return !features.every((f) => known?.[f] === 'works');
  return false;
}

/** Whether every feature of a filter is known to work (answers need no checking). */
export function filterTrusted(features: readonly string[], known: Record<string, FilterVerdict> | undefined): boolean {
  return features.length > 0 && features.every((f) => known?.[f] === 'works');
}

type Json = Record<string, unknown>;
const isUnset = (v: unknown): boolean =>
  v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
/** Attributes a write's answer says nothing about: the server's own, secrets, and what identifies the user. */
const NOT_JUDGED = new Set(['id', 'meta', 'schemas', 'groups', 'password', 'username']);

function keyed(obj: Json): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const [k, v] of Object.entries(obj)) m.set(k.toLowerCase(), v);
  return m;
}

function judge(path: string, sent: unknown, back: unknown, out: Record<string, UnkeptHow>): void {
  if (isUnset(sent)) return;
  if (isUnset(back)) {
    out[path] = 'dropped';
    return;
  }
  if (Array.isArray(sent) && Array.isArray(back)) {
    if (sent.length > 1 && back.length === 1) out[path] = 'single';
    // A sub-attribute every sent item had and no returned item has (an e-mail's `type`, say).
    const sentItems = sent.filter(isPlainObject);
    const backItems = back.filter(isPlainObject);
    if (sentItems.length === 0 || backItems.length === 0) return;
    const subs = new Map(
      sentItems.flatMap((i) =>
        Object.keys(i)
          .filter((k) => !isUnset(i[k]))
          .map((k) => [k.toLowerCase(), k] as const),
      ),
    );
    for (const [sub, name] of subs) {
      if (!sentItems.every((i) => !isUnset(keyed(i).get(sub)))) continue;
      if (backItems.every((i) => isUnset(keyed(i).get(sub)))) out[`${path}.${name}`] = 'dropped';
    }
    return;
  }
  if (isPlainObject(sent) && isPlainObject(back)) {
    const b = keyed(back);
    for (const [k, v] of Object.entries(sent)) judge(`${path}.${k}`, v, b.get(k.toLowerCase()), out);
    return;
  }
  if (typeof sent === 'string' && typeof back === 'string' && sent.toLowerCase() !== back.toLowerCase())
    out[path] = 'computed';
}

/**
 * What a server did not keep of a user it was sent: the write's body against the resource it
 * answered with (or a read right after). Only what was sent is judged, and only when the answer
 * is a whole user (a bare `{id}` answer says nothing about what was kept).
 */
export function unkeptIn(sent: Json, returned: unknown): Record<string, UnkeptHow> {
  const out: Record<string, UnkeptHow> = {};
  if (!isPlainObject(returned)) return out;
  const back = keyed(returned);
  if (typeof back.get('username') !== 'string') return out;
  for (const [key, value] of Object.entries(sent)) {
    const lower = key.toLowerCase();
    if (NOT_JUDGED.has(lower)) continue;
    if (/^urn:/i.test(key) && isPlainObject(value)) {
      const ext = back.get(lower);
      const inner = isPlainObject(ext) ? keyed(ext) : new Map<string, unknown>();
      for (const [name, v] of Object.entries(value)) judge(`${key}:${name}`, v, inner.get(name.toLowerCase()), out);
      continue;
    }
    judge(key, value, back.get(lower), out);
  }
  return out;
}

/** The first primary item of a multi-valued attribute, else its first. */
function keepOne(items: unknown[]): unknown[] {
  const primary = items.find((i) => isPlainObject(i) && i.primary === true);
  return [primary ?? items[0]];
}

/**
 * A user's attributes as this target would keep them: what it drops or computes itself left
 * out, what it keeps one of reduced to one. Plans compare and write this, so a second plan
 * against a lossy target is empty instead of writing the same values every run.
 */
export function fitToKept(attributes: Json, learned: Readonly<Record<string, UnkeptHow>>): Json {
  const paths = Object.keys(learned);
  if (paths.length === 0) return attributes;
  const unkept = Object.fromEntries(paths.map((p) => [p.toLowerCase(), learned[p]!]));
  const out: Json = {};
  for (const [key, value] of Object.entries(attributes)) {
    const lower = key.toLowerCase();
    if (/^urn:/i.test(key) && isPlainObject(value)) {
      const inner: Json = {};
      for (const [name, v] of Object.entries(value)) {
        const fitted = fitValue(`${lower}:${name.toLowerCase()}`, v, unkept);
        if (fitted !== undefined) inner[name] = fitted;
      }
      if (Object.keys(inner).length > 0) out[key] = inner;
      continue;
    }
    const fitted = NOT_JUDGED.has(lower) ? value : fitValue(lower, value, unkept);
    if (fitted !== undefined) out[key] = fitted;
  }
  return out;
}

function fitValue(path: string, value: unknown, unkept: Readonly<Record<string, UnkeptHow>>): unknown {
  const how = unkept[path];
  if (how === 'dropped' || how === 'computed') return undefined;
  let v = value;
  if (how === 'single' && Array.isArray(v) && v.length > 1) v = keepOne(v);
  const prefix = `${path}.`;
  const subs = Object.keys(unkept)
    .filter((p) => p.startsWith(prefix) && unkept[p] !== 'single')
    .map((p) => p.slice(prefix.length));
  if (subs.length === 0) return v;
  const strip = (item: unknown) => {
    if (!isPlainObject(item)) return item;
    const copy: Json = {};
    for (const [k, x] of Object.entries(item)) if (!subs.includes(k.toLowerCase())) copy[k] = x;
    return copy;
  };
  return Array.isArray(v) ? v.map(strip) : strip(v);
}

/** One line per attribute, for messages: `displayName (the server computes it)`. */
export function describeUnkept(path: string, how: UnkeptHow): string {
  const why =
    how === 'dropped' ? 'not kept' : how === 'single' ? 'only one value kept' : 'the server sets its own value';
  return `${path} (${why})`;
}

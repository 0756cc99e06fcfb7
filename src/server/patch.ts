/**
 * Applies a PatchOp (RFC 7644 §3.5.2) to the input form of a resource. The result is
 * checked by the same code as a PUT body, so a PATCH can never store what a PUT could not.
 * Paths are read by the client's own path parser (src/api/attr-path.ts): `title`,
 * `name.givenName`, `emails[type eq "work"].value`, `members[value eq "…"]`,
 * `urn:…:enterprise:2.0:User:department`.
 */
import { ClientUsageError } from '../api/errors.ts';
import {
  matchesValueFilter,
  parsePath,
  pinned,
  removePath,
  type AttrPath,
  type ValueFilter,
} from '../api/attr-path.ts';
import type { AttributeDef } from '../api/schema.ts';
import { PATCH_OP_SCHEMA } from '../api/patch.ts';
import { sameValue } from '../api/update.ts';
import { badRequest } from './resources.ts';
import { RESOURCE_TYPES, registry, type ResourceKind } from './schemas.ts';
import { isPlainObject } from '../util/objects.ts';

type Op = 'add' | 'replace' | 'remove';
const lower = (s: string) => s.toLowerCase();

/** Reads and checks the PatchOp body; returns its operations. */
export function readPatchRequest(body: unknown): Array<{ op: Op; path?: string; value?: unknown }> {
  if (!isPlainObject(body)) throw badRequest('invalidSyntax', 'the request body must be a PatchOp JSON object');
  const schemas = Array.isArray(body.schemas) ? body.schemas : [];
  if (!schemas.some((s) => typeof s === 'string' && lower(s) === lower(PATCH_OP_SCHEMA)))
    throw badRequest('invalidSyntax', `"schemas" must be ["${PATCH_OP_SCHEMA}"]`);
  const ops = body.Operations ?? body.operations;
  if (!Array.isArray(ops) || ops.length === 0)
    throw badRequest('invalidSyntax', '"Operations" must be a non-empty array');
  return ops.map((o, i) => {
    if (!isPlainObject(o) || typeof o.op !== 'string')
      throw badRequest('invalidSyntax', `Operations[${i}] needs an "op"`);
    const op = lower(o.op);
    if (op !== 'add' && op !== 'replace' && op !== 'remove')
      throw badRequest('invalidSyntax', `Operations[${i}]: "${o.op}" is not add, replace or remove`);
    if (o.path !== undefined && typeof o.path !== 'string')
      throw badRequest('invalidPath', `Operations[${i}]: "path" must be a string`);
    if (op !== 'remove' && o.value === undefined)
      throw badRequest('invalidSyntax', `Operations[${i}]: "${op}" needs a "value"`);
    return { op, path: o.path === '' ? undefined : o.path, value: o.value };
  });
}

/** Applies the operations to `doc` (the resource's input form), in order. */
export function applyPatch(
  kind: ResourceKind,
  doc: Record<string, unknown>,
  ops: ReadonlyArray<{ op: Op; path?: string; value?: unknown }>,
): void {
  for (const o of ops) {
    if (o.path === undefined) {
      if (o.op === 'remove') throw badRequest('noTarget', 'a "remove" operation needs a path');
      if (!isPlainObject(o.value))
        throw badRequest('invalidValue', `an "${o.op}" without a path needs an object of attributes as its value`);
      for (const [key, value] of Object.entries(o.value)) {
        const ext = RESOURCE_TYPES[kind].extensions.find((e) => lower(e.id) === lower(key));
        if (ext && isPlainObject(value)) {
          for (const [k, v] of Object.entries(value)) apply(kind, doc, o.op, `${ext.id}:${k}`, v);
        } else if (lower(key) !== 'schemas') {
          apply(kind, doc, o.op, key, value);
        }
      }
      continue;
    }
    apply(kind, doc, o.op, o.path, o.value);
  }
}

interface Target {
  path: AttrPath;
  def: AttributeDef;
  sub?: AttributeDef;
  holder: Record<string, unknown>;
  key: string;
}

function resolve(kind: ResourceKind, doc: Record<string, unknown>, text: string, create: boolean): Target {
  let path: AttrPath;
  try {
    path = parsePath(text, registry);
  } catch (e) {
    throw badRequest('invalidPath', e instanceof ClientUsageError ? e.message : `"${text}" is not an attribute path`);
  }
  const type = RESOURCE_TYPES[kind];
  const ext = path.urn ? type.extensions.find((e) => lower(e.id) === lower(path.urn!)) : undefined;
  if (path.urn && !ext && lower(path.urn) !== lower(type.core.id))
    throw badRequest('invalidPath', `"${text}": ${path.urn} is not a schema of ${kind} resources`);
  const def = registry.lookup(ext ? ext.id : type.core.id, path.attr);
  if (!def || (kind === 'User' && def.name === 'members'))
    throw badRequest('invalidPath', `"${text}" is not an attribute of ${kind} resources`);
  if (def.mutability === 'readOnly' || def.name === 'id' || def.name === 'meta' || def.name === 'schemas') {
    throw badRequest('mutability', `"${def.name}" is read-only`);
  }
  let sub: AttributeDef | undefined;
  if (path.sub) {
    sub = def.subAttributes?.find((s) => lower(s.name) === lower(path.sub!));
    if (!sub) throw badRequest('invalidPath', `"${text}": ${def.name} has no sub-attribute "${path.sub}"`);
  }
  if (path.filter) {
    if (!def.multiValued) throw badRequest('invalidPath', `"${text}": a filter needs a multi-valued attribute`);
    checkFilterNames(path.filter, def, text);
  }
  let holder = doc;
  if (ext) {
    const key = Object.keys(doc).find((k) => lower(k) === lower(ext.id));
    const existing = key ? doc[key] : undefined;
    if (isPlainObject(existing)) holder = existing;
    else {
      holder = {};
      if (create) {
        doc[ext.id] = holder;
        const schemas = Array.isArray(doc.schemas) ? (doc.schemas as string[]) : [];
        if (!schemas.includes(ext.id)) doc.schemas = [...schemas, ext.id];
      }
    }
  }
  const key = Object.keys(holder).find((k) => lower(k) === lower(def.name)) ?? def.name;
  return { path, def, sub, holder, key };
}

/** Checks the names in a value filter, and its size (evaluation recurses once per term). */
function checkFilterNames(filter: ValueFilter, def: AttributeDef, text: string): void {
  const pending = [filter];
  let terms = 0;
  while (pending.length > 0) {
    const f = pending.pop()!;
    if (f.kind === 'and' || f.kind === 'or') {
      pending.push(f.left, f.right);
      continue;
    }
    if (++terms > 100)
      throw badRequest('invalidPath', `"${text.slice(0, 80)}…": a value filter of more than 100 comparisons`);
    if (!def.subAttributes?.some((s) => lower(s.name) === lower(f.attr)))
      throw badRequest('invalidPath', `"${text}": ${def.name} has no sub-attribute "${f.attr}"`);
  }
}

function apply(kind: ResourceKind, doc: Record<string, unknown>, op: Op, text: string, value: unknown): void {
  const t = resolve(kind, doc, text, op !== 'remove');
  const { path, def, holder, key } = t;
  const current = holder[key];

  if (op === 'remove') {
    if (def.required && !path.filter && !path.sub)
      throw badRequest('mutability', `"${def.name}" is required and cannot be removed`);
    if (value !== undefined && def.multiValued && !path.filter && !path.sub) {
      // Remove the listed values (the form Entra ID uses for members): by "value" when they have one.
      const gone = (Array.isArray(value) ? value : [value]).map((v) =>
        isPlainObject(v) && 'value' in v ? v.value : v,
      );
      if (Array.isArray(current)) {
        const kept = current.filter(
          (item) => !gone.some((g) => (isPlainObject(item) && 'value' in item ? item.value === g : sameValue(item, g))),
        );
        if (kept.length === 0) delete holder[key];
        else holder[key] = kept;
      }
      return;
    }
    removePath(doc, path);
    return;
  }

  if (path.filter) {
    const list = Array.isArray(current) ? (current as unknown[]) : [];
    let matching = list.filter((item) => matchesValueFilter(item, path.filter!, def));
    if (matching.length === 0) {
      // An "add" through a filter that pins the item down (type eq "work") creates it; a "replace" has no target.
      const base = op === 'add' ? pinned(path.filter) : undefined;
      if (!base)
        throw badRequest(
          'noTarget',
          `no value of ${def.name} matches [${text.slice(text.indexOf('[') + 1, text.lastIndexOf(']'))}]`,
        );
      list.push(base);
      matching = [base];
      holder[key] = list;
    }
    for (const item of matching as Array<Record<string, unknown>>) {
      if (t.sub) item[t.sub.name] = value;
      else if (!isPlainObject(value)) throw badRequest('invalidValue', `"${text}" needs an object value`);
      else if (op === 'add') Object.assign(item, value);
      else {
        for (const k of Object.keys(item)) delete item[k];
        Object.assign(item, value);
      }
    }
    return;
  }

  if (t.sub) {
    if (def.multiValued)
      throw badRequest(
        'invalidPath',
        `"${text}": ${def.name} is multi-valued; select values with a filter, e.g. ` +
          `${def.name}[type eq "work"].${t.sub.name}`,
      );
    const obj = isPlainObject(current) ? current : {};
    obj[t.sub.name] = value;
    holder[key] = obj;
    return;
  }

  if (def.multiValued) {
    const items = Array.isArray(value) ? value : [value];
    if (op === 'replace') {
      holder[key] = items;
      return;
    }
    const list = Array.isArray(current) ? [...(current as unknown[])] : [];
    for (const item of items) {
      const dup = list.some((e) =>
        isPlainObject(e) && isPlainObject(item) && 'value' in item && def.name === 'members'
          ? e.value === item.value
          : sameValue(e, item),
      );
      if (!dup) list.push(item);
    }
    // A new primary value takes the flag from the others (RFC 7643 §2.4).
    if (items.some((i) => isPlainObject(i) && i.primary === true)) {
      for (const e of list) if (isPlainObject(e) && e.primary === true && !items.includes(e)) delete e.primary;
    }
    holder[key] = list;
    return;
  }

  if (def.type === 'complex') {
    if (!isPlainObject(value)) throw badRequest('invalidValue', `"${text}" needs an object value`);
    holder[key] = { ...(isPlainObject(current) ? current : {}), ...value };
    return;
  }
  holder[key] = value;
}

/**
 * A builder for SCIM filter expressions (RFC 7644 §3.4.2.2). Values are always
 * quoted and escaped here; callers never concatenate filter strings.
 *
 *   and(eq('userName', 'ann@example.com'), pr('externalId')).toString()
 *   // userName eq "ann@example.com" and externalId pr
 */
import { ClientUsageError } from './errors.ts';

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type FilterValue = string | number | boolean | null;

export interface Filter {
  readonly kind: 'compare' | 'present' | 'logical' | 'not' | 'valuePath';
  toString(): string;
}

// An attribute path: optional schema URN, attribute name, optional sub-attribute.
// e.g. userName, name.givenName, urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber
const ATTR_PATH = /^(urn:[A-Za-z0-9.:_-]+:)?[A-Za-z$][\w$-]*(\.[A-Za-z$][\w$-]*)?$/;

export function assertAttributePath(path: string): string {
  if (!ATTR_PATH.test(path)) {
    throw new ClientUsageError(`"${path}" is not a valid SCIM attribute path`);
  }
  return path;
}

/** Renders a value as a filter literal: JSON string syntax for strings, bare for the rest. */
export function literal(value: FilterValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ClientUsageError(`filter value ${value} is not a finite number`);
    return String(value);
  }
  return String(value);
}

class Compare implements Filter {
  readonly kind = 'compare';
  constructor(
    readonly attr: string,
    readonly op: CompareOp,
    readonly value: FilterValue,
  ) {
    assertAttributePath(attr);
  }
  toString(): string {
    return `${this.attr} ${this.op} ${literal(this.value)}`;
  }
}

class Present implements Filter {
  readonly kind = 'present';
  constructor(readonly attr: string) {
    assertAttributePath(attr);
  }
  toString(): string {
    return `${this.attr} pr`;
  }
}

class Logical implements Filter {
  readonly kind = 'logical';
  constructor(
    readonly op: 'and' | 'or',
    readonly operands: readonly Filter[],
  ) {
    if (operands.length === 0) throw new ClientUsageError(`"${op}" needs at least one operand`);
  }
  toString(): string {
    if (this.operands.length === 1) return this.operands[0]!.toString();
    return this.operands.map((f) => (f.kind === 'logical' ? `(${f.toString()})` : f.toString())).join(` ${this.op} `);
  }
}

class Not implements Filter {
  readonly kind = 'not';
  constructor(readonly operand: Filter) {}
  toString(): string {
    return `not (${this.operand.toString()})`;
  }
}

class ValuePath implements Filter {
  readonly kind = 'valuePath';
  constructor(
    readonly attr: string,
    readonly inner: Filter,
  ) {
    assertAttributePath(attr);
  }
  toString(): string {
    return `${this.attr}[${this.inner.toString()}]`;
  }
}

export const eq = (attr: string, value: FilterValue): Filter => new Compare(attr, 'eq', value);
export const ne = (attr: string, value: FilterValue): Filter => new Compare(attr, 'ne', value);
export const co = (attr: string, value: string): Filter => new Compare(attr, 'co', value);
export const sw = (attr: string, value: string): Filter => new Compare(attr, 'sw', value);
export const ew = (attr: string, value: string): Filter => new Compare(attr, 'ew', value);
export const gt = (attr: string, value: FilterValue): Filter => new Compare(attr, 'gt', value);
export const ge = (attr: string, value: FilterValue): Filter => new Compare(attr, 'ge', value);
export const lt = (attr: string, value: FilterValue): Filter => new Compare(attr, 'lt', value);
export const le = (attr: string, value: FilterValue): Filter => new Compare(attr, 'le', value);
export const pr = (attr: string): Filter => new Present(attr);
export const and = (...operands: Filter[]): Filter => new Logical('and', operands);
export const or = (...operands: Filter[]): Filter => new Logical('or', operands);
export const not = (operand: Filter): Filter => new Not(operand);
/** `emails[type eq "work"]` */
export const valuePath = (attr: string, inner: Filter): Filter => new ValuePath(attr, inner);

/** A PATCH path with a value filter and optional sub-attribute: `emails[type eq "work"].value`. */
export function patchPath(attr: string, inner?: Filter, subAttr?: string): string {
  assertAttributePath(attr);
  let path = inner ? `${attr}[${inner.toString()}]` : attr;
  if (subAttr !== undefined) {
    if (!/^[A-Za-z$][\w$-]*$/.test(subAttr))
      throw new ClientUsageError(`"${subAttr}" is not a valid sub-attribute name`);
    path += `.${subAttr}`;
  }
  return path;
}

/** A JSON object (a record of keys), not null, not an array. */
export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * What kind of value `v` is, for a message saying what was expected instead: null, an array
 * (`array`: "a list" where the reader's own words for it are lists), an object, a string …
 */
export const describeKind = (v: unknown, array: 'an array' | 'a list' = 'an array'): string =>
  v === null ? 'null' : Array.isArray(v) ? array : typeof v === 'object' ? 'an object' : `a ${typeof v}`;

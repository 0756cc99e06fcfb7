/** A JSON object (a record of keys), not null, not an array. */
export const isPlainObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Match keys: the value of each key in a source record and in a target user, compared
 * as SCIM compares them, and the label a record goes by in messages and plans.
 */
import { primaryEmail, type ScimUser } from '../../api/types.ts';
import type { DesiredUser, MatchKey } from '../model.ts';

/**
 * `s` in lower case; `s` itself when it is already (toLowerCase copies every string, and
 * the indexes of a big plan keep one key a user: the copy is dropped at once instead).
 */
export const lower = (s: string) => {
  const l = s.toLowerCase();
  return l === s ? s : l;
};

/** The value of a match key in a desired user (as the source gives it). */
export function desiredKey(user: DesiredUser, key: MatchKey): string | undefined {
  const a = user.attributes;
  if (key === 'externalId') return typeof a.externalId === 'string' && a.externalId !== '' ? a.externalId : undefined;
  if (key === 'userName') return typeof a.userName === 'string' && a.userName !== '' ? a.userName : undefined;
  const email = primaryEmail(a as Pick<ScimUser, 'emails'>);
  return typeof email === 'string' && email !== '' ? email : undefined;
}

/** Keys compare exactly for externalId (caseExact in RFC 7643), case-insensitively for userName and e-mail. */
export const norm = (key: MatchKey, value: string) => (key === 'externalId' ? value : lower(value));

export function targetKeys(user: ScimUser, key: MatchKey): string[] {
  if (key === 'externalId') return typeof user.externalId === 'string' ? [user.externalId] : [];
  if (key === 'userName') return typeof user.userName === 'string' ? [lower(user.userName)] : [];
  return (Array.isArray(user.emails) ? user.emails : [])
    .map((e) => e?.value)
    .filter((v): v is string => typeof v === 'string')
    .map(lower);
}

/** A label for a desired user in messages and plans. */
export function labelOf(user: DesiredUser): string {
  return (
    desiredKey(user, 'userName') ??
    desiredKey(user, 'email') ??
    desiredKey(user, 'externalId') ??
    `${user.origin.file}:${user.origin.line}`
  );
}

/**
 * Avatars of the pleio layout (its `avatar` column, presets.ts): a URL is the user's photo as it is; a path, relative
 * to the users file's folder, is a local image. A local image is sent only with `--avatars inline`, as a
 * `data:image/jpeg|png;base64,…` URI: its type from its first bytes (never its name), its size at most `--avatar-max`.
 * The URI is the same for the same bytes, so an unchanged file is no change and a changed one an update.
 *
 * A path without `--avatars inline`, a missing or unreadable file, one too big, or one that is not a JPEG or PNG is a
 * problem of that record only (BuiltUser.problem): the plan leaves its user alone and the rest proceeds.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { attrValue } from './attributes.ts';
import type { BuiltUser } from './presets.ts';
import { isPlainObject } from '../util/objects.ts';
import { formatSize } from '../util/size.ts';

export type AvatarMode = 'url' | 'inline';

export interface AvatarOptions {
  /** 'url' (default): only URLs; 'inline': local files become data: URIs. */
  mode?: AvatarMode;
  /** The largest local file read, in bytes (default 256 KiB). */
  maxBytes?: number;
}

export const AVATAR_MAX_DEFAULT = 256 * 1024;

/** A URL (http:, https:, data: …): a scheme of two letters at least, so `C:\x.png` is a path. */
const isUrl = (value: string) => /^[a-z][a-z0-9+.-]+:/i.test(value);

/** The image type of a file's first bytes: JPEG or PNG only. */
function imageType(head: Uint8Array): 'image/jpeg' | 'image/png' | undefined {
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.every((b, i) => head[i] === b)) return 'image/png';
  return undefined;
}

/** A local image as a data: URI, or why it cannot be one. */
async function inlineImage(path: string, maxBytes: number): Promise<{ uri: string; sha256: string } | string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? (e as Error).message})`;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return 'not a file';
    if (stat.size > maxBytes)
      return (
        `the file is ${formatSize(stat.size)}, over --avatar-max ` +
        `${formatSize(maxBytes)}: make it smaller, or raise --avatar-max`
      );
    const bytes = await handle.readFile();
    if (bytes.length > maxBytes) return `the file is over --avatar-max ${formatSize(maxBytes)}`;
    const type = imageType(bytes);
    if (!type) return 'not a JPEG or PNG image (judged by its content, not its name)';
    return {
      uri: `data:${type};base64,${bytes.toString('base64')}`,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
  } catch (e) {
    return `cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  } finally {
    await handle.close();
  }
}

/**
 * Resolves the avatars of pleio users in place: URLs stay, local files become data: URIs (inline) or problems. Returns
 * the digests of the files read, to fold into the source's fingerprint (a changed image is a changed source).
 */
export async function resolveAvatars(
  users: BuiltUser[],
  usersFile: string,
  options: AvatarOptions = {},
): Promise<string[]> {
  const mode = options.mode ?? 'url';
  const maxBytes = options.maxBytes ?? AVATAR_MAX_DEFAULT;
  const folder = dirname(usersFile);
  const digests: string[] = [];
  for (const user of users) {
    const photos = attrValue(user.attributes, 'photos');
    const photo = Array.isArray(photos) && isPlainObject(photos[0]) ? photos[0] : undefined;
    const value = photo ? attrValue(photo, 'value') : undefined;
    if (typeof value !== 'string' || isUrl(value)) continue;
    const fail = (why: string) => {
      delete user.attributes.photos;
      user.problem = `column "avatar": ${JSON.stringify(value)}: ${why}`;
    };
    if (mode !== 'inline') {
      fail(
        'a local file, and the target is sent URLs only: give a URL, or --avatars ' +
          'inline to send the file itself as a data: URI',
      );
      continue;
    }
    const path = isAbsolute(value) ? value : resolve(folder, value);
    const image = await inlineImage(path, maxBytes);
    if (typeof image === 'string') {
      fail(image);
      continue;
    }
    photo!.value = image.uri;
    digests.push(`${value}\n${image.sha256}`);
  }
  return digests;
}

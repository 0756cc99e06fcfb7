/** Shared by the sync-source tests: a temp folder for source files, and problems of a source that must fail. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { SchemaRegistry } from '../../src/api/schema.ts';
import { InputError, type InputProblem } from '../../src/sources/resource-file.ts';
import { readSource, type SourceSpec } from '../../src/sources/source.ts';

export const registry = new SchemaRegistry();

/** Registers before/after hooks for a temp folder and returns a function that writes files into it. */
export function tempFiles(prefix: string): (name: string, content: string | Uint8Array) => Promise<string> {
  let dir = '';
  let n = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return async (name, content) => {
    const path = join(dir, `${n++}-${name}`);
    await writeFile(path, content);
    return path;
  };
}

export async function problemsOf(spec: SourceSpec): Promise<InputProblem[]> {
  try {
    await readSource(spec, registry);
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    assert.ok(e.problems.length > 0);
    return e.problems;
  }
  assert.fail('expected an InputError');
}

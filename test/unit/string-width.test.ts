/**
 * The build's lazy string-width wrapper (scripts/lazy-string-width.mjs) answers printable ASCII
 * itself and evaluates the real package only for other strings. These tests hold it to the
 * real packages: every copy in the bundle, wrapped and unwrapped, gives the same widths.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
// @ts-expect-error: a build script in plain JavaScript, without type declarations.
import { lazyStringWidth } from '../../scripts/lazy-string-width.mjs';

type StringWidth = (s: unknown, options?: { ambiguousIsNarrow?: boolean; countAnsiEscapeCodes?: boolean }) => number;

const ROOT = join(import.meta.dirname, '..', '..');
/** The packages in the bundle that import string-width (each may get its own copy and version). */
const IMPORTERS = ['yargs', 'cliui', 'wrap-ansi', 'ink', 'cli-truncate', 'widest-line'];

const PRINTABLE_ASCII = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));
const OTHERS = [
  '',
  'é',
  'e\u0301',
  '山田 太郎',
  '👍',
  '👨‍👩‍👧',
  '1\u20e3',
  '\t',
  'a\nb',
  '\u001b[31mred\u001b[39m',
  '\u00ad',
  'ｶﾞ',
  '\u200b',
  'Ω≈ç√',
];
const OPTIONS = [undefined, { ambiguousIsNarrow: false }, { countAnsiEscapeCodes: true }];

/** The real string-width each importer resolves to. */
function realPaths(): Map<string, string> {
  const paths = new Map<string, string>();
  for (const pkg of IMPORTERS) {
    const from = createRequire(join(ROOT, 'node_modules', pkg, 'package.json'));
    paths.set(pkg, from.resolve('string-width'));
  }
  return paths;
}

/** Bundles `import stringWidth from 'string-width'` as seen from one importer, through the plugin. */
async function wrapped(importer: string): Promise<StringWidth> {
  const result = await build({
    stdin: {
      // Each importer gets its own module instance (the same code would be one data: URL).
      contents: `export { default } from 'string-width';\nexport const importer = ${JSON.stringify(importer)};`,
      resolveDir: join(ROOT, 'node_modules', importer),
      loader: 'js',
    },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    plugins: [lazyStringWidth],
    logLevel: 'error',
  });
  const code = result.outputFiles[0]!.text;
  return (
    (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as { default: StringWidth }
  ).default;
}

/** Runs fn counting the Intl.Segmenter objects constructed meanwhile (the real package makes one when evaluated). */
function countingSegmenters(fn: (made: () => number) => void): void {
  const Original = Intl.Segmenter;
  const intl = Intl as { Segmenter: typeof Intl.Segmenter };
  let made = 0;
  intl.Segmenter = class extends Original {
    constructor(...args: ConstructorParameters<typeof Original>) {
      super(...args);
      made++;
    }
  };
  try {
    fn(() => made);
  } finally {
    intl.Segmenter = Original;
  }
}

describe('string-width', () => {
  test('every copy in the bundle gives printable ASCII a width equal to its length', async () => {
    for (const [pkg, path] of realPaths()) {
      const real = ((await import(pathToFileURL(path).href)) as { default: StringWidth }).default;
      for (const options of OPTIONS) {
        for (const a of PRINTABLE_ASCII) {
          assert.equal(real(a, options), 1, `${pkg}: ${JSON.stringify(a)}`);
          for (const b of PRINTABLE_ASCII) assert.equal(real(a + b, options), 2, `${pkg}: ${JSON.stringify(a + b)}`);
        }
      }
    }
  });

  test('the wrapper matches the copy it wraps, and evaluates it only for a string that needs it', async () => {
    const samples = [...PRINTABLE_ASCII, 'scimctl users list --filter \'userName sw "a"\'', ...OTHERS];
    for (const [pkg, path] of realPaths()) {
      const real = ((await import(pathToFileURL(path).href)) as { default: StringWidth }).default;
      const lazy = await wrapped(pkg);
      countingSegmenters((made) => {
        for (const s of PRINTABLE_ASCII) assert.equal(lazy(s), 1);
        assert.equal(lazy('scimctl users list --help'), 25);
        assert.equal(made(), 0, `${pkg}: ASCII evaluated string-width`);
        for (const options of OPTIONS) {
          for (const s of samples) assert.equal(lazy(s, options), real(s, options), `${pkg}: ${JSON.stringify(s)}`);
          assert.equal(lazy(42, options), real(42, options));
        }
        assert.equal(made(), 1, `${pkg}: the real package is evaluated once`);
      });
    }
  });
});

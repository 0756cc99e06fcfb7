// An esbuild plugin: every bundled `import stringWidth from 'string-width'` (yargs, cliui,
// wrap-ansi, Ink, our tables; three copies, versions 7 and 8) goes through a small wrapper that
// answers printable ASCII itself (width = length, which is what every copy returns for it;
// test/unit/string-width.test.ts checks that) and evaluates the real package only for the first
// string that needs it.
//
// Why: evaluating string-width constructs an Intl.Segmenter (~7 ms: ICU data) and, in version 8,
// a /\p{RGI_Emoji}/v regular expression (~10 ms), and version 7 compiles emoji-regex on its
// first call. yargs imports it eagerly, so every start-up paid ~20-30 ms of a ~90 ms
// `scimctl --help` for strings that are all ASCII.
//
// The wrapper `require`s the real module by its resolved path: esbuild then emits it as a lazy
// `__esm` initialiser, run on first use, instead of evaluating it when the chunk loads.
import { dirname } from 'node:path';

const NAMESPACE = 'lazy-string-width';

export const lazyStringWidth = {
  name: NAMESPACE,
  setup(build) {
    build.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData === NAMESPACE) return undefined;
      // Resolve as the importer would, so each package keeps the copy (and version) it depends on.
      const real = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: NAMESPACE,
      });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: NAMESPACE };
    });
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
      resolveDir: dirname(args.path),
      loader: 'js',
      contents: `const printableAscii = /^[\\u0020-\\u007E]*$/;
export default function stringWidth(string, options) {
  if (typeof string === 'string' && printableAscii.test(string)) return string.length;
  return require(${JSON.stringify(args.path)}).default(string, options);
}
`,
    }));
  },
};

// Bundles scimctl into dist/ with esbuild: one ESM entry for the binary and one
// for the library. Code splitting keeps Ink and React in chunks that only the
// TUI imports, so scripted commands start fast.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { lazyStringWidth } from './lazy-string-width.mjs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

await build({
  entryPoints: { main: 'src/main.ts', api: 'src/api/index.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  sourcemap: 'linked',
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  // signal-exit and other CommonJS dependencies call require() for Node built-ins.
  banner: {
    js:
      "import { createRequire as __scimctlCreateRequire } from 'node:module'; const " +
      'require = __scimctlCreateRequire(import.meta.url);',
  },
  define: { 'process.env.NODE_ENV': '"production"' },
  // Ink imports react-devtools-core only when DEV is set; it is not a dependency.
  alias: { 'react-devtools-core': './scripts/empty-module.mjs' },
  // string-width is evaluated on first non-ASCII use, not at start-up (see the plugin).
  plugins: [lazyStringWidth],
});

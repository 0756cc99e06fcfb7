#!/usr/bin/env node
// Launcher: the program itself is the bundle built by `npm run build` (npm install runs it).
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/main.js', import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write('scimctl: not built yet; run "npm install" (or "npm run build") in the scimctl folder\n');
  process.exitCode = 1;
} else {
  await import(bundle.href);
}

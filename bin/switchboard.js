#!/usr/bin/env node
// The package's command. The TypeScript sources are compiled to dist/ by `npm install`
// (the `prepare` script); run `npm run build` after changing them.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('switchboard: dist/ is missing; run `npm install` (or `npm run build`) first\n');
  process.exit(1);
}
await import(main.href);

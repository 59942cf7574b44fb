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
// Before the bulk of the modules load: see dist/heap.js (the young generation stays small
// while the gateway starts; `serve` lets it grow once the upstreams are connected).
const { holdYoungGeneration } = await import(new URL('../dist/heap.js', import.meta.url).href);
holdYoungGeneration();
await import(main.href);

// `npm run docs`: rewrites the README's reference tables from the zod schemas (after `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
import { withReference } from '../dist/config/reference.js';

const file = new URL('../README.md', import.meta.url);
writeFileSync(file, withReference(readFileSync(file, 'utf8')));
console.log('README.md reference tables updated');

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './paths.js';

/** End-to-end tests run the built gateway (bin/ → dist/), so build it from the current sources first. */
export default function setup(): void {
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin/switchboard.js');
const modules = path.join(ROOT, 'node_modules/@modelcontextprotocol');
export const EVERYTHING = path.join(modules, 'server-everything/dist/index.js');
export const MEMORY = path.join(modules, 'server-memory/dist/index.js');
export const FILESYSTEM = path.join(modules, 'server-filesystem/dist/index.js');
export const RECORDER = path.join(ROOT, 'test/fixtures/recorder-server.mjs');
export const FORCE_LOOPBACK = path.join(ROOT, 'test/fixtures/force-loopback.cjs');

const made: string[] = [];
// Each test file runs in its own process: its temporary folders go when it ends.
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = 'switchboard-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/**
 * Writes a servers.json into `dir` and returns its path. Unless the folder already has
 * `policies/`, the `default` agent gets a policy that allows everything.
 */
export function writeConfig(dir: string, config: unknown, name = 'servers.json'): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  if (!existsSync(path.join(dir, 'policies'))) writePolicy(dir, 'default', { allow: ['*'] });
  return file;
}

/** Writes `policies/<agent>.json` beside the config in `dir`. */
export function writePolicy(dir: string, agent: string, policy: unknown): string {
  mkdirSync(path.join(dir, 'policies'), { recursive: true });
  const file = path.join(dir, 'policies', `${agent}.json`);
  writeFileSync(file, typeof policy === 'string' ? policy : JSON.stringify(policy, null, 2));
  return file;
}

import type { ChildProcess } from 'node:child_process';
import { EVERYTHING, FORCE_LOOPBACK } from './paths.js';
import { freePort, startProcess } from './processes.js';

/** server-everything in its own HTTP mode (`streamableHttp` or `sse`), forced onto 127.0.0.1. */
export async function startEverythingHttp(
  mode: 'streamableHttp' | 'sse',
): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const { child } = await startProcess(process.execPath, ['-r', FORCE_LOOPBACK, EVERYTHING, mode], {
    env: { PORT: String(port) },
    ready: mode === 'sse' ? /running on port/ : /listening on port/,
  });
  return { url: `http://127.0.0.1:${port}/${mode === 'sse' ? 'sse' : 'mcp'}`, child };
}

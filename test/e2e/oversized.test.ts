import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type TestClient } from '../helpers/clients.js';
import { BIN, EVERYTHING, tempDir, writeConfig, writePolicy } from '../helpers/paths.js';
import { killAll } from '../helpers/processes.js';
import { startEverythingHttp } from '../helpers/upstreams.js';
import { waitFor } from '../helpers/wait.js';

/**
 * gateway.maxResultBytes on every kind of upstream: an answer over the limit becomes an
 * error naming the limit (the gateway does not hold it), the call's audit row says so,
 * and the connection keeps serving. Over stdio the limit is on a line; over streamable
 * HTTP on a JSON body or an SSE event, on the relay's own path (direct-http.ts) and on
 * the SDK transport's (SWITCHBOARD_FAST_PATH=off); over legacy SSE on an event of the
 * session's stream.
 */
const LIMIT = 64 * 1024;
const HUGE = 'x'.repeat(LIMIT + 10_000);

afterAll(killAll);

describe.each([
  ['the fast path', {}],
  ['the SDK path (SWITCHBOARD_FAST_PATH=off)', { SWITCHBOARD_FAST_PATH: 'off' }],
] as const)('an answer over gateway.maxResultBytes, on %s', (_name, env) => {
  const dir = tempDir();
  const db = path.join(dir, 'audit.db');
  let client: TestClient;

  beforeAll(async () => {
    const [streamable, legacy] = await Promise.all([startEverythingHttp('streamableHttp'), startEverythingHttp('sse')]);
    writePolicy(dir, 'default', { allow: ['*'] });
    const config = writeConfig(dir, {
      mcpServers: {
        local: { command: 'node', args: [EVERYTHING, 'stdio'] },
        remote: { type: 'http', url: streamable.url },
        // Legacy SSE: answers come on the session's one GET stream, the request's id is read off the event.
        old: { type: 'sse', url: legacy.url },
      },
      gateway: { maxResultBytes: LIMIT },
    });
    client = await connectClient('v2', {
      stdio: {
        command: process.execPath,
        args: [BIN, 'serve', '--config', config, '--db', db],
        env: { SWITCHBOARD_LOG_LEVEL: 'error', ...env },
      },
    });
    await waitFor('both upstreams', async () => {
      const names = (await client.listTools()).map((t) => t.name);
      return ['local__echo', 'remote__echo', 'old__echo'].every((name) => names.includes(name));
    });
  }, 60_000);
  afterAll(() => client?.close());

  function auditError(exposedName: string): Promise<string> {
    return waitFor(`the audit row of ${exposedName}`, () => {
      const raw = new Database(db, { readonly: true, fileMustExist: true });
      try {
        const row = raw
          .prepare("SELECT status, error FROM audit WHERE exposed_name = ? AND status = 'error'")
          .get(exposedName) as { status: string; error: string } | undefined;
        return row?.error;
      } finally {
        raw.close();
      }
    });
  }

  it.each(['local', 'remote', 'old'])(
    '%s: the call fails naming the limit, is audited, and the next call works',
    async (server) => {
      const error = await client.callTool(`${server}__echo`, { message: HUGE }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(
        new RegExp(
          `the upstream's result is over \\d+ bytes, more than the gateway accepts \\(gateway\\.maxResultBytes: ${LIMIT}\\)`,
        ),
      );
      expect(await auditError(`${server}__echo`)).toContain(`gateway.maxResultBytes: ${LIMIT}`);
      const next = await client.callTool(`${server}__echo`, { message: 'small' });
      expect(next.content).toEqual([{ type: 'text', text: 'Echo: small' }]);
    },
    30_000,
  );
});

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../helpers/clients.js';
import { startGatewayHttp } from '../helpers/gateway.js';
import { MEMORY, RECORDER, tempDir, writeConfig } from '../helpers/paths.js';
import { killAll } from '../helpers/processes.js';
import { readRecords, waitFor } from '../helpers/wait.js';

/**
 * Issue 6: after a load, memory must come back to idle. Whatever the gateway keeps per
 * session or per call (sessions, resource subscribers, input flows, calls in flight)
 * must be empty again once the sessions are gone, however they went: DELETE, DELETE
 * while a subscribe is still on its way upstream, a client that vanished (idle expiry),
 * or stateless 2026-era requests.
 */
const dir = tempDir();
let url = '';
let base = '';
type Json = Record<string, unknown>;
const URI = 'switchboard://memory/memory://knowledge-graph';
/** An upstream whose subscribe answers late. */
const SLOW_URI = 'switchboard://slow/recorder://watched';
const records = path.join(dir, 'slow.jsonl');

beforeAll(async () => {
  const config = writeConfig(dir, {
    mcpServers: {
      memory: { command: 'node', args: [MEMORY], env: { MEMORY_FILE_PATH: './memory.jsonl' } },
      recorder: { command: 'node', args: [RECORDER] },
      slow: { command: 'node', args: [RECORDER], env: { SUBSCRIBE_DELAY_MS: '300', RECORD_FILE: records } },
    },
    // Long enough that a session in use never expires on a busy machine, short enough to wait for.
    gateway: { sessionIdleMs: 3_000 },
  });
  ({ url, base } = await startGatewayHttp(config));
});
afterAll(killAll);

const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** A raw 2025-11-25 session: its id, and a way to post one request on it. */
async function rawSession(): Promise<{ id: string; post: (body: Json) => Promise<Response> }> {
  const opened = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
  const id = opened.headers.get('mcp-session-id')!;
  await opened.text();
  const post = (body: Json) =>
    fetch(url, {
      method: 'POST',
      headers: { ...headers, 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', ...body }),
    });
  await (await post({ method: 'notifications/initialized' })).text();
  return { id, post };
}

const remove = (id: string) => fetch(url, { method: 'DELETE', headers: { ...headers, 'mcp-session-id': id } });
/** How many requests of `method` the slow upstream received. */
const sent = (method: string) =>
  readRecords(records).filter((r) => (r.message as Json | undefined)?.method === method).length;
const healthz = async () => (await (await fetch(`${base}/healthz`)).json()) as Json & { registries: Json };

describe('per-session state after the sessions are gone', () => {
  it('is empty again, however the sessions ended', async () => {
    // Ended by DELETE after calls and a subscription.
    for (let i = 0; i < 4; i++) {
      const session = await rawSession();
      for (let k = 0; k < 3; k++) {
        const call = { id: k + 1, method: 'tools/call', params: { name: 'recorder__echo', arguments: { text: 'x' } } };
        expect(await (await session.post(call)).text()).toContain('"x"');
      }
      expect(await (await session.post({ id: 9, method: 'resources/subscribe', params: { uri: URI } })).text()).toMatch(
        /"result"/,
      );
      expect((await remove(session.id)).status).toBe(200);
    }
    // Ended by DELETE while its subscribe is still on its way upstream: the upstream
    // subscription must not outlive it.
    for (let i = 0; i < 3; i++) {
      const session = await rawSession();
      const subscribing = session.post({ id: 1, method: 'resources/subscribe', params: { uri: SLOW_URI } });
      await waitFor('the subscribe to reach the upstream', () => sent('resources/subscribe') > i);
      expect((await remove(session.id)).status).toBe(200);
      await (await subscribing).text();
      await waitFor('the upstream subscription to be dropped', () => sent('resources/unsubscribe') > i);
    }
    // Clients that went away without a word: their sessions expire (sessionIdleMs).
    for (let i = 0; i < 3; i++) {
      const client = await connectClient('v1', { url });
      await client.callTool('recorder__echo', { text: 'y' });
      await client.subscribe(URI);
      await client.close();
    }
    // 2026-07-28 clients: every request is its own stateless session.
    for (let i = 0; i < 3; i++) {
      const client = await connectClient('v2', { url });
      await client.callTool('recorder__echo', { text: 'z' });
      // (2026-07-28 has no resources/subscribe: subscriptions/listen replaced it)
      await client.close();
    }
    const idle = await waitFor(
      'the idle sessions to expire',
      async () => {
        const health = await healthz();
        return health.sessions === 0 ? health : undefined;
      },
      20_000,
    );
    expect(idle.registries).toEqual({
      sessions: 0,
      subscriptions: 0,
      subscribers: 0,
      inputFlows: 0,
      agentsWithCalls: 0,
    });
  });
});

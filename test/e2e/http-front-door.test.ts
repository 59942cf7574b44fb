import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../helpers/clients.js';
import { startGatewayHttp } from '../helpers/gateway.js';
import { EVERYTHING, tempDir, writeConfig } from '../helpers/paths.js';
import { killAll } from '../helpers/processes.js';

const dir = tempDir();
const config = writeConfig(dir, { mcpServers: { everything: { command: 'node', args: [EVERYTHING, 'stdio'] } } });
let url = '';
let base = '';

beforeAll(async () => {
  ({ url, base } = await startGatewayHttp(config));
});
afterAll(killAll);

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};
const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe('the HTTP front door', () => {
  it('refuses a foreign Origin with 403', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...headers, origin: 'http://evil.example' },
      body: JSON.stringify(initialize),
    });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/origin/);
  });

  it('accepts a loopback Origin', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...headers, origin: 'http://localhost:3000' },
      body: JSON.stringify(initialize),
    });
    expect(response.status).toBe(200);
  });

  it('refuses a Host that does not name this machine (DNS rebinding) with 403', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { ...headers, host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(JSON.stringify(initialize));
    });
    expect(status).toBe(403);
  });

  it('answers 404 for an unknown session id', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'mcp-session-id': 'no-such-session' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(response.status).toBe(404);
  });

  it('ends a session on DELETE; the id is unknown afterwards', async () => {
    const opened = await fetch(url, { method: 'POST', headers, body: JSON.stringify(initialize) });
    const session = opened.headers.get('mcp-session-id');
    expect(session).toMatch(/^[0-9a-f-]{36}$/);
    await opened.body?.cancel();
    const deleted = await fetch(url, { method: 'DELETE', headers: { ...headers, 'mcp-session-id': session! } });
    expect(deleted.status).toBe(200);
    const after = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'mcp-session-id': session! },
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }),
    });
    expect(after.status).toBe(404);
  });

  it('answers a malformed body with a JSON-RPC parse error', async () => {
    const response = await fetch(url, { method: 'POST', headers, body: '{"jsonrpc": "2.0", ' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: number } }).error.code).toBe(-32700);
  });

  it('reports upstream health on /healthz', async () => {
    const client = await connectClient('v1', { url });
    await client.listTools();
    const health = (await (await fetch(`${base}/healthz`)).json()) as {
      status: string;
      upstreams: { name: string; status: string }[];
    };
    expect(health.status).toBe('ok');
    expect(health.upstreams).toEqual([expect.objectContaining({ name: 'everything', status: 'ready' })]);
    await client.close();
  });
});

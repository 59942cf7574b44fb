// Lean MCP load clients over HTTP, built on undici: keep-alive connections (one per
// request in flight: HTTP/1.1 without pipelining), request bodies pre-serialised but
// for their id, raw JSON-RPC, and a fresh AbortSignal for each request (one shared
// signal collects a listener per request and leaks, as the SDK's HTTP client does).
//
// StreamableHttp: the streamable HTTP transport, 2025-11-25 sessions (Mcp-Session-Id)
// or stateless; responses as JSON or as an SSE stream of one event.
// LegacySse: the 2024-11-05 SSE transport (GET an event stream, POST to the endpoint it
// names, responses arrive on the stream), which mcp-hub serves.
/* global AbortController */
import { Pool, Client } from 'undici';
import { isEcho, withTimeout } from './stdio-client.mjs';

const PROTOCOL = '2025-11-25';
const MODERN = '2026-07-28';
const INIT = {
  protocolVersion: PROTOCOL,
  capabilities: {},
  clientInfo: { name: 'switchboard-bench', version: '1.0.0' },
};

/** The JSON-RPC message with `id` in a response body, JSON or SSE. */
function parseReply(text, contentType, id) {
  if (contentType?.startsWith('text/event-stream')) {
    for (const line of text.split('\n')) {
      if (!line.startsWith('data:')) continue;
      const message = JSON.parse(line.slice(5));
      if (message.id === id) return message;
    }
    return undefined;
  }
  return JSON.parse(text);
}

export class StreamableHttp {
  constructor(url, { connections = 1, headers = {} } = {}) {
    this.url = new URL(url);
    this.pool = new Pool(this.url.origin, { connections, pipelining: 1, keepAliveTimeout: 120_000 });
    this.baseHeaders = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    };
    this.nextId = 1;
    this.sessions = [];
  }

  async post(body, headers) {
    const controller = new AbortController();
    const {
      statusCode,
      headers: responseHeaders,
      body: stream,
    } = await this.pool.request({
      path: this.url.pathname,
      method: 'POST',
      headers,
      body,
      signal: controller.signal,
    });
    const text = await stream.text();
    return { status: statusCode, headers: responseHeaders, text };
  }

  /** Opens a session (initialize + initialized); a stateless server gives no id. */
  async open() {
    const id = this.nextId++;
    const body = JSON.stringify({ jsonrpc: '2.0', id, method: 'initialize', params: INIT });
    const reply = await withTimeout(this.post(body, this.baseHeaders), 30_000, 'initialize');
    if (reply.status !== 200) throw new Error(`initialize: HTTP ${reply.status} ${reply.text.slice(0, 200)}`);
    const sessionId = reply.headers['mcp-session-id'];
    const headers = { ...this.baseHeaders, 'mcp-protocol-version': PROTOCOL };
    if (sessionId) headers['mcp-session-id'] = sessionId;
    await this.post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), headers);
    const session = { id: sessionId, headers };
    this.sessions.push(session);
    return session;
  }

  async request(session, method, params) {
    const id = this.nextId++;
    const reply = await this.post(JSON.stringify({ jsonrpc: '2.0', id, method, params }), session.headers);
    return parseReply(reply.text, reply.headers['content-type'], id);
  }

  echoCaller(session, tool, text = 'hello') {
    return this.echo({ name: tool, arguments: { text } }, session.headers);
  }

  /** A caller of `tools/call` with `params` (pre-serialised) and `headers`, checking for the echo. */
  echo(params, headers) {
    const tail = `,"method":"tools/call","params":${JSON.stringify(params)}}`;
    const text = params.arguments.text;
    return async () => {
      const id = this.nextId++;
      const reply = await this.post('{"jsonrpc":"2.0","id":' + id + tail, headers);
      const ok = reply.status === 200 && isEcho(parseReply(reply.text, reply.headers['content-type'], id), text);
      // The first wrong answer is kept, so that a load run can say what went wrong.
      if (!ok) this.firstFailure ??= { status: reply.status, body: reply.text.slice(0, 500) };
      return ok;
    };
  }

  /**
   * A 2026-07-28 client's call: no session, the per-request `_meta` envelope in the body
   * and the standard headers (MCP-Protocol-Version, Mcp-Method, Mcp-Name), as the SDK's
   * v2 client sends them.
   */
  modernEchoCaller(tool, text = 'hello') {
    const meta = {
      'io.modelcontextprotocol/protocolVersion': MODERN,
      'io.modelcontextprotocol/clientCapabilities': {},
      'io.modelcontextprotocol/clientInfo': INIT.clientInfo,
    };
    const headers = {
      ...this.baseHeaders,
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/call',
      'mcp-name': tool,
    };
    return this.echo({ name: tool, arguments: { text }, _meta: meta }, headers);
  }

  /** Ends the sessions (DELETE), then the connections. */
  async close() {
    await Promise.all(
      this.sessions
        .filter((s) => s.id)
        .map((s) =>
          this.pool
            .request({ path: this.url.pathname, method: 'DELETE', headers: s.headers })
            .then((r) => r.body.dump())
            .catch(() => undefined),
        ),
    );
    this.sessions = [];
    await this.pool.close().catch(() => undefined);
  }
}

export class LegacySse {
  constructor(url, { connections = 1 } = {}) {
    this.url = new URL(url);
    this.pool = new Pool(this.url.origin, { connections, pipelining: 1, keepAliveTimeout: 120_000 });
    this.nextId = 1;
    this.streams = [];
    this.headers = { 'content-type': 'application/json' };
  }

  /** Opens the event stream and waits for the endpoint it names for POSTs. */
  async open() {
    const stream = new Client(this.url.origin, { bodyTimeout: 0 });
    const { statusCode, body } = await stream.request({
      path: this.url.pathname,
      method: 'GET',
      headers: { accept: 'text/event-stream' },
    });
    if (statusCode !== 200) throw new Error(`SSE: HTTP ${statusCode}`);
    const session = { stream, body, pending: new Map(), path: undefined };
    this.streams.push(session);
    let buffer = '';
    let event = 'message';
    let data = '';
    let resolveEndpoint;
    const endpoint = new Promise((resolve) => (resolveEndpoint = resolve));
    body.setEncoding('utf8');
    body.on('data', (chunk) => {
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (line === '') {
          if (event === 'endpoint') resolveEndpoint(data);
          else if (data) this.onMessage(session, data);
          event = 'message';
          data = '';
        } else if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(5).trimStart();
      }
    });
    body.on('error', () => undefined);
    const where = await withTimeout(endpoint, 30_000, 'SSE endpoint');
    session.path = new URL(where, this.url).pathname + new URL(where, this.url).search;
    await this.request(session, 'initialize', INIT);
    await this.post(session, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    return session;
  }

  onMessage(session, data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message.id === undefined || message.method !== undefined) return;
    const waiter = session.pending.get(message.id);
    if (!waiter) return;
    session.pending.delete(message.id);
    waiter(message);
  }

  async post(session, body) {
    const controller = new AbortController();
    const { statusCode, body: stream } = await this.pool.request({
      path: session.path,
      method: 'POST',
      headers: this.headers,
      body,
      signal: controller.signal,
    });
    await stream.dump();
    return statusCode;
  }

  send(session, id, body) {
    const reply = new Promise((resolve) => session.pending.set(id, resolve));
    return this.post(session, body).then((status) => {
      if (status >= 300) {
        session.pending.delete(id);
        return undefined;
      }
      return reply;
    });
  }

  request(session, method, params) {
    const id = this.nextId++;
    return withTimeout(this.send(session, id, JSON.stringify({ jsonrpc: '2.0', id, method, params })), 30_000, method);
  }

  echoCaller(session, tool, text = 'hello') {
    const tail = `,"method":"tools/call","params":${JSON.stringify({ name: tool, arguments: { text } })}}`;
    return async () => {
      const id = this.nextId++;
      return isEcho(await this.send(session, id, '{"jsonrpc":"2.0","id":' + id + tail), text);
    };
  }

  async close() {
    for (const s of this.streams) {
      s.body.destroy();
      await s.stream.destroy().catch(() => undefined);
    }
    this.streams = [];
    await this.pool.close().catch(() => undefined);
  }
}

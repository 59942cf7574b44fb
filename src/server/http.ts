import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import {
  WebStandardStreamableHTTPServerTransport,
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
} from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { GatewayError, errorMessage } from '../errors.js';
import type { Caller, SessionUpstreams } from '../upstream/index.js';
import { isLoopbackHost, originGuard } from './origin-guard.js';
import type { Runtime } from './runtime.js';
import { DownstreamSession } from './session.js';

export interface HttpOptions {
  host: string;
  port: number;
  /** The agent every request acts as, until requests carry their own identity. */
  agent: string;
}

export interface HttpFrontDoor {
  url: string;
  close(): Promise<void>;
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

/**
 * The streamable HTTP front door on `/mcp`, serving both protocol eras:
 * 2025-11-25 clients get sessions (`Mcp-Session-Id`; 404 for an unknown one, DELETE to
 * end one), 2026-07-28 clients are served statelessly per request. `/healthz` reports
 * each upstream.
 */
export async function startHttp(runtime: Runtime, options: HttpOptions): Promise<HttpFrontDoor> {
  const log = runtime.log.child('http');
  const legacySessions = new Map<
    string,
    { transport: WebStandardStreamableHTTPServerTransport; session: DownstreamSession }
  >();
  /** Stateless requests have no session, so an isolated upstream belongs to the agent. */
  const agentUpstreams = new Map<string, SessionUpstreams>();
  const upstreamsFor = (agent: string): SessionUpstreams => {
    let upstreams = agentUpstreams.get(agent);
    if (!upstreams) {
      const owner: Caller = {
        sessionKey: `agent:${agent}`,
        agent,
        ask: () =>
          Promise.reject(
            new GatewayError('capability_missing', 'a stateless HTTP client can be asked only during a call'),
          ),
      };
      upstreams = runtime.pool.forSession(owner, () => false);
      agentUpstreams.set(agent, upstreams);
    }
    return upstreams;
  };

  const modern = createMcpHandler(
    () =>
      new DownstreamSession(
        runtime,
        { agent: options.agent, transport: 'http', era: 'modern' },
        upstreamsFor(options.agent),
      ).server,
    { legacy: 'reject', onerror: (error) => log.debug('modern request error', { error: errorMessage(error) }) },
  );
  const notifier = {
    toolsChanged: () => modern.notify.toolsChanged(),
    promptsChanged: () => modern.notify.promptsChanged(),
    resourcesChanged: () => modern.notify.resourcesChanged(),
    resourceUpdated: (uri: string) => modern.notify.resourceUpdated(uri),
  };
  runtime.modernNotifiers.add(notifier);

  const openLegacySession = async (): Promise<WebStandardStreamableHTTPServerTransport> => {
    const session = new DownstreamSession(runtime, { agent: options.agent, transport: 'http', era: 'legacy' });
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        legacySessions.set(id, { transport, session });
        runtime.sessions.add(session);
      },
      onsessionclosed: (id) => void closeLegacy(id),
    });
    await session.server.connect(transport);
    return transport;
  };
  const closeLegacy = async (id: string): Promise<void> => {
    const entry = legacySessions.get(id);
    if (!entry) return;
    legacySessions.delete(id);
    await runtime.closeSession(entry.session);
    await entry.session.server.close().catch(() => undefined);
  };

  const route = async (request: Request): Promise<Response> => {
    let body: unknown;
    if (request.method === 'POST') {
      try {
        body = await request.clone().json();
      } catch {
        return jsonRpcError(400, -32700, 'Parse error: the request body is not valid JSON');
      }
    }
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId) {
      const entry = legacySessions.get(sessionId);
      if (!entry) return jsonRpcError(404, -32001, 'Session not found');
      return entry.transport.handleRequest(request, { parsedBody: body });
    }
    if (await isLegacyRequest(request, body)) {
      if (request.method === 'POST' && isInitializeRequest(body)) {
        const transport = await openLegacySession();
        return transport.handleRequest(request, { parsedBody: body });
      }
      return jsonRpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required (send initialize first)');
    }
    return modern.fetch(request, { parsedBody: body });
  };

  const app = express();
  app.disable('x-powered-by');
  const loopback = isLoopbackHost(options.host);
  app.use(
    originGuard({
      loopback,
      allowedOrigins: runtime.config.gateway.allowedOrigins,
      allowedHosts: runtime.config.gateway.allowedHosts,
    }),
  );
  app.get('/healthz', (_req, res) => {
    const upstreams = [...runtime.pool.upstreams.values()].map((u) => ({
      name: u.name,
      status: u.status,
      transport: u.transportKind,
      protocolVersion: u.protocolVersion,
      tools: u.lists.tools.length,
      error: u.lastError,
    }));
    const ok = upstreams.every((u) => u.status === 'ready');
    res.status(200).json({ status: ok ? 'ok' : 'degraded', upstreams, sessions: legacySessions.size });
  });
  const handler = toNodeHandler(
    { fetch: route },
    { onerror: (error) => log.warn('request failed', { error: error.message }) },
  );
  app.all('/mcp', (req, res) => void handler(req, res));

  const server = app.listen(options.port, options.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  if (!loopback) log.warn('listening on a non-loopback address: every agent on the network can reach this gateway');

  return {
    url: `http://${host}:${address.port}/mcp`,
    close: async () => {
      runtime.modernNotifiers.delete(notifier);
      await modern.close().catch(() => undefined);
      await Promise.all([...legacySessions.keys()].map((id) => closeLegacy(id)));
      await Promise.all([...agentUpstreams.values()].map((u) => u.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

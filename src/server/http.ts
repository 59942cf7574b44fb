import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import {
  WebStandardStreamableHTTPServerTransport,
  createMcpHandler,
  isInitializeRequest,
  isJsonContentType,
  isLegacyRequest,
} from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { GatewayError, errorMessage } from '../errors.js';
import { adminToken, dashboard, dashboardUrl, type DashboardSources } from '../dashboard/index.js';
import type { Caller, SessionUpstreams } from '../upstream/index.js';
import { health } from './health.js';
import { HttpFastSession, parseBody, readBody } from './http-fast.js';
import { paramHeaderMismatch } from './param-headers.js';
import { isLoopbackHost, originGuard, originRefusal } from './origin-guard.js';
import type { Runtime } from './runtime.js';
import { DownstreamSession } from './session.js';

/** How often an open SSE answer gets a comment, so that proxies do not close it (the SDK's interval). */
const SSE_KEEP_ALIVE_MS = 15_000;

export interface HttpOptions {
  host: string;
  port: number;
  /**
   * The agent of a request without a token, allowed only on a loopback bind when no
   * policy has tokens (one person's gateway on their own machine).
   */
  agent: string;
  /** The dashboard's sources; without them `/` serves nothing (commands that only look). */
  dashboard?: DashboardSources;
}

export interface HttpFrontDoor {
  url: string;
  /** Where to open the dashboard (with its token when made up), or why it is off. */
  dashboard: string | undefined;
  /** New connections and requests are refused (503); what is in flight goes on. */
  stopAccepting(): void;
  close(): Promise<void>;
}

function jsonRpcError(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
  id: unknown = null,
): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id }), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/**
 * Who is calling. A bearer token names its agent; a missing or unknown token is 401.
 * Without any token configured, a loopback gateway serves requests as the default agent.
 */
function identify(
  header: string | null,
  runtime: Runtime,
  options: { loopback: boolean; agent: string },
): { agent: string } | Response {
  const token = header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (token !== undefined) {
    const agent = runtime.policies.agentForToken(token);
    if (agent) return { agent };
    return jsonRpcError(401, -32001, 'Unauthorized: unknown bearer token', {
      'www-authenticate': 'Bearer realm="switchboard", error="invalid_token"',
    });
  }
  if (header !== null || runtime.policies.hasTokens() || !options.loopback) {
    return jsonRpcError(401, -32001, 'Unauthorized: send Authorization: Bearer <token>', {
      'www-authenticate': 'Bearer realm="switchboard"',
    });
  }
  return { agent: options.agent };
}

/**
 * The streamable HTTP front door on `/mcp`, serving both protocol eras:
 * 2025-11-25 clients get sessions (`Mcp-Session-Id`; 404 for an unknown one, DELETE to
 * end one), 2026-07-28 clients are served statelessly per request. `/healthz` reports
 * each upstream.
 */
export async function startHttp(runtime: Runtime, options: HttpOptions): Promise<HttpFrontDoor> {
  const log = runtime.log.child('http');
  const limits = runtime.config.gateway;
  const loopback = isLoopbackHost(options.host);
  if (!loopback && !runtime.policies.hasTokens()) {
    throw new GatewayError(
      'config_invalid',
      `refusing to listen on ${options.host}: no policy has tokens, so anyone who can reach it would act as agent "${options.agent}". Give agents tokens in policies/*.json, or bind 127.0.0.1`,
    );
  }
  let draining = false;
  const legacySessions = new Map<
    string,
    {
      transport: WebStandardStreamableHTTPServerTransport;
      session: DownstreamSession;
      lastSeen: number;
      fast: HttpFastSession;
    }
  >();
  // The fast path's open SSE answers, kept alive with a comment as the SDK keeps its own.
  const fastStreams = new Set<ServerResponse>();
  const keepAlive = setInterval(() => {
    for (const res of fastStreams) if (!res.writableEnded && !res.destroyed) res.write(': keepalive\n\n');
  }, SSE_KEEP_ALIVE_MS);
  keepAlive.unref();
  // Sessions nobody used for sessionIdleMs are closed (a client that vanished without DELETE).
  const sweeper = setInterval(
    () => {
      const cutoff = Date.now() - limits.sessionIdleMs;
      for (const [id, entry] of legacySessions) {
        if (entry.lastSeen < cutoff && entry.session.busy === 0) {
          log.info('closing an idle session', { agent: entry.session.agent });
          void entry.transport.close().then(() => closeLegacy(id));
        }
      }
    },
    Math.max(50, Math.min(60_000, limits.sessionIdleMs / 4)),
  );
  sweeper.unref();
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

  // The SDK builds a server per stateless request without telling the factory who asked:
  // the agent travels in async context from the router to the factory.
  const requestAgent = new AsyncLocalStorage<string>();
  const modern = createMcpHandler(
    () => {
      const agent = requestAgent.getStore() ?? options.agent;
      return new DownstreamSession(runtime, { agent, transport: 'http', era: 'modern' }, upstreamsFor(agent)).server;
    },
    {
      legacy: 'reject',
      maxRequestBodySize: limits.maxBodyBytes,
      onerror: (error) => log.debug('modern request error', { error: errorMessage(error) }),
    },
  );
  const notifier = {
    toolsChanged: () => modern.notify.toolsChanged(),
    promptsChanged: () => modern.notify.promptsChanged(),
    resourcesChanged: () => modern.notify.resourcesChanged(),
    resourceUpdated: (uri: string) => modern.notify.resourceUpdated(uri),
  };
  runtime.modernNotifiers.add(notifier);

  const openLegacySession = async (agent: string): Promise<WebStandardStreamableHTTPServerTransport> => {
    const session = new DownstreamSession(runtime, { agent, transport: 'http', era: 'legacy' });
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        const fast = new HttpFastSession(session, id, fastStreams);
        legacySessions.set(id, { transport, session, lastSeen: Date.now(), fast });
        runtime.sessions.add(session);
      },
      onsessionclosed: (id) => void closeLegacy(id),
      maxRequestBodySize: limits.maxBodyBytes,
    });
    await session.server.connect(transport);
    return transport;
  };
  const closeLegacy = async (id: string): Promise<void> => {
    const entry = legacySessions.get(id);
    if (!entry) return;
    legacySessions.delete(id);
    entry.fast.close();
    await runtime.closeSession(entry.session);
    await entry.session.server.close().catch(() => undefined);
  };

  const route = async (request: Request, given?: { parsedBody?: unknown }): Promise<Response> => {
    const who = identify(request.headers.get('authorization'), runtime, { loopback, agent: options.agent });
    if (who instanceof Response) return who;
    // A JSON POST to /mcp arrives parsed (see `post`); anything else is parsed here, from
    // a clone, since the transport reads the request again.
    let body: unknown = given?.parsedBody;
    if (request.method === 'POST' && given?.parsedBody === undefined) {
      const parsed = parseBody(await request.clone().text());
      if (!parsed.ok) return jsonRpcError(400, parsed.code, parsed.message, {}, parsed.id);
      body = parsed.body;
    }
    const sessionId = request.headers.get('mcp-session-id');
    // Shutting down: no new sessions or calls, but what is in flight may still need its
    // client (answers to elicitation or sampling, cancellations, the next round of a call).
    const resuming =
      typeof (body as { params?: { requestState?: unknown } } | undefined)?.params?.requestState === 'string';
    if (draining && !sessionId && !resuming) {
      return jsonRpcError(503, -32000, 'Service Unavailable: the gateway is shutting down');
    }
    if (sessionId) {
      const entry = legacySessions.get(sessionId);
      // A session belongs to the agent that opened it; to anyone else it does not exist.
      if (!entry || entry.session.agent !== who.agent) return jsonRpcError(404, -32001, 'Session not found');
      entry.lastSeen = Date.now();
      return entry.transport.handleRequest(request, { parsedBody: body });
    }
    if (await isLegacyRequest(request, body)) {
      if (request.method === 'POST' && isInitializeRequest(body)) {
        const transport = await openLegacySession(who.agent);
        return transport.handleRequest(request, { parsedBody: body });
      }
      return jsonRpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required (send initialize first)');
    }
    const rpc = body as
      { id?: unknown; method?: unknown; params?: { name?: unknown; arguments?: unknown } } | undefined;
    if (rpc?.method === 'tools/call') {
      const mismatch = paramHeaderMismatch(
        request.headers,
        rpc.params,
        (tool) => runtime.catalog.tool(tool)?.item.inputSchema,
      );
      if (mismatch) return jsonRpcError(400, -32020, `Header mismatch: ${mismatch}`, {}, rpc.id ?? null);
    }
    return requestAgent.run(who.agent, () => modern.fetch(request, { parsedBody: body }));
  };

  const app = express();
  app.disable('x-powered-by');
  const guard = {
    loopback,
    allowedOrigins: runtime.config.gateway.allowedOrigins,
    allowedHosts: runtime.config.gateway.allowedHosts,
  };
  app.use(originGuard(guard));
  // Off loopback, health and metrics (upstream names, errors, agents) need an agent's token.
  const mayLook = (authorization: string | undefined) => {
    if (loopback) return true;
    const token = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    return token !== undefined && runtime.policies.agentForToken(token) !== undefined;
  };
  app.use(['/metrics', '/healthz'], (req, res, next) => {
    if (mayLook(req.headers.authorization)) return next();
    res.status(401).set('www-authenticate', 'Bearer realm="switchboard"').json({ error: 'Unauthorized' });
  });
  app.get('/metrics', (_req, res) => {
    const metrics = runtime.metrics;
    if (!metrics) return void res.status(404).end();
    void metrics.text().then((text) => res.type(metrics.contentType).send(text));
  });
  app.get('/healthz', (_req, res) => {
    res.status(200).json({ ...health(runtime), sessions: legacySessions.size, registries: runtime.registries });
  });
  const handler = toNodeHandler(
    { fetch: route },
    {
      onerror: (error) => log.warn('request failed', { error: error.message }),
      maxRequestBodySize: limits.maxBodyBytes,
    },
  );
  // Every JSON POST to /mcp is read and parsed here, once: the handler then builds its web
  // Request from the parsed body, and `route` needs no clone of the body stream to look at
  // it (a clone tees the stream: ~5 % of the CPU of a stateless call). A 2025-era
  // session's POST goes to the fast path first (http-fast.ts), unless
  // SWITCHBOARD_FAST_PATH=off: it checks what the SDK transport would refuse, and
  // hands everything it does not take on to the handler.
  const fastPath = process.env.SWITCHBOARD_FAST_PATH !== 'off';
  const post = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!isJsonContentType(req.headers['content-type'] ?? null)) return handler(req, res);
    // The handler answers who may not ask (401) before it parses the body.
    const who = identify(req.headers.authorization ?? null, runtime, { loopback, agent: options.agent });
    if (who instanceof Response) return handler(req, res);
    const text = await readBody(req, limits.maxBodyBytes);
    if (text === undefined) {
      const message = `Payload Too Large: Request body must not exceed ${limits.maxBodyBytes} bytes`;
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      return void res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
    }
    const parsed = parseBody(text);
    if (!parsed.ok) {
      res.writeHead(400, { 'content-type': 'application/json' });
      const error = { code: parsed.code, message: parsed.message };
      return void res.end(JSON.stringify({ jsonrpc: '2.0', error, id: parsed.id }));
    }
    const id = req.headers['mcp-session-id'];
    // Looked up after the body arrived: the session may have ended meanwhile.
    const entry = fastPath && typeof id === 'string' ? legacySessions.get(id) : undefined;
    const accept = req.headers.accept;
    if (
      entry &&
      who.agent === entry.session.agent &&
      accept?.includes('application/json') &&
      accept.includes('text/event-stream') &&
      entry.fast.take(parsed.body, req, res)
    ) {
      entry.lastSeen = Date.now();
      return;
    }
    return handler(req, res, parsed.body);
  };
  app.all('/mcp', (req, res) => void handler(req, res));
  // POST /mcp, nearly all of the traffic, skips express's routing when the origin check
  // (the one middleware in front of /mcp) lets it through; the rest goes to `app`.
  const refusal = originRefusal(guard);
  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'POST' || req.url !== '/mcp' || refusal(req.headers) !== undefined) return void app(req, res);
    post(req, res).catch((error: unknown) => {
      log.debug('request failed', { error: errorMessage(error) });
      if (!res.headersSent) res.destroy();
    });
  };
  const admin = options.dashboard ? adminToken(loopback) : undefined;
  if (options.dashboard) app.use(dashboard(options.dashboard, admin && { adminToken: admin.token }));

  // Slow clients: headers must arrive within headersTimeoutMs, the whole request within a
  // minute; Node checks both on an interval, so the interval follows the limit.
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: Math.max(limits.headersTimeoutMs, 60_000),
      connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.floor(limits.headersTimeoutMs / 2))),
    },
    serve,
  );
  // Longer than a client's keep-alive (undici: 4 s, browsers: 60 s+), so the gateway is
  // not the side that closes an idle connection a client is about to reuse.
  server.keepAliveTimeout = 65_000;
  server.listen(options.port, options.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const base = `http://${host}:${address.port}`;
  return {
    url: `${base}/mcp`,
    dashboard: !options.dashboard
      ? undefined
      : admin
        ? dashboardUrl(base, admin)
        : 'off (not on loopback, and SWITCHBOARD_ADMIN_TOKEN is not set)',
    stopAccepting: () => {
      draining = true;
      server.close();
    },
    close: async () => {
      draining = true;
      clearInterval(sweeper);
      clearInterval(keepAlive);
      runtime.modernNotifiers.delete(notifier);
      await modern.close().catch(() => undefined);
      await Promise.all([...legacySessions.keys()].map((id) => closeLegacy(id)));
      await Promise.all([...agentUpstreams.values()].map((u) => u.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

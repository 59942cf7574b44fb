import { ProtocolError, ProtocolErrorCode, type Result, type ServerContext } from '@modelcontextprotocol/server';
import {
  fromGatewayUri,
  paginate,
  rewritePromptResult,
  rewriteReadResult,
  rewriteToolResult,
} from '../catalog/index.js';
import { GatewayError } from '../errors.js';
import type { Upstream } from '../upstream/index.js';
import { toProtocolError, toolFailure } from './boundary.js';
import type { DownstreamSession } from './session.js';

type Params = Record<string, unknown> & { _meta?: Record<string, unknown> };

/**
 * The `_meta` an upstream should see: the caller's, minus the progress token (the
 * gateway sends its own upstream and maps progress back) and the 2026 envelope keys
 * (each connection has its own envelope).
 */
function forwardParams(params: Params, override: Record<string, unknown>): Params {
  const meta = params._meta;
  if (!meta) return { ...params, ...override };
  let kept: Record<string, unknown> | undefined;
  for (const key of Object.keys(meta)) {
    if (key === 'progressToken' || key.startsWith('io.modelcontextprotocol/')) continue;
    (kept ??= {})[key] = meta[key];
  }
  const { _meta: _dropped, ...rest } = params;
  return kept ? { ...rest, ...override, _meta: kept } : { ...rest, ...override };
}

async function upstreamFor(session: DownstreamSession, server: string): Promise<Upstream> {
  const upstream = await session.upstreams.get(server);
  if (!upstream) throw new GatewayError('upstream_unavailable', `upstream "${server}" is not configured`);
  return upstream;
}

function resolveUri(uri: unknown): { server: string; uri: string } {
  const mapped = typeof uri === 'string' ? fromGatewayUri(uri) : undefined;
  if (!mapped)
    throw new ProtocolError(ProtocolErrorCode.ResourceNotFound, `Resource not found: ${String(uri)}`, { uri });
  return mapped;
}

/**
 * The request handlers of a downstream session: list from the catalog, and forward
 * everything else to the upstream that owns the name or URI.
 */
export function registerHandlers(session: DownstreamSession): void {
  const { server, runtime } = session;
  const pageSize = runtime.config.gateway.pageSize;
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw toProtocolError(error);
    }
  };

  server.setRequestHandler('tools/list', (request) =>
    guard(async () => {
      await runtime.ready;
      const page = paginate(runtime.catalog.toolList, request.params?.cursor, pageSize);
      return page.nextCursor ? { tools: page.items, nextCursor: page.nextCursor } : { tools: page.items };
    }),
  );

  server.setRequestHandler('tools/call', async (request, ctx: ServerContext) => {
    const params = request.params as Params & { name: string };
    await runtime.ready;
    const entry = runtime.catalog.tool(params.name);
    if (!entry) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${params.name}`);
    const forwarded = forwardParams(params, { name: entry.name });
    try {
      return (await session.run(ctx, async (caller, signal, progress) => {
        const upstream = await upstreamFor(session, entry.server);
        const result = await upstream.request('tools/call', forwarded, { caller, signal, onprogress: progress });
        return rewriteToolResult(entry.server, result);
      })) as never;
    } catch (error) {
      return toolFailure(error);
    }
  });

  server.setRequestHandler('prompts/list', (request) =>
    guard(async () => {
      await runtime.ready;
      const page = paginate(runtime.catalog.promptList, request.params?.cursor, pageSize);
      return page.nextCursor ? { prompts: page.items, nextCursor: page.nextCursor } : { prompts: page.items };
    }),
  );

  server.setRequestHandler('prompts/get', (request, ctx) =>
    guard(async () => {
      const params = request.params as Params & { name: string };
      const entry = runtime.catalog.prompt(params.name);
      if (!entry) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${params.name}`);
      const forwarded = forwardParams(params, { name: entry.name });
      return (await session.run(ctx, async (caller, signal, progress) => {
        const upstream = await upstreamFor(session, entry.server);
        const result = await upstream.request('prompts/get', forwarded, { caller, signal, onprogress: progress });
        return rewritePromptResult(entry.server, result);
      })) as never;
    }),
  );

  server.setRequestHandler('resources/list', (request) =>
    guard(async () => {
      await runtime.ready;
      const page = paginate(runtime.catalog.resources, request.params?.cursor, pageSize);
      return page.nextCursor ? { resources: page.items, nextCursor: page.nextCursor } : { resources: page.items };
    }),
  );

  server.setRequestHandler('resources/templates/list', (request) =>
    guard(async () => {
      await runtime.ready;
      const page = paginate(runtime.catalog.templates, request.params?.cursor, pageSize);
      const resourceTemplates = page.items as never[];
      return page.nextCursor ? { resourceTemplates, nextCursor: page.nextCursor } : { resourceTemplates };
    }),
  );

  server.setRequestHandler('resources/read', (request, ctx) =>
    guard(async () => {
      const params = request.params as Params & { uri: string };
      const target = resolveUri(params.uri);
      const forwarded = forwardParams(params, { uri: target.uri });
      return (await session.run(ctx, async (caller, signal, progress) => {
        const upstream = await upstreamFor(session, target.server);
        const result = await upstream.request('resources/read', forwarded, { caller, signal, onprogress: progress });
        return rewriteReadResult(target.server, result);
      })) as never;
    }),
  );

  server.setRequestHandler('resources/subscribe', (request) =>
    guard(async () => {
      const target = resolveUri(request.params.uri);
      await runtime.subscribe(session, await upstreamFor(session, target.server), target.uri);
      session.subscriptions.add(request.params.uri);
      return {};
    }),
  );

  server.setRequestHandler('resources/unsubscribe', (request) =>
    guard(async () => {
      const target = resolveUri(request.params.uri);
      session.subscriptions.delete(request.params.uri);
      await runtime.unsubscribe(session, await upstreamFor(session, target.server), target.uri);
      return {};
    }),
  );

  server.setRequestHandler('completion/complete', (request, ctx) =>
    guard(async () => {
      const params = request.params as Params & { ref: { type: string; name?: string; uri?: string } };
      let target: { server: string; ref: Record<string, unknown> };
      if (params.ref.type === 'ref/prompt') {
        const entry = runtime.catalog.prompt(String(params.ref.name));
        if (!entry) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${params.ref.name}`);
        target = { server: entry.server, ref: { ...params.ref, name: entry.name } };
      } else {
        const mapped = resolveUri(params.ref.uri);
        target = { server: mapped.server, ref: { ...params.ref, uri: mapped.uri } };
      }
      const upstream = await upstreamFor(session, target.server);
      return (await upstream.request('completion/complete', forwardParams(params, { ref: target.ref }), {
        signal: ctx.mcpReq.signal,
      })) as never;
    }),
  );

  server.setRequestHandler('logging/setLevel', (request) =>
    guard(async () => {
      session.logLevel = request.params.level;
      await runtime.levelChanged();
      return {};
    }),
  );
}

export type { Result };

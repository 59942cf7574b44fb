import { ProtocolError, ProtocolErrorCode, type Result } from '@modelcontextprotocol/server';
import { paginate, rewritePromptResult, rewriteReadResult } from '../catalog/index.js';
import { toProtocolError } from './boundary.js';
import { callTool } from './call-tool.js';
import { forwardParams, refusal, resolveUri, upstreamFor, type Params } from './forward.js';
import type { DownstreamSession } from './session.js';

/**
 * The request handlers of a downstream session: lists come from the catalog, filtered
 * by the agent's policy; everything else is decided by the same policy and forwarded
 * to the upstream that owns the name or URI.
 */
export function registerHandlers(session: DownstreamSession): void {
  const { server, runtime, visibility } = session;
  const pageSize = runtime.config.gateway.pageSize;
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw toProtocolError(error);
    }
  };
  const page = async <K extends string>(key: K, items: () => readonly unknown[], cursor: string | undefined) => {
    await runtime.ready;
    const { items: slice, nextCursor } = paginate(items(), cursor, pageSize);
    return (nextCursor ? { [key]: slice, nextCursor } : { [key]: slice }) as never;
  };
  const resource = (uri: unknown) => {
    const target = resolveUri(uri);
    const decision = visibility.resources(target.server);
    if (!decision.allowed) throw refusal('resource', String(uri), session.agent, decision.rule);
    return target;
  };

  server.setRequestHandler('tools/list', (request) =>
    guard(() => page('tools', () => visibility.lists().tools, request.params?.cursor)),
  );
  server.setRequestHandler('tools/call', (request, ctx) => callTool(session, request.params as never, ctx) as never);

  server.setRequestHandler('prompts/list', (request) =>
    guard(() => page('prompts', () => visibility.lists().prompts, request.params?.cursor)),
  );
  server.setRequestHandler('prompts/get', (request, ctx) =>
    guard(async () => {
      const params = request.params as Params & { name: string };
      await runtime.ready;
      const decision = visibility.prompt(params.name);
      if (!decision.allowed) throw refusal('prompt', params.name, session.agent, decision.rule);
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
    guard(() => page('resources', () => visibility.lists().resources, request.params?.cursor)),
  );
  server.setRequestHandler('resources/templates/list', (request) =>
    guard(() => page('resourceTemplates', () => visibility.lists().templates, request.params?.cursor)),
  );
  server.setRequestHandler('resources/read', (request, ctx) =>
    guard(async () => {
      const params = request.params as Params & { uri: string };
      const target = resource(params.uri);
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
      const target = resource(request.params.uri);
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
        const name = String(params.ref.name);
        const decision = visibility.prompt(name);
        if (!decision.allowed) throw refusal('prompt', name, session.agent, decision.rule);
        const entry = runtime.catalog.prompt(name);
        if (!entry) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${name}`);
        target = { server: entry.server, ref: { ...params.ref, name: entry.name } };
      } else {
        const mapped = resource(params.ref.uri);
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

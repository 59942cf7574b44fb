import { ProtocolError, ProtocolErrorCode, type Result } from '@modelcontextprotocol/server';
import { paginate, rewritePromptResult, rewriteReadResult } from '../catalog/index.js';
import type { AuditStart } from '../audit/index.js';
import { GatewayError } from '../errors.js';
import { auditFields, auditRefusal, withAudit } from './audited.js';
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
  /** A resource the agent may use, or an audited refusal. */
  const resource = (uri: unknown, start?: AuditStart) => {
    const target = resolveUri(uri);
    const decision = visibility.resources(target.server);
    if (start) Object.assign(start, { server: target.server, name: target.uri, decision: decision.rule });
    if (!decision.allowed) {
      const error = refusal('resource', String(uri), session.agent, decision.rule);
      if (start) auditRefusal(session, start, new GatewayError('denied', error.message));
      throw error;
    }
    return target;
  };
  const resultsStored = (server: string) => runtime.pool.upstreams.get(server)?.config.auditResults ?? false;

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
      const entry = runtime.catalog.prompt(params.name);
      const decision = visibility.prompt(params.name);
      const start: AuditStart = {
        ...auditFields(session, ctx),
        method: 'prompts/get',
        server: entry?.server ?? null,
        name: entry?.name ?? null,
        exposedName: params.name,
        decision: decision.rule,
        args: params.arguments ?? {},
      };
      if (!decision.allowed) {
        const error = refusal('prompt', params.name, session.agent, decision.rule);
        auditRefusal(session, start, new GatewayError('denied', error.message));
        throw error;
      }
      if (!entry) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${params.name}`);
      const forwarded = forwardParams(params, { name: entry.name });
      return (await session.run(ctx, `prompts/get\u0000${params.name}`, (caller, signal, progress) =>
        withAudit(session, start, resultsStored(entry.server), async () => {
          const upstream = await upstreamFor(session, entry.server);
          const result = await upstream.request('prompts/get', forwarded, { caller, signal, onprogress: progress });
          return rewritePromptResult(entry.server, result);
        }),
      )) as never;
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
      const start: AuditStart = {
        ...auditFields(session, ctx),
        method: 'resources/read',
        exposedName: params.uri,
        args: { uri: params.uri },
      };
      const target = resource(params.uri, start);
      const forwarded = forwardParams(params, { uri: target.uri });
      return (await session.run(ctx, `resources/read\u0000${params.uri}`, (caller, signal, progress) =>
        withAudit(session, start, resultsStored(target.server), async () => {
          const upstream = await upstreamFor(session, target.server);
          const result = await upstream.request('resources/read', forwarded, { caller, signal, onprogress: progress });
          return rewriteReadResult(target.server, result);
        }),
      )) as never;
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
      const start: AuditStart = {
        ...auditFields(session, ctx),
        method: 'completion/complete',
        args: params.argument ?? {},
      };
      let target: { server: string; ref: Record<string, unknown> };
      await runtime.ready;
      if (params.ref.type === 'ref/prompt') {
        const name = String(params.ref.name);
        const decision = visibility.prompt(name);
        const entry = runtime.catalog.prompt(name);
        Object.assign(start, {
          exposedName: name,
          server: entry?.server ?? null,
          name: entry?.name ?? null,
          decision: decision.rule,
        });
        if (!decision.allowed) {
          const error = refusal('prompt', name, session.agent, decision.rule);
          auditRefusal(session, start, new GatewayError('denied', error.message));
          throw error;
        }
        if (!entry) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${name}`);
        target = { server: entry.server, ref: { ...params.ref, name: entry.name } };
      } else {
        start.exposedName = String(params.ref.uri);
        const mapped = resource(params.ref.uri, start);
        target = { server: mapped.server, ref: { ...params.ref, uri: mapped.uri } };
      }
      // Run like a call, so that a request the upstream sends mid-completion (elicitation,
      // sampling) finds its way back to this session's client.
      const binding = `completion/complete\u0000${String(start.exposedName)}`;
      return (await session.run(
        ctx,
        binding,
        (caller, signal) =>
          withAudit(session, start, false, async () => {
            const upstream = await upstreamFor(session, target.server);
            return upstream.request('completion/complete', forwardParams(params, { ref: target.ref }), {
              caller,
              signal,
            });
          }),
        { input: false },
      )) as never;
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

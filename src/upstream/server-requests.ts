import { ProtocolError, ProtocolErrorCode, type Result } from '@modelcontextprotocol/client';
import type { ServerConfig } from '../config/index.js';
import { GatewayError, errorMessage } from '../errors.js';
import { pickCaller, type Caller, type ServerToClientMethod } from './caller.js';

/**
 * Answers a request an upstream sent to its client (sampling, elicitation, roots) by
 * asking the downstream client the request belongs to. Anything that cannot be routed
 * with certainty is refused with a JSON-RPC error that says why.
 */
export async function answerServerRequest(
  server: {
    name: string;
    config: ServerConfig;
    inflight: Iterable<Caller>;
    owner: Caller | undefined;
    /**
     * The model router, for servers with `sampling: "router"`, run for `agent`: the one
     * whose call caused the request, whose policy (`models.routes`) and budget apply.
     */
    sample:
      | ((params: Record<string, unknown> | undefined, signal: AbortSignal, agent: string) => Promise<Result>)
      | undefined;
  },
  method: ServerToClientMethod,
  params: Record<string, unknown> | undefined,
  signal: AbortSignal,
  routedTo: (agent: string) => void,
): Promise<Result> {
  if (method === 'sampling/createMessage' && server.config.sampling === 'router') {
    // Answered by the gateway's router: no client is asked, but the agent whose call
    // caused the request must be known, since its models.routes and budget apply. One
    // that cannot be known (the request came outside any call, or while calls of several
    // sessions share the connection) is refused: unknown would mean unlimited.
    const picked = pickCaller(server.inflight, server.owner);
    if (!server.sample) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidRequest,
        `switchboard: sampling for server "${server.name}" is set to "router", but servers.json has no models routes`,
        { reason: 'denied' },
      );
    }
    if ('error' in picked) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidRequest,
        picked.error === 'ambiguous'
          ? `switchboard: sampling from "${server.name}" cannot be charged to one agent: calls from several sessions are in flight on its shared connection; set "isolation": "session" for this server`
          : `switchboard: sampling from "${server.name}" arrived outside any call, so no agent's budget and routes can apply; it is refused`,
        { reason: 'denied' },
      );
    }
    routedTo(picked.caller.agent);
    try {
      return await server.sample(params, signal, picked.caller.agent);
    } catch (error) {
      if (error instanceof GatewayError && (error.code === 'denied' || error.code === 'quota')) {
        throw new ProtocolError(ProtocolErrorCode.InvalidRequest, `switchboard: ${error.message}`, {
          reason: error.code,
        });
      }
      throw new ProtocolError(ProtocolErrorCode.InternalError, `switchboard: ${errorMessage(error)}`);
    }
  }
  const picked = pickCaller(server.inflight, server.owner);
  if ('error' in picked) {
    throw new ProtocolError(
      ProtocolErrorCode.InvalidRequest,
      picked.error === 'ambiguous'
        ? `switchboard: ${method} from "${server.name}" cannot be routed: calls from several sessions are in flight on its shared connection; set "isolation": "session" for this server`
        : `switchboard: ${method} from "${server.name}" arrived outside any call, so there is no client to ask`,
    );
  }
  routedTo(picked.caller.agent);
  if (method === 'sampling/createMessage' && server.config.sampling === 'deny') {
    throw new ProtocolError(
      ProtocolErrorCode.InvalidRequest,
      `switchboard: sampling is denied for server "${server.name}" (servers.json: sampling: "deny")`,
      { reason: 'denied' },
    );
  }
  try {
    return await picked.caller.ask(method, params, signal);
  } catch (error) {
    if (error instanceof GatewayError && error.code === 'capability_missing') {
      throw new ProtocolError(ProtocolErrorCode.MissingRequiredClientCapability, error.message, error.data);
    }
    if (error instanceof ProtocolError) throw error;
    throw new ProtocolError(ProtocolErrorCode.InternalError, `switchboard: ${errorMessage(error)}`);
  }
}

import type { Result } from '@modelcontextprotocol/client';

/** The requests an upstream server may send to the client side of its connection. */
export type ServerToClientMethod = 'sampling/createMessage' | 'elicitation/create' | 'roots/list';

/**
 * The downstream side of one call: the agent's session that asked for it. An upstream
 * that sends a request back (sampling, elicitation, roots) mid-call is answered by the
 * caller's client, never by another session's.
 */
export interface Caller {
  /** Identifies the downstream session; two callers with the same key share one client. */
  readonly sessionKey: string;
  readonly agent: string;
  /**
   * Relays a server→client request to this caller's client. Fails with a GatewayError
   * `capability_missing` when that client did not declare the capability.
   */
  ask(method: ServerToClientMethod, params: Record<string, unknown> | undefined, signal: AbortSignal): Promise<Result>;
}

/**
 * Picks the caller a server→client request belongs to. A shared connection cannot say
 * which of its in-flight calls caused a request, so it is routed only when every call
 * in flight comes from one session; otherwise the server needs `isolation: "session"`.
 * The newest call of that session is used.
 */
export function pickCaller(
  inflight: Iterable<Caller>,
  owner: Caller | undefined,
): { caller: Caller } | { error: 'none' | 'ambiguous' } {
  let chosen: Caller | undefined;
  for (const caller of inflight) {
    if (chosen !== undefined && chosen.sessionKey !== caller.sessionKey) return { error: 'ambiguous' };
    chosen = caller;
  }
  if (chosen) return { caller: chosen };
  if (owner) return { caller: owner };
  return { error: 'none' };
}

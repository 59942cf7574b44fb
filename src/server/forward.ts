import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { fromGatewayUri } from '../catalog/index.js';
import { GatewayError } from '../errors.js';
import type { Upstream } from '../upstream/index.js';
import type { DownstreamSession } from './session.js';

export type Params = Record<string, unknown> & { _meta?: Record<string, unknown> };

/**
 * The params an upstream should see: the caller's, with `override` applied, and the
 * `_meta` minus the progress token (the gateway sends its own upstream and maps progress
 * back) and the 2026 envelope keys (each connection has its own envelope).
 */
export function forwardParams(params: Params, override: Record<string, unknown>): Params {
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

export async function upstreamFor(session: DownstreamSession, server: string): Promise<Upstream> {
  const upstream = await session.upstreams.get(server);
  if (!upstream) throw new GatewayError('upstream_unavailable', `upstream "${server}" is not configured`);
  return upstream;
}

/** A gateway URI back to its server and the upstream's own URI; anything else is not found. */
export function resolveUri(uri: unknown): { server: string; uri: string } {
  const mapped = typeof uri === 'string' ? fromGatewayUri(uri) : undefined;
  if (!mapped)
    throw new ProtocolError(ProtocolErrorCode.ResourceNotFound, `Resource not found: ${String(uri)}`, { uri });
  return mapped;
}

/**
 * A policy refusal. It names the rule, and it reads the same whether or not the thing
 * exists, so an agent learns nothing about what it may not see.
 */
export function refusal(
  kind: 'tool' | 'prompt' | 'resource',
  name: string,
  agent: string,
  rule: string,
): ProtocolError {
  return new ProtocolError(
    ProtocolErrorCode.InvalidParams,
    `switchboard: ${kind} ${name} is not available to agent "${agent}" (${rule})`,
    { reason: 'denied', rule },
  );
}

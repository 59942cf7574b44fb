import type { Result, Tool } from '@modelcontextprotocol/server';
import type { AuditOutcome } from '../audit/index.js';
import type { CatalogSource } from '../catalog/index.js';
import { RESERVED_SERVER_NAME } from '../config/index.js';
import type { DownstreamSession } from './session.js';

/**
 * A tool the gateway answers itself (`switchboard__audit`, …). It goes through the
 * same policy, quota and audit stages as an upstream's tool; only the last stage,
 * forwarding, is replaced by `call`.
 */
export interface BuiltinTool {
  /** The definition, named without the `switchboard__` prefix. */
  definition: Tool;
  readOnly: boolean;
  /** `signal` aborts when the call is cancelled. */
  call(session: DownstreamSession, args: Record<string, unknown>, signal: AbortSignal): Promise<Result>;
  /** Extra audit fields taken from a result (the model router's model, tokens, cost). */
  auditDetails?(result: Result): Partial<AuditOutcome>;
}

/** The gateway's own tools as a catalog source named `switchboard`. */
export function builtinSource(tools: ReadonlyMap<string, BuiltinTool>): CatalogSource {
  const list = [...tools.values()];
  return {
    name: RESERVED_SERVER_NAME,
    status: 'ready',
    config: { readOnlyTools: list.filter((t) => t.readOnly).map((t) => t.definition.name), trustAnnotations: false },
    lists: { tools: list.map((t) => t.definition), prompts: [], resources: [], templates: [] },
  };
}

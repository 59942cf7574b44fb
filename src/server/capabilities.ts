import type { ClientCapabilities } from '@modelcontextprotocol/server';
import { GatewayError } from '../errors.js';
import type { ServerToClientMethod } from '../upstream/index.js';

/**
 * Fails with `capability_missing` when the agent's client did not declare what an
 * upstream is asking it for, so the upstream gets a proper error instead of a request
 * the client cannot answer.
 */
export function assertClientCan(
  capabilities: ClientCapabilities | undefined,
  method: ServerToClientMethod,
  params: Record<string, unknown> | undefined,
): void {
  const caps = capabilities ?? {};
  let missing: string | undefined;
  if (method === 'sampling/createMessage') {
    if (!caps.sampling) missing = 'sampling';
    else if (params?.tools !== undefined && !caps.sampling.tools) missing = 'sampling with tools';
  } else if (method === 'elicitation/create') {
    const mode = params?.mode === 'url' ? 'url' : 'form';
    const elicitation = caps.elicitation as { form?: unknown; url?: unknown } | undefined;
    if (!elicitation) missing = 'elicitation';
    // A bare `elicitation: {}` (2025-06-18 style) means form mode.
    else if (mode === 'url' && !elicitation.url) missing = 'URL elicitation';
    else if (mode === 'form' && elicitation.url && !elicitation.form) missing = 'form elicitation';
  } else if (method === 'roots/list') {
    if (!caps.roots) missing = 'roots';
  }
  if (missing) {
    throw new GatewayError('capability_missing', `the calling client does not support ${missing}`, {
      data: { requiredCapabilities: requiredCapabilities(method, params) },
    });
  }
}

/** What a client must declare to answer `method` (the `data` of a -32021 error). */
export function requiredCapabilities(
  method: ServerToClientMethod,
  params: Record<string, unknown> | undefined,
): Record<string, unknown> {
  if (method === 'sampling/createMessage') return { sampling: params?.tools !== undefined ? { tools: {} } : {} };
  if (method === 'elicitation/create') return { elicitation: params?.mode === 'url' ? { url: {} } : { form: {} } };
  return { roots: {} };
}

import type { ProviderError, ProviderErrorKind } from './provider-error.js';

/**
 * What the chain does after a failed attempt; the only place that decides it.
 *
 * - `retry`: fail over now, and the same target may be tried again later (after its
 *   Retry-After, or a backoff) if the deadline allows: 408, 409, 429, 5xx, network
 *   errors, timeouts, a stream cut before the first token, a garbled answer.
 * - `next`: fail over, never retry this target in this call: auth, billing, model not found.
 * - `larger-context`: fail over only to targets with a larger context window.
 * - `stop`: no other target can do better: a malformed request (400/422), a caller
 *   that cancelled, or output already committed to the caller.
 */
export type Decision = 'retry' | 'next' | 'larger-context' | 'stop';

const BY_KIND: Record<ProviderErrorKind, Decision> = {
  rate_limited: 'retry',
  overloaded: 'retry',
  server: 'retry',
  conflict: 'retry',
  timeout: 'retry',
  network: 'retry',
  stream_cut: 'retry',
  bad_response: 'retry',
  auth: 'next',
  billing: 'next',
  model_not_found: 'next',
  context_length: 'larger-context',
  invalid_request: 'stop',
  cancelled: 'stop',
};

export function decide(error: ProviderError): Decision {
  if (error.committed) return 'stop';
  if (error.kind === 'timeout' && error.phase === 'deadline') return 'stop';
  return BY_KIND[error.kind];
}

/**
 * Whether a failure says something about the target's health (and so counts towards
 * its circuit breaker). A malformed request, a too-long prompt or a caller that gave up
 * is not the target's fault.
 */
export function countsAgainstTarget(error: ProviderError): boolean {
  return error.kind !== 'invalid_request' && error.kind !== 'context_length' && error.kind !== 'cancelled';
}

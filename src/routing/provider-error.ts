import type { Usage } from './types.js';

/**
 * The one error taxonomy of the router. Every adapter turns an HTTP status, an error
 * body, an error event inside a 200 stream, a network failure or a timer into a
 * ProviderError of one of these kinds; `decide` (decide.ts) is the only place that
 * reads the kind to choose between retrying, failing over and stopping.
 */
export type ProviderErrorKind =
  | 'rate_limited' // 429
  | 'overloaded' // 529, Anthropic overloaded_error, Gemini UNAVAILABLE
  | 'server' // other 5xx
  | 'conflict' // 409
  | 'timeout' // 408 or one of our timers
  | 'network' // connection refused, reset, DNS
  | 'stream_cut' // the stream ended before the provider said it was done
  | 'bad_response' // a body that is not what the provider's format promises
  | 'auth' // 401, 403, a rejected key
  | 'billing' // 402, quota exhausted
  | 'model_not_found' // 404
  | 'context_length' // the prompt does not fit the model's window
  | 'invalid_request' // any other 400/413/422: the request itself is wrong
  | 'cancelled'; // the caller gave up

/** Which of the router's timers fired. */
export type TimeoutPhase = 'connect' | 'first_token' | 'idle' | 'attempt' | 'deadline';

export interface ProviderErrorOptions {
  status?: number;
  retryAfterMs?: number;
  phase?: TimeoutPhase;
  /** The provider's own error code or type, e.g. `overloaded_error`, `insufficient_quota`. */
  providerCode?: string;
  cause?: unknown;
}

export class ProviderError extends Error {
  readonly kind: ProviderErrorKind;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly phase: TimeoutPhase | undefined;
  readonly providerCode: string | undefined;
  /** Output had already reached the caller when this happened, so no other target may take over. */
  committed = false;
  /** Text that had reached the caller before a committed failure. */
  partialText: string | undefined;
  /**
   * The provider had started answering (a streamed token, or a 200 whose body then
   * broke): it generated output and bills it, although the attempt failed.
   */
  billable = false;
  /** Usage the provider reported before the failure, once its answer was complete; else unknown. */
  usage: Usage | undefined;

  constructor(kind: ProviderErrorKind, message: string, options: ProviderErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProviderError';
    this.kind = kind;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.phase = options.phase;
    this.providerCode = options.providerCode;
  }
}

/** The kind an HTTP status means when the body says nothing more specific. */
export function kindForStatus(status: number): ProviderErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 402) return 'billing';
  if (status === 404) return 'model_not_found';
  if (status === 408) return 'timeout';
  if (status === 409) return 'conflict';
  if (status === 429) return 'rate_limited';
  if (status === 503 || status === 529) return 'overloaded';
  if (status >= 500) return 'server';
  return 'invalid_request';
}

/** Matches the wording providers use for a prompt that does not fit the model. */
const CONTEXT_LENGTH =
  /context[ _-]?(length|window|limit)|maximum context|prompt is too long|too many tokens|exceeds the maximum number of tokens|input (token count|length).*exceed/i;

export function looksLikeContextLength(message: string, code?: string): boolean {
  return code === 'context_length_exceeded' || CONTEXT_LENGTH.test(message);
}

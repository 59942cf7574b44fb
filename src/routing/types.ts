import type { ProviderErrorKind, TimeoutPhase } from './provider-error.js';

/**
 * Token counts as the provider reported them. `inputTokens` includes cached input;
 * `cachedInputTokens` is the cached part of it. `estimated` is set when the provider
 * reported nothing and the router counted characters instead.
 */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number;
  estimated?: true;
}

/** The MCP `CreateMessageResult` the router answers with. */
export interface CreateMessageResult {
  role: 'assistant';
  content: { type: 'text'; text: string };
  /** The model as the provider named it in its answer (may carry a version suffix). */
  model: string;
  /** `endTurn`, `stopSequence`, `maxTokens`, `toolUse`, `contentFilter`, `refusal`, or the provider's own word. */
  stopReason?: string;
}

export type AttemptStatus = 'ok' | 'error' | 'timeout' | 'skipped';

/** One target tried (or passed over) during a sample call, in the order it happened. */
export interface Attempt {
  /** `provider/model`, as in the route. */
  target: string;
  provider: string;
  model: string;
  status: AttemptStatus;
  /** Why it failed or was skipped; absent when `ok`. */
  error?: string;
  kind?: ProviderErrorKind;
  /** The timeout that fired, when `status` is `timeout`. */
  phase?: TimeoutPhase;
  httpStatus?: number;
  /** How long the provider asked us to wait (Retry-After), when it did. */
  retryAfterMs?: number;
  latencyMs: number;
  /** When the attempt began (the router's clock: epoch ms), for traces. Absent when skipped. */
  startedAt?: number;
  /** Time to the first token of a streamed answer. */
  ttftMs?: number;
  /** The target answered but has no price: its cost is unknown (not $0). */
  unpriced?: true;
  /** A failed attempt the provider had started answering, so bills (see BilledFailure). */
  billed?: true;
}

/**
 * A failed attempt that still cost money: the provider had started answering (a token
 * streamed, or a 200 whose body broke) before it failed. `usage` is what the provider
 * reported for it, present only when its answer had completed; unknown otherwise.
 */
export interface BilledFailure {
  target: string;
  usage: Usage | undefined;
}

/** A target in the order the route's strategy chose, with the score that put it there. */
export interface RankedTarget {
  target: string;
  score?: number;
  /** The model hint it matched (preferences strategy). */
  hint?: string;
}

export interface SampleOutcome {
  result: CreateMessageResult;
  /** `provider/model` of the target that answered. */
  target: string;
  provider: string;
  /** The model as configured in the route (the price-table key's model part). */
  model: string;
  route: string;
  strategy: StrategyName;
  /** The order the strategy chose, before breakers and failover. */
  order: RankedTarget[];
  attempts: Attempt[];
  usage: Usage;
  /** USD for this call; null when the target has no price (never a made-up 0). */
  costUsd: number | null;
  unpriced: boolean;
  /** Failed attempts before the answer that providers bill all the same (usually none). */
  billedFailures: BilledFailure[];
}

export type StrategyName = 'fallback' | 'weighted' | 'least-latency' | 'cheapest' | 'preferences';

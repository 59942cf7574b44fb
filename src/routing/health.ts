import { CircuitBreaker, type BreakerState } from './breaker.js';
import { Ewma } from './ewma.js';
import type { RouterSettings } from './settings.js';

/** What `switchboard__models` shows about one target. Times are from the router's clock (epoch ms by default). */
export interface TargetHealth {
  target: string;
  state: BreakerState;
  consecutiveFailures: number;
  /** Failed share of calls in the breaker's window; null before any call. */
  errorRate: number | null;
  openedAt: number | null;
  /** The provider asked us not to call before this time (Retry-After). */
  retryAt: number | null;
  /** Moving averages in ms; null until observed. */
  latencyMs: number | null;
  ttftMs: number | null;
  calls: number;
  failures: number;
  lastError: string | null;
  lastErrorAt: number | null;
}

export class TargetStats {
  readonly breaker: CircuitBreaker;
  readonly latency: Ewma;
  readonly ttft: Ewma;
  retryAt: number | undefined;
  calls = 0;
  failures = 0;
  lastError: string | undefined;
  lastErrorAt: number | undefined;

  constructor(settings: RouterSettings, now: () => number) {
    this.breaker = new CircuitBreaker(settings.breaker, now);
    this.latency = new Ewma(settings.latencyAlpha);
    this.ttft = new Ewma(settings.latencyAlpha);
  }
}

/** Live state of every target, shared by all calls of one router. */
export class HealthRegistry {
  readonly #stats = new Map<string, TargetStats>();

  constructor(
    private readonly settings: RouterSettings,
    private readonly now: () => number,
  ) {}

  of(target: string): TargetStats {
    let stats = this.#stats.get(target);
    if (!stats) {
      stats = new TargetStats(this.settings, this.now);
      this.#stats.set(target, stats);
    }
    return stats;
  }

  succeeded(target: string, latencyMs: number, ttftMs: number | undefined): void {
    const stats = this.of(target);
    stats.calls += 1;
    stats.breaker.success();
    stats.latency.add(latencyMs);
    if (ttftMs !== undefined) stats.ttft.add(ttftMs);
  }

  failed(target: string, error: string, options: { counts: boolean; retryAfterMs?: number }): void {
    const stats = this.of(target);
    const now = this.now();
    stats.calls += 1;
    stats.lastError = error;
    stats.lastErrorAt = now;
    if (options.retryAfterMs !== undefined) stats.retryAt = now + options.retryAfterMs;
    if (options.counts) {
      stats.failures += 1;
      stats.breaker.failure();
    } else {
      stats.breaker.release();
    }
  }

  snapshot(target: string): TargetHealth {
    const stats = this.of(target);
    const retryAt = stats.retryAt !== undefined && stats.retryAt > this.now() ? stats.retryAt : null;
    return {
      target,
      state: stats.breaker.state,
      consecutiveFailures: stats.breaker.consecutiveFailures,
      errorRate: stats.breaker.errorRate ?? null,
      openedAt: stats.breaker.openedAt ?? null,
      retryAt,
      latencyMs: round(stats.latency.value),
      ttftMs: round(stats.ttft.value),
      calls: stats.calls,
      failures: stats.failures,
      lastError: stats.lastError ?? null,
      lastErrorAt: stats.lastErrorAt ?? null,
    };
  }
}

function round(value: number | undefined): number | null {
  return value === undefined ? null : Math.round(value * 10) / 10;
}

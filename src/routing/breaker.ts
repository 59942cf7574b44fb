import type { BreakerSettings } from './settings.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

/** Outcomes kept for the error rate; older ones fall out of the window, and no more than this many are kept. */
const MAX_OUTCOMES = 1_000;

/**
 * One target's circuit breaker. Closed: calls go through. Open (after
 * `failureThreshold` consecutive failures, or an error rate of at least `errorRate`
 * over `windowMs` once `minCalls` were made): calls are refused until `coolDownMs`
 * has passed; then it is half-open and lets exactly one probe through. The probe's
 * success closes it, its failure opens it for another cool-down. The clock is injected.
 */
export class CircuitBreaker {
  #state: 'closed' | 'open' = 'closed';
  #openedAt = 0;
  #probing = false;
  #consecutive = 0;
  #outcomes: { at: number; ok: boolean }[] = [];
  /** Failures among #outcomes, kept as they come and go (the error rate is read on every failure). */
  #failed = 0;
  #lastFailureAt: number | undefined;

  constructor(
    private readonly settings: BreakerSettings,
    private readonly now: () => number,
  ) {}

  get state(): BreakerState {
    if (this.#state === 'closed') return 'closed';
    return this.now() - this.#openedAt >= this.settings.coolDownMs ? 'half-open' : 'open';
  }

  get consecutiveFailures(): number {
    return this.#consecutive;
  }

  get openedAt(): number | undefined {
    return this.#state === 'open' ? this.#openedAt : undefined;
  }

  get lastFailureAt(): number | undefined {
    return this.#lastFailureAt;
  }

  /** Whether a call could go through now (without taking the half-open probe). */
  get available(): boolean {
    const state = this.state;
    return state === 'closed' || (state === 'half-open' && !this.#probing);
  }

  /** Takes the right to call now: always when closed, the single probe when half-open. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.#probing) return false;
    this.#probing = true;
    return true;
  }

  /** Calls anyway, as a probe: used when every target of a route is open. */
  forceAcquire(): void {
    if (this.#state === 'open') this.#probing = true;
  }

  success(): void {
    this.#record(true);
    this.#consecutive = 0;
    this.#state = 'closed';
    this.#probing = false;
  }

  failure(): void {
    const now = this.now();
    this.#record(false);
    this.#consecutive += 1;
    this.#lastFailureAt = now;
    if (this.#state === 'open' || this.#tripped()) {
      this.#state = 'open';
      this.#openedAt = now;
    }
    this.#probing = false;
  }

  /** The call ended in a way that says nothing about the target (a bad request, a cancel): frees the probe. */
  release(): void {
    this.#probing = false;
  }

  /** Failed share of the calls in the window, or undefined before any. */
  get errorRate(): number | undefined {
    this.#prune();
    if (this.#outcomes.length === 0) return undefined;
    return this.#failed / this.#outcomes.length;
  }

  #tripped(): boolean {
    if (this.#consecutive >= this.settings.failureThreshold) return true;
    const rate = this.errorRate;
    return this.#outcomes.length >= this.settings.minCalls && rate !== undefined && rate >= this.settings.errorRate;
  }

  #record(ok: boolean): void {
    this.#outcomes.push({ at: this.now(), ok });
    if (!ok) this.#failed += 1;
    if (this.#outcomes.length > MAX_OUTCOMES && !this.#outcomes.shift()!.ok) this.#failed -= 1;
  }

  #prune(): void {
    const since = this.now() - this.settings.windowMs;
    let drop = 0;
    while (drop < this.#outcomes.length && this.#outcomes[drop]!.at < since) {
      if (!this.#outcomes[drop]!.ok) this.#failed -= 1;
      drop += 1;
    }
    if (drop > 0) this.#outcomes.splice(0, drop);
  }
}

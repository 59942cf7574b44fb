import { ProviderError, type TimeoutPhase } from './provider-error.js';

/**
 * The timers of one attempt, all aborting one AbortController: connect (response
 * headers), first token, idle (between chunks), attempt total, and the chain's
 * deadline; and the caller's own signal. `reason` says which one ended the attempt,
 * because fetch rejects with a generic AbortError whatever the cause.
 */
export class AttemptTimers {
  readonly #controller = new AbortController();
  readonly #timers = new Map<TimeoutPhase, NodeJS.Timeout>();
  readonly #caller: AbortSignal | undefined;
  readonly #onCallerAbort = (): void => {
    this.fire(new ProviderError('cancelled', 'the caller cancelled the request'));
  };
  reason: ProviderError | undefined;
  /** The response was read to its end: nothing is left open to abort. */
  settled = false;

  constructor(caller: AbortSignal | undefined) {
    this.#caller = caller;
    if (caller?.aborted) this.#onCallerAbort();
    else caller?.addEventListener('abort', this.#onCallerAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Starts (or restarts) the timer of `phase`; `ms` ≤ 0 fires at once. */
  arm(phase: TimeoutPhase, ms: number, message: string): void {
    this.disarm(phase);
    if (ms <= 0) {
      this.fire(new ProviderError('timeout', message, { phase }));
      return;
    }
    this.#timers.set(
      phase,
      setTimeout(() => this.fire(new ProviderError('timeout', message, { phase })), ms),
    );
  }

  /** Restarts a running timer from now (cheaper than arm for every chunk). */
  refresh(phase: TimeoutPhase): void {
    this.#timers.get(phase)?.refresh();
  }

  has(phase: TimeoutPhase): boolean {
    return this.#timers.has(phase);
  }

  disarm(phase: TimeoutPhase): void {
    const timer = this.#timers.get(phase);
    if (timer !== undefined) clearTimeout(timer);
    this.#timers.delete(phase);
  }

  fire(reason: ProviderError): void {
    if (this.reason) return;
    this.reason = reason;
    this.#controller.abort(reason);
  }

  /** Stops every timer and aborts the request if it is still open (closing its socket). */
  dispose(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#caller?.removeEventListener('abort', this.#onCallerAbort);
    // Aborting a finished request only costs (a DOMException with its stack, listeners
    // run): on the router's path it was 5 % of the gateway's CPU per call.
    if (!this.settled && !this.#controller.signal.aborted) this.#controller.abort();
  }
}

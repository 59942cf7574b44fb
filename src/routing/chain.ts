import { errorMessage } from '../errors.js';
import type { Logger } from '../observability/index.js';
import { runAttempt, type AttemptSuccess } from './attempt.js';
import { countsAgainstTarget, decide } from './decide.js';
import type { HealthRegistry } from './health.js';
import type { ProviderFetch } from '../http-client.js';
import type { SampleParams } from './params.js';
import { ProviderError } from './provider-error.js';
import { ADAPTERS } from './providers/index.js';
import { chainError } from './router-error.js';
import type { RouterSettings } from './settings.js';
import type { Ranked } from './strategies/index.js';
import type { Route, Target } from './targets.js';
import type { Attempt, BilledFailure } from './types.js';

export interface ChainDeps {
  settings: RouterSettings;
  health: HealthRegistry;
  log: Logger;
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  fetch: ProviderFetch;
  random: () => number;
}

export interface ChainInput {
  route: Route;
  ranked: Ranked[];
  params: SampleParams;
  inputTokens: number;
  stream: boolean;
  deadlineMs: number;
  signal: AbortSignal | undefined;
  onToken: ((text: string) => void) | undefined;
}

export interface ChainSuccess extends AttemptSuccess {
  target: Target;
  attempts: Attempt[];
  billedFailures: BilledFailure[];
}

interface Candidate {
  target: Target;
  tries: number;
  /** Not to be called before this time (Retry-After or backoff). */
  notBefore: number;
  done: boolean;
  /** Every circuit was open: this one is called anyway, once. */
  forced: boolean;
}

/**
 * Runs a route's targets in the order the strategy chose until one answers, under one
 * deadline. A retryable failure fails over at once and leaves the target to be tried
 * again later (after its Retry-After or a backoff, if that is before the deadline), so
 * a failover costs one round trip to the next target and no waiting. What each error
 * leads to is decided in decide.ts; every attempt and every target passed over is
 * recorded, in order.
 */
export async function runChain(deps: ChainDeps, input: ChainInput): Promise<ChainSuccess> {
  const { settings, health, log, now } = deps;
  const route = input.route.name;
  const deadlineAt = now() + input.deadlineMs;
  const attempts: Attempt[] = [];
  const billedFailures: BilledFailure[] = [];
  const candidates: Candidate[] = input.ranked.map(({ target }) => ({
    target,
    tries: 0,
    notBefore: health.of(target.id).retryAt ?? 0,
    done: false,
    forced: false,
  }));
  forceOldestIfAllOpen(deps, candidates, route);
  let last: ProviderError | undefined;

  for (;;) {
    const open = candidates.filter((c) => !c.done);
    if (open.length === 0) break;
    const current = now();
    if (current >= deadlineAt) {
      last = new ProviderError('timeout', `the deadline of ${input.deadlineMs} ms ran out`, { phase: 'deadline' });
      break;
    }
    const ready = open.find((c) => c.notBefore <= current);
    if (!ready) {
      const next = Math.min(...open.map((c) => c.notBefore));
      if (next >= deadlineAt) {
        for (const c of open.filter((c) => c.tries === 0)) {
          attempts.push(skipped(c.target, `asked to wait until after the deadline (Retry-After)`));
        }
        break;
      }
      log.info('waiting before retrying', { route, ms: next - current });
      try {
        await deps.sleep(next - current, input.signal);
      } catch {
        last = new ProviderError('cancelled', 'the caller cancelled the request');
        break;
      }
      continue;
    }

    const breaker = health.of(ready.target.id).breaker;
    if (ready.forced) {
      ready.forced = false;
      breaker.forceAcquire();
    } else if (!breaker.tryAcquire()) {
      ready.done = true;
      attempts.push(skipped(ready.target, `circuit ${breaker.state}`));
      continue;
    }

    const started = now();
    try {
      const success = await runAttempt({
        target: ready.target,
        adapter: ADAPTERS[ready.target.providerConfig.type],
        params: input.params,
        stream: input.stream,
        settings,
        fetch: deps.fetch,
        now,
        deadlineAt,
        signal: input.signal,
        onToken: input.onToken,
      });
      health.succeeded(ready.target.id, success.latencyMs, success.ttftMs);
      attempts.push({
        ...ids(ready.target),
        status: 'ok',
        latencyMs: success.latencyMs,
        startedAt: started,
        ...(success.ttftMs !== undefined ? { ttftMs: success.ttftMs } : {}),
      });
      return { ...success, target: ready.target, attempts, billedFailures };
    } catch (caught) {
      const error = caught instanceof ProviderError ? caught : new ProviderError('bad_response', errorMessage(caught));
      last = error;
      attempts.push({ ...failed(ready.target, error, now() - started), startedAt: started });
      if (error.billable) billedFailures.push({ target: ready.target.id, usage: error.usage });
      health.failed(ready.target.id, error.message, {
        counts: countsAgainstTarget(error),
        retryAfterMs: error.retryAfterMs,
      });
      const decision = decide(error);
      log.warn(decision === 'stop' ? 'target failed; not failing over' : 'target failed; failing over', {
        route,
        target: ready.target.id,
        kind: error.kind,
        error: error.message,
      });
      if (decision === 'stop') throw chainError(route, error, attempts, billedFailures);
      ready.done = true;
      if (decision === 'larger-context') {
        passOverSmallerWindows(candidates, ready.target.contextWindow ?? input.inputTokens, attempts);
      } else if (decision === 'retry') {
        ready.tries += 1;
        const wait = error.retryAfterMs ?? backoff(settings, ready.tries, deps.random());
        ready.notBefore = now() + wait;
        ready.done = ready.tries >= settings.maxAttemptsPerTarget || ready.notBefore >= deadlineAt;
      }
    }
  }
  throw chainError(route, last, attempts, billedFailures);
}

/** If no target's circuit would let a call through, the one that failed longest ago is called anyway. */
function forceOldestIfAllOpen(deps: ChainDeps, candidates: Candidate[], route: string): void {
  if (candidates.length === 0) return;
  if (candidates.some((c) => deps.health.of(c.target.id).breaker.available)) return;
  const failedAt = (c: Candidate) => deps.health.of(c.target.id).breaker.lastFailureAt ?? 0;
  const oldest = candidates.reduce((a, b) => (failedAt(b) < failedAt(a) ? b : a));
  oldest.forced = true;
  deps.log.warn('every circuit of the route is open; trying the target that failed longest ago', {
    route,
    target: oldest.target.id,
  });
}

/** After a context-length error, only targets with a known, larger window are worth a try. */
function passOverSmallerWindows(candidates: Candidate[], floor: number, attempts: Attempt[]): void {
  for (const c of candidates) {
    if (c.done || (c.target.contextWindow !== undefined && c.target.contextWindow > floor)) continue;
    c.done = true;
    const window = c.target.contextWindow === undefined ? 'unknown' : String(c.target.contextWindow);
    attempts.push(skipped(c.target, `context window ${window} is not larger than ${floor}`));
  }
}

function backoff(settings: RouterSettings, tries: number, random: number): number {
  const base = Math.min(settings.retryMaxDelayMs, settings.retryBaseDelayMs * 2 ** (tries - 1));
  return Math.round(base * (0.5 + random / 2));
}

function ids(target: Target): Pick<Attempt, 'target' | 'provider' | 'model'> {
  return { target: target.id, provider: target.provider, model: target.model };
}

function skipped(target: Target, error: string): Attempt {
  return { ...ids(target), status: 'skipped', error, latencyMs: 0 };
}

function failed(target: Target, error: ProviderError, latencyMs: number): Attempt {
  const attempt: Attempt = {
    ...ids(target),
    status: error.kind === 'timeout' ? 'timeout' : 'error',
    error: error.message,
    kind: error.kind,
    latencyMs,
  };
  if (error.phase) attempt.phase = error.phase;
  if (error.status !== undefined) attempt.httpStatus = error.status;
  if (error.retryAfterMs !== undefined) attempt.retryAfterMs = error.retryAfterMs;
  if (error.billable) attempt.billed = true;
  return attempt;
}

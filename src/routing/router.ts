import type { Logger } from '../observability/index.js';
import { runChain } from './chain.js';
import { costOf, expectedCostUsd, type Cost } from './cost.js';
import { estimateInputTokens, estimateTextTokens } from './estimate.js';
import { HealthRegistry, type TargetHealth } from './health.js';
import { pooledFetch, type ProviderFetch } from '../http-client.js';
import { parseSampleParams, type SampleParamsInput } from './params.js';
import { RouterError } from './router-error.js';
import { sleep } from './sleep.js';
import { RouterSettingsSchema, type RouterModelsConfig, type RouterSettingsInput } from './settings.js';
import { STRATEGIES } from './strategies/index.js';
import { buildRoutes, type Price, type Route } from './targets.js';
import type { RankedTarget, SampleOutcome, StrategyName, Usage } from './types.js';

export interface RouterOptions {
  log: Logger;
  /** `gateway.router`; defaults for anything left out. */
  settings?: RouterSettingsInput;
  /** Milliseconds; Date.now by default. Breakers, Retry-After waits, deadlines and latencies use it. */
  now?: () => number;
  /** Waits before a retry; rejects when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  fetch?: ProviderFetch;
  /** [0, 1); for the weighted strategy and backoff jitter. */
  random?: () => number;
}

export interface SampleOptions {
  signal?: AbortSignal;
  /** Stream from the provider. Defaults to true when `onToken` is given. */
  stream?: boolean;
  /** Receives the answer as it streams, only once it is committed (from the first real token on). */
  onToken?: (text: string) => void;
  /** Overrides `deadlineMs` for this call (e.g. what is left of the caller's own timeout). */
  deadlineMs?: number;
}

export interface RouteInfo {
  name: string;
  strategy: StrategyName;
  /** The route used when a call names none. */
  isDefault: boolean;
  targets: {
    target: string;
    provider: string;
    model: string;
    type: 'openai' | 'anthropic' | 'gemini';
    price: Price | null;
    contextWindow: number | null;
    aliases: string[];
    weight?: number;
  }[];
}

export interface CostEstimate {
  route: string;
  inputTokens: number;
  /** maxTokens: the most the answer may use. */
  outputTokens: number;
  /** The dearest priced target of the route at those counts: what to reserve. Null if no target is priced. */
  costUsd: number | null;
  /** True when some target of the route has no price: the real cost may not be known afterwards. */
  unpriced: boolean;
  targets: { target: string; costUsd: number | null }[];
}

export interface Router {
  /**
   * Answers an MCP sampling request through a route: the strategy orders its targets,
   * the chain tries them under one deadline with retries, failover and circuit
   * breakers. Throws a RouterError (a GatewayError, with every attempt in `data`).
   */
  sample(params: SampleParamsInput, options?: SampleOptions): Promise<SampleOutcome>;
  /** The route a call would use: the named one, or the default. Throws invalid_params for an unknown name. */
  resolveRoute(name?: string): string;
  /** An upper bound of what a call would cost, to reserve against a budget before calling. */
  estimateCostUsd(params: SampleParamsInput): CostEstimate;
  /** What `usage` on `target` ("provider/model") costs. */
  costOf(target: string, usage: Usage): Cost;
  routes(): RouteInfo[];
  health(): TargetHealth[];
}

export function createRouter(models: RouterModelsConfig, options: RouterOptions): Router {
  const settings = RouterSettingsSchema.parse(options.settings ?? {});
  const routes = buildRoutes(models);
  const defaultRoute = routes.has('default') ? 'default' : routes.keys().next().value;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const health = new HealthRegistry(settings, now);
  const log = options.log;
  const deps = {
    settings,
    health,
    log,
    now,
    random,
    sleep: options.sleep ?? sleep,
    fetch: options.fetch ?? pooledFetch,
  };

  const resolve = (name: string | undefined): Route => {
    const route = routes.get(name ?? defaultRoute ?? '');
    if (route) return route;
    if (name === undefined)
      throw new RouterError('invalid_params', 'no model routes are configured (models.routes)', {});
    const known = [...routes.keys()].map((r) => `"${r}"`).join(', ') || 'none';
    throw new RouterError('invalid_params', `unknown route "${name}" (configured: ${known})`, { route: name });
  };

  const prices = new Map<string, Price | undefined>();
  for (const route of routes.values()) for (const t of route.targets) prices.set(t.id, t.price);

  return {
    async sample(raw, callOptions = {}) {
      const params = parseSampleParams(raw);
      const route = resolve(params.route);
      const stream = callOptions.stream ?? callOptions.onToken !== undefined;
      const inputTokens = estimateInputTokens(params);
      const ranked = STRATEGIES[route.strategy]({ route, params, stream, health, random, inputTokens });
      const order: RankedTarget[] = ranked.map((r) => ({ target: r.target.id, ...rest(r) }));
      const level = route.strategy === 'preferences' ? 'info' : 'debug';
      log[level]('route order', { route: route.name, strategy: route.strategy, order });

      const done = await runChain(deps, {
        route,
        ranked,
        params,
        inputTokens,
        stream,
        deadlineMs: callOptions.deadlineMs ?? settings.deadlineMs,
        signal: callOptions.signal,
        onToken: callOptions.onToken,
      });
      const { completion, target } = done;
      const usage: Usage = completion.usage ?? {
        inputTokens,
        outputTokens: estimateTextTokens(completion.text),
        estimated: true,
      };
      const cost = costOf(usage, target.price);
      if (cost.unpriced) {
        log.warn('unpriced model: cost unknown', { route: route.name, target: target.id });
        // Marked on the attempt too, so the audit row's attempts say it (its cost_usd is NULL).
        const answered = done.attempts.at(-1);
        if (answered) answered.unpriced = true;
      }
      return {
        result: {
          role: 'assistant',
          content: { type: 'text', text: completion.text },
          model: completion.model ?? target.model,
          ...(completion.stopReason !== undefined ? { stopReason: completion.stopReason } : {}),
        },
        target: target.id,
        provider: target.provider,
        model: target.model,
        route: route.name,
        strategy: route.strategy,
        order,
        attempts: done.attempts,
        usage,
        costUsd: cost.costUsd,
        unpriced: cost.unpriced,
        billedFailures: done.billedFailures,
      };
    },

    resolveRoute: (name) => resolve(name).name,

    estimateCostUsd(raw) {
      const params = parseSampleParams(raw);
      const route = resolve(params.route);
      const inputTokens = estimateInputTokens(params);
      const targets = route.targets.map((t) => ({
        target: t.id,
        costUsd: expectedCostUsd(t.price, inputTokens, params.maxTokens) ?? null,
      }));
      const priced = targets.map((t) => t.costUsd).filter((c): c is number => c !== null);
      return {
        route: route.name,
        inputTokens,
        outputTokens: params.maxTokens,
        costUsd: priced.length > 0 ? Math.max(...priced) : null,
        unpriced: priced.length < targets.length,
        targets,
      };
    },

    costOf: (target, usage) => costOf(usage, prices.has(target) ? prices.get(target) : models.prices[target]),

    routes: () =>
      [...routes.values()].map((route) => ({
        name: route.name,
        strategy: route.strategy,
        isDefault: route.name === defaultRoute,
        targets: route.targets.map((t, i) => ({
          target: t.id,
          provider: t.provider,
          model: t.model,
          type: t.providerConfig.type,
          price: t.price ?? null,
          contextWindow: t.contextWindow ?? null,
          aliases: t.aliases,
          ...(route.strategy === 'weighted' ? { weight: route.weights[i] ?? 1 } : {}),
        })),
      })),

    health: () => [...prices.keys()].map((id) => health.snapshot(id)),
  };
}

function rest(ranked: { score?: number; hint?: string }): Omit<RankedTarget, 'target'> {
  return {
    ...(ranked.score !== undefined ? { score: ranked.score } : {}),
    ...(ranked.hint !== undefined ? { hint: ranked.hint } : {}),
  };
}

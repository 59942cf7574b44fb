import { GatewayError } from '../errors.js';
import { knownModel } from './known-models.js';
import { TargetsSchema, type RouterModelsConfig, type TargetInfo } from './settings.js';
import type { StrategyName } from './types.js';

export type ProviderConfig = RouterModelsConfig['providers'][string];
export type Price = RouterModelsConfig['prices'][string];

/** One `provider/model` of some route, with everything known about it. */
export interface Target {
  id: string;
  provider: string;
  model: string;
  providerConfig: ProviderConfig;
  price: Price | undefined;
  contextWindow: number | undefined;
  aliases: string[];
  intelligence: number | undefined;
  speed: number | undefined;
}

export interface Route {
  name: string;
  strategy: StrategyName;
  targets: Target[];
  /** Same length as `targets` (weighted strategy); 1 each when not configured. */
  weights: number[];
}

/**
 * Routes and their targets from config. Fails closed: a route naming an unknown
 * provider, or weights that do not match its targets, is a config error naming the field.
 */
export function buildRoutes(models: RouterModelsConfig): Map<string, Route> {
  const info = parseTargetInfo(models.targets);
  const targets = new Map<string, Target>();
  const routes = new Map<string, Route>();
  for (const [name, spec] of Object.entries(models.routes)) {
    const def = Array.isArray(spec) ? { strategy: 'fallback' as const, targets: spec, weights: undefined } : spec;
    const list = def.targets.map((id, i) => {
      let target = targets.get(id);
      if (!target) {
        target = makeTarget(models, id, info[id], `models.routes.${name}.targets[${i}]`);
        targets.set(id, target);
      }
      return target;
    });
    if (def.weights !== undefined && def.weights.length !== list.length) {
      throw configError(`models.routes.${name}.weights`, `expected ${list.length} weights, one per target`);
    }
    routes.set(name, { name, strategy: def.strategy, targets: list, weights: def.weights ?? list.map(() => 1) });
  }
  return routes;
}

function makeTarget(models: RouterModelsConfig, id: string, info: TargetInfo | undefined, field: string): Target {
  const slash = id.indexOf('/');
  const provider = id.slice(0, slash);
  const model = id.slice(slash + 1);
  const providerConfig = models.providers[provider];
  if (!providerConfig) throw configError(field, `unknown provider "${provider}" (not in models.providers)`);
  const known = knownModel(model);
  return {
    id,
    provider,
    model,
    providerConfig,
    price: models.prices[id],
    contextWindow: info?.contextWindow ?? known?.contextWindow,
    aliases: info?.aliases ?? [],
    intelligence: info?.intelligence ?? known?.intelligence,
    speed: info?.speed ?? known?.speed,
  };
}

function parseTargetInfo(raw: unknown): Record<string, TargetInfo> {
  if (raw === undefined) return {};
  const parsed = TargetsSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw configError(['models.targets', ...(issue?.path ?? [])].join('.'), issue?.message ?? 'invalid');
}

function configError(field: string, message: string): GatewayError {
  return new GatewayError('config_invalid', `${field}: ${message}`, { data: { field } });
}

import { expectedCostUsd } from '../cost.js';
import type { Target } from '../targets.js';
import { sortBy, type Strategy, type StrategyInput } from './strategy.js';

/**
 * MCP `modelPreferences`. Hints come first, as the spec asks: a target matching an
 * earlier hint (a case-insensitive substring of `provider/model`, the model name or one
 * of its aliases) goes before one matching a later hint, and both before the rest.
 * Within each group targets are scored by the priorities (0–1 each):
 *
 *   score = (cost·costScore + speed·speedScore + intelligence·intelligenceScore) / (cost + speed + intelligence)
 *
 * where each score is 0–1 and higher is better: costScore from the price table
 * (cheapest 1, dearest 0, unpriced 0), speedScore from observed latency once every
 * target has been measured, else the configured or built-in speed tier, and
 * intelligenceScore from the configured or built-in tier, else the output price.
 * Without priorities the route's order stands.
 */
export const preferences: Strategy = (input) => {
  const prefs = input.params.modelPreferences;
  const hints = (prefs?.hints ?? []).map((h) => h.name?.trim().toLowerCase()).filter((h): h is string => !!h);
  const weights = {
    cost: prefs?.costPriority ?? 0,
    speed: prefs?.speedPriority ?? 0,
    intelligence: prefs?.intelligencePriority ?? 0,
  };
  const total = weights.cost + weights.speed + weights.intelligence;
  const costs = scale(
    input.route.targets.map((t) => expectedCostUsd(t.price, input.inputTokens, input.params.maxTokens)),
    true,
  );
  const speeds = speedScores(input);
  const smarts = intelligenceScores(input.route.targets);
  const scored = input.route.targets.map((target, i) => {
    const hintIndex = hints.findIndex((hint) => names(target).some((name) => name.includes(hint)));
    const score =
      total === 0
        ? undefined
        : (weights.cost * (costs[i] ?? 0) +
            weights.speed * (speeds[i] ?? 0.5) +
            weights.intelligence * (smarts[i] ?? 0.5)) /
          total;
    return { target, hintIndex: hintIndex < 0 ? hints.length : hintIndex, score };
  });
  return sortBy(scored, (entry) => entry.hintIndex * 10 - (entry.score ?? 0)).map(({ target, hintIndex, score }) => ({
    target,
    ...(score !== undefined ? { score: Math.round(score * 1000) / 1000 } : {}),
    ...(hintIndex < hints.length ? { hint: hints[hintIndex] } : {}),
  }));
};

function names(target: Target): string[] {
  return [target.id, target.model, ...target.aliases].map((name) => name.toLowerCase());
}

function speedScores({ route, stream, health }: StrategyInput): (number | undefined)[] {
  const observed = route.targets.map((t) => {
    const stats = health.of(t.id);
    return (stream ? stats.ttft.value : undefined) ?? stats.latency.value;
  });
  if (observed.every((ms) => ms !== undefined)) return scale(observed, true);
  return route.targets.map((t) => t.speed);
}

function intelligenceScores(targets: Target[]): (number | undefined)[] {
  if (targets.every((t) => t.intelligence !== undefined)) return targets.map((t) => t.intelligence);
  const byPrice = scale(
    targets.map((t) => t.price?.output),
    false,
  );
  return targets.map((t, i) => t.intelligence ?? byPrice[i]);
}

/** Maps values to 0–1 (lowest → 1 when `lowerIsBetter`); undefined stays undefined, all-equal → 1. */
function scale(values: (number | undefined)[], lowerIsBetter: boolean): (number | undefined)[] {
  const known = values.filter((v): v is number => v !== undefined);
  if (known.length === 0) return values.map(() => undefined);
  const min = Math.min(...known);
  const max = Math.max(...known);
  return values.map((v) => {
    if (v === undefined) return undefined;
    if (max === min) return 1;
    const t = (v - min) / (max - min);
    return lowerIsBetter ? 1 - t : t;
  });
}

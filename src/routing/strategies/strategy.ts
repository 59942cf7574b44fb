import type { HealthRegistry } from '../health.js';
import type { SampleParams } from '../params.js';
import type { Route, Target } from '../targets.js';

export interface StrategyInput {
  route: Route;
  params: SampleParams;
  stream: boolean;
  health: HealthRegistry;
  random: () => number;
  /** Estimated prompt tokens; the answer is assumed to use all of maxTokens. */
  inputTokens: number;
}

export interface Ranked {
  target: Target;
  score?: number;
  hint?: string;
}

/** Orders a route's targets, first choice first. Every target appears once: the rest are failover. */
export type Strategy = (input: StrategyInput) => Ranked[];

/** A stable sort by `key` ascending; ties keep the route's order. */
export function sortBy<T>(items: T[], key: (item: T) => number): T[] {
  return items
    .map((item, index) => ({ item, index, key: key(item) }))
    .sort((a, b) => a.key - b.key || a.index - b.index)
    .map((entry) => entry.item);
}

import type { StrategyName } from '../types.js';
import { cheapest } from './cheapest.js';
import { fallback } from './fallback.js';
import { leastLatency } from './least-latency.js';
import { preferences } from './preferences.js';
import type { Strategy } from './strategy.js';
import { weighted } from './weighted.js';

export type { Ranked, Strategy, StrategyInput } from './strategy.js';

export const STRATEGIES: Record<StrategyName, Strategy> = {
  fallback,
  weighted,
  'least-latency': leastLatency,
  cheapest,
  preferences,
};

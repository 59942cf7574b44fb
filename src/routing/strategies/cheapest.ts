import { expectedCostUsd } from '../cost.js';
import { sortBy, type Strategy } from './strategy.js';

/**
 * Lowest expected cost first: the price table × the estimated prompt and maxTokens of
 * output. Unpriced targets come last — their cost is unknown, not zero.
 */
export const cheapest: Strategy = ({ route, params, inputTokens }) => {
  const costed = route.targets.map((target) => ({
    target,
    cost: expectedCostUsd(target.price, inputTokens, params.maxTokens),
  }));
  return sortBy(costed, (entry) => entry.cost ?? Infinity).map(({ target, cost }) => ({
    target,
    ...(cost !== undefined ? { score: cost } : {}),
  }));
};

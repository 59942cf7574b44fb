import type { Ranked, Strategy } from './strategy.js';

/**
 * Picks the first target at random in proportion to its weight, then the next among
 * the rest the same way, so failover still has an order. Zero-weight targets come
 * last, in route order: never first, but still there when the others fail.
 */
export const weighted: Strategy = ({ route, random }) => {
  const pool = route.targets.map((target, i) => ({ target, weight: route.weights[i] ?? 1 }));
  const out: Ranked[] = [];
  while (pool.some((entry) => entry.weight > 0)) {
    const total = pool.reduce((sum, entry) => sum + entry.weight, 0);
    let pick = random() * total;
    let index = pool.findIndex((entry) => entry.weight > 0 && (pick -= entry.weight) < 0);
    if (index < 0) index = pool.findLastIndex((entry) => entry.weight > 0);
    const [chosen] = pool.splice(index, 1);
    out.push({ target: chosen!.target, score: chosen!.weight / total });
  }
  return [...out, ...pool.map((entry) => ({ target: entry.target, score: 0 }))];
};

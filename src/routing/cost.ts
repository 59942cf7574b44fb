import type { Price } from './targets.js';
import type { Usage } from './types.js';

export interface Cost {
  /** USD; null when the target has no price. */
  costUsd: number | null;
  /** True when no price is configured: the cost is unknown, not zero. */
  unpriced: boolean;
}

/**
 * What `usage` costs at `price` (USD per million tokens). Cached input is charged at
 * `cachedInput` when the table has it, else at the input price. A target with no
 * price is unpriced (costUsd null), never $0.
 */
export function costOf(usage: Usage, price: Price | undefined): Cost {
  if (!price) return { costUsd: null, unpriced: true };
  const cached = Math.min(usage.cachedInputTokens ?? 0, usage.inputTokens);
  const micro =
    (usage.inputTokens - cached) * price.input +
    cached * (price.cachedInput ?? price.input) +
    usage.outputTokens * price.output;
  return { costUsd: roundUsd(micro / 1_000_000), unpriced: false };
}

/** Rounds away float noise (0.30000000000000004) below a billionth of a dollar. */
function roundUsd(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}

/** What one call to `price` would cost with these token counts; undefined when unpriced. */
export function expectedCostUsd(
  price: Price | undefined,
  inputTokens: number,
  outputTokens: number,
): number | undefined {
  if (!price) return undefined;
  return roundUsd((inputTokens * price.input + outputTokens * price.output) / 1_000_000);
}

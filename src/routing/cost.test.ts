import { describe, expect, it } from 'vitest';
import { costOf } from './cost.js';

describe('costOf', () => {
  it('charges input and output per million tokens', () => {
    expect(costOf({ inputTokens: 1_000_000, outputTokens: 0 }, { input: 3, output: 15 })).toEqual({
      costUsd: 3,
      unpriced: false,
    });
    expect(costOf({ inputTokens: 1200, outputTokens: 300 }, { input: 1, output: 5 }).costUsd).toBe(0.0027);
  });

  it('charges cached input at the cached price, or at the input price when there is none', () => {
    const usage = { inputTokens: 1000, outputTokens: 0, cachedInputTokens: 400 };
    expect(costOf(usage, { input: 10, output: 0, cachedInput: 1 }).costUsd).toBeCloseTo(0.0064, 12);
    expect(costOf(usage, { input: 10, output: 0 }).costUsd).toBeCloseTo(0.01, 12);
  });

  it('reports a target without a price as unpriced, never as $0', () => {
    expect(costOf({ inputTokens: 10, outputTokens: 10 }, undefined)).toEqual({ costUsd: null, unpriced: true });
  });

  it('is exactly 0 only for a priced call that used no tokens', () => {
    expect(costOf({ inputTokens: 0, outputTokens: 0 }, { input: 1, output: 1 })).toEqual({
      costUsd: 0,
      unpriced: false,
    });
  });
});

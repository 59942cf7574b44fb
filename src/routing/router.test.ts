import { describe, expect, it } from 'vitest';
import { silentLogger } from '../observability/index.js';
import { createRouter, type RouterModelsConfig } from './index.js';

const CONFIG: RouterModelsConfig = {
  providers: {
    anthropic: { type: 'anthropic', apiKey: 'k', headers: {} },
    openai: { type: 'openai', apiKey: 'k', headers: {} },
    local: { type: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', headers: {} },
  },
  prices: {
    'anthropic/claude-haiku-4-5': { input: 1, output: 5 },
    'openai/gpt-5-mini': { input: 0.25, output: 2 },
  },
  routes: {
    default: ['anthropic/claude-haiku-4-5', 'local/llama3.2'],
    cheap: { strategy: 'cheapest', targets: ['anthropic/claude-haiku-4-5', 'openai/gpt-5-mini'] },
  },
  targets: { 'local/llama3.2': { contextWindow: 8192, aliases: ['llama'] } },
};

const make = (config: RouterModelsConfig = CONFIG) => createRouter(config, { log: silentLogger, now: () => 5_000 });
const ASK = {
  messages: [{ role: 'user' as const, content: { type: 'text' as const, text: 'x'.repeat(4000) } }],
  maxTokens: 1000,
};

describe('createRouter', () => {
  it('lists routes with their targets, prices and context windows', () => {
    expect(make().routes()).toEqual([
      {
        name: 'default',
        strategy: 'fallback',
        isDefault: true,
        targets: [
          {
            target: 'anthropic/claude-haiku-4-5',
            provider: 'anthropic',
            model: 'claude-haiku-4-5',
            type: 'anthropic',
            price: { input: 1, output: 5 },
            contextWindow: 200_000,
            aliases: [],
          },
          {
            target: 'local/llama3.2',
            provider: 'local',
            model: 'llama3.2',
            type: 'openai',
            price: null,
            contextWindow: 8192,
            aliases: ['llama'],
          },
        ],
      },
      {
        name: 'cheap',
        strategy: 'cheapest',
        isDefault: false,
        targets: [
          expect.objectContaining({ target: 'anthropic/claude-haiku-4-5' }),
          expect.objectContaining({ target: 'openai/gpt-5-mini', contextWindow: 400_000 }),
        ],
      },
    ]);
  });

  it('reports health for every target before any call', () => {
    expect(make().health()).toEqual(
      ['anthropic/claude-haiku-4-5', 'local/llama3.2', 'openai/gpt-5-mini'].map((target) => ({
        target,
        state: 'closed',
        consecutiveFailures: 0,
        errorRate: null,
        openedAt: null,
        retryAt: null,
        latencyMs: null,
        ttftMs: null,
        calls: 0,
        failures: 0,
        lastError: null,
        lastErrorAt: null,
      })),
    );
  });

  it('estimates the most a call could cost, for a budget reservation', () => {
    const estimate = make().estimateCostUsd({ ...ASK, route: 'cheap' });
    // 4000 characters ≈ 1000 tokens + 4 per message; 1000 output tokens at most.
    expect(estimate).toEqual({
      route: 'cheap',
      inputTokens: 1004,
      outputTokens: 1000,
      costUsd: (1004 * 1 + 1000 * 5) / 1e6,
      unpriced: false,
      targets: [
        { target: 'anthropic/claude-haiku-4-5', costUsd: (1004 * 1 + 1000 * 5) / 1e6 },
        { target: 'openai/gpt-5-mini', costUsd: (1004 * 0.25 + 1000 * 2) / 1e6 },
      ],
    });
  });

  it('flags a route with an unpriced target in the estimate', () => {
    const estimate = make().estimateCostUsd(ASK);
    expect(estimate).toMatchObject({ route: 'default', unpriced: true });
    expect(estimate.costUsd).toBeCloseTo(0.006004, 12);
    expect(estimate.targets[1]).toEqual({ target: 'local/llama3.2', costUsd: null });
  });

  it('prices usage after the fact, and says when it cannot', () => {
    const r = make();
    expect(r.costOf('openai/gpt-5-mini', { inputTokens: 1_000_000, outputTokens: 1_000_000 })).toEqual({
      costUsd: 2.25,
      unpriced: false,
    });
    expect(r.costOf('local/llama3.2', { inputTokens: 5, outputTokens: 5 })).toEqual({ costUsd: null, unpriced: true });
  });

  it('resolves the default route and refuses unknown ones', () => {
    const r = make();
    expect(r.resolveRoute()).toBe('default');
    expect(r.resolveRoute('cheap')).toBe('cheap');
    expect(() => r.resolveRoute('nope')).toThrow(/unknown route "nope" \(configured: "default", "cheap"\)/);
    expect(() => r.resolveRoute('nope')).toThrow(expect.objectContaining({ code: 'invalid_params' }) as Error);
  });

  it('uses the first route as the default when none is called "default"', () => {
    const { default: _dropped, ...routes } = CONFIG.routes;
    expect(make({ ...CONFIG, routes }).resolveRoute()).toBe('cheap');
  });

  it('refuses invalid params before any provider is called', async () => {
    await expect(make().sample({ messages: [], maxTokens: 10 })).rejects.toMatchObject({
      code: 'invalid_params',
      message: expect.stringMatching(/messages/) as string,
    });
    await expect(make().sample({ ...ASK, maxTokens: 0 })).rejects.toMatchObject({ code: 'invalid_params' });
    await expect(make().sample({ ...ASK, route: 'nope' })).rejects.toMatchObject({ code: 'invalid_params' });
  });

  it('fails closed on config that names an unknown provider or mismatched weights', () => {
    expect(() => make({ ...CONFIG, routes: { r: ['nobody/model'] } })).toThrow(
      /models\.routes\.r\.targets\[0\]: unknown provider "nobody"/,
    );
    expect(() =>
      make({ ...CONFIG, routes: { r: { strategy: 'weighted', targets: ['openai/a', 'openai/b'], weights: [1] } } }),
    ).toThrow(/models\.routes\.r\.weights: expected 2 weights/);
    expect(() => make({ ...CONFIG, targets: { 'openai/a': { contextWindow: -1 } } })).toThrow(
      /models\.targets\.openai\/a\.contextWindow/,
    );
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeProviders, type FakeProviders } from '../fixtures/fake-providers/index.js';
import { ASK, models, router } from './helpers.js';

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFakeProviders();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const PRICES = {
  'an/claude-opus-4-1': { input: 15, output: 75 },
  'oa/gpt-5-mini': { input: 0.25, output: 2 },
  'ge/gemini-2.5-flash': { input: 0.3, output: 2.5 },
};

describe('strategies on the wire', () => {
  it('cheapest: the lowest price-table cost answers first', async () => {
    const config = models(
      fake,
      {
        cheap: {
          strategy: 'cheapest',
          targets: ['oa/local-llama', 'an/claude-opus-4-1', 'ge/gemini-2.5-flash', 'oa/gpt-5-mini'],
        },
      },
      { prices: PRICES },
    );
    const outcome = await router(config).sample({ ...ASK, route: 'cheap' });
    expect(outcome.target).toBe('oa/gpt-5-mini');
    expect(outcome.strategy).toBe('cheapest');
    expect(outcome.order.map((o) => o.target)).toEqual([
      'oa/gpt-5-mini',
      'ge/gemini-2.5-flash',
      'an/claude-opus-4-1',
      'oa/local-llama', // unpriced: unknown, so last
    ]);
    expect(fake.requests.map((r) => r.model)).toEqual(['gpt-5-mini']);
  });

  it('cheapest: fails over to the next cheapest', async () => {
    fake.script('gpt-5-mini', { status: 503 });
    const config = models(
      fake,
      { cheap: { strategy: 'cheapest', targets: ['an/claude-opus-4-1', 'ge/gemini-2.5-flash', 'oa/gpt-5-mini'] } },
      { prices: PRICES },
    );
    expect((await router(config).sample({ ...ASK, route: 'cheap' })).target).toBe('ge/gemini-2.5-flash');
  });

  it('least-latency: after a warm-up, the faster target goes first', async () => {
    fake.always('gpt-slow', { delayMs: 120 });
    const config = models(fake, { fast: { strategy: 'least-latency', targets: ['oa/gpt-slow', 'ge/gemini-quick'] } });
    const r = router(config);
    // Warm-up: unmeasured targets are tried first, so each gets measured once.
    expect((await r.sample({ ...ASK, route: 'fast' })).target).toBe('oa/gpt-slow');
    expect((await r.sample({ ...ASK, route: 'fast' })).target).toBe('ge/gemini-quick');
    const outcome = await r.sample({ ...ASK, route: 'fast' });
    expect(outcome.target).toBe('ge/gemini-quick');
    expect(outcome.order.map((o) => o.target)).toEqual(['ge/gemini-quick', 'oa/gpt-slow']);
    expect(outcome.order[1]!.score).toBeGreaterThanOrEqual(100);
    const health = Object.fromEntries(r.health().map((h) => [h.target, h.latencyMs]));
    expect(health['oa/gpt-slow']).toBeGreaterThan(health['ge/gemini-quick']!);
  });

  it('least-latency on streams: time to first token decides', async () => {
    fake.always('claude-slow-start', { delayMs: 120 });
    const config = models(fake, {
      fast: { strategy: 'least-latency', targets: ['an/claude-slow-start', 'oa/gpt-quick'] },
    });
    const r = router(config);
    await r.sample({ ...ASK, route: 'fast' }, { stream: true });
    await r.sample({ ...ASK, route: 'fast' }, { stream: true });
    const outcome = await r.sample({ ...ASK, route: 'fast' }, { stream: true });
    expect(outcome.target).toBe('oa/gpt-quick');
    expect(r.health().find((h) => h.target === 'an/claude-slow-start')!.ttftMs).toBeGreaterThanOrEqual(100);
  });

  const prefsConfig = () =>
    models(
      fake,
      { smart: { strategy: 'preferences', targets: ['oa/gpt-5-mini', 'ge/gemini-2.5-flash', 'an/claude-opus-4-1'] } },
      { prices: PRICES, targets: { 'an/claude-opus-4-1': { aliases: ['claude', 'best'] } } },
    );

  it('preferences: a model hint picks the matching target', async () => {
    const outcome = await router(prefsConfig()).sample({
      ...ASK,
      route: 'smart',
      modelPreferences: { hints: [{ name: 'claude' }] },
    });
    expect(outcome.target).toBe('an/claude-opus-4-1');
    expect(outcome.order[0]).toMatchObject({ target: 'an/claude-opus-4-1', hint: 'claude' });
    expect(fake.requests.map((r) => r.model)).toEqual(['claude-opus-4-1']);
  });

  it('preferences: priorities score the targets (cost → cheapest, intelligence → the smartest)', async () => {
    const r = router(prefsConfig());
    const cheap = await r.sample({ ...ASK, route: 'smart', modelPreferences: { costPriority: 1 } });
    expect(cheap.target).toBe('oa/gpt-5-mini');
    const smart = await r.sample({
      ...ASK,
      route: 'smart',
      modelPreferences: { intelligencePriority: 1, costPriority: 0.1 },
    });
    expect(smart.target).toBe('an/claude-opus-4-1');
    expect(smart.order.map((o) => o.score)).toEqual([...smart.order.map((o) => o.score)].sort((a, b) => b! - a!));
  });

  it('weighted: the injected draw picks by weight, the rest stay as failover', async () => {
    const config = models(fake, {
      split: { strategy: 'weighted', targets: ['oa/gpt-a', 'an/claude-b'], weights: [1, 3] },
    });
    expect((await router(config, { random: () => 0.1 }).sample({ ...ASK, route: 'split' })).target).toBe('oa/gpt-a');
    const outcome = await router(config, { random: () => 0.5 }).sample({ ...ASK, route: 'split' });
    expect(outcome.target).toBe('an/claude-b');
    expect(outcome.order.map((o) => o.target)).toEqual(['an/claude-b', 'oa/gpt-a']);
  });
});

import { describe, expect, it } from 'vitest';
import { HealthRegistry } from '../health.js';
import type { SampleParams } from '../params.js';
import { RouterSettingsSchema } from '../settings.js';
import type { Route, Target } from '../targets.js';
import { STRATEGIES } from './index.js';
import type { StrategyInput } from './strategy.js';

function target(id: string, extra: Partial<Target> = {}): Target {
  const [provider, model] = id.split('/') as [string, string];
  return {
    id,
    provider,
    model,
    providerConfig: { type: 'openai', headers: {} },
    price: undefined,
    contextWindow: undefined,
    aliases: [],
    intelligence: undefined,
    speed: undefined,
    ...extra,
  };
}

const PARAMS: SampleParams = { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 1000 };

function input(targets: Target[], overrides: Partial<StrategyInput> = {}): StrategyInput {
  const route: Route = { name: 'r', strategy: 'fallback', targets, weights: targets.map(() => 1) };
  return {
    route,
    params: PARAMS,
    stream: false,
    health: new HealthRegistry(RouterSettingsSchema.parse({}), () => 0),
    random: () => 0,
    inputTokens: 500,
    ...overrides,
  };
}

const ids = (ranked: { target: Target }[]) => ranked.map((r) => r.target.id);

describe('fallback', () => {
  it('keeps the route order', () => {
    expect(ids(STRATEGIES.fallback(input([target('a/x'), target('b/y'), target('c/z')])))).toEqual([
      'a/x',
      'b/y',
      'c/z',
    ]);
  });
});

describe('cheapest', () => {
  it('orders by price table × estimated tokens, unpriced last', () => {
    const targets = [
      target('a/unpriced'),
      target('b/dear', { price: { input: 15, output: 75 } }),
      target('c/cheap', { price: { input: 0.25, output: 1.25 } }),
      // Cheap input but dear output: with 500 input and 1000 output tokens it loses to c.
      target('d/out-heavy', { price: { input: 0.1, output: 2 } }),
    ];
    const ranked = STRATEGIES.cheapest(input(targets));
    expect(ids(ranked)).toEqual(['c/cheap', 'd/out-heavy', 'b/dear', 'a/unpriced']);
    expect(ranked[0]!.score).toBeCloseTo((500 * 0.25 + 1000 * 1.25) / 1e6, 12);
    expect(ranked[3]!.score).toBeUndefined();
  });
});

describe('weighted', () => {
  const targets = [target('a/x'), target('b/y'), target('c/z')];
  const weightedInput = (random: number, weights: number[]) => {
    const base = input(targets, { random: () => random });
    return { ...base, route: { ...base.route, weights } };
  };

  it('picks the first target in proportion to its weight', () => {
    expect(ids(STRATEGIES.weighted(weightedInput(0.1, [1, 3, 0])))[0]).toBe('a/x');
    expect(ids(STRATEGIES.weighted(weightedInput(0.3, [1, 3, 0])))[0]).toBe('b/y');
    expect(ids(STRATEGIES.weighted(weightedInput(0.99, [1, 3, 0])))[0]).toBe('b/y');
  });

  it('keeps every target for failover, zero weights last', () => {
    expect(ids(STRATEGIES.weighted(weightedInput(0.3, [1, 3, 0])))).toEqual(['b/y', 'a/x', 'c/z']);
  });

  it('splits picks by weight over many draws', () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const counts = { 'a/x': 0, 'b/y': 0, 'c/z': 0 } as Record<string, number>;
    for (let i = 0; i < 4000; i++) {
      const base = input(targets, { random });
      const first = STRATEGIES.weighted({ ...base, route: { ...base.route, weights: [1, 3, 0] } })[0]!;
      counts[first.target.id]! += 1;
    }
    expect(counts['c/z']).toBe(0);
    expect(counts['b/y']! / 4000).toBeGreaterThan(0.7);
    expect(counts['b/y']! / 4000).toBeLessThan(0.8);
  });
});

describe('least-latency', () => {
  it('orders by the moving average, unmeasured targets first so they get measured', () => {
    const base = input([target('a/slow'), target('b/fast'), target('c/new')]);
    base.health.succeeded('a/slow', 900, undefined);
    base.health.succeeded('b/fast', 100, undefined);
    expect(ids(STRATEGIES['least-latency'](base))).toEqual(['c/new', 'b/fast', 'a/slow']);
  });

  it('uses time to first token for streamed calls', () => {
    const base = input([target('a/x'), target('b/y')], { stream: true });
    base.health.succeeded('a/x', 2000, 50); // long answers, quick first token
    base.health.succeeded('b/y', 500, 400);
    expect(ids(STRATEGIES['least-latency'](base))).toEqual(['a/x', 'b/y']);
    expect(ids(STRATEGIES['least-latency']({ ...base, stream: false }))).toEqual(['b/y', 'a/x']);
  });
});

describe('preferences', () => {
  const targets = [
    target('an/claude-haiku-4-5', {
      price: { input: 1, output: 5 },
      intelligence: 0.6,
      speed: 0.9,
      aliases: ['claude'],
    }),
    target('an/claude-opus-4-1', {
      price: { input: 15, output: 75 },
      intelligence: 0.95,
      speed: 0.3,
      aliases: ['claude'],
    }),
    target('oa/gpt-5', { price: { input: 1.25, output: 10 }, intelligence: 0.9, speed: 0.4 }),
  ];
  const withPrefs = (modelPreferences: SampleParams['modelPreferences']) =>
    input(targets, { params: { ...PARAMS, modelPreferences } });

  it('puts hint matches first, earlier hints before later ones', () => {
    const ranked = STRATEGIES.preferences(withPrefs({ hints: [{ name: 'gpt' }, { name: 'opus' }] }));
    expect(ids(ranked)).toEqual(['oa/gpt-5', 'an/claude-opus-4-1', 'an/claude-haiku-4-5']);
    expect(ranked.map((r) => r.hint)).toEqual(['gpt', 'opus', undefined]);
  });

  it('matches hints against aliases, case-insensitively', () => {
    expect(ids(STRATEGIES.preferences(withPrefs({ hints: [{ name: 'CLAUDE' }] })))[0]).toBe('an/claude-haiku-4-5');
  });

  it('scores by cost, speed and intelligence priorities', () => {
    expect(ids(STRATEGIES.preferences(withPrefs({ costPriority: 1 })))).toEqual([
      'an/claude-haiku-4-5',
      'oa/gpt-5',
      'an/claude-opus-4-1',
    ]);
    expect(ids(STRATEGIES.preferences(withPrefs({ intelligencePriority: 1 })))[0]).toBe('an/claude-opus-4-1');
    expect(ids(STRATEGIES.preferences(withPrefs({ speedPriority: 1 })))[0]).toBe('an/claude-haiku-4-5');
    // Smart but not ruinous: gpt-5 scores 0.5·0.93 (cost) + 0.5·0.9 (intelligence) = 0.92, haiku 0.8, opus 0.48.
    expect(ids(STRATEGIES.preferences(withPrefs({ costPriority: 0.5, intelligencePriority: 0.5 })))[0]).toBe(
      'oa/gpt-5',
    );
  });

  it('within the hinted group, priorities still order', () => {
    const ranked = STRATEGIES.preferences(withPrefs({ hints: [{ name: 'claude' }], intelligencePriority: 1 }));
    expect(ids(ranked)).toEqual(['an/claude-opus-4-1', 'an/claude-haiku-4-5', 'oa/gpt-5']);
  });

  it('keeps the route order without hints or priorities', () => {
    expect(ids(STRATEGIES.preferences(withPrefs(undefined)))).toEqual(targets.map((t) => t.id));
  });

  it('prefers observed latency over tiers once every target is measured', () => {
    const base = withPrefs({ speedPriority: 1 });
    base.health.succeeded('an/claude-haiku-4-5', 800, undefined);
    base.health.succeeded('an/claude-opus-4-1', 100, undefined);
    base.health.succeeded('oa/gpt-5', 400, undefined);
    expect(ids(STRATEGIES.preferences(base))[0]).toBe('an/claude-opus-4-1');
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeProviders, type FakeProviders } from '../fixtures/fake-providers/index.js';
import { ASK, models, router } from './helpers.js';

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFakeProviders();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const CASES = [
  { provider: 'oa', model: 'gpt-test' },
  { provider: 'an', model: 'claude-test' },
  { provider: 'ge', model: 'gemini-test' },
] as const;

describe.each(CASES)('$provider ($model)', ({ provider, model }) => {
  const target = `${provider}/${model}`;
  const config = () =>
    models(fake, { default: [target] }, { prices: { [target]: { input: 3, output: 15, cachedInput: 0.3 } } });

  it('answers a plain request, with usage and cost', async () => {
    fake.script(model, { text: 'Hi there!', usage: { input: 1200, output: 300 } });
    const outcome = await router(config()).sample(ASK);
    expect(outcome.result).toEqual({
      role: 'assistant',
      content: { type: 'text', text: 'Hi there!' },
      model,
      stopReason: 'endTurn',
    });
    expect(outcome).toMatchObject({ target, provider, model, route: 'default', unpriced: false });
    expect(outcome.usage).toEqual({ inputTokens: 1200, outputTokens: 300 });
    // 1200 × $3/M + 300 × $15/M
    expect(outcome.costUsd).toBeCloseTo(0.0081, 12);
    expect(outcome.attempts).toEqual([
      {
        target,
        provider,
        model,
        status: 'ok',
        latencyMs: expect.any(Number) as number,
        startedAt: expect.any(Number) as number,
      },
    ]);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.stream).toBe(false);
  });

  it('streams an answer token by token, with usage and cost', async () => {
    fake.script(model, { chunks: ['Hel', 'lo, ', 'world'], usage: { input: 50, output: 3 } });
    const tokens: string[] = [];
    const outcome = await router(config()).sample(ASK, { onToken: (t) => tokens.push(t) });
    expect(tokens).toEqual(['Hel', 'lo, ', 'world']);
    expect(outcome.result.content.text).toBe('Hello, world');
    expect(outcome.result.stopReason).toBe('endTurn');
    expect(outcome.usage).toEqual({ inputTokens: 50, outputTokens: 3 });
    expect(outcome.costUsd).toBeCloseTo((50 * 3 + 3 * 15) / 1e6, 12);
    expect(outcome.attempts[0]).toMatchObject({ status: 'ok', ttftMs: expect.any(Number) as number });
    expect(fake.requests[0]!.stream).toBe(true);
  });

  it('charges cached input at the cached price', async () => {
    fake.script(model, { usage: { input: 1000, output: 0, cached: 800 } });
    const outcome = await router(config()).sample(ASK);
    expect(outcome.usage).toEqual({ inputTokens: 1000, outputTokens: 0, cachedInputTokens: 800 });
    expect(outcome.costUsd).toBeCloseTo((200 * 3 + 800 * 0.3) / 1e6, 12);
  });

  it('maps a max-tokens finish', async () => {
    fake.script(model, { finish: 'length' }, { finish: 'length' });
    const r = router(config());
    expect((await r.sample(ASK)).result.stopReason).toBe('maxTokens');
    expect((await r.sample(ASK, { stream: true })).result.stopReason).toBe('maxTokens');
  });

  it('flags an unpriced model instead of calling it free', async () => {
    const outcome = await router(models(fake, { default: [target] })).sample(ASK);
    expect(outcome.costUsd).toBeNull();
    expect(outcome.unpriced).toBe(true);
    expect(outcome.usage.inputTokens).toBe(11);
  });

  it('estimates usage, and says so, when the provider reports none', async () => {
    fake.script(model, { text: 'x'.repeat(40), noUsage: true });
    const outcome = await router(config()).sample(ASK, { stream: true });
    expect(outcome.usage).toMatchObject({ outputTokens: 10, estimated: true });
    expect(outcome.costUsd).not.toBeNull();
  });
});

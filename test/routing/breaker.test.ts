import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeProviders, type FakeProviders } from '../fixtures/fake-providers/index.js';
import { ASK, manualClock, models, rejection, router } from './helpers.js';

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFakeProviders();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const SETTINGS = { maxAttemptsPerTarget: 1, breaker: { failureThreshold: 2, coolDownMs: 10_000 } };

describe('circuit breaker', () => {
  it('opens after repeated failures (the broken target is no longer called), probes after the cool-down, closes on success', async () => {
    const clock = manualClock();
    fake.always('gpt-broken', { status: 503 });
    const r = router(models(fake, { default: ['oa/gpt-broken', 'an/claude-ok'] }), { ...clock, settings: SETTINGS });

    await r.sample(ASK);
    await r.sample(ASK);
    expect(fake.requestsFor('gpt-broken')).toHaveLength(2);
    expect(r.health().find((h) => h.target === 'oa/gpt-broken')).toMatchObject({
      state: 'open',
      consecutiveFailures: 2,
      lastError: expect.stringMatching(/503/) as string,
    });

    // Open: passed over without a request.
    const third = await r.sample(ASK);
    expect(third.target).toBe('an/claude-ok');
    expect(third.attempts[0]).toMatchObject({ target: 'oa/gpt-broken', status: 'skipped', error: 'circuit open' });
    expect(fake.requestsFor('gpt-broken')).toHaveLength(2);

    // After the cool-down one probe goes through; it succeeds and closes the circuit.
    clock.advance(10_000);
    fake.always('gpt-broken', { text: 'back' });
    expect(r.health().find((h) => h.target === 'oa/gpt-broken')?.state).toBe('half-open');
    const probe = await r.sample(ASK);
    expect(probe.result.content.text).toBe('back');
    expect(r.health().find((h) => h.target === 'oa/gpt-broken')).toMatchObject({
      state: 'closed',
      consecutiveFailures: 0,
    });
    expect(fake.requestsFor('gpt-broken')).toHaveLength(3);
  });

  it('a failed probe opens it again for another cool-down', async () => {
    const clock = manualClock();
    fake.always('gpt-broken', { status: 500 });
    const r = router(models(fake, { default: ['oa/gpt-broken', 'an/claude-ok'] }), { ...clock, settings: SETTINGS });
    await r.sample(ASK);
    await r.sample(ASK);
    clock.advance(10_000);
    await r.sample(ASK); // the probe, which fails
    expect(fake.requestsFor('gpt-broken')).toHaveLength(3);
    clock.advance(5_000);
    await r.sample(ASK);
    expect(fake.requestsFor('gpt-broken')).toHaveLength(3);
    expect(r.health().find((h) => h.target === 'oa/gpt-broken')?.state).toBe('open');
  });

  it('opens on the error rate even without consecutive failures', async () => {
    const clock = manualClock();
    const settings = { maxAttemptsPerTarget: 1, breaker: { failureThreshold: 100, errorRate: 0.5, minCalls: 4 } };
    fake.script('gpt-flaky', { status: 503 }, {}, { status: 503 }, { status: 503 });
    const r = router(models(fake, { default: ['oa/gpt-flaky', 'an/claude-ok'] }), { ...clock, settings });
    for (let i = 0; i < 4; i++) await r.sample(ASK);
    expect(r.health().find((h) => h.target === 'oa/gpt-flaky')).toMatchObject({ state: 'open', errorRate: 0.75 });
    await r.sample(ASK);
    expect(fake.requestsFor('gpt-flaky')).toHaveLength(4);
  });

  it('when every circuit is open, calls the target that failed longest ago instead of failing outright', async () => {
    const clock = manualClock();
    fake.always('gpt-a', { status: 503 });
    fake.always('claude-b', { status: 503 });
    const settings = { maxAttemptsPerTarget: 1, breaker: { failureThreshold: 1, coolDownMs: 60_000 } };
    const r = router(models(fake, { default: ['oa/gpt-a', 'an/claude-b'] }), { ...clock, settings });
    await rejection(r.sample(ASK)); // a fails, then b fails a moment later
    expect(r.health().map((h) => h.state)).toEqual(['open', 'open']);

    clock.advance(1_000);
    fake.always('gpt-a', { text: 'a is back' });
    const outcome = await r.sample(ASK);
    expect(outcome.result.content.text).toBe('a is back');
    expect(r.health().find((h) => h.target === 'oa/gpt-a')?.state).toBe('closed');
  });

  it('a malformed request does not count against the target', async () => {
    const clock = manualClock();
    fake.always('gpt-a', { status: 400 });
    const settings = { maxAttemptsPerTarget: 1, breaker: { failureThreshold: 1 } };
    const r = router(models(fake, { default: ['oa/gpt-a'] }), { ...clock, settings });
    await rejection(r.sample(ASK));
    await rejection(r.sample(ASK));
    expect(r.health()[0]).toMatchObject({ state: 'closed', failures: 0, calls: 2 });
    expect(fake.requests).toHaveLength(2);
  });
});

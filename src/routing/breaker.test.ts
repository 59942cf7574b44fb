import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './breaker.js';
import { BreakerSettingsSchema } from './settings.js';

function setup(overrides: Partial<Record<string, number>> = {}) {
  let now = 1_000;
  const settings = BreakerSettingsSchema.parse({
    failureThreshold: 3,
    coolDownMs: 10_000,
    windowMs: 60_000,
    minCalls: 4,
    ...overrides,
  });
  const breaker = new CircuitBreaker(settings, () => now);
  return { breaker, advance: (ms: number) => (now += ms) };
}

describe('CircuitBreaker', () => {
  it('opens after consecutive failures and refuses calls', () => {
    const { breaker } = setup();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe('closed');
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
  });

  it('a success resets the consecutive count', () => {
    const { breaker } = setup({ minCalls: 100 });
    breaker.failure();
    breaker.failure();
    breaker.success();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe('closed');
  });

  it('opens on the error rate over the window once enough calls were made', () => {
    const { breaker } = setup({ failureThreshold: 100, errorRate: 0.5 });
    breaker.failure();
    breaker.success();
    breaker.failure();
    expect(breaker.state).toBe('closed'); // 3 calls < minCalls
    breaker.failure();
    expect(breaker.state).toBe('open'); // 3 of 4 failed
  });

  it('forgets outcomes older than the window', () => {
    const { breaker, advance } = setup({ failureThreshold: 100, errorRate: 0.5 });
    breaker.failure();
    breaker.failure();
    breaker.failure();
    advance(61_000);
    breaker.success();
    breaker.success();
    breaker.success();
    breaker.failure();
    expect(breaker.errorRate).toBe(0.25);
    expect(breaker.state).toBe('closed');
  });

  it('keeps the error rate over the last 1,000 outcomes as old ones drop out', () => {
    const { breaker, advance } = setup({ failureThreshold: 1_000_000, minCalls: 1_000_000 });
    for (let i = 0; i < 1_000; i++) breaker.success();
    for (let i = 0; i < 500; i++) breaker.failure();
    expect(breaker.errorRate).toBe(0.5); // the 500 oldest successes fell out
    for (let i = 0; i < 500; i++) breaker.success();
    expect(breaker.errorRate).toBe(0.5);
    for (let i = 0; i < 500; i++) breaker.success();
    expect(breaker.errorRate).toBe(0);
    breaker.failure();
    advance(61_000);
    breaker.failure();
    expect(breaker.errorRate).toBe(1); // the window dropped the rest
  });

  it('lets one probe through after the cool-down; success closes it', () => {
    const { breaker, advance } = setup();
    for (let i = 0; i < 3; i++) breaker.failure();
    advance(9_999);
    expect(breaker.state).toBe('open');
    advance(1);
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false); // only one probe at a time
    breaker.success();
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('a failed probe opens it for another cool-down', () => {
    const { breaker, advance } = setup();
    for (let i = 0; i < 3; i++) breaker.failure();
    advance(10_000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.failure();
    expect(breaker.state).toBe('open');
    advance(9_000);
    expect(breaker.state).toBe('open');
    advance(1_000);
    expect(breaker.state).toBe('half-open');
  });

  it('a neutral outcome frees the probe without closing', () => {
    const { breaker, advance } = setup();
    for (let i = 0; i < 3; i++) breaker.failure();
    advance(10_000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.release();
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
  });
});

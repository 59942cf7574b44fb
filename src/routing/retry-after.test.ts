import { describe, expect, it } from 'vitest';
import { parseDuration, parseRetryAfter, retryAfterMs } from './retry-after.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');

describe('retryAfterMs', () => {
  it('reads seconds', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': '3' }), NOW)).toBe(3000);
    expect(retryAfterMs(new Headers({ 'retry-after': '0.5' }), NOW)).toBe(500);
  });

  it('reads an HTTP date relative to now, and never goes negative', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 12:00:07 GMT' }), NOW)).toBe(7000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 11:59:00 GMT' }), NOW)).toBe(0);
  });

  it('prefers retry-after-ms', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }), NOW)).toBe(250);
  });

  it('is undefined when absent or unreadable', () => {
    expect(retryAfterMs(new Headers(), NOW)).toBeUndefined();
    expect(parseRetryAfter('soon-ish', NOW)).toBeUndefined();
    expect(parseRetryAfter('-5', NOW)).toBeUndefined();
  });
});

describe('parseDuration', () => {
  it('reads protobuf durations', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('0.25s')).toBe(250);
    expect(parseDuration('30')).toBeUndefined();
    expect(parseDuration(30)).toBeUndefined();
  });
});

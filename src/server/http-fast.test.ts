import { describe, expect, it } from 'vitest';
import { nestsDeeperThan } from './http-fast.js';

describe('nestsDeeperThan', () => {
  const nested = (depth: number) => '['.repeat(depth) + '1' + ']'.repeat(depth);

  it('finds nesting over the limit, of arrays and objects alike', () => {
    expect(nestsDeeperThan(nested(11), 10)).toBe(true);
    expect(nestsDeeperThan(nested(10), 10)).toBe(false);
    expect(nestsDeeperThan('{"a":'.repeat(11) + '1' + '}'.repeat(11), 10)).toBe(true);
  });

  it('counts what closes: siblings do not add up', () => {
    expect(nestsDeeperThan(`[${Array.from({ length: 20 }, () => nested(5)).join(',')}]`, 10)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ s: '['.repeat(50), t: '\\"[[[[[[[[[[[[[[[[[[[[[[[[', u: '"{{{{{{{{{{{{{{{{{{{{{{{' });
    expect(nestsDeeperThan(text, 3)).toBe(false);
    expect(nestsDeeperThan(JSON.stringify({ s: 'x\\' }) + nested(5), 3)).toBe(true);
  });

  it('skips a long string whole, however its quotes and backslashes run', () => {
    // The object and its four arrays nest 5 deep; the brackets in the string do not count.
    const text = JSON.stringify({ s: 'x'.repeat(5000) + '\\"\\\\"[[[[[[' + '\\'.repeat(7), t: [[[[1]]]] });
    expect(nestsDeeperThan(text, 5)).toBe(false);
    expect(nestsDeeperThan(text, 4)).toBe(true);
  });

  it('at the limit: one level more is over it', () => {
    expect(nestsDeeperThan(nested(5), 5)).toBe(false);
    expect(nestsDeeperThan(nested(6), 5)).toBe(true);
  });
});

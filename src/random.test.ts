import { describe, expect, it } from 'vitest';
import { randomId } from './random.js';

describe('randomId', () => {
  it('gives ids of the asked length and encoding, never the same one twice', () => {
    const seen = new Set<string>();
    // Several refills of the pool (4096 bytes), with sizes that do not divide it.
    for (let i = 0; i < 2000; i++) {
      const hex = randomId(8, 'hex');
      const b64 = randomId(16, 'base64url');
      expect(hex).toMatch(/^[0-9a-f]{16}$/);
      expect(b64).toMatch(/^[A-Za-z0-9_-]{22}$/);
      seen.add(hex).add(b64);
    }
    expect(seen.size).toBe(4000);
  });

  it('spreads its bytes: every byte value turns up', () => {
    const bytes = new Set<string>();
    for (let i = 0; i < 400; i++) for (const pair of randomId(32, 'hex').match(/../g)!) bytes.add(pair);
    expect(bytes.size).toBe(256);
  });

  it('refuses more than the pool holds', () => {
    expect(() => randomId(5000, 'hex')).toThrow(RangeError);
  });
});

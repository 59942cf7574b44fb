import { describe, expect, it } from 'vitest';
import { knownModel } from './known-models.js';

describe('knownModel', () => {
  it('finds a family by the longest prefix', () => {
    expect(knownModel('gpt-4o-mini')?.contextWindow).toBe(128_000);
    expect(knownModel('gpt-4o-mini')?.intelligence).toBe(0.45);
    expect(knownModel('gpt-4o')?.intelligence).toBe(0.6);
    expect(knownModel('claude-sonnet-4-5-20250929')?.contextWindow).toBe(200_000);
    expect(knownModel('gemini-2.5-flash-lite')?.speed).toBe(0.95);
  });

  it('does not match a different model that shares letters', () => {
    expect(knownModel('gpt-50')).toBeUndefined();
    expect(knownModel('o3x')).toBeUndefined();
    expect(knownModel('llama3.2')).toBeUndefined();
  });
});

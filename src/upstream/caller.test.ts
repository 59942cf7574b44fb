import { describe, expect, it } from 'vitest';
import { pickCaller, type Caller } from './caller.js';

function caller(sessionKey: string, agent = 'agent'): Caller {
  return { sessionKey, agent, ask: () => Promise.resolve({}) };
}

describe('pickCaller', () => {
  it('falls back to the owner when no call is in flight', () => {
    const owner = caller('s1');
    expect(pickCaller([], owner)).toEqual({ caller: owner });
  });

  it("reports 'none' when no call is in flight and there is no owner", () => {
    expect(pickCaller([], undefined)).toEqual({ error: 'none' });
    expect(pickCaller(new Set<Caller>(), undefined)).toEqual({ error: 'none' });
  });

  it('picks the only call in flight', () => {
    const only = caller('s1');
    expect(pickCaller([only], undefined)).toEqual({ caller: only });
  });

  it('picks the newest call when every call in flight comes from one session', () => {
    const older = caller('s1', 'first');
    const newer = caller('s1', 'second');
    const result = pickCaller(new Set([older, newer]), undefined);
    expect(result).toEqual({ caller: newer });
    if ('caller' in result) expect(result.caller).toBe(newer);
  });

  it("reports 'ambiguous' when calls from two sessions are in flight", () => {
    expect(pickCaller([caller('s1'), caller('s2')], undefined)).toEqual({ error: 'ambiguous' });
    expect(pickCaller([caller('s1'), caller('s1'), caller('s2')], caller('s1'))).toEqual({ error: 'ambiguous' });
  });
});

import { describe, expect, it } from 'vitest';
import { countsAgainstTarget, decide } from './decide.js';
import { ProviderError, kindForStatus, looksLikeContextLength } from './provider-error.js';

const error = (status: number) => new ProviderError(kindForStatus(status), `status ${status}`, { status });

describe('decide', () => {
  it('retries and fails over on 408, 409, 429 and 5xx', () => {
    for (const status of [408, 409, 429, 500, 502, 503, 504, 529])
      expect(decide(error(status)), String(status)).toBe('retry');
  });

  it('fails over without retrying on auth, billing and model-not-found', () => {
    for (const status of [401, 402, 403, 404]) expect(decide(error(status)), String(status)).toBe('next');
  });

  it('never fails over on a malformed request', () => {
    for (const status of [400, 413, 422]) expect(decide(error(status)), String(status)).toBe('stop');
  });

  it('fails over on context length only to a larger window', () => {
    expect(decide(new ProviderError('context_length', 'too long'))).toBe('larger-context');
  });

  it('retries network errors, timeouts, cuts before output and garbled answers', () => {
    for (const kind of ['network', 'stream_cut', 'bad_response'] as const)
      expect(decide(new ProviderError(kind, kind))).toBe('retry');
    expect(decide(new ProviderError('timeout', 't', { phase: 'first_token' }))).toBe('retry');
  });

  it('stops once output is committed, when the deadline is spent, and when the caller cancels', () => {
    const cut = new ProviderError('stream_cut', 'cut');
    cut.committed = true;
    expect(decide(cut)).toBe('stop');
    expect(decide(new ProviderError('timeout', 't', { phase: 'deadline' }))).toBe('stop');
    expect(decide(new ProviderError('cancelled', 'c'))).toBe('stop');
  });

  it('only failures that are the target’s fault count against its breaker', () => {
    expect(countsAgainstTarget(error(503))).toBe(true);
    expect(countsAgainstTarget(error(401))).toBe(true);
    expect(countsAgainstTarget(error(400))).toBe(false);
    expect(countsAgainstTarget(new ProviderError('context_length', 'x'))).toBe(false);
    expect(countsAgainstTarget(new ProviderError('cancelled', 'x'))).toBe(false);
  });
});

describe('looksLikeContextLength', () => {
  it('recognises each provider’s wording', () => {
    expect(looksLikeContextLength("This model's maximum context length is 8192 tokens.")).toBe(true);
    expect(looksLikeContextLength('x', 'context_length_exceeded')).toBe(true);
    expect(looksLikeContextLength('prompt is too long: 210000 tokens > 200000 maximum')).toBe(true);
    expect(looksLikeContextLength('input length and `max_tokens` exceed context limit: 199000 + 8192 > 200000')).toBe(
      true,
    );
    expect(
      looksLikeContextLength('The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).'),
    ).toBe(true);
    expect(looksLikeContextLength("Invalid value for 'temperature'")).toBe(false);
  });
});

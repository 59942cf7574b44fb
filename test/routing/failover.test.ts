import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RouterError } from '../../src/routing/index.js';
import { startFakeProviders, type FakeProviders } from '../fixtures/fake-providers/index.js';
import { ASK, manualClock, models, rejection, router } from './helpers.js';

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFakeProviders();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

/** Short real timeouts: the fake genuinely hangs, and the router's own timer must end it. */
const QUICK = { connectTimeoutMs: 150, firstTokenTimeoutMs: 150, idleTimeoutMs: 150, attemptTimeoutMs: 400 };

describe('failover', () => {
  it('503 on the first target → the second answers', async () => {
    fake.script('claude-a', { status: 503 });
    fake.script('gpt-b', { text: 'from b' });
    const outcome = await router(models(fake, { default: ['an/claude-a', 'oa/gpt-b'] })).sample(ASK);
    expect(outcome.result.content.text).toBe('from b');
    expect(outcome.target).toBe('oa/gpt-b');
    expect(outcome.attempts.map((a) => [a.target, a.status, a.kind, a.httpStatus])).toEqual([
      ['an/claude-a', 'error', 'server', 503],
      ['oa/gpt-b', 'ok', undefined, undefined],
    ]);
    // Failing over cost one request to each target, and no waiting.
    expect(fake.requests.map((r) => r.model)).toEqual(['claude-a', 'gpt-b']);
  });

  it('429 with Retry-After (seconds): waits that long within the deadline, then retries the same target', async () => {
    const clock = manualClock();
    fake.script('gpt-a', { status: 429, retryAfter: '2' }, { text: 'after the wait' });
    const r = router(models(fake, { default: ['oa/gpt-a'] }), clock);
    const outcome = await r.sample(ASK);
    expect(outcome.result.content.text).toBe('after the wait');
    expect(clock.sleeps).toEqual([2000]);
    expect(outcome.attempts.map((a) => [a.status, a.httpStatus, a.retryAfterMs])).toEqual([
      ['error', 429, 2000],
      ['ok', undefined, undefined],
    ]);
  });

  it('429 with Retry-After as an HTTP date is honoured too', async () => {
    const clock = manualClock(Date.now());
    const at = new Date(Math.ceil((Date.now() + 3_000) / 1000) * 1000).toUTCString();
    fake.script('gemini-a', { status: 429, retryAfter: at }, {});
    const outcome = await router(models(fake, { default: ['ge/gemini-a'] }), clock).sample(ASK);
    expect(outcome.attempts.map((a) => a.status)).toEqual(['error', 'ok']);
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeGreaterThan(1_000);
    expect(clock.sleeps[0]).toBeLessThanOrEqual(4_000);
  });

  it('429 whose Retry-After is beyond the deadline: no wait, a clear error', async () => {
    const clock = manualClock();
    fake.script('gpt-a', { status: 429, retryAfter: '600' });
    const r = router(models(fake, { default: ['oa/gpt-a'] }), { ...clock, settings: { deadlineMs: 60_000 } });
    const error = await rejection(r.sample(ASK));
    expect(error).toBeInstanceOf(RouterError);
    expect(error).toMatchObject({ code: 'upstream_unavailable', retryable: true });
    expect(clock.sleeps).toEqual([]);
    expect(fake.requests).toHaveLength(1);
  });

  it('429 on the first target fails over at once instead of waiting', async () => {
    const clock = manualClock();
    fake.script('gpt-a', { status: 429, retryAfter: '5' });
    const outcome = await router(models(fake, { default: ['oa/gpt-a', 'an/claude-b'] }), clock).sample(ASK);
    expect(outcome.target).toBe('an/claude-b');
    expect(clock.sleeps).toEqual([]);
  });

  it('remembers Retry-After across calls: the target is passed over until then', async () => {
    const clock = manualClock();
    fake.script('gpt-a', { status: 429, retryAfter: '30' });
    const r = router(models(fake, { default: ['oa/gpt-a', 'an/claude-b'] }), clock);
    await r.sample(ASK);
    const second = await r.sample(ASK);
    expect(second.target).toBe('an/claude-b');
    expect(second.attempts.map((a) => a.target)).toEqual(['an/claude-b']);
    expect(fake.requestsFor('gpt-a')).toHaveLength(1);
    clock.advance(30_000);
    expect((await r.sample(ASK)).target).toBe('oa/gpt-a');
  });

  it('a hang after the headers → first-token timeout → the next target', async () => {
    fake.script('claude-a', { hang: 'after-headers' });
    fake.script('gemini-b', { chunks: ['fine'] });
    const tokens: string[] = [];
    const r = router(models(fake, { default: ['an/claude-a', 'ge/gemini-b'] }), { settings: QUICK });
    const outcome = await r.sample(ASK, { onToken: (t) => tokens.push(t) });
    expect(outcome.target).toBe('ge/gemini-b');
    expect(tokens).toEqual(['fine']);
    expect(outcome.attempts[0]).toMatchObject({ status: 'timeout', kind: 'timeout', phase: 'first_token' });
    expect(outcome.attempts[0]!.latencyMs).toBeGreaterThanOrEqual(100);
  });

  it('no response headers → connect timeout → the next target', async () => {
    fake.script('gpt-a', { hang: 'before-headers' });
    const r = router(models(fake, { default: ['oa/gpt-a', 'an/claude-b'] }), { settings: QUICK });
    const outcome = await r.sample(ASK, { stream: true });
    expect(outcome.target).toBe('an/claude-b');
    expect(outcome.attempts[0]).toMatchObject({ status: 'timeout', phase: 'connect' });
  });

  it('a plain (non-streamed) call that hangs ends at the attempt timeout → the next target', async () => {
    fake.script('gpt-a', { hang: 'before-headers' });
    const r = router(models(fake, { default: ['oa/gpt-a', 'an/claude-b'] }), { settings: QUICK });
    const outcome = await r.sample(ASK);
    expect(outcome.target).toBe('an/claude-b');
    expect(outcome.attempts[0]).toMatchObject({ status: 'timeout', phase: 'attempt' });
  });

  it('a stream cut before the first token → the next target, and nothing of it reaches the caller', async () => {
    fake.script('gpt-a', { cut: 'before-first-token' });
    fake.script('claude-b', { chunks: ['from ', 'b'] });
    const tokens: string[] = [];
    const r = router(models(fake, { default: ['oa/gpt-a', 'an/claude-b'] }));
    const outcome = await r.sample(ASK, { onToken: (t) => tokens.push(t) });
    expect(outcome.result.content.text).toBe('from b');
    expect(tokens).toEqual(['from ', 'b']);
    expect(outcome.attempts[0]).toMatchObject({ status: 'error', kind: 'stream_cut' });
  });

  it('a stream cut after output → an explicit error carrying the partial text, no failover', async () => {
    fake.script('claude-a', { chunks: ['The answer ', 'is ', '42'], cut: 'after-first-token' });
    const tokens: string[] = [];
    const r = router(models(fake, { default: ['an/claude-a', 'oa/gpt-b'] }));
    const error = await rejection(r.sample(ASK, { onToken: (t) => tokens.push(t) }));
    expect(error).toBeInstanceOf(RouterError);
    const routerError = error as RouterError;
    expect(routerError.code).toBe('upstream_error');
    expect(routerError.message).toMatch(/incomplete/);
    expect(routerError.data).toMatchObject({ partialText: 'The answer ', kind: 'stream_cut' });
    expect(tokens).toEqual(['The answer ']);
    expect(fake.requestsFor('gpt-b')).toHaveLength(0);
  });

  it('a stream gone silent after output → idle timeout → an explicit error', async () => {
    fake.script('gemini-a', { chunks: ['partial', ' rest'], hang: 'after-first-token' });
    const r = router(models(fake, { default: ['ge/gemini-a', 'oa/gpt-b'] }), { settings: QUICK });
    const error = await rejection(r.sample(ASK, { stream: true }));
    expect(error).toMatchObject({ code: 'upstream_error', data: { partialText: 'partial' } });
    expect((error as RouterError).attempts[0]).toMatchObject({ status: 'timeout', phase: 'idle' });
    expect(fake.requestsFor('gpt-b')).toHaveLength(0);
  });

  it('400 → no failover, invalid_params with the provider’s message', async () => {
    fake.script('gpt-a', { status: 400, error: { message: "Invalid value for 'temperature'" } });
    const r = router(models(fake, { default: ['oa/gpt-a', 'an/claude-b'] }));
    const error = await rejection(r.sample(ASK));
    expect(error).toMatchObject({ code: 'invalid_params', retryable: false });
    expect((error as RouterError).message).toMatch(/Invalid value for 'temperature'/);
    expect((error as RouterError).attempts).toHaveLength(1);
    expect(fake.requestsFor('claude-b')).toHaveLength(0);
  });

  it('422 → no failover', async () => {
    // vLLM and other FastAPI-based servers answer a validation error with 422.
    fake.script('gpt-a', { status: 422 });
    const error = await rejection(router(models(fake, { default: ['oa/gpt-a', 'an/claude-b'] })).sample(ASK));
    expect(error).toMatchObject({ code: 'invalid_params' });
    expect(fake.requestsFor('claude-b')).toHaveLength(0);
  });

  it('an error event inside a 200 stream is that error: overloaded → the next target', async () => {
    fake.script('claude-a', { streamError: { afterChunks: 0, type: 'overloaded_error', message: 'Overloaded' } });
    const r = router(models(fake, { default: ['an/claude-a', 'oa/gpt-b'] }));
    const outcome = await r.sample(ASK, { stream: true });
    expect(outcome.target).toBe('oa/gpt-b');
    expect(outcome.attempts[0]).toMatchObject({ status: 'error', kind: 'overloaded' });
    expect(outcome.attempts[0]!.error).toMatch(/overloaded_error: Overloaded/);
  });

  it('an error event inside a 200 stream is that error: invalid request → no failover', async () => {
    fake.script('claude-a', { streamError: { afterChunks: 0, type: 'invalid_request_error', message: 'bad image' } });
    const r = router(models(fake, { default: ['an/claude-a', 'oa/gpt-b'] }));
    const error = await rejection(r.sample(ASK, { stream: true }));
    expect(error).toMatchObject({ code: 'invalid_params' });
    expect(fake.requestsFor('gpt-b')).toHaveLength(0);
  });

  it('an error event inside an OpenAI or Gemini stream fails over too', async () => {
    fake.script('gpt-a', { streamError: { afterChunks: 0, message: 'The server had an error' } });
    fake.script('gemini-b', { streamError: { afterChunks: 0, code: 503 } });
    const r = router(models(fake, { default: ['oa/gpt-a', 'ge/gemini-b', 'an/claude-c'] }));
    const outcome = await r.sample(ASK, { stream: true });
    expect(outcome.target).toBe('an/claude-c');
    expect(outcome.attempts.map((a) => a.kind)).toEqual(['server', 'overloaded', undefined]);
  });

  it('an error event after output is an explicit error, not a silent truncation', async () => {
    fake.script('claude-a', { chunks: ['one ', 'two'], streamError: { afterChunks: 1, type: 'overloaded_error' } });
    const r = router(models(fake, { default: ['an/claude-a', 'oa/gpt-b'] }));
    const error = await rejection(r.sample(ASK, { stream: true }));
    expect(error).toMatchObject({ code: 'upstream_error', data: { partialText: 'one ', kind: 'overloaded' } });
    expect(fake.requestsFor('gpt-b')).toHaveLength(0);
  });

  it('auth and unknown-model errors fail over without retrying the same target', async () => {
    const clock = manualClock();
    fake.always('gpt-a', { status: 401 });
    fake.always('claude-b', { status: 404 });
    fake.script('gemini-c', { status: 503 }, { text: 'third time' });
    const r = router(models(fake, { default: ['oa/gpt-a', 'an/claude-b', 'ge/gemini-c'] }), clock);
    const outcome = await r.sample(ASK);
    expect(outcome.result.content.text).toBe('third time');
    expect(outcome.attempts.map((a) => [a.target, a.kind])).toEqual([
      ['oa/gpt-a', 'auth'],
      ['an/claude-b', 'model_not_found'],
      ['ge/gemini-c', 'overloaded'],
      ['ge/gemini-c', undefined],
    ]);
    expect(fake.requestsFor('gpt-a')).toHaveLength(1);
    expect(fake.requestsFor('claude-b')).toHaveLength(1);
  });

  it('OpenAI insufficient_quota (a 429) is billing: fail over, no retry', async () => {
    const clock = manualClock();
    fake.always('gpt-a', { status: 429, error: { type: 'insufficient_quota', code: 'insufficient_quota' } });
    const outcome = await router(models(fake, { default: ['oa/gpt-a', 'an/claude-b'] }), clock).sample(ASK);
    expect(outcome.attempts[0]).toMatchObject({ kind: 'billing' });
    expect(fake.requestsFor('gpt-a')).toHaveLength(1);
  });

  it('Gemini API_KEY_INVALID (a 400) is auth: fail over', async () => {
    fake.script('gemini-a', { status: 400, error: { message: 'API key not valid.', code: 'API_KEY_INVALID' } });
    const outcome = await router(models(fake, { default: ['ge/gemini-a', 'an/claude-b'] })).sample(ASK);
    expect(outcome.attempts[0]).toMatchObject({ kind: 'auth' });
    expect(outcome.target).toBe('an/claude-b');
  });

  it('a context-length error fails over only to a target with a larger window', async () => {
    fake.script('gpt-small', {
      status: 400,
      error: { code: 'context_length_exceeded', message: "This model's maximum context length is 8192 tokens." },
    });
    const config = models(
      fake,
      { default: ['oa/gpt-small', 'an/claude-same', 'ge/gemini-unknown', 'an/claude-big'] },
      {
        targets: {
          'oa/gpt-small': { contextWindow: 8192 },
          'an/claude-same': { contextWindow: 8192 },
          'an/claude-big': { contextWindow: 200_000 },
        },
      },
    );
    const outcome = await router(config).sample(ASK);
    expect(outcome.target).toBe('an/claude-big');
    expect(outcome.attempts.map((a) => [a.target, a.status])).toEqual([
      ['oa/gpt-small', 'error'],
      ['an/claude-same', 'skipped'],
      ['ge/gemini-unknown', 'skipped'],
      ['an/claude-big', 'ok'],
    ]);
    expect(fake.requestsFor('claude-same')).toHaveLength(0);
  });

  it('a context-length error with no larger target is invalid_params', async () => {
    fake.script('claude-a', { status: 400, error: { message: 'prompt is too long: 210000 tokens > 200000 maximum' } });
    const config = models(
      fake,
      { default: ['an/claude-a', 'oa/gpt-b'] },
      { targets: { 'an/claude-a': { contextWindow: 200_000 }, 'oa/gpt-b': { contextWindow: 128_000 } } },
    );
    const error = await rejection(router(config).sample(ASK));
    expect(error).toMatchObject({ code: 'invalid_params', kind: 'context_length' });
    expect(fake.requestsFor('gpt-b')).toHaveLength(0);
  });

  it('one deadline for the whole chain: hung targets cannot multiply it', async () => {
    fake.always('gpt-a', { hang: 'before-headers' });
    fake.always('claude-b', { hang: 'before-headers' });
    const r = router(models(fake, { default: ['oa/gpt-a', 'an/claude-b'] }), {
      settings: { ...QUICK, attemptTimeoutMs: 10_000, deadlineMs: 300 },
    });
    const started = Date.now();
    const error = await rejection(r.sample(ASK));
    expect(error).toMatchObject({ code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((error as RouterError).attempts.at(-1)).toMatchObject({ status: 'timeout', phase: 'deadline' });
  });

  it('every target down (5xx) → upstream_unavailable with every attempt', async () => {
    const clock = manualClock();
    fake.always('gpt-a', { status: 500 });
    fake.always('claude-b', { status: 529 });
    const r = router(models(fake, { default: ['oa/gpt-a', 'an/claude-b'] }), clock);
    const error = (await rejection(r.sample(ASK))) as RouterError;
    expect(error.code).toBe('upstream_unavailable');
    // Each target tried twice (maxAttemptsPerTarget), a backoff between rounds.
    expect(error.attempts.map((a) => a.target)).toEqual(['oa/gpt-a', 'an/claude-b', 'oa/gpt-a', 'an/claude-b']);
    expect(clock.sleeps.length).toBeGreaterThan(0);
    expect(error.data).toMatchObject({ route: 'default', attempts: error.attempts });
  });

  it('a network error (nothing listening) fails over', async () => {
    const config = models(fake, { default: ['dead/gpt-a', 'an/claude-b'] });
    config.providers.dead = { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', headers: {} };
    const outcome = await router(config).sample(ASK);
    expect(outcome.target).toBe('an/claude-b');
    expect(outcome.attempts[0]).toMatchObject({ status: 'error', kind: 'network' });
  });

  it('the caller cancelling ends the call as cancelled, without failover', async () => {
    fake.script('gpt-a', { hang: 'after-headers' });
    const controller = new AbortController();
    const r = router(models(fake, { default: ['oa/gpt-a', 'an/claude-b'] }));
    const pending = r.sample(ASK, { stream: true, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const error = await rejection(pending);
    expect(error).toMatchObject({ code: 'cancelled' });
    expect(fake.requestsFor('claude-b')).toHaveLength(0);
  });
});

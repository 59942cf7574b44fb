import { describe, expect, it } from 'vitest';
import type { SampleParams } from '../params.js';
import { ProviderError } from '../provider-error.js';
import type { Target } from '../targets.js';
import { ADAPTERS } from './index.js';

const PARAMS: SampleParams = { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 9 };

function target(type: 'openai' | 'anthropic' | 'gemini', baseUrl?: string): Target {
  return {
    id: `p/${type}-model`,
    provider: 'p',
    model: `${type}-model`,
    providerConfig: { type, headers: {}, ...(baseUrl ? { baseUrl } : {}) },
    price: undefined,
    contextWindow: undefined,
    aliases: [],
    intelligence: undefined,
    speed: undefined,
  };
}

function thrown(fn: () => unknown): ProviderError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error('expected a ProviderError');
}

describe('openai adapter', () => {
  it('sends max_completion_tokens to OpenAI itself and max_tokens to compatible servers', () => {
    const official = JSON.parse(ADAPTERS.openai.request(target('openai'), PARAMS, false).body) as Record<
      string,
      unknown
    >;
    expect(official).toMatchObject({ max_completion_tokens: 9 });
    expect(official).not.toHaveProperty('max_tokens');
    const request = ADAPTERS.openai.request(target('openai', 'http://127.0.0.1:11434/v1/'), PARAMS, false);
    expect(request.url).toBe('http://127.0.0.1:11434/v1/chat/completions');
    expect(JSON.parse(request.body)).toMatchObject({ max_tokens: 9 });
  });

  it('treats an error object in a 200 body or a stream chunk as that error', () => {
    expect(thrown(() => ADAPTERS.openai.parse({ error: { message: 'boom', code: 500 } })).kind).toBe('server');
    const decoder = ADAPTERS.openai.stream();
    const error = thrown(() =>
      decoder.event({
        data: JSON.stringify({ error: { message: 'Rate limit', code: 'rate_limit_exceeded', type: 'requests' } }),
      }),
    );
    expect(error.message).toMatch(/Rate limit/);
  });

  it('reads a non-JSON error page by its status', () => {
    const error = ADAPTERS.openai.error(502, '<html>Bad Gateway</html>', new Headers(), 0);
    expect(error).toMatchObject({ kind: 'server', status: 502 });
    expect(error.message).toMatch(/Bad Gateway/);
  });

  it('answers a garbled success body with bad_response (retryable)', () => {
    expect(thrown(() => ADAPTERS.openai.parse({ choices: [] })).kind).toBe('bad_response');
  });
});

describe('anthropic adapter', () => {
  it('counts cache reads and writes as input, with the reads as cached', () => {
    const decoder = ADAPTERS.anthropic.stream();
    decoder.event({
      event: 'message_start',
      data: JSON.stringify({
        type: 'message_start',
        message: {
          model: 'claude-x',
          usage: { input_tokens: 10, cache_read_input_tokens: 100, cache_creation_input_tokens: 5, output_tokens: 1 },
        },
      }),
    });
    expect(
      decoder.event({
        event: 'content_block_delta',
        data: JSON.stringify({ type: 'content_block_delta', delta: { type: 'text_delta', text: 'hey' } }),
      }),
    ).toBe('hey');
    decoder.event({
      event: 'message_delta',
      data: JSON.stringify({
        type: 'message_delta',
        delta: { stop_reason: 'stop_sequence' },
        usage: { output_tokens: 42 },
      }),
    });
    expect(decoder.complete).toBe(false);
    decoder.event({ event: 'message_stop', data: '{"type":"message_stop"}' });
    expect(decoder.complete).toBe(true);
    expect(decoder.finish()).toEqual({
      model: 'claude-x',
      stopReason: 'stopSequence',
      usage: { inputTokens: 115, outputTokens: 42, cachedInputTokens: 100 },
    });
  });

  it('ignores thinking deltas', () => {
    const decoder = ADAPTERS.anthropic.stream();
    const event = { type: 'content_block_delta', delta: { type: 'thinking_delta', thinking: 'hmm' } };
    expect(decoder.event({ event: 'content_block_delta', data: JSON.stringify(event) })).toBe('');
  });

  it('maps a 529 and error types', () => {
    const body = JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    expect(ADAPTERS.anthropic.error(529, body, new Headers({ 'retry-after': '4' }), 0)).toMatchObject({
      kind: 'overloaded',
      retryAfterMs: 4000,
    });
    const billing = JSON.stringify({
      type: 'error',
      error: { type: 'billing_error', message: 'credit balance too low' },
    });
    expect(ADAPTERS.anthropic.error(400, billing, new Headers(), 0).kind).toBe('billing');
  });
});

describe('gemini adapter', () => {
  it('reads RetryInfo.retryDelay from a RESOURCE_EXHAUSTED body', () => {
    const body = JSON.stringify({
      error: {
        code: 429,
        message: 'Quota exceeded',
        status: 'RESOURCE_EXHAUSTED',
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }],
      },
    });
    expect(ADAPTERS.gemini.error(429, body, new Headers(), 0)).toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 7000,
    });
  });

  it('leaves thought parts out of the answer and counts thinking as output', () => {
    const completion = ADAPTERS.gemini.parse({
      candidates: [
        { content: { parts: [{ text: 'thinking…', thought: true }, { text: 'answer' }] }, finishReason: 'STOP' },
      ],
      usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 3, thoughtsTokenCount: 20 },
    });
    expect(completion).toEqual({
      text: 'answer',
      model: undefined,
      stopReason: 'endTurn',
      usage: { inputTokens: 5, outputTokens: 23 },
    });
  });

  it('answers a blocked prompt as a content-filter stop, not an error', () => {
    const completion = ADAPTERS.gemini.parse({
      promptFeedback: { blockReason: 'SAFETY' },
      usageMetadata: { promptTokenCount: 4 },
    });
    expect(completion).toMatchObject({ text: '', stopReason: 'contentFilter' });
  });

  it('builds the model URL from baseUrl', () => {
    expect(ADAPTERS.gemini.request(target('gemini'), PARAMS, true).url).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-model:streamGenerateContent?alt=sse',
    );
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeProviders, type FakeProviders } from '../fixtures/fake-providers/index.js';
import { models, router } from './helpers.js';

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFakeProviders();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const PNG = 'iVBORw0KGgo=';
const PARAMS = {
  systemPrompt: 'Be brief.',
  maxTokens: 256,
  temperature: 0.7,
  stopSequences: ['END'],
  messages: [
    {
      role: 'user' as const,
      content: [
        { type: 'text' as const, text: 'What is in this picture?' },
        { type: 'image' as const, data: PNG, mimeType: 'image/png' },
      ],
    },
    { role: 'assistant' as const, content: { type: 'text' as const, text: 'A cat.' } },
    { role: 'user' as const, content: { type: 'text' as const, text: 'What colour?' } },
  ],
};

describe('request mapping', () => {
  it('openai: system message, image_url data URL, max_tokens, stop, stream usage', async () => {
    const r = router(models(fake, { default: ['oa/gpt-test'] }));
    await r.sample(PARAMS, { stream: true });
    const request = fake.requests[0]!;
    expect(request.path).toBe('/openai/v1/chat/completions');
    expect(request.headers.authorization).toBe('Bearer sk-test-openai');
    expect(request.body).toEqual({
      model: 'gpt-test',
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this picture?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
          ],
        },
        { role: 'assistant', content: 'A cat.' },
        { role: 'user', content: 'What colour?' },
      ],
      max_tokens: 256,
      temperature: 0.7,
      stop: ['END'],
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('anthropic: system field, base64 image source, stop_sequences, version header', async () => {
    const r = router(models(fake, { default: ['an/claude-test'] }));
    await r.sample(PARAMS);
    const request = fake.requests[0]!;
    expect(request.path).toBe('/anthropic/v1/messages');
    expect(request.headers['x-api-key']).toBe('sk-ant-test');
    expect(request.headers['anthropic-version']).toBe('2023-06-01');
    expect(request.body).toEqual({
      model: 'claude-test',
      max_tokens: 256,
      system: 'Be brief.',
      temperature: 0.7,
      stop_sequences: ['END'],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this picture?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
          ],
        },
        { role: 'assistant', content: [{ type: 'text', text: 'A cat.' }] },
        { role: 'user', content: [{ type: 'text', text: 'What colour?' }] },
      ],
    });
  });

  it('anthropic: merges consecutive messages of one role and clamps temperature to 1', async () => {
    const r = router(models(fake, { default: ['an/claude-test'] }));
    await r.sample({
      maxTokens: 10,
      temperature: 1.5,
      messages: [
        { role: 'user', content: { type: 'text', text: 'one' } },
        { role: 'user', content: { type: 'text', text: 'two' } },
      ],
    });
    expect(fake.requests[0]!.body).toMatchObject({
      temperature: 1,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'one' },
            { type: 'text', text: 'two' },
          ],
        },
      ],
    });
  });

  it('gemini: contents with model role, inlineData, systemInstruction, generationConfig, SSE endpoint', async () => {
    const r = router(models(fake, { default: ['ge/gemini-test'] }));
    await r.sample(PARAMS, { stream: true });
    const request = fake.requests[0]!;
    expect(request.path).toBe('/gemini/v1beta/models/gemini-test:streamGenerateContent');
    expect(request.headers['x-goog-api-key']).toBe('AIza-test');
    expect(request.body).toEqual({
      contents: [
        {
          role: 'user',
          parts: [{ text: 'What is in this picture?' }, { inlineData: { mimeType: 'image/png', data: PNG } }],
        },
        { role: 'model', parts: [{ text: 'A cat.' }] },
        { role: 'user', parts: [{ text: 'What colour?' }] },
      ],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      generationConfig: { maxOutputTokens: 256, temperature: 0.7, stopSequences: ['END'] },
    });
  });

  it('sends configured provider headers', async () => {
    const config = models(fake, { default: ['oa/gpt-test'] });
    config.providers.oa!.headers = { 'x-team': 'research' };
    await router(config).sample(PARAMS);
    expect(fake.requests[0]!.headers['x-team']).toBe('research');
  });

  it('refuses content it cannot route before calling anyone', async () => {
    const r = router(models(fake, { default: ['oa/gpt-test'] }));
    const error = await r
      .sample({
        maxTokens: 5,
        messages: [{ role: 'user', content: { type: 'audio', data: 'AAAA', mimeType: 'audio/wav' } }],
      } as never)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_params' });
    expect(fake.requests).toHaveLength(0);
  });
});

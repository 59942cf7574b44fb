import { describe, expect, it } from 'vitest';
import { blocksOf, parseSampleParams } from './params.js';

describe('parseSampleParams', () => {
  it('takes an upstream sampling/createMessage request as the SDK sends it', () => {
    const params = parseSampleParams({
      messages: [
        { role: 'user', content: { type: 'text', text: 'hi' } },
        { role: 'user', content: [{ type: 'image', data: 'AAAA', mimeType: 'image/jpeg', _meta: {} }] },
      ],
      maxTokens: 50,
      includeContext: 'thisServer',
      metadata: { origin: 'everything' },
      modelPreferences: { hints: [{ name: 'claude' }], speedPriority: 0.8 },
      _meta: { progressToken: 1 },
    });
    expect(params.maxTokens).toBe(50);
    expect(params.modelPreferences?.hints?.[0]?.name).toBe('claude');
    expect(params.messages.map(blocksOf).map((blocks) => blocks.map((b) => b.type))).toEqual([['text'], ['image']]);
  });

  it('refuses content the router cannot send, naming the field', () => {
    const attempt = () =>
      parseSampleParams({
        messages: [{ role: 'user', content: { type: 'audio', data: 'AAAA', mimeType: 'audio/wav' } }],
        maxTokens: 5,
      });
    expect(attempt).toThrow(expect.objectContaining({ code: 'invalid_params' }) as Error);
    expect(attempt).toThrow(/messages\.0\.content: expected a text or image block.*audio and tool use are not routed/);
  });

  it('requires maxTokens and at least one message', () => {
    expect(() => parseSampleParams({ messages: [{ role: 'user', content: { type: 'text', text: 'x' } }] })).toThrow(
      /maxTokens/,
    );
    expect(() => parseSampleParams({ messages: [], maxTokens: 5 })).toThrow(/messages/);
    expect(() => parseSampleParams('nope')).toThrow(/invalid sample params/);
  });
});

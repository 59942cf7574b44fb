import { blocksOf, type SampleParams } from './params.js';

/**
 * Rough token counts before a call, for the cheapest strategy, budget reservations and
 * providers that report no usage: about four characters a token, and a flat allowance
 * per image (providers charge roughly 250–1,600 tokens for one).
 */
const CHARS_PER_TOKEN = 4;
const TOKENS_PER_IMAGE = 1_000;
const TOKENS_PER_MESSAGE = 4;

export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

export function estimateInputTokens(params: SampleParams): number {
  let tokens = params.systemPrompt ? estimateTextTokens(params.systemPrompt) : 0;
  for (const message of params.messages) {
    tokens += TOKENS_PER_MESSAGE;
    for (const block of blocksOf(message)) {
      tokens += block.type === 'text' ? estimateTextTokens(block.text) : TOKENS_PER_IMAGE;
    }
  }
  return tokens;
}

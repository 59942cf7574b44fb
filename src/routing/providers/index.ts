import type { ProviderAdapter } from './adapter.js';
import { anthropicAdapter } from './anthropic.js';
import { geminiAdapter } from './gemini.js';
import { openaiAdapter } from './openai.js';

export type { Completion, ProviderAdapter, ProviderRequest, StreamDecoder } from './adapter.js';

/** The wire format of each provider `type` in models.providers. */
export const ADAPTERS: Record<'openai' | 'anthropic' | 'gemini', ProviderAdapter> = {
  openai: openaiAdapter,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
};

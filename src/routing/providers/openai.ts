import { z } from 'zod';
import { blocksOf, type SamplingMessage, type SampleParams } from '../params.js';
import { ProviderError, kindForStatus, looksLikeContextLength, type ProviderErrorKind } from '../provider-error.js';
import { retryAfterMs } from '../retry-after.js';
import type { Target } from '../targets.js';
import type { Usage } from '../types.js';
import type { Completion, ProviderAdapter, StreamDecoder } from './adapter.js';
import { headersFor, joinUrl, parseJson, parseWith, snippet, tryJson } from './shared.js';

/**
 * OpenAI Chat Completions, and with `baseUrl` every server that speaks it (Ollama,
 * vLLM, llama.cpp, LM Studio, OpenRouter, Groq…). Streams ask for usage
 * (`stream_options.include_usage`). OpenAI's own API wants `max_completion_tokens`;
 * compatible servers are sent the older `max_tokens`, which they all accept.
 */
const DEFAULT_BASE = 'https://api.openai.com/v1';

const UsageSchema = z.looseObject({
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  prompt_tokens_details: z.looseObject({ cached_tokens: z.number().nullish() }).nullish(),
});
const ErrorSchema = z.looseObject({
  message: z.string().nullish(),
  type: z.string().nullish(),
  code: z.union([z.string(), z.number()]).nullish(),
});
const ResponseSchema = z.looseObject({
  model: z.string().nullish(),
  choices: z
    .array(
      z.looseObject({
        message: z.looseObject({ content: z.string().nullish(), refusal: z.string().nullish() }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: UsageSchema.nullish(),
});
const ChunkSchema = z.looseObject({
  model: z.string().nullish(),
  choices: z
    .array(
      z.looseObject({
        delta: z.looseObject({ content: z.string().nullish() }).nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: UsageSchema.nullish(),
  error: ErrorSchema.nullish(),
});

const STOP_REASONS: Record<string, string> = {
  stop: 'endTurn',
  length: 'maxTokens',
  content_filter: 'contentFilter',
  tool_calls: 'toolUse',
  function_call: 'toolUse',
};

export const openaiAdapter: ProviderAdapter = {
  request(target: Target, params: SampleParams, stream: boolean) {
    const config = target.providerConfig;
    const base = config.baseUrl ?? DEFAULT_BASE;
    const official = new URL(base).hostname === 'api.openai.com';
    const messages: unknown[] = params.systemPrompt ? [{ role: 'system', content: params.systemPrompt }] : [];
    for (const message of params.messages) messages.push(toMessage(message));
    const body: Record<string, unknown> = {
      model: target.model,
      messages,
      [official ? 'max_completion_tokens' : 'max_tokens']: params.maxTokens,
    };
    if (params.temperature !== undefined) body.temperature = params.temperature;
    if (params.stopSequences?.length) body.stop = params.stopSequences;
    if (stream) Object.assign(body, { stream: true, stream_options: { include_usage: true } });
    const auth: Record<string, string> = config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {};
    return {
      url: joinUrl(base, 'chat/completions'),
      headers: headersFor(auth, config.headers),
      body: JSON.stringify(body),
    };
  },

  parse(value: unknown): Completion {
    throwIfError(value, undefined);
    const body = parseWith(ResponseSchema, value, 'OpenAI response');
    const choice = body.choices[0]!;
    return {
      text: choice.message.content ?? choice.message.refusal ?? '',
      model: body.model ?? undefined,
      stopReason: stopReason(choice.finish_reason),
      usage: body.usage ? toUsage(body.usage) : undefined,
    };
  },

  stream(): StreamDecoder {
    let model: string | undefined;
    let finish: string | undefined;
    let usage: Usage | undefined;
    let done = false;
    return {
      event(message) {
        if (message.data.trim() === '[DONE]') {
          done = true;
          return '';
        }
        const value = parseJson(message.data, 'OpenAI stream event');
        throwIfError(value, undefined);
        if (message.event === 'error') throw openaiError(undefined, { message: message.data }, undefined);
        const chunk = parseWith(ChunkSchema, value, 'OpenAI stream event');
        model ??= chunk.model ?? undefined;
        if (chunk.usage) usage = toUsage(chunk.usage);
        let text = '';
        for (const choice of chunk.choices ?? []) {
          text += choice.delta?.content ?? '';
          if (choice.finish_reason) finish = choice.finish_reason;
        }
        return text;
      },
      get complete() {
        return finish !== undefined || done;
      },
      get ended() {
        return done;
      },
      finish: () => ({ model, stopReason: stopReason(finish), usage }),
    };
  },

  error(status, text, headers, nowMs) {
    const body = tryJson(text);
    const error = body && typeof body === 'object' && 'error' in body ? ErrorSchema.safeParse(body.error) : undefined;
    const detail = error?.success ? error.data : { message: snippet(text) };
    return openaiError(status, detail, retryAfterMs(headers, nowMs));
  },
};

function toMessage(message: SamplingMessage): { role: string; content: unknown } {
  const blocks = blocksOf(message);
  if (blocks.every((b) => b.type === 'text')) {
    return { role: message.role, content: blocks.map((b) => b.text).join('\n\n') };
  }
  if (message.role === 'assistant') {
    throw new ProviderError('invalid_request', 'OpenAI accepts images only in user messages');
  }
  const content = blocks.map((b) =>
    b.type === 'text'
      ? { type: 'text', text: b.text }
      : { type: 'image_url', image_url: { url: `data:${b.mimeType};base64,${b.data}` } },
  );
  return { role: 'user', content };
}

function toUsage(usage: z.output<typeof UsageSchema>): Usage {
  const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    inputTokens: usage.prompt_tokens,
    outputTokens: usage.completion_tokens,
    ...(cached > 0 ? { cachedInputTokens: cached } : {}),
  };
}

function stopReason(reason: string | null | undefined): string | undefined {
  if (!reason) return undefined;
  return STOP_REASONS[reason] ?? reason;
}

/** A 200 body or stream event that carries `{ error: … }` is that error. */
function throwIfError(value: unknown, status: number | undefined): void {
  if (!value || typeof value !== 'object' || !('error' in value) || !value.error) return;
  const error = ErrorSchema.safeParse(value.error);
  throw openaiError(status, error.success ? error.data : { message: JSON.stringify(value.error) }, undefined);
}

function openaiError(
  status: number | undefined,
  error: z.output<typeof ErrorSchema>,
  retryAfter: number | undefined,
): ProviderError {
  const code = typeof error.code === 'number' ? String(error.code) : (error.code ?? error.type ?? undefined);
  const message = error.message ?? 'error';
  let kind: ProviderErrorKind;
  if (code === 'insufficient_quota' || code === 'billing_hard_limit_reached') kind = 'billing';
  else if (code === 'rate_limit_exceeded') kind = 'rate_limited';
  else if (code === 'invalid_api_key') kind = 'auth';
  else if (code === 'model_not_found') kind = 'model_not_found';
  else if ((status === undefined || (status >= 400 && status < 500)) && looksLikeContextLength(message, code))
    kind = 'context_length';
  else if (status !== undefined) kind = kindForStatus(status);
  else kind = typeof error.code === 'number' ? kindForStatus(error.code) : 'server';
  const prefix = status === undefined ? 'OpenAI stream error' : `OpenAI ${status}`;
  return new ProviderError(kind, `${prefix}: ${message}`, { status, retryAfterMs: retryAfter, providerCode: code });
}

import { z } from 'zod';
import { blocksOf, type ContentBlock, type SampleParams } from '../params.js';
import { ProviderError, kindForStatus, looksLikeContextLength, type ProviderErrorKind } from '../provider-error.js';
import { retryAfterMs } from '../retry-after.js';
import type { Target } from '../targets.js';
import type { Usage } from '../types.js';
import type { Completion, ProviderAdapter, StreamDecoder } from './adapter.js';
import { headersFor, joinUrl, parseJson, parseWith, snippet, tryJson } from './shared.js';

/**
 * Anthropic Messages API (`baseUrl` without `/v1`, like Anthropic's own SDK). Streams
 * are message_start … content_block_delta … message_delta (stop reason, usage) …
 * message_stop; an `error` event inside the 200 stream is classified like an HTTP error.
 */
const DEFAULT_BASE = 'https://api.anthropic.com';
const VERSION = '2023-06-01';

const UsageSchema = z.looseObject({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
});
const ErrorSchema = z.looseObject({ type: z.string().nullish(), message: z.string().nullish() });
const ResponseSchema = z.looseObject({
  type: z.literal('message'),
  model: z.string().nullish(),
  content: z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
  stop_reason: z.string().nullish(),
  usage: UsageSchema,
});
const EventSchema = z.looseObject({
  type: z.string(),
  message: z.looseObject({ model: z.string().nullish(), usage: UsageSchema.nullish() }).nullish(),
  delta: z
    .looseObject({ type: z.string().nullish(), text: z.string().nullish(), stop_reason: z.string().nullish() })
    .nullish(),
  usage: UsageSchema.nullish(),
  error: ErrorSchema.nullish(),
});

const STOP_REASONS: Record<string, string> = {
  end_turn: 'endTurn',
  max_tokens: 'maxTokens',
  stop_sequence: 'stopSequence',
  tool_use: 'toolUse',
  refusal: 'refusal',
};

const ERROR_TYPES: Record<string, ProviderErrorKind> = {
  invalid_request_error: 'invalid_request',
  authentication_error: 'auth',
  permission_error: 'auth',
  billing_error: 'billing',
  not_found_error: 'model_not_found',
  request_too_large: 'invalid_request',
  rate_limit_error: 'rate_limited',
  api_error: 'server',
  overloaded_error: 'overloaded',
  timeout_error: 'timeout',
};

export const anthropicAdapter: ProviderAdapter = {
  request(target: Target, params: SampleParams, stream: boolean) {
    const config = target.providerConfig;
    const body: Record<string, unknown> = {
      model: target.model,
      max_tokens: params.maxTokens,
      messages: toMessages(params),
    };
    if (params.systemPrompt) body.system = params.systemPrompt;
    // Anthropic takes 0–1 where MCP allows more; clamp rather than fail the whole chain on a 400.
    if (params.temperature !== undefined) body.temperature = Math.min(1, params.temperature);
    if (params.stopSequences?.length) body.stop_sequences = params.stopSequences;
    if (stream) body.stream = true;
    const auth: Record<string, string> = { 'anthropic-version': VERSION };
    if (config.apiKey) auth['x-api-key'] = config.apiKey;
    const url = joinUrl(config.baseUrl ?? DEFAULT_BASE, 'v1/messages');
    return { url, headers: headersFor(auth, config.headers), body: JSON.stringify(body) };
  },

  parse(value: unknown): Completion {
    if (value && typeof value === 'object' && 'type' in value && value.type === 'error') {
      const error = ErrorSchema.safeParse('error' in value ? value.error : undefined);
      throw anthropicError(undefined, error.success ? error.data : {});
    }
    const body = parseWith(ResponseSchema, value, 'Anthropic response');
    return {
      text: body.content.map((block) => (block.type === 'text' ? (block.text ?? '') : '')).join(''),
      model: body.model ?? undefined,
      stopReason: stopReason(body.stop_reason),
      usage: reported(body.usage) ? toUsage(body.usage, undefined) : undefined,
    };
  },

  stream(): StreamDecoder {
    let model: string | undefined;
    let start: z.output<typeof UsageSchema> | undefined;
    let last: z.output<typeof UsageSchema> | undefined;
    let reason: string | undefined;
    let stopped = false;
    return {
      event(message) {
        const event = parseWith(
          EventSchema,
          parseJson(message.data, 'Anthropic stream event'),
          'Anthropic stream event',
        );
        const type = message.event ?? event.type;
        if (type === 'error' || event.type === 'error') throw anthropicError(undefined, event.error ?? {});
        if (type === 'message_start') {
          model = event.message?.model ?? undefined;
          start = event.message?.usage ?? undefined;
        } else if (type === 'message_delta') {
          reason = event.delta?.stop_reason ?? reason;
          if (event.usage) last = event.usage;
        } else if (type === 'message_stop') {
          stopped = true;
        } else if (type === 'content_block_delta' && event.delta?.type === 'text_delta') {
          return event.delta.text ?? '';
        }
        return '';
      },
      get complete() {
        return stopped;
      },
      get ended() {
        return stopped;
      },
      finish: () => ({
        model,
        stopReason: stopReason(reason),
        usage: reported(start) || reported(last) ? toUsage(start ?? {}, last) : undefined,
      }),
    };
  },

  error(status, text, headers, nowMs) {
    const body = tryJson(text);
    const parsed = body && typeof body === 'object' && 'error' in body ? ErrorSchema.safeParse(body.error) : undefined;
    const error = parsed?.success ? parsed.data : { message: snippet(text) };
    return anthropicError(status, error, retryAfterMs(headers, nowMs));
  },
};

/** Consecutive messages of one role are merged: the API wants them alternating. */
function toMessages(params: SampleParams): { role: string; content: unknown[] }[] {
  const out: { role: string; content: unknown[] }[] = [];
  for (const message of params.messages) {
    const content = blocksOf(message).map(toBlock);
    const previous = out[out.length - 1];
    if (previous && previous.role === message.role) previous.content.push(...content);
    else out.push({ role: message.role, content });
  }
  return out;
}

function toBlock(block: ContentBlock): unknown {
  if (block.type === 'text') return { type: 'text', text: block.text };
  return { type: 'image', source: { type: 'base64', media_type: block.mimeType, data: block.data } };
}

/** Input counts cache reads and writes too; message_delta's counts are cumulative and win over message_start's. */
function toUsage(start: z.output<typeof UsageSchema>, last: z.output<typeof UsageSchema> | undefined): Usage {
  type Key = 'input_tokens' | 'output_tokens' | 'cache_read_input_tokens' | 'cache_creation_input_tokens';
  const pick = (key: Key): number => last?.[key] ?? start[key] ?? 0;
  const cached = pick('cache_read_input_tokens');
  return {
    inputTokens: pick('input_tokens') + cached + pick('cache_creation_input_tokens'),
    outputTokens: pick('output_tokens'),
    ...(cached > 0 ? { cachedInputTokens: cached } : {}),
  };
}

function reported(usage: z.output<typeof UsageSchema> | undefined): boolean {
  return typeof usage?.input_tokens === 'number' || typeof usage?.output_tokens === 'number';
}

function stopReason(reason: string | null | undefined): string | undefined {
  if (!reason) return undefined;
  return STOP_REASONS[reason] ?? reason;
}

function anthropicError(
  status: number | undefined,
  error: z.output<typeof ErrorSchema>,
  retryAfter?: number,
): ProviderError {
  const type = error.type ?? undefined;
  const message = error.message ?? 'error';
  let kind: ProviderErrorKind =
    (type !== undefined ? ERROR_TYPES[type] : undefined) ?? (status !== undefined ? kindForStatus(status) : 'server');
  if (kind === 'invalid_request' && looksLikeContextLength(message)) kind = 'context_length';
  const prefix = status === undefined ? 'Anthropic stream error' : `Anthropic ${status}`;
  return new ProviderError(kind, `${prefix}: ${type ? `${type}: ` : ''}${message}`, {
    status,
    retryAfterMs: retryAfter,
    providerCode: type,
  });
}

import { z } from 'zod';
import { blocksOf, type ContentBlock, type SampleParams } from '../params.js';
import { ProviderError, kindForStatus, looksLikeContextLength, type ProviderErrorKind } from '../provider-error.js';
import { parseDuration, retryAfterMs } from '../retry-after.js';
import type { Target } from '../targets.js';
import type { Usage } from '../types.js';
import type { Completion, ProviderAdapter, StreamDecoder } from './adapter.js';
import { headersFor, joinUrl, parseJson, parseWith, snippet, tryJson } from './shared.js';

/**
 * Gemini API: `models/{model}:generateContent`, and `:streamGenerateContent?alt=sse`
 * whose events are whole GenerateContentResponse chunks (no end marker: the last one
 * carries the finish reason and usageMetadata). `baseUrl` includes the version (`/v1beta`).
 */
const DEFAULT_BASE = 'https://generativelanguage.googleapis.com/v1beta';

const UsageSchema = z.looseObject({
  promptTokenCount: z.number().nullish(),
  candidatesTokenCount: z.number().nullish(),
  thoughtsTokenCount: z.number().nullish(),
  cachedContentTokenCount: z.number().nullish(),
});
const ErrorSchema = z.looseObject({
  code: z.number().nullish(),
  message: z.string().nullish(),
  status: z.string().nullish(),
  details: z.array(z.looseObject({ '@type': z.string().nullish() })).nullish(),
});
const ResponseSchema = z.looseObject({
  candidates: z
    .array(
      z.looseObject({
        content: z
          .looseObject({
            parts: z.array(z.looseObject({ text: z.string().nullish(), thought: z.boolean().nullish() })).nullish(),
          })
          .nullish(),
        finishReason: z.string().nullish(),
      }),
    )
    .nullish(),
  promptFeedback: z.looseObject({ blockReason: z.string().nullish() }).nullish(),
  usageMetadata: UsageSchema.nullish(),
  modelVersion: z.string().nullish(),
  error: ErrorSchema.nullish(),
});
type Response = z.output<typeof ResponseSchema>;

const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']);

const STATUSES: Record<string, ProviderErrorKind> = {
  INVALID_ARGUMENT: 'invalid_request',
  FAILED_PRECONDITION: 'billing', // billing not enabled, region not supported: another provider may do
  UNAUTHENTICATED: 'auth',
  PERMISSION_DENIED: 'auth',
  NOT_FOUND: 'model_not_found',
  RESOURCE_EXHAUSTED: 'rate_limited',
  UNAVAILABLE: 'overloaded',
  INTERNAL: 'server',
  DEADLINE_EXCEEDED: 'timeout',
  ABORTED: 'conflict',
};

export const geminiAdapter: ProviderAdapter = {
  request(target: Target, params: SampleParams, stream: boolean) {
    const config = target.providerConfig;
    const generationConfig: Record<string, unknown> = { maxOutputTokens: params.maxTokens };
    if (params.temperature !== undefined) generationConfig.temperature = params.temperature;
    if (params.stopSequences?.length) generationConfig.stopSequences = params.stopSequences;
    const body: Record<string, unknown> = {
      contents: params.messages.map((m) => ({
        role: m.role === 'assistant' ? 'model' : 'user',
        parts: blocksOf(m).map(toPart),
      })),
      generationConfig,
    };
    if (params.systemPrompt) body.systemInstruction = { parts: [{ text: params.systemPrompt }] };
    const method = stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
    const url = joinUrl(config.baseUrl ?? DEFAULT_BASE, `models/${encodeURIComponent(target.model)}:${method}`);
    const auth: Record<string, string> = config.apiKey ? { 'x-goog-api-key': config.apiKey } : {};
    return { url, headers: headersFor(auth, config.headers), body: JSON.stringify(body) };
  },

  parse(value: unknown): Completion {
    const body = parseWith(ResponseSchema, value, 'Gemini response');
    if (body.error) throw geminiError(undefined, body.error, undefined);
    if (!body.candidates?.length && !body.promptFeedback?.blockReason) {
      throw new ProviderError('bad_response', 'Gemini response has no candidates');
    }
    return {
      text: textOf(body),
      model: body.modelVersion ?? undefined,
      stopReason: stopReason(body),
      usage: body.usageMetadata ? toUsage(body.usageMetadata) : undefined,
    };
  },

  stream(): StreamDecoder {
    let model: string | undefined;
    let usage: Usage | undefined;
    let reason: string | undefined;
    return {
      event(message) {
        const body = parseWith(ResponseSchema, parseJson(message.data, 'Gemini stream event'), 'Gemini stream event');
        if (body.error) throw geminiError(undefined, body.error, undefined);
        model ??= body.modelVersion ?? undefined;
        if (body.usageMetadata) usage = toUsage(body.usageMetadata);
        reason = stopReason(body) ?? reason;
        return textOf(body);
      },
      get complete() {
        return reason !== undefined;
      },
      // Gemini sends no end marker: read until the server closes the body.
      ended: false,
      finish: () => ({ model, stopReason: reason, usage }),
    };
  },

  error(status, text, headers, nowMs) {
    const body = tryJson(text);
    const parsed = body && typeof body === 'object' && 'error' in body ? ErrorSchema.safeParse(body.error) : undefined;
    const error = parsed?.success ? parsed.data : { message: snippet(text) };
    return geminiError(status, error, retryAfterMs(headers, nowMs));
  },
};

function toPart(block: ContentBlock): unknown {
  if (block.type === 'text') return { text: block.text };
  return { inlineData: { mimeType: block.mimeType, data: block.data } };
}

/** Text parts of the first candidate; thought summaries are not part of the answer. */
function textOf(body: Response): string {
  const parts = body.candidates?.[0]?.content?.parts ?? [];
  return parts.map((p) => (p.thought ? '' : (p.text ?? ''))).join('');
}

function stopReason(body: Response): string | undefined {
  if (body.promptFeedback?.blockReason && !body.candidates?.length) return 'contentFilter';
  const reason = body.candidates?.[0]?.finishReason;
  if (!reason || reason === 'FINISH_REASON_UNSPECIFIED') return undefined;
  if (reason === 'STOP') return 'endTurn';
  if (reason === 'MAX_TOKENS') return 'maxTokens';
  return FILTERED.has(reason) ? 'contentFilter' : reason;
}

/** Thinking tokens are billed as output; the prompt count includes cached content. */
function toUsage(usage: z.output<typeof UsageSchema>): Usage {
  const cached = usage.cachedContentTokenCount ?? 0;
  return {
    inputTokens: usage.promptTokenCount ?? 0,
    outputTokens: (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0),
    ...(cached > 0 ? { cachedInputTokens: cached } : {}),
  };
}

function geminiError(
  status: number | undefined,
  error: z.output<typeof ErrorSchema>,
  retryAfter: number | undefined,
): ProviderError {
  const code = error.status ?? undefined;
  const message = error.message ?? 'error';
  const reasons = JSON.stringify(error.details ?? []);
  let kind: ProviderErrorKind =
    (code !== undefined ? STATUSES[code] : undefined) ?? kindForStatus(status ?? error.code ?? 500);
  // Gemini answers a bad key with 400 INVALID_ARGUMENT, reason API_KEY_INVALID.
  if (/API_KEY_INVALID|API_KEY_EXPIRED/.test(reasons)) kind = 'auth';
  else if (kind === 'invalid_request' && looksLikeContextLength(message)) kind = 'context_length';
  const retryInfo = error.details?.find((d) => d['@type']?.endsWith('google.rpc.RetryInfo'));
  const delay = retryAfter ?? parseDuration(retryInfo?.['retryDelay']);
  const prefix = status === undefined ? 'Gemini stream error' : `Gemini ${status}`;
  return new ProviderError(kind, `${prefix}: ${code ? `${code}: ` : ''}${message}`, {
    status: status ?? error.code ?? undefined,
    retryAfterMs: delay,
    providerCode: code,
  });
}

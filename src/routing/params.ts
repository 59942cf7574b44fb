import { z } from 'zod';
import { RouterError } from './router-error.js';

/**
 * The arguments of `switchboard__sample` and of an upstream's `sampling/createMessage`,
 * as far as the router reads them: MCP sampling messages (text and image content, one
 * block or an array of blocks), `systemPrompt`, `maxTokens`, `temperature`,
 * `stopSequences`, `modelPreferences`, plus our own optional `route`. Objects are
 * loose so that an SDK's params (with `includeContext`, `metadata`, `_meta`…) parse
 * unchanged; content types the router cannot send (audio, tool use) are refused here,
 * before any provider is called.
 */
export const TextBlockSchema = z.looseObject({ type: z.literal('text'), text: z.string() });
export const ImageBlockSchema = z.looseObject({
  type: z.literal('image'),
  data: z.string().min(1).describe('Base64 image bytes.'),
  mimeType: z.string().regex(/^image\//, 'expected an image/* MIME type'),
});
const CONTENT_ERROR = 'expected a text or image block, or a list of them (audio and tool use are not routed)';

export const ContentBlockSchema = z.discriminatedUnion('type', [TextBlockSchema, ImageBlockSchema]);

export const SamplingMessageSchema = z.looseObject({
  role: z.enum(['user', 'assistant']),
  content: z.union([ContentBlockSchema, z.array(ContentBlockSchema).min(1)], { error: CONTENT_ERROR }),
});

export const ModelPreferencesSchema = z.looseObject({
  hints: z.array(z.looseObject({ name: z.string().optional() })).optional(),
  costPriority: z.number().min(0).max(1).optional(),
  speedPriority: z.number().min(0).max(1).optional(),
  intelligencePriority: z.number().min(0).max(1).optional(),
});

export const SampleParamsSchema = z.looseObject({
  messages: z.array(SamplingMessageSchema).min(1),
  systemPrompt: z.string().optional(),
  maxTokens: z.number().int().positive(),
  temperature: z.number().min(0).max(2).optional(),
  stopSequences: z.array(z.string().min(1)).optional(),
  modelPreferences: ModelPreferencesSchema.optional(),
  route: z.string().min(1).optional().describe('A route name from models.routes; the default route when left out.'),
});

export type TextBlock = z.output<typeof TextBlockSchema>;
export type ImageBlock = z.output<typeof ImageBlockSchema>;
export type ContentBlock = z.output<typeof ContentBlockSchema>;
export type SamplingMessage = z.output<typeof SamplingMessageSchema>;
export type ModelPreferences = z.output<typeof ModelPreferencesSchema>;
/** Parsed sample params (what `Router.sample` works with). */
export type SampleParams = z.output<typeof SampleParamsSchema>;
/** What a caller may pass to `Router.sample`; it is validated there. */
export type SampleParamsInput = z.input<typeof SampleParamsSchema>;

/** A message's content as a list, whichever form it was sent in. */
export function blocksOf(message: SamplingMessage): ContentBlock[] {
  return Array.isArray(message.content) ? message.content : [message.content];
}

/**
 * Marks params objects this module parsed (zod's output: fresh objects, never a caller's
 * own). A hidden property, not a WeakSet: a WeakSet entry per call is work for the GC.
 */
const PARSED = Symbol('parsed sample params');

/**
 * Validates sample params from anywhere (a tool call's arguments, an upstream's
 * `sampling/createMessage`): the parsed params, or a RouterError `invalid_params` that
 * names the field. Audio and tool-use content are refused here.
 */
export function parseSampleParams(value: unknown): SampleParams {
  // A call checked once (switchboard__sample checks its arguments before it picks the
  // route, then hands them to the router) is not parsed a second time.
  if (typeof value === 'object' && value !== null && PARSED in value) return value as unknown as SampleParams;
  const parsed = SampleParamsSchema.safeParse(value);
  if (parsed.success) {
    Object.defineProperty(parsed.data, PARSED, { value: true });
    return parsed.data;
  }
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  throw new RouterError('invalid_params', `invalid sample params: ${where}${issue?.message ?? 'invalid'}`, {});
}

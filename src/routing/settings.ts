import { z } from 'zod';
import type { ModelsConfig } from '../config/index.js';

/**
 * Config the router needs beyond `ModelsSchema`. `RouterSettingsSchema` is meant for
 * `gateway.router` (timeouts and breaker are gateway-wide), `TargetsSchema` for
 * `models.targets` (facts about a model that the price table does not hold).
 */
const ms = (fallback: number, text: string) => z.number().int().positive().default(fallback).describe(text);

export const BreakerSettingsSchema = z.strictObject({
  failureThreshold: z
    .number()
    .int()
    .positive()
    .default(5)
    .describe('Consecutive failures that open a target’s circuit.'),
  errorRate: z
    .number()
    .gt(0)
    .max(1)
    .default(0.5)
    .describe('Share of failed calls within `windowMs` that opens the circuit (once `minCalls` were made).'),
  windowMs: ms(60_000, 'The window the error rate is measured over, in milliseconds.'),
  minCalls: z.number().int().positive().default(10).describe('Calls in the window before the error rate counts.'),
  coolDownMs: ms(30_000, 'How long an open circuit stays open before one probe call is let through.'),
});

export const RouterSettingsSchema = z.strictObject({
  connectTimeoutMs: ms(10_000, 'Streamed calls: how long the provider may take to send response headers.'),
  firstTokenTimeoutMs: ms(30_000, 'Streamed calls: how long until the first token, from the start of the attempt.'),
  idleTimeoutMs: ms(30_000, 'Streamed calls: the longest silence between chunks once tokens flow.'),
  attemptTimeoutMs: ms(120_000, 'The longest one attempt against one target may take.'),
  deadlineMs: ms(180_000, 'The longest a whole sample call may take, retries and failovers included.'),
  maxAttemptsPerTarget: z
    .number()
    .int()
    .positive()
    .default(2)
    .describe('Tries per target within one call, for retryable failures (429, 5xx, timeouts).'),
  retryBaseDelayMs: ms(500, 'Backoff before retrying a target that gave no Retry-After (doubles per try).'),
  retryMaxDelayMs: ms(10_000, 'The longest backoff without a Retry-After.'),
  latencyAlpha: z
    .number()
    .gt(0)
    .max(1)
    .default(0.3)
    .describe('Weight of the newest sample in the moving averages of latency and time to first token.'),
  breaker: BreakerSettingsSchema.default(BreakerSettingsSchema.parse({})).describe('Per-target circuit breaker.'),
});

export const TargetInfoSchema = z.strictObject({
  contextWindow: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Tokens the model accepts (prompt and answer); a built-in table knows common models.'),
  aliases: z
    .array(z.string().min(1))
    .default([])
    .describe('Extra names that MCP model hints match (e.g. "claude", "fast").'),
  intelligence: z.number().min(0).max(1).optional().describe('0–1, for modelPreferences.intelligencePriority.'),
  speed: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe('0–1, for modelPreferences.speedPriority before latency is observed.'),
});

const TARGET = /^[A-Za-z0-9-]+\/.+$/;
export const TargetsSchema = z.record(z.string().regex(TARGET, 'expected "provider/model"'), TargetInfoSchema);

export type BreakerSettings = z.output<typeof BreakerSettingsSchema>;
export type RouterSettings = z.output<typeof RouterSettingsSchema>;
export type RouterSettingsInput = z.input<typeof RouterSettingsSchema>;
export type TargetInfo = z.output<typeof TargetInfoSchema>;
export type TargetInfoInput = z.input<typeof TargetInfoSchema>;

/** `ModelsConfig`, plus `targets` until ModelsSchema carries it. */
export type RouterModelsConfig = Omit<ModelsConfig, 'targets'> & {
  targets?: Record<string, TargetInfoInput> | undefined;
};

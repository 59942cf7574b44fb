/**
 * The model router: MCP sampling requests answered by LLM providers (OpenAI-compatible,
 * Anthropic, Gemini) through routes with strategies, retries, failover, circuit
 * breakers and cost accounting. `switchboard__sample`, `switchboard__models` and the
 * upstream sampling bridge are built on `createRouter`.
 */
export { createRouter } from './router.js';
export type { CostEstimate, RouteInfo, Router, RouterOptions, SampleOptions } from './router.js';
export { RouterError, isRouterError } from './router-error.js';
export type { RouterErrorData } from './router-error.js';
export { SampleParamsSchema, ModelPreferencesSchema, SamplingMessageSchema, parseSampleParams } from './params.js';
export type { ModelPreferences, SampleParams, SampleParamsInput, SamplingMessage } from './params.js';
export { RouterSettingsSchema, BreakerSettingsSchema, TargetInfoSchema, TargetsSchema } from './settings.js';
export type { RouterModelsConfig, RouterSettings, RouterSettingsInput, TargetInfo } from './settings.js';
export type { Cost } from './cost.js';
export type { TargetHealth } from './health.js';
export type { BreakerState } from './breaker.js';
export type { ProviderErrorKind, TimeoutPhase } from './provider-error.js';
export type {
  Attempt,
  AttemptStatus,
  BilledFailure,
  CreateMessageResult,
  RankedTarget,
  SampleOutcome,
  StrategyName,
  Usage,
} from './types.js';

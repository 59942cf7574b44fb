import { z } from 'zod';
import type { AuditOutcome } from '../../audit/index.js';
import { GatewayError } from '../../errors.js';
import type { BudgetStore } from '../../policy/index.js';
import type { Router, SampleOutcome } from '../../routing/index.js';
import type { BuiltinTool } from '../builtin.js';
import { sampleFor } from './sample-for.js';

const InputSchema = {
  type: 'object',
  properties: {
    messages: {
      type: 'array',
      description:
        'MCP sampling messages: { role: "user" | "assistant", content: { type: "text", text } | { type: "image", data, mimeType } }',
      items: { type: 'object' },
    },
    systemPrompt: { type: 'string' },
    maxTokens: { type: 'integer', minimum: 1 },
    temperature: { type: 'number' },
    stopSequences: { type: 'array', items: { type: 'string' } },
    modelPreferences: {
      type: 'object',
      properties: {
        hints: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
        costPriority: { type: 'number', minimum: 0, maximum: 1 },
        speedPriority: { type: 'number', minimum: 0, maximum: 1 },
        intelligencePriority: { type: 'number', minimum: 0, maximum: 1 },
      },
    },
    route: {
      type: 'string',
      description: 'A route from servers.json (models.routes); the default route when left out.',
    },
  },
  required: ['messages', 'maxTokens'],
} as const;

/** What a sample call adds to its audit row: model, provider, attempts, tokens and cost. */
export function sampleAuditDetails(
  outcome: Pick<SampleOutcome, 'model' | 'provider' | 'attempts' | 'usage' | 'costUsd'>,
): Partial<AuditOutcome> {
  return {
    model: outcome.model,
    provider: outcome.provider,
    attempts: JSON.stringify(outcome.attempts),
    inputTokens: outcome.usage.inputTokens,
    outputTokens: outcome.usage.outputTokens,
    costUsd: outcome.costUsd,
  };
}

function current(router: () => Router | undefined): Router {
  const live = router();
  if (!live) throw new GatewayError('upstream_unavailable', 'servers.json has no models routes');
  return live;
}

/** `switchboard__sample`: an LLM call through the model router, as an MCP tool. */
export function sampleTool(router: () => Router | undefined, budgets: BudgetStore | undefined): BuiltinTool {
  return {
    readOnly: true,
    definition: {
      name: 'sample',
      title: 'Sample a language model',
      description:
        'Asks a language model, picked by the gateway: by route (models.routes), cost, speed or capability (modelPreferences), with failover when a provider is down. Arguments follow MCP sampling/createMessage, plus an optional route.',
      inputSchema: InputSchema as never,
      outputSchema: z.toJSONSchema(
        z.object({
          model: z.string(),
          provider: z.string(),
          route: z.string(),
          attempts: z.array(z.record(z.string(), z.unknown())),
          usage: z.object({ inputTokens: z.number(), outputTokens: z.number() }).loose(),
          costUsd: z.number().nullable(),
          unpriced: z.boolean(),
          stopReason: z.string().optional(),
        }),
      ) as never,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    auditDetails: (result) => {
      const s = (result as { structuredContent?: SampleOutcome & { usage: SampleOutcome['usage'] } }).structuredContent;
      return s ? sampleAuditDetails(s) : {};
    },
    async call(session, args, signal) {
      const caller = { agent: session.agent, policy: session.policy() };
      const outcome = await sampleFor(caller, current(router), budgets, args, { signal });
      const content = outcome.result.content;
      const text = content.type === 'text' ? content.text : '';
      return {
        content: [{ type: 'text', text }],
        structuredContent: {
          model: outcome.model,
          provider: outcome.provider,
          route: outcome.route,
          attempts: outcome.attempts as never,
          usage: outcome.usage as never,
          costUsd: outcome.costUsd,
          unpriced: outcome.unpriced,
          ...(outcome.result.stopReason ? { stopReason: outcome.result.stopReason } : {}),
        },
      };
    },
  };
}

/** `switchboard__models`: routes, targets, prices and live health. */
export function modelsTool(router: () => Router | undefined): BuiltinTool {
  return {
    readOnly: true,
    definition: {
      name: 'models',
      title: 'Model routes and health',
      description:
        'The model routes switchboard__sample can use: targets, prices, and each target’s live health (circuit state, latency).',
      inputSchema: { type: 'object', properties: {} },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async call() {
      const live = current(router);
      const report = { routes: live.routes(), health: live.health() };
      const lines = report.routes.map(
        (r) =>
          `${r.name}${r.isDefault ? ' (default)' : ''} [${r.strategy}]: ${r.targets.map((t) => t.target).join(', ')}`,
      );
      return {
        content: [{ type: 'text', text: lines.join('\n') || '(no routes)' }],
        structuredContent: report as never,
      };
    },
  };
}

import { z } from 'zod';
import { RouterSettingsSchema, TargetsSchema } from '../routing/settings.js';

/**
 * The zod schemas of `servers.json`. They are the single source of truth: the loader
 * validates with them, `switchboard schema` prints the JSON Schema for editors from
 * them, and the README's reference tables are generated from their descriptions.
 */

export const SERVER_NAME = /^[A-Za-z0-9-]+$/;
/** The gateway's own tools live under this server name, so no upstream may take it. */
export const RESERVED_SERVER_NAME = 'switchboard';

const stringMap = z.record(z.string(), z.string());
const globList = z.array(z.string().min(1));

const commonServerFields = {
  enabled: z.boolean().default(true).describe('Set to false to keep the entry but not connect to it.'),
  description: z.string().optional().describe('Free text for humans; not sent anywhere.'),
  timeoutMs: z
    .number()
    .int()
    .positive()
    .default(60_000)
    .describe('Per-request timeout towards this server, in milliseconds (progress notifications reset it).'),
  maxTotalTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(600_000)
    .describe('Longest a request may run however much progress it reports, in milliseconds.'),
  readOnlyTools: globList
    .default([])
    .describe("Globs over the server's own tool names that count as read-only, whatever the server annotates."),
  trustAnnotations: z
    .boolean()
    .default(true)
    .describe("Whether the server's own `readOnlyHint` annotations classify its tools as read-only."),
  isolation: z
    .enum(['shared', 'session'])
    .default('shared')
    .describe(
      '`shared`: one connection for every agent. `session`: one connection per downstream session, for servers that keep per-client state or ask the client questions (sampling, elicitation, roots).',
    ),
  sampling: z
    .enum(['client', 'router', 'deny'])
    .default('client')
    .describe("Who answers the server's sampling requests: the calling agent's client, the model router, or nobody."),
  pinning: z
    .enum(['quarantine', 'warn', 'off'])
    .default('quarantine')
    .describe('What happens when a tool definition changes after first sight.'),
  auditResults: z
    .boolean()
    .default(false)
    .describe(
      "Store a truncated summary of this server's results in the audit log (results are not stored by default).",
    ),
};

export const StdioServerSchema = z
  .strictObject({
    type: z.literal('stdio').optional().describe('Implied by `command`.'),
    command: z.string().min(1).describe('The program to start. Never run through a shell.'),
    args: z.array(z.string()).default([]).describe('Arguments, one string each.'),
    env: stringMap.default({}).describe('Extra environment variables; only a minimal set is inherited.'),
    cwd: z.string().optional().describe("Working directory, relative to servers.json's folder (the default)."),
    ...commonServerFields,
  })
  .describe('A server started as a child process, speaking MCP over stdin/stdout.');

export const RemoteServerSchema = z
  .strictObject({
    type: z.enum(['http', 'sse']).describe('`http`: streamable HTTP. `sse`: the legacy HTTP+SSE transport.'),
    url: z.url().describe('The endpoint, e.g. https://mcp.example.com/mcp or http://127.0.0.1:3001/sse.'),
    headers: stringMap.default({}).describe('Headers sent with every request (e.g. Authorization).'),
    ...commonServerFields,
  })
  .describe('A server reached over HTTP.');

export const ServerSchema = z.union([StdioServerSchema, RemoteServerSchema]);

const TARGET = /^[A-Za-z0-9-]+\/.+$/;
const target = z.string().regex(TARGET, 'expected "provider/model"');

export const ProviderSchema = z.strictObject({
  type: z.enum(['openai', 'anthropic', 'gemini']).describe('The wire format the provider speaks.'),
  apiKey: z.string().optional().describe('Use ${ENV_VAR} rather than a literal key.'),
  baseUrl: z.url().optional().describe('Override the endpoint (any OpenAI-compatible server for `openai`).'),
  headers: stringMap.default({}).describe('Extra headers on every request.'),
});

export const PriceSchema = z.strictObject({
  input: z.number().nonnegative().describe('USD per million input tokens.'),
  output: z.number().nonnegative().describe('USD per million output tokens.'),
  cachedInput: z.number().nonnegative().optional().describe('USD per million cached input tokens.'),
});

export const RouteSchema = z.union([
  z.array(target).min(1),
  z.strictObject({
    strategy: z.enum(['fallback', 'weighted', 'least-latency', 'cheapest', 'preferences']).default('fallback'),
    targets: z.array(target).min(1),
    weights: z.array(z.number().nonnegative()).optional(),
  }),
]);

export const ModelsSchema = z.strictObject({
  providers: z
    .record(z.string().regex(SERVER_NAME), ProviderSchema)
    .default({})
    .describe('LLM providers by name; a target is "<provider>/<model>".'),
  prices: z.record(target, PriceSchema).default({}).describe('USD per million tokens, by target.'),
  routes: z
    .record(z.string().min(1), RouteSchema)
    .default({})
    .describe('Named lists of targets, or { strategy, targets, weights }; "default" is used when none is named.'),
  targets: TargetsSchema.default({}).describe('Facts about a target: contextWindow, aliases, intelligence, speed.'),
});

export const AuditSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('Write the audit log.'),
  onFailure: z
    .enum(['refuse', 'allow'])
    .default('refuse')
    .describe('When the audit log cannot be written: refuse calls (default) or let them through unaudited.'),
  maxArgsBytes: z
    .number()
    .int()
    .min(256)
    .default(8192)
    .describe('Arguments are stored redacted and cut to this many bytes (argsHash is of the whole).'),
  retainDays: z
    .number()
    .positive()
    .optional()
    .describe('Delete rows older than this many days (the chain stays verifiable).'),
});

export const GatewaySchema = z.strictObject({
  logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info').describe('stderr log level.'),
  pageSize: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(500)
    .describe('Items per page of tools/list, prompts/list and resources/list.'),
  connectTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(30_000)
    .describe('How long one upstream may take to connect before it is reported as failed.'),
  startupGraceMs: z
    .number()
    .int()
    .nonnegative()
    .default(5_000)
    .describe(
      'Right after start, list requests wait up to this long for upstreams still connecting; later ones are announced with list_changed.',
    ),
  approvalTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(120_000)
    .describe('How long a requireApproval call waits for a person before it is refused.'),
  maxConcurrentCallsPerAgent: z
    .number()
    .int()
    .positive()
    .default(64)
    .describe('Calls one agent may have in flight at once; more are refused.'),
  shutdownGraceMs: z
    .number()
    .int()
    .nonnegative()
    .default(10_000)
    .describe('On SIGTERM, SIGINT or stdin closing: how long calls in flight may take to finish.'),
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024)
    .describe('Largest HTTP request body; larger ones get 413.'),
  maxResultBytes: z
    .number()
    .int()
    .positive()
    .default(32 * 1024 * 1024)
    .describe(
      "Largest message an upstream may send (a stdio line, an HTTP answer's JSON body or one SSE event); a larger one is not read on and its call fails with an error naming the limit.",
    ),
  sessionIdleMs: z
    .number()
    .int()
    .positive()
    .default(30 * 60_000)
    .describe('An HTTP session with no request for this long is closed.'),
  headersTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(10_000)
    .describe('How long an HTTP client may take to send its request headers.'),
  allowedOrigins: z
    .array(z.string())
    .default([])
    .describe('Extra browser origins allowed on the HTTP endpoint (loopback origins always are).'),
  allowedHosts: z
    .array(z.string())
    .default([])
    .describe('Extra Host header values allowed on the HTTP endpoint when bound to loopback.'),
  audit: AuditSchema.default(AuditSchema.parse({})).describe('The audit log (see the audit section).'),
  router: RouterSettingsSchema.default(RouterSettingsSchema.parse({})).describe(
    'Model router timeouts, retries and circuit breaker (switchboard__sample).',
  ),
});

export const ConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  mcpServers: z.record(z.string(), ServerSchema).default({}).describe('The upstream MCP servers, by name.'),
  models: ModelsSchema.optional().describe('Model providers, prices and routes for switchboard__sample.'),
  gateway: GatewaySchema.default(GatewaySchema.parse({})).describe('Gateway-wide settings.'),
});

export type StdioServerConfig = z.output<typeof StdioServerSchema>;
export type RemoteServerConfig = z.output<typeof RemoteServerSchema>;
export type ServerConfig = (StdioServerConfig & { type?: 'stdio' }) | RemoteServerConfig;
export type ModelsConfig = z.output<typeof ModelsSchema>;
export type GatewayConfig = z.output<typeof GatewaySchema>;
export type AuditConfig = z.output<typeof AuditSchema>;

export function isStdio(server: ServerConfig): server is StdioServerConfig {
  return 'command' in server;
}

import { z } from 'zod';
import { parseRate } from './rate.js';

/** The zod schema of `policies/<agent>.json`; the file name is the agent's name. */
export const AGENT_NAME = /^[A-Za-z0-9_-]+$/;
const SHA256 = /^sha256:[0-9a-f]{64}$/;
const MIN_TOKEN_LENGTH = 16;

const glob = z.string().min(1);
const globs = z.array(glob).default([]);

const count = z.string().refine((text) => {
  const rate = parseRate(text);
  return rate !== undefined && Number.isInteger(rate.limit) && rate.limit >= 1;
}, 'expected "N/window" with a whole number N ≥ 1 (use deny for none) and a window in s, m, h or d (e.g. "5/1h")');

const budget = z
  .string()
  .refine((text) => parseRate(text) !== undefined, 'expected "USD/window" (e.g. "5/1d" or "0.25/1h")');

export const PolicySchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional().describe('Free text for humans.'),
  tokens: z
    .array(
      z
        .string()
        .refine(
          (t) => SHA256.test(t) || (!t.startsWith('sha256:') && t.length >= MIN_TOKEN_LENGTH),
          `expected "sha256:<64 lowercase hex>" or a token of at least ${MIN_TOKEN_LENGTH} characters (from \${ENV_VAR})`,
        ),
    )
    .default([])
    .describe(
      'Bearer tokens that identify this agent over HTTP: `${ENV_VAR}` holding the token (16+ characters), or `sha256:<hex>` of it.',
    ),
  allow: globs.describe(
    "Globs over exposed names this agent may use (`*` any run, `?` one character); nothing else is allowed. A server's resources go by `<server>__*`.",
  ),
  deny: globs.describe('Globs that are refused even when allowed (deny wins).'),
  readOnly: globs.describe('Globs of tools callable only when classified read-only.'),
  quotas: z
    .record(glob, count)
    .default({})
    .describe(
      'Glob → "N/window" (s, m, h, d): at most N calls in any window of that length; one counter per glob, shared by every tool it matches.',
    ),
  requireApproval: globs.describe('Globs of tools that run only after a person approves each call.'),
  audit: z
    .enum(['own', 'all'])
    .default('own')
    .describe("Whose rows `switchboard__audit` shows this agent: its own, or every agent's."),
  models: z
    .strictObject({
      routes: z.array(z.string().min(1)).optional().describe('Routes this agent may name in switchboard__sample.'),
      budgetUsd: budget.optional().describe('Spending limit, "USD/window".'),
    })
    .optional()
    .describe('`routes` the agent may name in `switchboard__sample`, and its `budgetUsd` ("USD/window").'),
});

export type PolicyFile = z.output<typeof PolicySchema>;

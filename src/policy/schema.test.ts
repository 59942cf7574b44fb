import { describe, expect, it } from 'vitest';
import { PolicySchema } from './schema.js';

/** The `path: message` lines of a failed parse. */
function issues(input: unknown): string[] {
  const parsed = PolicySchema.safeParse(input);
  if (parsed.success) throw new Error('expected PolicySchema to reject the input');
  return parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
}

const QUOTA_MESSAGE =
  'expected "N/window" with a whole number N ≥ 1 (use deny for none) and a window in s, m, h or d (e.g. "5/1h")';
const TOKEN_MESSAGE = 'expected "sha256:<64 lowercase hex>" or a token of at least 16 characters (from ${ENV_VAR})';

describe('PolicySchema', () => {
  it('fills in empty defaults', () => {
    expect(PolicySchema.parse({})).toEqual({
      tokens: [],
      allow: [],
      deny: [],
      readOnly: [],
      quotas: {},
      requireApproval: [],
      audit: 'own',
    });
  });

  it('keeps a full policy as written', () => {
    const file = {
      $schema: './policy.schema.json',
      description: 'the ops agent',
      tokens: ['a-literal-token-0123', `sha256:${'ab'.repeat(32)}`],
      allow: ['files__*'],
      deny: ['files__delete_*'],
      readOnly: ['files__*'],
      quotas: { 'files__*': '5/1h', '*': '1000/1d' },
      requireApproval: ['files__write_*'],
      audit: 'all',
      models: { routes: ['fast'], budgetUsd: '0.01/1d' },
    };
    expect(PolicySchema.parse(file)).toEqual(file);
  });

  it('rejects unknown keys, at the top and inside models', () => {
    expect(issues({ alow: ['*'] })).toEqual(['(root): Unrecognized key: "alow"']);
    expect(issues({ models: { budget: '1/1d' } })).toEqual(['models: Unrecognized key: "budget"']);
  });

  it('rejects a literal token shorter than 16 characters', () => {
    expect(issues({ tokens: ['short-token'] })).toEqual([`tokens.0: ${TOKEN_MESSAGE}`]);
    expect(issues({ tokens: ['x'.repeat(15)] })).toEqual([`tokens.0: ${TOKEN_MESSAGE}`]);
    expect(PolicySchema.parse({ tokens: ['x'.repeat(16)] }).tokens).toEqual(['x'.repeat(16)]);
  });

  it('rejects a malformed sha256 token, even when it is long', () => {
    for (const token of [
      'sha256:abc',
      `sha256:${'AB'.repeat(32)}`,
      `sha256:${'ab'.repeat(32)}0`,
      `sha256:${'g'.repeat(64)}`,
      `sha256:${'a'.repeat(63)}`,
    ])
      expect(issues({ tokens: [token] }), token).toEqual([`tokens.0: ${TOKEN_MESSAGE}`]);
  });

  it('rejects a quota that is not "N/window" with a whole N', () => {
    expect(issues({ quotas: { 'files__*': '5 per hour' } })).toEqual([`quotas.files__*: ${QUOTA_MESSAGE}`]);
    expect(issues({ quotas: { 'files__*': '0/1h' } })).toEqual([`quotas.files__*: ${QUOTA_MESSAGE}`]);
    expect(issues({ quotas: { 'files__*': '0.5/1h' } })).toEqual([`quotas.files__*: ${QUOTA_MESSAGE}`]);
    expect(issues({ quotas: { 'files__*': '5/1w' } })).toEqual([`quotas.files__*: ${QUOTA_MESSAGE}`]);
  });

  it('rejects an empty glob', () => {
    expect(issues({ allow: [''] })).toHaveLength(1);
    expect(issues({ allow: [''] })[0]).toMatch(/^allow\.0: /);
    expect(issues({ quotas: { '': '5/1h' } })).toHaveLength(1);
  });

  it('accepts models with routes and a decimal budget', () => {
    expect(PolicySchema.parse({ models: { routes: ['fast', 'smart'], budgetUsd: '0.01/1d' } }).models).toEqual({
      routes: ['fast', 'smart'],
      budgetUsd: '0.01/1d',
    });
  });

  it('rejects a budget that is not "USD/window"', () => {
    expect(issues({ models: { budgetUsd: '$5 a day' } })).toEqual([
      'models.budgetUsd: expected "USD/window" (e.g. "5/1d" or "0.25/1h")',
    ]);
  });

  it('rejects globs that are not lists of strings', () => {
    expect(issues({ allow: 'files__*', deny: [1] })).toEqual([
      'allow: Invalid input: expected array, received string',
      'deny.0: Invalid input: expected string, received number',
    ]);
  });
});

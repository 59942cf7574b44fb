import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Policy, resourcePolicyName, type ToolClass } from './policy.js';
import { PolicySchema } from './schema.js';

const READ: ToolClass = { readOnly: true, reason: 'annotations: readOnlyHint' };
const WRITE: ToolClass = { readOnly: false, reason: 'annotations: no readOnlyHint' };

function policy(file: unknown): Policy {
  return new Policy('ops', '/etc/switchboard/policies/ops.json', PolicySchema.parse(file));
}

describe('Policy.decide', () => {
  it('allows a name an allow glob matches, naming the glob', () => {
    const p = policy({ allow: ['memory__*', 'files__*'] });
    expect(p.decide('files__read_file')).toEqual({ allowed: true, rule: 'allow: files__*' });
    expect(p.decide('memory__read_graph')).toEqual({ allowed: true, rule: 'allow: memory__*' });
  });

  it('refuses a name no allow glob matches', () => {
    expect(policy({ allow: ['files__*'] }).decide('memory__read_graph')).toEqual({
      allowed: false,
      rule: 'no allow rule matches',
    });
    expect(policy({}).decide('files__read_file')).toEqual({ allowed: false, rule: 'no allow rule matches' });
  });

  it('lets deny win over allow, naming the deny glob', () => {
    const p = policy({ allow: ['*'], deny: ['memory__delete_*', 'files__write_*'] });
    expect(p.decide('memory__delete_entities')).toEqual({ allowed: false, rule: 'deny: memory__delete_*' });
    expect(p.decide('files__write_file')).toEqual({ allowed: false, rule: 'deny: files__write_*' });
    expect(p.decide('memory__read_graph')).toEqual({ allowed: true, rule: 'allow: *' });
  });

  it('lets deny win even when the allow glob is more specific', () => {
    const p = policy({ allow: ['files__read_file'], deny: ['files__*'] });
    expect(p.decide('files__read_file')).toEqual({ allowed: false, rule: 'deny: files__*' });
  });

  it('returns the same Decision object for the same name (compiled once per policy version)', () => {
    const p = policy({ allow: ['files__*'], deny: ['files__delete'] });
    for (const name of ['files__read', 'files__delete', 'memory__read']) expect(p.decide(name)).toBe(p.decide(name));
  });

  it('governs resources through "<server>__*"', () => {
    const p = policy({ allow: ['files__*'], deny: ['memory__*'] });
    expect(resourcePolicyName('files')).toBe('files__*');
    expect(p.decide(resourcePolicyName('files'))).toEqual({ allowed: true, rule: 'allow: files__*' });
    expect(p.decide(resourcePolicyName('memory'))).toEqual({ allowed: false, rule: 'deny: memory__*' });
  });
});

describe('Policy.decideTool', () => {
  const p = policy({ allow: ['files__*', 'memory__*'], deny: ['files__delete_*'], readOnly: ['files__*'] });

  it('refuses a write tool a readOnly glob matches', () => {
    expect(p.decideTool('files__write_file', WRITE)).toEqual({
      allowed: false,
      rule: 'readOnly: files__* (the tool is not read-only)',
    });
  });

  it('treats an unknown tool (no class) as write', () => {
    expect(p.decideTool('files__no_such_tool', undefined)).toEqual({
      allowed: false,
      rule: 'readOnly: files__* (the tool is not read-only)',
    });
  });

  it('allows a read tool a readOnly glob matches', () => {
    expect(p.decideTool('files__read_file', READ)).toEqual({ allowed: true, rule: 'allow: files__*' });
  });

  it('allows a write tool no readOnly glob matches', () => {
    expect(p.decideTool('memory__create_entities', WRITE)).toEqual({ allowed: true, rule: 'allow: memory__*' });
    expect(p.decideTool('memory__create_entities', undefined)).toEqual({ allowed: true, rule: 'allow: memory__*' });
  });

  it('applies deny and allow before readOnly', () => {
    expect(p.decideTool('files__delete_file', READ)).toEqual({ allowed: false, rule: 'deny: files__delete_*' });
    expect(p.decideTool('files__delete_file', WRITE)).toEqual({ allowed: false, rule: 'deny: files__delete_*' });
    expect(p.decideTool('other__read', READ)).toEqual({ allowed: false, rule: 'no allow rule matches' });
  });

  it('names the first readOnly glob that matches', () => {
    const q = policy({ allow: ['*'], readOnly: ['memory__*', 'files__write_*', 'files__*'] });
    expect(q.decideTool('files__write_file', WRITE).rule).toBe('readOnly: files__write_* (the tool is not read-only)');
  });

  it('keeps the read and the write answer for one name apart', () => {
    const q = policy({ allow: ['files__*'], readOnly: ['files__*'] });
    expect(q.decideTool('files__edit', WRITE).allowed).toBe(false);
    expect(q.decideTool('files__edit', READ).allowed).toBe(true);
    expect(q.decideTool('files__edit', WRITE).allowed).toBe(false);
    // decide() ignores readOnly: prompts and resources have no read/write class.
    expect(q.decide('files__edit')).toEqual({ allowed: true, rule: 'allow: files__*' });
  });

  it('returns the same Decision object for repeated calls', () => {
    for (const [name, toolClass] of [
      ['files__read_file', READ],
      ['files__write_file', WRITE],
      ['files__write_file', undefined],
      ['files__delete_file', READ],
      ['nothing__here', WRITE],
    ] as const) {
      expect(p.decideTool(name, toolClass)).toBe(p.decideTool(name, toolClass));
    }
    // Classes are memoised by their read/write answer, not by the object.
    expect(p.decideTool('files__read_file', { readOnly: true, reason: 'config: readOnlyTools' })).toBe(
      p.decideTool('files__read_file', READ),
    );
  });
});

describe('Policy.approvalFor', () => {
  it('names the first requireApproval glob that matches, or undefined', () => {
    const p = policy({ allow: ['*'], requireApproval: ['files__write_*', 'files__*'] });
    expect(p.approvalFor('files__write_file')).toBe('files__write_*');
    expect(p.approvalFor('files__move_file')).toBe('files__*');
    expect(p.approvalFor('memory__read_graph')).toBeUndefined();
    expect(policy({ allow: ['*'] }).approvalFor('files__write_file')).toBeUndefined();
  });
});

describe('Policy.quotasFor', () => {
  const p = policy({ allow: ['*'], quotas: { 'files__*': '5/1h', '*': '1000/1d', 'memory__*': '10/m' } });

  it('returns every matching rule, in file order, with key, limit, window and text', () => {
    expect(p.quotasFor('files__read_file')).toEqual([
      { key: 'files__*', limit: 5, windowMs: 3_600_000, text: '5/1h' },
      { key: '*', limit: 1000, windowMs: 86_400_000, text: '1000/1d' },
    ]);
    expect(p.quotasFor('memory__read_graph')).toEqual([
      { key: '*', limit: 1000, windowMs: 86_400_000, text: '1000/1d' },
      { key: 'memory__*', limit: 10, windowMs: 60_000, text: '10/m' },
    ]);
    expect(p.quotasFor('other__tool')).toEqual([{ key: '*', limit: 1000, windowMs: 86_400_000, text: '1000/1d' }]);
  });

  it('returns an empty list when no quota matches', () => {
    expect(policy({ allow: ['*'], quotas: { 'files__*': '5/1h' } }).quotasFor('memory__read')).toEqual([]);
    expect(policy({ allow: ['*'] }).quotasFor('files__read')).toEqual([]);
  });

  it('returns the same list object for repeated calls', () => {
    expect(p.quotasFor('files__read_file')).toBe(p.quotasFor('files__read_file'));
    expect(p.quotasFor('other__tool')).toBe(p.quotasFor('other__tool'));
  });
});

describe('Policy tokens, models and budget', () => {
  it('stores a literal token as its SHA-256 and a "sha256:<hex>" token as the decoded digest', () => {
    const literal = 'ops-secret-token-0123456789';
    const digest = createHash('sha256').update('another-secret-token-xyz').digest();
    const p = policy({ tokens: [literal, `sha256:${digest.toString('hex')}`] });
    expect(p.tokenDigests).toHaveLength(2);
    expect(p.tokenDigests[0]!.equals(createHash('sha256').update(literal).digest())).toBe(true);
    expect(p.tokenDigests[1]!.equals(digest)).toBe(true);
    expect(p.tokenDigests.every((d) => d.length === 32)).toBe(true);
  });

  it('has no digests without tokens', () => {
    expect(policy({}).tokenDigests).toEqual([]);
  });

  it('parses the budget from models.budgetUsd', () => {
    const p = policy({ models: { routes: ['fast'], budgetUsd: '0.01/1d' } });
    expect(p.budget).toEqual({ limit: 0.01, windowMs: 86_400_000, text: '0.01/1d' });
    expect(p.models).toEqual({ routes: ['fast'], budgetUsd: '0.01/1d' });
  });

  it('has no budget without models.budgetUsd', () => {
    expect(policy({}).budget).toBeUndefined();
    expect(policy({}).models).toBeUndefined();
    expect(policy({ models: { routes: ['fast'] } }).budget).toBeUndefined();
  });

  it('keeps agent, file and source', () => {
    const source = PolicySchema.parse({ allow: ['*'] });
    const p = new Policy('ops', '/p/ops.json', source);
    expect(p.agent).toBe('ops');
    expect(p.file).toBe('/p/ops.json');
    expect(p.source).toBe(source);
  });
});

describe('decision memo', () => {
  it('cannot be poisoned by a client-chosen name shaped like another kind of key', () => {
    const policy = new Policy(
      'ro',
      'ro.json',
      PolicySchema.parse({ allow: ['*'], deny: ['files__write_file'], readOnly: ['files__*'] }),
    );
    // A prompt name a client can send, shaped like the memo key of a tool decision.
    policy.decide('w\u0000files__write_file');
    policy.decide('w\u0000files__edit_file');
    expect(policy.decideTool('files__write_file', { readOnly: false, reason: 'x' })).toEqual({
      allowed: false,
      rule: 'deny: files__write_file',
    });
    expect(policy.decideTool('files__edit_file', { readOnly: false, reason: 'x' }).allowed).toBe(false);
  });
});

import { createHash } from 'node:crypto';
import { GlobList } from './glob.js';
import { parseRate, type Rate } from './rate.js';
import type { PolicyFile } from './schema.js';

export interface Decision {
  allowed: boolean;
  /** The rule that decided, as the user wrote it: `allow: files__*`, `deny: memory__delete_*`… */
  rule: string;
}

/** How a tool is classified: read-only or write, and why. */
export interface ToolClass {
  readOnly: boolean;
  reason: string;
}

export interface QuotaRule extends Rate {
  /** The glob as written: it names the counter. */
  key: string;
}

const NO_ALLOW: Decision = { allowed: false, rule: 'no allow rule matches' };
/** Names come from clients; past this many remembered decisions the memo starts over. */
const MAX_MEMO = 10_000;

function remember<K, V>(memo: Map<K, V>, key: K, value: V): V {
  if (memo.size >= MAX_MEMO) memo.clear();
  memo.set(key, value);
  return value;
}

/**
 * One agent's policy, compiled once per version of its file. Decisions are pure
 * functions of the name (and, for tools, the read/write class), memoised per name, so
 * a call pays for a map lookup, not for glob matching.
 */
export class Policy {
  private readonly allow: GlobList;
  private readonly deny: GlobList;
  private readonly readOnly: GlobList;
  private readonly approval: GlobList;
  private readonly quotaRules: readonly (QuotaRule & { list: GlobList })[];
  private readonly decisions = new Map<string, Decision>();
  private readonly quotaCache = new Map<string, readonly QuotaRule[]>();
  /** SHA-256 digests of the tokens that identify this agent. */
  readonly tokenDigests: readonly Buffer[];
  readonly models: PolicyFile['models'];
  readonly budget: Rate | undefined;

  constructor(
    readonly agent: string,
    readonly file: string,
    readonly source: PolicyFile,
  ) {
    this.allow = new GlobList(source.allow);
    this.deny = new GlobList(source.deny);
    this.readOnly = new GlobList(source.readOnly);
    this.approval = new GlobList(source.requireApproval);
    this.quotaRules = Object.entries(source.quotas).map(([key, text]) => ({
      key,
      ...parseRate(text)!,
      list: new GlobList([key]),
    }));
    this.tokenDigests = source.tokens.map((token) =>
      token.startsWith('sha256:')
        ? Buffer.from(token.slice('sha256:'.length), 'hex')
        : createHash('sha256').update(token).digest(),
    );
    this.models = source.models;
    this.budget = source.models?.budgetUsd ? parseRate(source.models.budgetUsd) : undefined;
  }

  /** allow/deny for a prompt, or for a server's resources (`<server>__*`). */
  decide(name: string): Decision {
    // Each kind of decision has its own key prefix: a name a client sends (any string)
    // can never collide with the memo of another kind.
    const key = `n\u0000${name}`;
    let decision = this.decisions.get(key);
    if (!decision) {
      decision = remember(this.decisions, key, this.evaluate(name));
    }
    return decision;
  }

  private evaluate(name: string): Decision {
    const denied = this.deny.which(name);
    if (denied !== undefined) return { allowed: false, rule: `deny: ${denied}` };
    const allowed = this.allow.which(name);
    if (allowed === undefined) return NO_ALLOW;
    return { allowed: true, rule: `allow: ${allowed}` };
  }

  /**
   * allow/deny, then `readOnly`: a tool a readOnly glob matches is usable only when it
   * is classified read. A tool that does not exist is treated as write, so the answer
   * for a hidden tool and for a missing one is the same.
   */
  decideTool(name: string, toolClass: ToolClass | undefined): Decision {
    const key = toolClass?.readOnly ? `r\u0000${name}` : `w\u0000${name}`;
    let decision = this.decisions.get(key);
    if (!decision) {
      decision = this.evaluate(name);
      if (decision.allowed && !toolClass?.readOnly) {
        const readOnly = this.readOnly.which(name);
        if (readOnly !== undefined)
          decision = { allowed: false, rule: `readOnly: ${readOnly} (the tool is not read-only)` };
      }
      remember(this.decisions, key, decision);
    }
    return decision;
  }

  /** The requireApproval glob that matches, if any. */
  approvalFor(name: string): string | undefined {
    return this.approval.which(name);
  }

  /** Every quota counter a call to `name` draws from. */
  quotasFor(name: string): readonly QuotaRule[] {
    let rules = this.quotaCache.get(name);
    if (!rules) {
      rules = this.quotaRules
        .filter((rule) => rule.list.test(name))
        .map(({ key, limit, windowMs, text }) => ({ key, limit, windowMs, text }));
      remember(this.quotaCache, name, rules);
    }
    return rules;
  }
}

/** A server's resources are governed by the name `<server>__*`. */
export function resourcePolicyName(server: string): string {
  return `${server}__*`;
}

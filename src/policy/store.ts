import { hash, timingSafeEqual } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { interpolate, type InterpolationIssue } from '../config/interpolate.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../observability/index.js';
import { Policy } from './policy.js';
import { AGENT_NAME, PolicySchema } from './schema.js';

export type PolicyLoad = { policy: Policy } | { errors: string[] };

/** Parses one policy file; errors are `file: path: message` lines. */
export function parsePolicyFile(file: string, env: NodeJS.ProcessEnv = process.env): PolicyLoad {
  const name = path.basename(file);
  const agent = name.replace(/\.json$/, '');
  if (!AGENT_NAME.test(agent))
    return { errors: [`${name}: agent names may contain only letters, digits, "_" and "-"`] };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return { errors: [`${name}: ${errorMessage(error).split('\n')[0]}`] };
  }
  const issues: InterpolationIssue[] = [];
  const expanded = interpolate(json, env, issues);
  const errors = issues.map((i) => `${name}: ${i.path.join('.')}: ${i.message}`);
  const parsed = PolicySchema.safeParse(expanded);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const at = issue.path.map(String).join('.') || '(root)';
      if (!issues.some((i) => i.path.join('.') === at)) errors.push(`${name}: ${at}: ${issue.message}`);
    }
  }
  if (errors.length > 0 || !parsed.success) return { errors };
  return { policy: new Policy(agent, file, parsed.data) };
}

/**
 * Every agent's policy, from `policies/<agent>.json`, kept current: a file changed on
 * disk is re-read and swapped in whole for the next call; an invalid edit is logged and
 * the last good version stays in force; a deleted file takes the agent's access away.
 * No file means no access (fail closed).
 */
export class PolicyStore {
  private readonly policies = new Map<string, Policy>();
  private readonly problems = new Map<string, string[]>();
  private watcher: FSWatcher | undefined;
  private readonly listeners = new Set<(agent: string) => void>();

  constructor(
    readonly dir: string,
    private readonly log: Logger,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** Reads every policy file. Problems are logged and kept for `check`. */
  load(): void {
    if (!existsSync(this.dir)) {
      this.log.warn('no policies folder: every agent is refused everything', { dir: this.dir });
      return;
    }
    for (const name of readdirSync(this.dir)) if (name.endsWith('.json')) this.reload(name);
  }

  /** Follows changes on disk (editors that write in place and those that replace the file). */
  watch(): void {
    if (this.watcher || !existsSync(this.dir)) return;
    this.watcher = watch(this.dir, (_event, name) => {
      if (name && name.endsWith('.json')) this.reload(name);
    });
    this.watcher.on('error', (error) => this.log.warn('cannot watch policies', { error: errorMessage(error) }));
    this.watcher.unref();
  }

  private reload(name: string): void {
    const file = path.join(this.dir, name);
    const agent = name.replace(/\.json$/, '');
    if (!existsSync(file)) {
      if (this.policies.delete(agent)) {
        this.log.warn('policy file removed: the agent is refused everything now', { agent, file });
        this.emit(agent);
      }
      this.problems.delete(agent);
      return;
    }
    const loaded = parsePolicyFile(file, this.env);
    if ('errors' in loaded) {
      // An editor may save an empty file first and the content a moment later: the next event retries.
      this.problems.set(agent, loaded.errors);
      const kept = this.policies.has(agent) ? 'the previous version stays in force' : 'the agent is refused everything';
      this.log.error(`invalid policy: ${kept}`, { agent, errors: loaded.errors });
      return;
    }
    const previous = this.policies.get(agent);
    if (this.problems.delete(agent)) this.log.info('policy file is valid again', { agent });
    if (previous && JSON.stringify(previous.source) === JSON.stringify(loaded.policy.source)) return;
    this.policies.set(agent, loaded.policy);
    if (previous) this.log.info('policy reloaded', { agent });
    this.emit(agent);
  }

  private emit(agent: string): void {
    for (const listener of this.listeners) listener(agent);
  }

  /** Called with the agent's name whenever its policy changes. */
  onChange(listener: (agent: string) => void): void {
    this.listeners.add(listener);
  }

  get(agent: string): Policy | undefined {
    return this.policies.get(agent);
  }

  agents(): string[] {
    return [...this.policies.keys()].sort();
  }

  /** Problems found in the files, by agent (for `check`). */
  errors(): string[] {
    return [...this.problems.values()].flat();
  }

  /** Whether any agent has a token: then every HTTP request must carry one. */
  hasTokens(): boolean {
    for (const policy of this.policies.values()) if (policy.tokenDigests.length > 0) return true;
    return false;
  }

  /**
   * The agent a bearer token belongs to. The token is hashed and compared with every
   * stored digest in constant time, so timing says nothing about how close a guess was.
   */
  agentForToken(token: string): string | undefined {
    // The one-shot hash (no Hash object): this runs on every request that carries a token.
    const digest = hash('sha256', token, 'buffer');
    let found: string | undefined;
    for (const policy of this.policies.values()) {
      for (const candidate of policy.tokenDigests) {
        if (candidate.length === digest.length && timingSafeEqual(candidate, digest)) found ??= policy.agent;
      }
    }
    return found;
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}

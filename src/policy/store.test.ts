import { createHash } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/index.js';
import { PolicyStore, parsePolicyFile } from './store.js';

interface LogLine {
  level: string;
  message: string;
  agent?: string;
  errors?: string[];
  [field: string]: unknown;
}

/** Values seen so far, and a way to await the next one that matches. */
class Recorder<T> {
  readonly seen: T[] = [];
  private waiters: { match: (value: T) => boolean; resolve: (value: T) => void }[] = [];

  readonly push = (value: T): void => {
    this.seen.push(value);
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.match(value)) return true;
      waiter.resolve(value);
      return false;
    });
  };

  /** Resolves with the next value (from now on) that matches; rejects after `timeoutMs`. */
  next(match: (value: T) => boolean, what: string, timeoutMs = 5_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
      });
    });
  }
}

const OPS_TOKEN = 'ops-secret-token-0123456789';
const CI_TOKEN = 'ci-secret-token-abcdefghij';
const CI_DIGEST = createHash('sha256').update(CI_TOKEN).digest('hex');
const ENV = { OPS_TOKEN };

let dir: string;
let logs: Recorder<LogLine>;
let stores: PolicyStore[];

function write(name: string, content: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

function store(env: NodeJS.ProcessEnv = ENV, folder = dir): PolicyStore {
  const logger = createLogger({
    level: 'debug',
    format: 'json',
    write: (line) => logs.push(JSON.parse(line) as LogLine),
  });
  const s = new PolicyStore(folder, logger, env);
  stores.push(s);
  return s;
}

function loaded(env: NodeJS.ProcessEnv = ENV): PolicyStore {
  const s = store(env);
  s.load();
  return s;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'switchboard-policies-'));
  logs = new Recorder();
  stores = [];
});

afterEach(() => {
  for (const s of stores) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('PolicyStore.load', () => {
  it('reads every <agent>.json and nothing else', () => {
    write('ops.json', { allow: ['files__*'] });
    write('ci.json', { allow: ['memory__*'], deny: ['memory__delete_*'] });
    write('README.md', '# not a policy');
    write('notes.txt', '{}');
    const s = loaded();
    expect(s.agents()).toEqual(['ci', 'ops']);
    expect(s.get('ops')?.decide('files__read')).toEqual({ allowed: true, rule: 'allow: files__*' });
    expect(s.get('ci')?.decide('memory__delete_entities')).toEqual({ allowed: false, rule: 'deny: memory__delete_*' });
    expect(s.get('ops')?.agent).toBe('ops');
    expect(s.get('ops')?.file).toBe(path.join(dir, 'ops.json'));
    expect(s.errors()).toEqual([]);
  });

  it('has no policy for an agent without a file', () => {
    write('ops.json', { allow: ['*'] });
    const s = loaded();
    expect(s.get('nobody')).toBeUndefined();
    expect(s.get('README')).toBeUndefined();
  });

  it('refuses everyone, with a warning, when the folder does not exist', () => {
    const missing = path.join(dir, 'no-such-folder');
    const s = store(ENV, missing);
    s.load();
    s.watch();
    expect(s.agents()).toEqual([]);
    expect(logs.seen).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: 'no policies folder: every agent is refused everything',
        dir: missing,
      }),
    ]);
  });

  it('reports an invalid file as "<agent>.json: <path>: <message>" lines and keeps no policy for it', () => {
    write('ops.json', { allow: ['*'] });
    write('bad.json', { alow: ['*'], deny: 'files__*', quotas: { 'files__*': '5 per hour' } });
    const s = loaded();
    expect(s.get('bad')).toBeUndefined();
    expect(s.agents()).toEqual(['ops']);
    expect(s.errors()).toEqual([
      'bad.json: deny: Invalid input: expected array, received string',
      'bad.json: quotas.files__*: expected "N/window" with a whole number N ≥ 1 (use deny for none) and a window in s, m, h or d (e.g. "5/1h")',
      'bad.json: (root): Unrecognized key: "alow"',
    ]);
    expect(logs.seen).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'invalid policy: the agent is refused everything',
        agent: 'bad',
        errors: s.errors(),
      }),
    );
  });

  it('reports a file that is not JSON', () => {
    write('broken.json', '{ "allow": [');
    const s = loaded();
    expect(s.get('broken')).toBeUndefined();
    expect(s.errors()).toHaveLength(1);
    expect(s.errors()[0]).toMatch(/^broken\.json: \S/);
  });

  it('reports a file whose name is not an agent name', () => {
    write('bad name.json', { allow: ['*'] });
    const s = loaded();
    expect(s.agents()).toEqual([]);
    expect(s.errors()).toEqual(['bad name.json: agent names may contain only letters, digits, "_" and "-"']);
  });
});

describe('PolicyStore tokens', () => {
  beforeEach(() => {
    write('ops.json', { tokens: ['${OPS_TOKEN}'], allow: ['*'] });
    write('ci.json', { tokens: [`sha256:${CI_DIGEST}`], allow: ['*'] });
    write('local.json', { allow: ['*'] });
  });

  it('resolves ${ENV} tokens from the env given to the store', () => {
    const s = loaded();
    expect(s.get('ops')?.tokenDigests).toEqual([createHash('sha256').update(OPS_TOKEN).digest()]);
  });

  it('finds the agent for a token from the env and for a sha256 token', () => {
    const s = loaded();
    expect(s.agentForToken(OPS_TOKEN)).toBe('ops');
    expect(s.agentForToken(CI_TOKEN)).toBe('ci');
  });

  it('finds no agent for a wrong token', () => {
    const s = loaded();
    for (const token of [
      '',
      'wrong',
      `${OPS_TOKEN}x`,
      OPS_TOKEN.slice(0, -1),
      '${OPS_TOKEN}',
      `sha256:${CI_DIGEST}`,
      CI_DIGEST,
    ])
      expect(s.agentForToken(token), token).toBeUndefined();
  });

  it('says whether any agent has a token', () => {
    expect(loaded().hasTokens()).toBe(true);
    rmSync(path.join(dir, 'ops.json'));
    rmSync(path.join(dir, 'ci.json'));
    expect(loaded().hasTokens()).toBe(false);
  });

  it('refuses a policy whose token variable is not set, naming the field once', () => {
    const s = loaded({});
    expect(s.get('ops')).toBeUndefined();
    expect(s.errors()).toEqual([
      'ops.json: tokens.0: environment variable OPS_TOKEN is not set (write ${OPS_TOKEN:-default} for a default)',
    ]);
    expect(s.agentForToken(OPS_TOKEN)).toBeUndefined();
  });

  it('does not read tokens from process.env when an env is given', () => {
    process.env.OPS_TOKEN = 'process-env-token-should-be-unused';
    try {
      const s = loaded({ OPS_TOKEN: 'the-injected-token-0123' });
      expect(s.agentForToken('the-injected-token-0123')).toBe('ops');
      expect(s.agentForToken('process-env-token-should-be-unused')).toBeUndefined();
    } finally {
      delete process.env.OPS_TOKEN;
    }
  });
});

describe('parsePolicyFile', () => {
  it('refuses a file name that is not an agent name, before reading it', () => {
    for (const name of ['bad name.json', 'ops.v2.json', 'ops!.json', '.json'])
      expect(parsePolicyFile(path.join(dir, name), ENV), name).toEqual({
        errors: [`${name}: agent names may contain only letters, digits, "_" and "-"`],
      });
  });

  it('reports a missing file', () => {
    const result = parsePolicyFile(path.join(dir, 'ghost.json'), ENV);
    expect(result).toEqual({ errors: [expect.stringMatching(/^ghost\.json: ENOENT/)] });
  });

  it('gives a Policy named after the file', () => {
    const file = write('my-agent_2.json', { allow: ['files__*'] });
    const result = parsePolicyFile(file, ENV);
    if (!('policy' in result)) throw new Error(result.errors.join('\n'));
    expect(result.policy.agent).toBe('my-agent_2');
    expect(result.policy.file).toBe(file);
    expect(result.policy.source.allow).toEqual(['files__*']);
  });
});

describe('PolicyStore.watch', () => {
  function watched(): { s: PolicyStore; changes: Recorder<string> } {
    const s = loaded();
    const changes = new Recorder<string>();
    s.onChange(changes.push);
    s.watch();
    return { s, changes };
  }

  it('swaps in a rewritten file and tells listeners', async () => {
    write('ops.json', { allow: ['files__*'] });
    const { s, changes } = watched();
    const before = s.get('ops');
    expect(before?.decide('memory__read').allowed).toBe(false);

    const changed = changes.next((agent) => agent === 'ops', 'onChange(ops)');
    write('ops.json', { allow: ['files__*', 'memory__*'] });
    await changed;

    const after = s.get('ops');
    expect(after).not.toBe(before);
    expect(after?.decide('memory__read')).toEqual({ allowed: true, rule: 'allow: memory__*' });
    expect(before?.decide('memory__read').allowed).toBe(false);
    expect(logs.seen).toContainEqual(
      expect.objectContaining({ level: 'info', message: 'policy reloaded', agent: 'ops' }),
    );
  });

  it('follows a file replaced by rename, as some editors save', async () => {
    write('ops.json', { allow: ['files__*'] });
    const { s, changes } = watched();
    const changed = changes.next((agent) => agent === 'ops', 'onChange(ops)');
    write('ops.json.tmp', { allow: ['*'], deny: ['files__*'] });
    renameSync(path.join(dir, 'ops.json.tmp'), path.join(dir, 'ops.json'));
    await changed;
    expect(s.get('ops')?.decide('files__read')).toEqual({ allowed: false, rule: 'deny: files__*' });
  });

  it('picks up a new agent file', async () => {
    const { s, changes } = watched();
    expect(s.get('ci')).toBeUndefined();
    const changed = changes.next((agent) => agent === 'ci', 'onChange(ci)');
    write('ci.json', { tokens: [`sha256:${CI_DIGEST}`], allow: ['*'] });
    await changed;
    expect(s.get('ci')?.decide('x').allowed).toBe(true);
    expect(s.agentForToken(CI_TOKEN)).toBe('ci');
  });

  it('keeps the previous policy when the file becomes invalid JSON, and logs the file', async () => {
    write('ops.json', { allow: ['files__*'] });
    const { s } = watched();
    const before = s.get('ops');
    expect(before).toBeDefined();

    const logged = logs.next((line) => line.level === 'error' && line.agent === 'ops', 'an error about ops');
    write('ops.json', '{ "allow": ["*"');
    const line = await logged;

    expect(line.message).toBe('invalid policy: the previous version stays in force');
    expect(line.errors).toEqual([expect.stringMatching(/^ops\.json: \S/)]);
    expect(s.get('ops')).toBe(before);
    expect(s.errors()).toEqual([expect.stringMatching(/^ops\.json: /)]);
  });

  it('keeps the previous policy when the file breaks the schema', async () => {
    write('ops.json', { allow: ['files__*'] });
    const { s } = watched();
    const before = s.get('ops');
    const logged = logs.next(
      (line) => line.level === 'error' && line.agent === 'ops' && (line.errors?.length ?? 0) > 0,
      'a schema error about ops',
    );
    write('ops.json.tmp', { allow: ['*'], quotas: { '*': 'lots' } });
    renameSync(path.join(dir, 'ops.json.tmp'), path.join(dir, 'ops.json'));
    const line = await logged;
    expect(line.errors).toEqual([
      'ops.json: quotas.*: expected "N/window" with a whole number N ≥ 1 (use deny for none) and a window in s, m, h or d (e.g. "5/1h")',
    ]);
    expect(s.get('ops')).toBe(before);
  });

  it('takes the policy away when the file is deleted, and tells listeners', async () => {
    write('ops.json', { tokens: ['${OPS_TOKEN}'], allow: ['*'] });
    const { s, changes } = watched();
    expect(s.agentForToken(OPS_TOKEN)).toBe('ops');

    const changed = changes.next((agent) => agent === 'ops', 'onChange(ops)');
    unlinkSync(path.join(dir, 'ops.json'));
    await changed;

    expect(s.get('ops')).toBeUndefined();
    expect(s.agents()).toEqual([]);
    expect(s.agentForToken(OPS_TOKEN)).toBeUndefined();
    expect(s.hasTokens()).toBe(false);
    expect(logs.seen).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'policy file removed: the agent is refused everything now',
        agent: 'ops',
      }),
    );
  });
});

describe('PolicyStore.errors', () => {
  it('clears an agent’s problems once its file is valid again', () => {
    write('ops.json', { allow: ['files__*'] });
    const s = loaded();
    write('ops.json', { allow: 'files__*' });
    s.load();
    expect(s.errors()).toHaveLength(1);
    write('ops.json', { allow: ['*'] });
    s.load();
    expect(s.errors()).toEqual([]);
  });

  // An undo (or an editor that empties the file and writes the same content back) must
  // clear the problem it reported in between.
  it('clears an agent’s problems when its file is restored to the version in force', () => {
    write('ops.json', { allow: ['files__*'] });
    const s = loaded();
    write('ops.json', { allow: 'files__*' });
    s.load();
    expect(s.errors()).toHaveLength(1);
    write('ops.json', { allow: ['files__*'] });
    s.load();
    expect(s.errors()).toEqual([]);
  });
});

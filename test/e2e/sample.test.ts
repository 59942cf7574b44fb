import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProviders, type FakeProviders } from '../fixtures/fake-providers/index.js';
import { connectClient, type TestClient } from '../helpers/clients.js';
import { gatewayStdio } from '../helpers/gateway.js';
import { EVERYTHING, tempDir, writeConfig, writePolicy } from '../helpers/paths.js';
import { killAll } from '../helpers/processes.js';

/**
 * The model router as an MCP tool, through a real gateway process, against fake
 * providers that speak the real wire formats on 127.0.0.1.
 */
let fake: FakeProviders;
const dir = tempDir();
const db = path.join(dir, 'router.db');
let config = '';
type Json = Record<string, unknown>;

beforeAll(async () => {
  fake = await startFakeProviders();
  writePolicy(dir, 'default', { allow: ['*'] });
  writePolicy(dir, 'frugal', { allow: ['switchboard__sample'], models: { budgetUsd: '0.002/1d' } });
  writePolicy(dir, 'narrow', { allow: ['switchboard__sample'], models: { routes: ['cheap'] } });
  config = writeConfig(dir, {
    mcpServers: {
      routed: { command: 'node', args: [EVERYTHING, 'stdio'], sampling: 'router', isolation: 'session' },
      denied: { command: 'node', args: [EVERYTHING, 'stdio'], sampling: 'deny', isolation: 'session' },
    },
    models: {
      providers: {
        oa: { type: 'openai', baseUrl: fake.urls.openai, apiKey: 'sk-test-0123456789abcdef' },
        an: { type: 'anthropic', baseUrl: fake.urls.anthropic, apiKey: 'sk-ant-test-0123456789' },
      },
      prices: { 'oa/gpt-main': { input: 100, output: 100 }, 'an/claude-backup': { input: 3, output: 15 } },
      routes: {
        default: ['oa/gpt-main', 'an/claude-backup'],
        cheap: ['an/claude-backup'],
        free: ['oa/gpt-unpriced'],
      },
    },
  });
});
afterAll(async () => {
  await killAll();
  await fake?.close();
});

const ASK = { messages: [{ role: 'user', content: { type: 'text', text: 'Say hi' } }], maxTokens: 1 };
const structured = (result: Json) => result.structuredContent as Json;
const gateway = (agent: string) => connectClient('v1', gatewayStdio(config, ['--db', db, '--agent', agent]));

describe('switchboard__sample', () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await gateway('default');
  });
  afterAll(async () => client?.close());

  it('answers through the default route, with model, usage and cost, and audits them', async () => {
    fake.reset();
    const result = await client.callTool('switchboard__sample', ASK);
    expect(result.content).toEqual([{ type: 'text', text: 'hello from gpt-main' }]);
    expect(structured(result)).toMatchObject({
      model: 'gpt-main',
      provider: 'oa',
      route: 'default',
      usage: { inputTokens: 11, outputTokens: 7 },
      costUsd: 0.0018,
      unpriced: false,
    });
    expect(fake.requestsFor('gpt-main')).toHaveLength(1);
    const raw = new Database(db, { readonly: true });
    const row = raw
      .prepare(
        "SELECT model, provider, input_tokens, output_tokens, cost_usd, attempts FROM audit WHERE exposed_name = 'switchboard__sample' ORDER BY id DESC LIMIT 1",
      )
      .get() as Json;
    raw.close();
    expect(row).toMatchObject({
      model: 'gpt-main',
      provider: 'oa',
      input_tokens: 11,
      output_tokens: 7,
      cost_usd: 0.0018,
    });
    expect(JSON.parse(String(row.attempts))).toEqual([
      expect.objectContaining({ target: 'oa/gpt-main', status: 'ok' }),
    ]);
  });

  it('fails over when the first provider answers 503', async () => {
    fake.reset();
    fake.script('gpt-main', { status: 503 });
    const result = await client.callTool('switchboard__sample', ASK);
    expect(result.content).toEqual([{ type: 'text', text: 'hello from claude-backup' }]);
    const attempts = structured(result).attempts as Json[];
    expect(attempts.map((a) => [a.target, a.status])).toEqual([
      ['oa/gpt-main', 'error'],
      ['an/claude-backup', 'ok'],
    ]);
    expect(attempts[0]).toMatchObject({ httpStatus: 503 });
  });

  it('flags a model without a price instead of logging $0', async () => {
    fake.reset();
    const result = await client.callTool('switchboard__sample', { ...ASK, route: 'free' });
    expect(structured(result)).toMatchObject({ model: 'gpt-unpriced', costUsd: null, unpriced: true });
  });

  it('refuses an unknown route clearly', async () => {
    const result = await client.callTool('switchboard__sample', { ...ASK, route: 'nope' });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toMatch(/route/);
  });
});

describe('per-agent model limits', () => {
  it('refuses once the budget is spent', async () => {
    fake.reset();
    const frugal = await gateway('frugal');
    const first = await frugal.callTool('switchboard__sample', ASK);
    expect(first.isError).toBeFalsy();
    const second = await frugal.callTool('switchboard__sample', ASK);
    expect(second.isError).toBe(true);
    expect(JSON.stringify(second.content)).toMatch(/model budget \\"0.002\/1d\\" for agent \\"frugal\\" is spent/);
    expect(fake.requestsFor('gpt-main')).toHaveLength(1);
    await frugal.close();
  });

  it('allows only the routes the policy names', async () => {
    const narrow = await gateway('narrow');
    await expect(narrow.callTool('switchboard__sample', ASK)).rejects.toThrow(
      /route "default" is not allowed for agent "narrow" \(models\.routes: cheap\)/,
    );
    const allowed = await narrow.callTool('switchboard__sample', { ...ASK, route: 'cheap' });
    expect(structured(allowed)).toMatchObject({ route: 'cheap', model: 'claude-backup' });
    await narrow.close();
  });
});

describe('the sampling bridge', () => {
  it("answers an upstream's sampling request from the router when the server says so", async () => {
    fake.reset();
    const client = await gateway('default');
    const result = await client.callTool('routed__trigger-sampling-request', { prompt: 'bridge me', maxTokens: 5 });
    expect(JSON.stringify(result.content)).toContain('hello from gpt-main');
    expect(JSON.stringify(fake.requestsFor('gpt-main').at(-1)?.body)).toContain('bridge me');
    const denied = await client.callTool('denied__trigger-sampling-request', { prompt: 'no', maxTokens: 5 });
    expect(JSON.stringify(denied)).toMatch(/sampling is denied for server \\"denied\\"/);
    await client.close();
  });
});

describe('switchboard__models', () => {
  it('lists routes, prices and live health', async () => {
    const client = await gateway('default');
    const result = await client.callTool('switchboard__models', {});
    const report = structured(result) as { routes: Json[]; health: Json[] };
    expect(report.routes.map((r) => r.name).sort()).toEqual(['cheap', 'default', 'free']);
    expect(report.health.length).toBeGreaterThan(0);
    await client.close();
  });
});

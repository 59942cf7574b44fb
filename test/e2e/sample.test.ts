import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProviders, type FakeProviders } from '../fixtures/fake-providers/index.js';
import { connectClient, type TestClient } from '../helpers/clients.js';
import { gatewayStdio } from '../helpers/gateway.js';
import { EVERYTHING, tempDir, writeConfig, writePolicy } from '../helpers/paths.js';
import { killAll } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

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
  writePolicy(dir, 'metered', { allow: ['switchboard__sample'], models: { budgetUsd: '1/1d' } });
  writePolicy(dir, 'bridged', { allow: ['routed__*'], models: { budgetUsd: '0.004/1d' } });
  writePolicy(dir, 'bridge-narrow', { allow: ['routed__*'], models: { routes: ['cheap'] } });
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
        mixed: ['oa/gpt-unpriced', 'an/claude-backup'],
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
    // The outcome is committed within 10 ms of the call's end (with the next call's row, or alone).
    const row = await waitFor('the audit row to be finished', () => {
      const raw = new Database(db, { readonly: true });
      const found = raw
        .prepare(
          "SELECT status, model, provider, input_tokens, output_tokens, cost_usd, attempts FROM audit WHERE exposed_name = 'switchboard__sample' ORDER BY id DESC LIMIT 1",
        )
        .get() as Json | undefined;
      raw.close();
      return found && found.status !== 'pending' ? found : undefined;
    });
    expect(row).toMatchObject({
      status: 'ok',
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

  it('charges an unpriced answer in a priced route at the reservation, and audits it as unpriced', async () => {
    fake.reset();
    const metered = await gateway('metered');
    const result = await metered.callTool('switchboard__sample', { ...ASK, route: 'mixed' });
    await metered.close();
    expect(structured(result)).toMatchObject({ model: 'gpt-unpriced', costUsd: null, unpriced: true });
    // Rows reach the database in group commits within 10 ms.
    const row = await waitFor('the audit row to be finished', () => {
      const raw = new Database(db, { readonly: true });
      const found = raw
        .prepare("SELECT status, cost_usd, attempts FROM audit WHERE agent = 'metered' ORDER BY id DESC LIMIT 1")
        .get() as Json | undefined;
      raw.close();
      return found && found.status !== 'pending' ? found : undefined;
    });
    const raw = new Database(db, { readonly: true });
    const charged = raw
      .prepare("SELECT usd FROM budget_events WHERE agent = 'metered' ORDER BY id DESC LIMIT 1")
      .pluck()
      .get() as number;
    raw.close();
    expect(row.cost_usd).toBeNull();
    expect(JSON.parse(String(row.attempts))).toEqual([
      expect.objectContaining({ target: 'oa/gpt-unpriced', status: 'ok', unpriced: true }),
    ]);
    // The reservation: maxTokens (1) and the input estimate at claude-backup's price, never $0.
    expect(charged).toBeGreaterThanOrEqual(15 / 1e6);
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

  it('charges the answer to the budget of the agent whose call asked, and refuses once it is spent', async () => {
    fake.reset();
    // Each ask reserves about $0.003 (25 input tokens estimated and maxTokens 5, at $100/M):
    // the first fits in $0.004 and costs $0.0018; the second no longer fits.
    const client = await gateway('bridged');
    const first = await client.callTool('routed__trigger-sampling-request', { prompt: 'bridge me', maxTokens: 5 });
    expect(JSON.stringify(first.content)).toContain('hello from gpt-main');
    const second = await client.callTool('routed__trigger-sampling-request', { prompt: 'again', maxTokens: 5 });
    await client.close();
    expect(JSON.stringify(second)).toMatch(/model budget \\"0.004\/1d\\" for agent \\"bridged\\" is spent/);
    expect(fake.requestsFor('gpt-main')).toHaveLength(1);
    const raw = new Database(db, { readonly: true });
    const spent = raw.prepare("SELECT usd FROM budget_events WHERE agent = 'bridged' ORDER BY id").pluck().all();
    const rows = raw
      .prepare(
        "SELECT status, cost_usd FROM audit WHERE agent = 'bridged' AND method = 'sampling/createMessage' ORDER BY id",
      )
      .all();
    raw.close();
    expect(spent).toEqual([0.0018]);
    expect(rows).toEqual([
      { status: 'ok', cost_usd: 0.0018 },
      { status: 'quota', cost_usd: null },
    ]);
  });

  it("applies the asking agent's models.routes", async () => {
    fake.reset();
    const client = await gateway('bridge-narrow');
    const result = await client.callTool('routed__trigger-sampling-request', { prompt: 'bridge me', maxTokens: 5 });
    await client.close();
    expect(JSON.stringify(result)).toMatch(/route \\"default\\" is not allowed for agent \\"bridge-narrow\\"/);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('switchboard__models', () => {
  it('lists routes, prices and live health', async () => {
    const client = await gateway('default');
    const result = await client.callTool('switchboard__models', {});
    const report = structured(result) as { routes: Json[]; health: Json[] };
    expect(report.routes.map((r) => r.name).sort()).toEqual(['cheap', 'default', 'free', 'mixed']);
    expect(report.health.length).toBeGreaterThan(0);
    await client.close();
  });
});

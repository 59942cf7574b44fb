import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProviders, type FakeProviders } from '../fixtures/fake-providers/index.js';
import { connectClient, type TestClient } from '../helpers/clients.js';
import { startGatewayHttp } from '../helpers/gateway.js';
import { RECORDER, tempDir, writeConfig } from '../helpers/paths.js';
import { killAll } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

/**
 * OpenTelemetry: with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a local collector stub
 * (plain HTTP, OTLP/JSON), a `switchboard__sample` call arrives as a server span with a
 * child span per model attempt carrying the GenAI attributes; the router's counters
 * move on /metrics.
 */
type Attr = {
  key: string;
  value: { stringValue?: string; intValue?: string; doubleValue?: number; boolValue?: boolean };
};
type Span = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Attr[];
  status: { code: number; message?: string };
};

let collector: Server;
const received: { headers: Record<string, unknown>; resource: Attr[]; spans: Span[] }[] = [];
let fake: FakeProviders;
let client: TestClient;
let base = '';

const attrs = (span: Span) =>
  Object.fromEntries(
    span.attributes.map((a) => [
      a.key,
      a.value.stringValue ??
        (a.value.intValue !== undefined ? Number(a.value.intValue) : (a.value.doubleValue ?? a.value.boolValue)),
    ]),
  );
const spans = () => received.flatMap((r) => r.spans);

beforeAll(async () => {
  collector = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type'] === 'application/json') {
        const parsed = JSON.parse(body) as {
          resourceSpans: { resource: { attributes: Attr[] }; scopeSpans: { spans: Span[] }[] }[];
        };
        for (const rs of parsed.resourceSpans) {
          received.push({
            headers: req.headers,
            resource: rs.resource.attributes,
            spans: rs.scopeSpans.flatMap((s) => s.spans),
          });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  fake = await startFakeProviders();
  const dir = tempDir();
  const config = writeConfig(dir, {
    mcpServers: { recorder: { command: 'node', args: [RECORDER] } },
    models: {
      providers: {
        oa: { type: 'openai', baseUrl: fake.urls.openai, apiKey: 'sk-test-0123456789abcdef' },
        an: { type: 'anthropic', baseUrl: fake.urls.anthropic, apiKey: 'sk-ant-test-0123456789' },
      },
      prices: { 'oa/gpt-main': { input: 100, output: 100 }, 'an/claude-backup': { input: 3, output: 15 } },
      routes: { default: ['oa/gpt-main', 'an/claude-backup'] },
    },
  });
  const gateway = await startGatewayHttp(config, [], {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=s3cret%20value',
    OTEL_SERVICE_NAME: 'switchboard-under-test',
  });
  base = gateway.base;
  client = await connectClient('v1', { url: gateway.url });
});
afterAll(async () => {
  await client?.close();
  await killAll();
  await fake?.close();
  await new Promise((resolve) => collector?.close(resolve));
});

const ASK = {
  messages: [{ role: 'user', content: { type: 'text', text: 'Say hi' } }],
  maxTokens: 64,
  temperature: 0.2,
};

describe('OpenTelemetry traces', () => {
  it('exports a switchboard__sample call with a GenAI span per attempt, failover included', async () => {
    fake.reset();
    fake.script('gpt-main', { status: 503 });
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const result = await client.callTool('switchboard__sample', { ...ASK, _meta: undefined }, {
      meta: { traceparent },
    } as never);
    expect(result.isError).toBeFalsy();

    const call = await waitFor('the call span', () => spans().find((s) => s.name === 'tools/call switchboard__sample'));
    const chats = await waitFor('two attempt spans', () => {
      const found = spans().filter((s) => s.parentSpanId === call.spanId);
      return found.length === 2 ? found : undefined;
    });
    expect(call.kind).toBe(2); // SERVER
    expect(attrs(call)).toMatchObject({
      'mcp.method.name': 'tools/call',
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'switchboard__sample',
      'switchboard.agent': 'default',
      'switchboard.status': 'ok',
      'switchboard.route': 'default',
    });
    // The caller's trace continues through the gateway.
    expect(call.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(call.parentSpanId).toBe('b7ad6b7169203331');

    const [failed, answered] = chats.sort((a, b) =>
      BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1,
    );
    for (const chat of [failed!, answered!]) {
      expect(chat.kind).toBe(3); // CLIENT
      expect(chat.traceId).toBe(call.traceId);
    }
    expect(failed!.name).toBe('chat gpt-main');
    expect(failed!.status.code).toBe(2);
    expect(attrs(failed!)).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'oa',
      'gen_ai.request.model': 'gpt-main',
      'http.response.status_code': 503,
      'switchboard.attempt.status': 'error',
    });
    expect(answered!.name).toBe('chat claude-backup');
    expect(answered!.status.code).toBe(0);
    expect(attrs(answered!)).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'an',
      'gen_ai.request.model': 'claude-backup',
      'gen_ai.response.model': 'claude-backup',
      'gen_ai.request.max_tokens': 64,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.usage.input_tokens': 11,
      'gen_ai.usage.output_tokens': 7,
    });
    const finish = answered!.attributes.find((a) => a.key === 'gen_ai.response.finish_reasons')?.value as unknown;
    expect(finish).toEqual({ arrayValue: { values: [{ stringValue: 'endTurn' }] } });
    // A whole number stays a double where the convention says double.
    expect(answered!.attributes.find((a) => a.key === 'gen_ai.request.temperature')?.value).toEqual({
      doubleValue: 0.2,
    });
    expect(BigInt(answered!.startTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(failed!.endTimeUnixNano));
    expect(BigInt(answered!.endTimeUnixNano)).toBeLessThanOrEqual(BigInt(call.endTimeUnixNano));

    const batch = received.find((r) => r.spans.includes(call))!;
    expect(batch.headers['x-collector-key']).toBe('s3cret value');
    expect(Object.fromEntries(batch.resource.map((a) => [a.key, a.value.stringValue]))).toMatchObject({
      'service.name': 'switchboard-under-test',
    });
  });

  it('exports a plain tool call, and a failed one with an error status', async () => {
    await client.callTool('recorder__echo', { text: 'traced' });
    await client.callTool('recorder__fail', {});
    const echo = await waitFor('the echo span', () => spans().find((s) => s.name === 'tools/call recorder__echo'));
    const fail = await waitFor('the fail span', () => spans().find((s) => s.name === 'tools/call recorder__fail'));
    expect(attrs(echo)).toMatchObject({ 'switchboard.server': 'recorder', 'switchboard.status': 'ok' });
    expect(echo.status.code).toBe(0);
    expect(fail.status.code).toBe(2);
    expect(attrs(fail)['error.type']).toBe('error');
  });

  it('counts router attempts, failovers, tokens and cost on /metrics', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/switchboard_model_attempts_total\{target="oa\/gpt-main",status="error"\} 1/);
    expect(text).toMatch(/switchboard_model_attempts_total\{target="an\/claude-backup",status="ok"\} 1/);
    expect(text).toMatch(/switchboard_model_failovers_total\{route="default"\} 1/);
    expect(text).toMatch(/switchboard_model_tokens_total\{model="claude-backup",direction="output"\} 7/);
    expect(text).toMatch(/switchboard_model_cost_usd_total\{model="claude-backup"\} 0\.000138/);
    expect(text).toMatch(/switchboard_model_breaker_state\{target="oa\/gpt-main"\} 0/);
  });
});

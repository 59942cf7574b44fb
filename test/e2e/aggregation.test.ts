import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type ClientKind, type Target, type TestClient } from '../helpers/clients.js';
import { gatewayStdio, startGatewayHttp } from '../helpers/gateway.js';
import { EVERYTHING, FILESYSTEM, MEMORY, RECORDER, tempDir, writeConfig } from '../helpers/paths.js';
import { killAll, startProcess } from '../helpers/processes.js';
import { startEverythingHttp } from '../helpers/upstreams.js';
import { readRecords, waitFor } from '../helpers/wait.js';
import { mkdirSync, realpathSync } from 'node:fs';

/**
 * The whole aggregation path with real processes: server-everything over stdio, its own
 * streamable HTTP and SSE modes, server-memory and server-filesystem over stdio, and a
 * recording server, all behind one gateway; clients of both protocol eras in front, over
 * the gateway's stdio and HTTP front doors.
 */
const dir = tempDir();
const sandbox = path.join(dir, 'sandbox');
mkdirSync(sandbox);
const recordFile = path.join(dir, 'recorder.jsonl');
const recordHttpFile = path.join(dir, 'recorder-http.jsonl');
let configFile = '';
let httpUrl = '';
let direct: TestClient;

type Json = Record<string, unknown>;
type Block = { type: string; text?: string; uri?: string };

beforeAll(async () => {
  const [streamable, sse, recorderHttp] = await Promise.all([
    startEverythingHttp('streamableHttp'),
    startEverythingHttp('sse'),
    startProcess(process.execPath, [RECORDER, '--http', '0'], {
      env: { RECORD_FILE: recordHttpFile },
      ready: /recorder listening on (\d+)/,
    }),
  ]);
  configFile = writeConfig(dir, {
    mcpServers: {
      everything: { command: 'node', args: [EVERYTHING, 'stdio'] },
      'everything-http': { type: 'http', url: streamable.url },
      'everything-sse': { type: 'sse', url: sse.url },
      memory: { command: 'node', args: [MEMORY], env: { MEMORY_FILE_PATH: './memory.jsonl' } },
      files: { command: 'node', args: [FILESYSTEM, './sandbox'] },
      recorder: { command: 'node', args: [RECORDER], env: { RECORD_FILE: recordFile } },
      'recorder-http': { type: 'http', url: `http://127.0.0.1:${recorderHttp.match![1]}/mcp` },
    },
  });
  httpUrl = (await startGatewayHttp(configFile)).url;
  direct = await connectClient('v1', { stdio: { command: process.execPath, args: [EVERYTHING, 'stdio'] } });
});

afterAll(async () => {
  await direct?.close();
  await killAll();
});

const sampled: Json[] = [];
const elicited: Json[] = [];
const handlers = {
  sampling: async (params: Json) => {
    sampled.push(params);
    return { model: 'test-model', role: 'assistant', content: { type: 'text', text: 'sampled by the test client' } };
  },
  elicitation: async (params: Json) => {
    elicited.push(params);
    return { action: 'accept', content: { name: 'Ada Lovelace' } };
  },
};

const rows: { kind: ClientKind; door: 'stdio' | 'http'; era: string }[] = [
  { kind: 'v1', door: 'stdio', era: 'legacy' },
  { kind: 'v1', door: 'http', era: 'legacy' },
  { kind: 'v2', door: 'stdio', era: 'modern' },
  { kind: 'v2', door: 'http', era: 'modern' },
];

describe.each(rows)('$kind client over the gateway $door front door', ({ kind, door, era }) => {
  let client: TestClient;
  beforeAll(async () => {
    const target: Target = door === 'stdio' ? gatewayStdio(configFile) : { url: httpUrl };
    client = await connectClient(kind, target, handlers);
  });
  afterAll(async () => client?.close());

  it(`negotiates the ${era} era`, () => {
    expect(client.era()).toBe(era);
  });

  it('lists the merged, namespaced tools of every upstream', async () => {
    const names = (await client.listTools()).map((t) => t.name as string);
    for (const name of [
      'everything__echo',
      'everything-http__echo',
      'everything-sse__echo',
      'everything__trigger-sampling-request',
      'memory__create_entities',
      'memory__read_graph',
      'files__list_allowed_directories',
      'files__write_file',
      'recorder__wait',
    ]) {
      expect(names).toContain(name);
    }
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });

  it('returns the same content as a direct call, through every upstream transport', async () => {
    const expected = await direct.callTool('get-sum', { a: 2, b: 40 });
    for (const server of ['everything', 'everything-http', 'everything-sse']) {
      const result = await client.callTool(`${server}__get-sum`, { a: 2, b: 40 });
      expect(result.content).toEqual(expected.content);
    }
  });

  it('keeps structuredContent', async () => {
    const result = await client.callTool('everything__get-structured-content', { location: 'Chicago' });
    const structured = result.structuredContent as Json;
    expect(Object.keys(structured).sort()).toEqual(['conditions', 'humidity', 'temperature']);
    expect(JSON.parse((result.content as Block[])[0]!.text!)).toEqual(structured);
  });

  // A streamable HTTP upstream's progress, sampling and elicitation requests arrive on
  // the SSE stream of the call's own POST: the same relay, another path to test.
  it.each(['everything', 'everything-http'])("relays the upstream's progress to the caller (%s)", async (server) => {
    const seen: { progress: number; total?: number }[] = [];
    const result = await client.callTool(
      `${server}__trigger-long-running-operation`,
      { duration: 0.6, steps: 3 },
      { onprogress: (p) => seen.push(p) },
    );
    expect((result.content as Block[])[0]!.text).toContain('Long running operation completed');
    // The gateway writes the last progress before the result (test/e2e/wire.test.ts checks
    // the bytes), but both SDK clients may drop a progress notification that lands in the
    // same read as the response.
    expect([
      [1, 2],
      [1, 2, 3],
    ]).toContainEqual(seen.map((p) => p.progress));
    expect(seen.every((p) => p.total === 3)).toBe(true);
  });

  it('passes an abort on to a streamable HTTP upstream as a cancellation', async () => {
    const before = readRecords(recordHttpFile).length;
    const received = (method: string) =>
      readRecords(recordHttpFile)
        .slice(before)
        .filter((r) => r.event === 'received' && (r.message as Json).method === method)
        .map((r) => r.message as Json);
    const controller = new AbortController();
    const call = client.callTool('recorder-http__wait', { ms: 20_000 }, { signal: controller.signal });
    const [request] = await waitFor('the wait call to reach the upstream', () =>
      received('tools/call').length > 0 ? received('tools/call') : undefined,
    );
    controller.abort();
    await expect(call).rejects.toThrow();
    await waitFor('the cancellation to reach the upstream', () =>
      received('notifications/cancelled').find((m) => (m.params as Json).requestId === request!.id),
    );
  });

  it('passes an abort on to the upstream as a cancellation', async () => {
    const before = readRecords(recordFile).length;
    const controller = new AbortController();
    const call = client.callTool('recorder__wait', { ms: 20_000 }, { signal: controller.signal });
    const received = await waitFor('the wait call to reach the upstream', () =>
      readRecords(recordFile)
        .slice(before)
        .find((r) => (r.message as Json | undefined)?.method === 'tools/call'),
    );
    controller.abort();
    await expect(call).rejects.toThrow();
    const requestId = (received.message as Json).id;
    const cancelled = await waitFor('the cancellation to reach the upstream', () =>
      readRecords(recordFile)
        .slice(before)
        .find(
          (r) =>
            (r.message as Json | undefined)?.method === 'notifications/cancelled' &&
            ((r.message as Json).params as Json).requestId === requestId,
        ),
    );
    expect(cancelled).toBeDefined();
    await waitFor('the upstream handler to see the abort', () =>
      readRecords(recordFile).find((r) => r.event === 'aborted' && r.requestId === requestId),
    );
  });

  it.each(['everything', 'everything-http'])(
    "answers an upstream's sampling request from the calling client (%s)",
    async (server) => {
      const before = sampled.length;
      const result = await client.callTool(`${server}__trigger-sampling-request`, { prompt: 'Say hi', maxTokens: 20 });
      expect(sampled.length).toBe(before + 1);
      expect(JSON.stringify(sampled.at(-1))).toContain('Say hi');
      expect((result.content as Block[])[0]!.text).toContain('sampled by the test client');
    },
  );

  it.each(['everything', 'everything-http'])(
    "answers an upstream's elicitation request from the calling client (%s)",
    async (server) => {
      const before = elicited.length;
      const result = await client.callTool(`${server}__trigger-elicitation-request`, {});
      expect(elicited.length).toBe(before + 1);
      expect(elicited.at(-1)?.requestedSchema).toBeDefined();
      expect(JSON.stringify(result.content)).toContain('Ada Lovelace');
    },
  );

  it('maps resource links so they read back through the gateway', async () => {
    const result = await client.callTool('everything__get-resource-links', { count: 2 });
    const links = (result.content as Block[]).filter((b) => b.type === 'resource_link');
    expect(links).toHaveLength(2);
    for (const link of links) {
      expect(link.uri).toMatch(/^switchboard:\/\/everything\/demo:\/\/resource\//);
      const read = await client.readResource(link.uri!);
      const contents = read.contents as { uri: string; text?: string; blob?: string }[];
      expect(contents[0]!.uri).toBe(link.uri);
      expect(contents[0]!.text ?? contents[0]!.blob).toBeTruthy();
    }
  });

  it('lists resources, templates and prompts under the gateway names', async () => {
    const resources = await client.listResources();
    expect(resources.map((r) => r.uri)).toContain(
      'switchboard://everything/demo://resource/static/document/features.md',
    );
    const templates = await client.listResourceTemplates();
    expect(templates.map((t) => t.uriTemplate)).toContain(
      'switchboard://everything/demo://resource/dynamic/text/{resourceId}',
    );
    const prompts = (await client.listPrompts()).map((p) => p.name);
    expect(prompts).toContain('everything__args-prompt');
    const prompt = await client.getPrompt('everything__args-prompt', { city: 'Lyon' });
    expect(JSON.stringify(prompt.messages)).toContain('Lyon');
    const read = await client.readResource('switchboard://everything/demo://resource/dynamic/text/7');
    expect((read.contents as { uri: string }[])[0]!.uri).toBe(
      'switchboard://everything/demo://resource/dynamic/text/7',
    );
  });

  it('round-trips memory: create_entities, then read_graph', async () => {
    const name = `entity-${kind}-${door}`;
    await client.callTool('memory__create_entities', {
      entities: [{ name, entityType: 'test', observations: ['made through the gateway'] }],
    });
    const graph = await client.callTool('memory__read_graph', {});
    expect(JSON.stringify(graph.content)).toContain(name);
  });

  it("reaches filesystem's list_allowed_directories", async () => {
    const result = await client.callTool('files__list_allowed_directories', {});
    expect((result.content as Block[])[0]!.text).toContain(realpathSync(sandbox));
  });

  it('refuses an unknown tool with a protocol error', async () => {
    await expect(client.callTool('nope__missing', {})).rejects.toThrow(/Unknown tool: nope__missing/);
  });
});

import { mkdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type ClientKind, type Target, type TestClient } from '../helpers/clients.js';
import { gatewayStdio, startGatewayHttp } from '../helpers/gateway.js';
import { EVERYTHING, FILESYSTEM, MEMORY, RECORDER, tempDir, writeConfig } from '../helpers/paths.js';
import { killAll } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

/** What flows without a request: list changes, log messages, resource updates, and roots. */
const dir = tempDir();
let configFile = '';
let httpUrl = '';
type Json = Record<string, unknown>;

beforeAll(async () => {
  configFile = writeConfig(dir, {
    mcpServers: {
      everything: { command: 'node', args: [EVERYTHING, 'stdio'] },
      memory: { command: 'node', args: [MEMORY], env: { MEMORY_FILE_PATH: './memory.jsonl' } },
      recorder: { command: 'node', args: [RECORDER] },
    },
  });
  httpUrl = (await startGatewayHttp(configFile)).url;
});
afterAll(killAll);

const rows: { kind: ClientKind; door: 'stdio' | 'http' }[] = [
  { kind: 'v1', door: 'stdio' },
  { kind: 'v1', door: 'http' },
  { kind: 'v2', door: 'stdio' },
  { kind: 'v2', door: 'http' },
];

describe.each(rows)('$kind client over $door', ({ kind, door }) => {
  it("announces an upstream's new tool with list_changed", async () => {
    let changes = 0;
    const target: Target = door === 'stdio' ? gatewayStdio(configFile) : { url: httpUrl };
    const client = await connectClient(kind, target, { toolsChanged: () => changes++ });
    await client.listTools();
    const name = `fresh_${kind}_${door}`;
    const before = changes;
    await client.callTool('recorder__add-tool', { name });
    await waitFor('tools/list_changed', () => changes > before);
    expect((await client.listTools()).map((t) => t.name)).toContain(`recorder__${name}`);
    await client.close();
  });
});

describe.each(['stdio', 'http'] as const)('2025-era sessions over %s', (door) => {
  let client: TestClient;
  const logs: Json[] = [];
  const updates: string[] = [];
  beforeAll(async () => {
    const target: Target = door === 'stdio' ? gatewayStdio(configFile) : { url: httpUrl };
    client = await connectClient('v1', target, {
      log: (p) => logs.push(p),
      resourceUpdated: (uri) => updates.push(uri),
    });
  });
  afterAll(async () => client?.close());

  it('relays upstream log messages, tagged with the server, once a level is set', async () => {
    await client.setLoggingLevel('debug');
    await client.callTool('everything__toggle-simulated-logging', {});
    const message = await waitFor(
      'a log message from everything',
      () => logs.find((l) => String(l.logger).startsWith('everything')),
      15_000,
    );
    expect(message.level).toBeDefined();
    await client.callTool('everything__toggle-simulated-logging', {});
  });

  it('forwards resources/subscribe and maps resources/updated back to the gateway URI', async () => {
    const uri = 'switchboard://memory/memory://knowledge-graph';
    expect((await client.listResources()).map((r) => r.uri)).toContain(uri);
    await client.subscribe(uri);
    await client.callTool('memory__create_entities', {
      entities: [{ name: `watched-${door}`, entityType: 'test', observations: [] }],
    });
    await waitFor('resources/updated', () => updates.includes(uri));
  });
});

describe('server→client requests on a shared connection', () => {
  it('are refused, naming the fix, when calls from two sessions are in flight', async () => {
    const busy = await connectClient('v1', { url: httpUrl });
    const asker = await connectClient(
      'v1',
      { url: httpUrl },
      {
        sampling: async () => ({
          model: 'm',
          role: 'assistant',
          content: { type: 'text', text: 'should not be asked' },
        }),
      },
    );
    const long = busy.callTool('everything__trigger-long-running-operation', { duration: 2, steps: 2 });
    const result = await asker.callTool('everything__trigger-sampling-request', { prompt: 'whose?' });
    expect(JSON.stringify(result)).toMatch(/several sessions are in flight.*isolation.*session/);
    await long;
    await busy.close();
    await asker.close();
  });
});

describe('isolation: "session"', () => {
  const isolatedConfig = () => {
    const root = path.join(dir, 'isolated');
    mkdirSync(path.join(root, 'default-dir'), { recursive: true });
    mkdirSync(path.join(root, 'client-root'), { recursive: true });
    return {
      root,
      file: writeConfig(
        root,
        {
          mcpServers: {
            everything: { command: 'node', args: [EVERYTHING, 'stdio'], isolation: 'session' },
            files: { command: 'node', args: [FILESYSTEM, './default-dir'], isolation: 'session' },
          },
        },
        'isolated.json',
      ),
    };
  };

  it('gives each session its own connection, so concurrent sampling reaches the right client', async () => {
    const { file } = isolatedConfig();
    const gateway = await startGatewayHttp(file);
    const make = (who: string) =>
      connectClient(
        'v1',
        { url: gateway.url },
        {
          sampling: async () => ({
            model: 'm',
            role: 'assistant',
            content: { type: 'text', text: `answered by ${who}` },
          }),
        },
      );
    const [a, b] = await Promise.all([make('alice'), make('bob')]);
    const busy = b.callTool('everything__trigger-long-running-operation', { duration: 1.5, steps: 2 });
    const result = await a.callTool('everything__trigger-sampling-request', { prompt: 'whose?' });
    expect(JSON.stringify(result)).toContain('answered by alice');
    await busy;
    const fromB = await b.callTool('everything__trigger-sampling-request', { prompt: 'whose?' });
    expect(JSON.stringify(fromB)).toContain('answered by bob');
    await a.close();
    await b.close();
  });

  it("lets the server ask the session's client for its roots", async () => {
    const { root, file } = isolatedConfig();
    const clientRoot = realpathSync(path.join(root, 'client-root'));
    const client = await connectClient('v1', gatewayStdio(file), {
      roots: async () => ({ roots: [{ uri: pathToFileURL(clientRoot).href, name: 'client root' }] }),
    });
    const listed = async () => JSON.stringify((await client.callTool('files__list_allowed_directories', {})).content);
    // server-filesystem replaces its command-line directories with the client's roots once it has asked.
    await waitFor('the client roots to be adopted', async () => (await listed()).includes(clientRoot) || undefined);
    expect(await listed()).not.toContain('default-dir');
    await client.close();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type ClientKind, type Target, type TestClient } from '../helpers/clients.js';
import { gatewayStdio, startGatewayHttp } from '../helpers/gateway.js';
import { RECORDER, tempDir, writeConfig, writePolicy } from '../helpers/paths.js';
import { killAll } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

/**
 * An agent learns nothing about upstreams its policy hides: `switchboard__status` and
 * the server instructions name only the servers it may use something of.
 */
const dir = tempDir();
let configFile = '';
let httpUrl = '';

beforeAll(async () => {
  writePolicy(dir, 'default', { allow: ['open__*', 'switchboard__status'] });
  configFile = writeConfig(dir, {
    mcpServers: {
      open: { command: 'node', args: [RECORDER], env: { INSTRUCTIONS: 'Open: use echo to echo.' } },
      secret: { command: 'node', args: [RECORDER], env: { INSTRUCTIONS: 'Secret: the vault is in the basement.' } },
    },
  });
  const gateway = await startGatewayHttp(configFile);
  httpUrl = gateway.url;
  // Instructions are taken when a session starts: both upstreams must have connected.
  await waitFor('both upstreams ready', async () => {
    const health = (await (await fetch(`${gateway.base}/healthz`)).json()) as { status: string };
    return health.status === 'ok';
  });
});
afterAll(killAll);

const rows: { kind: ClientKind; door: 'stdio' | 'http' }[] = [
  { kind: 'v1', door: 'stdio' },
  { kind: 'v1', door: 'http' },
  { kind: 'v2', door: 'stdio' },
  { kind: 'v2', door: 'http' },
];

describe.each(rows)('a $kind client over $door whose policy hides a server', ({ kind, door }) => {
  let client: TestClient;
  beforeAll(async () => {
    const target: Target = door === 'stdio' ? gatewayStdio(configFile) : { url: httpUrl };
    client = await connectClient(kind, target);
  });
  afterAll(async () => client?.close());

  it('sees only the servers it may use in switchboard__status', async () => {
    const result = (await client.callTool('switchboard__status', {})) as {
      content: { text: string }[];
      structuredContent: { upstreams: { name: string }[] };
    };
    expect(result.structuredContent.upstreams.map((u) => u.name)).toEqual(['open']);
    expect(result.content[0]?.text).toMatch(/^open: /);
    expect(result.content[0]?.text).not.toContain('secret');
  });

  // Over stdio the gateway starts with its client, so its upstreams may not be up yet.
  it.runIf(door === 'http')("gets only those servers' instructions", () => {
    expect(client.instructions()).toContain('Open: use echo to echo.');
    expect(client.instructions()).not.toContain('vault');
  });
});

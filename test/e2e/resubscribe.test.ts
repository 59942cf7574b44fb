import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type TestClient } from '../helpers/clients.js';
import { startGatewayHttp } from '../helpers/gateway.js';
import { RECORDER, tempDir, writeConfig } from '../helpers/paths.js';
import { killAll } from '../helpers/processes.js';
import { readRecords, waitFor } from '../helpers/wait.js';

/**
 * A resource subscription outlives the upstream process it was sent to: after the
 * upstream restarts, or a reload of servers.json replaces its connection, the gateway
 * subscribes again for the sessions that still hold it.
 */
const dir = tempDir();
const records = path.join(dir, 'watched.jsonl');
const URI = 'switchboard://watched/recorder://watched';
let configFile = '';
let client: TestClient;
type Json = Record<string, unknown>;

const servers = (generation: string) => ({
  mcpServers: {
    watched: {
      command: 'node',
      args: [RECORDER],
      env: { SUBSCRIBE_DELAY_MS: '0', RECORD_FILE: records, GENERATION: generation },
    },
  },
});

/** The processes the upstream has been (one `started` record each) and what each received. */
const processes = () => {
  const seen: { pid: unknown; methods: string[] }[] = [];
  for (const record of readRecords(records)) {
    if (record.event === 'started') seen.push({ pid: record.pid, methods: [] });
    const method = (record.message as Json | undefined)?.method;
    if (record.event === 'received' && typeof method === 'string') seen.at(-1)?.methods.push(method);
  }
  return seen;
};
const subscribedIn = (n: number) => processes()[n]?.methods.includes('resources/subscribe');

beforeAll(async () => {
  configFile = writeConfig(dir, servers('1'));
  const gateway = await startGatewayHttp(configFile);
  await waitFor('the upstream to be ready', async () => {
    const health = (await (await fetch(`${gateway.base}/healthz`)).json()) as { status: string };
    return health.status === 'ok';
  });
  client = await connectClient('v1', { url: gateway.url });
});
afterAll(async () => {
  await client?.close();
  await killAll();
});

describe('resource subscriptions', () => {
  it('are sent again to a restarted upstream', async () => {
    await client.subscribe(URI);
    expect(subscribedIn(0)).toBe(true);
    await client.callTool('watched__crash', {}).catch(() => undefined);
    await waitFor('the restarted upstream to be subscribed', () => subscribedIn(1), 30_000);
  });

  it('move to the connection that replaced the old one on a reload', async () => {
    writeFileSync(configFile, JSON.stringify(servers('2'), null, 2));
    await waitFor('the replacement to be subscribed', () => subscribedIn(2), 30_000);
    // And they are the replacement's now: unsubscribing reaches it.
    await client.unsubscribe(URI);
    await waitFor('the unsubscribe to reach the replacement', () =>
      processes()[2]?.methods.includes('resources/unsubscribe'),
    );
  });
});

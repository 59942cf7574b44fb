import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectClient, type TestClient } from '../helpers/clients.js';
import { startGatewayHttp } from '../helpers/gateway.js';
import { tempDir, writeConfig } from '../helpers/paths.js';
import { killAll } from '../helpers/processes.js';
import { startEverythingHttp } from '../helpers/upstreams.js';

/**
 * Many calls through a streamable HTTP upstream. The SDK's client transport hands one
 * long-lived AbortSignal to every request's fetch, and Node's fetch leaves a listener on
 * it per request until garbage collection: past 1,500 the gateway printed
 * MaxListenersExceededWarning and spent more CPU per call as the list grew.
 */
const CALLS = 2_000;
const IN_FLIGHT = 20;

let gateway: Awaited<ReturnType<typeof startGatewayHttp>>;
let client: TestClient;

beforeAll(async () => {
  const upstream = await startEverythingHttp('streamableHttp');
  const dir = tempDir();
  const configFile = writeConfig(dir, { mcpServers: { remote: { type: 'http', url: upstream.url } } });
  // A roomy young generation: garbage collection must not hide the leak by running often.
  gateway = await startGatewayHttp(configFile, [], { NODE_OPTIONS: '--max-semi-space-size=128' });
  client = await connectClient('v2', { url: gateway.url });
});

afterAll(async () => {
  await client?.close();
  await killAll();
});

it(`makes ${CALLS} calls through an HTTP upstream without leaking abort listeners`, async () => {
  let next = 0;
  const answers: string[] = [];
  const worker = async () => {
    while (next < CALLS) {
      const n = next++;
      const result = await client.callTool('remote__echo', { message: `m${n}` });
      answers.push((result.content as { text: string }[])[0]!.text);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  expect(answers).toHaveLength(CALLS);
  expect(answers).toContain(`Echo: m${CALLS - 1}`);
  expect(gateway.output()).not.toMatch(/MaxListenersExceededWarning/);
}, 120_000);

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type ClientKind, type Target, type TestClient } from '../helpers/clients.js';
import { gatewayStdio, startGatewayHttp } from '../helpers/gateway.js';
import { RECORDER, tempDir, writeConfig } from '../helpers/paths.js';
import { killAll } from '../helpers/processes.js';

/**
 * An upstream that asks its client something (here elicitation) while it computes a
 * completion: the request must reach the client whose completion/complete it is, in
 * the 2025-11-25 era, like requests sent during a tools/call; in the 2026-07-28 era,
 * where completion/complete cannot answer input_required, it is refused, saying why.
 */
const dir = tempDir();
let configFile = '';
let httpUrl = '';
type Json = Record<string, unknown>;

beforeAll(async () => {
  configFile = writeConfig(dir, {
    mcpServers: { rec: { command: 'node', args: [RECORDER], env: { COMPLETE_ASKS: '1' } } },
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

describe.each(rows)('completion/complete from a $kind client over $door', ({ kind, door }) => {
  let client: TestClient;
  const asked: Json[] = [];
  beforeAll(async () => {
    const target: Target = door === 'stdio' ? gatewayStdio(configFile) : { url: httpUrl };
    client = await connectClient(kind, target, {
      elicitation: async (params) => {
        asked.push(params);
        return { action: 'accept', content: { dir: `docs-${kind}-${door}` } };
      },
    });
  });
  afterAll(async () => client?.close());

  const complete = () =>
    client.complete({
      ref: { type: 'ref/prompt', name: 'rec__pick' },
      argument: { name: 'dir', value: 'do' },
    }) as Promise<{
      completion: { values: string[] };
    }>;

  it.runIf(kind === 'v1')("routes the upstream's elicitation mid-completion to this client", async () => {
    const result = await complete();
    expect(asked).toHaveLength(1);
    expect(String(asked[0]?.message)).toContain('Which folder starting with "do"?');
    expect(result.completion.values).toEqual([`docs-${kind}-${door}`]);
  });

  // 2026-07-28: completion/complete cannot answer input_required, so the client cannot be asked.
  it.runIf(kind === 'v2')("refuses the upstream's elicitation, saying why, and asks no one", async () => {
    await expect(complete()).rejects.toThrow(
      /elicitation\/create cannot reach a 2026-07-28 client during completion\/complete/,
    );
    expect(asked).toHaveLength(0);
  });
});

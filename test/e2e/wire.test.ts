import { afterAll, describe, expect, it } from 'vitest';
import { BIN, EVERYTHING, tempDir, writeConfig } from '../helpers/paths.js';
import { WireClient } from '../helpers/wire.js';

/** The frames themselves, as the gateway writes them on stdio. */
const dir = tempDir();
const config = writeConfig(dir, { mcpServers: { everything: { command: 'node', args: [EVERYTHING, 'stdio'] } } });
const wire = WireClient.start(process.execPath, [BIN, 'serve', '--config', config], { SWITCHBOARD_LOG_LEVEL: 'warn' });
afterAll(() => wire.close());

describe('on the wire', () => {
  it('writes every progress notification before the result it belongs to', async () => {
    await wire.initialize();
    wire.send({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name: 'everything__trigger-long-running-operation',
        arguments: { duration: 0.3, steps: 3 },
        _meta: { progressToken: 'p-1' },
      },
    });
    const result = await wire.response(1);
    const index = wire.received.indexOf(result);
    const progress = wire.received
      .slice(0, index)
      .filter((m) => m.method === 'notifications/progress')
      .map((m) => m.params);
    expect(progress).toEqual([
      { progressToken: 'p-1', progress: 1, total: 3 },
      { progressToken: 'p-1', progress: 2, total: 3 },
      { progressToken: 'p-1', progress: 3, total: 3 },
    ]);
  });
});

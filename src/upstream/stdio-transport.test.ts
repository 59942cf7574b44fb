import type { JSONRPCMessage } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../observability/index.js';
import { StdioUpstreamTransport } from './stdio-transport.js';

/** A child that writes `text` (a JS expression, evaluated there) to stdout in one write, then waits to be closed. */
async function read(text: string, maxMessageBytes: number): Promise<JSONRPCMessage[]> {
  const transport = new StdioUpstreamTransport(
    {
      command: process.execPath,
      args: ['-e', `process.stdout.write(${text}); setInterval(() => {}, 1000)`],
      cwd: undefined,
      env: {},
      maxMessageBytes,
    },
    silentLogger,
  );
  const seen: JSONRPCMessage[] = [];
  const done = new Promise<void>((resolve) => {
    transport.onmessage = (message) => {
      seen.push(message);
      if ((message as { id?: unknown }).id === 'last') resolve();
    };
  });
  await transport.start();
  await done;
  await transport.close();
  return seen;
}

const line = (message: unknown) => `${JSON.stringify(message)}\n`;
const last = { jsonrpc: '2.0', id: 'last', result: {} };

describe('StdioUpstreamTransport, maxMessageBytes', () => {
  it('answers the request of an oversized answer with an error, drops an oversized request of the server, reads on', async () => {
    const big = 'x'.repeat(5000);
    const seen = await read(
      JSON.stringify(
        line({ result: { text: big }, jsonrpc: '2.0', id: 'sb1-1' }) + // id at the end (the SDK's order)
          line({ method: 'sampling/createMessage', params: { text: big }, jsonrpc: '2.0', id: 0 }) +
          line({ jsonrpc: '2.0', id: 'sb1-2', result: { text: 'small' } }) +
          line(last),
      ),
      1000,
    );
    expect(seen).toEqual([
      {
        jsonrpc: '2.0',
        id: 'sb1-1',
        error: {
          code: -32603,
          message: expect.stringMatching(
            /^the upstream's result is over 50\d\d bytes, .*maxResultBytes: 1000\)$/,
          ) as string,
        },
      },
      { jsonrpc: '2.0', id: 'sb1-2', result: { text: 'small' } },
      last,
    ]);
  }, 15_000);

  it('skips thousands of oversized lines in one chunk (a loop, not a recursion per line)', async () => {
    // A limit of 5: every line is over, the last one an answer to `last` (its id at the start).
    const lines = `${JSON.stringify('{"a":1}\n')}.repeat(20000) + ${JSON.stringify('{"id":"last"}\n')}`;
    const seen = await read(lines, 5);
    expect(seen).toEqual([{ jsonrpc: '2.0', id: 'last', error: expect.objectContaining({ code: -32603 }) as unknown }]);
  }, 15_000);
});

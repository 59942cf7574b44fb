import { createServer, type Server, type ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { EventScanner, limitedFetch, OversizedMessageError, type SkippedEvent } from './message-limit.js';

const bytes = (text: string) => new TextEncoder().encode(text);

/** What a scanner makes of these chunks: the events passed on (as text) and those skipped. */
function scan(limit: number, chunks: string[]) {
  const scanner = new EventScanner(limit);
  const out: (Uint8Array | SkippedEvent)[] = [];
  for (const chunk of chunks) scanner.push(bytes(chunk), out);
  return out.map((item) => (item instanceof Uint8Array ? new TextDecoder().decode(item) : item));
}

describe('EventScanner', () => {
  it('passes on whole events only, across chunks, with LF or CRLF line ends (a CRLF split between chunks too)', () => {
    expect(scan(100, ['data: a\n', '\ndata: b', '\r\n\r', '', '\ndata: c\n'])).toEqual([
      'data: a\n\n',
      'data: b\r\n\r\n',
    ]);
  });

  it('skips an oversized event, even inside one chunk between others, and reads its id off either end', () => {
    const answer = JSON.stringify({ result: { text: 'x'.repeat(50) }, jsonrpc: '2.0', id: 'sb1-9' });
    const first = JSON.stringify({ jsonrpc: '2.0', id: 7, result: { text: 'y'.repeat(50) } });
    expect(scan(40, [`data: a\n\ndata: ${answer}\n\ndata: ${first}\n\ndata: b\n\n`])).toEqual([
      'data: a\n\n',
      { bytes: 8 + answer.length, request: false, id: 'sb1-9' },
      { bytes: 8 + first.length, request: false, id: 7 },
      'data: b\n\n',
    ]);
  });

  it("tells a request or notification of the server's from an answer", () => {
    const request = JSON.stringify({ method: 'roots/list', params: { x: 'z'.repeat(50) }, jsonrpc: '2.0', id: 0 });
    const other = JSON.stringify({
      jsonrpc: '2.0',
      id: 3,
      method: 'sampling/createMessage',
      params: { x: 'z'.repeat(50) },
    });
    expect(scan(40, [`data: ${request}\n\n`, `data: ${other}\n\n`])).toEqual([
      { bytes: 8 + request.length, request: true, id: 0 },
      { bytes: 8 + other.length, request: true, id: 3 },
    ]);
  });
});

let server: Server | undefined;
async function serve(handler: (res: ServerResponse, body: string) => void): Promise<string> {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => handler(res, body));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}
afterEach(async () => {
  if (!server) return;
  server.closeAllConnections();
  await new Promise((resolve) => server!.close(resolve));
  server = undefined;
});

const LIMIT = 1000;
const fetchLimited = limitedFetch(LIMIT);
const post = (url: string, id: number) =>
  fetchLimited(url, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call' }) });

async function events(response: Response): Promise<EventSourceMessage[]> {
  const seen: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => seen.push(event) });
  parser.feed(await response.text());
  return seen;
}

describe('limitedFetch', () => {
  it('refuses a body whose declared length is over the limit without reading it', async () => {
    const url = await serve((res) =>
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 5000 }).end('x'.repeat(5000)),
    );
    const error = await post(url, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OversizedMessageError);
    expect((error as Error).message).toBe(
      "the upstream's result is over 5000 bytes, more than the gateway accepts (gateway.maxResultBytes: 1000)",
    );
  });

  it('measures a compressed body as fetch unpacks it, not by its declared (packed) length', async () => {
    const packed = gzipSync('x'.repeat(5000));
    const url = await serve((res) =>
      res
        .writeHead(200, {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          'content-length': packed.length,
        })
        .end(packed),
    );
    await expect((await post(url, 1)).text()).rejects.toThrow(/maxResultBytes: 1000/);
  });

  it('passes a body within the limit untouched, and fails a chunked one once it is over', async () => {
    const url = await serve((res, body) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if ((JSON.parse(body) as { id: number }).id === 1) {
        res.end('{"ok":true}');
        return;
      }
      for (let i = 0; i < 10; i++) res.write('y'.repeat(300)); // no length: chunked
      res.end();
    });
    expect(await (await post(url, 1)).json()).toEqual({ ok: true });
    await expect((await post(url, 2)).text()).rejects.toThrow(/over \d+ bytes.*maxResultBytes: 1000/);
  });

  it('passes on whole events, skips an oversized one and answers the POSTed request with the error in its place', async () => {
    const small = 'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress"}\n\n';
    const url = await serve((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(small);
      // 15 + 6 + 1,200 + 2 = 1,223 bytes; no id at either end, so the POST's is used.
      res.write(`event: message\ndata: ${'z'.repeat(600)}`);
      setTimeout(() => res.end('z'.repeat(600) + '\n\n' + small), 20);
    });
    const seen = await events(await post(url, 7));
    expect(seen).toHaveLength(3); // the oversized event is not passed on, not even cut short
    expect(seen[0]!.data).toContain('notifications/progress');
    expect(JSON.parse(seen[1]!.data)).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: {
        code: -32603,
        message:
          "the upstream's result is over 1223 bytes, more than the gateway accepts (gateway.maxResultBytes: 1000)",
      },
    });
    expect(seen[2]!.data).toContain('notifications/progress');
  });

  it("drops an oversized request or notification of the server's without answering anything", async () => {
    const url = await serve((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: message\ndata: {"method":"notifications/message","params":{"data":"${'z'.repeat(2000)}"}}\n\n`);
      res.end('event: message\ndata: {"jsonrpc":"2.0","id":7,"result":{}}\n\n');
    });
    const seen = await events(await post(url, 7));
    expect(seen.map((e) => JSON.parse(e.data) as unknown)).toEqual([{ jsonrpc: '2.0', id: 7, result: {} }]);
  });

  it("answers the request an oversized event on the GET stream was for (its id read off the event's end), and reads on", async () => {
    const skipped: number[] = [];
    const fetchLogged = limitedFetch(LIMIT, (bytes) => skipped.push(bytes));
    const answer = JSON.stringify({
      result: { content: [{ type: 'text', text: 'z'.repeat(2000) }] },
      jsonrpc: '2.0',
      id: 42,
    });
    const url = await serve((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // CRLF line ends, in small pieces.
      const text = `event: message\r\ndata: ${answer}\r\n\r\nevent: message\r\ndata: {"jsonrpc":"2.0","id":43,"result":{}}\r\n\r\n`;
      for (let i = 0; i < text.length; i += 100) res.write(text.slice(i, i + 100));
      res.end();
    });
    const seen = await events(await fetchLogged(url, { method: 'GET' }));
    expect(seen.map((e) => JSON.parse(e.data) as unknown)).toEqual([
      {
        jsonrpc: '2.0',
        id: 42,
        error: { code: -32603, message: expect.stringContaining('maxResultBytes: 1000') as string },
      },
      { jsonrpc: '2.0', id: 43, result: {} },
    ]);
    expect(skipped).toEqual([Buffer.byteLength(`event: message\r\ndata: ${answer}\r\n\r\n`)]);
  });
});

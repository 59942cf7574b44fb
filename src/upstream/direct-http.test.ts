import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SdkHttpError, type JSONRPCMessage, type StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { streamablePost } from './direct-http.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server | undefined;
const seen: { method: string; headers: IncomingMessage['headers']; body: string }[] = [];

async function serve(handler: Handler): Promise<URL> {
  seen.length = 0;
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method!, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

const errors: Error[] = [];
const transport = {
  sessionId: 'session-1',
  protocolVersion: '2025-11-25',
  onerror: (error: Error) => errors.push(error),
} as unknown as StreamableHTTPClientTransport;

const request = { jsonrpc: '2.0', id: 'sb1-7', method: 'tools/call', params: { name: 'echo' } } as JSONRPCMessage;
const answer = { jsonrpc: '2.0', id: 'sb1-7', result: { content: [] } };
const progress = { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 't', progress: 1 } };
const sse = (...events: string[]) => events.join('');
const event = (message: unknown, id?: string) =>
  `${id ? `id: ${id}\n` : ''}event: message\ndata: ${JSON.stringify(message)}\n\n`;

async function post(url: URL, signal: AbortSignal, limit = 1024 * 1024) {
  const delivered: JSONRPCMessage[] = [];
  const done = streamablePost(
    transport,
    url,
    { authorization: 'Bearer configured' },
    { maxMessageBytes: limit },
  )(request, signal, (m) => delivered.push(m));
  return { done, delivered };
}

const LIMIT = 4096;
const big = { jsonrpc: '2.0', id: 'sb1-7', result: { content: [{ type: 'text', text: 'x'.repeat(LIMIT) }] } };
const tooBig = (bytes: number) => ({
  jsonrpc: '2.0',
  id: 'sb1-7',
  error: {
    code: -32603,
    message: `the upstream's result is over ${bytes} bytes, more than the gateway accepts (gateway.maxResultBytes: ${LIMIT})`,
  },
});

describe('streamablePost', () => {
  it("sends the session's headers and the configured ones, and reads a JSON answer", async () => {
    const url = await serve((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer)),
    );
    const { done, delivered } = await post(url, AbortSignal.timeout(5_000));
    await done;
    expect(delivered).toEqual([answer]);
    const { headers, body } = seen[0]!;
    expect(headers['mcp-session-id']).toBe('session-1');
    expect(headers['mcp-protocol-version']).toBe('2025-11-25');
    expect(headers.authorization).toBe('Bearer configured');
    expect(headers.accept).toBe('application/json, text/event-stream');
    expect(headers['content-type']).toBe('application/json');
    expect(JSON.parse(body)).toEqual(request);
  });

  it('delivers the messages of an SSE answer in order, the progress before the result', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(event(progress));
      setTimeout(() => res.end(event(answer)), 20);
    });
    const { done, delivered } = await post(url, AbortSignal.timeout(5_000));
    await done;
    expect(delivered).toEqual([progress, answer]);
  });

  it('answers the request with an error naming the limit when a JSON answer declares more than gateway.maxResultBytes', async () => {
    const body = JSON.stringify(big);
    const url = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
    errors.length = 0;
    const { done, delivered } = await post(url, AbortSignal.timeout(5_000), LIMIT);
    await done;
    expect(delivered).toEqual([tooBig(Buffer.byteLength(body))]);
    expect(errors.map((e) => e.message)).toEqual([tooBig(Buffer.byteLength(body)).error.message]);
  });

  it('stops reading a chunked JSON answer (no length given) once it is over the limit', async () => {
    let written = 0;
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // An answer that never ends: the client must stop reading it, not the server stop writing.
      const more = () => {
        if (res.destroyed) return;
        written += 1024;
        if (res.write('['.repeat(1024))) setImmediate(more);
        else res.once('drain', more);
      };
      more();
    });
    const { done, delivered } = await post(url, AbortSignal.timeout(5_000), LIMIT);
    await done;
    expect(delivered).toHaveLength(1);
    expect((delivered[0] as { error: { message: string } }).error.message).toMatch(
      /^the upstream's result is over \d+ bytes, more than the gateway accepts \(gateway\.maxResultBytes: 4096\)$/,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(written).toBeLessThan(2 * 1024 * 1024); // the connection was closed under it
  });

  it('passes on the events before an oversized SSE event, then answers with an error naming the limit', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // One chunk: the progress event and the whole oversized answer.
      res.end(event(progress) + event(big));
    });
    const { done, delivered } = await post(url, AbortSignal.timeout(5_000), LIMIT);
    await done;
    expect(delivered).toHaveLength(2);
    expect(delivered[0]).toEqual(progress);
    expect((delivered[1] as { error: { message: string } }).error.message).toContain('gateway.maxResultBytes: 4096');
  });

  it("skips an oversized request or notification of the server's and reads on to the answer", async () => {
    const question = { method: 'sampling/createMessage', params: { text: 'q'.repeat(LIMIT) }, jsonrpc: '2.0', id: 0 };
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(event(question).slice(0, 1000));
      setTimeout(() => res.end(event(question).slice(1000) + event(answer)), 20);
    });
    const { done, delivered } = await post(url, AbortSignal.timeout(5_000), LIMIT);
    await done;
    expect(delivered).toEqual([answer]); // not an error for id 0, nor for the call
  });

  it("reads no more than a glimpse of an error's body", async () => {
    const url = await serve((_req, res) => res.writeHead(500).end('e'.repeat(1024 * 1024)));
    const { done } = await post(url, AbortSignal.timeout(5_000));
    const error = (await done.catch((e: unknown) => e)) as SdkHttpError;
    expect(error.status).toBe(500);
    expect(error.message.length).toBeLessThanOrEqual('Error POSTing to endpoint: '.length + 64 * 1024);
  });

  it('measures each SSE event on its own: many events within the limit add up to more without harm', async () => {
    const small = event(progress);
    const count = Math.ceil((2 * LIMIT) / small.length);
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(small.repeat(count).replaceAll('\n', '\r\n') + event(answer));
    });
    const { done, delivered } = await post(url, AbortSignal.timeout(5_000), LIMIT);
    await done;
    expect(delivered).toHaveLength(count + 1);
    expect(delivered.at(-1)).toEqual(answer);
  });

  it('refuses a non-2xx answer as the SDK transport does, with the status and the body', async () => {
    const url = await serve((_req, res) => res.writeHead(404).end('Session not found'));
    const { done } = await post(url, AbortSignal.timeout(5_000));
    const error = await done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SdkHttpError);
    expect((error as SdkHttpError).status).toBe(404);
    expect((error as Error).message).toBe('Error POSTing to endpoint: Session not found');
  });

  it('fails at once when the stream ends without the answer and cannot be resumed', async () => {
    const url = await serve((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/event-stream' }).end(event(progress)),
    );
    const { done, delivered } = await post(url, AbortSignal.timeout(5_000));
    await expect(done).rejects.toThrow('the upstream ended its response without answering the request');
    expect(delivered).toEqual([progress]);
  });

  it('resumes a broken stream with Last-Event-ID when the server gave event ids', async () => {
    const url = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (req.method === 'POST') {
        // retry: tells the client how long to wait before resuming.
        res.write('retry: 10\n\n' + event(progress, 'e1'));
        setTimeout(() => res.destroy(), 20);
      } else {
        res.end(event(answer, 'e2'));
      }
    });
    const { done, delivered } = await post(url, AbortSignal.timeout(5_000));
    await done;
    expect(delivered).toEqual([progress, answer]);
    expect(seen.map((r) => r.method)).toEqual(['POST', 'GET']);
    expect(seen[1]!.headers['last-event-id']).toBe('e1');
    expect(seen[1]!.headers['mcp-session-id']).toBe('session-1');
  });

  it('follows a server that closes the stream on purpose again and again (SSE polling)', async () => {
    let round = 0;
    const url = await serve((_req, res) => {
      round++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // Five streams of progress, each closed before the answer, then the answer.
      if (round <= 5) res.end('retry: 5\n\n' + event(progress, `e${round}`));
      else res.end(event(answer, `e${round}`));
    });
    const { done, delivered } = await post(url, AbortSignal.timeout(5_000));
    await done;
    expect(delivered).toHaveLength(6);
    expect(delivered.at(-1)).toEqual(answer);
    expect(seen.slice(1).map((r) => r.headers['last-event-id'])).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
  });

  it('gives up after two resumptions in a row that bring nothing', async () => {
    const url = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(req.method === 'POST' ? 'retry: 5\n\n' + event(progress, 'e1') : '');
    });
    const { done } = await post(url, AbortSignal.timeout(5_000));
    await expect(done).rejects.toThrow('the upstream ended its response without answering the request');
    expect(seen.map((r) => r.method)).toEqual(['POST', 'GET', 'GET']);
  });

  it('skips what is not JSON-RPC in a stream, saying so, and delivers the rest', async () => {
    errors.length = 0;
    const url = await serve((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'text/event-stream' })
        .end(sse('data: not json\n\n', 'data: [1]\n\n', event(answer))),
    );
    const { done, delivered } = await post(url, AbortSignal.timeout(5_000));
    await done;
    expect(delivered).toEqual([answer]);
    expect(errors.map((e) => e.message)).toEqual([
      'skipped a message that is not JSON-RPC 2.0',
      'skipped a message that is not JSON-RPC 2.0',
    ]);
  });

  it('returns on 202 (the answer comes on the GET stream) and refuses an unexpected content type', async () => {
    let status = 202;
    const url = await serve((_req, res) =>
      status === 202 ? res.writeHead(202).end() : res.writeHead(200, { 'content-type': 'text/html' }).end('<p>'),
    );
    await (
      await post(url, AbortSignal.timeout(5_000))
    ).done;
    status = 200;
    await expect((await post(url, AbortSignal.timeout(5_000))).done).rejects.toThrow(
      'Unexpected content type: text/html',
    );
  });

  it('an abort ends the request with its reason', async () => {
    const url = await serve((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/event-stream' }).write(event(progress)),
    );
    const controller = new AbortController();
    const { done, delivered } = await post(url, controller.signal);
    await expect.poll(() => delivered.length).toBe(1);
    controller.abort(new Error('cancelled by the caller'));
    await expect(done).rejects.toThrow('cancelled by the caller');
  });
});

import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownSignalFetch } from './own-signal-fetch.js';

let server: Server;
let base = '';
/** Streams of events the test ends by hand. */
const open = new Set<() => void>();

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: first\n\n');
    open.add(() => res.end('data: last\n\n'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const end of open) end();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;

describe('ownSignalFetch', () => {
  it('leaves no listener on the shared signal once a request is done', async () => {
    const shared = new AbortController().signal;
    const fetchOwn = ownSignalFetch();
    for (let i = 0; i < 300; i++) {
      const response = await fetchOwn(`${base}/json`, { method: 'POST', body: '{}', signal: shared });
      expect(await response.json()).toEqual({ ok: true });
    }
    // Node's fetch on the shared signal itself left one listener per request until GC.
    expect(listeners(shared)).toBe(0);
  });

  it('holds one listener on the shared signal however many requests are in flight', async () => {
    const shared = new AbortController().signal;
    const fetchOwn = ownSignalFetch();
    const streams = await Promise.all(Array.from({ length: 30 }, () => fetchOwn(`${base}/sse`, { signal: shared })));
    // Node warns past 10 listeners on an AbortSignal (the SDK's transport signal has no raised limit for ours).
    expect(listeners(shared)).toBe(1);
    for (const end of open) end();
    open.clear();
    await Promise.all(streams.map((response) => response.text()));
    expect(listeners(shared)).toBe(0);
  });

  it('keeps a stream of events abortable until it ends, then lets go', async () => {
    const shared = new AbortController().signal;
    const response = await ownSignalFetch()(`${base}/sse`, { signal: shared });
    expect(listeners(shared)).toBe(1);
    const reader = response.body!.getReader();
    let text = '';
    const decoder = new TextDecoder();
    const first = await reader.read();
    text += decoder.decode(first.value);
    for (const end of open) end();
    open.clear();
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value);
    }
    expect(text).toBe('data: first\n\ndata: last\n\n');
    expect(listeners(shared)).toBe(0);
  });

  it('aborts requests in flight when the shared signal aborts (the transport closes)', async () => {
    const transport = new AbortController();
    const response = await ownSignalFetch()(`${base}/sse`, { signal: transport.signal });
    const reader = response.body!.getReader();
    await reader.read();
    transport.abort(new Error('closed'));
    await expect(reader.read()).rejects.toThrow();
    expect(listeners(transport.signal)).toBe(0);
    open.clear();
  });

  it('lets go of the signal when the request fails', async () => {
    const shared = new AbortController().signal;
    await expect(ownSignalFetch()('http://127.0.0.1:1/', { signal: shared })).rejects.toThrow();
    expect(listeners(shared)).toBe(0);
  });
});

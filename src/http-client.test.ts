import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { pooledFetch } from './http-client.js';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function serve(
  handle: (req: IncomingMessage, body: string) => [number, Record<string, string>, string] | 'drop' | 'reset',
) {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const answer = handle(req, body);
      if (answer === 'drop') return void req.socket.destroy();
      if (answer === 'reset') return void req.socket.resetAndDestroy();
      const [status, headers, text] = answer;
      res.writeHead(status, headers).end(text);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const post = (url: string, signal = new AbortController().signal) =>
  pooledFetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}', signal });

describe('pooledFetch (the HTTP client of the router and of HTTP upstreams)', () => {
  it('posts the body with its length and a user agent, and reads status, headers and text', async () => {
    const base = await serve((req, body) => [
      201,
      { 'content-type': 'application/json', 'x-echo': String(req.headers['user-agent']) },
      JSON.stringify({ body, length: req.headers['content-length'] }),
    ]);
    const response = await post(`${base}/v1/chat`);
    expect(response).toMatchObject({ ok: true, status: 201 });
    expect(response.headers.get('Content-Type')).toBe('application/json');
    expect(response.headers.get('x-echo')).toBe('switchboard');
    expect(JSON.parse(await response.text())).toEqual({ body: '{"a":1}', length: '7' });
  });

  it('follows a 307/308 with the same method and body, and returns other statuses as they are', async () => {
    const base = await serve((req, body) =>
      req.url === '/old'
        ? [308, { location: '/new' }, '']
        : req.url === '/gone'
          ? [301, { location: '/new' }, '']
          : [200, {}, `${req.method} ${req.url} ${body}`],
    );
    expect(await (await post(`${base}/old`)).text()).toBe('POST /new {"a":1}');
    expect((await post(`${base}/gone`)).status).toBe(301);
  });

  it.each([
    ['closed under it', 'drop'],
    ['reset under it (ECONNRESET)', 'reset'],
  ] as const)('sends a request again on a new connection when a kept-alive one was %s', async (_case, fault) => {
    let requests = 0;
    const base = await serve(() => {
      requests++;
      // The second request arrives on the first one's socket: the server drops or resets
      // it, as a server whose keep-alive just ran out does.
      return requests === 2 ? fault : [200, {}, `answer ${requests}`];
    });
    expect(await (await post(base)).text()).toBe('answer 1');
    // A moment later the first connection is back in the pool (right after the body is
    // read it may not be yet, and a second one would be opened).
    await sleep(20);
    expect(await (await post(base)).text()).toBe('answer 3');
  });

  it('sends each header once whatever the case of its name, the last one winning, without framing headers', async () => {
    const base = await serve((req) => [200, {}, JSON.stringify(req.rawHeaders)]);
    const response = await pooledFetch(`${base}/`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer api-key',
        Authorization: 'Bearer configured',
        'User-Agent': 'mine',
        Connection: 'close',
        'Content-Length': '999',
      },
      body: '{}',
      signal: new AbortController().signal,
    });
    const raw = JSON.parse(await response.text()) as string[];
    const named = (name: string) => raw.filter((_, i) => i % 2 === 0 && raw[i]!.toLowerCase() === name).length;
    expect(named('authorization')).toBe(1);
    expect(raw[raw.findIndex((h) => h.toLowerCase() === 'authorization') + 1]).toBe('Bearer configured');
    expect(raw[raw.findIndex((h) => h.toLowerCase() === 'user-agent') + 1]).toBe('mine');
    expect(raw[raw.findIndex((h) => h.toLowerCase() === 'content-length') + 1]).toBe('2');
  });

  it('sends credentials in the URL as Basic auth, as node:http did', async () => {
    const base = await serve((req) => [200, {}, String(req.headers.authorization)]);
    const url = base.replace('http://', 'http://user%40x:p%3Ass@');
    const response = await pooledFetch(url, {
      method: 'POST',
      headers: {},
      body: '{}',
      signal: new AbortController().signal,
    });
    expect(await response.text()).toBe(`Basic ${Buffer.from('user@x:p:ss').toString('base64')}`);
  });

  it('does not send again a request that must not run twice (retryStale: false)', async () => {
    let requests = 0;
    const base = await serve(() => (++requests === 2 ? 'drop' : [200, {}, `answer ${requests}`]));
    expect(await (await post(base)).text()).toBe('answer 1');
    await sleep(20);
    const once = pooledFetch(base, {
      method: 'POST',
      headers: {},
      body: '{}',
      signal: new AbortController().signal,
      retryStale: false,
    });
    await expect(once).rejects.toThrow();
    expect(requests).toBe(2);
  });

  it('does not follow a redirect to another origin: the headers would go along', async () => {
    let elsewhere = 0;
    const other = createServer((_req, res) => {
      elsewhere++;
      res.end('leaked');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const target = `http://127.0.0.1:${(other.address() as AddressInfo).port}/steal`;
      const base = await serve(() => [307, { location: target }, '']);
      const response = await post(`${base}/old`);
      expect(response.status).toBe(307);
      expect(elsewhere).toBe(0);
    } finally {
      other.closeAllConnections();
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('reads a body that comes in pieces (a character split between them), and fails one cut short', async () => {
    // 'é' is two bytes in UTF-8: the first piece ends half-way through it.
    const bytes = Buffer.from('{"text":"café au lait"}');
    const split = bytes.indexOf(0xc3) + 1;
    const reason = new Error('stop');
    let held: (() => void) | undefined;
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(bytes.length) });
      res.write(bytes.subarray(0, split));
      if (req.url === '/whole') setTimeout(() => res.end(bytes.subarray(split)), 20);
      else if (req.url === '/cut') setTimeout(() => req.socket.destroy(), 20);
      else held = () => res.end(bytes.subarray(split));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect(await (await post(`${base}/whole`)).text()).toBe('{"text":"café au lait"}');
    await expect((await post(`${base}/cut`)).text()).rejects.toThrow(/aborted|closed/);
    const during = new AbortController();
    const reading = (await post(`${base}/held`, during.signal)).text();
    during.abort(reason);
    await expect(reading).rejects.toBe(reason);
    held?.();
  });

  it('rejects with the signal reason when aborted before or during the request', async () => {
    const base = await serve(() => 'drop');
    const reason = new Error('stop');
    await expect(post(base, AbortSignal.abort(reason))).rejects.toBe(reason);
    const during = new AbortController();
    const pending = post(base, during.signal);
    during.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeFetch } from './http-client.js';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function serve(
  handle: (req: IncomingMessage, body: string) => [number, Record<string, string>, string] | 'drop',
) {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const answer = handle(req, body);
      if (answer === 'drop') return void req.socket.destroy();
      const [status, headers, text] = answer;
      res.writeHead(status, headers).end(text);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const post = (url: string, signal = new AbortController().signal) =>
  nodeFetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}', signal });

describe('nodeFetch (the router HTTP client)', () => {
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

  it('sends a request again on a new connection when a kept-alive one was closed under it', async () => {
    let requests = 0;
    const base = await serve(() => {
      requests++;
      // The second request arrives on the first one's socket: the server drops it, as a
      // server whose keep-alive just ran out does.
      return requests === 2 ? 'drop' : [200, {}, `answer ${requests}`];
    });
    expect(await (await post(base)).text()).toBe('answer 1');
    expect(await (await post(base)).text()).toBe('answer 3');
  });

  it('does not send again a request that must not run twice (retryStale: false)', async () => {
    let requests = 0;
    const base = await serve(() => (++requests === 2 ? 'drop' : [200, {}, `answer ${requests}`]));
    expect(await (await post(base)).text()).toBe('answer 1');
    const once = nodeFetch(base, {
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

import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** What the gateway asks of an HTTP client: `fetch`'s shape, the part it uses. */
export type ProviderFetch = (
  url: string,
  init: {
    method: string;
    headers: Record<string, string>;
    body: string;
    signal: AbortSignal;
    /**
     * Send again on a new socket when a reused keep-alive socket fails before any answer
     * (default true). Off for requests that must never run twice (a relayed tool call):
     * the server may have read it before the connection dropped.
     */
    retryStale?: boolean;
  },
) => Promise<ProviderResponse>;

/** Response headers, read by name (a WHATWG `Headers` is one). */
export interface HeaderReader {
  get(name: string): string | null;
}

export interface ProviderResponse {
  ok: boolean;
  status: number;
  headers: HeaderReader;
  body: AsyncIterable<Uint8Array> | null;
  text(): Promise<string>;
}

// Keep-alive pools: a provider or an upstream is called again and again, a new TLS
// handshake each time would cost more than the call. No cap on sockets per host (as
// undici): a cap would queue calls behind long ones (an upstream's long tool calls, or
// answer streams a server keeps open). An idle socket is closed after 4 s, before a
// typical server's keep-alive timeout (Node's: 5 s) would close it under a new request.
const POOL = { keepAlive: true, timeout: 4_000 };
const agents = { http: new HttpAgent(POOL), https: new HttpsAgent(POOL) };

class NodeResponse implements ProviderResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: HeaderReader;

  constructor(readonly body: IncomingMessage) {
    this.status = body.statusCode ?? 0;
    this.ok = this.status >= 200 && this.status < 300;
    const raw = body.headers;
    this.headers = {
      get: (name) => {
        const value = raw[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      },
    };
  }

  async text(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
}

/** Redirects followed: 307/308 (they keep the method and body), within the same origin. */
const MAX_REDIRECTS = 5;
const USER_AGENT = 'switchboard';

/**
 * The gateway's HTTP client for hot paths (the router's provider calls, and relayed
 * requests to a 2025-era streamable HTTP upstream, see upstream/direct-http.ts):
 * node:http(s) with keep-alive, in place of the global `fetch`.
 * Undici's fetch builds WHATWG Request/Response objects and web streams for every call;
 * on the router's path it was most of the gateway's own CPU per call (profiled: Node
 * internals 44 %, `writev`, `makeTransferable`, `DOMException`). The response body is
 * the socket stream itself, so streamed answers are read as they arrive; aborting the
 * signal destroys the request, and the promise (or the body being read) rejects with
 * the signal's reason, as `fetch` does.
 */
export const nodeFetch: ProviderFetch = async (url, init) => {
  const body = Buffer.from(init.body);
  let target = new URL(url);
  for (let redirects = 0; ; redirects++) {
    let response: NodeResponse;
    try {
      response = await send(target, init, body);
    } catch (error) {
      // A kept-alive socket the server closed just before we wrote on it: once more on a
      // new one (what Node's documentation advises; fetch does the same).
      if (!(error instanceof StaleSocketError) || init.retryStale === false) throw error;
      response = await send(target, init, body, true);
    }
    const location = response.headers.get('location');
    if ((response.status !== 307 && response.status !== 308) || !location || redirects === MAX_REDIRECTS) {
      return response;
    }
    // Only within the same origin: the headers (an API key, a bearer token, a session id)
    // go along, and must not reach another host or leave TLS. Any other redirect is
    // returned as it is, and fails as a status.
    const next = new URL(location, target);
    if (next.origin !== target.origin) return response;
    response.body.resume(); // drain it, so the socket goes back to the pool
    target = next;
  }
};

/** The request failed on a reused keep-alive socket before any answer. */
class StaleSocketError extends Error {}

function send(target: URL, init: Parameters<ProviderFetch>[1], body: Buffer, fresh = false): Promise<NodeResponse> {
  return new Promise((resolve, reject) => {
    const { signal } = init;
    if (signal.aborted) return reject(signal.reason);
    const secure = target.protocol === 'https:';
    if (!secure && target.protocol !== 'http:') return reject(new TypeError(`unsupported URL scheme: ${target.href}`));
    const req = (secure ? httpsRequest : httpRequest)(target, {
      method: init.method,
      headers: { 'user-agent': USER_AGENT, ...init.headers, 'content-length': String(body.length) },
      // A fresh socket for a retry: agent false opens one outside the pool.
      agent: fresh ? false : secure ? agents.https : agents.http,
    });
    const onAbort = () => req.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    const done = () => signal.removeEventListener('abort', onAbort);
    req.once('error', (error: NodeJS.ErrnoException) => {
      done();
      if (signal.aborted) return reject(signal.reason);
      const stale = req.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
      reject(stale ? new StaleSocketError(error.message, { cause: error }) : error);
    });
    req.once('response', (res) => {
      res.once('end', done);
      res.once('close', done);
      // A body read after an abort fails with the reason, like fetch's.
      res.once('error', () => undefined);
      resolve(new NodeResponse(res));
    });
    req.end(body);
  });
}

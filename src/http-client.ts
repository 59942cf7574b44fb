import type { Dispatcher } from 'undici';

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

// One keep-alive pool per origin (undici's Agent): a provider or an upstream is called
// again and again, and a new TLS handshake each time would cost more than the call. No
// cap on connections per origin: a cap would queue calls behind long ones (an upstream's
// long tool calls, or answer streams a server keeps open). An idle connection is closed
// after 4 s at most (sooner when the server's Keep-Alive header says so), before a
// typical server (Node's: 5 s) closes it under a new request. No headers or body
// timeout: the callers have their own (the router's attempt timers, the upstream's
// request timeout), and an SSE stream may rightly stay quiet for long.
const KEEP_ALIVE_MS = 4_000;
const POOL = { keepAliveTimeout: KEEP_ALIVE_MS, keepAliveMaxTimeout: KEEP_ALIVE_MS, headersTimeout: 0, bodyTimeout: 0 };

let agent: Dispatcher | undefined;
/** undici loads on the first request: a gateway with no HTTP upstream and no model routes never needs it. */
async function pool(): Promise<Dispatcher> {
  if (!agent) {
    const { Agent } = await import('undici');
    agent ??= new Agent(POOL);
  }
  return agent;
}

type Body = Dispatcher.ResponseData['body'];

class PooledResponse implements ProviderResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: HeaderReader;

  constructor(
    data: Dispatcher.ResponseData,
    private readonly signal: AbortSignal,
  ) {
    this.status = data.statusCode;
    this.ok = this.status >= 200 && this.status < 300;
    const raw = data.headers;
    this.headers = {
      get: (name) => {
        const value = raw[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      },
    };
    this.body = data.body;
  }

  readonly body: Body;

  /** The whole body as UTF-8; rejects with the signal's reason when the request was aborted. */
  text(): Promise<string> {
    return this.body.text().catch((error: unknown) => {
      throw this.signal.aborted ? this.signal.reason : error;
    });
  }
}

/** Redirects followed: 307/308 (they keep the method and body), within the same origin. */
const MAX_REDIRECTS = 5;
const USER_AGENT = 'switchboard';

/**
 * The gateway's HTTP client for hot paths (the router's provider calls, and relayed
 * requests to a 2025-era streamable HTTP upstream, see upstream/direct-http.ts):
 * undici's `request` on a keep-alive pool, in place of the global `fetch` (which builds
 * WHATWG Request/Response objects and web streams for every call: on the router's path
 * it was most of the gateway's own CPU per call) and of `node:http` (its ClientRequest,
 * agent and IncomingMessage machinery cost ~40 % more CPU per call than this, measured
 * side by side against the bench's fake provider). The response body is a Node stream
 * read as it arrives, so streamed answers are handed on chunk by chunk; aborting the
 * signal ends the request, and the promise (or the body being read) rejects with the
 * signal's reason, as `fetch` does.
 */
export const pooledFetch: ProviderFetch = async (url, init) => {
  const dispatcher = agent ?? (await pool());
  let target = new URL(url);
  const headers = requestHeaders(init.headers, target);
  const body = init.body === '' ? undefined : init.body;
  for (let redirects = 0; ; redirects++) {
    let response: PooledResponse;
    try {
      response = await send(dispatcher, target, init, headers, body);
    } catch (error) {
      // A kept-alive connection the server closed just before we wrote on it: once more
      // (what Node's documentation advises for node:http; fetch does the same).
      if (init.retryStale === false || !staleConnection(error, target.origin)) throw error;
      response = await send(dispatcher, target, init, headers, body);
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
    await response.body.dump(); // drain it, so the connection goes back to the pool
    target = next;
  }
};

async function send(
  dispatcher: Dispatcher,
  target: URL,
  init: Parameters<ProviderFetch>[1],
  headers: Record<string, string>,
  body: string | undefined,
): Promise<PooledResponse> {
  const { signal } = init;
  if (signal.aborted) throw signal.reason;
  if (target.protocol !== 'https:' && target.protocol !== 'http:') {
    throw new TypeError(`unsupported URL scheme: ${target.href}`);
  }
  try {
    const data = await dispatcher.request({
      origin: target.origin,
      path: target.pathname + target.search,
      method: init.method as Dispatcher.HttpMethod,
      headers,
      body,
      signal,
    });
    answeredAt.set(target.origin, Date.now());
    return new PooledResponse(data, signal);
  } catch (error) {
    throw signal.aborted ? signal.reason : error;
  }
}

/** When each origin last answered: whether the pool may hold a connection to it that has gone stale. */
const answeredAt = new Map<string, number>();

/**
 * The request failed before any answer, as it does on a kept-alive connection the server
 * closed or reset as we wrote (its keep-alive ran out): undici's "other side closed", or
 * the socket's own ECONNRESET/EPIPE. undici does not say whether the connection was a
 * reused one; the pool can only hold one for an origin that answered within the
 * keep-alive time, so a failure on an origin that did not is not taken for a stale one.
 */
function staleConnection(error: unknown, origin: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'UND_ERR_SOCKET' && code !== 'ECONNRESET' && code !== 'EPIPE') return false;
  const last = answeredAt.get(origin);
  return last !== undefined && Date.now() - last <= KEEP_ALIVE_MS;
}

/**
 * Headers hop-by-hop or about the framing, which undici sets itself and refuses to be
 * given (node:http took them): a configured one is left out rather than failing every call.
 */
const FRAMING = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect', 'content-length']);

/**
 * The request's headers, named in lower case so that a name given twice in different
 * cases is sent once, the last one winning (as node:http's setHeader did: a configured
 * `Authorization` replaces the API key's). Credentials in the URL become Basic auth
 * unless an Authorization header is given, as node:http did.
 */
function requestHeaders(given: Record<string, string>, target: URL): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': USER_AGENT };
  if (target.username || target.password) {
    const user = `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`;
    headers.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
  }
  for (const name in given) {
    const key = name.toLowerCase();
    if (!FRAMING.has(key)) headers[key] = given[name]!;
  }
  return headers;
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ProtocolError,
  ProtocolErrorCode,
  SUPPORTED_PROTOCOL_VERSIONS,
  SdkError,
  SdkErrorCode,
  specTypeSchemas,
  type JSONRPCMessage,
  type Result,
} from '@modelcontextprotocol/server';
import type { Caller, ServerToClientMethod } from '../upstream/index.js';
import { assertClientCan } from './capabilities.js';
import { FastCalls } from './fast-call.js';
import { ASK_TIMEOUT_MS, type DownstreamSession } from './session.js';

/** The headers of an SSE answer to a POST, as the SDK's transport sends them. */
const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

const RESULTS: Record<ServerToClientMethod, keyof typeof specTypeSchemas> = {
  'sampling/createMessage': 'CreateMessageResult',
  'elicitation/create': 'ElicitResult',
  'roots/list': 'ListRootsResult',
};

const written = Promise.resolve();

type Respond = (message: JSONRPCMessage) => Promise<void>;

/**
 * The HTTP front door's fast path for one 2025-era session: a POSTed `tools/call` that
 * `FastCalls` takes (an allowed tool, no approval, a well-formed request) is answered
 * here, on an SSE stream written straight to the Node response, instead of going
 * through the SDK's web-standard transport (a WHATWG Request and Response, a
 * ReadableStream, a zod parse of the message and the server's request machinery per
 * call). The front door has already checked what the transport would check first
 * (session, agent, Accept, content type, body size and JSON); anything else, and
 * everything this path does not take, goes to the transport with the parsed body.
 *
 * The answer is what the SDK sends: an SSE stream with the session id, progress before
 * the result, then the end of the stream. Requests an upstream sends mid-call
 * (sampling, elicitation, roots) go on the call's own stream, and the client's answers,
 * POSTed to the session, are taken here by their ids (`sbask-<n>`; the SDK server's own
 * ids are numbers). A client that goes away mid-call does not cancel it (a disconnect
 * is not a cancellation); `notifications/cancelled` does.
 */
export class HttpFastSession {
  readonly calls: FastCalls;
  private readonly asks = new Map<string, (message: { result?: unknown; error?: unknown }) => void>();
  private next = 0;

  constructor(
    private readonly session: DownstreamSession,
    private readonly sessionId: string,
    /** The front door's open fast streams, which it keeps alive with comments. */
    private readonly streams: Set<ServerResponse>,
  ) {
    this.calls = new FastCalls(session, 'http');
  }

  /** Answers a parsed POST body when this path takes it; `false` leaves it to the SDK transport. */
  take(body: unknown, req: IncomingMessage, res: ServerResponse): boolean {
    if (Array.isArray(body)) return this.batch(body, res);
    if (body === null || typeof body !== 'object') return false;
    if (this.answered(body, res)) return true;
    this.calls.cancel(body as JSONRPCMessage);
    const call = this.calls.accept(body);
    if (!call) return false;
    // An unsupported version gets the transport's 400.
    const version = req.headers['mcp-protocol-version'];
    if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(String(version))) return false;
    res.writeHead(200, { ...SSE_HEADERS, 'mcp-session-id': this.sessionId });
    this.streams.add(res);
    // The answer ends the stream in the same write (progress and questions only add to it).
    const send: Respond = (message) => {
      if (res.destroyed || res.writableEnded) return written;
      const frame = `event: message\ndata: ${JSON.stringify(message)}\n\n`;
      const m = message as { id?: unknown; method?: unknown };
      if (m.id === call.id && m.method === undefined) res.end(frame);
      else res.write(frame);
      return written;
    };
    const caller: Caller = {
      sessionKey: this.session.id,
      agent: this.session.agent,
      ask: (method, params, signal) => this.ask(res, send, method, params, signal),
    };
    void this.calls.start(call, send, caller).finally(() => {
      this.streams.delete(res);
      if (!res.writableEnded) res.end();
    });
    return true;
  }

  /**
   * A batch (2025-03-26 clients may send them) is the SDK transport's, but what in it
   * concerns this path is seen first: cancellations of its calls, answers to its
   * questions. A batch of nothing but answers to its questions is answered here (202);
   * otherwise the transport gets the batch (and ignores ids it does not know).
   */
  private batch(items: unknown[], res: ServerResponse): boolean {
    let ours = 0;
    for (const item of items) {
      if (item === null || typeof item !== 'object') continue;
      this.calls.cancel(item as JSONRPCMessage);
      const m = item as { id?: unknown; method?: unknown };
      const settle = m.method === undefined && typeof m.id === 'string' ? this.asks.get(m.id) : undefined;
      if (settle) {
        settle(item as { result?: unknown; error?: unknown });
        ours++;
      }
    }
    if (ours === 0 || ours !== items.length) return false;
    res.writeHead(202).end();
    return true;
  }

  /** The session ended: its calls are cancelled, its questions to the client dropped. */
  close(): void {
    this.calls.abortAll();
    for (const settle of [...this.asks.values()]) {
      settle({ error: { code: ProtocolErrorCode.InternalError, message: 'the client session closed' } });
    }
  }

  /** A client's answer to one of this path's questions: settles it, and the POST gets 202. */
  private answered(
    message: { id?: unknown; method?: unknown; result?: unknown; error?: unknown },
    res: ServerResponse,
  ): boolean {
    if (message.method !== undefined || typeof message.id !== 'string') return false;
    const settle = this.asks.get(message.id);
    if (!settle) return false;
    settle(message);
    res.writeHead(202).end();
    return true;
  }

  /**
   * Asks the client mid-call on the call's own stream, as the SDK server's request would:
   * its capability checked first, a cancellation sent when the call is cancelled or the
   * wait times out, its answer checked against the method's result schema.
   */
  private ask(
    res: ServerResponse,
    send: Respond,
    method: ServerToClientMethod,
    params: Record<string, unknown> | undefined,
    signal: AbortSignal,
  ): Promise<Result> {
    // A stream the client has dropped (the upstream's question may belong to another call
    // of the session: see pickCaller): asked as the SDK path would, on the session's stream.
    if (res.destroyed || res.writableEnded) return this.session.caller.ask(method, params, signal);
    assertClientCan(this.session.server.getClientCapabilities(), method, params);
    if (signal.aborted) return Promise.reject(signal.reason);
    const id = `sbask-${++this.next}`;
    return new Promise<Result>((resolve, reject) => {
      const done = () => {
        this.asks.delete(id);
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      const withdraw = (reason: unknown) => {
        done();
        const text = reason instanceof Error ? reason.message : String(reason);
        void send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: text } });
        reject(reason);
      };
      const onAbort = () => withdraw(signal.reason);
      const timer = setTimeout(
        () => withdraw(new SdkError(SdkErrorCode.RequestTimeout, 'Request timed out', { timeout: ASK_TIMEOUT_MS })),
        ASK_TIMEOUT_MS,
      );
      signal.addEventListener('abort', onAbort, { once: true });
      this.asks.set(id, (message) => {
        done();
        const error = message.error as { code?: unknown; message?: unknown; data?: unknown } | undefined;
        if (error) {
          const code = typeof error.code === 'number' ? error.code : ProtocolErrorCode.InternalError;
          return reject(ProtocolError.fromError(code, String(error.message ?? 'error'), error.data));
        }
        const schema = params?.tools !== undefined ? 'CreateMessageResultWithTools' : RESULTS[method];
        const checked = specTypeSchemas[schema]['~standard'].validate(message.result);
        if (checked instanceof Promise || checked.issues) {
          return reject(new ProtocolError(ProtocolErrorCode.InvalidParams, `Invalid ${method} result from the client`));
        }
        resolve(message.result as Result);
      });
      void send({ jsonrpc: '2.0', id, method, params } as JSONRPCMessage);
    });
  }
}

/**
 * A POST body up to `max` bytes, as text; `undefined` when it is longer (reading stops).
 * Rejects when the request fails (the client went away).
 */
export function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  if (Number(req.headers['content-length']) > max) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) return void chunks.push(chunk);
      req.off('data', onData);
      resolve(undefined);
    };
    req.on('data', onData);
    req.once('end', () => {
      const text = Buffer.concat(chunks, size).toString('utf8');
      // A leading byte-order mark is not JSON: dropped, as the fetch API's decoding does.
      resolve(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    });
    req.once('error', reject);
  });
}

/**
 * How deep a POST body may nest: far beyond any real request, well within what
 * `JSON.stringify` can serialise again (it overflows the stack at a few thousand).
 */
const MAX_BODY_DEPTH = 1000;

/** A POST body's JSON, or what to answer instead (HTTP 400): it is not JSON, or it nests too deep. */
export function parseBody(
  text: string,
): { ok: true; body: unknown } | { ok: false; code: number; message: string; id: string | number | null } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, code: -32700, message: 'Parse error: the request body is not valid JSON', id: null };
  }
  // Everything after this serialises the body again (the web Request, the upstream's
  // request, the audit's canonical form), which a few thousand levels would overflow.
  if (!nestsDeeperThan(text, MAX_BODY_DEPTH)) return { ok: true, body };
  const id = (body as { id?: unknown } | null)?.id;
  return {
    ok: false,
    code: -32600,
    message: `Invalid Request: the request body nests deeper than ${MAX_BODY_DEPTH} levels`,
    id: typeof id === 'string' || typeof id === 'number' ? id : null,
  };
}

/**
 * Whether `text`, valid JSON (parsed already), nests arrays and objects more than `max`
 * deep. Used on POST bodies before anything serialises them again: V8 parses any depth,
 * but `JSON.stringify` throws (a stack overflow) at a few thousand levels. Valid JSON no
 * longer than `2 * max` cannot nest that deep, so a typical request is not scanned.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  if (text.length <= 2 * max) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string is skipped whole (large bodies are mostly strings): to the next quote
      // that an odd run of backslashes does not escape.
      let end = i;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end === -1) return false;
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === 0x5c) slashes++;
        if (slashes % 2 === 0) break;
      }
      i = end;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

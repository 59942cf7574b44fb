import {
  ProtocolError,
  SdkError,
  SdkErrorCode,
  type JSONRPCMessage,
  type Result,
  type Transport,
} from '@modelcontextprotocol/client';
import type { Post } from './direct-http.js';

interface Waiting {
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal;
  onAbort: () => void;
}

/**
 * Requests sent straight over a connection the SDK client owns, for the relay's hot path
 * (`tools/call`, `resources/read`…). The SDK client stays in charge of everything else on
 * the connection (the handshake, lists, the server's own requests, notifications); only
 * responses to the ids this sends (strings, which the client never uses: its ids are
 * numbers) are taken off the wire before the client sees them. Used for 2025-era
 * connections only: a 2026-07-28 request carries an envelope and may answer
 * `input_required`, which the SDK client handles.
 *
 * What it saves per call (profiled): the client's request bookkeeping, its abort signal
 * and listeners, and a promise chain; errors are made the way the client makes them, so
 * callers cannot tell the two paths apart.
 *
 * On stdio a request is written to the transport. Over streamable HTTP `post` sends it
 * (direct-http.ts: a POST per request, whose answer and the messages before it come back
 * through the transport's `onmessage`, so the SDK client sees what it would have seen).
 */
export class DirectRequests {
  private readonly waiting = new Map<string, Waiting>();
  private next = 0;
  private closed = false;

  constructor(
    private readonly transport: Transport,
    private readonly prefix: string,
    private readonly post?: Post,
  ) {
    const sdkMessage = transport.onmessage;
    const sdkClose = transport.onclose;
    transport.onmessage = (message, extra) => {
      if (!this.settle(message)) sdkMessage?.call(transport, message, extra);
    };
    transport.onclose = () => {
      this.close();
      sdkClose?.call(transport);
    };
  }

  /** Sends one request; `signal` aborting sends the server a cancellation. */
  request(method: string, params: Record<string, unknown> | undefined, signal: AbortSignal): Promise<Result> {
    if (this.closed) return Promise.reject(new SdkError(SdkErrorCode.NotConnected, 'Not connected'));
    if (signal.aborted) return Promise.reject(signal.reason);
    const id = `${this.prefix}${++this.next}`;
    return new Promise<Result>((resolve, reject) => {
      const onAbort = () => {
        if (!this.waiting.delete(id)) return;
        const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
        this.transport
          .send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } })
          .catch(() => undefined);
        reject(signal.reason);
      };
      this.waiting.set(id, { resolve, reject, signal, onAbort });
      signal.addEventListener('abort', onAbort, { once: true });
      const message = { jsonrpc: '2.0', id, method, ...(params ? { params } : {}) } as JSONRPCMessage;
      const sent = this.post
        ? this.post(message, signal, (m) => this.transport.onmessage?.(m))
        : this.transport.send(message);
      // A request its POST failed for is withdrawn upstream too (the server may have it).
      sent.catch((error: unknown) => this.fail(id, error, this.post !== undefined));
    });
  }

  /** A response to one of ours: settles it and returns true. Anything else is the client's. */
  private settle(message: JSONRPCMessage): boolean {
    const id = (message as { id?: unknown }).id;
    if (typeof id !== 'string' || 'method' in message || !id.startsWith(this.prefix)) return false;
    const waiting = this.waiting.get(id);
    if (!waiting) return true; // a late answer to a call cancelled or timed out: dropped
    this.waiting.delete(id);
    waiting.signal.removeEventListener('abort', waiting.onAbort);
    const { result, error } = message as { result?: Result; error?: { code: number; message: string; data?: unknown } };
    if (error) waiting.reject(ProtocolError.fromError(error.code, error.message, error.data));
    else if (result !== null && typeof result === 'object') waiting.resolve(result);
    else waiting.reject(new ProtocolError(-32603, 'the upstream answered without a result object'));
    return true;
  }

  private fail(id: string, error: unknown, withdraw = false): void {
    const waiting = this.waiting.get(id);
    if (!waiting) return;
    this.waiting.delete(id);
    waiting.signal.removeEventListener('abort', waiting.onAbort);
    if (withdraw && !this.closed) {
      const reason = error instanceof Error ? error.message : String(error);
      this.transport
        .send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } })
        .catch(() => undefined);
    }
    waiting.reject(error);
  }

  /** The connection closed: every call waiting on it fails as the SDK client's would. */
  close(): void {
    this.closed = true;
    this.post?.close?.();
    for (const id of [...this.waiting.keys()]) {
      this.fail(id, new SdkError(SdkErrorCode.ConnectionClosed, 'Connection closed'));
    }
  }
}

import { createParser } from 'eventsource-parser';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  SdkError,
  SdkErrorCode,
  SdkHttpError,
  type JSONRPCMessage,
  type StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import { pooledFetch, type ProviderFetch, type ProviderResponse } from '../http-client.js';

/**
 * Sends one request and hands every message of its answer to `deliver` (the response,
 * and whatever the server sends before it: progress, log messages, its own requests).
 * Resolves once the answer has been delivered or is known to come another way.
 */
export type Post = ((
  message: JSONRPCMessage,
  signal: AbortSignal,
  deliver: (message: JSONRPCMessage) => void,
) => Promise<void>) & {
  /** The connection closed: answer streams still being read are dropped. */
  close?: () => void;
};

/**
 * Resumptions in a row that bring nothing, before a stream that ended without its answer
 * is given up (the SDK's default too). One that brings events starts the count again, so
 * a server that closes the stream every few seconds on purpose (SSE polling) is followed.
 */
const MAX_RESUMES = 2;
const RESUME_DELAY_MS = 1_000;

const mediaType = (value: string | null) => value?.split(';')[0]!.trim().toLowerCase();

/**
 * The POST of a relayed request to a 2025-era streamable HTTP upstream, made with the
 * gateway's own HTTP client (src/http-client.ts: a keep-alive pool) instead of the SDK transport's
 * `fetch`: on the relay's path undici, web streams and the Request/Response objects were
 * most of the cost of an HTTP upstream call. The SDK transport still owns the session
 * (the handshake, its headers, the GET stream, notifications and the answers to the
 * server's own requests); this sends under its session id and protocol version what the
 * transport would send, and reads the answer the same ways: a JSON body, or an SSE
 * stream whose messages are delivered as they arrive, resumed with `Last-Event-ID` when
 * it breaks before the answer and the server gave event ids. Errors read as the SDK
 * transport's do (`Error POSTing to endpoint: …` with the status).
 *
 * Unlike the SDK transport, a stream that ends without the answer and cannot be resumed
 * fails the request at once, rather than leaving it to the upstream's timeout.
 */
export function streamablePost(
  transport: StreamableHTTPClientTransport,
  url: URL,
  configured: Record<string, string>,
  fetch: ProviderFetch = pooledFetch,
): Post {
  const headers: Record<string, string> = { ...configured };
  if (transport.sessionId) headers['mcp-session-id'] = transport.sessionId;
  if (transport.protocolVersion) headers['mcp-protocol-version'] = transport.protocolVersion;
  const postHeaders = { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const href = url.href;

  const reading = new Set<ProviderResponse>();
  const read = async (response: ProviderResponse, take: (value: unknown) => void, signal: AbortSignal) => {
    reading.add(response);
    try {
      return await readStream(response, take, signal);
    } finally {
      reading.delete(response);
    }
  };
  const post: Post = async (message, signal, deliver) => {
    const id = (message as { id?: unknown }).id;
    let answered = false;
    const take = (value: unknown) => {
      if (value === null || typeof value !== 'object' || (value as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
        transport.onerror?.(new Error('skipped a message that is not JSON-RPC 2.0'));
        return;
      }
      const m = value as { id?: unknown; method?: unknown };
      if (m.id === id && m.method === undefined) answered = true;
      deliver(value as JSONRPCMessage);
    };
    // Never sent twice: the upstream may have read it before a kept-alive socket dropped.
    const response = await fetch(href, {
      method: 'POST',
      headers: postHeaders,
      body: JSON.stringify(message),
      signal,
      retryStale: false,
    });
    if (!response.ok) {
      const text = await response.text().catch(() => null);
      throw new SdkHttpError(SdkErrorCode.ClientHttpNotImplemented, `Error POSTing to endpoint: ${text}`, {
        status: response.status,
        text,
      });
    }
    // Accepted: the answer will come on the session's GET stream (the transport's).
    if (response.status === 202) return void (await response.text().catch(() => undefined));
    const type = mediaType(response.headers.get('content-type'));
    if (type === 'application/json') {
      const data: unknown = JSON.parse(await response.text());
      for (const item of Array.isArray(data) ? data : [data]) take(item);
    } else if (type === 'text/event-stream') {
      let stream = await read(response, take, signal);
      for (let failed = 0; !answered && stream.lastEventId !== undefined && failed < MAX_RESUMES;) {
        await sleep(stream.retryMs ?? RESUME_DELAY_MS * 1.5 ** failed, undefined, { signal });
        const again = await fetch(href, {
          method: 'GET',
          headers: { ...headers, accept: 'text/event-stream', 'last-event-id': stream.lastEventId },
          body: '',
          signal,
        });
        if (!again.ok || mediaType(again.headers.get('content-type')) !== 'text/event-stream') {
          await again.text().catch(() => undefined);
          failed++;
          continue;
        }
        const resumed = await read(again, take, signal);
        failed = resumed.events > 0 ? 0 : failed + 1;
        stream = { ...resumed, lastEventId: resumed.lastEventId ?? stream.lastEventId };
      }
      if (!answered && stream.error) throw new Error(`the response stream broke: ${stream.error}`);
    } else {
      await response.text().catch(() => undefined);
      throw new SdkError(SdkErrorCode.ClientHttpUnexpectedContent, `Unexpected content type: ${type}`, {
        contentType: type,
      });
    }
    if (!answered) throw new Error('the upstream ended its response without answering the request');
  };
  post.close = () => {
    for (const response of reading) (response.body as { destroy?: () => void } | null)?.destroy?.();
  };
  return post;
}

/**
 * Reads one SSE response to its end, handing each `message` event's JSON to `take`. A
 * stream that breaks returns what it saw (to be resumed); an abort throws.
 */
async function readStream(
  response: ProviderResponse,
  take: (value: unknown) => void,
  signal: AbortSignal,
): Promise<{ lastEventId?: string; retryMs?: number; error?: string; events: number }> {
  const seen: { lastEventId?: string; retryMs?: number; error?: string; events: number } = { events: 0 };
  const parser = createParser({
    onEvent: (event) => {
      seen.events++;
      if (event.id) seen.lastEventId = event.id;
      if (!event.data || (event.event !== undefined && event.event !== 'message')) return;
      let value: unknown;
      try {
        value = JSON.parse(event.data);
      } catch {
        value = undefined;
      }
      take(value);
    },
    onRetry: (ms) => (seen.retryMs = ms),
  });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body ?? []) parser.feed(decoder.decode(chunk, { stream: true }));
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    seen.error = error instanceof Error ? error.message : String(error);
  }
  return seen;
}

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
import {
  declaredLength,
  EventScanner,
  oversizedMessage,
  OversizedMessageError,
  type SkippedEvent,
} from './message-limit.js';

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

/** What is read of a body only glanced at (an error's text) or not wanted (a 202's). */
const GLIMPSE_BYTES = 64 * 1024;

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
 *
 * A JSON answer or an SSE event over `maxMessageBytes` (gateway.maxResultBytes) is not
 * read further: the request gets an error naming the limit, as over stdio. An oversized
 * event that is a request or a notification of the server's is skipped (and reported
 * to `onSkipped`, as every oversized message is) and the stream read on. Other bodies
 * (an error's text, a 202's) are read up to GLIMPSE_BYTES.
 */
export function streamablePost(
  transport: StreamableHTTPClientTransport,
  url: URL,
  configured: Record<string, string>,
  limits: { maxMessageBytes: number; onSkipped?: (bytes: number) => void },
  fetch: ProviderFetch = pooledFetch,
): Post {
  const { maxMessageBytes, onSkipped } = limits;
  const headers: Record<string, string> = { ...configured };
  if (transport.sessionId) headers['mcp-session-id'] = transport.sessionId;
  if (transport.protocolVersion) headers['mcp-protocol-version'] = transport.protocolVersion;
  const postHeaders = { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const href = url.href;

  const reading = new Set<ProviderResponse>();
  const read = async (response: ProviderResponse, take: (value: unknown) => void, signal: AbortSignal) => {
    reading.add(response);
    try {
      return await readStream(response, take, signal, maxMessageBytes, onSkipped);
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
    // Answers the request with the error, once a message of its answer is over the limit.
    const oversized = (bytes: number) => {
      if (onSkipped) onSkipped(bytes);
      else transport.onerror?.(new OversizedMessageError(bytes, maxMessageBytes));
      take({ jsonrpc: '2.0', id, error: { code: -32603, message: oversizedMessage(bytes, maxMessageBytes) } });
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
      const text = await glimpse(response);
      throw new SdkHttpError(SdkErrorCode.ClientHttpNotImplemented, `Error POSTing to endpoint: ${text}`, {
        status: response.status,
        text,
      });
    }
    // Accepted: the answer will come on the session's GET stream (the transport's).
    if (response.status === 202) return void (await glimpse(response));
    const type = mediaType(response.headers.get('content-type'));
    if (type === 'application/json') {
      const text = await readJson(response, maxMessageBytes, signal);
      if (typeof text === 'number') return oversized(text);
      const data: unknown = JSON.parse(text);
      for (const item of Array.isArray(data) ? data : [data]) take(item);
    } else if (type === 'text/event-stream') {
      let stream = await read(response, take, signal);
      if (stream.oversized !== undefined && !answered) return oversized(stream.oversized);
      for (let failed = 0; !answered && stream.lastEventId !== undefined && failed < MAX_RESUMES;) {
        await sleep(stream.retryMs ?? RESUME_DELAY_MS * 1.5 ** failed, undefined, { signal });
        const again = await fetch(href, {
          method: 'GET',
          headers: { ...headers, accept: 'text/event-stream', 'last-event-id': stream.lastEventId },
          body: '',
          signal,
        });
        if (!again.ok || mediaType(again.headers.get('content-type')) !== 'text/event-stream') {
          await glimpse(again);
          failed++;
          continue;
        }
        const resumed = await read(again, take, signal);
        if (resumed.oversized !== undefined && !answered) return oversized(resumed.oversized);
        failed = resumed.events > 0 ? 0 : failed + 1;
        stream = { ...resumed, lastEventId: resumed.lastEventId ?? stream.lastEventId };
      }
      if (!answered && stream.error) throw new Error(`the response stream broke: ${stream.error}`);
    } else {
      await glimpse(response);
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
 * A JSON body as text, or its size so far once it is over `limit` (the rest is not
 * read). A body whose declared length is within the limit is read in one go.
 */
async function readJson(response: ProviderResponse, limit: number, signal: AbortSignal): Promise<string | number> {
  const length = declaredLength(response.headers.get('content-length'));
  if (length !== undefined && length <= limit) return response.text();
  if (length !== undefined) {
    (response.body as { destroy?: () => void } | null)?.destroy?.();
    return length;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of response.body ?? []) {
      total += chunk.byteLength;
      if (total > limit) return total; // leaving the loop ends the body
      chunks.push(chunk);
    }
  } catch (error) {
    throw signal.aborted ? signal.reason : error;
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

interface StreamSeen {
  lastEventId?: string;
  retryMs?: number;
  error?: string;
  events: number;
  /** An event went over the limit after this many bytes; the stream was left there. */
  oversized?: number;
}

/**
 * Up to GLIMPSE_BYTES of a body, as text (`null` when reading it failed); the rest is
 * not read, and leaving it unread closes the connection.
 */
async function glimpse(response: ProviderResponse): Promise<string | null> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of response.body ?? []) {
      chunks.push(chunk);
      total += chunk.byteLength;
      if (total >= GLIMPSE_BYTES) break; // leaving the loop ends the body
    }
  } catch {
    return null;
  }
  return Buffer.concat(chunks, total).subarray(0, GLIMPSE_BYTES).toString('utf8');
}

/**
 * Reads one SSE response to its end, handing each `message` event's JSON to `take`. A
 * stream that breaks returns what it saw (to be resumed); an abort throws. An event over
 * `limit` that answers (not a request or notification of the server's) ends the reading.
 */
async function readStream(
  response: ProviderResponse,
  take: (value: unknown) => void,
  signal: AbortSignal,
  limit: number,
  onSkipped: ((bytes: number) => void) | undefined,
): Promise<StreamSeen> {
  const seen: StreamSeen = { events: 0 };
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
  const scanner = new EventScanner(limit);
  const events: (Uint8Array | SkippedEvent)[] = [];
  try {
    for await (const chunk of response.body ?? []) {
      scanner.push(chunk, events);
      for (const event of events) {
        if (event instanceof Uint8Array) parser.feed(decoder.decode(event, { stream: true }));
        else if (event.request) onSkipped?.(event.bytes);
        else seen.oversized ??= event.bytes;
      }
      events.length = 0;
      if (seen.oversized !== undefined) break; // leaving the loop ends the body
    }
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    seen.error = error instanceof Error ? error.message : String(error);
  }
  return seen;
}

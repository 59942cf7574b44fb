// gateway.maxResultBytes for HTTP upstreams. A stdio upstream's messages are lines,
// measured in stdio-transport.ts; over HTTP a message is a JSON body or one SSE event,
// and both are measured here as the bytes arrive, so an upstream that sends a huge
// answer (or an event that never ends) costs the gateway at most the limit in memory.

/** The error text for an upstream's message over the limit (the same words as over stdio). */
export function oversizedMessage(bytes: number, limit: number): string {
  return `the upstream's result is over ${bytes} bytes, more than the gateway accepts (gateway.maxResultBytes: ${limit})`;
}

export class OversizedMessageError extends Error {
  constructor(bytes: number, limit: number) {
    super(oversizedMessage(bytes, limit));
    this.name = 'OversizedMessageError';
  }
}

const LF = 10;
const CR = 13;

/**
 * Measures the SSE event being read as its chunks arrive. An event ends at a blank line
 * (`\n\n` or `\r\n\r\n`); a stream that ends its lines with a lone `\r`, which no MCP SDK
 * does, counts as one long event. Comments and fields other than `data` count too: the
 * limit is on what the gateway would have to hold.
 */
export class EventSize {
  /** Bytes of the event under way. */
  bytes = 0;
  /** Where, in the chunk last added, the event under way began (0: in an earlier chunk). */
  eventStart = 0;
  /** Bytes of the current line, not counting a CR before its LF. */
  private lineBytes = 0;
  /** The previous chunk ended in a CR (the LF of a CRLF may start this one). */
  private pendingCr = false;

  constructor(readonly limit: number) {}

  /** Counts the next chunk of the stream; true once the event under way is over the limit. */
  add(chunk: Uint8Array): boolean {
    let pos = 0;
    this.eventStart = 0;
    for (;;) {
      const lf = chunk.indexOf(LF, pos);
      const end = lf === -1 ? chunk.length : lf;
      let content = end - pos;
      if (lf !== -1 && content > 0 && chunk[end - 1] === CR) content--;
      if (lf === pos && this.pendingCr) this.lineBytes--;
      this.pendingCr = lf === -1 && end > pos && chunk[end - 1] === CR;
      this.lineBytes += content;
      this.bytes += end - pos + (lf === -1 ? 0 : 1);
      if (this.bytes > this.limit) return true;
      if (lf === -1) return false;
      if (this.lineBytes <= 0) {
        // A blank line: the event is complete.
        this.bytes = 0;
        this.eventStart = lf + 1;
      }
      this.lineBytes = 0;
      pos = lf + 1;
    }
  }
}

/**
 * The declared length of a body, when the server sent one; a body that declares more
 * than the limit is refused before it is read.
 */
export function declaredLength(value: string | null): number | undefined {
  if (value === null) return undefined;
  const length = Number(value);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

/** The id of the JSON-RPC request a POST body carries, if it is one. */
function requestIdOf(body: unknown): string | number | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    const message = JSON.parse(body) as { id?: unknown; method?: unknown };
    const id = message.id;
    return typeof message.method === 'string' && (typeof id === 'string' || typeof id === 'number') ? id : undefined;
  } catch {
    return undefined;
  }
}

const encoder = new TextEncoder();

/**
 * A `fetch` for the SDK's client transports whose response bodies are measured against
 * `limit`. A body that is not an event stream fails once it is over (at once, when its
 * declared length already is), so the SDK's request fails with the error. In an event
 * stream, the events before an oversized one are passed on; then, when the stream
 * answers a POSTed request, that request is answered with the error as one more event
 * and the stream ends (the SDK's parser sees the oversized event cut short first, and
 * reports it as unparsable); a stream that answers no request of its own (the session's
 * GET stream) fails with the error.
 */
export function limitedFetch(limit: number, base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const response = await base(input, init);
    const body = response.body;
    if (!body) return response;
    const sse = (response.headers.get('content-type') ?? '').toLowerCase().includes('text/event-stream');
    if (!sse) {
      const length = declaredLength(response.headers.get('content-length'));
      if (length !== undefined && length <= limit) return response;
      if (length !== undefined) {
        await body.cancel().catch(() => undefined);
        throw new OversizedMessageError(length, limit);
      }
    }
    const measured = sse ? measuredEvents(body, limit, requestIdOf(init?.body)) : measuredBody(body, limit);
    return new Response(measured, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

function measuredBody(body: ReadableStream<Uint8Array>, limit: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let total = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = await reader.read();
      if (chunk.done) return controller.close();
      total += chunk.value.byteLength;
      if (total <= limit) return controller.enqueue(chunk.value);
      await reader.cancel().catch(() => undefined);
      controller.error(new OversizedMessageError(total, limit));
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

function measuredEvents(
  body: ReadableStream<Uint8Array>,
  limit: number,
  id: string | number | undefined,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const size = new EventSize(limit);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = await reader.read();
      if (chunk.done) return controller.close();
      if (!size.add(chunk.value)) return controller.enqueue(chunk.value);
      await reader.cancel().catch(() => undefined);
      if (size.eventStart > 0) controller.enqueue(chunk.value.subarray(0, size.eventStart));
      const error = new OversizedMessageError(size.bytes, limit);
      if (id === undefined) return controller.error(error);
      const answer = { jsonrpc: '2.0', id, error: { code: -32603, message: error.message } };
      controller.enqueue(encoder.encode(`\n\nevent: message\ndata: ${JSON.stringify(answer)}\n\n`));
      controller.close();
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

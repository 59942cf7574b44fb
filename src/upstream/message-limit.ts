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

const ID = String.raw`("(?:[^"\\]|\\.)*"|-?\d+)`;
const ID_FIRST = new RegExp(String.raw`^\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*` + ID);
const ID_LAST = new RegExp(String.raw`"id"\s*:\s*` + ID + String.raw`\s*\}\s*$`);

const METHOD_FIRST = new RegExp(
  String.raw`^\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?(?:"id"\s*:\s*` + ID + String.raw`\s*,\s*)?"method"\s*:`,
);

/** The JSON-RPC id of a message seen only by its ends: at the start or at the very end. */
export function findId(head: string, tail: string): string | number | undefined {
  const match = ID_FIRST.exec(head) ?? ID_LAST.exec(tail);
  return match ? (JSON.parse(match[1]!) as string | number) : undefined;
}

/**
 * The message's start shows a request or a notification (`method` comes first, after
 * `jsonrpc` and `id` at most: how the SDKs write them), not a response. An oversized one
 * is dropped without answering anything: its id, if any, is the sender's own numbering,
 * not one of the requests sent to it.
 */
export function isMethodHead(head: string): boolean {
  return METHOD_FIRST.test(head);
}

const LF = 10;
const CR = 13;

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

/** How much of each end of a skipped message is kept, to find its request's id (stdio too). */
export const EDGE_BYTES = 256;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** An event over the limit, skipped. */
export interface SkippedEvent {
  bytes: number;
  /** The message was a request or a notification (see isMethodHead), not an answer. */
  request: boolean;
  /** The id either end of its data showed. */
  id: string | number | undefined;
}

/**
 * Splits an SSE byte stream into whole events and skips those over the limit. The bytes
 * of the event under way are held until its blank line (a parser does nothing with an
 * event before that either), so an oversized event is never passed on in part: once it
 * is over, what was held is dropped and the rest is read past, keeping only the first
 * and last bytes of its `data`, where a JSON-RPC message's id is.
 */
export class EventScanner {
  private held: Uint8Array[] = [];
  private eventBytes = 0;
  private lineBytes = 0;
  private pendingCr = false;
  private skipping: { bytes: number; head: string; tail: string } | undefined;

  constructor(readonly limit: number) {}

  /** The next chunk: the whole events it completes (to pass on, in order) and the events skipped. */
  push(chunk: Uint8Array, out: (Uint8Array | SkippedEvent)[]): void {
    if (chunk.length === 0) return; // (it would lose a CR waiting for its LF)
    let start = 0; // where the event under way begins in this chunk
    let pos = 0;
    for (;;) {
      const lf = chunk.indexOf(LF, pos);
      const end = lf === -1 ? chunk.length : lf;
      let content = end - pos;
      if (lf !== -1 && content > 0 && chunk[end - 1] === CR) content--;
      if (lf === pos && this.pendingCr) this.lineBytes--;
      this.pendingCr = lf === -1 && end > pos && chunk[end - 1] === CR;
      this.lineBytes += content;
      const length = end - pos + (lf === -1 ? 0 : 1);
      if (this.skipping) {
        this.skipping.bytes += length;
        if (content > 0) this.keepTail(chunk.subarray(Math.max(pos, end - EDGE_BYTES), end));
      } else {
        this.eventBytes += length;
        if (this.eventBytes > this.limit) this.startSkipping(chunk.subarray(start, end));
      }
      if (lf === -1) break;
      if (this.lineBytes <= 0) {
        // A blank line: the event is over.
        if (this.skipping) {
          out.push(this.skipped());
        } else {
          this.held.push(chunk.subarray(start, lf + 1));
          out.push(this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held));
        }
        this.held = [];
        this.eventBytes = 0;
        start = lf + 1;
      }
      this.lineBytes = 0;
      pos = lf + 1;
    }
    if (!this.skipping && start < chunk.length) this.held.push(chunk.subarray(start));
  }

  private startSkipping(rest: Uint8Array): void {
    // The event's first bytes (its fields before `data`, and the start of the data).
    const first: Uint8Array[] = [];
    let taken = 0;
    for (const part of [...this.held, rest]) {
      if (taken >= 4 * EDGE_BYTES) break;
      first.push(part.subarray(0, 4 * EDGE_BYTES - taken));
      taken += first.at(-1)!.length;
    }
    const text = decoder.decode(Buffer.concat(first));
    const data = text.indexOf('data:');
    this.skipping = { bytes: this.eventBytes, head: data === -1 ? '' : text.slice(data + 5).trimStart(), tail: '' };
    this.held = [];
    this.keepTail(rest.subarray(Math.max(0, rest.length - EDGE_BYTES)));
  }

  private keepTail(bytes: Uint8Array): void {
    const state = this.skipping!;
    state.tail = (state.tail + decoder.decode(bytes)).slice(-EDGE_BYTES);
  }

  private skipped(): SkippedEvent {
    const { bytes, head, tail } = this.skipping!;
    this.skipping = undefined;
    return { bytes, request: isMethodHead(head), id: findId(head, tail) };
  }
}

/**
 * A `fetch` for the SDK's client transports whose response bodies are measured against
 * `limit`. A body that is not an event stream fails once it is over (at once, when its
 * declared length already is), so the SDK's request fails with the error. In an event
 * stream an event over the limit is skipped (see EventScanner) and reported to
 * `onSkipped`; when it was an answer, the request it answered (its id read off the
 * event's ends, or else the request the POST carried) is answered with the error as an
 * event in its place, so the call fails at once, and the stream goes on.
 */
export function limitedFetch(
  limit: number,
  onSkipped: (bytes: number) => void = () => undefined,
  base: typeof fetch = fetch,
): typeof fetch {
  return async (input, init) => {
    const response = await base(input, init);
    const body = response.body;
    if (!body) return response;
    const sse = (response.headers.get('content-type') ?? '').toLowerCase().includes('text/event-stream');
    // fetch unpacks a compressed body, and its declared length is the packed one.
    const encoding = response.headers.get('content-encoding');
    if (!sse && (encoding === null || encoding.toLowerCase() === 'identity')) {
      const length = declaredLength(response.headers.get('content-length'));
      if (length !== undefined && length <= limit) return response;
      if (length !== undefined) {
        await body.cancel().catch(() => undefined);
        throw new OversizedMessageError(length, limit);
      }
    }
    const measured = sse ? measuredEvents(body, limit, init?.body, onSkipped) : measuredBody(body, limit);
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
  posted: unknown,
  onSkipped: (bytes: number) => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const scanner = new EventScanner(limit);
  const out: (Uint8Array | SkippedEvent)[] = [];
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      // Until something can be passed on: a chunk may complete no event.
      while (out.length === 0) {
        const chunk = await reader.read();
        if (chunk.done) return controller.close();
        scanner.push(chunk.value, out);
      }
      for (const item of out) {
        if (item instanceof Uint8Array) {
          controller.enqueue(item);
          continue;
        }
        onSkipped(item.bytes);
        if (item.request) continue;
        const id = item.id ?? requestIdOf(posted);
        if (id === undefined) continue;
        const error = { code: -32603, message: oversizedMessage(item.bytes, limit) };
        controller.enqueue(
          encoder.encode(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id, error })}\n\n`),
        );
      }
      out.length = 0;
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

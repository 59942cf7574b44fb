import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/server';
import { LineWriter } from '../line-writer.js';
import { findId } from '../upstream/index.js';

/** How deep a message may nest before it is refused (JSON-RPC messages are shallow). */
const MAX_DEPTH = 256;

type Frame =
  { ok: true; message: JSONRPCMessage } | { ok: false; id: string | number | null; code: number; message: string };

function depthOver(value: unknown, limit: number): boolean {
  // Iterative: a hostile 10k-deep message must not exhaust the stack here.
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Checks one line against JSON-RPC 2.0 as MCP uses it (no batches), so that malformed
 * input gets the right error instead of silence: -32700 for what is not JSON, -32600 for
 * JSON that is not a single well-formed request, notification or response.
 */
export function checkFrame(line: string): Frame {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { ok: false, id: null, code: -32700, message: `Parse error: ${(error as Error).message.slice(0, 200)}` };
  }
  if (Array.isArray(value))
    return { ok: false, id: null, code: -32600, message: 'Invalid Request: batches are not supported' };
  if (value === null || typeof value !== 'object') {
    return { ok: false, id: null, code: -32600, message: 'Invalid Request: expected a JSON-RPC object' };
  }
  const message = value as Record<string, unknown>;
  const id = message.id;
  const idOk = id === undefined || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
  const replyId = idOk && id !== undefined ? (id as string | number) : null;
  if (!idOk) return { ok: false, id: null, code: -32600, message: 'Invalid Request: id must be a string or a number' };
  if (message.jsonrpc !== '2.0')
    return { ok: false, id: replyId, code: -32600, message: 'Invalid Request: jsonrpc must be "2.0"' };
  const isCall = 'method' in message;
  const isResponse = 'result' in message || 'error' in message;
  if (isCall && typeof message.method !== 'string') {
    return { ok: false, id: replyId, code: -32600, message: 'Invalid Request: method must be a string' };
  }
  if (!isCall && !(isResponse && id !== undefined)) {
    return {
      ok: false,
      id: replyId,
      code: -32600,
      message: 'Invalid Request: expected a method, or a result or error with an id',
    };
  }
  // Each level of nesting takes an opening and a closing character: a line this short
  // cannot nest too deep, and most frames are this short (the walk allocates per value).
  if (line.length >= 2 * MAX_DEPTH && depthOver(message, MAX_DEPTH)) {
    return { ok: false, id: replyId, code: -32600, message: `Invalid Request: nested deeper than ${MAX_DEPTH} levels` };
  }
  return { ok: true, message: value as JSONRPCMessage };
}

/**
 * The gateway's stdio front door transport. Like the SDK's, one JSON message per line
 * on stdin/stdout, but hostile input is answered rather than dropped: malformed frames
 * get their JSON-RPC error (requests without a usable id get `id: null`, notifications
 * get nothing, as JSON-RPC says), and a line over `maxLineBytes` is skipped without
 * being buffered and refused.
 */
export class GuardedStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Sees each well-formed message first; returning true takes it (see fast-call.ts). */
  intercept?: (message: JSONRPCMessage) => boolean;
  private buffer = '';
  private skipping = false;
  private closed = false;
  private readonly writer: LineWriter;

  constructor(
    private readonly maxLineBytes: number,
    private readonly input: NodeJS.ReadableStream = process.stdin,
    private readonly output: NodeJS.WritableStream = process.stdout,
  ) {
    this.writer = new LineWriter(output);
  }

  async start(): Promise<void> {
    this.input.setEncoding('utf8');
    this.input.on('data', (chunk: string) => this.onData(chunk));
    // stdin ending is the client going away, but stdout stays open: the gateway lets the
    // calls in flight finish and answers them before it closes (see the stdio front door).
    this.input.on('error', (error: Error) => this.onerror?.(error));
  }

  private onData(chunk: string): void {
    let rest = chunk;
    while (rest.length > 0) {
      const newline = rest.indexOf('\n');
      if (this.skipping) {
        if (newline === -1) return;
        this.skipping = false;
        rest = rest.slice(newline + 1);
        continue;
      }
      if (newline === -1) {
        this.buffer += rest;
        if (this.buffer.length > this.maxLineBytes) {
          const id = findId(this.buffer.slice(0, 256), '') ?? null;
          this.buffer = '';
          this.skipping = true;
          this.reply(id, -32600, `Invalid Request: message over ${this.maxLineBytes} bytes (gateway.maxBodyBytes)`);
        }
        return;
      }
      const line = this.buffer + rest.slice(0, newline);
      this.buffer = '';
      rest = rest.slice(newline + 1);
      if (line.length > this.maxLineBytes) {
        const id = findId(line.slice(0, 256), '') ?? null;
        this.reply(id, -32600, `Invalid Request: message over ${this.maxLineBytes} bytes (gateway.maxBodyBytes)`);
      } else if (line.trim()) {
        this.onLine(line);
      }
    }
  }

  private onLine(line: string): void {
    const frame = checkFrame(line);
    if (frame.ok) {
      if (!this.intercept?.(frame.message)) this.onmessage?.(frame.message);
      return;
    }
    // A notification (a method without an id) is never answered, even when malformed.
    const isNotification =
      frame.code === -32600 && frame.id === null && /"method"/.test(line) && !/"id"\s*:/.test(line);
    if (!isNotification) this.reply(frame.id, frame.code, frame.message);
  }

  private reply(id: string | number | null, code: number, message: string): void {
    void this.send({ jsonrpc: '2.0', id, error: { code, message } } as unknown as JSONRPCMessage);
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) return Promise.resolve();
    // A write that fails (the client went away) is not the sender's error to handle.
    return this.writer.write(JSON.stringify(message) + '\n').catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.writer.flush();
    this.input.removeAllListeners('data');
    this.onclose?.();
  }
}

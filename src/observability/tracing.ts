import { errorMessage } from '../errors.js';
import { randomId } from '../random.js';
import type { Logger } from './logger.js';

/**
 * OpenTelemetry traces, exported as OTLP/HTTP with JSON bodies to a collector. Loaded
 * only when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is
 * set; otherwise this module is never imported and calls pay nothing.
 *
 * Spans are recorded after the fact (a call's span is built when the call ends, from
 * what the audit row also gets), batched, and sent off the hot path: every second, or
 * when a batch is full. A collector that is down costs dropped spans and one warning a
 * minute, never a slower call.
 */

/** `{ double }` keeps a number a double when it happens to be whole (a cost of 0). */
export type AttributeValue = string | number | boolean | string[] | { double: number };

export const double = (value: number): { double: number } => ({ double: value });

export interface SpanContext {
  traceId: string;
  spanId: string;
}

export interface SpanRecord extends SpanContext {
  parentSpanId?: string | undefined;
  name: string;
  kind: 'internal' | 'server' | 'client';
  /** Epoch milliseconds, fractional. */
  startMs: number;
  endMs: number;
  attributes: Record<string, AttributeValue | undefined | null>;
  /** Set for a failed operation: its status is ERROR with this message. */
  error?: string | undefined;
}

const KIND = { internal: 1, server: 2, client: 3 } as const;
const MAX_QUEUE = 4096;
const MAX_BATCH = 512;
const FLUSH_MS = 1000;
const EXPORT_TIMEOUT_MS = 10_000;

type OtlpValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number }
  | { arrayValue: { values: OtlpValue[] } };

function otlpValue(value: AttributeValue): OtlpValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { arrayValue: { values: value.map((v) => ({ stringValue: v })) } };
  if (typeof value === 'object') return { doubleValue: value.double };
  return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
}

function otlpAttributes(attributes: Record<string, AttributeValue | undefined | null>) {
  const out: { key: string; value: OtlpValue }[] = [];
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) out.push({ key, value: otlpValue(value) });
  }
  return out;
}

const nanos = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

/** `k1=v1,k2=v2` with URL-encoded values, as the OTEL_* header and attribute variables are written. */
export function parseKeyValues(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const key = pair.slice(0, at).trim();
    try {
      out[key] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      out[key] = pair.slice(at + 1).trim();
    }
  }
  return out;
}

export interface TracerOptions {
  /** The full traces URL (`…/v1/traces`). */
  url: string;
  headers: Record<string, string>;
  resource: Record<string, AttributeValue>;
  log: Logger;
  version: string;
}

export class Tracer {
  private queue: SpanRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** One export at a time: a slow collector makes spans wait in the bounded queue, not pile up in requests. */
  private inflight: Promise<void> | undefined;
  private dropped = 0;
  private lastWarning = 0;

  constructor(private readonly options: TracerOptions) {}

  /** Ids for a new span: a new trace, or a child of `parent`. */
  ids(parent?: SpanContext): SpanContext {
    return { traceId: parent?.traceId ?? randomId(16, 'hex'), spanId: randomId(8, 'hex') };
  }

  record(span: SpanRecord): void {
    if (this.queue.length >= MAX_QUEUE) {
      this.dropped++;
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= MAX_BATCH) this.pump();
    else this.schedule();
  }

  /** Sends what is queued, waiting at most `deadlineMs` (at shutdown); what is left is dropped. */
  async flush(deadlineMs = 5_000): Promise<void> {
    const until = Date.now() + deadlineMs;
    clearTimeout(this.timer);
    this.timer = undefined;
    while ((this.queue.length > 0 || this.inflight) && Date.now() < until) {
      this.pump();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.inflight, new Promise((resolve) => (timer = setTimeout(resolve, until - Date.now())))]);
      clearTimeout(timer);
    }
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, FLUSH_MS).unref();
  }

  private pump(): void {
    if (this.inflight || this.queue.length === 0) return;
    const batch = this.queue.splice(0, MAX_BATCH);
    this.inflight = this.send(batch).finally(() => {
      this.inflight = undefined;
      if (this.queue.length >= MAX_BATCH) this.pump();
      else if (this.queue.length > 0) this.schedule();
    });
  }

  private async send(batch: SpanRecord[]): Promise<void> {
    const body = JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: otlpAttributes(this.options.resource) },
          scopeSpans: [
            {
              scope: { name: 'switchboard', version: this.options.version },
              spans: batch.map((s) => ({
                traceId: s.traceId,
                spanId: s.spanId,
                ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
                name: s.name,
                kind: KIND[s.kind],
                startTimeUnixNano: nanos(s.startMs),
                endTimeUnixNano: nanos(Math.max(s.endMs, s.startMs)),
                attributes: otlpAttributes(s.attributes),
                // Success stays UNSET (0), as instrumentation should leave it; failure is ERROR (2).
                status: s.error === undefined ? { code: 0 } : { code: 2, message: s.error },
              })),
            },
          ],
        },
      ],
    });
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.options.headers },
        body,
        signal: AbortSignal.timeout(EXPORT_TIMEOUT_MS),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
    } catch (error) {
      this.dropped += batch.length;
      if (Date.now() - this.lastWarning > 60_000) {
        this.lastWarning = Date.now();
        this.options.log.warn('cannot export traces; spans are dropped', {
          url: this.options.url,
          error: errorMessage(error),
          dropped: this.dropped,
        });
      }
    }
  }
}

/**
 * The tracer the environment asks for, or undefined. Follows the OpenTelemetry SDK
 * variables: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as is) or
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (+ `/v1/traces`), `…_HEADERS`, `OTEL_SERVICE_NAME`,
 * `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_SDK_DISABLED`, `OTEL_TRACES_EXPORTER=none`.
 */
export function tracerFromEnv(env: NodeJS.ProcessEnv, log: Logger, version: string): Tracer | undefined {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (!url) return undefined;
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (protocol && protocol !== 'http/json') {
    log.warn('traces are exported as OTLP/HTTP with JSON bodies (http/json), whatever the protocol setting', {
      protocol,
    });
  }
  const attributes = parseKeyValues(env.OTEL_RESOURCE_ATTRIBUTES);
  const resource: Record<string, AttributeValue> = {
    'service.version': version,
    ...attributes,
    'service.name': env.OTEL_SERVICE_NAME || attributes['service.name'] || 'switchboard',
  };
  const headers = {
    ...parseKeyValues(env.OTEL_EXPORTER_OTLP_HEADERS),
    ...parseKeyValues(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
  };
  log.info('exporting traces', { url });
  return new Tracer({ url, headers, resource, log, version });
}

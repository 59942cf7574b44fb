import type { AuditOutcome, AuditStart } from '../audit/index.js';
// Types only: the tracing module itself is loaded by app.ts when OTEL_* asks for it.
import type { SpanContext, Tracer } from '../observability/tracing.js';

/** A number sent as an OTLP double even when whole (tracing.ts's `double`, without loading that module). */
const double = (value: number) => ({ double: value });
import type { Attempt } from '../routing/index.js';
import type { DownstreamSession } from './session.js';

/**
 * What happens to a finished call besides its audit row: Prometheus counters, and an
 * OpenTelemetry span (with one child span per model attempt, in the GenAI semantic
 * conventions) when tracing is on. Everything here reads what the audit row gets.
 */

/** A W3C `traceparent` (`00-<trace>-<span>-<flags>`), as MCP clients put it in `params._meta`. */
export function parseTraceparent(value: unknown): SpanContext | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-[\da-f]{2}$/.exec(value.trim());
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined;
  return { traceId: match[1]!, spanId: match[2]! };
}

/**
 * When a call reached the gateway and the caller's trace (`params._meta.traceparent`),
 * kept on the call's start record (the audit row takes only its own fields from it).
 * Properties rather than a WeakMap keyed by the start: a WeakMap entry per call is an
 * ephemeron the garbage collector has to trace, on every call of the hot path.
 */
type Arrived = AuditStart & { arrivedAt?: number; traceParent?: SpanContext | undefined };

export function rememberArrival(start: AuditStart, meta: unknown): void {
  const arrived = start as Arrived;
  arrived.arrivedAt = performance.now();
  arrived.traceParent = parseTraceparent((meta as { traceparent?: unknown } | null | undefined)?.traceparent);
}

export interface Finished {
  status: string;
  /** performance.now() when the call reached the gateway. */
  started: number;
  outcome?: Partial<AuditOutcome> | undefined;
  error?: string | undefined;
  /** The tool result's structured content (the sample tool's stop reason). */
  structured?: Record<string, unknown> | undefined;
}

export function observeCall(session: DownstreamSession, start: AuditStart, done: Finished): void {
  const { runtime } = session;
  const ended = performance.now();
  // From arrival: a refusal or an approval wait is part of what the caller waited.
  const arrivedAt = (start as Arrived).arrivedAt;
  if (arrivedAt !== undefined) done = { ...done, started: arrivedAt };
  const label = start.method === 'tools/call' ? (start.exposedName ?? null) : start.method;
  runtime.metrics?.call(session.agent, start.server ?? null, label, done.status, (ended - done.started) / 1000);
  const attempts = parseAttempts(done.outcome?.attempts);
  const args = (start.args ?? {}) as Record<string, unknown>;
  const route = typeof args.route === 'string' ? args.route : 'default';
  if (attempts.length > 0) {
    runtime.metrics?.modelCall({
      route,
      model: done.outcome?.model ?? null,
      attempts,
      inputTokens: done.outcome?.inputTokens ?? null,
      outputTokens: done.outcome?.outputTokens ?? null,
      costUsd: done.outcome?.costUsd ?? null,
    });
  }
  if (runtime.tracer) traceCall(runtime.tracer, session, start, done, ended, attempts, route);
}

function parseAttempts(json: string | null | undefined): Attempt[] {
  if (!json) return [];
  try {
    const parsed = JSON.parse(json) as unknown;
    return Array.isArray(parsed) ? (parsed as Attempt[]) : [];
  } catch {
    return [];
  }
}

const wall = (perf: number) => performance.timeOrigin + perf;

function traceCall(
  tracer: Tracer,
  session: DownstreamSession,
  start: AuditStart,
  done: Finished,
  ended: number,
  attempts: Attempt[],
  route: string,
): void {
  const parent = (start as Arrived).traceParent;
  const ids = tracer.ids(parent);
  const tool = start.method === 'tools/call' ? (start.exposedName ?? undefined) : undefined;
  const failed = done.status !== 'ok';
  tracer.record({
    ...ids,
    parentSpanId: parent?.spanId,
    name: tool ? `${start.method} ${tool}` : start.method,
    kind: 'server',
    startMs: wall(done.started),
    endMs: wall(ended),
    attributes: {
      'mcp.method.name': start.method,
      'mcp.session.id': session.id,
      'gen_ai.operation.name': tool ? 'execute_tool' : undefined,
      'gen_ai.tool.name': tool,
      'network.transport': session.info.transport === 'stdio' ? 'pipe' : 'tcp',
      'error.type': failed ? done.status : undefined,
      'switchboard.agent': session.agent,
      'switchboard.server': start.server ?? undefined,
      'switchboard.status': done.status,
      'switchboard.route': attempts.length ? route : undefined,
      'switchboard.cost_usd': typeof done.outcome?.costUsd === 'number' ? double(done.outcome.costUsd) : undefined,
    },
    error: failed ? (done.error ?? done.status) : undefined,
  });
  const args = (start.args ?? {}) as Record<string, unknown>;
  const answered = attempts.findLast((a) => a.status === 'ok');
  for (const attempt of attempts) {
    if (attempt.status === 'skipped') continue;
    const ok = attempt.status === 'ok';
    // The router's clock (Date.now) and the call's (performance) drift apart by a little:
    // the attempt is kept inside its call's span.
    const callStart = wall(done.started);
    const callEnd = wall(ended);
    const startMs = Math.max(callStart, Math.min(attempt.startedAt ?? callEnd - attempt.latencyMs, callEnd));
    const finishReason = ok && typeof done.structured?.stopReason === 'string' ? done.structured.stopReason : undefined;
    tracer.record({
      ...tracer.ids(ids),
      parentSpanId: ids.spanId,
      name: `chat ${attempt.model}`,
      kind: 'client',
      startMs,
      endMs: Math.min(callEnd, startMs + attempt.latencyMs),
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': attempt.provider,
        'gen_ai.system': attempt.provider,
        'gen_ai.request.model': attempt.model,
        'gen_ai.response.model': ok && attempt === answered ? (done.outcome?.model ?? attempt.model) : undefined,
        'gen_ai.request.max_tokens': typeof args.maxTokens === 'number' ? args.maxTokens : undefined,
        'gen_ai.request.temperature': typeof args.temperature === 'number' ? double(args.temperature) : undefined,
        'gen_ai.usage.input_tokens': ok ? (done.outcome?.inputTokens ?? undefined) : undefined,
        'gen_ai.usage.output_tokens': ok ? (done.outcome?.outputTokens ?? undefined) : undefined,
        'gen_ai.response.finish_reasons': finishReason ? [finishReason] : undefined,
        'error.type': ok ? undefined : (attempt.kind ?? attempt.status),
        'http.response.status_code': attempt.httpStatus,
        'switchboard.attempt.status': attempt.status,
        'switchboard.attempt.ttft_ms': attempt.ttftMs,
        'switchboard.route': route,
      },
      error: ok ? undefined : (attempt.error ?? attempt.status),
    });
  }
}

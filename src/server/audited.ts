import type { Result, ServerContext } from '@modelcontextprotocol/server';
import { truncateBytes, type AuditOutcome, type AuditStart } from '../audit/index.js';
import { GatewayError, errorMessage } from '../errors.js';
import type { DownstreamSession } from './session.js';

const MAX_RESULT_BYTES = 1024;
const MAX_ERROR_CHARS = 500;

/** Who and where, for every row this session writes. */
export function auditFields(session: DownstreamSession, ctx: ServerContext | undefined): Omit<AuditStart, 'method'> {
  return {
    agent: session.agent,
    session: session.id,
    client: session.clientLabel(ctx),
    transport: session.info.transport,
  };
}

/** The audit status a failure is recorded with. */
export function statusOf(error: unknown): AuditOutcome['status'] {
  if (!(error instanceof GatewayError)) return 'error';
  switch (error.code) {
    case 'timeout':
      return 'timeout';
    case 'cancelled':
      return 'cancelled';
    case 'upstream_unavailable':
      return 'unavailable';
    case 'denied':
      return 'denied';
    case 'quota':
      return 'quota';
    case 'approval_denied':
      return 'approval_denied';
    default:
      return 'error';
  }
}

function firstText(result: Result): string | undefined {
  const content = (result as { content?: { type?: string; text?: string }[] }).content;
  const text = Array.isArray(content) ? content.find((b) => b.type === 'text')?.text : undefined;
  return text?.slice(0, MAX_ERROR_CHARS);
}

/**
 * Runs `run` between a durable audit row and its outcome. The row is committed before
 * `run` starts (so before anything is forwarded); its outcome is written when `run`
 * ends, whichever way it ends.
 */
export async function withAudit(
  session: DownstreamSession,
  start: AuditStart,
  storeResult: boolean,
  run: () => Promise<Result>,
  details?: (result: Result) => Partial<AuditOutcome>,
): Promise<Result> {
  const { audit } = session.runtime;
  const started = performance.now();
  const call = audit ? await audit.start(start) : undefined;
  try {
    const result = await run();
    const isError = (result as { isError?: boolean }).isError === true;
    if (call) {
      const json = JSON.stringify(result);
      call.end({
        status: isError ? 'error' : 'ok',
        error: isError ? (firstText(result) ?? 'isError') : null,
        responseBytes: Buffer.byteLength(json),
        result: storeResult ? truncateBytes(json, MAX_RESULT_BYTES) : null,
        ...details?.(result),
      });
    }
    count(session, start, isError ? 'error' : 'ok', started);
    return result;
  } catch (error) {
    const status = statusOf(error);
    // A router failure carries every attempt it made.
    const attempts = (error as { data?: { attempts?: unknown[] } }).data?.attempts;
    call?.end({
      status,
      error: errorMessage(error).slice(0, MAX_ERROR_CHARS),
      ...(attempts?.length ? { attempts: JSON.stringify(attempts) } : {}),
    });
    count(session, start, status, started);
    throw error;
  }
}

/** The call in the metrics: tools by name, everything else by method (URIs are unbounded). */
function count(session: DownstreamSession, start: AuditStart, status: string, started: number): void {
  const label = start.method === 'tools/call' ? (start.exposedName ?? null) : start.method;
  session.runtime.metrics?.call(
    session.agent,
    start.server ?? null,
    label,
    status,
    (performance.now() - started) / 1000,
  );
}

/** A call refused before it started (denied, quota, approval) is a row too. */
export function auditRefusal(session: DownstreamSession, start: AuditStart, error: unknown): void {
  const status = statusOf(error);
  session.runtime.audit?.refused(start, { status, error: errorMessage(error).slice(0, MAX_ERROR_CHARS) });
  // A refused call for a name the catalog does not know is counted as unknown (labels stay bounded).
  count(session, start.server ? start : { ...start, exposedName: null }, status, performance.now());
}

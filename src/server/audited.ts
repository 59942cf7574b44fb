import type { Result, ServerContext } from '@modelcontextprotocol/server';
import { truncateBytes, type AuditOutcome, type AuditStart } from '../audit/index.js';
import { GatewayError, errorMessage } from '../errors.js';
import { observeCall } from './observe.js';
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
    const status = isError ? 'error' : 'ok';
    const error = isError ? (firstText(result) ?? 'isError') : null;
    const extra = details?.(result);
    if (call) {
      const json = JSON.stringify(result);
      call.end({
        status,
        error,
        responseBytes: Buffer.byteLength(json),
        result: storeResult ? truncateBytes(json, MAX_RESULT_BYTES) : null,
        ...extra,
      });
    }
    const structured = (result as { structuredContent?: Record<string, unknown> }).structuredContent;
    observeCall(session, start, { status, started, outcome: extra, error: error ?? undefined, structured });
    return result;
  } catch (error) {
    const status = statusOf(error);
    // A router failure carries every attempt it made.
    const attempts = (error as { data?: { attempts?: unknown[] } }).data?.attempts;
    const outcome = {
      status,
      error: errorMessage(error).slice(0, MAX_ERROR_CHARS),
      ...(attempts?.length ? { attempts: JSON.stringify(attempts) } : {}),
    };
    call?.end(outcome);
    observeCall(session, start, { status, started, outcome, error: outcome.error });
    throw error;
  }
}

/** A call refused before it started (denied, quota, approval) is a row too. */
export function auditRefusal(session: DownstreamSession, start: AuditStart, error: unknown): void {
  const status = statusOf(error);
  session.runtime.audit?.refused(start, { status, error: errorMessage(error).slice(0, MAX_ERROR_CHARS) });
  // A refused call for a name the catalog does not know is counted as unknown (labels stay bounded).
  observeCall(session, start.server ? start : { ...start, exposedName: null }, {
    status,
    started: performance.now(),
    error: errorMessage(error).slice(0, MAX_ERROR_CHARS),
  });
}

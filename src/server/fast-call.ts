import {
  ProtocolError,
  ProtocolErrorCode,
  specTypeSchemas,
  type JSONRPCMessage,
  type Result,
} from '@modelcontextprotocol/server';
import type { AuditStart } from '../audit/index.js';
import { rewriteToolResult } from '../catalog/index.js';
import { RESERVED_SERVER_NAME } from '../config/index.js';
import type { Caller, Upstream } from '../upstream/index.js';
import type { BuiltinTool } from './builtin.js';
import { auditRefusal, withAudit } from './audited.js';
import { toProtocolError, toolFailure } from './boundary.js';
import { takeQuota } from './call-tool.js';
import { forwardParams, type Params } from './forward.js';
import { rememberArrival } from './observe.js';
import type { DownstreamSession } from './session.js';

type Id = string | number;
type Send = (message: JSONRPCMessage) => Promise<void>;

/** A `tools/call` this path takes: its request id and its plan. */
export interface Call {
  id: Id;
  plan: Plan;
}

/** A call this path can take: everything decided before it starts. */
interface Plan {
  name: string;
  params: Params;
  args: Record<string, unknown>;
  server: string;
  upstreamName: string;
  /** One of the two: an upstream's tool, or one of the gateway's own. */
  upstream: Upstream | undefined;
  builtin: BuiltinTool | undefined;
  rule: string;
  token: string | number | undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const str = (value: unknown) => typeof value === 'string';

/** Required fields of each content block type (2025-11-25). */
const BLOCKS: Record<string, (block: Record<string, unknown>) => boolean> = {
  text: (b) => str(b.text),
  image: (b) => str(b.data) && str(b.mimeType),
  audio: (b) => str(b.data) && str(b.mimeType),
  resource_link: (b) => str(b.uri) && str(b.name),
  resource: (b) => isPlainObject(b.resource) && str(b.resource.uri),
};

/**
 * The SDK server checks every `tools/call` result against the spec's schema (a zod parse
 * per call). Results nearly always have the plain shape checked here without it; anything
 * else gets the full check, and a result that fails it is refused as the SDK refuses it.
 */
export function checkedResult(result: Result): Result {
  const r = result as Record<string, unknown>;
  // As the SDK does: a result without content (structured output only) gets an empty one.
  const value = r.content === undefined ? { ...r, content: [] } : r;
  const plain =
    Array.isArray(value.content) &&
    value.content.every((b) => isPlainObject(b) && str(b.type) && BLOCKS[b.type as string]?.(b) === true) &&
    (value.isError === undefined || typeof value.isError === 'boolean') &&
    (value.structuredContent === undefined || isPlainObject(value.structuredContent)) &&
    (value._meta === undefined || isPlainObject(value._meta));
  if (plain) return value as Result;
  const checked = specTypeSchemas.CallToolResult['~standard'].validate(value);
  if (!checked.issues) return value as Result;
  const why = checked.issues
    .map(
      (i) =>
        `${(i.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.') || 'result'}: ${i.message}`,
    )
    .join('; ');
  throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Invalid tools/call result: ${why}`);
}

/**
 * The front doors' own path for the one request that dominates traffic: a
 * `tools/call` of an allowed tool (an upstream's, or one of the gateway's own such as
 * `switchboard__sample`) by a 2025-era client. It runs the same stages as `callTool`
 * (policy, quota, audit, forward, rewrite, result check, audit outcome, metrics) through
 * the same functions, without the SDK server's request machinery (schema parsing of the
 * request, a context object, an abort signal and a promise chain per call), which
 * profiled at about a fifth of the gateway's CPU per call.
 *
 * Anything else goes to the SDK server as before, and so does every call this path is not
 * sure about: malformed params (the SDK answers them with its exact errors), unknown,
 * denied or quarantined tools, tools that need approval, upstreams isolated per session,
 * a 2026-era client (its requests carry an envelope and may need `input_required`
 * rounds), or a client that has not finished `initialize`. A change to `callTool` belongs
 * here too; `test/e2e/fast-path.test.ts` (stdio) and `test/e2e/http-fast-path.test.ts`
 * (a 2025-era HTTP session, see http-fast.ts) run the same cases against both.
 */
export class FastCalls {
  private readonly inflight = new Map<Id, AbortController>();
  /**
   * Calls the client withdrew (a cancellation, or its connection closing): these get no
   * answer. Not `signal.aborted`: the controller is also the upstream request's own, which
   * a timeout or a failed request aborts too (see RequestOptions.controller).
   */
  private readonly withdrawn = new WeakSet<AbortController>();
  /** Said once, in the debug log, so that it can be seen (and tested) that this path is used. */
  private announced = false;

  /** `door`: which front door, for the log line. */
  constructor(
    private readonly session: DownstreamSession,
    private readonly door: 'stdio' | 'http',
  ) {}

  /**
   * The stdio front door's entry: takes a message when this path answers it (the answer
   * and any progress go to `send`); `false` leaves it to the SDK server.
   */
  take(message: JSONRPCMessage, send: Send): boolean {
    this.cancel(message);
    const call = this.accept(message);
    if (!call) return false;
    void this.start(call, send, this.session.caller);
    return true;
  }

  /** A `notifications/cancelled` for a call of this path cancels it (the SDK server sees it too, and ignores an id it does not know). */
  cancel(message: JSONRPCMessage): void {
    const m = message as { method?: unknown; params?: unknown };
    if (m.method !== 'notifications/cancelled') return;
    const requestId = isPlainObject(m.params) ? m.params.requestId : undefined;
    if (typeof requestId === 'string' || typeof requestId === 'number') {
      const controller = this.inflight.get(requestId);
      if (!controller) return;
      this.withdrawn.add(controller);
      controller.abort(new Error(String((m.params as { reason?: unknown }).reason ?? 'cancelled')));
    }
  }

  /** The call this path would take, with everything decided; `undefined` leaves the message to the SDK server. */
  accept(message: unknown): Call | undefined {
    const m = message as { jsonrpc?: unknown; method?: unknown; id?: Id; params?: unknown };
    if (m.jsonrpc !== '2.0' || m.method !== 'tools/call' || m.id === undefined || this.inflight.has(m.id)) return;
    // 2025-11-25 ids are strings or integers; the SDK answers anything else.
    if (typeof m.id !== 'string' && !(typeof m.id === 'number' && Number.isSafeInteger(m.id))) return;
    const plan = this.plan(m.params);
    return plan && { id: m.id, plan };
  }

  /**
   * Runs an accepted call: its progress and its answer go to `send`, and requests an
   * upstream sends mid-call are asked through `caller`. Settles once the call is over
   * (answered, or cancelled without an answer).
   */
  start({ id, plan }: Call, send: Send, caller: Caller): Promise<void> {
    if (!this.announced) {
      this.announced = true;
      this.session.runtime.log.debug(`${this.door} fast path: taking tools/call`, { tool: plan.name });
    }
    const controller = new AbortController();
    this.inflight.set(id, controller);
    return this.run(id, plan, controller, send, caller);
  }

  private plan(params: unknown): Plan | undefined {
    const { session } = this;
    const { runtime } = session;
    if (session.info.era !== 'legacy' || !runtime.started || !session.server.getClientCapabilities()) return undefined;
    if (!isPlainObject(params) || typeof params.name !== 'string') return undefined;
    const args = params.arguments === undefined ? {} : params.arguments;
    const meta = params._meta;
    if (!isPlainObject(args) || (meta !== undefined && !isPlainObject(meta))) return undefined;
    const token = meta?.progressToken;
    if (token !== undefined && typeof token !== 'string' && typeof token !== 'number') return undefined;
    const name = params.name;
    const entry = runtime.catalog.tool(name);
    if (!entry) return undefined;
    const decision = session.visibility.tool(name);
    if (!decision.allowed || session.policy()?.approvalFor(name) !== undefined) return undefined;
    const builtin = entry.server === RESERVED_SERVER_NAME ? runtime.builtins.get(entry.name) : undefined;
    const upstream = builtin ? undefined : runtime.pool.upstreams.get(entry.server);
    if (!builtin && (!upstream || upstream.config.isolation === 'session')) return undefined;
    return {
      name,
      params: params as Params,
      args,
      server: entry.server,
      upstreamName: entry.name,
      upstream,
      builtin,
      rule: decision.rule,
      token: token as string | number | undefined,
    };
  }

  private async run(id: Id, plan: Plan, controller: AbortController, send: Send, caller: Caller): Promise<void> {
    const { session } = this;
    const { runtime } = session;
    // auditFields()'s four fields written out rather than spread in: this runs on every call.
    const start: AuditStart = {
      agent: session.agent,
      session: session.id,
      client: session.clientLabel(undefined),
      transport: session.info.transport,
      method: 'tools/call',
      server: plan.server,
      name: plan.upstreamName,
      exposedName: plan.name,
      args: plan.args,
      decision: plan.rule,
    };
    rememberArrival(start, plan.params._meta);
    let leave: (() => void) | undefined;
    let sent: Promise<void> | undefined;
    try {
      try {
        leave = runtime.enter(session.agent);
        session.busy++;
        takeQuota(session, session.policy(), plan.name);
      } catch (error) {
        auditRefusal(session, start, error);
        throw error;
      }
      const onprogress =
        plan.token === undefined
          ? undefined
          : (progress: Record<string, unknown>) =>
              void send({
                jsonrpc: '2.0',
                method: 'notifications/progress',
                params: { progressToken: plan.token, ...progress },
              } as JSONRPCMessage);
      const forwarded = forwardParams(plan.params, { name: plan.upstreamName });
      const { upstream, builtin } = plan;
      const storeResult = upstream?.config.auditResults ?? false;
      await withAudit(
        session,
        start,
        storeResult,
        async () => {
          const result: Result = builtin
            ? await builtin.call(session, plan.args, controller.signal)
            : checkedResult(
                rewriteToolResult(
                  plan.server,
                  await upstream!.request('tools/call', forwarded, { caller, controller, onprogress }),
                ),
              );
          // The answer goes out before the outcome is recorded and counted: the caller
          // need not wait for that bookkeeping. (The call still counts as in flight
          // until the answer is written, for draining at shutdown.)
          sent = send({ jsonrpc: '2.0', id, result } as JSONRPCMessage);
          return result;
        },
        builtin?.auditDetails?.bind(builtin),
      );
      await sent;
    } catch (error) {
      // A cancelled request is not answered (as the SDK server does); nor one answered already.
      if (this.withdrawn.has(controller) || sent) return;
      await send(this.failure(id, error));
    } finally {
      if (leave) {
        session.busy--;
        leave();
      }
      this.inflight.delete(id);
    }
  }

  /**
   * The connection closed (the client went away, or shutdown ran past its grace): every
   * call still running is cancelled, as the SDK server cancels its own requests.
   */
  abortAll(): void {
    for (const controller of this.inflight.values()) {
      this.withdrawn.add(controller);
      controller.abort(new Error('the client connection closed'));
    }
  }

  /** The answer `callTool` gives for the same failure: an `isError` result or a JSON-RPC error. */
  private failure(id: Id, error: unknown): JSONRPCMessage {
    try {
      return { jsonrpc: '2.0', id, result: toolFailure(error) } as JSONRPCMessage;
    } catch (thrown) {
      const e = toProtocolError(thrown);
      // The 2025 wire has no -32002 (resource not found): the SDK sends it as -32602.
      const code = e.code === -32002 ? ProtocolErrorCode.InvalidParams : e.code;
      return {
        jsonrpc: '2.0',
        id,
        error: { code, message: e.message, ...(e.data === undefined ? {} : { data: e.data }) },
      } as JSONRPCMessage;
    }
  }
}

import { ProtocolError, ProtocolErrorCode, type Result, type ServerContext } from '@modelcontextprotocol/server';
import { auditArgs, type AuditStart } from '../audit/index.js';
import { rewriteToolResult } from '../catalog/index.js';
import { RESERVED_SERVER_NAME } from '../config/index.js';
import { GatewayError, errorMessage } from '../errors.js';
import { approvalRequest, formatDelay, isApproved, type Policy } from '../policy/index.js';
import type { Caller } from '../upstream/index.js';
import { auditFields, auditRefusal, withAudit } from './audited.js';
import { toolFailure } from './boundary.js';
import { forwardParams, refusal, upstreamFor, type Params } from './forward.js';
import { rememberArrival } from './observe.js';
import type { DownstreamSession } from './session.js';

/**
 * One `tools/call`, stage by stage (DESIGN.md's data path): resolve the name, decide
 * (policy), ask a person when the policy requires approval, take the quota, write the
 * audit row, forward (or answer a gateway tool), finish the row. Refusals are audited
 * and happen before anything reaches an upstream. The stdio front door answers most calls
 * through `fast-call.ts`, which runs the same stages: a change here belongs there too.
 */
export async function callTool(session: DownstreamSession, params: Params & { name: string }, ctx: ServerContext) {
  const { runtime } = session;
  await runtime.ready;
  const name = params.name;
  const args = (params.arguments ?? {}) as Record<string, unknown>;
  const entry = runtime.catalog.tool(name);
  const known = entry ?? runtime.catalog.quarantined(name);
  const start: AuditStart = {
    ...auditFields(session, ctx),
    method: 'tools/call',
    server: known?.server ?? null,
    name: known?.name ?? null,
    exposedName: name,
    args,
  };
  rememberArrival(start, params._meta);
  const decision = session.visibility.tool(name);
  start.decision = decision.rule;
  if (!decision.allowed) {
    const error = refusal('tool', name, session.agent, decision.rule);
    auditRefusal(session, start, new GatewayError('denied', error.message));
    throw error;
  }
  if (!entry) {
    if (runtime.catalog.quarantined(name)) {
      const message = `switchboard: tool ${name} is quarantined: its definition changed since it was approved (review it with \`switchboard pins\`, then \`switchboard pins approve ${name}\`)`;
      auditRefusal(session, start, new GatewayError('denied', message));
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, message, { reason: 'quarantined' });
    }
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`);
  }
  const policy = session.policy()!;
  const forwarded = forwardParams(params, { name: entry.name });
  let started = false;
  try {
    return (await session.run(ctx, `tools/call\u0000${name}`, async (caller, signal, progress) => {
      started = true;
      try {
        await admit(session, policy, caller, name, entry.server, args, signal);
      } catch (error) {
        // A call cancelled while it waited (for a person) is audited as cancelled.
        auditRefusal(
          session,
          start,
          signal.aborted
            ? new GatewayError('cancelled', 'cancelled before it was forwarded (waiting for approval)')
            : error,
        );
        throw error;
      }
      const storeResult = runtime.pool.upstreams.get(entry.server)?.config.auditResults ?? false;
      const builtin = entry.server === RESERVED_SERVER_NAME ? runtime.builtins.get(entry.name) : undefined;
      return withAudit(
        session,
        start,
        storeResult,
        async () => {
          if (builtin) return builtin.call(session, args, signal);
          const upstream = await upstreamFor(session, entry.server);
          const result = await upstream.request('tools/call', forwarded, { caller, signal, onprogress: progress });
          return rewriteToolResult(entry.server, result);
        },
        builtin?.auditDetails?.bind(builtin),
      );
    })) as Result;
  } catch (error) {
    // Refused before it started: the agent is at its limit of calls in flight. (A later
    // round of a 2026-era call does not run the work again: its first round audited it.)
    const resuming = typeof ctx.mcpReq.requestState() === 'string';
    if (!started && !resuming) auditRefusal(session, start, error);
    return toolFailure(error);
  }
}

/** Approval, then quota: a call that waits for a person holds no quota while it waits. */
async function admit(
  session: DownstreamSession,
  policy: Policy,
  caller: Caller,
  name: string,
  server: string | null,
  args: Record<string, unknown>,
  signal: AbortSignal,
): Promise<void> {
  const approval = policy.approvalFor(name);
  if (approval !== undefined) await askApproval(session, caller, name, server, args, approval, signal);
  takeQuota(session, policy, name);
}

/** Takes the call's quotas, or throws the refusal naming the rule that is used up. */
export function takeQuota(session: DownstreamSession, policy: Policy | undefined, name: string): void {
  const rules = policy?.quotasFor(name) ?? [];
  if (rules.length === 0 || !session.runtime.quotas) return;
  const outcome = session.runtime.quotas.take(session.agent, rules);
  if (outcome.ok) return;
  const { rule, retryAfterMs } = outcome;
  throw new GatewayError(
    'quota',
    `quota "${rule.key}": "${rule.text}" for agent "${session.agent}" is used up; retry in ${formatDelay(retryAfterMs)}`,
    { data: { retryAfterMs, quota: rule.key } },
  );
}

/** The first answer wins: the client's elicitation, or a decision on the dashboard or CLI. */
type Answer = { approved: boolean; why: string };

/**
 * Asks a person. When the gateway has a database the call also waits in the approvals
 * queue (dashboard, `switchboard approvals`), so a client that cannot ask (no
 * elicitation) can still be approved; the client's answer and the queue race, and the
 * loser is withdrawn (the elicitation cancelled, the queue row closed).
 */
async function askApproval(
  session: DownstreamSession,
  caller: Caller,
  tool: string,
  server: string | null,
  args: Record<string, unknown>,
  rule: string,
  signal: AbortSignal,
): Promise<void> {
  const { runtime } = session;
  const timeoutMs = runtime.config.gateway.approvalTimeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const settled = new AbortController();
  const both = AbortSignal.any([signal, timeout, settled.signal]);
  const queue = runtime.approvals;
  const queued = queue?.open({
    agent: session.agent,
    session: session.id,
    transport: session.info.transport,
    server,
    tool,
    rule,
    args: auditArgs(args, runtime.config.gateway.audit.maxArgsBytes).args,
  });
  let clientCannotAsk = false;
  // (async: a client without elicitation makes ask() throw at once.)
  const fromClient = (async () =>
    caller.ask('elicitation/create', approvalRequest(session.agent, tool, args), both))().then(
    (answer): Answer => {
      const action = (answer as { action?: string }).action ?? 'no answer';
      return { approved: isApproved(answer), why: action === 'accept' ? 'approve was not checked' : action };
    },
    (error: unknown): Promise<Answer> => {
      if (error instanceof GatewayError && error.code === 'capability_missing') {
        clientCannotAsk = true;
        // Without a queue nobody else can answer; with one, the queue decides alone.
        if (queued === undefined) return Promise.reject(error);
        return new Promise<Answer>(() => undefined);
      }
      return Promise.reject(error);
    },
  );
  const fromQueue =
    queued === undefined
      ? new Promise<Answer>(() => undefined)
      : queue!
          .wait(queued, both)
          .then((d): Answer => ({ approved: d.status === 'approved', why: `${d.status} by ${d.by}` }));
  fromQueue.catch(() => undefined); // rejected on abort; the race below reports why
  let answer: Answer | undefined;
  try {
    answer = await new Promise<Answer>((resolve, reject) => {
      both.addEventListener('abort', () => reject(both.reason), { once: true });
      Promise.race([fromClient, fromQueue]).then(resolve, reject);
    });
  } catch (error) {
    // Closing fails when someone decided meanwhile (another process, seen only on the next
    // poll): a decision stored before the deadline is honoured, not lost.
    const closed = queued === undefined || queue!.close(queued, signal.aborted ? 'cancelled' : 'expired', 'gateway');
    const stored = closed || signal.aborted ? undefined : queue!.get(queued!);
    if (stored?.status === 'approved' || stored?.status === 'denied') {
      answer = { approved: stored.status === 'approved', why: `${stored.status} by ${stored.decidedBy}` };
    } else {
      throw refusalOf(error, {
        tool,
        rule,
        timeoutMs,
        timedOut: timeout.aborted && !signal.aborted,
        signal,
        queued,
        clientCannotAsk,
      });
    }
  } finally {
    settled.abort(); // withdraws the elicitation the queue beat, stops the queue's wait
  }
  // The client answered first: record it, so the dashboard shows the call as decided.
  if (queued !== undefined && !queue!.decide(queued, answer.approved ? 'approved' : 'denied', 'client')) {
    // A person decided on the dashboard in the same instant: the first decision stored wins.
    const stored = queue!.get(queued);
    if (stored?.status === 'approved' || stored?.status === 'denied') {
      answer = { approved: stored.status === 'approved', why: `${stored.status} by ${stored.decidedBy}` };
    }
  }
  if (!answer.approved) throw new GatewayError('approval_denied', `${tool} was not approved (${answer.why})`);
}

/** Why a call waiting for approval was not approved, for the agent. */
function refusalOf(
  error: unknown,
  c: {
    tool: string;
    rule: string;
    timeoutMs: number;
    timedOut: boolean;
    signal: AbortSignal;
    queued: number | undefined;
    clientCannotAsk: boolean;
  },
): unknown {
  if (error instanceof GatewayError && error.code === 'capability_missing') {
    return new GatewayError(
      'approval_denied',
      `${c.tool} needs a person's approval (requireApproval: ${c.rule}), but this client cannot ask one: it does not support elicitation`,
    );
  }
  if (c.timedOut) {
    const where = c.clientCannotAsk
      ? ` (this client cannot ask a person; approve pending calls on the dashboard or with \`switchboard approvals approve ${c.queued}\`)`
      : '';
    return new GatewayError(
      'approval_denied',
      `${c.tool} was not approved: no answer within ${formatDelay(c.timeoutMs)}${where}`,
    );
  }
  if (c.signal.aborted) return error;
  return new GatewayError('approval_denied', `${c.tool} was not approved: ${errorMessage(error)}`);
}

import { ProtocolError, ProtocolErrorCode, type Result, type ServerContext } from '@modelcontextprotocol/server';
import { rewriteToolResult } from '../catalog/index.js';
import { GatewayError, errorMessage } from '../errors.js';
import { approvalRequest, formatDelay, isApproved } from '../policy/index.js';
import type { Caller } from '../upstream/index.js';
import { toolFailure } from './boundary.js';
import { forwardParams, refusal, upstreamFor, type Params } from './forward.js';
import type { DownstreamSession } from './session.js';

/**
 * One `tools/call`, stage by stage: resolve the name, decide (policy), ask a person when
 * the policy requires approval, take the quota, forward. Every refusal happens before
 * anything reaches the upstream.
 */
export async function callTool(session: DownstreamSession, params: Params & { name: string }, ctx: ServerContext) {
  const { runtime } = session;
  await runtime.ready;
  const name = params.name;
  const decision = session.visibility.tool(name);
  if (!decision.allowed) throw refusal('tool', name, session.agent, decision.rule);
  const entry = runtime.catalog.tool(name);
  if (!entry) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`);
  const policy = session.policy()!;
  const forwarded = forwardParams(params, { name: entry.name });
  try {
    return (await session.run(ctx, async (caller, signal, progress) => {
      const approval = policy.approvalFor(name);
      if (approval !== undefined) await askApproval(session, caller, name, params.arguments, approval, signal);
      const rules = policy.quotasFor(name);
      if (rules.length > 0 && runtime.quotas) {
        const outcome = runtime.quotas.take(session.agent, rules);
        if (!outcome.ok) {
          const { rule, retryAfterMs } = outcome;
          throw new GatewayError(
            'quota',
            `quota "${rule.key}": "${rule.text}" for agent "${session.agent}" is used up; retry in ${formatDelay(retryAfterMs)}`,
            { data: { retryAfterMs, quota: rule.key } },
          );
        }
      }
      const upstream = await upstreamFor(session, entry.server);
      const result = await upstream.request('tools/call', forwarded, { caller, signal, onprogress: progress });
      return rewriteToolResult(entry.server, result);
    })) as Result;
  } catch (error) {
    return toolFailure(error);
  }
}

async function askApproval(
  session: DownstreamSession,
  caller: Caller,
  tool: string,
  args: unknown,
  rule: string,
  signal: AbortSignal,
): Promise<void> {
  const timeoutMs = session.runtime.config.gateway.approvalTimeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const both = AbortSignal.any([signal, timeout]);
  let answer: Result;
  try {
    answer = await new Promise<Result>((resolve, reject) => {
      both.addEventListener('abort', () => reject(both.reason), { once: true });
      caller
        .ask('elicitation/create', approvalRequest(session.agent, tool, args as Record<string, unknown>), both)
        .then(resolve, reject);
    });
  } catch (error) {
    if (error instanceof GatewayError && error.code === 'capability_missing') {
      throw new GatewayError(
        'approval_denied',
        `${tool} needs a person's approval (requireApproval: ${rule}), but this client cannot ask one: it does not support elicitation`,
      );
    }
    if (timeout.aborted && !signal.aborted) {
      throw new GatewayError('approval_denied', `${tool} was not approved: no answer within ${formatDelay(timeoutMs)}`);
    }
    if (signal.aborted) throw error;
    throw new GatewayError('approval_denied', `${tool} was not approved: ${errorMessage(error)}`);
  }
  if (!isApproved(answer)) {
    const action = (answer as { action?: string }).action ?? 'no answer';
    throw new GatewayError(
      'approval_denied',
      `${tool} was not approved (${action === 'accept' ? 'approve was not checked' : action})`,
    );
  }
}

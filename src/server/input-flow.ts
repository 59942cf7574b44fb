import { randomBytes } from 'node:crypto';
import { ProtocolError, ProtocolErrorCode, type Result } from '@modelcontextprotocol/server';
import { GatewayError } from '../errors.js';
import type { Caller, ServerToClientMethod } from '../upstream/index.js';

/** How long a multi-round call may wait for the client to come back with answers. */
const FLOW_TTL_MS = 10 * 60_000;
const STATE_PREFIX = 'sbflow.';

interface Ask {
  key: string;
  method: ServerToClientMethod;
  params: Record<string, unknown> | undefined;
  resolve(result: Result): void;
  reject(error: Error): void;
}

type Outcome = { result: Result } | { error: unknown } | { asks: Ask[] };

export type Progress = { progress: number; total?: number; message?: string };
export type Work = (caller: Caller, signal: AbortSignal, progress: (p: Progress) => void) => Promise<Result>;

/**
 * Bridges an upstream's server→client requests into the 2026-07-28 multi-round-trip
 * model. A modern client cannot be sent a request, so when the upstream asks for
 * sampling, elicitation or roots mid-call, the call answers `input_required` with the
 * upstream's request embedded and keeps the upstream call waiting. The client answers
 * and retries with `requestState`; the answer goes upstream and the same call goes on.
 *
 * `requestState` is a random 128-bit id bound to the agent, so it can be neither
 * guessed nor replayed by another agent.
 */
export class InputFlow {
  readonly id = STATE_PREFIX + randomBytes(16).toString('base64url');
  private readonly controller = new AbortController();
  private readonly waiting = new Map<string, Ask>();
  private fresh: Ask[] = [];
  private outcome: Outcome | undefined;
  private wake: (() => void) | undefined;
  private sequence = 0;
  private readonly timer: NodeJS.Timeout;
  /** Where upstream progress goes: the round that is currently open, if any. */
  progressSink: ((p: Progress) => void) | undefined;

  constructor(
    readonly agent: string,
    readonly sessionKey: string,
    private readonly onEnd: (flow: InputFlow) => void,
  ) {
    this.timer = setTimeout(() => this.expire(), FLOW_TTL_MS);
    this.timer.unref();
  }

  static isState(state: unknown): state is string {
    return typeof state === 'string' && state.startsWith(STATE_PREFIX);
  }

  start(work: Work): void {
    const caller: Caller = {
      sessionKey: this.sessionKey,
      agent: this.agent,
      ask: (method, params) =>
        new Promise<Result>((resolve, reject) => {
          this.fresh.push({ key: `r${++this.sequence}`, method, params, resolve, reject });
          this.wake?.();
        }),
    };
    work(caller, this.controller.signal, (p) => this.progressSink?.(p)).then(
      (result) => this.settle({ result }),
      (error: unknown) => this.settle({ error }),
    );
  }

  private settle(outcome: Outcome): void {
    this.outcome ??= outcome;
    this.wake?.();
  }

  /** Hands the client's answers to the asks they belong to; unanswered asks are asked again. */
  deliver(responses: Record<string, unknown> | undefined): void {
    for (const [key, ask] of this.waiting) {
      const response = responses?.[key];
      if (response !== undefined && response !== null && typeof response === 'object') ask.resolve(response as Result);
      else this.fresh.push(ask);
    }
    this.waiting.clear();
  }

  /** Waits for the call to finish or to need input; an abort of this round cancels the call. */
  async next(signal: AbortSignal): Promise<Outcome> {
    const onAbort = () => this.controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!this.outcome && this.fresh.length === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (this.outcome) {
      this.end();
      return this.outcome;
    }
    const asks = this.fresh;
    this.fresh = [];
    for (const ask of asks) this.waiting.set(ask.key, ask);
    return { asks };
  }

  /** The `input_required` result that carries the pending asks to the client. */
  static inputRequired(flow: InputFlow, asks: Ask[]): Result {
    const inputRequests: Record<string, { method: string; params?: Record<string, unknown> }> = {};
    for (const ask of asks)
      inputRequests[ask.key] = ask.params ? { method: ask.method, params: ask.params } : { method: ask.method };
    return { resultType: 'input_required', inputRequests, requestState: flow.id } as Result;
  }

  private expire(): void {
    const error = new GatewayError('timeout', 'the client did not answer the input request in time');
    for (const ask of [...this.waiting.values(), ...this.fresh]) ask.reject(error);
    this.controller.abort(error);
    this.end();
  }

  private end(): void {
    clearTimeout(this.timer);
    this.onEnd(this);
  }
}

/** The open flows of one gateway, by `requestState`. */
export class InputFlows {
  private readonly flows = new Map<string, InputFlow>();

  open(agent: string, sessionKey: string, work: Work): InputFlow {
    const flow = new InputFlow(agent, sessionKey, (f) => this.flows.delete(f.id));
    this.flows.set(flow.id, flow);
    flow.start(work);
    return flow;
  }

  /** The flow a retried request continues; refuses state that is unknown, expired or another agent's. */
  resume(state: string, agent: string, responses: Record<string, unknown> | undefined): InputFlow {
    const flow = this.flows.get(state);
    if (!flow || flow.agent !== agent) {
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'switchboard: unknown or expired requestState');
    }
    flow.deliver(responses);
    return flow;
  }

  get size(): number {
    return this.flows.size;
  }
}

import { ProtocolError, ProtocolErrorCode, type Result } from '@modelcontextprotocol/server';
import { GatewayError } from '../errors.js';
import { randomId } from '../random.js';
import type { Caller, ServerToClientMethod } from '../upstream/index.js';

/** How long a multi-round call waits for the client to come back with answers. */
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
 * `requestState` is `sbflow.<128 random bits>.<round>`: it cannot be guessed, it is
 * bound to the agent and to the request it was issued for (method and name), and only
 * the latest round's state is accepted, so an old round cannot be replayed.
 */
export class InputFlow {
  readonly id = STATE_PREFIX + randomId(16, 'base64url');
  private round = 0;
  private readonly controller = new AbortController();
  private readonly waiting = new Map<string, Ask>();
  private fresh: Ask[] = [];
  private outcome: Outcome | undefined;
  /** Rounds waiting for news (a client may retry a round while the first try still waits). */
  private readonly waiters = new Set<() => void>();
  private sequence = 0;
  /** Runs only while the flow waits for the client (between rounds). */
  private timer: NodeJS.Timeout | undefined;
  /** Where upstream progress goes: the round that is currently open, if any. */
  progressSink: ((p: Progress) => void) | undefined;

  constructor(
    readonly agent: string,
    readonly sessionKey: string,
    /** What the flow was opened for (`tools/call\0<name>`): a retry must be for the same. */
    readonly binding: string,
    private readonly onEnd: (flow: InputFlow) => void,
  ) {}

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }

  static isState(state: unknown): state is string {
    return typeof state === 'string' && state.startsWith(STATE_PREFIX);
  }

  /** The state the client must echo on its next retry. */
  get state(): string {
    return `${this.id}.${this.round}`;
  }

  start(work: Work): void {
    const caller: Caller = {
      sessionKey: this.sessionKey,
      agent: this.agent,
      ask: (method, params, signal) =>
        new Promise<Result>((resolve, reject) => {
          const ask: Ask = { key: `r${++this.sequence}`, method, params, resolve, reject };
          // Withdrawn (the dashboard approved first, say): it is not asked again. A client
          // already showing it cannot be told; its answer, when it comes, is ignored.
          signal?.addEventListener(
            'abort',
            () => {
              this.fresh = this.fresh.filter((a) => a !== ask);
              this.waiting.delete(ask.key);
              reject(signal.reason as Error);
            },
            { once: true },
          );
          this.fresh.push(ask);
          this.wakeAll();
        }),
    };
    work(caller, this.controller.signal, (p) => this.progressSink?.(p)).then(
      (result) => this.settle({ result }),
      (error: unknown) => this.settle({ error }),
    );
  }

  private settle(outcome: Outcome): void {
    this.outcome ??= outcome;
    this.wakeAll();
  }

  /** Ends the call now with this error (for the client), whatever the upstream does next. */
  fail(error: unknown): void {
    this.settle({ error });
  }

  /** Hands the client's answers to the asks they belong to; unanswered asks are asked again. */
  deliver(responses: Record<string, unknown> | undefined): void {
    clearTimeout(this.timer);
    for (const [key, ask] of this.waiting) {
      const response = responses?.[key];
      if (response !== undefined && response !== null && typeof response === 'object') ask.resolve(response as Result);
      else this.fresh.push(ask);
    }
    this.waiting.clear();
  }

  /** Waits for the call to finish or to need input; an abort of this round cancels the call. */
  async next(signal: AbortSignal): Promise<Outcome> {
    // A cancelled round cancels the call, unless a retry of the round is waiting too.
    const onAbort = () => {
      if (this.waiters.size <= 1) this.controller.abort(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!this.outcome && this.fresh.length === 0) {
        await new Promise<void>((resolve) => {
          const wake = () => {
            this.waiters.delete(wake);
            resolve();
          };
          this.waiters.add(wake);
        });
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
    this.round++;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.expire(), FLOW_TTL_MS);
    this.timer.unref();
    return { asks };
  }

  /** The `input_required` result that carries the pending asks to the client. */
  static inputRequired(flow: InputFlow, asks: Ask[]): Result {
    const inputRequests: Record<string, { method: string; params?: Record<string, unknown> }> = {};
    for (const ask of asks) {
      inputRequests[ask.key] = ask.params ? { method: ask.method, params: ask.params } : { method: ask.method };
    }
    return { resultType: 'input_required', inputRequests, requestState: flow.state } as Result;
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

/** The open flows of one gateway, by id. */
export class InputFlows {
  private readonly flows = new Map<string, InputFlow>();

  open(agent: string, sessionKey: string, binding: string, work: Work): InputFlow {
    const flow = new InputFlow(agent, sessionKey, binding, (f) => this.flows.delete(f.id));
    this.flows.set(flow.id, flow);
    flow.start(work);
    return flow;
  }

  /**
   * The flow a retried request continues. Refuses state that is unknown, expired,
   * another agent's, issued for a different request, or from an earlier round.
   */
  resume(state: string, agent: string, binding: string, responses: Record<string, unknown> | undefined): InputFlow {
    const dot = state.lastIndexOf('.');
    const flow = this.flows.get(state.slice(0, dot));
    if (!flow || flow.agent !== agent || flow.binding !== binding || flow.state !== state) {
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'switchboard: unknown, expired or stale requestState');
    }
    flow.deliver(responses);
    return flow;
  }

  get size(): number {
    return this.flows.size;
  }
}

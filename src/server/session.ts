import { randomUUID } from 'node:crypto';
import {
  ProtocolError,
  ProtocolErrorCode,
  Server,
  type ClientCapabilities,
  type LoggingLevel,
  type Result,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { GatewayError, errorMessage } from '../errors.js';
import type { Caller, SessionUpstreams } from '../upstream/index.js';
import { assertClientCan } from './capabilities.js';
import { registerHandlers } from './handlers.js';
import { InputFlow, type Progress, type Work } from './input-flow.js';
import type { Policy } from '../policy/index.js';
import { levelRank, type Runtime } from './runtime.js';
import { Visibility } from './visibility.js';

export const GATEWAY_VERSION = '0.1.0';

/** A client waiting on a person (elicitation) may take long; the upstream's own timeout still bounds it. */
export const ASK_TIMEOUT_MS = 30 * 60_000;

export interface SessionInfo {
  agent: string;
  transport: 'stdio' | 'http';
  era: 'legacy' | 'modern';
}

const CAPABILITIES = {
  tools: { listChanged: true },
  prompts: { listChanged: true },
  resources: { subscribe: true, listChanged: true },
  logging: {},
  completions: {},
};

/**
 * One downstream connection (a stdio client, a 2025-era HTTP session, or for the
 * stateless 2026-07-28 era one request): the SDK server that answers it, the agent
 * it belongs to, and the upstream connections its calls go to.
 */
export class DownstreamSession {
  readonly id = randomUUID();
  readonly server: Server;
  readonly upstreams: SessionUpstreams;
  logLevel: LoggingLevel | undefined;
  readonly subscriptions = new Set<string>();
  readonly visibility: Visibility;
  /** Calls of this session in flight. */
  busy = 0;
  /**
   * Asks this session's client (sampling, elicitation, roots) outside any request's own
   * context: for an isolated upstream's requests after it starts, and for calls taken by
   * the stdio fast path (on stdio, related or not, it is the same connection).
   */
  readonly caller: Caller;

  constructor(
    readonly runtime: Runtime,
    readonly info: SessionInfo,
    upstreams?: SessionUpstreams,
  ) {
    this.visibility = new Visibility(() => ({ catalog: runtime.catalog, policy: this.policy() }));
    this.server = new Server(
      { name: 'switchboard', version: GATEWAY_VERSION },
      { capabilities: CAPABILITIES, instructions: this.instructions() },
    );
    this.caller = {
      sessionKey: this.id,
      agent: info.agent,
      ask: (method, params, signal) => {
        assertClientCan(this.server.getClientCapabilities(), method, params);
        return this.server.request({ method, params } as never, { signal, timeout: ASK_TIMEOUT_MS }) as Promise<Result>;
      },
    };
    this.upstreams =
      upstreams ??
      runtime.pool.forSession(this.caller, () => Boolean(this.server.getClientCapabilities()?.roots), {
        log: (upstream, params) => runtime.forwardLog(upstream.name, params, [this]),
      });
    registerHandlers(this);
    this.server.setNotificationHandler('notifications/roots/list_changed', () => {
      void this.upstreams.notifyOwn('notifications/roots/list_changed');
    });
    this.server.onerror = (error) => runtime.log.debug('downstream protocol error', { error: errorMessage(error) });
  }

  get agent(): string {
    return this.info.agent;
  }

  /**
   * Whose upstream requests this session's calls may receive. Stateless 2026-era HTTP
   * requests of one agent share its connections, so they share one key: the agent.
   */
  get callerKey(): string {
    return this.info.era === 'modern' && this.info.transport === 'http' ? `agent:${this.agent}` : this.id;
  }

  /** `name/version` of the client, for audit rows. */
  clientLabel(ctx: ServerContext | undefined): string | null {
    const envelope = ctx?.mcpReq.envelope as Record<string, unknown> | undefined;
    const info =
      (envelope?.['io.modelcontextprotocol/clientInfo'] as { name?: string; version?: string } | undefined) ??
      this.server.getClientVersion();
    // The same info object on every call of a session: its label is made once.
    if (info !== this.labelled.info) {
      this.labelled = { info, label: info?.name ? `${info.name}${info.version ? `/${info.version}` : ''}` : null };
    }
    return this.labelled.label;
  }

  private labelled: { info: { name?: string; version?: string } | undefined; label: string | null } = {
    info: undefined,
    label: null,
  };

  /** The agent's policy as it is now (a file edited on disk applies to the next call). */
  policy(): Policy | undefined {
    return this.runtime.policies.get(this.agent);
  }

  /**
   * Upstream instructions, each under its server's name, so the agent knows what the
   * tools are for; only of the servers its policy lets it see.
   */
  private instructions(): string {
    const parts = ['Switchboard gateway: tools, prompts and resources of several MCP servers, named <server>__<name>.'];
    for (const upstream of this.runtime.pool.upstreams.values()) {
      if (upstream.instructions && this.visibility.mayUse(upstream.name))
        parts.push(`## ${upstream.name}\n${upstream.instructions}`);
    }
    return parts.join('\n\n');
  }

  /**
   * Runs one upstream-bound request for this session, in the session's protocol era:
   * a 2025-era request relays server→client requests over its own connection; a
   * 2026-07-28 request answers them with `input_required` rounds (see InputFlow).
   */
  /**
   * `binding` names the request (`tools/call\0<name>`): a 2026-era retry that carries a
   * `requestState` is accepted only for the request the state was issued to. With
   * `input: false` (a request that cannot answer `input_required`), a 2026-era client is
   * not asked: the upstream's request is refused.
   */
  async run(ctx: ServerContext, binding: string, work: Work, options: { input?: boolean } = {}): Promise<Result> {
    const leave = this.runtime.enter(this.agent);
    this.busy++;
    try {
      return await this.runCounted(ctx, binding, work, options.input ?? true);
    } finally {
      this.busy--;
      leave();
    }
  }

  private async runCounted(ctx: ServerContext, binding: string, work: Work, input: boolean): Promise<Result> {
    const token = (ctx.mcpReq._meta as { progressToken?: string | number } | undefined)?.progressToken;
    // Progress is sent as it comes, but the result waits for the last one to be written:
    // a client drops progress that arrives after the response.
    let sent: Promise<void> = Promise.resolve();
    const progress = (p: Progress) => {
      if (token === undefined) return;
      sent = ctx.mcpReq
        .notify({ method: 'notifications/progress', params: { progressToken: token, ...p } })
        .catch(() => undefined);
    };
    try {
      if (this.info.era === 'legacy') {
        const caller: Caller = {
          sessionKey: this.id,
          agent: this.agent,
          ask: (method, params, signal) => {
            assertClientCan(this.server.getClientCapabilities(), method, params);
            return ctx.mcpReq.send({ method, params } as never, { signal, timeout: ASK_TIMEOUT_MS }) as Promise<Result>;
          },
        };
        return await work(caller, ctx.mcpReq.signal, progress);
      }
      if (!input) {
        // Only some 2026-07-28 requests may answer input_required: for the others an
        // upstream's request is refused, naming why, instead of going nowhere.
        const caller: Caller = {
          sessionKey: this.callerKey,
          agent: this.agent,
          ask: (method) =>
            Promise.reject(
              new GatewayError(
                'capability_missing',
                `${method} cannot reach a 2026-07-28 client during ${binding.split('\u0000')[0]}: only tools/call, prompts/get and resources/read can ask it for input`,
              ),
            ),
        };
        return await work(caller, ctx.mcpReq.signal, progress);
      }
      return await this.runModern(ctx, binding, work, progress);
    } finally {
      await sent;
    }
  }

  private async runModern(
    ctx: ServerContext,
    binding: string,
    work: Work,
    progress: (p: Progress) => void,
  ): Promise<Result> {
    const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
    const caps = envelope?.['io.modelcontextprotocol/clientCapabilities'] as ClientCapabilities | undefined;
    const state: unknown = ctx.mcpReq.requestState();
    let opened: InputFlow | undefined;
    const flow = InputFlow.isState(state)
      ? this.runtime.flows.resume(state, this.agent, binding, ctx.mcpReq.inputResponses)
      : (opened = this.runtime.flows.open(this.agent, this.callerKey, binding, (caller, signal, onProgress) =>
          work(
            {
              ...caller,
              ask: (method, params, s) => {
                try {
                  assertClientCan(caps, method, params);
                } catch (error) {
                  // The client is told directly (-32021 with the capability it lacks); the
                  // upstream gets the same error for its own request.
                  const data = error instanceof GatewayError ? error.data : undefined;
                  opened?.fail(
                    new ProtocolError(ProtocolErrorCode.MissingRequiredClientCapability, errorMessage(error), data),
                  );
                  throw error;
                }
                return caller.ask(method, params, s);
              },
            },
            signal,
            onProgress,
          ),
        ));
    flow.progressSink = progress;
    try {
      const outcome = await flow.next(ctx.mcpReq.signal);
      if ('asks' in outcome) return InputFlow.inputRequired(flow, outcome.asks);
      if ('error' in outcome) throw outcome.error;
      return outcome.result;
    } finally {
      flow.progressSink = undefined;
    }
  }

  /**
   * Whether this session can be sent notifications at any time: every 2025-era
   * connection, and a 2026-era stdio connection (the SDK routes change notifications
   * onto its `subscriptions/listen` streams). A stateless HTTP request cannot.
   */
  get persistent(): boolean {
    return this.info.era === 'legacy' || this.info.transport === 'stdio';
  }

  listsChanged(changed: { tools: boolean; prompts: boolean; resources: boolean }): void {
    if (!this.persistent) return;
    const send = (p: Promise<void>) => void p.catch(() => undefined);
    if (changed.tools) send(this.server.sendToolListChanged());
    if (changed.prompts) send(this.server.sendPromptListChanged());
    if (changed.resources) send(this.server.sendResourceListChanged());
  }

  /** Sessions receive upstream logs only after they set a level (`logging/setLevel`). */
  sendLog(level: LoggingLevel, logger: string, data: unknown): void {
    if (this.logLevel === undefined || levelRank(level) < levelRank(this.logLevel)) return;
    void this.server.sendLoggingMessage({ level, logger, data }).catch(() => undefined);
  }

  sendResourceUpdated(uri: string): void {
    if (!this.subscriptions.has(uri)) return;
    void this.server.sendResourceUpdated({ uri }).catch(() => undefined);
  }
}

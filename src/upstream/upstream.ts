// Over 400 lines on purpose, for now: one connection's lifecycle, supervision, list
// refresh and request path share its private state (the client, calls in flight, progress
// sinks). The request path (timeouts, progress tokens) is the next piece to move out.
import {
  Client,
  StreamableHTTPClientTransport,
  type ClientCapabilities,
  type Result,
  type StandardSchemaV1,
  type Transport,
} from '@modelcontextprotocol/client';
import type { ServerConfig } from '../config/index.js';
import { GatewayError, errorMessage } from '../errors.js';
import type { Logger } from '../observability/index.js';
import type { Caller, ServerToClientMethod } from './caller.js';
import { DirectRequests } from './direct.js';
import { streamablePost } from './direct-http.js';
import { EMPTY_LISTS, fetchLists, listenForChanges, type ListKind, type UpstreamLists } from './lists.js';
import { requestError, restartDelay } from './request-error.js';
import { answerServerRequest } from './server-requests.js';
import { StdioUpstreamTransport } from './stdio-transport.js';
import { createTransport } from './transport.js';

/**
 * `restarting`: the connection was lost (or never made) and a new attempt is scheduled;
 * the last known lists stay in the catalog and calls are refused with the reason.
 */
export type UpstreamStatus = 'idle' | 'connecting' | 'ready' | 'restarting' | 'failed' | 'closed';

export interface UpstreamHooks {
  /** The upstream's lists or status changed; the catalog rebuilds. */
  changed(upstream: Upstream): void;
  /** A `notifications/message` from the upstream. */
  log(upstream: Upstream, params: Record<string, unknown>): void;
  /** A `notifications/resources/updated` for one of the upstream's own URIs. */
  resourceUpdated(upstream: Upstream, uri: string): void;
  /** A request the upstream sent to a client (sampling, elicitation, roots), once answered or refused. */
  serverRequest?(
    upstream: Upstream,
    exchange: { method: ServerToClientMethod; params: Record<string, unknown> | undefined; agent: string | undefined },
    outcome: { error?: unknown; latencyMs: number; details?: Record<string, unknown> },
  ): void;
  /** Answers the server's sampling request with the model router (`sampling: "router"`). */
  sample?(
    params: Record<string, unknown> | undefined,
    signal: AbortSignal,
    /** The agent whose call caused the request: its policy and budget apply. */
    agent: string,
  ): Promise<{ result: Result; details: Record<string, unknown> }>;
}

export interface RequestOptions {
  caller?: Caller | undefined;
  /** The caller's cancellation: aborting it cancels the request upstream. */
  signal?: AbortSignal | undefined;
  /**
   * Instead of `signal`: a controller the caller made for this request alone (the fast
   * path's, one per call). The request uses it as its own rather than making another
   * linked to `signal` (an AbortController and its listeners were ~5 % of the CPU per
   * call over stdio); a timeout, or the request failing, aborts it too, so the caller
   * must not read `aborted` as "cancelled by me".
   */
  controller?: AbortController | undefined;
  onprogress?: ((progress: Progress) => void) | undefined;
}

type Progress = { progress: number; total?: number; message?: string };

export interface UpstreamOptions {
  connectTimeoutMs: number;
  /** Largest message accepted from a stdio server (gateway.maxResultBytes). */
  maxMessageBytes: number;
  /** Who is asked when the server sends a request outside any call (a session's own connection). */
  owner?: Caller;
  /** Declare `roots` to the server (only a session's own connection can answer for them). */
  roots?: boolean;
  /** Restart a lost or failed connection with backoff (the gateway does; `check` does not). */
  supervise?: boolean;
}

/**
 * Results are relayed as they arrive: the gateway does not re-validate what it only
 * passes through (the downstream client validates what it receives).
 */
const PASSTHROUGH: StandardSchemaV1<Result> = {
  '~standard': { version: 1, vendor: 'switchboard', validate: (value) => ({ value: value as Result }) },
};

const VERSION = '0.1.0';
/** The SDK's own request timer is disabled (the longest a Node timer can wait); ours applies. */
const NO_SDK_TIMEOUT = 2_147_483_647;
/** A connection that stayed up this long restarts from the shortest backoff next time. */
const STABLE_AFTER_MS = 10_000;

let nextUpstreamId = 0;

/**
 * One connection to one upstream MCP server: connects (era negotiated), keeps its
 * tool/prompt/resource lists fresh on `list_changed`, relays calls with timeout,
 * progress and cancellation, routes the server's own requests (sampling, elicitation,
 * roots) to the caller they belong to, and, supervised, reconnects with backoff when
 * the server dies or the connection drops.
 */
export class Upstream {
  /** Unique per connection (a server may have several: shared and per-session). */
  readonly id = ++nextUpstreamId;
  status: UpstreamStatus = 'idle';
  lastError: string | undefined;
  lists: UpstreamLists = EMPTY_LISTS;
  protocolVersion: string | undefined;
  serverName: string | undefined;
  instructions: string | undefined;
  connectedAt: number | undefined;
  /** How many times the connection was re-established after a failure. */
  restarts = 0;
  nextRetryAt: number | undefined;

  private client: Client | undefined;
  private transport: Transport | undefined;
  /** The relay's own request path on a 2025-era stdio connection (see direct.ts). */
  private direct: DirectRequests | undefined;
  private readonly inflight = new Map<number, Caller>();
  private readonly progressSinks = new Map<string, (progress: Progress) => void>();
  private sequence = 0;
  private refreshing: Promise<void> | undefined;
  private readonly refreshAgain = new Set<ListKind>();
  private connecting: Promise<void> | undefined;
  private attempt = 0;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    readonly config: ServerConfig,
    private readonly configDir: string,
    private readonly hooks: UpstreamHooks,
    private readonly log: Logger,
    private readonly options: UpstreamOptions,
  ) {}

  get transportKind(): 'stdio' | 'http' | 'sse' {
    return 'command' in this.config ? 'stdio' : this.config.type;
  }

  /** The child's pid for a stdio server (for health output). */
  get pid(): number | undefined {
    return this.transport instanceof StdioUpstreamTransport ? this.transport.pid : undefined;
  }

  /** Connects once; concurrent callers share the attempt. Never throws: failure is a status. */
  connect(): Promise<void> {
    this.connecting ??= this.doConnect();
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    if (this.status === 'closed') return;
    this.status = 'connecting';
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const client = this.createClient();
      this.transport = createTransport(this.config, this.configDir, this.log, {
        maxMessageBytes: this.options.maxMessageBytes,
      });
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${this.options.connectTimeoutMs} ms`)),
          this.options.connectTimeoutMs,
        );
      });
      await Promise.race([client.connect(this.transport), timeout]);
      this.direct = this.directRequests(client);
      this.protocolVersion = client.getNegotiatedProtocolVersion();
      this.serverName = client.getServerVersion()?.name;
      this.instructions = client.getInstructions();
      // Await first, then merge into what is current: a list_changed refresh may have landed meanwhile.
      const lists = await fetchLists(client, ['tools', 'prompts', 'resources'], this.log);
      this.lists = { ...this.lists, ...lists };
      if (client.getProtocolEra() === 'modern') await listenForChanges(client, this.log);
      if (this.status !== 'connecting') return; // closed, or lost again, while we were listing
      this.status = 'ready';
      this.connectedAt = Date.now();
      this.nextRetryAt = undefined;
      this.log.info(this.restarts > 0 ? 'reconnected' : 'connected', {
        protocol: this.protocolVersion,
        tools: this.lists.tools.length,
        ms: Date.now() - started,
        ...(this.restarts > 0 ? { restarts: this.restarts } : {}),
      });
    } catch (error) {
      this.lost(this.describe(errorMessage(error)), 'cannot connect');
    } finally {
      clearTimeout(timer);
    }
    this.hooks.changed(this);
  }

  /** The relay's own request path, on a 2025-era stdio or streamable HTTP connection (see direct.ts). */
  private directRequests(client: Client): DirectRequests | undefined {
    const transport = this.transport;
    if (client.getProtocolEra() !== 'legacy' || process.env.SWITCHBOARD_FAST_PATH === 'off') return undefined;
    if (transport instanceof StdioUpstreamTransport) return new DirectRequests(transport, `sb${this.id}-`);
    if (transport instanceof StreamableHTTPClientTransport && 'url' in this.config) {
      const limit = this.options.maxMessageBytes;
      const post = streamablePost(transport, new URL(this.config.url), this.config.headers, {
        maxMessageBytes: limit,
        onSkipped: (bytes) => this.log.warn('skipped an oversized message', { bytes, limit }),
      });
      return new DirectRequests(transport, `sb${this.id}-`, post);
    }
    return undefined;
  }

  private createClient(): Client {
    const capabilities: ClientCapabilities = { sampling: {}, elicitation: { form: {}, url: {} } };
    if (this.options.roots) capabilities.roots = { listChanged: true };
    const client = new Client(
      { name: 'switchboard', version: VERSION },
      { capabilities, versionNegotiation: { mode: 'auto', probe: { timeoutMs: 5_000 } } },
    );
    this.client = client;
    const methods = ['sampling/createMessage', 'elicitation/create'] as const;
    for (const method of this.options.roots ? ([...methods, 'roots/list'] as const) : methods) {
      // The answer is relayed as the downstream client gave it (the types differ per method).
      client.setRequestHandler(method, ((
        request: { params?: Record<string, unknown> },
        ctx: { mcpReq: { signal: AbortSignal } },
      ) => this.onServerRequest(method, request.params, ctx.mcpReq.signal)) as never);
    }
    client.setNotificationHandler('notifications/tools/list_changed', () => this.refresh('tools'));
    client.setNotificationHandler('notifications/prompts/list_changed', () => this.refresh('prompts'));
    client.setNotificationHandler('notifications/resources/list_changed', () => this.refresh('resources'));
    client.setNotificationHandler('notifications/progress', (n) =>
      this.onProgress(n.params as Record<string, unknown>),
    );
    client.setNotificationHandler('notifications/message', (n) =>
      this.hooks.log(this, n.params as Record<string, unknown>),
    );
    client.setNotificationHandler('notifications/resources/updated', (n) =>
      this.hooks.resourceUpdated(this, n.params.uri),
    );
    client.onerror = (error) => this.log.debug('protocol error', { error: errorMessage(error) });
    // A replaced client's late close must not take down its successor.
    client.onclose = () => {
      if (this.client === client && this.status === 'ready') {
        this.lost(this.describe('connection closed'), 'disconnected');
        this.hooks.changed(this);
      }
    };
    return client;
  }

  /** The reason, with the last line the server wrote to stderr when there is one. */
  private describe(reason: string): string {
    const tail =
      this.transport instanceof StdioUpstreamTransport ? this.transport.recentStderr().split('\n').at(-1) : '';
    return tail && !reason.includes(tail) ? `${reason} (stderr: ${tail})` : reason;
  }

  /**
   * The connection failed or dropped. Supervised, a new attempt is scheduled and the last
   * known lists stay listed (calls are refused until it is back); otherwise it is failed.
   */
  private lost(reason: string, what: string): void {
    if (this.status === 'closed') return; // closed while connecting: nothing to restart
    this.lastError = reason;
    const wasStable = this.connectedAt !== undefined && Date.now() - this.connectedAt >= STABLE_AFTER_MS;
    if (wasStable) this.attempt = 0;
    void this.transport?.close().catch(() => undefined);
    if (!this.options.supervise) {
      this.status = 'failed';
      this.lists = EMPTY_LISTS;
      this.log.error(what, { error: reason });
      return;
    }
    this.status = 'restarting';
    const delay = restartDelay(this.attempt++);
    this.nextRetryAt = Date.now() + delay;
    this.log.error(`${what}; retrying`, { error: reason, inMs: delay, attempt: this.attempt });
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this.status === 'closed') return;
      this.restarts++;
      this.connecting = undefined;
      void this.connect();
    }, delay);
    this.restartTimer.unref();
  }

  /** Re-reads one list after `list_changed`; bursts of notifications coalesce into one more read. */
  private async refresh(kind: ListKind): Promise<void> {
    if (this.status !== 'ready' && this.status !== 'connecting') return;
    if (this.refreshing) {
      this.refreshAgain.add(kind);
      return;
    }
    const run = async (kinds: ListKind[]) => {
      const client = this.client;
      if (!client) return;
      const lists = await fetchLists(client, kinds, this.log);
      this.lists = { ...this.lists, ...lists };
      if (this.status === 'ready') this.hooks.changed(this);
    };
    this.refreshing = run([kind]);
    try {
      await this.refreshing;
      while (this.refreshAgain.size > 0) {
        const kinds = [...this.refreshAgain];
        this.refreshAgain.clear();
        await run(kinds);
      }
    } finally {
      this.refreshing = undefined;
    }
  }

  /** Answers a request from the upstream, and reports it (for the audit log) however it ends. */
  private async onServerRequest(
    method: ServerToClientMethod,
    params: Record<string, unknown> | undefined,
    signal: AbortSignal,
  ): Promise<Result> {
    const started = performance.now();
    let agent: string | undefined;
    let details: Record<string, unknown> | undefined;
    const report = (error?: unknown) =>
      this.hooks.serverRequest?.(
        this,
        { method, params, agent },
        { error, latencyMs: performance.now() - started, ...(details ? { details } : {}) },
      );
    const hookSample = this.hooks.sample;
    const sample = hookSample
      ? async (p: Record<string, unknown> | undefined, s: AbortSignal, a: string) => {
          const answer = await hookSample(p, s, a);
          details = answer.details;
          return answer.result;
        }
      : undefined;
    try {
      const server = {
        name: this.name,
        config: this.config,
        inflight: this.inflight.values(),
        owner: this.options.owner,
        sample,
      };
      const result = await answerServerRequest(server, method, params, signal, (a) => (agent = a));
      report();
      return result;
    } catch (error) {
      report(error);
      throw error;
    }
  }

  /**
   * Sends one request upstream. Failures are GatewayErrors naming this server.
   *
   * Timeouts and progress are handled here rather than by the SDK: the SDK dispatches
   * notifications a microtask late and forgets a request's progress handler as soon as
   * the response arrives, so the last progress before a result was lost. Progress
   * tokens are ours (`sb<connection>-<n>`), each progress notification restarts the
   * `timeoutMs` clock (up to `maxTotalTimeoutMs`), and a timeout aborts the request,
   * which sends the upstream a cancellation.
   */
  async request(
    method: string,
    params: Record<string, unknown> | undefined,
    options: RequestOptions = {},
  ): Promise<Result> {
    const { client, direct } = this;
    if (this.status !== 'ready' || !client) throw this.unavailable();
    const id = ++this.sequence;
    const { timeoutMs, maxTotalTimeoutMs } = this.config;
    const controller = options.controller ?? new AbortController();
    const outer = options.controller ? undefined : options.signal;
    const onAbort = () => controller.abort(outer?.reason);
    if (outer?.aborted) onAbort();
    else outer?.addEventListener('abort', onAbort, { once: true });
    let timedOut: number | undefined;
    const expire = (after: number) => () => {
      timedOut = after;
      controller.abort(new Error('timeout'));
    };
    // Without progress nothing restarts the clock: one timer, whichever limit comes first.
    // With it, each progress restarts `timer`, and `total` caps the whole call.
    const first = options.onprogress ? timeoutMs : Math.min(timeoutMs, maxTotalTimeoutMs);
    let timer = setTimeout(expire(first), first);
    const total = options.onprogress ? setTimeout(expire(maxTotalTimeoutMs), maxTotalTimeoutMs) : undefined;
    let token: string | undefined;
    let sent = params;
    if (options.onprogress) {
      const onprogress = options.onprogress;
      token = `sb${this.id}-${id}`;
      this.progressSinks.set(token, (progress) => {
        clearTimeout(timer);
        timer = setTimeout(expire(timeoutMs), timeoutMs);
        onprogress(progress);
      });
      sent = { ...params, _meta: { ...(params?._meta as Record<string, unknown> | undefined), progressToken: token } };
    }
    if (options.caller) this.inflight.set(id, options.caller);
    try {
      if (direct) return await direct.request(method, sent, controller.signal);
      return await client.request({ method, params: sent } as never, PASSTHROUGH, {
        signal: controller.signal,
        timeout: NO_SDK_TIMEOUT,
      });
    } catch (error) {
      // Aborted, and not by a timeout: the caller cancelled it.
      const cancelled = controller.signal.aborted && timedOut === undefined;
      // Whatever failed the request (the connection closing, say) also ends what is still
      // open for it: a direct HTTP request's POST to an upstream that never answers.
      if (direct && !controller.signal.aborted) controller.abort(error);
      if (timedOut !== undefined) {
        throw new GatewayError('timeout', `upstream "${this.name}" did not answer within ${timedOut} ms`, {
          cause: error,
        });
      }
      throw requestError(this.name, error, cancelled);
    } finally {
      clearTimeout(timer);
      clearTimeout(total);
      outer?.removeEventListener('abort', onAbort);
      if (token !== undefined) this.progressSinks.delete(token);
      this.inflight.delete(id);
    }
  }

  private unavailable(): GatewayError {
    const why = this.lastError ? `: ${this.lastError}` : '';
    if (this.status === 'restarting') {
      const inMs = Math.max(0, (this.nextRetryAt ?? Date.now()) - Date.now());
      return new GatewayError(
        'upstream_unavailable',
        `upstream "${this.name}" is down and restarting (next attempt in ${(inMs / 1000).toFixed(1)} s)${why}`,
      );
    }
    const state = this.status === 'connecting' ? 'still connecting' : 'unavailable';
    return new GatewayError('upstream_unavailable', `upstream "${this.name}" is ${state}${why}`);
  }

  private onProgress(params: Record<string, unknown>): void {
    const { progressToken, ...progress } = params;
    // Progress for a finished or cancelled call (some servers keep sending) is dropped.
    this.progressSinks.get(String(progressToken))?.(progress as Progress);
  }

  /** Sends a notification upstream (for example `notifications/roots/list_changed`). */
  async notify(method: string, params?: Record<string, unknown>): Promise<void> {
    if (this.status !== 'ready' || !this.client) return;
    await this.client.notification({ method, params } as never).catch((error: unknown) => {
      this.log.debug('notification not delivered', { method, error: errorMessage(error) });
    });
  }

  get serverCapabilities(): Record<string, unknown> {
    return (this.client?.getServerCapabilities() as Record<string, unknown> | undefined) ?? {};
  }

  /** How many calls are in flight on this connection. */
  get busy(): number {
    return this.inflight.size;
  }

  async close(): Promise<void> {
    if (this.status === 'closed') return;
    this.status = 'closed';
    clearTimeout(this.restartTimer);
    await this.client?.close().catch(() => undefined);
    await this.transport?.close().catch(() => undefined);
  }
}

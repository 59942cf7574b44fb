import {
  Client,
  ProtocolError,
  ProtocolErrorCode,
  SdkError,
  SdkErrorCode,
  type ClientCapabilities,
  type Prompt,
  type Resource,
  type Result,
  type StandardSchemaV1,
  type Tool,
  type Transport,
} from '@modelcontextprotocol/client';
import type { ServerConfig } from '../config/index.js';
import { GatewayError, errorMessage } from '../errors.js';
import type { Logger } from '../observability/index.js';
import { pickCaller, type Caller, type ServerToClientMethod } from './caller.js';
import { StdioUpstreamTransport } from './stdio-transport.js';
import { createTransport } from './transport.js';

export type UpstreamStatus = 'idle' | 'connecting' | 'ready' | 'failed' | 'closed';
export type ListKind = 'tools' | 'prompts' | 'resources';

export interface ResourceTemplate {
  uriTemplate: string;
  name: string;
  [key: string]: unknown;
}

export interface UpstreamLists {
  tools: readonly Tool[];
  prompts: readonly Prompt[];
  resources: readonly Resource[];
  templates: readonly ResourceTemplate[];
}

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
    outcome: { error?: unknown; latencyMs: number },
  ): void;
}

export interface RequestOptions {
  caller?: Caller | undefined;
  signal?: AbortSignal | undefined;
  onprogress?: ((progress: { progress: number; total?: number; message?: string }) => void) | undefined;
}

const EMPTY_LISTS: UpstreamLists = { tools: [], prompts: [], resources: [], templates: [] };

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

/**
 * One connection to one upstream MCP server: connects (era negotiated), keeps its
 * tool/prompt/resource lists fresh on `list_changed`, relays calls with timeout,
 * progress and cancellation, and routes the server's own requests (sampling,
 * elicitation, roots) to the caller they belong to.
 */
let nextUpstreamId = 0;

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

  private client: Client | undefined;
  private transport: Transport | undefined;
  private readonly inflight = new Map<number, Caller>();
  private readonly progressSinks = new Map<
    string,
    (progress: { progress: number; total?: number; message?: string }) => void
  >();
  private sequence = 0;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = new Set<ListKind>();
  private connecting: Promise<void> | undefined;

  constructor(
    readonly name: string,
    readonly config: ServerConfig,
    private readonly configDir: string,
    private readonly hooks: UpstreamHooks,
    private readonly log: Logger,
    private readonly options: { connectTimeoutMs: number; owner?: Caller; roots?: boolean },
  ) {}

  get transportKind(): 'stdio' | 'http' | 'sse' {
    return 'command' in this.config ? 'stdio' : this.config.type;
  }

  /** Connects once; concurrent callers share the attempt. Never throws: failure is a status. */
  connect(): Promise<void> {
    this.connecting ??= this.doConnect();
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    this.status = 'connecting';
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const client = this.createClient();
      this.transport = createTransport(this.config, this.configDir, this.log);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${this.options.connectTimeoutMs} ms`)),
          this.options.connectTimeoutMs,
        );
      });
      await Promise.race([client.connect(this.transport), timeout]);
      this.protocolVersion = client.getNegotiatedProtocolVersion();
      this.serverName = client.getServerVersion()?.name;
      this.instructions = client.getInstructions();
      await this.fetchLists(['tools', 'prompts', 'resources']);
      if (client.getProtocolEra() === 'modern') await this.listenForChanges(client);
      this.status = 'ready';
      this.connectedAt = Date.now();
      this.log.info('connected', {
        protocol: this.protocolVersion,
        tools: this.lists.tools.length,
        ms: Date.now() - started,
      });
    } catch (error) {
      this.fail(error);
    } finally {
      clearTimeout(timer);
    }
    this.hooks.changed(this);
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
    client.onclose = () => this.onClosed();
    return client;
  }

  private fail(error: unknown): void {
    let reason = errorMessage(error);
    const stderr = this.transport instanceof StdioUpstreamTransport ? this.transport.recentStderr() : '';
    if (stderr && !reason.includes(stderr.split('\n').at(-1) ?? ''))
      reason += ` (stderr: ${stderr.split('\n').at(-1)})`;
    this.status = 'failed';
    this.lastError = reason;
    this.lists = EMPTY_LISTS;
    this.log.error('cannot connect', { error: reason });
    void this.transport?.close().catch(() => undefined);
  }

  private onClosed(): void {
    if (this.status === 'closed' || this.status === 'failed') return;
    this.status = 'failed';
    this.lastError ??= 'connection closed';
    if (this.transport instanceof StdioUpstreamTransport) {
      const tail = this.transport.recentStderr().split('\n').at(-1);
      this.lastError = `connection closed${tail ? ` (stderr: ${tail})` : ''}`;
    }
    this.log.warn('disconnected', { error: this.lastError });
    this.hooks.changed(this);
  }

  /** A modern-era server reports list changes only on a `subscriptions/listen` stream. */
  private async listenForChanges(client: Client): Promise<void> {
    const caps = client.getServerCapabilities() ?? {};
    const filter: Record<string, boolean> = {};
    if (caps.tools?.listChanged) filter.toolsListChanged = true;
    if (caps.prompts?.listChanged) filter.promptsListChanged = true;
    if (caps.resources?.listChanged) filter.resourcesListChanged = true;
    if (Object.keys(filter).length === 0) return;
    try {
      await client.listen(filter);
    } catch (error) {
      this.log.warn('cannot listen for list changes', { error: errorMessage(error) });
    }
  }

  /**
   * Reads the given lists and merges them into `lists` as they arrive, so reads that
   * overlap (the initial one and a `list_changed` refresh) never undo each other.
   */
  private async fetchLists(kinds: readonly ListKind[]): Promise<void> {
    const client = this.client;
    if (!client) return;
    const caps = client.getServerCapabilities() ?? {};
    const next: { -readonly [K in keyof UpstreamLists]?: UpstreamLists[K] } = {};
    const tasks: Promise<void>[] = [];
    const attempt = async (what: string, fetchList: () => Promise<void>) => {
      try {
        await fetchList();
      } catch (error) {
        this.log.warn(`cannot list ${what}`, { error: errorMessage(error) });
      }
    };
    if (kinds.includes('tools') && caps.tools)
      tasks.push(attempt('tools', async () => void (next.tools = (await client.listTools()).tools)));
    if (kinds.includes('prompts') && caps.prompts)
      tasks.push(attempt('prompts', async () => void (next.prompts = (await client.listPrompts()).prompts)));
    if (kinds.includes('resources') && caps.resources) {
      tasks.push(attempt('resources', async () => void (next.resources = (await client.listResources()).resources)));
      tasks.push(
        attempt(
          'resource templates',
          async () =>
            void (next.templates = (await client.listResourceTemplates()).resourceTemplates as ResourceTemplate[]),
        ),
      );
    }
    await Promise.all(tasks);
    this.lists = { ...this.lists, ...next };
  }

  /** Re-reads one list after `list_changed`; bursts of notifications coalesce into one more read. */
  private async refresh(kind: ListKind): Promise<void> {
    if (this.status !== 'ready' && this.status !== 'connecting') return;
    if (this.refreshing) {
      this.refreshAgain.add(kind);
      return;
    }
    const run = async (kinds: ListKind[]) => {
      await this.fetchLists(kinds);
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
    const report = (error?: unknown) =>
      this.hooks.serverRequest?.(this, { method, params, agent }, { error, latencyMs: performance.now() - started });
    try {
      const result = await this.answerServerRequest(method, params, signal, (a) => (agent = a));
      report();
      return result;
    } catch (error) {
      report(error);
      throw error;
    }
  }

  private async answerServerRequest(
    method: ServerToClientMethod,
    params: Record<string, unknown> | undefined,
    signal: AbortSignal,
    routedTo: (agent: string) => void,
  ): Promise<Result> {
    const picked = pickCaller(this.inflight.values(), this.options.owner);
    if ('error' in picked) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidRequest,
        picked.error === 'ambiguous'
          ? `switchboard: ${method} from "${this.name}" cannot be routed: calls from several sessions are in flight on its shared connection; set "isolation": "session" for this server`
          : `switchboard: ${method} from "${this.name}" arrived outside any call, so there is no client to ask`,
      );
    }
    routedTo(picked.caller.agent);
    if (method === 'sampling/createMessage' && this.config.sampling !== 'client') {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidRequest,
        this.config.sampling === 'deny'
          ? `switchboard: sampling is denied for server "${this.name}" (servers.json: sampling: "deny")`
          : `switchboard: sampling for server "${this.name}" is set to "router", but no model router is configured`,
        { reason: 'denied' },
      );
    }
    try {
      return await picked.caller.ask(method, params, signal);
    } catch (error) {
      if (error instanceof GatewayError && error.code === 'capability_missing') {
        throw new ProtocolError(ProtocolErrorCode.MissingRequiredClientCapability, error.message);
      }
      if (error instanceof ProtocolError) throw error;
      throw new ProtocolError(ProtocolErrorCode.InternalError, `switchboard: ${errorMessage(error)}`);
    }
  }

  /**
   * Sends one request upstream. Failures are GatewayErrors naming this server.
   *
   * Timeouts and progress are handled here rather than by the SDK: the SDK dispatches
   * notifications a microtask late and forgets a request's progress handler as soon as
   * the response arrives, so the last progress before a result was lost. Progress
   * tokens are ours (`sb<connection>-<n>`), each progress notification restarts the
   * `timeoutMs` clock, and a timeout aborts the request, which sends the upstream a
   * cancellation.
   */
  async request(
    method: string,
    params: Record<string, unknown> | undefined,
    options: RequestOptions = {},
  ): Promise<Result> {
    const client = this.client;
    if (this.status !== 'ready' || !client) {
      throw new GatewayError(
        'upstream_unavailable',
        `upstream "${this.name}" is ${this.status === 'connecting' ? 'still connecting' : 'unavailable'}${this.lastError ? `: ${this.lastError}` : ''}`,
      );
    }
    const id = ++this.sequence;
    const timeoutMs = this.config.timeoutMs;
    const controller = new AbortController();
    const outer = options.signal;
    const onAbort = () => controller.abort(outer?.reason);
    if (outer?.aborted) onAbort();
    else outer?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const expire = () => {
      timedOut = true;
      controller.abort(new Error('timeout'));
    };
    let timer = setTimeout(expire, timeoutMs);
    let token: string | undefined;
    let sent = params;
    if (options.onprogress) {
      const onprogress = options.onprogress;
      token = `sb${this.id}-${id}`;
      this.progressSinks.set(token, (progress) => {
        clearTimeout(timer);
        timer = setTimeout(expire, timeoutMs);
        onprogress(progress);
      });
      sent = { ...params, _meta: { ...(params?._meta as Record<string, unknown> | undefined), progressToken: token } };
    }
    if (options.caller) this.inflight.set(id, options.caller);
    try {
      return await client.request({ method, params: sent } as never, PASSTHROUGH, {
        signal: controller.signal,
        timeout: NO_SDK_TIMEOUT,
      });
    } catch (error) {
      if (timedOut) {
        throw new GatewayError('timeout', `upstream "${this.name}" did not answer within ${timeoutMs} ms`, {
          cause: error,
        });
      }
      throw this.wrapError(error, outer);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
      if (token !== undefined) this.progressSinks.delete(token);
      this.inflight.delete(id);
    }
  }

  private onProgress(params: Record<string, unknown>): void {
    const { progressToken, ...progress } = params;
    const sink = this.progressSinks.get(String(progressToken));
    // Progress for a finished or cancelled call (some servers keep sending) is dropped.
    if (sink) sink(progress as { progress: number; total?: number; message?: string });
  }

  private wrapError(error: unknown, signal: AbortSignal | undefined): GatewayError {
    if (error instanceof GatewayError) return error;
    if (signal?.aborted) return new GatewayError('cancelled', `call to "${this.name}" was cancelled`, { cause: error });
    if (error instanceof ProtocolError) {
      return new GatewayError('upstream_error', error.message, { cause: error, rpcCode: error.code, data: error.data });
    }
    if (error instanceof SdkError) {
      if (error.code === SdkErrorCode.RequestTimeout) {
        return new GatewayError(
          'timeout',
          `upstream "${this.name}" did not answer within ${this.config.timeoutMs} ms`,
          {
            cause: error,
          },
        );
      }
      if (error.code === SdkErrorCode.ConnectionClosed || error.code === SdkErrorCode.NotConnected) {
        return new GatewayError('upstream_unavailable', `upstream "${this.name}" closed the connection`, {
          cause: error,
        });
      }
    }
    return new GatewayError('upstream_error', `upstream "${this.name}": ${errorMessage(error)}`, { cause: error });
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

  async close(): Promise<void> {
    if (this.status === 'closed') return;
    this.status = 'closed';
    await this.client?.close().catch(() => undefined);
    await this.transport?.close().catch(() => undefined);
  }
}

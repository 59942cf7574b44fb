import type { LoggingLevel, Result } from '@modelcontextprotocol/server';
import { Catalog, type PinStore } from '../catalog/index.js';
import { toGatewayUri } from '../catalog/index.js';
import type { LoadedConfig } from '../config/index.js';
import { GatewayError, errorMessage } from '../errors.js';
import type { Logger, Metrics } from '../observability/index.js';
import type { Tracer } from '../observability/tracing.js';
import type { AuditLog, AuditOutcome } from '../audit/index.js';
import type { Router } from '../routing/index.js';
import { sampleAuditDetails } from './tools/sample-tool.js';
import { sampleFor } from './tools/sample-for.js';
import type { ApprovalQueue, BudgetStore, PolicyStore, QuotaStore } from '../policy/index.js';
import { builtinSource, type BuiltinTool } from './builtin.js';
import { UpstreamPool, type ConfigDiff, type Upstream, type UpstreamHooks } from '../upstream/index.js';
import { InputFlows } from './input-flow.js';
import { Subscriptions } from './subscriptions.js';
import type { DownstreamSession } from './session.js';

const LEVELS: readonly LoggingLevel[] = [
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
];
export const levelRank = (level: LoggingLevel): number => LEVELS.indexOf(level);

/** Publishes list changes to clients of the 2026-07-28 era (their `subscriptions/listen` streams). */
export interface ModernNotifier {
  toolsChanged(): void;
  promptsChanged(): void;
  resourcesChanged(): void;
  resourceUpdated(uri: string): void;
}

/**
 * The gateway's live state: the upstream pool, the current catalog and the open
 * downstream sessions. It turns upstream events into downstream notifications:
 * `list_changed` to every session when its part of the catalog changed, log messages
 * to sessions that asked for them, `resources/updated` to subscribers.
 */
export class Runtime {
  readonly pool: UpstreamPool;
  catalog: Catalog;
  readonly sessions = new Set<DownstreamSession>();
  readonly flows = new InputFlows();
  readonly modernNotifiers = new Set<ModernNotifier>();
  private signatures = { tools: '', prompts: '', resources: '' };
  /** Upstream URI subscriptions, shared by the sessions that hold them. */
  readonly subscriptions: Subscriptions;
  private upstreamLevel: LoggingLevel | undefined;
  private readonly pins: PinStore | undefined;
  /** The model router, when servers.json has models routes (replaced on reload). */
  router: Router | undefined;
  /** OpenTelemetry export, when OTEL_EXPORTER_OTLP_ENDPOINT is set (see app.ts). */
  tracer: Tracer | undefined;
  /** Model budgets (`models.budgetUsd`), for the sampling bridge; switchboard__sample shares the store. */
  readonly budgets: BudgetStore | undefined;
  /** Prometheus metrics (the gateway; not the commands that only look). */
  readonly metrics: Metrics | undefined;
  private pinTimer: NodeJS.Timeout | undefined;
  /** Calls waiting for a person, decidable from any process (absent without a database). */
  readonly approvals: ApprovalQueue | undefined;

  /** Calls in flight, per agent (for the per-agent limit and for draining at shutdown). */
  private readonly inflight = new Map<string, number>();
  private inflightTotal = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    /** Replaced as a whole when servers.json is reloaded. */
    public config: LoadedConfig,
    readonly log: Logger,
    readonly policies: PolicyStore,
    /** Absent for commands that only look (tools, check); calls then have no quota to take. */
    readonly quotas: QuotaStore | undefined,
    /** Absent when auditing is off (`gateway.audit.enabled: false`) or for commands that only look. */
    readonly audit: AuditLog | undefined,
    /** The gateway's own tools, by name without the `switchboard__` prefix. */
    readonly builtins: ReadonlyMap<string, BuiltinTool> = new Map(),
    options: {
      supervise: boolean;
      pins?: PinStore;
      approvals?: ApprovalQueue;
      /** The metrics class, when metrics are wanted (loaded by the caller: prom-client). */
      metrics?: typeof Metrics;
      budgets?: BudgetStore;
    } = { supervise: false },
  ) {
    this.budgets = options.budgets;
    this.metrics = options.metrics
      ? new options.metrics({
          upstreams: () => this.pool.upstreams.values(),
          auditQueue: () => this.audit?.pendingOps ?? 0,
          inflight: () => this.inflightTotal,
          targets: () => this.router?.health() ?? [],
        })
      : undefined;
    this.pins = options.pins;
    this.approvals = options.approvals;
    this.watchPins();
    // A changed policy changes what its agent may see.
    policies.onChange((agent) => {
      const all = { tools: true, prompts: true, resources: true };
      for (const session of this.sessions) if (session.agent === agent) session.listsChanged(all);
      for (const notifier of this.modernNotifiers) {
        notifier.toolsChanged();
        notifier.promptsChanged();
        notifier.resourcesChanged();
      }
    });
    const hooks: UpstreamHooks = {
      changed: (upstream) => {
        this.rebuild();
        this.subscriptions.resubscribe(upstream);
      },
      log: (upstream, params) => this.forwardLog(upstream.name, params, this.sessions),
      resourceUpdated: (upstream, uri) => this.forwardUpdated(upstream, uri),
      sample: async (params, signal, agent) => {
        const router = this.router;
        if (!router) throw new GatewayError('upstream_unavailable', 'servers.json has no models routes');
        // The same route check and budget as switchboard__sample, for the agent whose call asked.
        const caller = { agent, policy: this.policies.get(agent) };
        const outcome = await sampleFor(caller, router, this.budgets, params ?? {}, { signal });
        return { result: outcome.result as unknown as Result, details: { ...sampleAuditDetails(outcome) } };
      },
      serverRequest: (upstream, exchange, outcome) => {
        const reason = (outcome.error as { data?: { reason?: string } } | undefined)?.data?.reason;
        this.audit?.record(
          {
            agent: exchange.agent ?? '(none)',
            transport: upstream.transportKind,
            origin: 'upstream',
            method: exchange.method,
            server: upstream.name,
            args: exchange.params ?? {},
          },
          outcome.error === undefined
            ? { status: 'ok', ...(outcome.details as Partial<AuditOutcome>) }
            : {
                status: reason === 'denied' || reason === 'quota' ? reason : 'error',
                error: errorMessage(outcome.error).slice(0, 500),
              },
          Math.round(outcome.latencyMs * 1000) / 1000,
        );
      },
    };
    this.pool = new UpstreamPool(config, hooks, log, { supervise: options.supervise });
    this.subscriptions = new Subscriptions({
      isOpen: (session) => this.sessions.has(session),
      isCurrent: (upstream) => this.pool.upstreams.get(upstream.name) === upstream,
      log,
    });
    this.catalog = new Catalog([builtinSource(builtins)]);
  }

  /** Settles when every upstream has connected or failed, or when the startup grace is over. */
  ready: Promise<void> = Promise.resolve();

  /** `ready` has settled (a call need not wait for it). */
  started = false;

  /** Connects every upstream in parallel; resolves when all have settled. */
  start(): Promise<void> {
    const all = this.pool.start();
    const grace = new Promise<void>((resolve) => setTimeout(resolve, this.config.gateway.startupGraceMs).unref());
    this.ready = Promise.race([all, grace]).then(() => {
      this.started = true;
    });
    return all;
  }

  /** Rebuilds the catalog and tells sessions about the parts that changed. */
  rebuild(): void {
    const held = this.checkPins();
    const catalog = new Catalog([...this.pool.upstreams.values(), builtinSource(this.builtins)], (server, tool) =>
      Boolean(held.get(server)?.has(tool)),
    );
    this.catalog = catalog;
    const next = {
      tools: JSON.stringify(catalog.toolList),
      prompts: JSON.stringify(catalog.promptList),
      resources: JSON.stringify([catalog.resourceList, catalog.templateList]),
    };
    const changed = {
      tools: next.tools !== this.signatures.tools,
      prompts: next.prompts !== this.signatures.prompts,
      resources: next.resources !== this.signatures.resources,
    };
    this.signatures = next;
    for (const session of this.sessions) session.listsChanged(changed);
    for (const notifier of this.modernNotifiers) {
      if (changed.tools) notifier.toolsChanged();
      if (changed.prompts) notifier.promptsChanged();
      if (changed.resources) notifier.resourcesChanged();
    }
  }

  /**
   * Compares every ready upstream's tools with their pins. A changed definition is
   * reported once (log and audit row); with `pinning: "quarantine"` the tool is held
   * back until `switchboard pins approve`.
   */
  private checkPins(): Map<string, Set<string>> {
    const held = new Map<string, Set<string>>();
    if (!this.pins) return held;
    for (const upstream of this.pool.upstreams.values()) {
      const mode = upstream.config.pinning;
      if (mode === 'off' || upstream.status !== 'ready') continue;
      const { changed, fresh } = this.pins.check(upstream.name, upstream.lists.tools);
      for (const change of fresh) {
        const quarantined = mode === 'quarantine';
        this.log.warn(`tool definition changed${quarantined ? '; quarantined until approved' : ''}`, {
          tool: change.exposedName,
          approve: `switchboard pins approve ${change.exposedName}`,
        });
        this.audit?.record(
          {
            agent: '(gateway)',
            transport: upstream.transportKind,
            origin: 'upstream',
            method: 'pin/changed',
            server: upstream.name,
            name: change.tool,
            exposedName: change.exposedName,
            args: { approved: change.approved, pending: change.pending },
          },
          quarantined
            ? { status: 'denied', error: 'the tool definition changed since it was approved: quarantined' }
            : { status: 'ok', error: 'the tool definition changed since it was approved (pinning: warn)' },
          0,
        );
      }
      if (mode === 'quarantine' && changed.size > 0) held.set(upstream.name, changed);
    }
    return held;
  }

  /** Notices approvals written by another process (`switchboard pins approve`). */
  private watchPins(): void {
    if (!this.pins) return;
    let version = this.pins.version();
    this.pinTimer = setInterval(() => {
      const now = this.pins!.version();
      if (now === version) return;
      version = now;
      this.rebuild();
    }, 1_000);
    this.pinTimer.unref();
  }

  /** Relays an upstream log message to the sessions whose level admits it, tagged with the server. */
  forwardLog(server: string, params: Record<string, unknown>, sessions: Iterable<DownstreamSession>): void {
    const level = params.level as LoggingLevel;
    const logger = typeof params.logger === 'string' ? `${server}/${params.logger}` : server;
    for (const session of sessions) {
      // A session hears a server's logs only if its agent may use that server.
      if (session.visibility.resources(server).allowed) session.sendLog(level, logger, params.data);
    }
  }

  forwardUpdated(upstream: Upstream, uri: string): void {
    const gatewayUri = toGatewayUri(upstream.name, uri);
    for (const session of this.subscriptions.sessionsOf(upstream, uri)) session.sendResourceUpdated(gatewayUri);
    for (const notifier of this.modernNotifiers) notifier.resourceUpdated(gatewayUri);
  }

  subscribe(session: DownstreamSession, upstream: Upstream, uri: string): Promise<void> {
    return this.subscriptions.subscribe(session, upstream, uri);
  }

  unsubscribe(session: DownstreamSession, upstream: Upstream, uri: string): Promise<void> {
    return this.subscriptions.unsubscribe(session, upstream, uri);
  }

  /** Upstreams log at the most verbose level any session asked for. */
  async levelChanged(): Promise<void> {
    let lowest: LoggingLevel | undefined;
    for (const session of this.sessions) {
      if (session.logLevel && (lowest === undefined || levelRank(session.logLevel) < levelRank(lowest)))
        lowest = session.logLevel;
    }
    if (lowest === undefined || lowest === this.upstreamLevel) return;
    this.upstreamLevel = lowest;
    await Promise.all(
      [...this.pool.upstreams.values()]
        .filter((u) => u.status === 'ready' && u.serverCapabilities.logging)
        .map((u) => u.request('logging/setLevel', { level: lowest }).catch(() => undefined)),
    );
  }

  /**
   * Applies a new servers.json: only added, removed and changed upstreams are touched,
   * sessions stay, and they hear about it through `list_changed`.
   */
  applyConfig(next: LoadedConfig): ConfigDiff {
    const diff = this.pool.apply(next);
    this.config = next;
    this.rebuild();
    return diff;
  }

  /**
   * Counts a call in flight for its agent, refusing it when the agent is at its limit
   * (`gateway.maxConcurrentCallsPerAgent`). Returns the function that ends it.
   */
  enter(agent: string): () => void {
    const current = this.inflight.get(agent) ?? 0;
    const limit = this.config.gateway.maxConcurrentCallsPerAgent;
    if (current >= limit) {
      throw new GatewayError(
        'quota',
        `agent "${agent}" already has ${current} calls in flight, the most allowed (gateway.maxConcurrentCallsPerAgent)`,
      );
    }
    this.inflight.set(agent, current + 1);
    this.inflightTotal++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.inflight.get(agent) ?? 1) - 1;
      if (left === 0) this.inflight.delete(agent);
      else this.inflight.set(agent, left);
      if (--this.inflightTotal === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    };
  }

  /** Resolves when no call is in flight, or after `ms`; says which. */
  drain(ms: number): Promise<boolean> {
    if (this.inflightTotal === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  get callsInFlight(): number {
    return this.inflightTotal;
  }

  /**
   * Sizes of what the runtime keeps per session or per call, for `/healthz`: each goes
   * back to 0 once the sessions are gone (a test holds it to that).
   */
  get registries(): {
    sessions: number;
    subscriptions: number;
    subscribers: number;
    inputFlows: number;
    agentsWithCalls: number;
  } {
    return {
      sessions: this.sessions.size,
      ...this.subscriptions.sizes(),
      inputFlows: this.flows.size,
      agentsWithCalls: this.inflight.size,
    };
  }

  async closeSession(session: DownstreamSession): Promise<void> {
    this.sessions.delete(session);
    await this.subscriptions.drop(session);
    await session.upstreams.close();
  }

  async close(): Promise<void> {
    clearInterval(this.pinTimer);
    await Promise.all([...this.sessions].map((s) => this.closeSession(s)));
    await this.pool.close();
  }
}

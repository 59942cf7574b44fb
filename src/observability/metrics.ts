import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics, served at `/metrics`. Label values are bounded: agents come from
 * policy files, servers and tools from the catalog (an unknown tool name counts as
 * `(unknown)`), statuses from the audit vocabulary. No argument values, no ids.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly calls: Counter<'agent' | 'server' | 'tool' | 'status'>;
  private readonly latency: Histogram<'server' | 'status'>;
  private readonly upstreamUp: Gauge<'server'>;
  private readonly restarts: Gauge<'server'>;
  private readonly auditQueue: Gauge;
  private readonly inflight: Gauge;
  private readonly attempts: Counter<'target' | 'status'>;
  private readonly failovers: Counter<'route'>;
  private readonly tokens: Counter<'model' | 'direction'>;
  private readonly cost: Counter<'model'>;
  private readonly unpriced: Counter<'model'>;
  private readonly breaker: Gauge<'target'>;

  constructor(sources: {
    upstreams: () => Iterable<{ name: string; status: string; restarts: number }>;
    auditQueue: () => number;
    inflight: () => number;
    /** The router's targets and their circuit state (none without models routes). */
    targets?: () => Iterable<{ target: string; state: string }>;
  }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'switchboard_process_' });
    this.calls = new Counter({
      name: 'switchboard_calls_total',
      help: 'Calls through the gateway, by agent, server, tool and outcome (audit status).',
      labelNames: ['agent', 'server', 'tool', 'status'],
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: 'switchboard_call_duration_seconds',
      help: 'Time from the call reaching the gateway to its answer, by server and outcome.',
      labelNames: ['server', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers: [this.registry],
    });
    this.upstreamUp = new Gauge({
      name: 'switchboard_upstream_up',
      help: '1 when the upstream is connected and ready, 0 otherwise.',
      labelNames: ['server'],
      registers: [this.registry],
      collect: () => {
        this.upstreamUp.reset();
        for (const u of sources.upstreams()) this.upstreamUp.set({ server: u.name }, u.status === 'ready' ? 1 : 0);
      },
    });
    this.restarts = new Gauge({
      name: 'switchboard_upstream_restarts',
      help: 'How many times the upstream connection was re-established.',
      labelNames: ['server'],
      registers: [this.registry],
      collect: () => {
        this.restarts.reset();
        for (const u of sources.upstreams()) this.restarts.set({ server: u.name }, u.restarts);
      },
    });
    this.auditQueue = new Gauge({
      name: 'switchboard_audit_queue_depth',
      help: 'Audit rows waiting for the next group commit.',
      registers: [this.registry],
      collect: () => this.auditQueue.set(sources.auditQueue()),
    });
    this.inflight = new Gauge({
      name: 'switchboard_calls_in_flight',
      help: 'Calls currently in flight.',
      registers: [this.registry],
      collect: () => this.inflight.set(sources.inflight()),
    });
    this.attempts = new Counter({
      name: 'switchboard_model_attempts_total',
      help: 'Model router attempts, by target (provider/model) and outcome (ok, error, timeout, skipped).',
      labelNames: ['target', 'status'],
      registers: [this.registry],
    });
    this.failovers = new Counter({
      name: 'switchboard_model_failovers_total',
      help: 'Model calls that moved on from a failed target to another one, by route.',
      labelNames: ['route'],
      registers: [this.registry],
    });
    this.tokens = new Counter({
      name: 'switchboard_model_tokens_total',
      help: 'Tokens reported by providers, by model and direction (input, output).',
      labelNames: ['model', 'direction'],
      registers: [this.registry],
    });
    this.cost = new Counter({
      name: 'switchboard_model_cost_usd_total',
      help: 'Cost in USD of priced model calls, by model.',
      labelNames: ['model'],
      registers: [this.registry],
    });
    this.unpriced = new Counter({
      name: 'switchboard_model_unpriced_calls_total',
      help: 'Model calls whose target has no price (their cost is unknown, not 0).',
      labelNames: ['model'],
      registers: [this.registry],
    });
    this.breaker = new Gauge({
      name: 'switchboard_model_breaker_state',
      help: 'Circuit breaker of each router target: 0 closed, 1 half-open, 2 open.',
      labelNames: ['target'],
      registers: [this.registry],
      collect: () => {
        this.breaker.reset();
        for (const t of sources.targets?.() ?? []) {
          this.breaker.set({ target: t.target }, t.state === 'open' ? 2 : t.state === 'half-open' ? 1 : 0);
        }
      },
    });
  }

  /**
   * One model call's attempts, tokens and cost. Targets and models come from
   * servers.json's routes, and the route was accepted by the router: labels stay bounded.
   */
  modelCall(call: {
    route: string;
    model: string | null;
    attempts: readonly { target: string; status: string }[];
    inputTokens: number | null;
    outputTokens: number | null;
    costUsd: number | null;
  }): void {
    const tried = new Set<string>();
    for (const a of call.attempts) {
      this.attempts.inc({ target: a.target, status: a.status });
      if (a.status !== 'skipped') tried.add(a.target);
    }
    if (tried.size > 1) this.failovers.inc({ route: call.route });
    if (!call.model) return;
    if (call.inputTokens) this.tokens.inc({ model: call.model, direction: 'input' }, call.inputTokens);
    if (call.outputTokens) this.tokens.inc({ model: call.model, direction: 'output' }, call.outputTokens);
    if (call.costUsd !== null) this.cost.inc({ model: call.model }, call.costUsd);
    else this.unpriced.inc({ model: call.model });
  }

  /** One finished (or refused) call. */
  call(agent: string, server: string | null, tool: string | null, status: string, seconds: number): void {
    const labels = { agent, server: server ?? '(none)', tool: tool ?? '(unknown)', status };
    this.calls.inc(labels);
    this.latency.observe({ server: labels.server, status }, seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

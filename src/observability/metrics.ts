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

  constructor(sources: {
    upstreams: () => Iterable<{ name: string; status: string; restarts: number }>;
    auditQueue: () => number;
    inflight: () => number;
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

import path from 'node:path';
import { PinStore } from './catalog/index.js';
import { loadConfig, watchConfig, type LoadedConfig } from './config/index.js';
import { openDatabase, type Db } from './db/index.js';
import { errorMessage } from './errors.js';
import { createLogger, parseLogLevel, type Logger } from './observability/index.js';
import type { Metrics } from './observability/metrics.js';
import { AuditLog, chainKeyFromEnv } from './audit/index.js';
import { ApprovalQueue, BudgetStore, PolicyStore, SqliteQuotaStore } from './policy/index.js';
import { createRouter, type Router } from './routing/index.js';
import { releaseYoungGeneration } from './heap.js';
import {
  GATEWAY_VERSION,
  Runtime,
  health,
  auditTool,
  modelsTool,
  sampleTool,
  startStdio,
  statusTool,
  type BuiltinTool,
} from './server/index.js';

/**
 * The composition root: builds the gateway from its config and wires the stages.
 * Nothing else constructs runtimes, stores or front doors.
 */
export interface PathOptions {
  config: string;
  /** Default: `policies/` beside servers.json. */
  policies?: string | undefined;
  /** Default: `switchboard.db` beside servers.json. */
  db?: string | undefined;
}

export interface ServeOptions extends PathOptions {
  transport: 'stdio' | 'http';
  host: string;
  port: number;
  agent: string;
}

export function gatewayLogger(config: LoadedConfig | undefined): Logger {
  const level = parseLogLevel(process.env.SWITCHBOARD_LOG_LEVEL) ?? config?.gateway.logLevel ?? 'info';
  const format = process.env.SWITCHBOARD_LOG_FORMAT === 'json' ? 'json' : 'text';
  return createLogger({ level, format });
}

export function policiesDir(config: LoadedConfig, option: string | undefined): string {
  return option ? path.resolve(option) : path.join(config.dir, 'policies');
}

export function databaseFile(config: LoadedConfig, option: string | undefined): string {
  return option ? path.resolve(option) : path.join(config.dir, 'switchboard.db');
}

/**
 * Builds a runtime. With `db`, calls take quotas from that database and are audited
 * there; without it (the commands that only look), neither happens.
 */
export function createRuntime(
  config: LoadedConfig,
  log: Logger,
  options: { policies?: string; db?: Db; supervise?: boolean; metrics?: typeof Metrics } = {},
): Runtime {
  const policies = new PolicyStore(policiesDir(config, options.policies), log.child('policy'));
  policies.load();
  const db = options.db;
  const settings = config.gateway.audit;
  const audit =
    db && settings.enabled
      ? new AuditLog(db, {
          maxArgsBytes: settings.maxArgsBytes,
          onFailure: settings.onFailure,
          key: chainKeyFromEnv(),
          log: log.child('audit'),
        })
      : undefined;
  const builtins = new Map<string, BuiltinTool>([['status', statusTool()]]);
  if (db && audit)
    builtins.set(
      'audit',
      auditTool(db, () => audit.flush()),
    );
  const hasModels = Object.keys(config.models?.routes ?? {}).length > 0;
  // The tools read the router through the runtime: a reloaded servers.json replaces it.
  const ref: { runtime?: Runtime } = {};
  const budgets = db ? new BudgetStore(db) : undefined;
  if (hasModels) {
    builtins.set(
      'sample',
      sampleTool(() => ref.runtime?.router, budgets),
    );
    builtins.set(
      'models',
      modelsTool(() => ref.runtime?.router),
    );
  }
  const runtime = new Runtime(config, log, policies, db ? new SqliteQuotaStore(db) : undefined, audit, builtins, {
    supervise: options.supervise ?? false,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(db ? { pins: new PinStore(db), approvals: new ApprovalQueue(db) } : {}),
    ...(budgets ? { budgets } : {}),
  });
  runtime.router = buildRouter(config, log);
  ref.runtime = runtime;
  return runtime;
}

/** The model router for a config's `models`, or none when it has no routes. */
export function buildRouter(config: LoadedConfig, log: Logger): Router | undefined {
  if (!config.models || Object.keys(config.models.routes).length === 0) return undefined;
  return createRouter(config.models, { log: log.child('router'), settings: config.gateway.router });
}

/** Marks calls a killed gateway left unfinished, and applies retention (now and every 6 hours). */
function maintainAudit(runtime: Runtime, log: Logger): NodeJS.Timeout | undefined {
  const audit = runtime.audit;
  // A call that waited for approval when its gateway died has no audit row yet (rows are
  // begun after approval): it gets one now, as interrupted.
  const abandoned = runtime.approvals?.expireAbandoned() ?? [];
  for (const a of abandoned) {
    let args: unknown = {};
    try {
      args = JSON.parse(a.args);
    } catch {
      args = { arguments: a.args };
    }
    audit?.record(
      {
        agent: a.agent,
        session: a.session,
        transport: a.transport,
        method: 'tools/call',
        server: a.server,
        exposedName: a.tool,
        decision: `requireApproval: ${a.rule}`,
        args,
      },
      { status: 'interrupted', error: 'the gateway stopped while the call waited for approval' },
      Math.max(0, Date.now() - Date.parse(a.createdAt)),
    );
  }
  audit?.flush(); // now: a signal during startup must not lose them
  if (abandoned.length > 0) {
    log.warn('calls left waiting for approval by a stopped gateway were expired and audited as interrupted', {
      calls: abandoned.length,
    });
  }
  if (!audit) return undefined;
  const interrupted = audit.recoverInterrupted();
  if (interrupted > 0) {
    log.warn('audit rows left unfinished by a stopped gateway were marked interrupted', { rows: interrupted });
  }
  const days = runtime.config.gateway.audit.retainDays;
  if (days === undefined) return undefined;
  const prune = () => {
    try {
      const deleted = audit.prune(days);
      runtime.approvals?.prune(days);
      if (deleted > 0) log.info('old audit rows deleted', { rows: deleted, retainDays: days });
    } catch (error) {
      log.error('cannot prune the audit log', { error: errorMessage(error) });
    }
  };
  prune();
  return setInterval(prune, 6 * 3_600_000).unref();
}

interface FrontDoor {
  stopAccepting(): void;
  close(): Promise<void>;
  /** Resolves when the door closes by itself (over stdio: the client went away). */
  closed: Promise<void>;
}

async function openFrontDoor(runtime: Runtime, options: ServeOptions, log: Logger, db: Db): Promise<FrontDoor> {
  if (options.transport === 'http') {
    const { startHttp } = await import('./server/http.js');
    const door = await startHttp(runtime, {
      host: options.host,
      port: options.port,
      agent: options.agent,
      dashboard: {
        db,
        pins: new PinStore(db),
        approvals: runtime.approvals ?? new ApprovalQueue(db),
        upstreams: () => health(runtime),
        auditing: runtime.audit !== undefined,
        version: GATEWAY_VERSION,
      },
    });
    process.stderr.write(
      `Switchboard is listening on ${door.url}\n` +
        `  upstreams: ${[...runtime.pool.upstreams.keys()].join(', ') || '(none)'}\n` +
        `  agents: ${runtime.policies.agents().join(', ') || '(none: add policies/<agent>.json)'}\n` +
        `  connect an MCP client to ${door.url} (streamable HTTP), or check ${door.url.replace(/\/mcp$/, '/healthz')}\n` +
        `  dashboard: ${door.dashboard}\n`,
    );
    return { ...door, closed: new Promise(() => undefined) };
  }
  if (!runtime.policies.get(options.agent)) {
    log.warn(`no policy for agent "${options.agent}": it will see no tools`, { dir: runtime.policies.dir });
  }
  return startStdio(runtime, options.agent);
}

/**
 * Runs the gateway until a signal (or, over stdio, the client leaving) stops it. On the
 * way out: stop accepting, let calls in flight finish (`shutdownGraceMs`), close
 * sessions and upstreams (their process groups), flush the audit log.
 */
export async function serve(options: ServeOptions): Promise<void> {
  // First: a SIGTERM that arrives while the gateway starts still ends it gracefully
  // (until a handler exists, the default action kills the process on the spot).
  const signalled = new Promise<string>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(signal));
  });
  const config = loadConfig(options.config);
  const log = gatewayLogger(config);
  const db = openDatabase(databaseFile(config, options.db));
  // Metrics are served on /metrics: only the HTTP front door loads them (prom-client),
  // and likewise express and the SDK's HTTP pieces, so a stdio gateway (one per client
  // app) holds none of it (~8 MB of RSS).
  const metrics = options.transport === 'http' ? (await import('./observability/metrics.js')).Metrics : undefined;
  const runtime = createRuntime(config, log, {
    ...(options.policies ? { policies: options.policies } : {}),
    db,
    supervise: true,
    ...(metrics ? { metrics } : {}),
  });
  // Traces only when asked for: without the variables the exporter is not even loaded.
  if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
    const { tracerFromEnv } = await import('./observability/tracing.js');
    runtime.tracer = tracerFromEnv(process.env, log.child('otel'), GATEWAY_VERSION);
  }
  // Before serving: rows a killed gateway left unfinished are marked interrupted.
  const maintenance = maintainAudit(runtime, log);
  let door: FrontDoor;
  try {
    door = await openFrontDoor(runtime, options, log, db);
  } catch (error) {
    clearInterval(maintenance);
    runtime.audit?.close();
    db.close();
    throw error;
  }
  runtime.policies.watch();
  void runtime.start();
  // Startup is over (upstreams connected, or the startup grace ran out): the young
  // generation may grow under load again (src/heap.ts).
  void runtime.ready.then(releaseYoungGeneration);
  const stopWatching = watchConfig(
    config.file,
    (next) => {
      log.info('servers.json reloaded', { ...runtime.applyConfig(next) });
      runtime.router = buildRouter(next, log);
    },
    (issues) => log.error('servers.json is invalid; the last good config keeps running', { errors: issues }),
  );

  const reason = await Promise.race([door.closed.then(() => 'client closed stdin'), signalled]);
  log.info('shutting down', { reason, callsInFlight: runtime.callsInFlight });
  stopWatching();
  door.stopAccepting();
  try {
    const grace = runtime.config.gateway.shutdownGraceMs;
    if (!(await runtime.drain(grace))) {
      log.warn('calls still in flight after the shutdown grace; ending them', {
        graceMs: grace,
        calls: runtime.callsInFlight,
      });
    }
    await door.close();
    await runtime.close();
    await runtime.tracer?.flush();
    runtime.policies.close();
    clearInterval(maintenance);
    runtime.audit?.close();
    db.close();
  } catch (error) {
    log.error('error during shutdown', { error: errorMessage(error) });
  }
}

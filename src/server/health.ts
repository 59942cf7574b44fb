import type { Runtime } from './runtime.js';

export interface UpstreamHealth {
  name: string;
  status: string;
  transport: string;
  protocolVersion: string | undefined;
  tools: number;
  restarts: number;
  error: string | undefined;
  nextRetryAt: string | undefined;
  pid: number | undefined;
}

/** Each upstream's state, for `/healthz`, `switchboard__status` and `check`. */
export function health(runtime: Runtime): {
  status: 'ok' | 'degraded';
  upstreams: UpstreamHealth[];
  callsInFlight: number;
} {
  const upstreams = [...runtime.pool.upstreams.values()].map((u) => ({
    name: u.name,
    status: u.status,
    transport: u.transportKind,
    protocolVersion: u.protocolVersion,
    tools: u.lists.tools.length,
    restarts: u.restarts,
    error: u.status === 'ready' ? undefined : u.lastError,
    nextRetryAt: u.status === 'restarting' && u.nextRetryAt ? new Date(u.nextRetryAt).toISOString() : undefined,
    pid: u.pid,
  }));
  const ok = upstreams.every((u) => u.status === 'ready');
  return { status: ok ? 'ok' : 'degraded', upstreams, callsInFlight: runtime.callsInFlight };
}

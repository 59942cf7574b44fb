// Scenarios 2 and 3: streamable HTTP downstream, 1 / 32 / 64 calls in flight over
// several sessions, all in front of one streamable HTTP echo upstream. Direct calls to
// the upstream are the baseline; a raw HTTP relay (the floor of one extra HTTP hop in
// Node), a bare SDK proxy, Switchboard (policy + audit on, and off) and the peer
// mcp-hub (legacy SSE downstream) run the same workload, alternating.
import { readFileSync } from 'node:fs';
import {
  directHttp,
  httpRelay,
  httpUpstream,
  modernTarget,
  mcpHubHttp,
  sdkProxyHttp,
  switchboardHttp,
} from '../lib/contenders.mjs';
import { compare } from '../lib/compare.mjs';
import { SWITCHBOARD_VARIANTS } from './stdio.mjs';

export async function run({ params, log }) {
  const upstream = await httpUpstream();
  const shape = { connections: 64, sessions: params.httpSessions };
  const targets = [];
  const skipped = [];
  const add = async (key, make) => {
    try {
      const target = await make();
      target.key = key;
      targets.push(target);
      log(`  ${target.name}: ready (tool ${target.tool})`);
    } catch (error) {
      skipped.push({ key, reason: String(error.message ?? error) });
      log(`  ${key}: could not be started: ${error.message ?? error}`);
    }
  };
  try {
    await add('direct', () => directHttp(upstream, shape));
    await add('relay', () => httpRelay(upstream, shape));
    await add('sdk-proxy', () => sdkProxyHttp(upstream, shape));
    for (const v of [SWITCHBOARD_VARIANTS[0], SWITCHBOARD_VARIANTS[2]]) {
      await add(v.key, () => switchboardHttp(v.name, upstream, v.options, shape));
    }
    // The first gateway again, called as a 2026-07-28 client calls it: stateless, each
    // request with its `_meta` envelope (the SDK's per-request path, no fast path yet).
    const first = targets.find((t) => t.key === SWITCHBOARD_VARIANTS[0].key);
    if (first) await add('switchboard-modern', () => modernTarget(first, shape));
    if (params.peers) await add('mcp-hub', () => mcpHubHttp(upstream, shape));
    const results = await compare({
      targets,
      inflights: params.httpInflights,
      runMs: params.runMs,
      rounds: params.rounds,
      warmupMs: params.warmupMs,
      warmupCalls: params.warmupCalls,
      log,
    });
    // The SDK's HTTP client transports attach every request to one shared AbortSignal and
    // Node warns once its listeners pile up: look for that in the gateways' logs.
    const leaks = {};
    for (const t of targets) {
      if (!t.logFile) continue;
      const text = readFileSync(t.logFile, 'utf8');
      leaks[t.key] = (text.match(/MaxListenersExceededWarning/g) ?? []).length;
    }
    return {
      sessions: params.httpSessions,
      connections: shape.connections,
      contenders: targets.map((t) => ({ key: t.key, name: t.name, tool: t.tool })),
      skipped,
      maxListenersWarnings: leaks,
      results,
    };
  } finally {
    for (const t of targets) await t.close();
    await upstream.close();
  }
}

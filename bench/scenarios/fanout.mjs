// Scenario 4: tools/list over 20 upstreams (11 tools each), warm, and with one of the
// 20 hung (it accepts the connection and never answers, not even `initialize`).
// Measured: how long the first tools/list after start takes, and tools/list latency
// once running; the reference is tools/list straight to one upstream. The peer mcp-hub
// gets the same 20 servers, one hung, when peers are on.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { LegacySse } from '../lib/http-client.mjs';
import { directStdio, startMcpHub, stdioUpstream, switchboardConfig, UPSTREAM } from '../lib/contenders.mjs';
import { compare } from '../lib/compare.mjs';
import { start, stop } from '../lib/proc.mjs';
import { StdioRpc } from '../lib/stdio-client.mjs';
import path from 'node:path';
import { fetch } from 'undici';
import { switchboardBin } from '../lib/contenders.mjs';

const SERVERS = 20;
const TOOLS = 10; // plus `echo`

function servers({ hung }) {
  const out = {};
  for (let i = 0; i < SERVERS; i++) {
    const extra = ['--tools', String(TOOLS)];
    if (hung && i === SERVERS - 1) extra.push('--hang');
    out[`up${String(i).padStart(2, '0')}`] = stdioUpstream(extra);
  }
  return out;
}

/** Starts Switchboard over stdio and times its first tools/list answer from the moment of spawn. */
async function startSwitchboard(name, { hung }) {
  const dir = switchboardConfig({ servers: servers({ hung }), policy: 'open', audit: true });
  const began = performance.now();
  const child = start(
    process.execPath,
    [switchboardBin(), 'serve', '--config', path.join(dir, 'servers.json'), '--db', path.join(dir, 'switchboard.db')],
    { logFile: path.join(dir, 'gateway.log') },
  );
  const rpc = new StdioRpc(child);
  await rpc.initialize();
  const first = await rpc.request('tools/list', {});
  const firstListMs = performance.now() - began;
  const firstCount = first.result?.tools?.length ?? 0;
  return { name, child, pid: child.pid, rpc, dir, firstListMs, firstCount, close: () => stop(child) };
}

function listTarget(target, minimum) {
  const list = target.rpc.listCaller();
  const call = async () => (await list()) >= minimum;
  return { ...target, callers: () => [call] };
}

export async function run({ params, log }) {
  const expectedWarm = SERVERS * (TOOLS + 1);
  const expectedHung = (SERVERS - 1) * (TOOLS + 1);
  const startup = { warm: [], hung: [] };
  // Cold start, several times: the first tools/list an agent gets after starting the gateway.
  for (let trial = 0; trial < params.startupTrials; trial++) {
    for (const hung of [false, true]) {
      const gw = await startSwitchboard('probe', { hung });
      startup[hung ? 'hung' : 'warm'].push({ ms: gw.firstListMs, tools: gw.firstCount });
      log(
        `  first tools/list after start (${hung ? 'one hung' : 'warm'}): ${gw.firstListMs.toFixed(0)} ms, ${gw.firstCount} tools`,
      );
      await gw.close();
    }
  }

  const targets = [];
  const peer = {};
  try {
    const direct = await directStdio({ upstream: [UPSTREAM, '--tools', String(TOOLS)] });
    targets.push({ ...listTarget(direct, TOOLS + 1), key: 'direct', name: 'direct, one upstream (11 tools)' });
    const warm = await startSwitchboard('Switchboard, 20 upstreams', { hung: false });
    targets.push({ ...listTarget(warm, expectedWarm), key: 'switchboard-warm' });
    const hung = await startSwitchboard('Switchboard, 20 upstreams, one hung', { hung: true });
    targets.push({ ...listTarget(hung, expectedHung), key: 'switchboard-hung' });
    if (params.peers) {
      try {
        const peerTarget = await startPeer(params, expectedHung, peer, log);
        if (peerTarget) targets.push(peerTarget);
      } catch (error) {
        peer.error = String(error.message ?? error);
        log(`  mcp-hub with one hung upstream: ${peer.error}`);
      }
    }
    const results = await compare({
      targets,
      inflights: params.listInflights,
      runMs: params.runMs,
      rounds: params.rounds,
      warmupMs: params.warmupMs / 2,
      warmupCalls: params.warmupCalls / 10,
      log,
    });
    return {
      upstreams: SERVERS,
      toolsPerUpstream: TOOLS + 1,
      startup,
      peer,
      contenders: targets.map((t) => ({ key: t.key, name: t.name })),
      results,
    };
  } finally {
    for (const t of targets) await t.close();
  }
}

/**
 * mcp-hub with the same 20 servers, one hung. From the moment it is spawned: when an
 * agent first gets the complete list (the 19 live servers' tools) over its /mcp
 * endpoint, and when mcp-hub reports itself ready; then its tools/list as a contender.
 */
async function startPeer(params, expected, peer, log) {
  const hub = await startMcpHub(servers({ hung: true }), { waitReady: false });
  const deadline = hub.started + params.peerReadyTimeoutMs;
  let client;
  let session;
  try {
    while (Date.now() < deadline && (peer.fullListMs === undefined || peer.readyMs === undefined)) {
      if (peer.readyMs === undefined) {
        const health = await (await fetch(`${hub.base}/api/health`)).json().catch(() => ({}));
        if (health.state === 'ready') peer.readyMs = Date.now() - hub.started;
      }
      if (peer.fullListMs === undefined) {
        try {
          client ??= new LegacySse(`${hub.base}/mcp`);
          session ??= await client.open();
          const list = await client.request(session, 'tools/list', {});
          const count = list?.result?.tools?.length ?? 0;
          peer.firstCount ??= count;
          if (count >= expected) peer.fullListMs = Date.now() - hub.started;
        } catch {
          await client?.close();
          client = undefined;
          session = undefined;
        }
      }
      await sleep(250);
    }
  } catch (error) {
    await client?.close();
    await hub.close();
    throw error;
  }
  log(
    `  mcp-hub, one of 20 hung: complete list ${peer.fullListMs ?? 'never'} ms after start, ready ${peer.readyMs ?? 'never'} ms`,
  );
  if (peer.fullListMs === undefined) {
    // Nothing to time: it never served the complete list while we waited.
    peer.waitedMs = params.peerReadyTimeoutMs;
    await client?.close();
    await hub.close();
    return undefined;
  }
  const call = async () => ((await client.request(session, 'tools/list', {}))?.result?.tools?.length ?? 0) >= expected;
  return {
    key: 'mcp-hub-hung',
    name: 'mcp-hub (SSE), 20 upstreams, one hung',
    pid: hub.pid,
    callers: () => [call],
    close: async () => {
      await client.close();
      await hub.close();
    },
  };
}

// Scenario 7: memory of the gateway process alone (VmRSS; its upstream children are
// processes of their own and are not counted). Idle with 10 upstreams connected (over
// stdio, and over HTTP), under load (HTTP, 8 sessions, 32 calls in flight spread over
// the 10 upstreams), and after the load ends and its sessions are closed. References
// in the same run: an idle `node` process doing nothing, the bare SDK proxy, and the
// peer mcp-hub with the same 10 upstreams. `--soak` adds a 10-minute run that opens and
// closes sessions all along and reports the growth.
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fetch } from 'undici';
import { StreamableHttp } from '../lib/http-client.mjs';
import { drive, summary } from '../lib/drive.mjs';
import {
  switchboardBin,
  sdkProxyStdio,
  startMcpHub,
  stdioUpstream,
  switchboardConfig,
  switchboardStdio,
} from '../lib/contenders.mjs';
import { freePort, rssBytes, start, stop, waitFor } from '../lib/proc.mjs';

const UPSTREAMS = 10;
const MB = 1048576;

function servers() {
  const out = {};
  for (let i = 0; i < UPSTREAMS; i++) out[`up${i}`] = stdioUpstream();
  return out;
}

/** RSS sampled `times` times, `everyMs` apart: the median, in MB. */
async function settledRss(pid, { times = 5, everyMs = 200 } = {}) {
  const samples = [];
  for (let i = 0; i < times; i++) {
    samples.push(rssBytes(pid) / MB);
    await sleep(everyMs);
  }
  return summary(samples).median;
}

async function switchboardHttp10() {
  const dir = switchboardConfig({ servers: servers(), policy: 'full', audit: true });
  const port = await freePort();
  const child = start(
    process.execPath,
    [
      switchboardBin(),
      'serve',
      '--config',
      path.join(dir, 'servers.json'),
      '--db',
      path.join(dir, 'switchboard.db'),
      '--transport',
      'http',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
    ],
    { logFile: path.join(dir, 'gateway.log') },
  );
  const url = `http://127.0.0.1:${port}/mcp`;
  await waitFor(
    async () => {
      const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json();
      return health.upstreams.filter((u) => u.status === 'ready').length >= UPSTREAMS;
    },
    { what: 'Switchboard with 10 upstreams ready' },
  );
  return { child, pid: child.pid, url, dir, close: () => stop(child) };
}

/** Sessions with one echo caller per upstream each, and a load that spreads over them. */
async function loadClient(url, sessions) {
  const client = new StreamableHttp(url, { connections: 32 });
  const callers = [];
  for (let s = 0; s < sessions; s++) {
    const session = await client.open();
    for (let i = 0; i < UPSTREAMS; i++) callers.push(client.echoCaller(session, `up${i}__echo`));
  }
  // Worker w uses callers[w % n]: 32 workers over 80 (session, upstream) pairs.
  return { client, callers };
}

async function loadFor(url, ms, sampler) {
  const { client, callers } = await loadClient(url, 8);
  const until = performance.now() + ms;
  let calls = 0;
  let errors = 0;
  while (performance.now() < until) {
    const r = await drive({ callers, inflight: 32, calls: 2000 });
    calls += r.calls;
    errors += r.errors;
    sampler();
  }
  await client.close();
  return { calls, errors };
}

export async function run({ params, log }) {
  const out = { upstreams: UPSTREAMS };
  const floor = start(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdin: 'ignore', stdout: 'ignore' });
  let sdk, stdioGw, gw, hub;
  try {
    await sleep(500);
    out.nodeFloorMB = await settledRss(floor.pid);

    sdk = await sdkProxyStdio();
    await sleep(params.idleSettleMs);
    out.sdkProxyIdleMB = await settledRss(sdk.pid);
    await sdk.close();
    sdk = undefined;

    stdioGw = await switchboardStdio(
      'Switchboard (stdio), 10 upstreams',
      { policy: 'full', audit: true },
      {
        servers: servers(),
        tool: 'echo',
      },
    );
    await sleep(params.idleSettleMs);
    out.switchboardStdioIdleMB = await settledRss(stdioGw.pid);
    await stdioGw.close();
    stdioGw = undefined;

    gw = await switchboardHttp10();
    const probe = new StreamableHttp(gw.url);
    await probe.request(await probe.open(), 'tools/list', {});
    await probe.close();
    await sleep(params.idleSettleMs);
    out.switchboardHttpIdleMB = await settledRss(gw.pid);
    log(
      `  idle: node ${out.nodeFloorMB.toFixed(1)} MB, Switchboard stdio ${out.switchboardStdioIdleMB.toFixed(1)} MB, http ${out.switchboardHttpIdleMB.toFixed(1)} MB`,
    );

    const samples = [];
    const load = await loadFor(gw.url, params.memoryLoadMs, () => samples.push(rssBytes(gw.pid) / MB));
    out.underLoad = {
      ...load,
      seconds: params.memoryLoadMs / 1000,
      peakMB: Math.max(...samples),
      medianMB: summary(samples).median,
    };
    await sleep(params.idleSettleMs);
    out.afterLoadMB = await settledRss(gw.pid);
    log(`  under load: peak ${out.underLoad.peakMB.toFixed(1)} MB; after: ${out.afterLoadMB.toFixed(1)} MB`);

    if (params.soak) {
      out.soak = await soak(gw, params, log);
    }
    await gw.close();
    gw = undefined;

    if (params.peers) {
      try {
        hub = await startMcpHub(servers(), { readyTimeoutMs: params.peerReadyTimeoutMs });
        await sleep(params.idleSettleMs);
        out.mcpHubIdleMB = await settledRss(hub.pid);
      } catch (error) {
        out.mcpHubError = String(error.message ?? error);
      }
    }
    return out;
  } finally {
    await stop(floor);
    await sdk?.close();
    await stdioGw?.close();
    await gw?.close();
    await hub?.close();
  }
}

/** Ten minutes of sessions opened, used and closed, RSS every 10 s; growth over the last nine. */
async function soak(gw, params, log) {
  const began = performance.now();
  const points = [];
  let calls = 0;
  let errors = 0;
  let nextSample = 0;
  while (performance.now() - began < params.soakMs) {
    const { client, callers } = await loadClient(gw.url, 8);
    for (let k = 0; k < 5; k++) {
      const r = await drive({ callers, inflight: 32, calls: 2000 });
      calls += r.calls;
      errors += r.errors;
    }
    await client.close();
    const t = performance.now() - began;
    if (t >= nextSample) {
      points.push({ s: t / 1000, mb: rssBytes(gw.pid) / MB });
      nextSample += 10_000;
      if (points.length % 6 === 0) log(`  soak ${(t / 60000).toFixed(1)} min: ${points.at(-1).mb.toFixed(1)} MB`);
    }
  }
  // Least squares over the points after the first minute: MB per minute.
  const tail = points.filter((p) => p.s >= 60);
  const n = tail.length;
  const mx = tail.reduce((a, p) => a + p.s, 0) / n;
  const my = tail.reduce((a, p) => a + p.mb, 0) / n;
  const slope = tail.reduce((a, p) => a + (p.s - mx) * (p.mb - my), 0) / tail.reduce((a, p) => a + (p.s - mx) ** 2, 0);
  await sleep(params.idleSettleMs);
  return {
    minutes: params.soakMs / 60000,
    calls,
    errors,
    firstMinuteMB: tail[0]?.mb,
    endMB: points.at(-1)?.mb,
    afterMB: await settledRss(gw.pid),
    growthMBPerMinute: slope * 60,
    points,
  };
}

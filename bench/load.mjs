#!/usr/bin/env node
// npm run load [-- --sessions 200 --calls 500 --agents 10]   (issue 6; not part of CI)
//
// One Switchboard over streamable HTTP on 127.0.0.1 with 4 stdio echo upstreams and
// `agents` agents, each with its own bearer token and policy (policy + audit on). Then
// `sessions` sessions at once, spread over the agents, each making `calls` tools/call
// one after another, round robin over the upstreams. Reports errors, throughput,
// latency, and the gateway's RSS idle before, at its peak, and once the sessions are
// closed and it has been idle for a while. Writes bench/results/load-<date>.json.
//
// The JS heap is read over the inspector (the gateway runs with --inspect on a loopback
// port): idle and at the end after a full GC (`HeapProfiler.collectGarbage`), which is
// what a leak would show, and at the end before it, which is mostly garbage V8 has not
// collected yet (an idle process is not made to).
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, fetch } from 'undici';
import { BENCH, ROOT, snapshotGateway, stdioUpstream, switchboardBin, switchboardConfig } from './lib/contenders.mjs';
import { percentile, summary } from './lib/drive.mjs';
import { StreamableHttp } from './lib/http-client.mjs';
import { freePort, rssBytes, start, stop, waitFor } from './lib/proc.mjs';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const at = argv.indexOf(name);
  return at === -1 ? fallback : Number(argv[at + 1]);
};
const SESSIONS = option('--sessions', 200);
const CALLS = option('--calls', 500);
const AGENTS = option('--agents', 10);
const UPSTREAMS = 4;
const SETTLE_MS = option('--settle-ms', 15_000);
/** Rounds of the whole load against one gateway: memory that is only kept for reuse stops growing after the first. */
const ROUNDS = option('--rounds', 1);
const MB = 1048576;
const log = (line) => process.stderr.write(`${line}\n`);

async function rssMedian(pid, times = 5) {
  const samples = [];
  for (let i = 0; i < times; i++) {
    samples.push(rssBytes(pid) / MB);
    await sleep(200);
  }
  return summary(samples).median;
}

/** Runs DevTools protocol commands against a process started with --inspect=host:port. */
async function inspect(port, commands) {
  const [target] = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  const pending = new Map();
  socket.onmessage = (event) => {
    const message = JSON.parse(String(event.data));
    pending.get(message.id)?.(message);
  };
  const results = [];
  try {
    for (const [i, command] of commands.entries()) {
      const [method, params] = Array.isArray(command) ? command : [command, undefined];
      const reply = await new Promise((resolve) => {
        pending.set(i + 1, resolve);
        socket.send(JSON.stringify({ id: i + 1, method, params }));
      });
      if (reply.error) throw new Error(`${method}: ${reply.error.message}`);
      results.push(reply.result);
    }
  } finally {
    socket.close();
  }
  return results;
}

/**
 * The JS heap in use after a full GC, the heap V8 keeps for it, what lives outside it
 * (Buffers, ArrayBuffers: `external`), and the RSS right after.
 */
async function heapAfterGc(pid, port) {
  // Two collections: objects a FinalizationRegistry holds (undici's Request keeps each
  // request's AbortSignal until its cleanup runs) are freed by the second one.
  await inspect(port, ['HeapProfiler.collectGarbage']);
  await sleep(500);
  const [, usage, memory] = await inspect(port, [
    'HeapProfiler.collectGarbage',
    'Runtime.getHeapUsage',
    ['Runtime.evaluate', { expression: 'process.memoryUsage().external', returnByValue: true }],
  ]);
  return {
    heapMB: usage.usedSize / MB,
    heapTotalMB: usage.totalSize / MB,
    externalMB: memory.result.value / MB,
    rssMB: await rssMedian(pid),
  };
}

async function main() {
  snapshotGateway();
  const servers = {};
  for (let i = 0; i < UPSTREAMS; i++) servers[`up${i}`] = stdioUpstream();
  const dir = switchboardConfig({ servers, policy: 'full', audit: true });
  // One policy file per agent, each with its own token (stored as its SHA-256).
  const tokens = [];
  for (let a = 0; a < AGENTS; a++) {
    const token = randomBytes(24).toString('hex');
    tokens.push(token);
    const policy = {
      tokens: [`sha256:${createHash('sha256').update(token).digest('hex')}`],
      allow: ['up*__*'],
      deny: ['*__delete_*'],
      readOnly: ['up*__*'],
    };
    writeFileSync(path.join(dir, 'policies', `agent${a}.json`), JSON.stringify(policy, null, 2));
  }
  const port = await freePort();
  const inspectPort = await freePort();
  const child = start(
    process.execPath,
    [
      `--inspect=127.0.0.1:${inspectPort}`,
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
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => {
        const health = await (await fetch(`${base}/healthz`)).json();
        return health.upstreams.filter((u) => u.status === 'ready').length === UPSTREAMS;
      },
      { what: 'gateway ready' },
    );
    await sleep(2000);
    const idleMB = await rssMedian(child.pid);
    // The JS heap in use (from /metrics), to tell a leak from a heap V8 keeps but does not use.
    const heapMB = async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('switchboard_process_nodejs_heap_size_used_bytes '));
      return line ? Number(line.split(' ')[1]) / MB : NaN;
    };
    const idleHeapMB = await heapMB();
    const idleGc = await heapAfterGc(child.pid, inspectPort);
    log(`gateway ready (pid ${child.pid}), idle RSS ${idleMB.toFixed(1)} MB; ${SESSIONS} sessions × ${CALLS} calls`);

    const rounds = [];
    for (let round = 1; round < ROUNDS; round++) {
      const measured = await loadRound();
      rounds.push(measured);
      log(
        `round ${round}: ${measured.errors} errors, RSS after a full GC ${measured.afterGc.rssMB.toFixed(1)} MB, JS heap ${measured.afterGc.heapMB.toFixed(1)} MB`,
      );
    }
    const last = await loadRound();
    rounds.push(last);
    const {
      clients,
      errors,
      firstError,
      latencies,
      seconds,
      peakMB,
      gateway,
      afterMB,
      afterHeapMB,
      afterGc,
      registries,
    } = last;
    async function loadRound() {
      const clients = tokens.map(
        (token) =>
          new StreamableHttp(`${base}/mcp`, { connections: SESSIONS, headers: { authorization: `Bearer ${token}` } }),
      );
      const sessions = [];
      for (let s = 0; s < SESSIONS; s++) {
        const client = clients[s % AGENTS];
        sessions.push({ client, session: await client.open() });
      }
      log(`${SESSIONS} sessions open`);
      const latencies = new Float64Array(SESSIONS * CALLS);
      let next = 0;
      let errors = 0;
      let firstError;
      let peakMB = 0;
      const sampler = setInterval(() => (peakMB = Math.max(peakMB, rssBytes(child.pid) / MB)), 250);
      const began = performance.now();
      await Promise.all(
        sessions.map(async ({ client, session }, s) => {
          const callers = Array.from({ length: UPSTREAMS }, (_, i) => client.echoCaller(session, `up${i}__echo`));
          for (let k = 0; k < CALLS; k++) {
            const t0 = performance.now();
            let ok = false;
            try {
              ok = await callers[(s + k) % UPSTREAMS]();
            } catch (error) {
              firstError ??= String(error.message ?? error);
            }
            latencies[next++] = performance.now() - t0;
            if (!ok) errors++;
          }
        }),
      );
      const seconds = (performance.now() - began) / 1000;
      clearInterval(sampler);
      // The gateway's own view of the run (prom-client resets the event-loop delay histogram
      // at each scrape, and the last scrape was at idle): was its event loop blocked, and by GC?
      const metrics = (await (await fetch(`${base}/metrics`)).text()).split('\n');
      const metric = (name) => Number(metrics.find((l) => l.startsWith(`${name} `))?.split(' ')[1]);
      const gcSeconds = metrics
        .filter((l) => l.startsWith('switchboard_process_nodejs_gc_duration_seconds_sum'))
        .reduce((sum, l) => sum + Number(l.split(' ')[1]), 0);
      const gateway = {
        eventLoopDelayMaxMs: metric('switchboard_process_nodejs_eventloop_lag_max_seconds') * 1000,
        eventLoopDelayP99Ms: metric('switchboard_process_nodejs_eventloop_lag_p99_seconds') * 1000,
        gcSeconds,
      };

      const total = SESSIONS * CALLS;
      log(`${total} calls in ${seconds.toFixed(1)} s, ${errors} errors; closing the sessions`);
      for (const client of clients) await client.close();
      await sleep(SETTLE_MS);
      const afterMB = await rssMedian(child.pid);
      const afterHeapMB = await heapMB();
      const afterGc = await heapAfterGc(child.pid, inspectPort);
      const registries = (await (await fetch(`${base}/healthz`)).json()).registries;
      return {
        clients,
        errors,
        firstError,
        latencies,
        seconds,
        peakMB,
        gateway,
        afterMB,
        afterHeapMB,
        afterGc,
        registries,
      };
    }
    const total = SESSIONS * CALLS;
    const result = {
      command: `npm run load${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
      at: new Date().toISOString(),
      node: process.version,
      sessions: SESSIONS,
      callsPerSession: CALLS,
      agents: AGENTS,
      upstreams: UPSTREAMS,
      calls: total,
      errors,
      firstError,
      firstFailure: clients.find((c) => c.firstFailure)?.firstFailure,
      seconds,
      callsPerSecond: total / seconds,
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      maxMs: percentile(latencies, 1),
      gateway,
      rss: { idleMB, peakMB, afterMB, settleMs: SETTLE_MS, idleAfterGcMB: idleGc.rssMB, afterGcMB: afterGc.rssMB },
      heapUsed: { idleMB: idleHeapMB, afterMB: afterHeapMB, idleAfterGcMB: idleGc.heapMB, afterGcMB: afterGc.heapMB },
      heapTotalAfterGc: { idleMB: idleGc.heapTotalMB, afterMB: afterGc.heapTotalMB },
      externalAfterGc: { idleMB: idleGc.externalMB, afterMB: afterGc.externalMB },
      registries,
      ...(rounds.length > 1
        ? {
            rounds: rounds.map((r) => ({
              errors: r.errors,
              callsPerSecond: total / r.seconds,
              peakMB: r.peakMB,
              rssAfterGcMB: r.afterGc.rssMB,
              heapAfterGcMB: r.afterGc.heapMB,
            })),
          }
        : {}),
    };
    const out = path.join(BENCH, 'results', `load-${result.at.slice(0, 10)}.json`);
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(
      `${total} calls (${SESSIONS} sessions × ${CALLS}, ${AGENTS} agents): ${errors} errors, ` +
        `${result.callsPerSecond.toFixed(0)} calls/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, ` +
        `max ${result.maxMs.toFixed(0)} ms (gateway event loop delay: max ${gateway.eventLoopDelayMaxMs.toFixed(0)} ms, ` +
        `p99 ${gateway.eventLoopDelayP99Ms.toFixed(0)} ms; GC ${gateway.gcSeconds.toFixed(1)} s in all); ` +
        `RSS idle ${idleMB.toFixed(1)} MB, peak ${peakMB.toFixed(1)} MB, ${SETTLE_MS / 1000} s after ${afterMB.toFixed(1)} MB; ` +
        `JS heap used idle ${idleHeapMB.toFixed(1)} MB, after ${afterHeapMB.toFixed(1)} MB; ` +
        `after a full GC: JS heap idle ${idleGc.heapMB.toFixed(1)} MB, after ${afterGc.heapMB.toFixed(1)} MB, ` +
        `RSS idle ${idleGc.rssMB.toFixed(1)} MB, after ${afterGc.rssMB.toFixed(1)} MB; ` +
        `registries after ${JSON.stringify(registries)}\n` +
        `results: ${path.relative(ROOT, out)}\n`,
    );
    if (rounds.length > 1) {
      process.stdout.write(
        `after a full GC, round by round: RSS ${rounds.map((r) => r.afterGc.rssMB.toFixed(1)).join(', ')} MB; ` +
          `JS heap ${rounds.map((r) => r.afterGc.heapMB.toFixed(1)).join(', ')} MB\n`,
      );
    }
    process.exitCode = rounds.every((r) => r.errors === 0) ? 0 : 1;
  } finally {
    await stop(child);
  }
}

await main();

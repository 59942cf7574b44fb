#!/usr/bin/env node
// npm run load [-- --sessions 200 --calls 500 --agents 10]   (issue 6; not part of CI)
//
// One Switchboard over streamable HTTP on 127.0.0.1 with 4 stdio echo upstreams and
// `agents` agents, each with its own bearer token and policy (policy + audit on). Then
// `sessions` sessions at once, spread over the agents, each making `calls` tools/call
// one after another, round robin over the upstreams. Reports errors, throughput,
// latency, and the gateway's RSS idle before, at its peak, and once the sessions are
// closed and it has been idle for a while. Writes bench/results/load-<date>.json.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fetch } from 'undici';
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
    log(`gateway ready (pid ${child.pid}), idle RSS ${idleMB.toFixed(1)} MB; ${SESSIONS} sessions × ${CALLS} calls`);

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
    const total = SESSIONS * CALLS;
    log(`${total} calls in ${seconds.toFixed(1)} s, ${errors} errors; closing the sessions`);
    for (const client of clients) await client.close();
    await sleep(SETTLE_MS);
    const afterMB = await rssMedian(child.pid);
    const afterHeapMB = await heapMB();
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
      rss: { idleMB, peakMB, afterMB, settleMs: SETTLE_MS },
      heapUsed: { idleMB: idleHeapMB, afterMB: afterHeapMB },
    };
    const out = path.join(BENCH, 'results', `load-${result.at.slice(0, 10)}.json`);
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(
      `${total} calls (${SESSIONS} sessions × ${CALLS}, ${AGENTS} agents): ${errors} errors, ` +
        `${result.callsPerSecond.toFixed(0)} calls/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms; ` +
        `RSS idle ${idleMB.toFixed(1)} MB, peak ${peakMB.toFixed(1)} MB, ${SETTLE_MS / 1000} s after ${afterMB.toFixed(1)} MB; ` +
        `JS heap used idle ${idleHeapMB.toFixed(1)} MB, after ${afterHeapMB.toFixed(1)} MB\n` +
        `results: ${path.relative(ROOT, out)}\n`,
    );
    process.exitCode = errors === 0 ? 0 : 1;
  } finally {
    await stop(child);
  }
}

await main();

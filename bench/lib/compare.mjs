// Runs contenders side by side: the same workload for each, alternating in every round
// (A B C, then B C A, …) so that a slow spell of a shared machine hits them all alike.
// Each contender is warmed up first (JIT, caches, connections), then a whole warm-up
// round runs and is thrown away, then the measured rounds. Ratios against the baseline
// are taken within a round and then summarised over rounds: median and min–max.
import { cpuNs, rssBytes } from './proc.mjs';
import { drive, summary } from './drive.mjs';

function safeCpu(pid) {
  try {
    return pid ? cpuNs(pid) : NaN;
  } catch {
    return NaN;
  }
}

/** One measured run of one contender. */
export async function measure(target, inflight, durationMs) {
  const upstreamPid = target.upstreamPid?.();
  const gw0 = safeCpu(target.pid);
  const up0 = safeCpu(upstreamPid);
  const result = await drive({ callers: target.callers(inflight), inflight, durationMs });
  const gw1 = safeCpu(target.pid);
  const up1 = safeCpu(upstreamPid);
  return {
    ...result,
    gatewayCpuUsPerCall: (gw1 - gw0) / 1000 / result.calls,
    upstreamCpuUsPerCall: (up1 - up0) / 1000 / result.calls,
    // Share of one core the gateway kept busy (over 100 % means more than one thread).
    gatewayCpuShare: (gw1 - gw0) / 1e6 / result.elapsedMs,
    clientCpuShare: (result.clientCpuUsPerCall * result.calls) / 1000 / result.elapsedMs,
    rssBytes: target.pid ? rssBytes(target.pid) : NaN,
  };
}

/**
 * Measures every target at every level of concurrency. `targets[0]` is the baseline.
 * Returns, per concurrency, per target: the summaries and the raw rounds.
 */
export async function compare({ targets, inflights, runMs, rounds, warmupMs, warmupCalls = 0, log = () => undefined }) {
  const out = [];
  // JIT first: a fixed number of calls each, at the highest concurrency (fastest to get through).
  const widest = Math.max(...inflights);
  for (const target of targets) {
    await drive({ callers: target.callers(widest), inflight: widest, calls: warmupCalls, minCalls: 0 });
  }
  for (const inflight of inflights) {
    for (const target of targets) {
      await drive({ callers: target.callers(inflight), inflight, durationMs: warmupMs, minCalls: 0 });
    }
    const perTarget = targets.map(() => []);
    for (let round = 0; round <= rounds; round++) {
      const order = targets.map((_, i) => (i + round) % targets.length);
      const thisRound = [];
      for (const i of order) thisRound[i] = await measure(targets[i], inflight, runMs);
      const warm = round === 0 ? ' (warm-up, discarded)' : '';
      log(
        `  ${inflight} in flight, round ${round}${warm}: ` +
          targets.map((t, i) => `${t.name} ${thisRound[i].p50.toFixed(3)} ms (${thisRound[i].calls})`).join(', '),
      );
      if (round === 0) continue;
      thisRound.forEach((r, i) => perTarget[i].push(r));
    }
    const base = perTarget[0];
    const rows = targets.map((target, i) => {
      const runs = perTarget[i];
      const paired = (f) => runs.map((r, k) => f(r, base[k]));
      const calls = runs.reduce((a, r) => a + r.calls, 0);
      return {
        name: target.name,
        inflight,
        runMs,
        callsPerRound: summary(runs.map((r) => r.calls)),
        rounds: runs.length,
        errors: runs.reduce((a, r) => a + r.errors, 0),
        firstError: runs.find((r) => r.firstError)?.firstError,
        p50: summary(runs.map((r) => r.p50)),
        p99: summary(runs.map((r) => r.p99)),
        throughput: summary(runs.map((r) => r.throughput)),
        addedP50: summary(paired((r, b) => r.p50 - b.p50)),
        addedP99: summary(paired((r, b) => r.p99 - b.p99)),
        throughputShare: summary(paired((r, b) => r.throughput / b.throughput)),
        gatewayCpuUsPerCall: summary(runs.map((r) => r.gatewayCpuUsPerCall)),
        gatewayCpuUsPerCallPooled: runs.reduce((a, r) => a + r.gatewayCpuUsPerCall * r.calls, 0) / calls,
        gatewayCpuShare: summary(runs.map((r) => r.gatewayCpuShare)),
        upstreamCpuUsPerCall: summary(runs.map((r) => r.upstreamCpuUsPerCall)),
        clientCpuUsPerCall: summary(runs.map((r) => r.clientCpuUsPerCall)),
        clientCpuShare: summary(runs.map((r) => r.clientCpuShare)),
        rssMB: summary(runs.map((r) => r.rssBytes / 1048576)),
        raw: runs.map((r) => ({
          p50: r.p50,
          p99: r.p99,
          throughput: r.throughput,
          gatewayCpuUsPerCall: r.gatewayCpuUsPerCall,
          clientCpuUsPerCall: r.clientCpuUsPerCall,
          errors: r.errors,
        })),
      };
    });
    out.push({ inflight, rows });
  }
  return out;
}

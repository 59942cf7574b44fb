// The load loop and the figures drawn from it. A closed loop: `inflight` workers each
// send a call, wait for its answer and send the next, until `calls` answers came back.
// Latencies go into a preallocated array, so the loop itself allocates next to nothing.
import { performance } from 'node:perf_hooks';

const MAX_CALLS = 1 << 21;

/**
 * Runs calls, `inflight` at a time: `calls` of them, or as many as fit in `durationMs`
 * (at least `minCalls`). `callers[w % callers.length]` is worker w's way to make one
 * call (resolves true when the right answer came back, or `{ ok, ms }` when the call
 * measures its own figure, e.g. the time to the first token of a stream).
 */
export async function drive({ callers, inflight, calls, durationMs, minCalls = 100 }) {
  const limit = calls ?? MAX_CALLS;
  const latencies = new Float64Array(limit);
  let issued = 0;
  let done = 0;
  let errors = 0;
  let firstError;
  const cpuBefore = process.cpuUsage();
  const began = performance.now();
  const deadline = durationMs === undefined ? Infinity : began + durationMs;
  const worker = async (w) => {
    const call = callers[w % callers.length];
    for (;;) {
      if (issued >= limit) return;
      const t0 = performance.now();
      if (t0 > deadline && issued >= minCalls) return;
      const i = issued++;
      let ok;
      let ms;
      try {
        const answer = await call();
        ok = typeof answer === 'object' && answer !== null ? answer.ok : answer;
        ms = answer?.ms;
      } catch (error) {
        ok = false;
        firstError ??= error;
      }
      latencies[i] = ms ?? performance.now() - t0;
      done++;
      if (!ok) errors++;
    }
  };
  await Promise.all(Array.from({ length: inflight }, (_, w) => worker(w)));
  const elapsedMs = performance.now() - began;
  const cpu = process.cpuUsage(cpuBefore);
  const measured = latencies.subarray(0, done);
  return {
    calls: done,
    inflight,
    errors,
    firstError: firstError ? String(firstError.message ?? firstError) : undefined,
    elapsedMs,
    throughput: (done / elapsedMs) * 1000,
    p50: percentile(measured, 0.5),
    p99: percentile(measured, 0.99),
    mean: measured.reduce((a, b) => a + b, 0) / done,
    clientCpuUsPerCall: (cpu.user + cpu.system) / done,
  };
}

/** The q-quantile (nearest rank) of a list of numbers. Sorts a copy. */
export function percentile(values, q) {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

export function median(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length === 0 ? NaN : percentile(finite, 0.5);
}

/** Median with the lowest and highest value, of the rounds' figures. */
export function summary(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const sorted = [...finite].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const med = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median: med, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

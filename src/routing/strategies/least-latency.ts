import { sortBy, type Strategy } from './strategy.js';

/**
 * Lowest moving average first: time to first token for streamed calls, whole-call
 * latency otherwise (each falls back on the other). A target never measured goes
 * first, in route order, so that every target gets measured once.
 */
export const leastLatency: Strategy = ({ route, stream, health }) => {
  const measured = route.targets.map((target) => {
    const stats = health.of(target.id);
    const [primary, secondary] = stream ? [stats.ttft, stats.latency] : [stats.latency, stats.ttft];
    return { target, ms: primary.value ?? secondary.value };
  });
  return sortBy(measured, (entry) => entry.ms ?? -1).map(({ target, ms }) => ({
    target,
    ...(ms !== undefined ? { score: Math.round(ms * 10) / 10 } : {}),
  }));
};

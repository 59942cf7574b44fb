// Scenario 1: stdio → stdio, 1 and 32 calls in flight. Direct client → upstream is the
// baseline; then a raw byte relay (the floor of one extra hop), a bare SDK proxy, and
// Switchboard three ways: policy + audit on, audit only, and both off.
import { directStdio, relayStdio, sdkProxyStdio, switchboardStdio, SDK_UPSTREAM } from '../lib/contenders.mjs';
import { compare } from '../lib/compare.mjs';

export const SWITCHBOARD_VARIANTS = [
  { key: 'switchboard', name: 'Switchboard (policy + audit)', options: { policy: 'full', audit: true } },
  { key: 'switchboard-audit', name: 'Switchboard (audit only)', options: { policy: 'open', audit: true } },
  { key: 'switchboard-off', name: 'Switchboard (policy + audit off)', options: { policy: 'open', audit: false } },
];

export async function run({ params, log }) {
  const targets = [];
  const add = async (key, make) => {
    const target = await make();
    target.key = key;
    targets.push(target);
    log(`  ${target.name}: ready (tool ${target.tool})`);
  };
  try {
    await add('direct', () => directStdio());
    await add('relay', () => relayStdio());
    await add('sdk-proxy', () => sdkProxyStdio());
    for (const v of SWITCHBOARD_VARIANTS) await add(v.key, () => switchboardStdio(v.name, v.options));
    const results = await compare({
      targets,
      inflights: [1, 32],
      runMs: params.runMs,
      rounds: params.rounds,
      warmupMs: params.warmupMs,
      warmupCalls: params.warmupCalls,
      log,
    });
    return { contenders: targets.map((t) => ({ key: t.key, name: t.name, tool: t.tool })), results };
  } finally {
    for (const t of targets) await t.close();
  }
}

/**
 * Scenario 1b: the same at 32 in flight, but behind an upstream built with the SDK
 * (McpServer), whose own cost per call is that of a typical real server.
 */
export async function runSdkUpstream({ params, log }) {
  const targets = [];
  const upstream = [SDK_UPSTREAM];
  const add = async (key, make) => {
    const target = await make();
    target.key = key;
    targets.push(target);
    log(`  ${target.name}: ready (tool ${target.tool})`);
  };
  try {
    await add('direct', () => directStdio({ upstream }));
    await add('relay', () => relayStdio({ upstream }));
    await add('sdk-proxy', () => sdkProxyStdio({ upstream }));
    const v = SWITCHBOARD_VARIANTS[0];
    await add(v.key, () => switchboardStdio(v.name, v.options, { upstream }));
    const results = await compare({
      targets,
      inflights: [1, 32],
      runMs: params.runMs,
      rounds: params.rounds,
      warmupMs: params.warmupMs,
      warmupCalls: params.warmupCalls,
      log,
    });
    return { contenders: targets.map((t) => ({ key: t.key, name: t.name, tool: t.tool })), results };
  } finally {
    for (const t of targets) await t.close();
  }
}

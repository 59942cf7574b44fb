// The hot path under a CPU profiler: Switchboard (policy + audit) runs with
// `node --cpu-prof` while the stdio workload (1, then 32 in flight) and, separately, the
// HTTP workload (32 in flight) go through it; the profiles are read back as self time
// per function (mapped to src/*.ts) and per area. Not part of --quick.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gateway, runDir, switchboardHttp, switchboardStdio, httpUpstream } from '../lib/contenders.mjs';
import { drive } from '../lib/drive.mjs';
import { analyseProfiles } from '../lib/profile.mjs';
import { SWITCHBOARD_VARIANTS } from './stdio.mjs';

/** Closes the gateway's stdin (stdio) or sends SIGTERM (HTTP) and waits: --cpu-prof writes at exit. */
async function exitCleanly(child, { signal } = {}) {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  if (signal) child.kill(signal);
  else child.stdin.end();
  await Promise.race([exited, sleep(20_000)]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
  }
}

export async function run({ params, log }) {
  const variant = SWITCHBOARD_VARIANTS[0];
  const out = {};

  const stdioDir = path.join(runDir(), 'profile-stdio');
  mkdirSync(stdioDir, { recursive: true });
  const flags = ['--cpu-prof', '--cpu-prof-dir', stdioDir, '--cpu-prof-interval', '250'];
  const gw = await switchboardStdio(variant.name, variant.options, { nodeFlags: flags });
  await drive({ callers: gw.callers(32), inflight: 32, calls: params.profileWarmup });
  const one = await drive({ callers: gw.callers(1), inflight: 1, calls: params.profileCalls / 4 });
  const many = await drive({ callers: gw.callers(32), inflight: 32, calls: params.profileCalls });
  await exitCleanly(gw.child);
  out.stdio = { calls: { 1: one.calls, 32: many.calls }, ...analyseProfiles(stdioDir, gateway.root) };
  log(
    `  stdio profile: ${out.stdio.busyMs.toFixed(0)} ms busy over ${one.calls + many.calls + params.profileWarmup} calls`,
  );

  const httpDir = path.join(runDir(), 'profile-http');
  mkdirSync(httpDir, { recursive: true });
  const upstream = await httpUpstream();
  try {
    const target = await switchboardHttp(variant.name, upstream, variant.options, {
      connections: 32,
      sessions: 8,
      nodeFlags: ['--cpu-prof', '--cpu-prof-dir', httpDir, '--cpu-prof-interval', '250'],
    });
    await drive({ callers: target.callers(32), inflight: 32, calls: params.profileWarmup });
    const r = await drive({ callers: target.callers(32), inflight: 32, calls: params.profileCalls / 2 });
    await exitCleanly(target.child, { signal: 'SIGTERM' });
    await target.close();
    out.http = { calls: { 32: r.calls }, ...analyseProfiles(httpDir, gateway.root) };
    log(`  http profile: ${out.http.busyMs.toFixed(0)} ms busy`);
  } finally {
    await upstream.close();
  }
  out.profiles = { stdio: stdioDir, http: httpDir };
  return out;
}

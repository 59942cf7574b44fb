#!/usr/bin/env node
// npm run bench [-- --quick | --soak | --only stdio,http | --skip profile | --no-peers | --rounds N | --docs]
//                [-- --render bench/results/<date>.json [--docs]]   (tables again from a results file)
//
// Runs the scenarios of issue 7, each with its baseline and contenders alternating in
// the same run, writes bench/results/<date>.json and (full runs, or --docs) the
// generated part of docs/benchmarks.md, and prints the tables. Build first
// (`npm run build`): the gateway under test is bin/switchboard.js, which runs dist/.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BENCH, ROOT, gateway, runDir, snapshotGateway } from './lib/contenders.mjs';
import { killAll } from './lib/proc.mjs';
import { renderResults } from './lib/report.mjs';

const argv = process.argv.slice(2);
const has = (flag) => argv.includes(flag);
const value = (flag) => {
  const at = argv.indexOf(flag);
  if (at !== -1) return argv[at + 1];
  const eq = argv.find((a) => a.startsWith(`${flag}=`));
  return eq?.slice(flag.length + 1);
};
const list = (flag) => value(flag)?.split(',').filter(Boolean);

const quick = has('--quick');
const soak = has('--soak');
const only = list('--only');
const skip = list('--skip') ?? [];

const PARAMS = quick
  ? {
      rounds: 2,
      runMs: 300,
      warmupMs: 300,
      warmupCalls: 1500,
      httpSessions: 8,
      startupTrials: 1,
      auditRows: 3000,
      idleSettleMs: 800,
      memoryLoadMs: 3000,
      quotaTakes: 200,
      profileCalls: 8000,
      profileWarmup: 2000,
      peerReadyTimeoutMs: 6_000,
      httpInflights: [1, 32],
      listInflights: [1],
    }
  : {
      rounds: 7,
      runMs: 2000,
      warmupMs: 3000,
      warmupCalls: 20000,
      httpSessions: 8,
      startupTrials: 3,
      auditRows: 20000,
      idleSettleMs: 3000,
      memoryLoadMs: 20000,
      quotaTakes: 2000,
      profileCalls: 40000,
      profileWarmup: 10000,
      peerReadyTimeoutMs: 120_000,
      httpInflights: [1, 32, 64],
      listInflights: [1, 8],
    };
if (value('--rounds')) PARAMS.rounds = Number(value('--rounds'));
PARAMS.peers = !has('--no-peers');
PARAMS.soak = soak;
PARAMS.soakMs = Number(value('--soak-minutes') ?? 10) * 60_000;

// In order; `full` ones run in full mode only (or when named with --only).
const SCENARIOS = [
  { key: 'stdio', title: '1. stdio → stdio', load: () => import('./scenarios/stdio.mjs').then((m) => m.run) },
  {
    key: 'stdioSdkUpstream',
    title: '1b. stdio → stdio, SDK-built upstream',
    full: true,
    load: () => import('./scenarios/stdio.mjs').then((m) => m.runSdkUpstream),
  },
  { key: 'http', title: '2–3. streamable HTTP, peers', load: () => import('./scenarios/http.mjs').then((m) => m.run) },
  { key: 'fanout', title: '4. fan-out', load: () => import('./scenarios/fanout.mjs').then((m) => m.run) },
  { key: 'stores', title: '5. audit writer', load: () => import('./scenarios/stores.mjs').then((m) => m.run) },
  { key: 'router', title: '6. model router', load: () => import('./scenarios/router.mjs').then((m) => m.run) },
  { key: 'memory', title: '7. memory', load: () => import('./scenarios/memory.mjs').then((m) => m.run) },
  { key: 'profile', title: 'profile', full: true, load: () => import('./scenarios/profile.mjs').then((m) => m.run) },
];

const log = (line) => process.stderr.write(`${line}\n`);

function git(args) {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function machine() {
  const cpus = os.cpus();
  const commit = git(['rev-parse', '--short', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--', 'src', 'bin', 'package.json']);
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: os.totalmem() / 1024 ** 3,
    kernel: os.release(),
    node: process.version,
    commit: commit ? `${commit}${dirty ? ' with uncommitted changes in src/' : ''}` : 'unknown',
    loadAverage: os.loadavg(),
  };
}

function commandLine() {
  const flags = argv.join(' ');
  return `npm run bench${flags ? ` -- ${flags}` : ''}`;
}

/** `--render FILE`: the markdown (and with --docs, docs/benchmarks.md) again from a results file. */
async function render(file) {
  const run = JSON.parse(readFileSync(path.resolve(file), 'utf8'));
  const markdown = renderResults(run);
  process.stdout.write(`${markdown}\n`);
  if (has('--docs')) await writeDocs(markdown);
}

async function main() {
  if (value('--render')) return render(value('--render'));
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) {
    log('dist/ is missing: run `npm run build` at the repository root first');
    process.exit(1);
  }
  if (!existsSync(path.join(BENCH, 'node_modules', 'undici'))) {
    log('bench/node_modules is missing: run `npm --prefix bench install` (the `bench` script does)');
    process.exit(1);
  }
  snapshotGateway();
  const began = performance.now();
  const startedAt = new Date().toISOString();
  const run = {
    command: commandLine(),
    mode: quick ? 'quick' : soak ? 'full with soak' : 'full',
    startedAt,
    machine: machine(),
    gatewaySnapshotAt: gateway.snapshotAt,
    params: PARAMS,
    scenarios: {},
  };
  log(`switchboard bench (${run.mode}): ${run.machine.cores} cores, ${run.machine.cpu}, Node ${run.machine.node}`);
  log(`scratch folder: ${runDir()}`);
  for (const scenario of SCENARIOS) {
    const wanted = only ? only.includes(scenario.key) : !skip.includes(scenario.key) && !(scenario.full && quick);
    if (!wanted) continue;
    log(`\n${scenario.title}`);
    const t0 = performance.now();
    try {
      const runScenario = await scenario.load();
      run.scenarios[scenario.key] = await runScenario({ params: PARAMS, log });
    } catch (error) {
      log(`  failed: ${error.stack ?? error}`);
      run.scenarios[scenario.key] = { error: String(error.message ?? error) };
    } finally {
      killAll();
    }
    log(`  (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  run.finishedAt = new Date().toISOString();
  run.durationS = (performance.now() - began) / 1000;

  const resultsDir = path.join(BENCH, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const date = startedAt.slice(0, 10);
  const suffix = quick ? '-quick' : only ? `-${only.join('-')}` : '';
  const file = path.join(resultsDir, `${date}${suffix}.json`);
  run.resultsFile = path.relative(ROOT, file);
  writeFileSync(file, JSON.stringify(run, null, 2) + '\n');

  const markdown = renderResults(run);
  process.stdout.write(`\n${markdown}\n`);
  log(`\nresults: ${run.resultsFile}`);
  if ((!quick && !only) || has('--docs')) {
    await writeDocs(markdown);
    log('docs/benchmarks.md updated');
  }
}

const BEGIN = '<!-- bench:results (generated by `npm run bench`; edit bench/lib/report.mjs, not this part) -->';
const END = '<!-- /bench:results -->';

/** Replaces the generated part of docs/benchmarks.md; the text around it is kept. */
async function writeDocs(markdown) {
  const file = path.join(ROOT, 'docs', 'benchmarks.md');
  mkdirSync(path.dirname(file), { recursive: true });
  const current = existsSync(file) ? readFileSync(file, 'utf8') : `# Benchmarks\n\n${BEGIN}\n${END}\n`;
  const from = current.indexOf(BEGIN);
  const to = current.indexOf(END);
  const next =
    from === -1 || to === -1
      ? `${current.trimEnd()}\n\n${BEGIN}\n\n${markdown}\n\n${END}\n`
      : `${current.slice(0, from + BEGIN.length)}\n\n${markdown}\n\n${current.slice(to)}`;
  writeFileSync(file, await format(next, file));
}

/** prettier (the repository's own, with its settings) so that `npm run lint` stays clean. */
async function format(text, file) {
  try {
    const prettier = await import(path.join(ROOT, 'node_modules', 'prettier', 'index.mjs'));
    const options = (await prettier.resolveConfig(file)) ?? {};
    return await prettier.format(text, { ...options, filepath: file });
  } catch (error) {
    log(`prettier not applied: ${error.message}`);
    return text;
  }
}

await main();
process.exit(0);

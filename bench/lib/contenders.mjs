// How each contender is started and driven. A contender is a process (or none, for
// the direct baseline) between the load client and the echo upstream; `callers(n)`
// gives the load loop its way of making calls, one per session.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, openSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetch } from 'undici';
import { childPids, freePort, start, stop, waitFor } from './proc.mjs';
import { StdioRpc } from './stdio-client.mjs';
import { LegacySse, StreamableHttp } from './http-client.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BENCH = path.resolve(here, '..');
export const ROOT = path.resolve(BENCH, '..');
export const UPSTREAM = path.join(here, 'upstream.mjs');
export const SDK_UPSTREAM = path.join(here, 'sdk-upstream.mjs');
const NODE = process.execPath;

/**
 * The Switchboard build under test. `snapshotGateway` points it at a private copy of
 * bin/ and dist/, so that someone rebuilding dist/ during a run cannot change the code
 * half-way (or break it with a half-written build).
 */
export const gateway = { root: ROOT, snapshotAt: undefined };

export function snapshotGateway() {
  const root = path.join(runDir(), 'gateway');
  mkdirSync(root, { recursive: true });
  for (const entry of ['bin', 'dist', 'package.json'])
    cpSync(path.join(ROOT, entry), path.join(root, entry), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  gateway.root = root;
  gateway.snapshotAt = new Date().toISOString();
  // A half-written or broken build fails here, once, rather than as timeouts later.
  execFileSync(NODE, [switchboardBin(), '--help'], { stdio: 'ignore', timeout: 30_000 });
  return root;
}

export function switchboardBin() {
  return path.join(gateway.root, 'bin', 'switchboard.js');
}

let workDir;
/** A fresh folder under the system's temp folder for this run's configs, databases and logs. */
export function runDir() {
  workDir ??= mkdtempSync(path.join(tmpdir(), 'switchboard-bench-'));
  return workDir;
}
let counter = 0;
function scratch(name) {
  const dir = path.join(runDir(), `${++counter}-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const fd = (file) => openSync(file, 'a');

/** Upstream command lines as servers.json wants them. */
export function stdioUpstream(extra = []) {
  return { command: NODE, args: [UPSTREAM, ...extra] };
}

/** Reads `port <n>` from a child's stdout. */
function portOf(child) {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk) => {
      text += chunk;
      const match = /port (\d+)/.exec(text);
      if (match) {
        child.stdout.off('data', onData);
        resolve(Number(match[1]));
      }
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening`)));
  });
}

/**
 * Switchboard's config folder: servers.json, policies/default.json.
 * `policy`: 'full' (allow/deny/readOnly globs and a quota on another tool, as a real
 * policy file has) or 'open' (allow `*`, nothing else); `quota`: a quota rule that
 * matches every tool, so each call takes from it.
 */
export function switchboardConfig({ servers, audit = true, policy = 'open', quota, gateway = {} }) {
  const dir = scratch('switchboard');
  mkdirSync(path.join(dir, 'policies'));
  const rules =
    policy === 'full'
      ? {
          allow: ['echo__*', 'up*__*', 'files__read_*', 'files__write_*'],
          deny: ['*__delete_*', '*__drop_*'],
          readOnly: ['echo__*', 'files__*'],
          // A quota on another tool: the echo call is checked against it but not counted.
          quotas: { 'files__write_*': '100/1h' },
        }
      : { allow: ['*'] };
  if (quota) rules.quotas = { ...rules.quotas, '*': quota };
  writeFileSync(path.join(dir, 'policies', 'default.json'), JSON.stringify(rules, null, 2));
  const config = {
    mcpServers: servers,
    gateway: {
      // The 64-in-flight runs must not sit exactly at the default per-agent limit (64).
      maxConcurrentCallsPerAgent: 1024,
      ...gateway,
      audit: { enabled: audit },
    },
  };
  writeFileSync(path.join(dir, 'servers.json'), JSON.stringify(config, null, 2));
  return dir;
}

function switchboardArgs(dir, extra = []) {
  return [
    switchboardBin(),
    'serve',
    '--config',
    path.join(dir, 'servers.json'),
    '--db',
    path.join(dir, 'switchboard.db'),
    ...extra,
  ];
}

async function findTool(list, wanted = 'echo') {
  const tools = (await list())?.tools ?? [];
  const tool = tools.find((t) => t.name === wanted || t.name.endsWith(`__${wanted}`) || t.name.endsWith(`-${wanted}`));
  if (!tool) throw new Error(`no ${wanted} tool among ${tools.map((t) => t.name).join(', ') || 'none'}`);
  return tool.name;
}

/** A stdio contender: the load client talks to `command args` over its stdin/stdout. */
async function stdioTarget(name, command, args, { logFile, nodeFlags = [], tool = 'echo', isUpstream = false } = {}) {
  const child = start(command, [...nodeFlags, ...args], { logFile });
  const rpc = new StdioRpc(child);
  await rpc.initialize();
  let toolName;
  await waitFor(
    async () => {
      toolName = await findTool(async () => (await rpc.request('tools/list', {})).result, tool);
      return true;
    },
    { timeoutMs: 30_000, everyMs: 200, what: `${name}'s tools` },
  );
  const call = rpc.echoCaller(toolName);
  return {
    name,
    pid: isUpstream ? undefined : child.pid,
    upstreamPid: () => (isUpstream ? child.pid : childPids(child.pid)[0]),
    child,
    rpc,
    tool: toolName,
    callers: () => [call],
    close: () => stop(child),
  };
}

/** `upstream`: the upstream's node arguments (default: the raw echo upstream). */
export function directStdio({ upstream = [UPSTREAM] } = {}) {
  return stdioTarget('direct', NODE, upstream, { logFile: path.join(runDir(), 'upstream.log'), isUpstream: true });
}

export function relayStdio({ upstream = [UPSTREAM] } = {}) {
  return stdioTarget('raw relay', NODE, [path.join(here, 'relay.mjs'), NODE, ...upstream], {
    logFile: path.join(runDir(), 'relay.log'),
  });
}

export function sdkProxyStdio({ upstream = [UPSTREAM] } = {}) {
  return stdioTarget('bare SDK proxy', NODE, [path.join(here, 'sdk-proxy.mjs'), '--', NODE, ...upstream], {
    logFile: path.join(runDir(), 'sdk-proxy.log'),
  });
}

/**
 * Switchboard over stdio. `options` go to switchboardConfig; `nodeFlags` to node (e.g.
 * --cpu-prof); `servers` replaces the one echo upstream (`upstream`: its node arguments).
 */
export async function switchboardStdio(name, options = {}, { nodeFlags = [], servers, tool, upstream } = {}) {
  const echo = upstream ? { command: NODE, args: upstream } : stdioUpstream();
  const dir = switchboardConfig({ servers: servers ?? { echo }, ...options });
  const logFile = path.join(dir, 'gateway.log');
  const target = await stdioTarget(name, NODE, switchboardArgs(dir), { logFile, nodeFlags, tool });
  return { ...target, dir, logFile };
}

// ---- HTTP ----

/** The streamable HTTP echo upstream, shared by every HTTP contender of a scenario. */
export async function httpUpstream({ hang = false } = {}) {
  const child = start(NODE, [UPSTREAM, '--http', '0', ...(hang ? ['--hang'] : [])], {
    logFile: path.join(runDir(), 'http-upstream.log'),
  });
  const port = await portOf(child);
  return { child, pid: child.pid, url: `http://127.0.0.1:${port}/mcp`, close: () => stop(child) };
}

/** Opens `sessions` sessions on a streamable HTTP endpoint; one caller per session. */
async function streamableTarget(name, url, { pid, upstreamPid, connections, sessions, close, extra }) {
  const client = new StreamableHttp(url, { connections });
  const opened = [];
  for (let i = 0; i < sessions; i++) opened.push(await client.open());
  const list = await client.request(opened[0], 'tools/list', {});
  const tool = await findTool(async () => list.result);
  const callers = opened.map((s) => client.echoCaller(s, tool));
  return {
    name,
    pid,
    upstreamPid,
    tool,
    url,
    callers: (inflight) => callers.slice(0, Math.max(1, Math.min(inflight, callers.length))),
    close: async () => {
      await client.close();
      await close?.();
    },
    ...extra,
  };
}

export function directHttp(upstream, { connections, sessions }) {
  return streamableTarget('direct', upstream.url, {
    pid: undefined,
    upstreamPid: () => upstream.pid,
    connections,
    sessions,
  });
}

/** A bench script serving streamable HTTP on a port it prints, in front of `upstream`. */
async function scriptHttp(name, script, args, upstream, { connections, sessions, nodeFlags = [] }) {
  const logFile = path.join(runDir(), `${path.basename(script, '.mjs')}-http.log`);
  const child = start(NODE, [...nodeFlags, path.join(here, script), ...args, '--upstream-url', upstream.url], {
    logFile,
  });
  const port = await portOf(child);
  return streamableTarget(name, `http://127.0.0.1:${port}/mcp`, {
    pid: child.pid,
    upstreamPid: () => upstream.pid,
    connections,
    sessions,
    close: () => stop(child),
    extra: { child, logFile },
  });
}

/** The raw HTTP relay (`http-relay.mjs`): the floor of one extra HTTP hop in Node. */
export function httpRelay(upstream, shape) {
  return scriptHttp('raw HTTP relay', 'http-relay.mjs', ['--port', '0'], upstream, shape);
}

export async function switchboardHttp(name, upstream, options, { connections, sessions, nodeFlags = [] }) {
  const dir = switchboardConfig({ servers: { echo: { type: 'http', url: upstream.url } }, ...options });
  const port = await freePort();
  const child = start(
    NODE,
    [...nodeFlags, ...switchboardArgs(dir, ['--transport', 'http', '--host', '127.0.0.1', '--port', String(port)])],
    { logFile: path.join(dir, 'gateway.log') },
  );
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, { what: `${name} /healthz` });
  return streamableTarget(name, `http://127.0.0.1:${port}/mcp`, {
    pid: child.pid,
    upstreamPid: () => upstream.pid,
    connections,
    sessions,
    close: () => stop(child),
    extra: { dir, child, logFile: path.join(dir, 'gateway.log') },
  });
}

/**
 * `gateway` (a Switchboard HTTP target) called by stateless 2026-07-28 clients instead of
 * sessions: the same process, measured in its own turns.
 */
export function modernTarget(gateway, { connections }) {
  const client = new StreamableHttp(gateway.url, { connections });
  const callers = Array.from({ length: connections }, () => client.modernEchoCaller(gateway.tool));
  return {
    name: `${gateway.name}, 2026-07-28 client`,
    pid: gateway.pid,
    upstreamPid: gateway.upstreamPid,
    tool: gateway.tool,
    url: gateway.url,
    callers: (inflight) => callers.slice(0, Math.max(1, Math.min(inflight, callers.length))),
    close: () => client.close(),
  };
}

export function sdkProxyHttp(upstream, shape) {
  return scriptHttp('bare SDK proxy', 'sdk-proxy.mjs', ['--http-port', '0'], upstream, shape);
}

/** mcp-hub config for `servers` ({name: {url} | {command, args}}). */
function mcpHubDir(servers) {
  const dir = scratch('mcp-hub');
  writeFileSync(path.join(dir, 'mcp-hub.json'), JSON.stringify({ mcpServers: servers }, null, 2));
  return dir;
}

/**
 * mcp-hub (npm), which serves the legacy SSE transport only (GET /mcp, POST /messages).
 * It has no host option and binds every interface: it is forced to 127.0.0.1 by a
 * preloaded module. Its state and cache folders are pointed at the run's temp folder.
 */
export async function startMcpHub(servers, { readyTimeoutMs = 60_000, expectServers, waitReady = true } = {}) {
  const dir = mcpHubDir(servers);
  const port = await freePort();
  const env = {
    ...process.env,
    HOME: dir,
    XDG_STATE_HOME: path.join(dir, 'state'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
    XDG_CACHE_HOME: path.join(dir, 'cache'),
    XDG_DATA_HOME: path.join(dir, 'data'),
  };
  const started = Date.now();
  const child = start(
    NODE,
    [
      '--require',
      path.join(here, 'loopback.cjs'),
      path.join(BENCH, 'node_modules', 'mcp-hub', 'dist', 'cli.js'),
      '--port',
      String(port),
      '--config',
      path.join(dir, 'mcp-hub.json'),
    ],
    { logFile: path.join(dir, 'mcp-hub.log'), env, stdin: 'ignore', stdout: fd(path.join(dir, 'mcp-hub.out')) },
  );
  const base = `http://127.0.0.1:${port}`;
  const want = expectServers ?? Object.keys(servers).length;
  await waitFor(
    async () => {
      const health = await (await fetch(`${base}/api/health`)).json();
      if (!waitReady) return true;
      const connected = (health.servers ?? []).filter((s) => s.status === 'connected').length;
      return health.state === 'ready' && connected >= want;
    },
    { timeoutMs: readyTimeoutMs, everyMs: 100, what: 'mcp-hub ready' },
  );
  const logFile = path.join(dir, 'mcp-hub.log');
  return {
    child,
    pid: child.pid,
    base,
    dir,
    logFile,
    started,
    readyMs: Date.now() - started,
    close: () => stop(child),
  };
}

export async function mcpHubHttp(upstream, { connections, sessions }) {
  const hub = await startMcpHub({ echo: { url: upstream.url } });
  const client = new LegacySse(`${hub.base}/mcp`, { connections });
  const opened = [];
  for (let i = 0; i < sessions; i++) opened.push(await client.open());
  const list = await client.request(opened[0], 'tools/list', {});
  const tool = await findTool(async () => list.result);
  const callers = opened.map((s) => client.echoCaller(s, tool));
  return {
    name: 'mcp-hub (SSE)',
    pid: hub.pid,
    logFile: hub.logFile,
    upstreamPid: () => upstream.pid,
    tool,
    callers: (inflight) => callers.slice(0, Math.max(1, Math.min(inflight, callers.length))),
    close: async () => {
      await client.close();
      await hub.close();
    },
  };
}

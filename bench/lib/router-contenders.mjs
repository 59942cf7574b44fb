// Contenders of scenario 6 (the model router): the lean fake OpenAI provider, direct
// calls to it, Switchboard's `switchboard__sample` over stdio, and the Portkey gateway
// (npm @portkey-ai/gateway) in front of the same provider.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetch } from 'undici';
import { BENCH, runDir, switchboardBin } from './contenders.mjs';
import { OpenAiClient } from './openai-client.mjs';
import { freePort, start, stop, waitFor } from './proc.mjs';
import { StdioRpc } from './stdio-client.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const NODE = process.execPath;

/** The fake provider, one process; `baseUrl` is what an OpenAI client is given. */
export async function fakeProvider() {
  const child = start(NODE, [path.join(here, 'fake-openai.mjs')], { logFile: path.join(runDir(), 'fake-openai.log') });
  const port = await new Promise((resolve, reject) => {
    let text = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      text += chunk;
      const match = /port (\d+)/.exec(text);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`the fake provider exited with ${code} before listening`)));
  });
  return { pid: child.pid, baseUrl: `http://127.0.0.1:${port}/v1`, close: () => stop(child) };
}

/** Calls straight to the provider: the baseline. `mode`: 'plain' or 'stream'. */
export function directProvider(provider, { name, mode, model = 'ok', connections = 32 }) {
  const client = new OpenAiClient(provider.baseUrl, { connections });
  const call = mode === 'stream' ? client.streamCaller(model) : client.plainCaller(model);
  return {
    name,
    pid: undefined,
    upstreamPid: () => provider.pid,
    tool: `POST /v1/chat/completions (${mode}, model ${model})`,
    callers: () => [call],
    close: () => client.close(),
  };
}

/**
 * Switchboard over stdio with a `models` section pointing at the fake provider. Routes:
 * `plain` (one healthy target) and `failover` (a target that answers 503, then the
 * healthy one). The circuit breaker is set so that it never opens: every call through
 * `failover` pays the failed round trip, which is what is measured. Audit on, and a
 * policy that allows the sample tool and names its routes. `nodeFlags` go to node
 * (e.g. --cpu-prof).
 */
export async function switchboardRouter(provider, { nodeFlags = [] } = {}) {
  const dir = mkdtempSync(path.join(runDir(), 'switchboard-router-'));
  mkdirSync(path.join(dir, 'policies'));
  writeFileSync(
    path.join(dir, 'policies', 'default.json'),
    JSON.stringify({ allow: ['switchboard__sample'], models: { routes: ['plain', 'failover'] } }, null, 2),
  );
  const config = {
    mcpServers: {},
    models: {
      providers: { fake: { type: 'openai', baseUrl: provider.baseUrl, apiKey: 'sk-bench-0123456789' } },
      prices: { 'fake/ok': { input: 1, output: 5 }, 'fake/down': { input: 1, output: 5 } },
      routes: { plain: ['fake/ok'], failover: ['fake/down', 'fake/ok'] },
    },
    gateway: {
      maxConcurrentCallsPerAgent: 1024,
      audit: { enabled: true },
      router: { breaker: { failureThreshold: 1_000_000_000, errorRate: 1, minCalls: 1_000_000_000 } },
    },
  };
  writeFileSync(path.join(dir, 'servers.json'), JSON.stringify(config, null, 2));
  const child = start(
    NODE,
    [
      ...nodeFlags,
      switchboardBin(),
      'serve',
      '--config',
      path.join(dir, 'servers.json'),
      '--db',
      path.join(dir, 'switchboard.db'),
    ],
    { logFile: path.join(dir, 'gateway.log') },
  );
  const rpc = new StdioRpc(child);
  await rpc.initialize();
  const tools = (await rpc.request('tools/list', {})).result?.tools ?? [];
  if (!tools.some((t) => t.name === 'switchboard__sample')) {
    throw new Error(`switchboard__sample is not listed (${tools.map((t) => t.name).join(', ') || 'no tools'})`);
  }
  const caller = (route) => {
    const args = { messages: [{ role: 'user', content: { type: 'text', text: 'Say hi' } }], maxTokens: 16, route };
    const tail = `,"method":"tools/call","params":${JSON.stringify({ name: 'switchboard__sample', arguments: args })}}\n`;
    return async () => {
      const id = rpc.nextId++;
      const reply = await rpc.send(id, '{"jsonrpc":"2.0","id":' + id + tail);
      const result = reply.result;
      return result?.isError !== true && result?.content?.[0]?.text === 'hello from ok';
    };
  };
  // One check call per route, so that a broken setup fails here with its reason.
  for (const route of ['plain', 'failover']) {
    const reply = await rpc.request('tools/call', {
      name: 'switchboard__sample',
      arguments: { messages: [{ role: 'user', content: { type: 'text', text: 'Say hi' } }], maxTokens: 16, route },
    });
    if (reply.result?.content?.[0]?.text !== 'hello from ok') {
      throw new Error(`switchboard__sample on route ${route}: ${JSON.stringify(reply.result ?? reply.error)}`);
    }
  }
  const target = (name, route) => ({
    name,
    pid: child.pid,
    upstreamPid: () => provider.pid,
    tool: `switchboard__sample (route ${route})`,
    logFile: path.join(dir, 'gateway.log'),
    callers: () => [caller(route)],
    close: async () => undefined,
  });
  return { pid: child.pid, dir, target, close: () => stop(child) };
}

/**
 * The Portkey gateway (node build/start-server.js --headless) with its servers forced
 * onto 127.0.0.1 and every outgoing connection beyond this machine refused
 * (offline.cjs). It is driven with the same lean client as the direct baseline, with
 * the provider named in headers (`x-portkey-provider`, `x-portkey-custom-host`) or a
 * fallback config (`x-portkey-config`).
 */
export async function portkeyGateway(provider, { readyTimeoutMs = 60_000 } = {}) {
  const dir = mkdtempSync(path.join(runDir(), 'portkey-'));
  const entry = path.join(BENCH, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
  const port = await freePort();
  const logFile = path.join(dir, 'portkey.log');
  const child = start(NODE, ['--require', path.join(here, 'offline.cjs'), entry, `--port=${port}`, '--headless'], {
    logFile,
    stdin: 'ignore',
    stdout: 'ignore',
    cwd: dir,
    env: { ...process.env, HOME: dir, NODE_ENV: 'production', PORT: String(port) },
  });
  const exited = new Promise((_, reject) =>
    child.once('exit', (code) => reject(new Error(`Portkey exited with ${code}; see ${logFile}`))),
  );
  exited.catch(() => undefined);
  const base = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([
      waitFor(async () => (await fetch(`${base}/`)).ok, { timeoutMs: readyTimeoutMs, everyMs: 100, what: 'Portkey /' }),
      exited,
    ]);
  } catch (error) {
    await stop(child);
    throw new Error(`Portkey did not start: ${error.message ?? error} (log: ${logFile})`);
  }
  const single = { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': provider.baseUrl };
  const target = (model) => ({
    provider: 'openai',
    api_key: 'sk-bench-0123456789',
    custom_host: provider.baseUrl,
    override_params: { model },
  });
  const fallback = {
    'x-portkey-config': JSON.stringify({ strategy: { mode: 'fallback' }, targets: [target('down'), target('ok')] }),
  };
  const clients = [];
  const contender = (name, { mode, headers, model = 'ok' }) => {
    const client = new OpenAiClient(`${base}/v1`, { connections: 32, headers });
    clients.push(client);
    const call = mode === 'stream' ? client.streamCaller(model) : client.plainCaller(model);
    return {
      name,
      pid: child.pid,
      upstreamPid: () => provider.pid,
      tool: `POST /v1/chat/completions through Portkey (${mode})`,
      logFile,
      callers: () => [call],
      close: async () => undefined,
    };
  };
  // One check call each, so that a broken setup fails here with Portkey's own answer.
  for (const [what, headers] of [
    ['single', single],
    ['fallback', fallback],
  ]) {
    const check = new OpenAiClient(`${base}/v1`, { headers });
    const { statusCode, body } = await check.post(
      JSON.stringify({ model: 'ok', messages: [{ role: 'user', content: 'Say hi' }], max_tokens: 16 }),
    );
    const text = await body.text();
    await check.close();
    if (statusCode !== 200 || !text.includes('hello from ok')) {
      await stop(child);
      throw new Error(`Portkey (${what}) answered ${statusCode}: ${text.slice(0, 300)} (log: ${logFile})`);
    }
  }
  // Streaming is checked apart: when it fails, the plain and failover figures still stand.
  const probe = new OpenAiClient(`${base}/v1`, { headers: single });
  const streamed = await probe
    .streamCaller('ok')()
    .catch((error) => ({ ok: false, error }));
  await probe.close();
  const said = () =>
    readFileSync(logFile, 'utf8')
      .split('\n')
      .find((line) => /error/i.test(line)) ?? 'nothing logged';
  const streamError = streamed.ok
    ? undefined
    : `a streamed request failed (${streamed.error?.message ?? 'HTTP error or no [DONE]'}); Portkey logged: ${said().trim().slice(0, 200)}`;
  return {
    pid: child.pid,
    logFile,
    streamError,
    plain: () => contender('Portkey', { mode: 'plain', headers: single }),
    stream: () => contender('Portkey', { mode: 'stream', headers: single }),
    failover: () => contender('Portkey (fallback: 503, then ok)', { mode: 'plain', headers: fallback }),
    close: async () => {
      for (const c of clients) await c.close();
      await stop(child);
    },
  };
}

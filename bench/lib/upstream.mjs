#!/usr/bin/env node
// The upstream MCP server every contender talks to: raw JSON-RPC with a trivial `echo`
// tool, so that its own cost is tiny and the same for everyone in front of it.
//
//   node upstream.mjs                 stdio, one tool `echo`
//   node upstream.mjs --tools 10      stdio, tools t0..t9 (plus echo)
//   node upstream.mjs --http 0        streamable HTTP on 127.0.0.1 (stateless, JSON
//                                     responses); prints `port <n>` on stdout
//   node upstream.mjs --hang          accepts the connection and never answers
//
// It speaks the 2025-11-25 era: `server/discover` (the 2026 era's probe) is answered
// "method not found", so clients of both SDK lines fall back to `initialize`.
import { Buffer } from 'node:buffer';
import { createServer } from 'node:http';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name, fallback) => {
  const at = argv.indexOf(name);
  return at === -1 ? fallback : argv[at + 1];
};

const hang = flag('--hang');
const toolCount = Number(option('--tools', '0'));
const httpPort = option('--http', undefined);
const prefix = option('--prefix', 't');

const SCHEMA = { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] };
const tools = [
  { name: 'echo', description: 'Returns its text.', inputSchema: SCHEMA, annotations: { readOnlyHint: true } },
];
for (let i = 0; i < toolCount; i++) {
  tools.push({
    name: `${prefix}${i}`,
    description: `Tool ${i} of a server that has many; returns its text.`,
    inputSchema: SCHEMA,
    annotations: { readOnlyHint: true },
  });
}
const SUPPORTED = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];

/** The answer to one message, as a string, or undefined for a notification. */
function answer(message) {
  const { id, method, params } = message;
  if (id === undefined || id === null) return undefined;
  let result;
  switch (method) {
    case 'tools/call': {
      const text = params?.arguments?.text;
      result = { content: [{ type: 'text', text: typeof text === 'string' ? text : '' }] };
      break;
    }
    case 'ping':
      result = {};
      break;
    case 'tools/list':
      result = { tools };
      break;
    case 'prompts/list':
      result = { prompts: [] };
      break;
    case 'resources/list':
      result = { resources: [] };
      break;
    case 'resources/templates/list':
      result = { resourceTemplates: [] };
      break;
    case 'initialize': {
      const asked = params?.protocolVersion;
      result = {
        protocolVersion: SUPPORTED.includes(asked) ? asked : SUPPORTED[0],
        capabilities: { tools: {} },
        serverInfo: { name: 'bench-echo', version: '1.0.0' },
      };
      break;
    }
    default:
      return JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32601, message: `Method not found: ${method}` } });
  }
  return JSON.stringify({ jsonrpc: '2.0', id, result });
}

function serveStdio() {
  let buffer = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    if (hang) return;
    buffer += chunk;
    let out = '';
    let newline;
    while ((newline = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.trim() === '') continue;
      let reply;
      try {
        reply = answer(JSON.parse(line));
      } catch {
        reply = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
      }
      if (reply !== undefined) out += reply + '\n';
    }
    // Everything answerable in this chunk goes out in one write.
    if (out) process.stdout.write(out);
  });
  process.stdin.on('end', () => process.exit(0));
}

function serveHttp(port) {
  const server = createServer({ keepAliveTimeout: 120_000 }, (req, res) => {
    if (hang) return; // the connection stays open and nothing ever comes back
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      let reply;
      try {
        reply = answer(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }));
        return;
      }
      if (reply === undefined) {
        res.writeHead(202).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) });
      res.end(reply);
    });
  });
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  server.listen(Number(port), '127.0.0.1', () => {
    process.stdout.write(`port ${server.address().port}\n`);
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

if (httpPort !== undefined) serveHttp(httpPort);
else serveStdio();

#!/usr/bin/env node
// A bare SDK proxy: what anyone gets by putting the official SDK's server in front of
// its client (v2 line, the one Switchboard is built on) with nothing else — no policy,
// no audit, no renaming. tools/list and tools/call are forwarded with the SDK's own
// client methods, which validate results as any SDK user's would.
//
//   node sdk-proxy.mjs [--http-port N] [--upstream-url URL] -- <command> [args…]
//
// Downstream: stdio by default, or streamable HTTP on 127.0.0.1:N (2025-11-25
// sessions). Upstream: the given stdio command, or the streamable HTTP URL.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Server } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';

const argv = process.argv.slice(2);
const dashes = argv.indexOf('--');
const own = dashes === -1 ? argv : argv.slice(0, dashes);
const [command, ...args] = dashes === -1 ? [] : argv.slice(dashes + 1);
const option = (name) => {
  const at = own.indexOf(name);
  return at === -1 ? undefined : own[at + 1];
};
const httpPort = option('--http-port');
const upstreamUrl = option('--upstream-url');

const client = new Client({ name: 'bare-sdk-proxy', version: '1.0.0' });
await client.connect(
  upstreamUrl
    ? new StreamableHTTPClientTransport(new URL(upstreamUrl))
    : new StdioClientTransport({ command, args, stderr: 'inherit' }),
);

function newServer() {
  const server = new Server({ name: 'bare-sdk-proxy', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler('tools/list', (request) => client.listTools(request.params));
  server.setRequestHandler('tools/call', (request) => client.callTool(request.params));
  return server;
}

if (httpPort === undefined) {
  await newServer().connect(new StdioServerTransport());
  process.stdin.on('end', () => process.exit(0));
} else {
  const sessions = new Map();
  const http = createServer(async (req, res) => {
    const id = req.headers['mcp-session-id'];
    let transport = typeof id === 'string' ? sessions.get(id) : undefined;
    if (!transport) {
      if (id !== undefined) {
        res.writeHead(404).end();
        return;
      }
      transport = new NodeStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => sessions.set(sid, transport),
        onsessionclosed: (sid) => sessions.delete(sid),
      });
      await newServer().connect(transport);
    }
    await transport.handleRequest(req, res);
  });
  http.keepAliveTimeout = 120_000;
  http.listen(Number(httpPort), '127.0.0.1', () => process.stdout.write(`port ${http.address().port}\n`));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

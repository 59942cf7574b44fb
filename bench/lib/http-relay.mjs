#!/usr/bin/env node
// The floor of one extra HTTP hop in Node: a server that forwards each request, method,
// path, headers and body, to the upstream over keep-alive connections (undici, as
// Switchboard's own HTTP client), and streams the answer back, understanding nothing.
// It is not an MCP proxy (it would pass a session id it never saw issued); it is what
// any Node gateway pays for the HTTP server, the HTTP client and the second socket.
//   node http-relay.mjs --port 0 --upstream-url http://127.0.0.1:N/mcp
// Prints `port <n>` on stdout once it listens.
import { createServer } from 'node:http';
import { Pool } from 'undici';

const argv = process.argv.slice(2);
const option = (name) => {
  const at = argv.indexOf(name);
  return at === -1 ? undefined : argv[at + 1];
};
const upstream = new URL(option('--upstream-url'));
const pool = new Pool(upstream.origin, { connections: 128, pipelining: 1, keepAliveTimeout: 120_000 });
// Hop-by-hop headers stay on their own hop.
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'upgrade']);

const server = createServer((req, res) => {
  const headers = {};
  for (const [name, value] of Object.entries(req.headers)) if (!HOP.has(name)) headers[name] = value;
  pool
    .request({ path: req.url, method: req.method, headers, body: req.method === 'GET' ? undefined : req })
    .then(({ statusCode, headers: answer, body }) => {
      const out = {};
      for (const [name, value] of Object.entries(answer)) if (!HOP.has(name)) out[name] = value;
      res.writeHead(statusCode, out);
      body.pipe(res);
    })
    .catch((error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(error?.message ?? error));
    });
});
server.keepAliveTimeout = 125_000;
server.listen(Number(option('--port') ?? 0), '127.0.0.1', () => {
  process.stdout.write(`port ${server.address().port}\n`);
});
// Exit cleanly on a stop, so that a --cpu-prof profile is written.
process.on('SIGTERM', () => process.exit(0));

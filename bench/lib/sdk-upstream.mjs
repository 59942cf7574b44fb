#!/usr/bin/env node
// The same `echo` upstream built the way most MCP servers are: the official SDK's
// McpServer (v1 line) over stdio. Its own cost per call is far higher than the raw
// upstream's, which is what real servers look like; scenario 1b uses it to show how a
// gateway's share of the total changes when the server behind it does real work.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'bench-echo-sdk', version: '1.0.0' });
server.registerTool(
  'echo',
  { description: 'Returns its text.', inputSchema: { text: z.string() }, annotations: { readOnlyHint: true } },
  async ({ text }) => ({ content: [{ type: 'text', text }] }),
);
await server.connect(new StdioServerTransport());
process.stdin.on('end', () => process.exit(0));

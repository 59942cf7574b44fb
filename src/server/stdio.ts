import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { errorMessage } from '../errors.js';
import type { Runtime } from './runtime.js';
import { DownstreamSession } from './session.js';
import { FastCalls } from './fast-call.js';
import { GuardedStdioTransport } from './stdio-transport.js';

/**
 * The stdio front door: one client on this process's stdin/stdout, in whichever era
 * its first message speaks. Stdout carries only MCP frames. `closed` resolves when
 * the client goes away (stdin ends).
 */
export function startStdio(
  runtime: Runtime,
  agent: string,
): { closed: Promise<void>; stopAccepting(): void; close(): Promise<void> } {
  let session: DownstreamSession | undefined;
  let fast: FastCalls | undefined;
  // The fast path for tools/call (fast-call.ts) is on unless SWITCHBOARD_FAST_PATH=off: a
  // way out should it ever answer differently from the SDK path.
  const fastPath = process.env.SWITCHBOARD_FAST_PATH !== 'off';
  const transport = new GuardedStdioTransport(runtime.config.gateway.maxBodyBytes);
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const handle = serveStdio(
    ({ era }) => {
      session = new DownstreamSession(runtime, { agent, transport: 'stdio', era });
      runtime.sessions.add(session);
      if (fastPath) {
        const calls = (fast = new FastCalls(session, 'stdio'));
        const send = (message: JSONRPCMessage) => transport.send(message);
        transport.intercept = (message) => calls.take(message, send);
      }
      session.server.onclose = () => {
        fast?.abortAll();
        resolveClosed();
      };
      return session.server;
    },
    {
      transport,
      onerror: (error) => runtime.log.debug('stdio error', { error: errorMessage(error) }),
    },
  );
  process.stdin.once('end', () => resolveClosed());
  process.stdin.once('close', () => resolveClosed());
  return {
    closed,
    // One client, already connected: there is nothing new to refuse.
    stopAccepting: () => undefined,
    close: async () => {
      fast?.abortAll();
      if (session) await runtime.closeSession(session);
      await handle.close().catch(() => undefined);
    },
  };
}

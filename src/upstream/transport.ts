import path from 'node:path';
import { SSEClientTransport, StreamableHTTPClientTransport, type Transport } from '@modelcontextprotocol/client';
import type { ServerConfig } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import { limitedFetch } from './message-limit.js';
import { ownSignalFetch } from './own-signal-fetch.js';
import { StdioUpstreamTransport } from './stdio-transport.js';

/** A value that reads like a relative path ("./data", "../x") is made absolute against the config folder. */
function resolveRelative(value: string, dir: string): string {
  return value.startsWith('./') || value.startsWith('../') ? path.resolve(dir, value) : value;
}

/** Builds the client transport a server entry asks for. Nothing is started yet. */
export function createTransport(
  config: ServerConfig,
  configDir: string,
  log: Logger,
  limits: { maxMessageBytes: number },
): Transport {
  if ('command' in config) {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(config.env)) env[key] = resolveRelative(value, configDir);
    return new StdioUpstreamTransport(
      {
        command: config.command,
        args: config.args.map((arg) => resolveRelative(arg, configDir)),
        cwd: config.cwd ?? configDir,
        env,
        maxMessageBytes: limits.maxMessageBytes,
      },
      log,
    );
  }
  const url = new URL(config.url);
  const headers = config.headers;
  // Bodies and events over gateway.maxResultBytes are not read on (message-limit.ts).
  const limited = limitedFetch(limits.maxMessageBytes, (bytes) =>
    log.warn('skipped an oversized message', { bytes, limit: limits.maxMessageBytes }),
  );
  if (config.type === 'sse') {
    // The SSE GET is made by the EventSource, which takes its headers from a custom fetch.
    const fetchWithHeaders: typeof fetch = (input, init) =>
      limited(input, { ...init, headers: { ...(init?.headers as Record<string, string> | undefined), ...headers } });
    return new SSEClientTransport(url, {
      requestInit: { headers },
      eventSourceInit: { fetch: fetchWithHeaders },
      fetch: ownSignalFetch(limited),
    });
  }
  // Each request gets its own AbortSignal (see own-signal-fetch.ts): the SDK shares one.
  return new StreamableHTTPClientTransport(url, { requestInit: { headers }, fetch: ownSignalFetch(limited) });
}

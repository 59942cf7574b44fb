import { loadConfig, type LoadedConfig } from './config/index.js';
import { errorMessage } from './errors.js';
import { createLogger, parseLogLevel, type Logger } from './observability/index.js';
import { Runtime, startHttp, startStdio } from './server/index.js';

/**
 * The composition root: builds the gateway from its config and wires the stages.
 * Nothing else constructs runtimes or front doors.
 */
export interface ServeOptions {
  config: string;
  transport: 'stdio' | 'http';
  host: string;
  port: number;
  agent: string;
}

export function gatewayLogger(config: LoadedConfig | undefined): Logger {
  const level = parseLogLevel(process.env.SWITCHBOARD_LOG_LEVEL) ?? config?.gateway.logLevel ?? 'info';
  const format = process.env.SWITCHBOARD_LOG_FORMAT === 'json' ? 'json' : 'text';
  return createLogger({ level, format });
}

/** Builds a runtime for a loaded config; the caller starts and closes it. */
export function createRuntime(config: LoadedConfig, log: Logger): Runtime {
  return new Runtime(config, log);
}

/** Runs the gateway until a signal (or, over stdio, the client leaving) stops it. */
export async function serve(options: ServeOptions): Promise<void> {
  const config = loadConfig(options.config);
  const log = gatewayLogger(config);
  const runtime = createRuntime(config, log);
  void runtime.start();

  let stop: () => Promise<void>;
  let stopped: Promise<void>;
  if (options.transport === 'http') {
    const door = await startHttp(runtime, { host: options.host, port: options.port, agent: options.agent });
    process.stderr.write(
      `Switchboard is listening on ${door.url}\n` +
        `  upstreams: ${[...runtime.pool.upstreams.keys()].join(', ') || '(none)'}\n` +
        `  connect an MCP client to ${door.url} (streamable HTTP), or check ${door.url.replace(/\/mcp$/, '/healthz')}\n`,
    );
    stop = door.close;
    stopped = new Promise(() => undefined);
  } else {
    const door = startStdio(runtime, options.agent);
    stop = door.close;
    stopped = door.closed;
  }

  const signalled = new Promise<string>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(signal));
  });
  const reason = await Promise.race([stopped.then(() => 'client closed stdin'), signalled]);
  log.info('shutting down', { reason });
  try {
    await stop();
    await runtime.close();
  } catch (error) {
    log.error('error during shutdown', { error: errorMessage(error) });
  }
}

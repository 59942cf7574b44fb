import type { ChildProcess } from 'node:child_process';
import { BIN } from './paths.js';
import { freePort, startProcess } from './processes.js';

const logLevel = () => process.env.SWITCHBOARD_TEST_LOG_LEVEL ?? 'warn';

/** The `stdio` target that starts a gateway process per client. */
export function gatewayStdio(configFile: string, extraArgs: string[] = []) {
  return {
    stdio: {
      command: process.execPath,
      args: [BIN, 'serve', '--config', configFile, ...extraArgs],
      env: { SWITCHBOARD_LOG_LEVEL: logLevel() },
    },
  };
}

/** Starts `switchboard serve --transport http` on a free loopback port. */
export async function startGatewayHttp(
  configFile: string,
  extraArgs: string[] = [],
  env: Record<string, string> = {},
): Promise<{ url: string; base: string; child: ChildProcess; output: () => string }> {
  const port = await freePort();
  const { child, match, output } = await startProcess(
    process.execPath,
    [BIN, 'serve', '--transport', 'http', '--port', String(port), '--config', configFile, ...extraArgs],
    { ready: /listening on (http:\/\/\S+\/mcp)/, env: { SWITCHBOARD_LOG_LEVEL: logLevel(), ...env } },
  );
  const url = match[1]!;
  return { url, base: url.replace(/\/mcp$/, ''), child, output };
}

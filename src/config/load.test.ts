import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { RouterSettingsSchema } from '../routing/index.js';
import { ConfigError, loadConfig, parseConfig } from './load.js';

const FILE = path.resolve('/srv/app/servers.json');
const DIR = path.dirname(FILE);

function parse(config: unknown, env: NodeJS.ProcessEnv = {}) {
  return parseConfig(typeof config === 'string' ? config : JSON.stringify(config), FILE, env);
}

/** The issue lines of the ConfigError that parsing `config` fails with. */
function issues(config: unknown, env: NodeJS.ProcessEnv = {}): readonly string[] {
  try {
    parse(config, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toBeInstanceOf(GatewayError);
    const configError = error as ConfigError;
    expect(configError.code).toBe('config_invalid');
    expect(configError.message).toBe(configError.issues.join('\n'));
    return configError.issues;
  }
  throw new Error('expected parseConfig to fail');
}

describe('parseConfig: valid files', () => {
  it('fills in defaults for a stdio server and resolves cwd to the config folder', () => {
    const config = parse({ mcpServers: { files: { command: 'npx', args: ['-y', 'server'] } } });
    expect(config.file).toBe(FILE);
    expect(config.dir).toBe(DIR);
    expect(config.models).toBeUndefined();
    expect(config.servers.get('files')).toEqual({
      command: 'npx',
      args: ['-y', 'server'],
      env: {},
      cwd: DIR,
      enabled: true,
      timeoutMs: 60_000,
      maxTotalTimeoutMs: 600_000,
      readOnlyTools: [],
      trustAnnotations: true,
      isolation: 'shared',
      sampling: 'client',
      pinning: 'quarantine',
      auditResults: false,
    });
  });

  it('fills in defaults for a remote server', () => {
    const config = parse({ mcpServers: { api: { type: 'http', url: 'https://mcp.example.com/mcp' } } });
    expect(config.servers.get('api')).toEqual({
      type: 'http',
      url: 'https://mcp.example.com/mcp',
      headers: {},
      enabled: true,
      timeoutMs: 60_000,
      maxTotalTimeoutMs: 600_000,
      readOnlyTools: [],
      trustAnnotations: true,
      isolation: 'shared',
      sampling: 'client',
      pinning: 'quarantine',
      auditResults: false,
    });
  });

  it('fills in gateway defaults', () => {
    expect(parse({}).gateway).toEqual({
      logLevel: 'info',
      pageSize: 500,
      connectTimeoutMs: 30_000,
      startupGraceMs: 5_000,
      approvalTimeoutMs: 120_000,
      maxConcurrentCallsPerAgent: 64,
      shutdownGraceMs: 10_000,
      maxBodyBytes: 4 * 1024 * 1024,
      maxResultBytes: 32 * 1024 * 1024,
      sessionIdleMs: 30 * 60_000,
      headersTimeoutMs: 10_000,
      audit: { enabled: true, onFailure: 'refuse', maxArgsBytes: 8192 },
      allowedOrigins: [],
      allowedHosts: [],
      router: RouterSettingsSchema.parse({}),
    });
    expect(parse({}).servers.size).toBe(0);
  });

  it('resolves a relative cwd and a command with a slash against the config folder', () => {
    const config = parse({
      mcpServers: {
        local: { command: './bin/server', cwd: 'data' },
        onPath: { command: 'node', cwd: '../other' },
        absolute: { command: '/usr/bin/env', cwd: '/var/tmp' },
        nested: { command: 'tools/run.sh' },
      },
    });
    expect(config.servers.get('local')).toMatchObject({
      command: path.join(DIR, 'bin/server'),
      cwd: path.join(DIR, 'data'),
    });
    expect(config.servers.get('onPath')).toMatchObject({ command: 'node', cwd: path.resolve(DIR, '../other') });
    expect(config.servers.get('absolute')).toMatchObject({ command: '/usr/bin/env', cwd: '/var/tmp' });
    expect(config.servers.get('nested')).toMatchObject({ command: path.join(DIR, 'tools/run.sh'), cwd: DIR });
  });

  it('keeps explicit values over defaults', () => {
    const config = parse({
      mcpServers: {
        x: { command: 'a', enabled: false, timeoutMs: 5, isolation: 'session', sampling: 'deny', pinning: 'warn' },
      },
    });
    expect(config.servers.get('x')).toMatchObject({
      enabled: false,
      timeoutMs: 5,
      isolation: 'session',
      sampling: 'deny',
      pinning: 'warn',
    });
  });

  it('substitutes ${VAR} and uses ${VAR:-default} when the variable is unset', () => {
    const config = parse(
      {
        mcpServers: {
          gh: { command: 'gh-mcp', env: { TOKEN: '${GH_TOKEN}' }, args: ['--port', '${PORT:-3000}'] },
        },
      },
      { GH_TOKEN: 'ghp_123' },
    );
    expect(config.servers.get('gh')).toMatchObject({ env: { TOKEN: 'ghp_123' }, args: ['--port', '3000'] });
  });
});

describe('parseConfig: errors, one line per problem', () => {
  it('reports bad JSON with line and column', () => {
    const text = '{\n  "mcpServers": {\n    "x": { "command": "a" "args": [] }\n  }\n}';
    expect(issues(text)).toEqual(["servers.json:3:27: invalid JSON: Expected ',' or '}' after property value"]);
  });

  // Node 20's "Unexpected token" messages carry no position and quote the source with its
  // newlines: the loader finds the position itself and keeps the line single.
  it('reports bad JSON with line and column for an unexpected token', () => {
    const text = '{\n  "mcpServers": {\n    "x": { "command": \'a\' }\n  }\n}';
    const [line, ...rest] = issues(text);
    expect(rest).toEqual([]);
    expect(line).toMatch(/^servers\.json:3:23: invalid JSON: [^\n]+$/);
  });

  it('reports a missing variable once, without a follow-on schema error', () => {
    expect(issues({ mcpServers: { x: { command: '${NOPE}' } } })).toEqual([
      'servers.json: mcpServers.x.command: environment variable NOPE is not set (write ${NOPE:-default} for a default)',
    ]);
  });

  it('says "expected array" for args given as a string', () => {
    expect(
      issues({ mcpServers: { files: { command: 'npx', args: '-y @modelcontextprotocol/server-filesystem' } } }),
    ).toEqual(['servers.json: mcpServers.files.args: Invalid input: expected array, received string']);
  });

  it('names the type field of an unknown transport', () => {
    expect(issues({ mcpServers: { x: { type: 'websocket', url: 'ws://127.0.0.1:1' } } })).toEqual([
      'servers.json: mcpServers.x.type: unknown transport "websocket" (expected "stdio", "http" or "sse")',
    ]);
  });

  it('asks for command or type when an entry has neither', () => {
    expect(issues({ mcpServers: { x: { url: 'https://example.com/mcp' } } })).toEqual([
      'servers.json: mcpServers.x: expected "command" (a stdio server) or "type": "http" | "sse" with a "url"',
    ]);
  });

  it('names the field and the variable of an undefined ${VAR}', () => {
    expect(issues({ mcpServers: { gh: { command: 'gh-mcp', env: { TOKEN: '${GH_TOKEN}' } } } })).toEqual([
      'servers.json: mcpServers.gh.env.TOKEN: environment variable GH_TOKEN is not set (write ${GH_TOKEN:-default} for a default)',
    ]);
  });

  it('rejects an invalid server name', () => {
    expect(issues({ mcpServers: { my_server: { command: 'a' } } })).toEqual([
      'servers.json: mcpServers.my_server: server names may contain only letters, digits and "-"',
    ]);
  });

  it('rejects the reserved server name "switchboard"', () => {
    expect(issues({ mcpServers: { switchboard: { command: 'a' } } })).toEqual([
      'servers.json: mcpServers.switchboard: "switchboard" is reserved for the gateway\'s own tools',
    ]);
  });

  it('rejects an unknown key in a server entry', () => {
    expect(issues({ mcpServers: { x: { command: 'a', arguments: ['b'] } } })).toEqual([
      'servers.json: mcpServers.x: Unrecognized key: "arguments"',
    ]);
  });

  it('rejects a server entry that is not an object', () => {
    expect(issues({ mcpServers: { x: 'npx server' } })).toEqual(['servers.json: mcpServers.x: expected an object']);
    expect(issues({ mcpServers: ['x'] })).toEqual(['servers.json: mcpServers: expected an object of servers by name']);
  });

  it('reports root and gateway problems with their paths', () => {
    expect(issues({ mcpServer: {}, gateway: { pageSize: 0 } })).toEqual([
      'servers.json: gateway.pageSize: Too small: expected number to be >=1',
      'servers.json: (root): Unrecognized key: "mcpServer"',
    ]);
    expect(issues([])).toEqual(['servers.json: (root): Invalid input: expected object, received array']);
  });

  it('reports every problem at once', () => {
    const lines = issues({
      mcpServers: {
        a: { command: 'a', args: 'x' },
        b: { type: 'websocket' },
        c_d: { command: 'c' },
        e: { type: 'http', url: '${URL}' },
      },
    });
    expect(lines).toEqual(
      expect.arrayContaining([
        'servers.json: mcpServers.e.url: environment variable URL is not set (write ${URL:-default} for a default)',
        'servers.json: mcpServers.a.args: Invalid input: expected array, received string',
        'servers.json: mcpServers.b.type: unknown transport "websocket" (expected "stdio", "http" or "sse")',
        'servers.json: mcpServers.c_d: server names may contain only letters, digits and "-"',
      ]),
    );
    for (const line of lines) expect(line).toMatch(/^servers\.json: [^\n]+$/);
  });
});

describe('loadConfig', () => {
  it('fails with a ConfigError naming the missing file', () => {
    const missing = path.join(tmpdir(), `switchboard-missing-${process.pid}`, 'servers.json');
    expect(() => loadConfig(missing, {})).toThrow(ConfigError);
    try {
      loadConfig(missing, {});
    } catch (error) {
      expect((error as ConfigError).issues).toEqual([`servers.json: file not found (looked for ${missing})`]);
    }
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import { connectClient } from '../helpers/clients.js';
import { gatewayStdio } from '../helpers/gateway.js';
import { BIN, EVERYTHING, tempDir, writeConfig } from '../helpers/paths.js';
import { killAll, runCommand } from '../helpers/processes.js';

const dir = tempDir();
afterAll(killAll);

describe('an upstream that fails to start', () => {
  const config = writeConfig(dir, {
    mcpServers: {
      everything: { command: 'node', args: [EVERYTHING, 'stdio'] },
      broken: { command: 'switchboard-no-such-command-xyz', args: [] },
      crashing: { command: 'node', args: ['-e', 'console.error("fatal: cannot open database"); process.exit(3)'] },
    },
  });

  it('does not keep the others from working', async () => {
    const client = await connectClient('v1', gatewayStdio(config));
    const names = (await client.listTools()).map((t) => t.name);
    expect(names).toContain('everything__echo');
    expect(names.some((n) => String(n).startsWith('broken__'))).toBe(false);
    expect(await client.callTool('everything__echo', { message: 'still here' })).toEqual({
      content: [{ type: 'text', text: 'Echo: still here' }],
    });
    await client.close();
  });

  it('is named by check, which exits non-zero', async () => {
    const { code, stdout } = await runCommand(process.execPath, [BIN, 'check', '--config', config]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/✓ everything/);
    expect(stdout).toMatch(/✗ broken\s+stdio\s+cannot start switchboard-no-such-command-xyz: spawn .*ENOENT/);
    expect(stdout).toMatch(/✗ crashing\s+stdio\s+.*fatal: cannot open database/);
    expect(stdout).toMatch(/2 of 3 upstream\(s\) failed/);
  });
});

describe('a broken servers.json', () => {
  const cases: [string, string, RegExp][] = [
    ['bad JSON', '{ "mcpServers": { "a": { "command": "x", } } }', /^servers\.json:1:\d+: invalid JSON: /],
    [
      'a wrong type',
      JSON.stringify({ mcpServers: { files: { command: 'node', args: 'server.js' } } }),
      /^servers\.json: mcpServers\.files\.args: .*expected array/,
    ],
    [
      'an unknown transport',
      JSON.stringify({ mcpServers: { remote: { type: 'websocket', url: 'ws://127.0.0.1:1' } } }),
      /^servers\.json: mcpServers\.remote\.type: unknown transport "websocket"/,
    ],
    [
      'an undefined variable',
      JSON.stringify({
        mcpServers: {
          remote: {
            type: 'http',
            url: 'http://127.0.0.1:1/mcp',
            headers: { Authorization: 'Bearer ${SWITCHBOARD_TEST_UNSET_TOKEN}' },
          },
        },
      }),
      /^servers\.json: mcpServers\.remote\.headers\.Authorization: environment variable SWITCHBOARD_TEST_UNSET_TOKEN is not set/,
    ],
  ];

  for (const [what, text, expected] of cases) {
    it(`with ${what}: one clear line naming file and field, exit 1`, async () => {
      const caseDir = tempDir();
      const file = writeConfig(caseDir, text);
      for (const command of ['check', 'serve']) {
        const { code, stderr } = await runCommand(process.execPath, [BIN, command, '--config', file], {
          timeoutMs: 10_000,
        });
        expect(code).toBe(1);
        const lines = stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(expected);
      }
    });
  }

  it('names a missing file', async () => {
    const { code, stderr } = await runCommand(process.execPath, [BIN, 'check', '--config', `${dir}/nope.json`]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/nope\.json: file not found/);
  });
});

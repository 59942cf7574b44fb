import { afterAll, describe, expect, it } from 'vitest';
import { connectClient } from '../helpers/clients.js';
import { gatewayStdio } from '../helpers/gateway.js';
import { BIN, RECORDER, tempDir, writeConfig } from '../helpers/paths.js';
import { killAll, runCommand } from '../helpers/processes.js';

/** Names that clients would reject (too long) or that collide after sanitising. */
const LONG = `a-very-long-tool-name-${'x'.repeat(70)}`;
const EXTRA = [LONG, `${LONG}-second`, 'read.file', 'read_file', 'read file'];
const dir = tempDir();
const config = writeConfig(dir, {
  mcpServers: { odd: { command: 'node', args: [RECORDER], env: { EXTRA_TOOLS: JSON.stringify(EXTRA) } } },
});

afterAll(killAll);

async function exposedNames(): Promise<{ name: string; upstreamName: string }[]> {
  const { code, stdout } = await runCommand(process.execPath, [BIN, 'tools', '--config', config, '--format', 'json']);
  expect(code).toBe(0);
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { name: string; server: string; upstreamName: string })
    .filter((tool) => tool.server === 'odd');
}

describe('long and colliding tool names', () => {
  it('come out valid, distinct and the same on every start', async () => {
    const first = await exposedNames();
    const second = await exposedNames();
    expect(second).toEqual(first);
    const names = first.map((t) => t.name);
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(new Set(names).size).toBe(names.length);
    expect(first.map((t) => t.upstreamName).sort()).toEqual(
      ['add-tool', 'crash', 'echo', 'fail', 'set-description', 'wait', ...EXTRA].sort(),
    );
    // The tool whose name needed no sanitising keeps the plain name.
    expect(first.find((t) => t.upstreamName === 'read_file')?.name).toBe('odd__read_file');
  });

  it('stay reachable: each exposed name calls its own upstream tool', async () => {
    const mapping = await exposedNames();
    const client = await connectClient('v1', gatewayStdio(config));
    for (const { name, upstreamName } of mapping.filter((t) => EXTRA.includes(t.upstreamName))) {
      const result = await client.callTool(name, {});
      expect(result.content).toEqual([{ type: 'text', text: `called ${upstreamName}` }]);
    }
    await client.close();
  });

  it('are reported by check', async () => {
    const { code, stdout } = await runCommand(process.execPath, [BIN, 'check', '--config', config]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/shortened\s+tool\s+odd\s+a-very-long-tool-name/);
    expect(stdout).toMatch(/collision\s+tool\s+odd\s+read\.file/);
  });
});

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const STARTER_SERVERS = {
  $schema: 'https://raw.githubusercontent.com/switchboard-mcp/switchboard/main/schema/servers.schema.json',
  mcpServers: {
    memory: {
      command: 'npx',
      args: ['-y', '@modelcontextprotocol/server-memory'],
      env: { MEMORY_FILE_PATH: './memory.jsonl' },
    },
    files: {
      command: 'npx',
      args: ['-y', '@modelcontextprotocol/server-filesystem', './sandbox'],
      readOnlyTools: ['read_*', 'list_*', 'search_files', 'get_file_info', 'directory_tree'],
    },
  },
};

const STARTER_POLICY = {
  allow: ['*'],
  deny: [],
};

export function claudeDesktopSnippet(configFile: string): string {
  return JSON.stringify(
    {
      mcpServers: {
        switchboard: { command: 'npx', args: ['switchboard', 'serve', '--config', path.resolve(configFile)] },
      },
    },
    null,
    2,
  );
}

/** `switchboard init`: writes a starter config and policy, and prints the Claude Desktop snippet. */
export function init(options: { dir: string; force: boolean }): number {
  const dir = path.resolve(options.dir);
  const serversFile = path.join(dir, 'servers.json');
  const policyFile = path.join(dir, 'policies', 'default.json');
  for (const file of [serversFile, policyFile]) {
    if (existsSync(file) && !options.force) {
      process.stderr.write(`${file} exists; pass --force to overwrite it\n`);
      return 1;
    }
  }
  mkdirSync(path.dirname(policyFile), { recursive: true });
  mkdirSync(path.join(dir, 'sandbox'), { recursive: true });
  writeFileSync(serversFile, JSON.stringify(STARTER_SERVERS, null, 2) + '\n');
  writeFileSync(policyFile, JSON.stringify(STARTER_POLICY, null, 2) + '\n');
  process.stdout.write(
    `Wrote ${serversFile}\nWrote ${policyFile}\n\n` +
      `Check it:   npx switchboard check --config ${serversFile}\n\n` +
      `Claude Desktop (claude_desktop_config.json):\n${claudeDesktopSnippet(serversFile)}\n`,
  );
  return 0;
}

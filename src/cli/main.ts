import { Command, InvalidArgumentError } from 'commander';
import { serve, type ServeOptions } from '../app.js';
import { ConfigError, configJsonSchema } from '../config/index.js';
import { errorMessage } from '../errors.js';
import { GATEWAY_VERSION } from '../server/index.js';
import { check } from './check.js';
import { init } from './init.js';
import { tools } from './tools.js';

/** Exit codes: 0 success, 1 a problem with the config or an upstream, 2 bad usage. */
const EXIT_USAGE = 2;

function choice<T extends string>(values: readonly T[]) {
  return (value: string): T => {
    if (!values.includes(value as T)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}`);
    return value as T;
  };
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number (0-65535)');
  return n;
}

async function run(action: () => Promise<number> | number): Promise<void> {
  try {
    process.exitCode = await action();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(error.issues.join('\n') + '\n');
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`switchboard: ${errorMessage(error)}\n`);
    process.exitCode = 1;
  }
}

const program = new Command('switchboard')
  .description('One MCP server in front of many: namespacing, policy, audit and model routing.')
  .version(GATEWAY_VERSION)
  .exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
  });

program
  .command('serve')
  .description('run the gateway')
  .option('--config <file>', 'servers.json to use', 'servers.json')
  .option('--transport <kind>', 'stdio or http', choice(['stdio', 'http'] as const), 'stdio' as const)
  .option('--host <host>', 'HTTP bind address', '127.0.0.1')
  .option('--port <port>', 'HTTP port', port, 7800)
  .option('--agent <name>', 'the agent a stdio client acts as (and an HTTP client without tokens)', 'default')
  .option('--policies <dir>', 'policy files folder (default: policies/ beside the config)')
  .option('--db <file>', 'SQLite database (default: switchboard.db beside the config)')
  .action((opts: ServeOptions) =>
    run(async () => {
      await serve(opts);
      return 0;
    }),
  );

program
  .command('tools')
  .description('connect and print the catalog one agent sees')
  .option('--config <file>', 'servers.json to use', 'servers.json')
  .option('--agent <name>', 'whose view to print', 'default')
  .option('--policies <dir>', 'policy files folder (default: policies/ beside the config)')
  .option('--format <format>', 'table or json', choice(['table', 'json'] as const), 'table' as const)
  .action((opts: { config: string; agent: string; policies?: string; format: 'table' | 'json' }) =>
    run(() => tools(opts)),
  );

program
  .command('check')
  .description('validate the config, connect to every upstream, report renamed tools')
  .option('--config <file>', 'servers.json to use', 'servers.json')
  .option('--policies <dir>', 'policy files folder (default: policies/ beside the config)')
  .option('--format <format>', 'text or json', choice(['text', 'json'] as const), 'text' as const)
  .action((opts: { config: string; policies?: string; format: 'text' | 'json' }) => run(() => check(opts)));

program
  .command('init')
  .description('write a starter servers.json and policies/default.json, print the Claude Desktop snippet')
  .option('--dir <dir>', 'where to write them', '.')
  .option('--force', 'overwrite existing files', false)
  .action((opts: { dir: string; force: boolean }) => run(() => init(opts)));

program
  .command('schema')
  .description('print the JSON Schema of servers.json (for editors)')
  .action(() => run(() => (process.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + '\n'), 0)));

await program.parseAsync(process.argv);

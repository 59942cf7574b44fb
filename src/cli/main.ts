import { Command, InvalidArgumentError } from 'commander';
import { serve, type ServeOptions } from '../app.js';
import { ConfigError, configJsonSchema } from '../config/index.js';
import { errorMessage } from '../errors.js';
import { GATEWAY_VERSION } from '../server/index.js';
import type { StatsKey } from '../audit/index.js';
import type { ApprovalStatus } from '../policy/index.js';
import { auditDupesCommand, auditList, auditStatsCommand, auditVerifyCommand, type AuditCliOptions } from './audit.js';
import { approvalsDecide, approvalsList } from './approvals.js';
import { check } from './check.js';
import type { DashboardOptions } from './dashboard.js';
import { init } from './init.js';
import { pinsApprove, pinsList } from './pins.js';
import { tools } from './tools.js';

/** Exit codes: 0 success, 1 a problem with the config or an upstream, 2 bad usage. */
const EXIT_USAGE = 2;

function choice<T extends string>(values: readonly T[]) {
  return (value: string): T => {
    if (!values.includes(value as T)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}`);
    return value as T;
  };
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
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

const auditCommand = program.command('audit').description('query the audit log (see `switchboard audit list --help`)');
/** `--config` and `--db`: which database a command reads. */
const withDatabase = (command: Command) =>
  command
    .option('--config <file>', 'servers.json whose database to read', 'servers.json')
    .option('--db <file>', 'the SQLite database (default: switchboard.db beside the config)');
const withFilters = (command: Command) =>
  withDatabase(command)
    .option('--agent <name>', 'only this agent')
    .option('--server <name>', 'only this upstream server')
    .option('--tool <glob>', 'only tools whose exposed name matches (files__*)')
    .option(
      '--status <status>',
      'ok, error, denied, quota, approval_denied, timeout, cancelled, unavailable, interrupted',
    )
    .option('--since <time>', 'from 30m, 1h, 2d ago or an ISO time')
    .option('--until <time>', 'up to 30m, 1h, 2d ago or an ISO time')
    .option('--limit <n>', 'at most this many rows', (v) => positiveInt(v));
const defaultFormat = process.stdout.isTTY ? 'table' : 'json';

withFilters(auditCommand.command('list', { isDefault: true }).description('print audit rows, newest last'))
  .option(
    '--format <format>',
    'table, json (one object a line) or csv',
    choice(['table', 'json', 'csv'] as const),
    defaultFormat,
  )
  .option('--follow', 'keep printing new rows as calls finish', false)
  .action((opts: AuditCliOptions & { format: 'table' | 'json' | 'csv'; follow: boolean }) =>
    run(() => auditList(opts)),
  );

withFilters(auditCommand.command('stats').description('count, errors, p50/p95 latency, tokens and cost per group'))
  .option(
    '--by <key>',
    'agent, server, tool, status or model',
    choice(['agent', 'server', 'tool', 'status', 'model'] as const),
    'tool',
  )
  .option('--format <format>', 'table, json or csv', choice(['table', 'json', 'csv'] as const), defaultFormat)
  .action((opts: AuditCliOptions & { by: StatsKey; format: 'table' | 'json' | 'csv' }) =>
    run(() => auditStatsCommand(opts)),
  );

withDatabase(
  auditCommand
    .command('verify')
    .description('check the hash chain; exit 1 and name the first bad row if the log was tampered with'),
)
  .option('--format <format>', 'text or json', choice(['text', 'json'] as const), 'text' as const)
  .action((opts: AuditCliOptions & { format: 'text' | 'json' }) => run(() => auditVerifyCommand(opts)));

withFilters(
  auditCommand.command('dupes').description('redundant calls: same agent, tool and arguments within a window'),
)
  .option('--window <duration>', 'how close repeats must be', '10s')
  .option(
    '--format <format>',
    'table or json',
    choice(['table', 'json'] as const),
    defaultFormat === 'table' ? 'table' : 'json',
  )
  .action((opts: AuditCliOptions & { window: string; format: 'table' | 'json' }) => run(() => auditDupesCommand(opts)));

const pinsCommand = program.command('pins').description('tool definitions that changed since they were approved');
withDatabase(
  pinsCommand.command('list', { isDefault: true }).description('list changed tool definitions with what changed'),
)
  .option('--format <format>', 'text or json', choice(['text', 'json'] as const), 'text' as const)
  .action((opts: { config: string; db?: string; format: 'text' | 'json' }) => run(() => pinsList(opts)));
withDatabase(
  pinsCommand
    .command('approve [name]')
    .description('accept the new definition of a tool (its exposed name), or of every changed tool with --all'),
)
  .option('--all', 'approve every pending change', false)
  .action((name: string | undefined, opts: { config: string; db?: string; all: boolean }) =>
    run(() => pinsApprove({ ...opts, ...(name ? { name } : {}) })),
  );

const approvalsCommand = program
  .command('approvals')
  .description('calls waiting for a person (requireApproval), and their decisions');
withDatabase(approvalsCommand.command('list', { isDefault: true }).description('pending calls first, then decisions'))
  .option(
    '--status <status>',
    'pending, approved, denied, expired or cancelled',
    choice(['pending', 'approved', 'denied', 'expired', 'cancelled'] as const),
  )
  .option('--limit <n>', 'at most this many rows', (v) => positiveInt(v))
  .option(
    '--format <format>',
    'table or json',
    choice(['table', 'json'] as const),
    defaultFormat === 'table' ? 'table' : 'json',
  )
  .action((opts: { config: string; db?: string; status?: ApprovalStatus; limit?: number; format: 'table' | 'json' }) =>
    run(() => approvalsList(opts)),
  );
for (const [verb, decision] of [
  ['approve', 'approved'],
  ['deny', 'denied'],
] as const) {
  withDatabase(
    approvalsCommand.command(`${verb} <id>`).description(`${verb} a waiting call (its id in the list)`),
  ).action((id: string, opts: { config: string; db?: string }) =>
    run(() => approvalsDecide({ ...opts, id: positiveInt(id), decision })),
  );
}

withDatabase(
  program.command('dashboard').description('serve the dashboard over a database (for a gateway that runs over stdio)'),
)
  .option('--host <host>', 'bind address', '127.0.0.1')
  .option('--port <port>', 'port', port, 7801)
  // Loaded when used: it brings express.
  .action((opts: DashboardOptions) => run(async () => (await import('./dashboard.js')).dashboardCommand(opts)));

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

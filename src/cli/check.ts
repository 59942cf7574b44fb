import { ConfigError, loadConfig } from '../config/index.js';
import { createLogger } from '../observability/index.js';
import { createRuntime, type PathOptions } from '../app.js';
import type { Upstream } from '../upstream/index.js';
import { table } from './format.js';
import { green, red, spinner } from './style.js';

/**
 * `switchboard check`: validates the config, connects to every upstream (a line each,
 * as they finish), and reports shortened and colliding names. Exit code 1 on any error.
 */
export async function check(options: PathOptions & { format: 'text' | 'json' }): Promise<number> {
  let config;
  try {
    config = loadConfig(options.config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (options.format === 'json') process.stdout.write(JSON.stringify({ ok: false, errors: error.issues }) + '\n');
    else process.stderr.write(error.issues.join('\n') + '\n');
    return 1;
  }
  const text = options.format === 'text';
  const out = (line: string) => text && process.stdout.write(line + '\n');
  // Upstream stderr is noise here unless something fails; failures are reported per line.
  const runtime = createRuntime(
    config,
    createLogger({ level: process.env.SWITCHBOARD_LOG_LEVEL === 'debug' ? 'debug' : 'silent' }),
    { ...(options.policies ? { policies: options.policies } : {}) },
  );
  const upstreams = [...runtime.pool.upstreams.values()];
  const disabled = [...config.servers].filter(([, s]) => !s.enabled).map(([name]) => name);
  out(
    `Checking ${config.file}: ${upstreams.length} server(s)${disabled.length ? `, ${disabled.length} disabled` : ''}`,
  );
  const width = Math.max(0, ...upstreams.map((u) => u.name.length));
  const started = Date.now();
  const describe = (u: Upstream): string => {
    const head = `${u.name.padEnd(width)}  ${u.transportKind.padEnd(5)}`;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (u.status !== 'ready') return `  ${red('✗')} ${head}  ${u.lastError ?? u.status}`;
    const l = u.lists;
    return `  ${green('✓')} ${head}  ${u.protocolVersion ?? '?'}  ${l.tools.length} tools, ${l.prompts.length} prompts, ${l.resources.length} resources, ${l.templates.length} templates  (${seconds} s)`;
  };
  let settled = 0;
  const spin = text ? spinner(() => `connecting… ${settled}/${upstreams.length}`) : undefined;
  await Promise.all(
    upstreams.map((u) =>
      u.connect().then(() => {
        settled++;
        spin?.line(describe(u));
      }),
    ),
  );
  spin?.stop();
  for (const name of disabled) out(`  - ${name.padEnd(width)}  disabled`);
  runtime.rebuild();
  const reports = runtime.catalog.nameReports();
  const failed = upstreams.filter((u) => u.status !== 'ready');
  const policyErrors = runtime.policies.errors();
  const agents = runtime.policies.agents();
  const ok = failed.length === 0 && policyErrors.length === 0;
  if (text) {
    out(
      `\nPolicies in ${runtime.policies.dir}: ${agents.length ? agents.join(', ') : '(none: every agent is refused everything)'}`,
    );
    for (const problem of policyErrors) out(`  ${red('✗')} ${problem}`);
    if (reports.length > 0) {
      out('\nRenamed to fit ^[A-Za-z0-9_-]{1,64}$ or to avoid a collision:');
      out(
        table(
          ['reason', 'kind', 'server', 'name', 'exposed as'],
          reports.map((r) => [r.reason, r.kind, r.server, r.name, r.exposed]),
        ),
      );
    }
    out(
      failed.length === 0
        ? `\n${green('All upstreams connected.')}`
        : `\n${red(`${failed.length} of ${upstreams.length} upstream(s) failed.`)}`,
    );
    if (policyErrors.length > 0) out(`${policyErrors.length} policy problem(s).`);
  } else {
    const servers = upstreams.map((u) => ({
      name: u.name,
      transport: u.transportKind,
      status: u.status,
      protocolVersion: u.protocolVersion,
      error: u.lastError,
      tools: u.lists.tools.length,
      prompts: u.lists.prompts.length,
      resources: u.lists.resources.length,
    }));
    process.stdout.write(JSON.stringify({ ok, servers, disabled, names: reports, agents, policyErrors }) + '\n');
  }
  await runtime.close();
  return ok ? 0 : 1;
}

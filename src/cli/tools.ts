import { createRuntime, type PathOptions } from '../app.js';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../observability/index.js';
import { table, truncate } from './format.js';

/**
 * `switchboard tools`: connects, then prints every tool with its read/write class and
 * whether this agent may use it, naming the rule that decided.
 */
export async function tools(options: PathOptions & { agent: string; format: 'table' | 'json' }): Promise<number> {
  const config = loadConfig(options.config);
  const runtime = createRuntime(config, createLogger({ level: 'error' }), {
    ...(options.policies ? { policies: options.policies } : {}),
  });
  await runtime.start();
  runtime.rebuild();
  const policy = runtime.policies.get(options.agent);
  const rows = runtime.catalog.tools.map((entry) => {
    const decision = policy
      ? policy.decideTool(entry.exposed, entry.toolClass)
      : { allowed: false, rule: `no policy file for agent "${options.agent}"` };
    return { entry, decision };
  });
  if (options.format === 'json') {
    for (const { entry, decision } of rows) {
      process.stdout.write(
        JSON.stringify({
          ...entry.item,
          server: entry.server,
          upstreamName: entry.name,
          class: entry.toolClass.readOnly ? 'read' : 'write',
          classReason: entry.toolClass.reason,
          allowed: decision.allowed,
          rule: decision.rule,
        }) + '\n',
      );
    }
  } else {
    const allowed = rows.filter((r) => r.decision.allowed).length;
    process.stdout.write(`Agent "${options.agent}" may use ${allowed} of ${rows.length} tools:\n`);
    process.stdout.write(
      table(
        ['name', 'class', 'access', 'rule', 'description'],
        rows.map(({ entry, decision }) => [
          entry.exposed,
          `${entry.toolClass.readOnly ? 'read' : 'write'} (${entry.toolClass.reason})`,
          decision.allowed ? 'yes' : 'no',
          decision.rule,
          truncate(entry.item.description, 50),
        ]),
      ) + '\n',
    );
    for (const u of runtime.pool.upstreams.values()) {
      if (u.status !== 'ready') process.stderr.write(`warning: ${u.name} is unavailable: ${u.lastError ?? u.status}\n`);
    }
    for (const problem of runtime.policies.errors()) process.stderr.write(`warning: ${problem}\n`);
  }
  await runtime.close();
  return 0;
}

import { loadConfig } from '../config/index.js';
import { createLogger } from '../observability/index.js';
import { createRuntime } from '../app.js';
import { table, truncate } from './format.js';

/** `switchboard tools`: connects, then prints the catalog one agent sees. */
export async function tools(options: { config: string; agent: string; format: 'table' | 'json' }): Promise<number> {
  const config = loadConfig(options.config);
  const runtime = createRuntime(config, createLogger({ level: 'error' }));
  await runtime.start();
  runtime.rebuild();
  const entries = runtime.catalog.tools;
  if (options.format === 'json') {
    for (const entry of entries) {
      process.stdout.write(JSON.stringify({ ...entry.item, server: entry.server, upstreamName: entry.name }) + '\n');
    }
  } else {
    process.stdout.write(`Tools for agent "${options.agent}" (${entries.length}):\n`);
    process.stdout.write(
      table(
        ['name', 'server', 'description'],
        entries.map((e) => [e.exposed, e.server, truncate(e.item.description, 70)]),
      ) + '\n',
    );
    const failed = [...runtime.pool.upstreams.values()].filter((u) => u.status !== 'ready');
    for (const u of failed) process.stderr.write(`warning: ${u.name} is unavailable: ${u.lastError ?? u.status}\n`);
  }
  await runtime.close();
  return 0;
}

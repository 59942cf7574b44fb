import type { BuiltinTool } from '../builtin.js';
import { health } from '../health.js';

/** `switchboard__status`: every upstream's health, for agents whose policy allows it. */
export function statusTool(): BuiltinTool {
  return {
    readOnly: true,
    definition: {
      name: 'status',
      title: 'Switchboard upstream status',
      description:
        'Health of every upstream MCP server behind this gateway: ready, restarting (with the last error and the next attempt), tools, restarts.',
      inputSchema: { type: 'object', properties: {} },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async call(session) {
      const report = health(session.runtime);
      const lines = report.upstreams.map(
        (u) => `${u.name}: ${u.status}${u.error ? ` (${u.error})` : ''}, ${u.tools} tools, ${u.restarts} restarts`,
      );
      return { content: [{ type: 'text', text: lines.join('\n') || '(no upstreams)' }], structuredContent: report };
    },
  };
}

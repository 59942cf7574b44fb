import type { BuiltinTool } from '../builtin.js';
import { health } from '../health.js';

/** `switchboard__status`: the health of every upstream the calling agent may see, for agents whose policy allows it. */
export function statusTool(): BuiltinTool {
  return {
    readOnly: true,
    definition: {
      name: 'status',
      title: 'Switchboard upstream status',
      description:
        'Health of the upstream MCP servers behind this gateway that you may use: ready, restarting (with the last error and the next attempt), tools, restarts.',
      inputSchema: { type: 'object', properties: {} },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async call(session) {
      // Only the upstreams the agent may see: the others' names and errors are not its business.
      const all = health(session.runtime);
      const upstreams = all.upstreams.filter((u) => session.visibility.mayUse(u.name));
      const report = {
        ...all,
        status: upstreams.every((u) => u.status === 'ready') ? ('ok' as const) : ('degraded' as const),
        upstreams,
      };
      const lines = report.upstreams.map(
        (u) => `${u.name}: ${u.status}${u.error ? ` (${u.error})` : ''}, ${u.tools} tools, ${u.restarts} restarts`,
      );
      return { content: [{ type: 'text', text: lines.join('\n') || '(no upstreams)' }], structuredContent: report };
    },
  };
}

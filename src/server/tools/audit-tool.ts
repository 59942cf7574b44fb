import { z } from 'zod';
import { parseTime, queryAudit, type AuditFilter } from '../../audit/index.js';
import type { Db } from '../../db/index.js';
import { GatewayError } from '../../errors.js';
import type { BuiltinTool } from '../builtin.js';

const Args = z.strictObject({
  agent: z.string().optional(),
  server: z.string().optional(),
  tool: z.string().optional(),
  status: z.string().optional(),
  since: z.string().optional(),
  until: z.string().optional(),
  limit: z.number().int().min(1).max(500).optional(),
});

/**
 * `switchboard__audit`: the audit log as a tool, for agents whose policy allows it. An
 * agent sees its own rows; a policy with `"audit": "all"` sees every agent's.
 */
export function auditTool(db: Db, flush: () => void = () => undefined): BuiltinTool {
  return {
    readOnly: true,
    definition: {
      name: 'audit',
      title: 'Switchboard audit log',
      description:
        "Recent calls made through this gateway (newest first): tool, server, status, latency, error. Shows the calling agent's own calls unless its policy grants all.",
      inputSchema: z.toJSONSchema(Args.partial(), { io: 'input' }) as never,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async call(session, args) {
      const parsed = Args.safeParse(args);
      if (!parsed.success)
        throw new GatewayError('invalid_params', parsed.error.issues.map((i) => i.message).join('; '));
      const a = parsed.data;
      // This process's rows still waiting for their group commit (≤10 ms) are written
      // first: an agent looking up the call it just made finds it.
      flush();
      const all = session.policy()?.source.audit === 'all';
      if (a.agent && !all && a.agent !== session.agent) {
        throw new GatewayError('denied', `agent "${session.agent}" may read only its own audit rows`);
      }
      const time = (text: string | undefined, field: string) => {
        if (text === undefined) return undefined;
        const value = parseTime(text);
        if (value === undefined) throw new GatewayError('invalid_params', `${field}: expected 1h, 2d or an ISO time`);
        return value;
      };
      const filter: AuditFilter = {
        agent: all ? a.agent : session.agent,
        server: a.server,
        tool: a.tool,
        status: a.status,
        since: time(a.since, 'since'),
        until: time(a.until, 'until'),
        limit: a.limit ?? 50,
      };
      const rows = queryAudit(db, filter).map(({ args: _args, result: _result, ...row }) => row);
      return {
        content: [{ type: 'text', text: rows.map((r) => JSON.stringify(r)).join('\n') || '(no rows)' }],
        structuredContent: { rows },
      };
    },
  };
}

import type { Db } from '../db/index.js';
import { GlobList } from '../policy/index.js';
import { SELECT_ROW, type AuditRow } from './row.js';

export interface AuditFilter {
  agent?: string | undefined;
  server?: string | undefined;
  /** A glob over exposed names (`files__*`). */
  tool?: string | undefined;
  status?: string | undefined;
  /** Epoch milliseconds. */
  since?: number | undefined;
  until?: number | undefined;
  /** Only rows with a larger id (for following new rows). */
  afterId?: number | undefined;
  limit?: number | undefined;
}

/** "1h", "2d", "30m", "45s" back from now, or an ISO time. */
export function parseTime(text: string, now = Date.now()): number | undefined {
  const relative = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/.exec(text.trim());
  if (relative) {
    const unit = { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 }[relative[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return now - Number(relative[1]) * unit;
  }
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) return undefined; // a number needs a unit (or a full date)
  const absolute = Date.parse(text);
  return Number.isNaN(absolute) ? undefined : absolute;
}

function where(filter: AuditFilter): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (clause: string, value: unknown) => {
    clauses.push(clause);
    params.push(value);
  };
  if (filter.agent) add('agent = ?', filter.agent);
  if (filter.server) add('server = ?', filter.server);
  if (filter.status) add('status = ?', filter.status);
  if (filter.since !== undefined) {
    add('ts_ms >= ?', filter.since);
    // Bounds the scan to the period's rows by id (the primary key) through the time index,
    // so a filter without an index of its own (status, tool) does not read the whole
    // table. It never drops a matching row: the smallest id of the period is at most
    // the id of any row in it, whatever order the clock went in.
    add('id >= (SELECT MIN(id) FROM audit WHERE ts_ms >= ?)', filter.since);
  }
  if (filter.until !== undefined) add('ts_ms <= ?', filter.until);
  if (filter.afterId !== undefined) add('id > ?', filter.afterId);
  if (filter.tool && !/[*?]/.test(filter.tool)) add('exposed_name = ?', filter.tool);
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/**
 * The one query API behind `switchboard audit`, the dashboard and the
 * `switchboard__audit` tool. Newest first unless `afterId` is given (then oldest first,
 * for following).
 */
export function queryAudit(db: Db, filter: AuditFilter): AuditRow[] {
  const { sql, params } = where(filter);
  const order = filter.afterId !== undefined ? 'ASC' : 'DESC';
  const glob = filter.tool && /[*?]/.test(filter.tool) ? new GlobList([filter.tool]) : undefined;
  const limit = filter.limit ?? 100;
  const statement = db.prepare(`SELECT ${SELECT_ROW} FROM audit ${sql} ORDER BY id ${order}`);
  const rows: AuditRow[] = [];
  for (const row of statement.iterate(...params) as IterableIterator<AuditRow>) {
    if (glob && !glob.test(row.exposedName ?? row.name ?? '')) continue;
    rows.push(row);
    if (rows.length >= limit) break;
  }
  return rows;
}

export type StatsKey = 'agent' | 'server' | 'tool' | 'status' | 'model';

export interface StatsRow {
  key: string;
  count: number;
  errors: number;
  errorRate: number;
  p50Ms: number | null;
  p95Ms: number | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Count, errors, p50/p95 latency, tokens and cost per group. Pending rows are left out. */
export function auditStats(db: Db, by: StatsKey, filter: AuditFilter = {}): StatsRow[] {
  const column = { agent: 'agent', server: 'server', tool: 'exposed_name', status: 'status', model: 'model' }[by];
  const { sql, params } = where(filter);
  const rows = db
    .prepare(
      `SELECT ${column} AS key, status, latency_ms AS latency, input_tokens AS inputTokens, output_tokens AS outputTokens,
              cost_usd AS costUsd, exposed_name AS exposedName
       FROM audit ${sql ? `${sql} AND` : 'WHERE'} status != 'pending'`,
    )
    .all(...params) as {
    key: string | null;
    status: string;
    latency: number | null;
    inputTokens: number | null;
    outputTokens: number | null;
    costUsd: number | null;
    exposedName: string | null;
  }[];
  const glob = filter.tool && /[*?]/.test(filter.tool) ? new GlobList([filter.tool]) : undefined;
  const groups = new Map<
    string,
    { latencies: number[]; count: number; errors: number; inT: number; outT: number; cost: number }
  >();
  for (const row of rows) {
    if (glob && !glob.test(row.exposedName ?? '')) continue;
    const key = row.key ?? '(none)';
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { latencies: [], count: 0, errors: 0, inT: 0, outT: 0, cost: 0 }));
    group.count++;
    if (row.status !== 'ok') group.errors++;
    if (row.latency !== null) group.latencies.push(row.latency);
    group.inT += row.inputTokens ?? 0;
    group.outT += row.outputTokens ?? 0;
    group.cost += row.costUsd ?? 0;
  }
  return [...groups.entries()]
    .map(([key, g]) => {
      const sorted = g.latencies.sort((a, b) => a - b);
      return {
        key,
        count: g.count,
        errors: g.errors,
        errorRate: g.count ? g.errors / g.count : 0,
        p50Ms: percentile(sorted, 50),
        p95Ms: percentile(sorted, 95),
        inputTokens: g.inT,
        outputTokens: g.outT,
        costUsd: Math.round(g.cost * 1e6) / 1e6,
      };
    })
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));
}

export interface DupeGroup {
  agent: string;
  tool: string;
  argsHash: string;
  count: number;
  firstId: number;
  lastId: number;
  first: string;
  last: string;
}

/**
 * Redundant calls: the same agent calling the same tool with the same arguments again
 * within `windowMs` of the previous such call. Each run of repeats is one group.
 */
export function auditDupes(db: Db, windowMs: number, filter: AuditFilter = {}): DupeGroup[] {
  const { sql, params } = where(filter);
  const rows = db
    .prepare(
      `SELECT id, ts, ts_ms AS tsMs, agent, exposed_name AS tool, args_hash AS argsHash FROM audit
       ${sql ? `${sql} AND` : 'WHERE'} args_hash IS NOT NULL AND method = 'tools/call'
       ORDER BY agent, exposed_name, args_hash, ts_ms, id`,
    )
    .all(...params) as { id: number; ts: string; tsMs: number; agent: string; tool: string; argsHash: string }[];
  const glob = filter.tool && /[*?]/.test(filter.tool) ? new GlobList([filter.tool]) : undefined;
  const groups: DupeGroup[] = [];
  let current: (DupeGroup & { lastMs: number }) | undefined;
  for (const row of rows) {
    if (glob && !glob.test(row.tool ?? '')) continue;
    const same =
      current && current.agent === row.agent && current.tool === row.tool && current.argsHash === row.argsHash;
    if (same && row.tsMs - current!.lastMs <= windowMs) {
      current!.count++;
      current!.lastId = row.id;
      current!.last = row.ts;
      current!.lastMs = row.tsMs;
      continue;
    }
    if (current && current.count > 1) groups.push(strip(current));
    current = {
      agent: row.agent,
      tool: row.tool,
      argsHash: row.argsHash,
      count: 1,
      firstId: row.id,
      lastId: row.id,
      first: row.ts,
      last: row.ts,
      lastMs: row.tsMs,
    };
  }
  if (current && current.count > 1) groups.push(strip(current));
  return groups.sort((a, b) => b.count - a.count || b.lastId - a.lastId);
}

function strip({ lastMs: _lastMs, ...group }: DupeGroup & { lastMs: number }): DupeGroup {
  return group;
}

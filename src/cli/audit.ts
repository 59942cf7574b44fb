import {
  auditDupes,
  auditStats,
  chainKeyFromEnv,
  parseTime,
  queryAudit,
  verifyChain,
  type AuditFilter,
  type AuditRow,
  type StatsKey,
} from '../audit/index.js';
import type { Db } from '../db/index.js';
import { openExistingDatabase } from './database.js';
import { GatewayError } from '../errors.js';
import { table, truncate } from './format.js';
import { status } from './style.js';

export interface AuditCliOptions {
  config: string;
  db?: string;
  agent?: string;
  server?: string;
  tool?: string;
  status?: string;
  since?: string;
  until?: string;
  limit?: number;
}

/** The database of a config, or of `--db`; a missing file is an error, not a new empty log. */
const open = (options: AuditCliOptions): Db => openExistingDatabase(options);

function filterOf(options: AuditCliOptions): AuditFilter {
  const time = (text: string | undefined, flag: string) => {
    if (text === undefined) return undefined;
    const value = parseTime(text);
    if (value === undefined) throw new GatewayError('invalid_params', `--${flag}: expected 30m, 1h, 2d or an ISO time`);
    return value;
  };
  return {
    agent: options.agent,
    server: options.server,
    tool: options.tool,
    status: options.status,
    since: time(options.since, 'since'),
    until: time(options.until, 'until'),
    limit: options.limit,
  };
}

const CSV_FIELDS: (keyof AuditRow)[] = [
  'id',
  'ts',
  'agent',
  'session',
  'client',
  'transport',
  'origin',
  'method',
  'server',
  'name',
  'exposedName',
  'status',
  'error',
  'decision',
  'latencyMs',
  'argsHash',
  'args',
  'requestBytes',
  'responseBytes',
  'model',
  'provider',
  'attempts',
  'inputTokens',
  'outputTokens',
  'costUsd',
];

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function formatRows(rows: AuditRow[], format: 'table' | 'json' | 'csv', header = true): string {
  if (format === 'json') return rows.map((r) => JSON.stringify(r)).join('\n');
  if (format === 'csv') {
    const lines = rows.map((r) => CSV_FIELDS.map((f) => csvCell(r[f])).join(','));
    return (header ? [CSV_FIELDS.join(','), ...lines] : lines).join('\r\n');
  }
  return table(
    ['id', 'time', 'agent', 'call', 'status', 'ms', 'error'],
    rows.map((r) => [
      String(r.id),
      r.ts.replace('T', ' ').slice(0, 19),
      r.agent,
      r.exposedName ?? `${r.method}${r.server ? ` ${r.server}` : ''}`,
      status(r.status),
      r.latencyMs === null ? '' : r.latencyMs.toFixed(1),
      truncate(r.error ?? '', 60),
    ]),
  );
}

/** `switchboard audit`: rows newest first; with `--follow`, then new rows as they are written. */
export async function auditList(
  options: AuditCliOptions & { format: 'table' | 'json' | 'csv'; follow: boolean },
): Promise<number> {
  const db = open(options);
  const filter = filterOf(options);
  const rows = queryAudit(db, { ...filter, limit: filter.limit ?? (options.follow ? 20 : 100) }).reverse();
  if (rows.length > 0 || options.format === 'csv') process.stdout.write(formatRows(rows, options.format) + '\n');
  if (!options.follow) {
    db.close();
    return 0;
  }
  let last = rows.at(-1)?.id ?? (db.prepare('SELECT MAX(id) FROM audit').pluck().get() as number | null) ?? 0;
  // Pending rows change when their call ends: a row is shown once it has finished.
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const fresh = queryAudit(db, { ...filter, afterId: last, limit: 1000 }).filter((r) => r.status !== 'pending');
      const ready: AuditRow[] = [];
      for (const row of fresh) {
        ready.push(row);
        last = row.id;
      }
      if (ready.length > 0) process.stdout.write(formatRows(ready, options.format, false) + '\n');
    }, 250);
    const stop = () => {
      clearInterval(timer);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  db.close();
  return 0;
}

export function auditStatsCommand(
  options: AuditCliOptions & { by: StatsKey; format: 'table' | 'json' | 'csv' },
): number {
  const db = open(options);
  const stats = auditStats(db, options.by, filterOf(options));
  db.close();
  if (options.format === 'json') {
    process.stdout.write(stats.map((s) => JSON.stringify(s)).join('\n') + (stats.length ? '\n' : ''));
    return 0;
  }
  const headers = [
    options.by,
    'count',
    'errors',
    'error rate',
    'p50 ms',
    'p95 ms',
    'tokens in',
    'tokens out',
    'cost USD',
  ];
  const rows = stats.map((s) => [
    s.key,
    String(s.count),
    String(s.errors),
    `${(s.errorRate * 100).toFixed(1)}%`,
    s.p50Ms === null ? '' : s.p50Ms.toFixed(1),
    s.p95Ms === null ? '' : s.p95Ms.toFixed(1),
    String(s.inputTokens),
    String(s.outputTokens),
    s.costUsd.toFixed(4),
  ]);
  process.stdout.write(
    (options.format === 'csv'
      ? [headers, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n')
      : table(headers, rows)) + '\n',
  );
  return 0;
}

export function auditVerifyCommand(options: AuditCliOptions & { format: 'text' | 'json' }): number {
  const db = open(options);
  const result = verifyChain(db, chainKeyFromEnv());
  db.close();
  if (options.format === 'json') process.stdout.write(JSON.stringify(result) + '\n');
  else if (result.ok) process.stdout.write(`ok: ${result.rows} rows, hash chain intact (${result.chain})\n`);
  else process.stdout.write(`TAMPERED: ${result.reason} (chain position ${result.position})\n`);
  return result.ok ? 0 : 1;
}

export function auditDupesCommand(options: AuditCliOptions & { window: string; format: 'table' | 'json' }): number {
  const windowMs = Date.now() - (parseTime(options.window) ?? NaN);
  if (!Number.isFinite(windowMs) || windowMs <= 0)
    throw new GatewayError('invalid_params', '--window: expected e.g. 10s or 2m');
  const db = open(options);
  const groups = auditDupes(db, windowMs, filterOf(options));
  db.close();
  if (options.format === 'json') {
    process.stdout.write(groups.map((g) => JSON.stringify(g)).join('\n') + (groups.length ? '\n' : ''));
    return 0;
  }
  process.stdout.write(
    table(
      ['agent', 'tool', 'repeats', 'first', 'last', 'rows'],
      groups.map((g) => [g.agent, g.tool, String(g.count), g.first, g.last, `${g.firstId}…${g.lastId}`]),
    ) + '\n',
  );
  return 0;
}
